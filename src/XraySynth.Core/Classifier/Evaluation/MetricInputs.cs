namespace XraySynth.Classifier.Evaluation;

/// <summary>The one check of metric inputs: clear <see cref="ArgumentException"/>s instead of silent nonsense.</summary>
internal static class MetricInputs
{
    public static void Check(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities, double threshold)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        if (labels.Count != probabilities.Count)
            throw new ArgumentException($"{labels.Count} labels but {probabilities.Count} probabilities: one of each per prediction.",
                nameof(probabilities));
        if (labels.Count == 0)
            throw new ArgumentException("no predictions: metrics need at least one labelled prediction.", nameof(labels));
        if (!double.IsFinite(threshold))
            throw new ArgumentException($"threshold {threshold} is not a finite number.", nameof(threshold));
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is not (0 or 1))
                throw new ArgumentException($"label {labels[i]} at index {i}: labels are 0 (normal) or 1 (abnormal).", nameof(labels));
            var p = probabilities[i];
            if (!(p >= 0 && p <= 1))
                throw new ArgumentException($"probability {p} at index {i} is not in [0, 1] (a diverged model gives NaN; " +
                    "logits need a sigmoid first).", nameof(probabilities));
        }
    }
}
