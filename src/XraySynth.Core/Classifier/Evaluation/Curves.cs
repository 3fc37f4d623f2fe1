namespace XraySynth.Classifier.Evaluation;

/// <summary>One point of a ROC curve: predicting abnormal for every score ≥ <paramref name="Threshold"/>.</summary>
/// <param name="Fpr">False-positive rate, 1 − specificity.</param>
/// <param name="Tpr">True-positive rate, sensitivity.</param>
/// <param name="Threshold">Lowest score called abnormal; +∞ for the first point (nothing called abnormal).</param>
public sealed record RocPoint(double Fpr, double Tpr, double Threshold);

/// <summary>One point of a precision-recall curve: predicting abnormal for every score ≥ <paramref name="Threshold"/>.</summary>
/// <param name="Recall">Sensitivity.</param>
/// <param name="Precision">Positive predictive value.</param>
/// <param name="Threshold">Lowest score called abnormal; +∞ for the first point (recall 0, precision 1 by convention).</param>
public sealed record PrPoint(double Recall, double Precision, double Threshold);

/// <summary>ROC and precision-recall curves, as sklearn's <c>roc_curve</c> (without dropping collinear points) and
/// <c>precision_recall_curve</c>: one point per distinct score, highest first, ties grouped. The curves use
/// "score ≥ threshold" like sklearn, which is the operating point "score &gt; t" for any t just below the threshold.
/// With one class present the curves are undefined and come back empty.</summary>
public static class Curves
{
    /// <summary>ROC points from (0, 0) at threshold +∞ to (1, 1) at the lowest score.</summary>
    public static IReadOnlyList<RocPoint> Roc(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities)
    {
        MetricInputs.Check(labels, probabilities, 0.5);
        var r = RankedScores.From(labels, probabilities);
        if (!r.HasBothClasses) return [];
        var points = new List<RocPoint>(r.Thresholds.Length + 1) { new(0, 0, double.PositiveInfinity) };
        for (int k = 0; k < r.Thresholds.Length; k++)
            points.Add(new RocPoint((double)r.CumulativeFp[k] / r.Negatives, (double)r.CumulativeTp[k] / r.Positives, r.Thresholds[k]));
        return points;
    }

    /// <summary>Precision-recall points from (recall 0, precision 1) at threshold +∞ to recall 1 at the lowest score.</summary>
    public static IReadOnlyList<PrPoint> PrecisionRecall(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities)
    {
        MetricInputs.Check(labels, probabilities, 0.5);
        var r = RankedScores.From(labels, probabilities);
        if (!r.HasBothClasses) return [];
        var points = new List<PrPoint>(r.Thresholds.Length + 1) { new(0, 1, double.PositiveInfinity) };
        for (int k = 0; k < r.Thresholds.Length; k++)
        {
            int tp = r.CumulativeTp[k], fp = r.CumulativeFp[k];
            points.Add(new PrPoint((double)tp / r.Positives, (double)tp / (tp + fp), r.Thresholds[k]));
        }
        return points;
    }

    /// <summary>Trapezoidal area under a ROC curve (equals <see cref="BinaryMetrics.Auroc"/> for its curve).</summary>
    public static double TrapezoidArea(IReadOnlyList<RocPoint> roc)
    {
        if (roc.Count < 2) return double.NaN;
        double area = 0;
        for (int k = 1; k < roc.Count; k++)
            area += (roc[k].Fpr - roc[k - 1].Fpr) * (roc[k].Tpr + roc[k - 1].Tpr) / 2;
        return area;
    }
}
