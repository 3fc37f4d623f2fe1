using System.Security.Cryptography;
using System.Text;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Gan.Generation;
using XraySynth.Gan.Training;
using XraySynth.Quality;
using XraySynth.Runtime;

namespace XraySynth.Experiments;

/// <summary>One stage of the plan: what it does, where it writes, whether it is already done.</summary>
public sealed record PlannedStage(string Name, string Description, string Dir, bool Done);

/// <summary>Runs an experiment stage by stage, each in its own folder under the experiment folder, skipping stages
/// already finished with the same settings (a stage is finished when its <c>.stage.json</c> marker, written last,
/// holds the stage's key: a hash of its settings and of the stages it reads). An interrupted experiment resumes
/// where it stopped; a stage done with other settings is refused, never silently reused.</summary>
public sealed class ExperimentRunner
{
    public const string MarkerFile = ".stage.json";
    private const string _reportStage = "report";
    private readonly ExperimentConfig _c;
    private readonly string _dir;
    private readonly DeviceChoice _device;
    private readonly IProgress<ProgressInfo>? _progress;
    private readonly Action<string> _say;
    private readonly List<Stage> _stages = [];

    private sealed record Stage(string Name, string Description, string Dir, string Key, Action<Stage> Run);

    private sealed record Marker(string Key, DateTime Finished);

    public ExperimentRunner(ExperimentConfig config, string outRoot, DeviceChoice device = DeviceChoice.Auto,
        IProgress<ProgressInfo>? progress = null, Action<string>? say = null)
    {
        _c = config;
        _dir = Path.GetFullPath(Path.Combine(outRoot, config.Name));
        _device = device;
        _progress = progress;
        _say = say ?? (_ => { });
        BuildPlan();
    }

    /// <summary>The experiment folder.</summary>
    public string Dir => _dir;

    public IReadOnlyList<PlannedStage> Plan() => _stages.Select(s => new PlannedStage(s.Name, s.Description, s.Dir, IsDone(s))).ToList();

    /// <summary>Runs every stage not yet done, in order, then writes the report.</summary>
    public string Run(CancellationToken cancel = default)
    {
        using var held = RunFolderLock.Acquire(OutputFolder.Ensure(_dir, "--runs"), "experiment");
        AtomicFile.RemoveTemporaries(_dir);
        Json.WriteFile(Path.Combine(_dir, "config.json"), _c);
        _cancel = cancel;
        foreach (var stage in _stages)
        {
            cancel.ThrowIfCancellationRequested();
            // The report is cheap and reads only recorded results: it is rewritten on every run (new report code,
            // stages finished since), so "--resume" is also how a report is regenerated.
            if (IsDone(stage) && stage.Name != _reportStage)
            {
                _say($"[done] {stage.Name}");
                continue;
            }
            _say($"[run ] {stage.Name}: {stage.Description}");
            Directory.CreateDirectory(stage.Dir);
            stage.Run(stage);
            Json.WriteFile(Path.Combine(stage.Dir, MarkerFile), new Marker(stage.Key, DateTime.UtcNow));
        }
        return Path.Combine(_dir, ExperimentReport.MarkdownFile);
    }

    private CancellationToken _cancel;

    private bool IsDone(Stage s)
    {
        var path = Path.Combine(s.Dir, MarkerFile);
        if (!File.Exists(path)) return false;
        var marker = Json.Deserialize<Marker>(File.ReadAllText(path));
        if (marker?.Key == s.Key) return true;
        throw new DataException($"{s.Dir} was finished with other settings than this config asks for (stage '{s.Name}'). " +
                                "fix: delete that folder to recompute the stage, or write the study to another folder " +
                                "(experiment --runs DIR or another experiment name; demo --out DIR).");
    }

    private static string Hash(params object?[] parts) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts.Select(p => p is string s ? s : Json.Serialize(p))))))[..16].ToLowerInvariant();

    // ---- the plan ---------------------------------------------------------------------------------------------

    /// <summary>Synthetic images a class needs: the largest per-class amount of any arm, or the class gap for a
    /// balancing arm; plus a margin for images the memorisation audit may drop.</summary>
    private int SyntheticNeeded(int label, LabelCounts train)
    {
        int perClass = _c.Arms.Max(a => a.PerClass);
        int gap = _c.Arms.Any(a => a.Balance) ? Math.Max(0, label == 1 ? train.Negative - train.Positive : train.Positive - train.Negative) : 0;
        int need = Math.Max(perClass, gap);
        return need == 0 ? 0 : (int)Math.Ceiling(need * (_c.Synthetic.ExcludeMemorized ? 1.25 : 1.0)) + 4;
    }

    private string PreparedDir => _c.Data.Prepared ?? Path.Combine(_dir, "prepare");

    private void BuildPlan()
    {
        string prepareKey = Hash(_c.Data);
        if (_c.Data.Prepared is null)
            _stages.Add(new Stage("prepare", $"MURA {_c.Data.Mura} -> {_c.Data.Resolution}px GAN zip + classifier manifests ({string.Join(",", _c.Data.Parts)})",
                PreparedDir, prepareKey, RunPrepare));

        // GAN: one conditional model, one per class, or given snapshots.
        var ganKey = Hash(prepareKey, _c.Gan.StageKey()); // metrics do not change the run
        var snapshots = new Dictionary<string, Func<string>>();   // "conditional" | "positive" | "negative" → snapshot dir (known after training)
        if (_c.Gan.Mode == "snapshots")
            foreach (var (k, v) in _c.Gan.Snapshots) snapshots[k] = () => v;
        else
        {
            var models = _c.Gan.Mode == "conditional" ? new[] { "conditional" } : ["negative", "positive"];
            foreach (var model in models)
            {
                var dir = Path.Combine(_dir, $"gan-{model}");
                _stages.Add(new Stage($"gan-{model}", $"train StyleGAN2-ADA ({_c.Gan.Cfg}, {_c.Gan.Kimg} kimg, {(model == "conditional" ? "class-conditional" : $"{model} images only")})",
                    dir, Hash(ganKey, model), s => RunGan(s, model)));
                snapshots[model] = () => LastSnapshot(dir);
            }
        }

        // Synthetic images per class.
        foreach (var (label, name) in new[] { (0, "negative"), (1, "positive") })
        {
            var source = snapshots.ContainsKey("conditional") ? "conditional" : name;
            var dir = Path.Combine(_dir, $"synthetic-{name}");
            _stages.Add(new Stage($"synthetic-{name}", $"generate {name} images (trunc {_c.Synthetic.Trunc}" + (_c.Synthetic.ExcludeMemorized ? ", memorised images dropped)" : ")"),
                dir, Hash(ganKey, _c.Synthetic, _c.Arms, name), s => RunGenerate(s, snapshots[source](), source == "conditional" ? name : null, label)));
        }

        // Classifier arms × seeds, each trained then evaluated on the real test set.
        foreach (var arm in _c.Arms)
            foreach (var seed in _c.Seeds)
            {
                var dir = Path.Combine(_dir, "arms", Safe(arm.Name), $"seed{seed}");
                var armKey = Hash(prepareKey, arm, _c.Classifier, seed, arm.PerClass == 0 && !arm.Balance ? "" : Hash(ganKey, _c.Synthetic));
                _stages.Add(new Stage($"arm {arm.Name} seed {seed}", $"train {_c.Classifier.Arch} on real{(arm.PerClass > 0 ? $" + {arm.PerClass} synthetic per class" : arm.Balance ? " + synthetic images of the smaller class" : " images only")}, evaluate on the real test set",
                    dir, armKey, s => RunArm(s, arm, seed)));
            }

        _stages.Add(new Stage(_reportStage, "report.md and report.html: tables, confidence intervals, paired tests, plots", Path.Combine(_dir, "report"),
            Hash(_stages.Select(s => s.Key).ToArray()), RunReport));
    }

    private static string Safe(string name) => ExperimentResults.SafeName(name);

    private LabelCounts TrainCounts()
    {
        var rows = Manifest.Read(Path.Combine(PreparedDir, "train.csv"));
        return new LabelCounts(rows.Count(r => r.Label == 0), rows.Count(r => r.Label == 1));
    }

    // ---- the stages -------------------------------------------------------------------------------------------

    private void RunPrepare(Stage s)
    {
        var report = DatasetPreparer.Run(new PrepareOptions
        {
            MuraRoot = _c.Data.Mura!, OutDir = s.Dir, Parts = _c.Data.Parts, Resolution = _c.Data.Resolution,
            ClassifierSize = _c.Data.ClassifierSize, ValFraction = _c.Data.ValFraction, Seed = _c.Data.Seed,
        }, _progress, _cancel);
        _say($"  prepared {report.Counts.Sum(c => c.Images.Total)} images; GAN set {report.GanImages.Total} ({report.GanImages.Negative} normal, {report.GanImages.Positive} abnormal)");
    }

    private string GanZip() => Path.Combine(PreparedDir, DatasetPreparer.GanZipName(_c.Data.Resolution, 1));

    private void RunGan(Stage s, string model)
    {
        // The gan block's options; per model: conditional or one class, and the run folder's name.
        var request = _c.Gan.Request(new GanTrainRequest { Data = GanZip(), OutRoot = s.Dir, Device = _device })
            .With(o => o.Cond, model == "conditional").With(o => o.Desc, model);
        if (model != "conditional")
            request = request.With(o => o.Label, model == "positive" ? LabelFilter.Positive : LabelFilter.Negative);
        var result = GanTrainer.Run(request, RunFolder.Latest(s.Dir, "gan") is null ? null : "latest", _progress,
            line => _say("  " + line), _cancel);
        _say($"  GAN {model}: {result.Kimg:F1} kimg, last snapshot {result.LastSnapshot}");
    }

    private static string LastSnapshot(string ganStageDir)
    {
        var run = RunFolder.Latest(ganStageDir, "gan") ?? throw new DataException($"{ganStageDir}: no GAN run. fix: rerun the experiment.");
        return TrainingSnapshot.List(run.Path).LastOrDefault().Dir ?? throw new DataException($"{run.Path}: no snapshot. fix: rerun the experiment.");
    }

    private void RunGenerate(Stage s, string snapshot, string? cls, int label)
    {
        var needed = SyntheticNeeded(label, TrainCounts());
        if (needed == 0)
        {
            SyntheticManifest.Write(Path.Combine(s.Dir, SyntheticManifest.FileName), []);
            return;
        }
        var images = Path.Combine(s.Dir, "images");
        var result = GenerateImages.Run(new GenerateOptions
        {
            Network = snapshot, OutDir = images, Seeds = Enumerable.Range(label * 1_000_000, needed).Select(i => (long)i).ToList(),
            Class = cls, Trunc = _c.Synthetic.Trunc, Sharpen = _c.Synthetic.Sharpen, Device = _device,
        }, _progress, _cancel);
        _say($"  generated {result.Written} {(label == 1 ? "abnormal" : "normal")} images ({result.Kept} kept from before)");
        if (!_c.Synthetic.ExcludeMemorized) return;
        // Memorisation audit against every real training image (both classes), with the built-in detector (no
        // download needed); flagged images leave the manifest, so no classifier trains on a copy of a patient's X-ray.
        var audit = GanMetrics.Run(new MetricsOptions
        {
            Images = images, Data = GanZip(), Metrics = [QualityMetric.Memorization], Detector = "builtin", Count = needed,
            OutDir = s.Dir, Device = _device, UseCache = false, Seed = _c.Gan.Seed,
        }, _progress, _cancel);
        var filtered = MemorizationFilter.Apply(images, audit.AuditFiles!.Csv);
        _say($"  memorisation audit: {audit.Audit?.Flagged ?? 0} of {audit.Audit?.Images ?? 0} flagged and dropped; {filtered.Kept} images kept");
    }

    private void RunArm(Stage s, ArmConfig arm, int seed)
    {
        var synthetic = new List<string>();
        int? perClass = null, count = null;
        if (arm.PerClass > 0)
        {
            synthetic = [Path.Combine(_dir, "synthetic-negative", "images"), Path.Combine(_dir, "synthetic-positive", "images")];
            perClass = arm.PerClass;
        }
        else if (arm.Balance)
        {
            var t = TrainCounts();
            int gap = Math.Abs(t.Negative - t.Positive);
            if (gap > 0)
            {
                synthetic = [Path.Combine(_dir, t.Negative > t.Positive ? "synthetic-positive" : "synthetic-negative", "images")];
                count = gap;
            }
        }
        var runs = Path.Combine(s.Dir, "runs");
        var resume = RunFolder.Latest(runs, "classifier") is { } prior && File.Exists(Path.Combine(prior.Path, ClassifierTrainer.LastFile)) ? "latest" : null;
        var trained = ClassifierTrainer.Run(_c.Classifier.ApplyTo(new ClassifierTrainOptions
        {
            Data = PreparedDir, OutRoot = runs, Synthetic = synthetic, SyntheticCount = count, SyntheticPerClass = perClass,
            Seed = seed, Device = _device, Desc = $"{Safe(arm.Name)}-seed{seed}",
        }), resume, _progress, line => _say("  " + line), _cancel);
        var eval = ClassifierEvaluator.Run(new EvaluateOptions
        {
            Model = trained.RunDir, Test = Path.Combine(PreparedDir, "test.csv"), OutDir = Path.Combine(s.Dir, "eval"),
            Bootstrap = _c.Evaluation.Bootstrap, Threshold = _c.Evaluation.Threshold, Seed = seed, Device = _device,
        }, _progress, _cancel);
        _say($"  {arm.Name} seed {seed}: test AUROC {eval.Report.ImageLevel.Auroc.Value:F3} (image), {eval.Report.StudyLevel.Auroc.Value:F3} (study); " +
             $"kappa {eval.Report.ImageLevel.Kappa.Value:F3} / {eval.Report.StudyLevel.Kappa.Value:F3}");
    }

    private void RunReport(Stage s)
    {
        var data = ExperimentResults.Collect(_c, _dir, PreparedDir);
        ExperimentReport.Write(_dir, data);
    }
}

