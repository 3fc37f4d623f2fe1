using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Experiments;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
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
        Assert.Contains("too few seeds", md);
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
        foreach (var figure in new[] { "auroc-vs-amount.png", "kappa-vs-amount.png", "roc-per-arm.png" })
            Assert.True(File.Exists(Path.Combine(dir, "report", "figures", figure)), figure);
    }
}
