using System.Text.Json.Nodes;
using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Experiments;

/// <summary>One trained-and-evaluated classifier: an arm at one seed.</summary>
public sealed record ArmSeedResult(string Arm, int Seed, EvaluationReport Report, IReadOnlyList<ImagePrediction> Predictions);

/// <summary>An arm and how many synthetic images per class it adds (for a balancing arm: the class gap).</summary>
public sealed record ArmInfo(string Name, int SyntheticPerClass, bool Balance, bool IsBaseline);

/// <summary>A GAN run of the experiment: its name and folder (stats.jsonl, reals.png, fakes*.png, metric-*.jsonl).</summary>
public sealed record GanRunInfo(string Model, string RunDir);

/// <summary>Everything the report needs, read back from the experiment folder (so a report can be regenerated from
/// recorded results without retraining anything).</summary>
public sealed record ExperimentResults
{
    public required ExperimentConfig Config { get; init; }
    public required string Dir { get; init; }
    /// <summary>Counts per split and label (from the manifests).</summary>
    public required IReadOnlyList<(string Split, LabelCounts Images, int Studies, int Patients)> DataCounts { get; init; }
    public required IReadOnlyList<ArmInfo> Arms { get; init; }
    public required IReadOnlyList<ArmSeedResult> Results { get; init; }
    public required IReadOnlyList<GanRunInfo> GanRuns { get; init; }
    /// <summary>Synthetic image folders per class name ("negative", "positive"), where present.</summary>
    public required IReadOnlyDictionary<string, string> SyntheticDirs { get; init; }

    /// <summary>Reads every finished arm × seed evaluation and the GAN runs under <paramref name="dir"/>.</summary>
    public static ExperimentResults Collect(ExperimentConfig config, string dir, string preparedDir)
    {
        var counts = new List<(string, LabelCounts, int, int)>();
        foreach (var split in new[] { "train", "val", "test" })
        {
            var rows = Manifest.Read(Path.Combine(preparedDir, $"{split}.csv"));
            counts.Add((split, new LabelCounts(rows.Count(r => r.Label == 0), rows.Count(r => r.Label == 1)),
                rows.Select(r => r.Study).Distinct().Count(), rows.Select(r => r.Patient).Distinct().Count()));
        }
        var train = counts[0].Item2;
        var arms = config.Arms.Select(a => new ArmInfo(a.Name, a.Balance ? Math.Abs(train.Negative - train.Positive) : a.PerClass, a.Balance,
            a.PerClass == 0 && !a.Balance)).ToList();
        var results = new List<ArmSeedResult>();
        foreach (var arm in config.Arms)
            foreach (var seed in config.Seeds)
            {
                var eval = Path.Combine(dir, "arms", SafeName(arm.Name), $"seed{seed}", "eval");
                var metrics = Path.Combine(eval, EvaluationFiles.MetricsFileName);
                if (!File.Exists(metrics)) continue;
                results.Add(new ArmSeedResult(arm.Name, seed, EvaluationFiles.ReadMetrics(metrics),
                    EvaluationFiles.ReadPredictions(Path.Combine(eval, EvaluationFiles.PredictionsFileName))));
            }
        var gans = new List<GanRunInfo>();
        foreach (var model in new[] { "conditional", "negative", "positive" })
            if (RunFolder.Latest(Path.Combine(dir, $"gan-{model}"), "gan") is { } run) gans.Add(new GanRunInfo(model, run.Path));
        var synthetic = new Dictionary<string, string>();
        foreach (var cls in new[] { "negative", "positive" })
        {
            var images = Path.Combine(dir, $"synthetic-{cls}", "images");
            if (File.Exists(Path.Combine(images, SyntheticManifest.FileName))) synthetic[cls] = images;
        }
        return new ExperimentResults { Config = config, Dir = dir, DataCounts = counts, Arms = arms, Results = results, GanRuns = gans, SyntheticDirs = synthetic };
    }

    /// <summary>A metric's per-seed values of an arm, keyed by seed.</summary>
    public Dictionary<int, double> Values(string arm, EvaluationLevel level, Metric metric) =>
        Results.Where(r => r.Arm == arm).ToDictionary(r => r.Seed, r => (level == EvaluationLevel.Image ? r.Report.ImageLevel : r.Report.StudyLevel).Get(metric).Value);

    /// <summary>Records of a GAN run's stats.jsonl.</summary>
    public static List<JsonObject> GanStats(GanRunInfo run) => new RunFolder(run.RunDir).ReadStats();

    public static string SafeName(string name) => new(name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
}
