using XraySynth.Runtime;
using System.Diagnostics.CodeAnalysis;

namespace XraySynth.Classifier.Evaluation;

/// <summary>How to evaluate a model's test predictions.</summary>
/// <param name="Threshold">Abnormal iff probability &gt; Threshold (MURA: 0.5).</param>
/// <param name="CalibrationBins">Equal-width bins of the reliability curve.</param>
/// <param name="Bootstrap">Replicates, seed and coverage of the confidence intervals; null: 1000, seed 0, 95%.</param>
public sealed record EvaluationOptions(double Threshold = 0.5, int CalibrationBins = 10, BootstrapOptions? Bootstrap = null);

/// <summary>Every metric of one level (image or study) with its bootstrap interval.</summary>
public sealed record LevelReport
{
    public required EvaluationLevel Level { get; init; }
    /// <summary>Predictions at this level (images, or studies).</summary>
    public required int N { get; init; }
    /// <summary>Studies behind them (the bootstrap's resampling unit).</summary>
    public required int Studies { get; init; }
    public required ConfusionMatrix Confusion { get; init; }
    public required Estimate Accuracy { get; init; }
    public required Estimate Sensitivity { get; init; }
    public required Estimate Specificity { get; init; }
    public required Estimate Precision { get; init; }
    public required Estimate Npv { get; init; }
    public required Estimate F1 { get; init; }
    public required Estimate Kappa { get; init; }
    public required Estimate Auroc { get; init; }
    public required Estimate AveragePrecision { get; init; }
    public required Estimate Brier { get; init; }
    public required Estimate PredictedPositiveRate { get; init; }
    public required Estimate Prevalence { get; init; }
    /// <summary>Reliability curve and expected calibration error (no interval).</summary>
    public required CalibrationCurve Calibration { get; init; }

    /// <summary>For the JSON reader.</summary>
    public LevelReport()
    {
    }

    // The metric properties are set by MetricProperties.InitAll, which the compiler cannot see.
#pragma warning disable CS8618
    [SetsRequiredMembers]
    private LevelReport(EvaluationLevel level, int n, int studies, ConfusionMatrix confusion, CalibrationCurve calibration, Func<Metric, Estimate> estimate)
    {
        Level = level;
        N = n;
        Studies = studies;
        Confusion = confusion;
        Calibration = calibration;
        MetricProperties<LevelReport, Estimate>.InitAll(this, estimate);
    }
#pragma warning restore CS8618

    /// <summary>One metric's estimate (the property of the same name, see <see cref="MetricProperties{TRecord, TValue}"/>).</summary>
    public Estimate Get(Metric metric) => MetricProperties<LevelReport, Estimate>.Get(this, metric);

    internal static LevelReport Create(EvaluationLevel level, BinaryMetrics m, int studies, BootstrapIntervals ci, CalibrationCurve calibration) =>
        new(level, m.N, studies, m.Confusion, calibration, metric => Estimate.Of(m.Get(metric), ci.Get(level, metric)));
}

/// <summary>A model's evaluation on a test set, image level and study level, with study-bootstrap intervals:
/// written as <c>metrics.json</c> (see <see cref="EvaluationFiles"/>). Undefined values (NaN) are written as null.</summary>
public sealed record EvaluationReport
{
    /// <summary>Abnormal iff probability &gt; Threshold.</summary>
    public required double Threshold { get; init; }
    /// <summary>Bootstrap settings; the resampled unit is the study.</summary>
    public required BootstrapOptions Bootstrap { get; init; }
    public required LevelReport ImageLevel { get; init; }
    /// <summary>Study probability = mean of its images' probabilities.</summary>
    public required LevelReport StudyLevel { get; init; }
    /// <summary>Degenerate-model warnings (<see cref="DegenerateModelCheck"/>); empty when none.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Evaluates image predictions: metrics at both levels, intervals, calibration, warnings.</summary>
    public static EvaluationReport Compute(IReadOnlyList<ImagePrediction> images, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        var bootstrap = options.Bootstrap ?? new BootstrapOptions();
        var studies = StudyAggregation.Aggregate(images);
        int[] imageLabels = [.. images.Select(i => i.Label)], studyLabels = [.. studies.Select(s => s.Label)];
        double[] imageProbabilities = [.. images.Select(i => i.Probability)], studyProbabilities = [.. studies.Select(s => s.Probability)];

        var ci = Evaluation.Bootstrap.ConfidenceIntervals(images, options.Threshold, bootstrap);
        var imageLevel = LevelReport.Create(EvaluationLevel.Image, BinaryMetrics.Compute(imageLabels, imageProbabilities, options.Threshold),
            studies.Count, ci, CalibrationCurve.Compute(imageLabels, imageProbabilities, options.CalibrationBins));
        var studyLevel = LevelReport.Create(EvaluationLevel.Study, BinaryMetrics.Compute(studyLabels, studyProbabilities, options.Threshold),
            studies.Count, ci, CalibrationCurve.Compute(studyLabels, studyProbabilities, options.CalibrationBins));
        var warnings = new List<string>();
        if (DegenerateModelCheck.Check(imageLabels, imageProbabilities, options.Threshold, "image") is { } w1) warnings.Add(w1);
        if (DegenerateModelCheck.Check(studyLabels, studyProbabilities, options.Threshold, "study") is { } w2) warnings.Add(w2);
        return new EvaluationReport
        {
            Threshold = options.Threshold,
            Bootstrap = bootstrap,
            ImageLevel = imageLevel,
            StudyLevel = studyLevel,
            Warnings = warnings,
        };
    }
}
