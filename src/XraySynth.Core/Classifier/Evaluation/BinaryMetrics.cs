namespace XraySynth.Classifier.Evaluation;

/// <summary>Metrics of binary abnormality predictions (positive = abnormal = label 1) at one decision threshold.
/// <para>Conventions a reader of the numbers should know:</para>
/// <list type="bullet">
/// <item>A prediction is abnormal iff its probability is <b>strictly greater</b> than the threshold (MURA: "abnormal
/// if &gt; 0.5"); a probability exactly at the threshold counts as normal.</item>
/// <item>A ratio whose denominator is zero is <see cref="double.NaN"/> (undefined), never 0 and never an exception:
/// sensitivity without abnormal cases, specificity without normal ones, precision without positive predictions,
/// NPV without negative predictions, F1 when there is neither an abnormal case nor a positive prediction.</item>
/// <item>AUROC and average precision need both classes; with one class they are NaN.</item>
/// <item>Cohen's kappa is NaN when the expected agreement is 1, which happens only when labels and predictions
/// are the same single class (0/0, as sklearn's <c>cohen_kappa_score</c>). Constant predictions against mixed
/// labels give 0.</item>
/// <item>Empty input, mismatched lengths, a label other than 0/1 or a probability outside [0, 1] (NaN included)
/// is an <see cref="ArgumentException"/>.</item>
/// </list></summary>
public sealed record BinaryMetrics
{
    /// <summary>Number of predictions (images or studies).</summary>
    public required int N { get; init; }
    /// <summary>Decision threshold: abnormal iff probability &gt; Threshold.</summary>
    public required double Threshold { get; init; }
    public required ConfusionMatrix Confusion { get; init; }
    /// <summary>(TP + TN) / N.</summary>
    public required double Accuracy { get; init; }
    /// <summary>Recall, true-positive rate: TP / (TP + FN).</summary>
    public required double Sensitivity { get; init; }
    /// <summary>True-negative rate: TN / (TN + FP).</summary>
    public required double Specificity { get; init; }
    /// <summary>Positive predictive value: TP / (TP + FP).</summary>
    public required double Precision { get; init; }
    /// <summary>Negative predictive value: TN / (TN + FN).</summary>
    public required double Npv { get; init; }
    /// <summary>2·TP / (2·TP + FP + FN).</summary>
    public required double F1 { get; init; }
    /// <summary>Cohen's kappa between labels and thresholded predictions: (p_o − p_e) / (1 − p_e).</summary>
    public required double Kappa { get; init; }
    /// <summary>Area under the ROC curve: Mann–Whitney U / (P·N), ties counted half (= trapezoidal ROC area).</summary>
    public required double Auroc { get; init; }
    /// <summary>Step-wise area under the precision-recall curve, as sklearn's average_precision_score.</summary>
    public required double AveragePrecision { get; init; }
    /// <summary>Mean squared error of the probabilities: mean (p − y)²; 0 is perfect, 0.25 is a constant 0.5.</summary>
    public required double Brier { get; init; }
    /// <summary>Fraction predicted abnormal: (TP + FP) / N.</summary>
    public required double PredictedPositiveRate { get; init; }
    /// <summary>Fraction actually abnormal: (TP + FN) / N.</summary>
    public required double Prevalence { get; init; }

    /// <summary>Computes every metric; see the type's remarks for the conventions.</summary>
    /// <param name="labels">0 normal, 1 abnormal.</param>
    /// <param name="probabilities">Predicted probability of abnormal, in [0, 1].</param>
    /// <param name="threshold">Abnormal iff probability &gt; threshold.</param>
    public static BinaryMetrics Compute(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities, double threshold = 0.5)
    {
        var cm = ConfusionMatrix.From(labels, probabilities, threshold); // checks the inputs
        var ranked = RankedScores.From(labels, probabilities);
        double brier = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            double e = probabilities[i] - labels[i];
            brier += e * e;
        }
        double n = cm.N;
        return new BinaryMetrics
        {
            N = cm.N,
            Threshold = threshold,
            Confusion = cm,
            Accuracy = (cm.TruePositives + cm.TrueNegatives) / n,
            Sensitivity = Ratio(cm.TruePositives, cm.Positives),
            Specificity = Ratio(cm.TrueNegatives, cm.Negatives),
            Precision = Ratio(cm.TruePositives, cm.PredictedPositives),
            Npv = Ratio(cm.TrueNegatives, cm.TrueNegatives + cm.FalseNegatives),
            F1 = Ratio(2 * cm.TruePositives, 2 * cm.TruePositives + cm.FalsePositives + cm.FalseNegatives),
            Kappa = CohensKappa(cm),
            Auroc = ranked.Auroc(),
            AveragePrecision = ranked.AveragePrecision(),
            Brier = brier / n,
            PredictedPositiveRate = cm.PredictedPositives / n,
            Prevalence = cm.Positives / n,
        };
    }

    /// <summary>Image-level metrics of image predictions.</summary>
    public static BinaryMetrics Compute(IReadOnlyList<ImagePrediction> images, double threshold = 0.5) =>
        Compute(images.Select(i => i.Label).ToArray(), images.Select(i => i.Probability).ToArray(), threshold);

    /// <summary>Study-level metrics of study predictions (see <see cref="StudyAggregation"/>).</summary>
    public static BinaryMetrics Compute(IReadOnlyList<StudyPrediction> studies, double threshold = 0.5) =>
        Compute(studies.Select(s => s.Label).ToArray(), studies.Select(s => s.Probability).ToArray(), threshold);

    /// <summary>Cohen's kappa of a confusion matrix: p_o = (TP + TN) / N,
    /// p_e = P(label 1)·P(pred 1) + P(label 0)·P(pred 0), κ = (p_o − p_e) / (1 − p_e); NaN when p_e = 1.</summary>
    public static double CohensKappa(ConfusionMatrix cm)
    {
        double n = cm.N;
        if (n == 0) return double.NaN;
        double po = (cm.TruePositives + cm.TrueNegatives) / n;
        double pe = (cm.Positives * (double)cm.PredictedPositives + cm.Negatives * (double)(cm.N - cm.PredictedPositives)) / (n * n);
        // p_e == 1 only when labels and predictions are the same constant class: 0/0, undefined (sklearn: nan)
        return pe == 1 ? double.NaN : (po - pe) / (1 - pe);
    }

    /// <summary>AUROC alone (Mann–Whitney, ties half); NaN with one class.</summary>
    public static double AurocOf(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities)
    {
        MetricInputs.Check(labels, probabilities, 0.5);
        return RankedScores.From(labels, probabilities).Auroc();
    }

    /// <summary>Average precision alone (sklearn's step-wise sum, ties grouped); NaN with one class.</summary>
    public static double AveragePrecisionOf(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities)
    {
        MetricInputs.Check(labels, probabilities, 0.5);
        return RankedScores.From(labels, probabilities).AveragePrecision();
    }

    /// <summary>The value of one metric (the property of the same name, see <see cref="MetricProperties{TRecord, TValue}"/>).</summary>
    public double Get(Metric metric) => MetricProperties<BinaryMetrics, double>.Get(this, metric);

    private static double Ratio(int numerator, int denominator) =>
        denominator == 0 ? double.NaN : (double)numerator / denominator;
}
