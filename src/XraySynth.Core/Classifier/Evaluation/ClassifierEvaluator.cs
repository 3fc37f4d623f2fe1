using TorchSharp;
using XraySynth.Classifier.Data;
using XraySynth.Classifier.Models;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Evaluation;

/// <summary>Options of <c>classifier evaluate</c>.</summary>
public sealed record EvaluateOptions
{
    /// <summary>A classifier run folder (model.json + best.safetensors).</summary>
    public required string Model { get; init; }
    /// <summary>A manifest of real images (prepare's test.csv).</summary>
    public required string Test { get; init; }
    /// <summary>Output folder (default: RUN/eval-&lt;manifest name&gt;).</summary>
    public string? OutDir { get; init; }
    public int Bootstrap { get; init; } = 1000;
    public double Threshold { get; init; } = 0.5;
    public int Seed { get; init; }
    public int Batch { get; init; } = 64;
    public bool Strict { get; init; }
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
}

/// <summary>What evaluation wrote and found.</summary>
public sealed record EvaluateResult(string OutDir, EvaluationReport Report, ClassifierModelInfo Model, IReadOnlyList<InputProblem> Skipped);

/// <summary>Evaluates a trained classifier on real held-out images, image- and study-level, with bootstrap CIs over
/// studies; writes metrics.json, predictions.csv and the ROC, precision-recall, reliability and confusion plots.</summary>
public static class ClassifierEvaluator
{
    public static EvaluateResult Run(EvaluateOptions o, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (o.Bootstrap < 100) throw new DataException($"--bootstrap {o.Bootstrap}: use at least 100 replicates (1000 is usual).");
        if (o.Threshold is <= 0 or >= 1) throw new DataException($"--threshold {o.Threshold}: must be between 0 and 1.");
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
