namespace XraySynth.Classifier.Evaluation;

/// <summary>The metrics that carry a bootstrap confidence interval (see <see cref="BinaryMetrics"/> for their
/// definitions and edge cases).</summary>
public enum Metric
{
    Accuracy,
    Sensitivity,
    Specificity,
    Precision,
    Npv,
    F1,
    Kappa,
    Auroc,
    AveragePrecision,
    Brier,
    PredictedPositiveRate,
    Prevalence,
}

/// <summary>What one prediction is about: an image, or a study (mean of its images' probabilities).</summary>
public enum EvaluationLevel
{
    Image,
    Study,
}
