using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

public class BinaryMetricsTests
{
    // Ten predictions, four abnormal, at threshold 0.5:
    //   abnormal: 0.9 0.8 0.7 -> TP 3;  0.3 -> FN 1
    //   normal:   0.6 -> FP 1;  0.4 0.2 0.1 0.05 -> TN;  0.5 (exactly the threshold) -> TN   => TN 5
    private static readonly int[] _labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    private static readonly double[] _probabilities = [0.9, 0.8, 0.7, 0.3, 0.6, 0.4, 0.2, 0.1, 0.05, 0.5];

    [Fact]
    public void Compute_SmallExample_MatchesHandComputedValues()
    {
        var m = BinaryMetrics.Compute(_labels, _probabilities);
        Assert.Equal(new ConfusionMatrix(TruePositives: 3, FalsePositives: 1, TrueNegatives: 5, FalseNegatives: 1), m.Confusion);
        Assert.Equal(10, m.N);
        Assert.Equal(0.8, m.Accuracy, 12);            // (3 + 5) / 10
        Assert.Equal(0.75, m.Sensitivity, 12);        // 3 / 4
        Assert.Equal(5.0 / 6, m.Specificity, 12);     // 5 / 6
        Assert.Equal(0.75, m.Precision, 12);          // 3 / (3 + 1)
        Assert.Equal(5.0 / 6, m.Npv, 12);             // 5 / (5 + 1)
        Assert.Equal(0.75, m.F1, 12);                 // 2·3 / (2·3 + 1 + 1)
        // p_o = 0.8; p_e = 0.4·0.4 + 0.6·0.6 = 0.52; κ = 0.28 / 0.48
        Assert.Equal(0.28 / 0.48, m.Kappa, 12);
        // pairs won: 0.9, 0.8, 0.7 beat all 6 normals; 0.3 beats 0.2, 0.1, 0.05 -> 21 / 24
        Assert.Equal(21.0 / 24, m.Auroc, 12);
        // ranking: + + + (P 1 at R .25 .5 .75), then - - -, then + at 0.3 (P 4/7, R 1): AP = .75·1 + .25·4/7
        Assert.Equal(0.75 + 0.25 * 4 / 7, m.AveragePrecision, 12);
        // (.1² + .2² + .3² + .7²) + (.6² + .4² + .2² + .1² + .05² + .5²) = .63 + .8225 = 1.4525, / 10
        Assert.Equal(0.14525, m.Brier, 12);
        Assert.Equal(0.4, m.PredictedPositiveRate, 12);
        Assert.Equal(0.4, m.Prevalence, 12);
    }

    [Fact]
    public void Threshold_ProbabilityExactlyAtThreshold_IsNormal()
    {
        var m = BinaryMetrics.Compute([1, 0], [0.5, 0.5], threshold: 0.5);
        Assert.Equal(new ConfusionMatrix(0, 0, 1, 1), m.Confusion);
        var lower = BinaryMetrics.Compute([1, 0], [0.5, 0.5], threshold: 0.49);
        Assert.Equal(new ConfusionMatrix(1, 1, 0, 0), lower.Confusion);
    }

    [Fact]
    public void Auroc_WithTies_CountsHalf()
    {
        // pairs (+0.8, -0.4) 1, (+0.8, -0.2) 1, (+0.4, -0.4) ½, (+0.4, -0.2) 1 -> 3.5 / 4
        Assert.Equal(0.875, BinaryMetrics.AurocOf([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.2]), 12);
        // everything tied: every pair counts ½
        Assert.Equal(0.5, BinaryMetrics.AurocOf([1, 0, 1, 0, 0], [0.3, 0.3, 0.3, 0.3, 0.3]), 12);
    }

    [Fact]
    public void Auroc_RandomScoresWithTies_EqualsPairwiseCountAndTrapezoidArea()
    {
        var rnd = new Random(3);
        int[] labels = [.. Enumerable.Range(0, 200).Select(_ => rnd.Next(2))];
        double[] scores = [.. labels.Select(l => Math.Round(Math.Clamp(0.4 + 0.2 * l + 0.3 * (rnd.NextDouble() - 0.5), 0, 1), 1))];
        double won = 0;
        int pairs = 0;
        for (int i = 0; i < labels.Length; i++)
            for (int j = 0; j < labels.Length; j++)
                if (labels[i] == 1 && labels[j] == 0)
                {
                    pairs++;
                    won += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
        double auroc = BinaryMetrics.AurocOf(labels, scores);
        Assert.Equal(won / pairs, auroc, 12);
        Assert.Equal(auroc, Curves.TrapezoidArea(Curves.Roc(labels, scores)), 12);
    }

    [Fact]
    public void AveragePrecision_WithTies_GroupsEqualScores()
    {
        // one group of three (2 abnormal, 1 normal): R 0 -> 1 at P 2/3. Ordering the tie would give 1 (+ first) or
        // ½·½ + ½·⅔ = 0.583 (- first); sklearn groups it: 2/3 (= prevalence for a constant score).
        Assert.Equal(2.0 / 3, BinaryMetrics.AveragePrecisionOf([1, 1, 0], [0.5, 0.5, 0.5]), 12);
        // 0.9 (+): R ⅓ P 1;  0.8 (+, -): R ⅔ P ⅔;  0.3 (-): R ⅔ P ½ (ΔR 0);  0.1 (+): R 1 P ⅗
        // AP = ⅓·1 + ⅓·⅔ + ⅓·⅗ = 34/45
        Assert.Equal(34.0 / 45, BinaryMetrics.AveragePrecisionOf([1, 0, 1, 0, 1], [0.9, 0.8, 0.8, 0.3, 0.1]), 12);
    }

    [Fact]
    public void Kappa_PerfectAgreement_IsOne()
    {
        Assert.Equal(1.0, BinaryMetrics.Compute([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2]).Kappa, 12);
    }

    [Fact]
    public void Kappa_AgreementAtChanceLevel_IsZero()
    {
        // predictions 1 0 1 0 against labels 1 1 0 0: p_o = ½, p_e = ½·½ + ½·½ = ½ -> 0
        Assert.Equal(0.0, BinaryMetrics.Compute([1, 1, 0, 0], [0.9, 0.1, 0.9, 0.1]).Kappa, 12);
        // systematic disagreement: p_o = 0, p_e = ½ -> -1
        Assert.Equal(-1.0, BinaryMetrics.Compute([1, 1, 0, 0], [0.1, 0.1, 0.9, 0.9]).Kappa, 12);
    }

    [Fact]
    public void Kappa_ExpectedAgreementZero_IsZero()
    {
        // all abnormal, all predicted normal: p_e = 1·0 + 0·1 = 0 and p_o = 0 -> 0
        Assert.Equal(0.0, BinaryMetrics.Compute([1, 1, 1], [0.1, 0.2, 0.3]).Kappa, 12);
    }

    [Fact]
    public void Kappa_ConstantPredictionsOnMixedLabels_IsZero()
    {
        // all predicted normal, 2 of 5 abnormal: p_o = 0.6, p_e = 0.4·0 + 0.6·1 = 0.6 -> 0
        var m = BinaryMetrics.Compute([1, 0, 0, 1, 0], [0.1, 0.1, 0.1, 0.1, 0.1]);
        Assert.Equal(0.0, m.Kappa, 12);
        Assert.True(double.IsNaN(m.Precision)); // no positive prediction: PPV undefined
        Assert.Equal(0.0, m.Sensitivity);
        Assert.Equal(0.5, m.Auroc, 12);
    }

    [Fact]
    public void Kappa_BothConstantAndAgreeing_IsNaNAsSklearn()
    {
        // p_e = 1: 0/0, sklearn's cohen_kappa_score gives nan
        Assert.True(double.IsNaN(BinaryMetrics.Compute([0, 0, 0], [0.1, 0.2, 0.3]).Kappa));
        Assert.True(double.IsNaN(BinaryMetrics.CohensKappa(new ConfusionMatrix(4, 0, 0, 0))));
    }

    [Fact]
    public void SingleClass_AurocAndApAreNaN_OtherMetricsDefined()
    {
        var m = BinaryMetrics.Compute([1, 1, 1], [0.9, 0.4, 0.7]);
        Assert.True(double.IsNaN(m.Auroc));
        Assert.True(double.IsNaN(m.AveragePrecision));
        Assert.True(double.IsNaN(m.Specificity)); // no normal case
        Assert.Equal(0.0, m.Npv);                 // 0.4 is the one negative prediction, a false negative: 0 / 1
        Assert.Equal(2.0 / 3, m.Sensitivity, 12);
        Assert.Equal(2.0 / 3, m.Accuracy, 12);
        Assert.Equal(1.0, m.Prevalence);
    }

    [Fact]
    public void Compute_EmptyOrInvalidInput_ThrowsArgumentException()
    {
        var empty = Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute(Array.Empty<int>(), Array.Empty<double>()));
        Assert.Contains("no predictions", empty.Message);
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1, 0], [0.5]));
        Assert.Contains("index 1", Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1, 2], [0.5, 0.5])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1, 0], [double.NaN, 0.5])).Message);
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1, 0], [1.5, 0.5]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1, 0], [0.5, 0.5], threshold: double.NaN));
    }

    [Fact]
    public void Get_ReturnsEveryMetricByName()
    {
        var m = BinaryMetrics.Compute(_labels, _probabilities);
        Assert.Equal(m.Auroc, m.Get(Metric.Auroc));
        Assert.Equal(m.Npv, m.Get(Metric.Npv));
        foreach (var metric in Enum.GetValues<Metric>()) _ = m.Get(metric); // no metric is missing from the switch
    }
}
