using TorchSharp;
using XraySynth.Classifier.Data;
using XraySynth.Classifier.Models;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Evaluation;

/// <summary>Options of <c>classifier evaluate</c>, each declared once in <see cref="Declared"/> (flag, default, help,
/// valid values): the command line and the experiment config's <c>evaluation</c> block come from there.</summary>
public sealed record EvaluateOptions
{
    public required string Model { get; init; }
    public required string Test { get; init; }
    public string? OutDir { get; init; } = Declared.OutDir.Default;
    public int Bootstrap { get; init; } = Declared.Bootstrap.Default;
    public double Threshold { get; init; } = Declared.Threshold.Default;
    public int Seed { get; init; } = Declared.Seed.Default;
    public int Batch { get; init; } = Declared.Batch.Default;
    public bool Strict { get; init; } = Declared.Strict.Default;
    public DeviceChoice Device { get; init; } = Declared.Device.Default;

    /// <summary>The declaration of every option, in the order of help (evaluation has no resume: <see cref="OnResume.Ignored"/>).</summary>
    public static class Declared
    {
        public static readonly OptionDeclaration<EvaluateOptions, string> Model = new(nameof(Model), "--model", "",
            "A classifier run folder (holds model.json and best.safetensors).", OnResume.Ignored,
            o => o.Model, (o, v) => o with { Model = v }) { Required = true, Placeholder = "RUN" };

        public static readonly OptionDeclaration<EvaluateOptions, string> Test = new(nameof(Test), "--test", "",
            "Manifest of real held-out images: prepare's test.csv.", OnResume.Ignored,
            o => o.Test, (o, v) => o with { Test = v }) { Required = true, Placeholder = "CSV" };

        public static readonly OptionDeclaration<EvaluateOptions, string?> OutDir = new(nameof(OutDir), "--out", null,
            "Output folder (default: RUN/eval-<manifest name>).", OnResume.Ignored,
            o => o.OutDir, (o, v) => o with { OutDir = v }) { Placeholder = "DIR" };

        public static readonly OptionDeclaration<EvaluateOptions, int> Bootstrap = new(nameof(Bootstrap), "--bootstrap", 1000,
            "Bootstrap replicates (resampling studies) for the 95% confidence intervals.", OnResume.Ignored,
            o => o.Bootstrap, (o, v) => o with { Bootstrap = v }, v => v >= 100 ? null : "must be at least 100 (1000 is usual)") { Placeholder = "N" };

        public static readonly OptionDeclaration<EvaluateOptions, double> Threshold = new(nameof(Threshold), "--threshold", 0.5,
            "Abnormal when the probability is above this.", OnResume.Ignored,
            o => o.Threshold, (o, v) => o with { Threshold = v }, v => v is > 0 and < 1 ? null : "must be between 0 and 1 (both excluded)") { Placeholder = "X" };

        public static readonly OptionDeclaration<EvaluateOptions, int> Seed = new(nameof(Seed), "--seed", 0,
            "Random seed of the bootstrap; the same seed gives the same result.", OnResume.Ignored,
            o => o.Seed, (o, v) => o with { Seed = v }) { Placeholder = "N" };

        public static readonly OptionDeclaration<EvaluateOptions, int> Batch = new(nameof(Batch), null, 64,
            "Images per forward pass.", OnResume.Ignored, o => o.Batch, (o, v) => o with { Batch = v });

        public static readonly OptionDeclaration<EvaluateOptions, bool> Strict = new(nameof(Strict), "--strict", false,
            "Stop at the first bad image instead of skipping it.", OnResume.Ignored, o => o.Strict, (o, v) => o with { Strict = v });

        public static readonly OptionDeclaration<EvaluateOptions, DeviceChoice> Device = new(nameof(Device), "--device", DeviceChoice.Auto,
            "Where torch work runs: auto (CUDA if available, else CPU), cpu, or cuda.", OnResume.Ignored, o => o.Device, (o, v) => o with { Device = v });

        /// <summary>Every option, in the order of help.</summary>
        public static readonly IReadOnlyList<OptionDeclaration<EvaluateOptions>> All = [Model, Test, OutDir, Bootstrap, Threshold, Seed, Batch, Strict, Device];
    }
}

/// <summary>What evaluation wrote and found.</summary>
public sealed record EvaluateResult(string OutDir, EvaluationReport Report, ClassifierModelInfo Model, IReadOnlyList<InputProblem> Skipped);

/// <summary>Evaluates a trained classifier on real held-out images, image- and study-level, with bootstrap CIs over
/// studies; writes metrics.json, predictions.csv and the ROC, precision-recall, reliability and confusion plots.</summary>
public static class ClassifierEvaluator
{
    public static EvaluateResult Run(EvaluateOptions o, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (OptionDeclarations.Problems(EvaluateOptions.Declared.All, o) is { Count: > 0 } problems)
            throw new DataException(string.Join("; ", problems) + ".");
        var runDir = Path.GetFullPath(o.Model);
        var samples = ClassifierSamples.FromManifest(o.Test);
        if (samples.Count == 0) throw new DataException($"{o.Test}: no images to evaluate.");

        var device = TorchRuntime.Select(o.Device);
        using var model = ClassifierModelInfo.LoadBest(runDir, out var info);
        model.to(device);
        using var bank = ImageBank.Load(samples, info.Size, o.Strict, "decode test", progress, cancel);
        var probabilities = Predictor.Probabilities(model, bank, device, o.Batch, out var logits);
        logits.Dispose();
        var root = Path.GetDirectoryName(Path.GetFullPath(o.Test))!;
        var predictions = bank.Samples.Select((s, i) => new ImagePrediction(Path.GetRelativePath(root, s.Path), s.Study, s.Label, probabilities[i])).ToList();
        var report = EvaluationReport.Compute(predictions, new EvaluationOptions(o.Threshold, 10, new BootstrapOptions(o.Bootstrap, o.Seed)));

        var outDir = Path.GetFullPath(o.OutDir ?? Path.Combine(runDir, $"eval-{Path.GetFileNameWithoutExtension(o.Test)}"));
        OutputFolder.Ensure(outDir, "--out");
        EvaluationFiles.WriteMetrics(Path.Combine(outDir, EvaluationFiles.MetricsFileName), report);
        EvaluationFiles.WritePredictions(Path.Combine(outDir, EvaluationFiles.PredictionsFileName), predictions);
        WritePlots(outDir, predictions, report);
        return new EvaluateResult(outDir, report, info, bank.Skipped);
    }

    private static void WritePlots(string outDir, IReadOnlyList<ImagePrediction> images, EvaluationReport report)
    {
        var studies = StudyAggregation.Aggregate(images);
        var imageLabels = images.Select(p => p.Label).ToList();
        var imageProbs = images.Select(p => p.Probability).ToList();
        var studyLabels = studies.Select(p => p.Label).ToList();
        var studyProbs = studies.Select(p => p.Probability).ToList();
        EvaluationPlots.Roc(Path.Combine(outDir, "roc.png"),
            [RocSeries.Of("image level", imageLabels, imageProbs), RocSeries.Of("study level", studyLabels, studyProbs)], "ROC (test set)");
        EvaluationPlots.PrecisionRecall(Path.Combine(outDir, "precision-recall.png"),
            [PrSeries.Of("image level", imageLabels, imageProbs), PrSeries.Of("study level", studyLabels, studyProbs)],
            imageLabels.Average(), "Precision-recall (test set)");
        EvaluationPlots.Reliability(Path.Combine(outDir, "calibration.png"), report.ImageLevel.Calibration, "Calibration (image level)");
        EvaluationPlots.ConfusionMatrix(Path.Combine(outDir, "confusion-image.png"), report.ImageLevel.Confusion, $"Image level, threshold {report.Threshold}");
        EvaluationPlots.ConfusionMatrix(Path.Combine(outDir, "confusion-study.png"), report.StudyLevel.Confusion, $"Study level, threshold {report.Threshold}");
    }
}
