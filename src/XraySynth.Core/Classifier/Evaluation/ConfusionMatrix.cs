namespace XraySynth.Classifier.Evaluation;

/// <summary>Counts of a binary decision against the truth; positive = abnormal (label 1).</summary>
/// <param name="TruePositives">Abnormal, predicted abnormal.</param>
/// <param name="FalsePositives">Normal, predicted abnormal.</param>
/// <param name="TrueNegatives">Normal, predicted normal.</param>
/// <param name="FalseNegatives">Abnormal, predicted normal.</param>
public sealed record ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>All predictions.</summary>
    public int N => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>Actually abnormal (label 1).</summary>
    public int Positives => TruePositives + FalseNegatives;

    /// <summary>Actually normal (label 0).</summary>
    public int Negatives => TrueNegatives + FalsePositives;

    /// <summary>Predicted abnormal.</summary>
    public int PredictedPositives => TruePositives + FalsePositives;

    /// <summary>Counts each prediction: abnormal iff probability &gt; <paramref name="threshold"/> (MURA's rule).</summary>
    public static ConfusionMatrix From(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities, double threshold = 0.5)
    {
        MetricInputs.Check(labels, probabilities, threshold);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            bool predicted = probabilities[i] > threshold;
            if (labels[i] == 1) { if (predicted) tp++; else fn++; }
            else if (predicted) fp++;
            else tn++;
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }
}
