using XraySynth.Runtime;
using System.Globalization;

namespace XraySynth.Classifier.Evaluation;

/// <summary>Flags a model that is (nearly) constant: on a balanced test set such as MURA shoulder, one that calls
/// almost everything normal (or abnormal), or gives every case about the same probability, is broken rather than
/// unlucky, and its accuracy says nothing about the data.</summary>
public static class DegenerateModelCheck
{
    /// <summary>Warn below this predicted-positive rate.</summary>
    public const double MinPositiveRate = 0.05;
    /// <summary>Warn above this predicted-positive rate.</summary>
    public const double MaxPositiveRate = 0.95;
    /// <summary>Warn when max − min probability is at most this.</summary>
    public const double MinSpread = 0.01;

    /// <summary>A warning naming the symptom and the likely causes, or null when the predictions look alive.</summary>
    /// <param name="labels">0 normal, 1 abnormal (for the prevalence the warning quotes).</param>
    /// <param name="probabilities">Predicted probabilities of abnormal.</param>
    /// <param name="threshold">Abnormal iff probability &gt; threshold.</param>
    /// <param name="level">What a prediction is about, for the message ("image", "study").</param>
    public static string? Check(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities, double threshold = 0.5,
        string level = "image")
    {
        var cm = ConfusionMatrix.From(labels, probabilities, threshold); // checks the inputs
        double rate = (double)cm.PredictedPositives / cm.N;
        double min = probabilities.Min(), max = probabilities.Max();
        var symptoms = new List<string>();
        if (rate < MinPositiveRate || rate > MaxPositiveRate)
            symptoms.Add(F($"it calls {rate:P1} of {cm.N} {level}s abnormal (threshold {threshold}; ") +
                F($"{(double)cm.Positives / cm.N:P1} are abnormal)"));
        if (max - min <= MinSpread)
            symptoms.Add(F($"all its probabilities lie within {max - min:0.####} of each other ({min:0.####} to {max:0.####})"));
        if (symptoms.Count == 0) return null;
        return $"{level} level: the model looks degenerate: {string.Join("; ", symptoms)}. Likely causes: the label mapping " +
            "(1 must mean abnormal, 0 normal), the input normalisation (evaluation must scale and normalise images as " +
            "training did, ImageNet mean/std), the decision threshold, or the learning rate (too high: collapse to one " +
            "class; too low: nothing learnt).";
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
