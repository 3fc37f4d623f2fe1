using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Experiments;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Experiments;

[Collection(SerialTorch.Name)]
public class ExperimentRunnerTests
{
    /// <summary>A prepared phantom folder and a random-initialised conditional smoke snapshot: an experiment that
    /// needs no GAN training.</summary>
    private static ExperimentConfig Setup(TempDir tmp)
    {
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 24, seed: 9, maxSide: 64);
        var prepared = tmp.Combine("prep");
        DatasetPreparer.Run(new PrepareOptions { MuraRoot = mura, OutDir = prepared, Resolution = 16, ClassifierSize = 32, ValFraction = 0.25, Seed = 2 });
        var cfg = NetworkPresets.Create("smoke", 16, 1, 2);
        using (var g = new Generator(cfg.G))
        using (var d = new Discriminator(cfg.D))
        using (var gEma = new Generator(cfg.G))
            GanSnapshot.Save(tmp.Combine("snap"), g, d, gEma);
        return new ExperimentConfig
        {
            Name = "tiny",
            Data = new DataConfig { Prepared = prepared, Resolution = 16, ClassifierSize = 32 },
            Gan = new GanConfig { Mode = "snapshots", Snapshots = new Dictionary<string, string> { ["conditional"] = tmp.Combine("snap") } },
            Synthetic = new SyntheticConfig { ExcludeMemorized = false },
            Arms = [new ArmConfig { Name = "baseline" }, new ArmConfig { Name = "plus4", PerClass = 4 }],
            Classifier = new ClassifierConfig { Arch = "densenet-smoke", Size = 32, Epochs = 1, Batch = 8, Lr = 1e-3 },
            Seeds = [0, 1],
            Evaluation = new EvaluationConfig { Bootstrap = 100 },
        };
    }

    [Fact]
    public void Plan_ListsStagesInOrder()
    {
        using var tmp = new TempDir();
        var config = Setup(tmp);
        var plan = new ExperimentRunner(config, tmp.Combine("runs")).Plan();
        Assert.Equal(["synthetic-negative", "synthetic-positive", "arm baseline seed 0", "arm baseline seed 1", "arm plus4 seed 0", "arm plus4 seed 1", "report"],
            plan.Select(s => s.Name));
        Assert.All(plan, s => Assert.False(s.Done));
        var trained = new ExperimentRunner(config with { Data = config.Data with { Prepared = null, Mura = tmp.Combine("mura") }, Gan = new GanConfig { Mode = "per-class", Cfg = "smoke" } },
            tmp.Combine("runs")).Plan();
        Assert.Equal(["prepare", "gan-negative", "gan-positive"], trained.Take(3).Select(s => s.Name));
    }

    [Fact]
    public void Run_WritesReport_RerunSkipsFinishedStages_ChangedSettingsAreRefused()
    {
        using var tmp = new TempDir();
        var config = Setup(tmp);
        var runs = tmp.Combine("runs");
        var report = new ExperimentRunner(config, runs).Run();
        Assert.True(File.Exists(report));
        var md = File.ReadAllText(report);
        Assert.Contains("| baseline | 0 | 2 |", md);
        Assert.Contains("| plus4 | 4 | 2 |", md);
        Assert.Contains("Differences to the baseline", md);
        Assert.Contains("underpowered: fewer than 3 paired seeds", md);   // 2 seeds: no verdict
        Assert.DoesNotContain("significantly", md);
        Assert.DoesNotContain("Significant", md);                          // no enum names
        var html = File.ReadAllText(Path.Combine(runs, "tiny", ExperimentReport.HtmlFile));
        Assert.Contains("data:image/png;base64,iVBOR", html);   // figures are embedded, not linked
        Assert.DoesNotContain("src=\"report/", html);
        Assert.Equal(8, SyntheticManifest.Read(Path.Combine(runs, "tiny", "synthetic-positive", "images")).Count);

        // Everything is done: a second runner plans nothing and retrains nothing.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(runs, "tiny", "arms", "plus4", "seed1", "eval", EvaluationFiles.MetricsFileName));
        var again = new ExperimentRunner(config, runs);
        Assert.All(again.Plan(), s => Assert.True(s.Done, s.Name));
        again.Run();
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(runs, "tiny", "arms", "plus4", "seed1", "eval", EvaluationFiles.MetricsFileName)));
        Assert.Single(Directory.GetDirectories(Path.Combine(runs, "tiny", "arms", "plus4", "seed1", "runs")));

        // Other classifier settings: the finished arm folders are not reused silently.
        var e = Assert.Throws<DataException>(() => new ExperimentRunner(config with { Classifier = config.Classifier with { Epochs = 2 } }, runs).Plan());
        Assert.Contains("other settings", e.Message);
    }

    [Fact]
    public void Report_FromRecordedResults_HoldsStatisticsOfTheSeeds()
    {
        // Fixture run folders: evaluations written by hand, no training.
        using var tmp = new TempDir();
        var config = Setup(tmp);
        var dir = tmp.Combine("exp");
        var test = Manifest.Read(Path.Combine(config.Data.Prepared!, "test.csv"));
        var rnd = new Random(4);
        foreach (var (arm, skill) in new[] { ("baseline", 0.6), ("plus4", 0.9) })
            foreach (var seed in config.Seeds)
            {
                var eval = Path.Combine(dir, "arms", arm, $"seed{seed}", "eval");
                Directory.CreateDirectory(eval);
                var predictions = test.Select(t => new ImagePrediction(t.Path, t.Study, t.Label, Math.Clamp(t.Label * skill + (1 - skill) * rnd.NextDouble(), 0, 1))).ToList();
                EvaluationFiles.WriteMetrics(Path.Combine(eval, EvaluationFiles.MetricsFileName), EvaluationReport.Compute(predictions, new EvaluationOptions(0.5, 10, new BootstrapOptions(100))));
                EvaluationFiles.WritePredictions(Path.Combine(eval, EvaluationFiles.PredictionsFileName), predictions);
            }
        var results = ExperimentResults.Collect(config, dir, config.Data.Prepared!);
        Assert.Equal(4, results.Results.Count);
        ExperimentReport.Write(dir, results);
        var md = File.ReadAllText(Path.Combine(dir, ExperimentReport.MarkdownFile));
        var auroc = SeedStatistics.Summarize(results.Values("plus4", EvaluationLevel.Study, Metric.Auroc).Values);
        Assert.Contains($"{auroc.Mean:0.000} ± {auroc.Sd:0.000}", md);
        Assert.Contains("**plus4** vs **baseline**", md);
        Assert.Contains("Primary endpoint: **study-level AUROC**", md);
        Assert.Contains("exploratory", md);
        Assert.Contains("DeLong", md);
        Assert.Contains("--resume", md);
        foreach (var figure in new[] { "auroc-vs-amount.png", "kappa-vs-amount.png", "roc-per-arm.png" })
            Assert.True(File.Exists(Path.Combine(dir, "report", "figures", figure)), figure);
    }

    [Fact]
    public void SampleGrids_FinalIsTheLastSnapshotByNumericKimg_InitOnlyAsInitialisation()
    {
        using var tmp = new TempDir();
        foreach (var name in new[] { "fakes_init.png", "fakes000000.png", "fakes000009.png", "fakes000010.png", "fakes000002.png", "fakesfoo.png" })
            File.WriteAllBytes(tmp.Combine(name), [0]);
        var (init, final) = ExperimentReport.SampleGrids(tmp.Path);
        Assert.Equal(tmp.Combine("fakes_init.png"), init);
        Assert.Equal((tmp.Combine("fakes000010.png"), 10.0), final);   // an ordinal sort would pick fakes_init.png

        using var fractional = new TempDir();
        foreach (var name in new[] { "fakes000000.500.png", "fakes000001.250.png", "fakes000001.000.png" })
            File.WriteAllBytes(fractional.Combine(name), [0]);
        var grids = ExperimentReport.SampleGrids(fractional.Path);
        Assert.Null(grids.Init);
        Assert.Equal((fractional.Combine("fakes000001.250.png"), 1.25), grids.Final);

        using var untrained = new TempDir();
        File.WriteAllBytes(untrained.Combine("fakes_init.png"), [0]);
        Assert.Null(ExperimentReport.SampleGrids(untrained.Path).Final);   // never captioned "the end of training"
    }

    [Fact]
    public void Report_ThreeSeeds_PrimaryHolmCorrected_FidCurveAndLastGrid()
    {
        using var tmp = new TempDir();
        var config = Setup(tmp) with
        {
            Seeds = [0, 1, 2],
            Arms = [new ArmConfig { Name = "baseline" }, new ArmConfig { Name = "plus4", PerClass = 4 }, new ArmConfig { Name = "plus8", PerClass = 8 }],
        };
        var dir = tmp.Combine("exp");
        var test = Manifest.Read(Path.Combine(config.Data.Prepared!, "test.csv"));
        var rnd = new Random(5);
        foreach (var (arm, skill) in new[] { ("baseline", 0.2), ("plus4", 0.3), ("plus8", 0.4) })
            foreach (var seed in config.Seeds)
            {
                var eval = Path.Combine(dir, "arms", arm, $"seed{seed}", "eval");
                Directory.CreateDirectory(eval);
                // Overlapping classes: AUROC well inside (0.5, 1), different on every seed.
                var predictions = test.Select(t => new ImagePrediction(t.Path, t.Study, t.Label, Math.Clamp(t.Label * skill + 0.7 * rnd.NextDouble(), 0, 1))).ToList();
                EvaluationFiles.WriteMetrics(Path.Combine(eval, EvaluationFiles.MetricsFileName), EvaluationReport.Compute(predictions, new EvaluationOptions(0.5, 10, new BootstrapOptions(100))));
                EvaluationFiles.WritePredictions(Path.Combine(eval, EvaluationFiles.PredictionsFileName), predictions);
            }
        // A GAN run folder as 'gan train --metrics' leaves it: grids and one FID record per snapshot.
        var run = tmp.Combine("gan-run");
        Directory.CreateDirectory(run);
        var grid = tmp.Combine("grid.png");
        XraySynth.Imaging.ImageCodec.WritePng(grid, XraySynth.Imaging.ImageGrid.Tile([.. Enumerable.Range(0, 4).Select(_ => XraySynth.Imaging.RasterImage.Blank(8, 8, 1, 128))], 2));
        foreach (var name in new[] { "fakes_init.png", "fakes000000.png", "fakes000002.png", "fakes000010.png", "reals.png" })
            File.Copy(grid, Path.Combine(run, name));
        File.WriteAllLines(Path.Combine(run, "metric-fid1k_full-builtin.jsonl"), new[] { (10, 12.5), (0, 90.0), (2, 30.0) }.Select(x =>
            $"{{\"results\": {{\"fid1k_full-builtin\": {x.Item2}, \"fd_real_halves\": 1.5}}, \"metric\": \"fid1k_full-builtin\", \"snapshot_pkl\": \"network-snapshot-{x.Item1:D6}\"}}"));
        var results = ExperimentResults.Collect(config, dir, config.Data.Prepared!) with { GanRuns = [new GanRunInfo("conditional", run)] };
        ExperimentReport.Write(dir, results);
        var md = File.ReadAllText(Path.Combine(dir, ExperimentReport.MarkdownFile));

        Assert.Contains("corrected for multiplicity (Holm)", md);
        Assert.True(md.Contains("Holm-adjusted p"), md.Split("## Data")[0]);
        Assert.Contains("could not be told from 0", md);
        Assert.DoesNotContain("underpowered: fewer", md.Split("## Data")[0]);   // 3 seeds: the conclusion gives verdicts
        Assert.Contains("90.000 at the first snapshot (0 kimg, effectively at initialisation), 12.500 at the last (10 kimg): 7.2× lower", md);
        Assert.True(File.Exists(Path.Combine(dir, "report", "figures", "gan-conditional-quality.png")));
        Assert.Contains("G_ema samples of the last snapshot, at 10 kimg (fakes000010.png", md);
        Assert.Contains("at initialisation, before any training (fakes_init.png", md);
        Assert.DoesNotContain("end of training (fakes_init", md);
        // Every interval of the main table lies in [0, 1] for AUROC, sensitivity, ... and in [−1, 1] for kappa.
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(md, @"\[(−?-?\d+\.\d+), (−?-?\d+\.\d+)\]"))
        {
            double lo = double.Parse(m.Groups[1].Value.Replace("−", "-"), System.Globalization.CultureInfo.InvariantCulture);
            double hi = double.Parse(m.Groups[2].Value.Replace("−", "-"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(lo, -2, 2);
            Assert.InRange(hi, -2, 2);
        }
    }
}
