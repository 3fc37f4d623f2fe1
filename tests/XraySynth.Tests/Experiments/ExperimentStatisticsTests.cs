using XraySynth.Classifier.Evaluation;
using XraySynth.Experiments;
using XraySynth.Statistics;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Experiments;

public class ExperimentStatisticsTests
{
    // ---- DeLong ------------------------------------------------------------------------------------------------

    // 10 abnormal then 12 normal cases, two score sets with ties inside and across the classes.
    private static readonly int[] _labels = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly double[] _a = [0.9, 0.8, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.4, 0.3, 0.7, 0.6, 0.5, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2, 0.2, 0.1, 0.05];
    private static readonly double[] _b = [0.95, 0.6, 0.85, 0.5, 0.7, 0.9, 0.3, 0.65, 0.2, 0.55, 0.4, 0.8, 0.3, 0.5, 0.1, 0.6, 0.2, 0.45, 0.35, 0.25, 0.15, 0.5];

    [Fact]
    public void DeLong_PairedTest_MatchesTheDefinitionComputedIndependently()
    {
        // Reference: DeLong et al. (1988) by its definition — ψ over all 10 × 12 (abnormal, normal) pairs, the
        // structural components' sample covariances (numpy.cov) / m and / n, z against the normal (math.erfc) —
        // in numpy 1.24 (DeLongReference.py beside this file; no ranks involved).
        var t = DeLong.Paired(_labels, _a, _b);
        Assert.Equal(0.825, t.AucA, 12);
        Assert.Equal(0.7875, t.AucB, 12);
        Assert.Equal(0.008010662177328843, t.VarianceA, 12);
        Assert.Equal(0.010879980359147026, t.VarianceB, 12);
        Assert.Equal(0.0040119949494949484, t.Covariance, 12);
        Assert.Equal(0.3597355643720615, t.Z, 9);
        Assert.Equal(0.7190448935460741, t.P, 7);
        Assert.Equal(BinaryMetrics.AurocOf(_labels, _a), t.AucA, 12); // the same AUROC as the metrics module
    }

    [Fact]
    public void DeLong_HanleyMcNeilCtRatings_PublishedAreaAndItsVariance()
    {
        // Hanley & McNeil (1982), Radiology 143:29–36, Table 1: CT ratings 1 (definitely normal) … 5 (definitely
        // abnormal) of 58 normal and 51 abnormal cases; published area 0.893. The DeLong variance 0.000943989…
        // (SE 0.0307) is from the same independent numpy reference as above.
        var labels = new List<int>();
        var scores = new List<double>();
        void Add(int label, int[] counts) { for (int r = 0; r < 5; r++) for (int i = 0; i < counts[r]; i++) { labels.Add(label); scores.Add(r + 1); } }
        Add(0, [33, 6, 6, 11, 2]);
        Add(1, [3, 2, 2, 11, 33]);
        var (auc, cov) = DeLong.Covariance(labels, [scores]);
        Assert.Equal(0.893, auc[0], 3);
        Assert.Equal(0.8931710615280595, auc[0], 12);
        Assert.Equal(0.0009439892702629857, cov[0, 0], 14);
    }

    [Fact]
    public void DeLong_IdenticalScores_ZeroVarianceOfTheDifference_NoZ()
    {
        var t = DeLong.Paired(_labels, _a, _a);
        Assert.Equal(0, t.DifferenceVariance, 15);
        Assert.True(double.IsNaN(t.Z) && double.IsNaN(t.P));
    }

    [Fact]
    public void DeLong_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => DeLong.Paired([1, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])); // one abnormal case
        Assert.Throws<ArgumentException>(() => DeLong.Paired(_labels, _a, _b[..5]));
        Assert.Throws<ArgumentException>(() => DeLong.Paired([1, 1, 0, 2], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]));
    }

    // ---- Holm --------------------------------------------------------------------------------------------------

    [Fact]
    public void Holm_MatchesHandValues()
    {
        // Sorted 0.01, 0.03, 0.04 with m = 3: 3·0.01 = 0.03; max(0.03, 2·0.03) = 0.06; max(0.06, 1·0.04) = 0.06.
        Assert.Equal([0.03, 0.06, 0.06], Holm.Adjust([0.01, 0.04, 0.03]).Select(p => Math.Round(p, 12)));
        // Capped at 1; one test is unchanged; NaN (no test) stays NaN and does not count in m.
        Assert.Equal([1.0, 1.0], Holm.Adjust([0.6, 0.7]));
        Assert.Equal([0.02], Holm.Adjust([0.02]));
        var withUntested = Holm.Adjust([0.02, double.NaN, 0.01]);
        Assert.Equal(0.02, withUntested[0], 12);
        Assert.True(double.IsNaN(withUntested[1]));
        Assert.Equal(0.02, withUntested[2], 12);
        Assert.Throws<ArgumentException>(() => Holm.Adjust([1.5]));
    }

    // ---- combined intervals and tests --------------------------------------------------------------------------

    [Fact]
    public void Difference_AddsSeedAndTestSetVariance_OnNMinus1Df()
    {
        // d = 0.10, 0.05, 0.15: mean 0.10, sd 0.05, seed part 0.0025/3; test part 0.0005; V = 0.00133333, df = 2.
        var c = ExperimentStatistics.Difference([(0.90, 0.80), (0.85, 0.80), (0.95, 0.80)], 0.0005, 1, 0.95, TestSetVariance.Bootstrap);
        Assert.Equal(0.10, c.Difference, 12);
        Assert.Equal(0.05, c.SdDifference, 12);
        Assert.Equal(0.0025 / 3, c.SeedVariance, 12);
        Assert.Equal(Math.Sqrt(0.0025 / 3 + 0.0005), c.StandardError, 12);
        Assert.Equal(2, c.Df);
        double q = StudentT.Quantile(0.975, 2);
        Assert.Equal(0.10 - q * c.StandardError, c.Lower, 12);
        Assert.Equal(0.10 + q * c.StandardError, c.Upper, 12);
        Assert.Equal(q * c.StandardError, c.HalfWidth, 12);
        Assert.Equal(StudentT.TwoSidedP(0.10 / c.StandardError, 2), c.P, 12);
        Assert.Equal(ComparisonVerdict.NoSignificantDifference, Conclusion.Judge(c, c.P)); // t = 2.74 on 2 df: p = 0.11
        // The test set's variance widens the interval over the seeds-only t interval.
        var seedsOnly = ExperimentStatistics.Difference([(0.90, 0.80), (0.85, 0.80), (0.95, 0.80)], 0, 1, 0.95, TestSetVariance.Bootstrap);
        Assert.True(c.HalfWidth > seedsOnly.HalfWidth);
        Assert.Equal(2, seedsOnly.Df, 9);
    }

    [Fact]
    public void Difference_FewerThanThreeSeeds_IsUnderpowered_NoPValue()
    {
        var c = ExperimentStatistics.Difference([(0.90, 0.80), (0.92, 0.80)], 0.0001, 1, 0.95, TestSetVariance.DeLong);
        Assert.Equal(2, c.N);
        Assert.True(double.IsNaN(c.P));
        Assert.Equal(ComparisonVerdict.Underpowered, Conclusion.Judge(c, c.P));
        var sentence = Conclusion.Sentence("AUROC", c, c.P);
        Assert.Contains("underpowered: fewer than 3 paired seeds", sentence);
        Assert.DoesNotContain("significant", sentence);
    }

    [Fact]
    public void Difference_IdenticalOnEverySeed_IsReportedWithoutPValue()
    {
        // The case: two (here three) seeds whose differences happen to be equal must not read "p < 0.001".
        var c = ExperimentStatistics.Difference([(0.70, 0.60), (0.75, 0.65), (0.80, 0.70)], 0.0004, 1, 0.95, TestSetVariance.Bootstrap);
        Assert.True(c.IdenticalDifferences);
        Assert.True(double.IsNaN(c.P));
        Assert.Equal(0, c.SeedVariance);
        Assert.Equal(0.02, c.StandardError, 12); // the test set's part is still in the interval
        Assert.Equal(ComparisonVerdict.IdenticalDifferences, Conclusion.Judge(c, c.P));
        var sentence = Conclusion.Sentence("accuracy", c, c.P);
        Assert.Contains("+0.100 on every one of the 3 seeds (95% CI +0.014 to +0.186); no spread between seeds, so no p-value.", sentence);
        Assert.DoesNotContain("significant", sentence);
        Assert.DoesNotContain("p <", sentence);
    }

    [Fact]
    public void Difference_NotSignificant_SaysWhatCouldHaveBeenDetected()
    {
        var c = ExperimentStatistics.Difference([(0.81, 0.80), (0.78, 0.80), (0.83, 0.80)], 0.0001, 1, 0.95, TestSetVariance.DeLong);
        Assert.Equal(ComparisonVerdict.NoSignificantDifference, Conclusion.Judge(c, c.P));
        var sentence = Conclusion.Sentence("AUROC", c, Math.Min(1, 2 * c.P), "Holm-adjusted p");
        Assert.Contains("Holm-adjusted p = ", sentence);
        Assert.Contains($"no significant difference; differences within ±{c.HalfWidth:0.000} could not be told from 0", sentence);
        Assert.Equal("significantly worse", Conclusion.Words(ComparisonVerdict.SignificantlyWorse));
    }

    [Fact]
    public void Judge_OnTheHolmAdjustedP_NotTheRawOne()
    {
        // d = 0.10, 0.07, 0.13: sd 0.03, se 0.017321, t = 5.7735 on 2 df; closed form for 2 df: p = 1 − t/√(t² + 2).
        var c = ExperimentStatistics.Difference([(0.90, 0.80), (0.87, 0.80), (0.93, 0.80)], 0, 1, 0.95, TestSetVariance.Bootstrap);
        Assert.Equal(1 - 5.773502691896258 / Math.Sqrt(5.773502691896258 * 5.773502691896258 + 2), c.P, 9);
        Assert.Equal(ComparisonVerdict.SignificantlyBetter, Conclusion.Judge(c, c.P));
        var adjusted = Holm.Adjust([c.P, c.P, c.P, c.P, c.P]);
        Assert.Equal(ComparisonVerdict.NoSignificantDifference, Conclusion.Judge(c, adjusted[0]));
        Assert.Equal(ComparisonVerdict.SignificantlyWorse, Conclusion.Judge(c with { Difference = -c.Difference }, c.P));
    }

    [Theory]
    [InlineData(new[] { 0.2, 0.98 }, 0.0, 0.0, 1.0)]        // 2 seeds: t(1) · se would reach far outside [0, 1]
    [InlineData(new[] { 0.97, 0.99, 1.0 }, 0.0004, 0.0, 1.0)]
    [InlineData(new[] { 0.01, 0.03, 0.0 }, 0.0002, 0.0, 1.0)]
    [InlineData(new[] { -0.9, -0.2 }, 0.01, -1.0, 1.0)]     // kappa lives in [−1, 1]
    public void Estimate_IntervalStaysInsideTheMetricsRange(double[] values, double testVariance, double low, double high)
    {
        var e = ExperimentStatistics.Estimate(values, testVariance, (low, high), 0.95, TestSetVariance.Bootstrap);
        Assert.InRange(e.Lower, low, high);
        Assert.InRange(e.Upper, low, high);
        Assert.True(e.Lower < e.Mean && e.Mean < e.Upper, $"[{e.Lower}, {e.Upper}] around {e.Mean}");
        // The untransformed t interval would have left the range in the first case: the issue's [−3.110, 3.919].
        if (values.Length == 2 && testVariance == 0)
            Assert.True(e.Mean + StudentT.Quantile(0.975, 1) * e.StandardError > high);
    }

    [Fact]
    public void Estimate_LogitInterval_MatchesHandFormula()
    {
        // values 0.8, 0.9, 1.0: mean 0.9, seed part 0.01/3, test part 0.001, df 2.
        var e = ExperimentStatistics.Estimate([0.8, 0.9, 1.0], 0.001, (0, 1), 0.95, TestSetVariance.Bootstrap);
        double v = 0.01 / 3 + 0.001, df = 2;
        Assert.Equal(df, e.Df, 9);
        double q = StudentT.Quantile(0.975, df), seLogit = Math.Sqrt(v) / (0.9 * 0.1), logit = Math.Log(9);
        Assert.Equal(1 / (1 + Math.Exp(-(logit - q * seLogit))), e.Lower, 12);
        Assert.Equal(1 / (1 + Math.Exp(-(logit + q * seLogit))), e.Upper, 12);
        // No spread anywhere: the interval is the point.
        var flat = ExperimentStatistics.Estimate([1.0, 1.0, 1.0], 0, (0, 1), 0.95, TestSetVariance.Bootstrap);
        Assert.Equal((1.0, 1.0), (flat.Lower, flat.Upper));
    }

    // ---- on predictions: the test-set part --------------------------------------------------------------------

    private static List<ImagePrediction> Predictions(double[] studyScores, int imagesPerStudy = 1) =>
        [.. studyScores.SelectMany((p, s) => Enumerable.Range(0, imagesPerStudy).Select(i =>
            new ImagePrediction($"s{s:D2}/i{i}.png", $"s{s:D2}", _labels[s], p)))];

    private static ArmSeedResult Result(string arm, int seed, List<ImagePrediction> predictions) =>
        new(arm, seed, EvaluationReport.Compute(predictions, new EvaluationOptions(0.5, 10, new BootstrapOptions(100))), predictions);

    [Fact]
    public void Statistics_OneSeedPerArm_StudyAurocDifferenceHasTheDeLongPairedVariance()
    {
        var stats = new ExperimentStatistics([Result("base", 0, Predictions(_b)), Result("plus", 0, Predictions(_a))], 0.5, new BootstrapOptions(200));
        var c = stats.Compare("plus", "base", EvaluationLevel.Study, Metric.Auroc);
        var delong = DeLong.Paired(_labels, _a, _b);
        Assert.Equal(TestSetVariance.DeLong, c.Method);
        Assert.Equal(delong.Difference, c.Difference, 12);
        Assert.Equal(delong.DifferenceVariance, c.TestVariance, 12);
        Assert.Equal(ComparisonVerdict.Underpowered, Conclusion.Judge(c, c.P));
        var arm = stats.Arm("plus", EvaluationLevel.Study, Metric.Auroc);
        Assert.Equal(Math.Sqrt(delong.VarianceA), arm.StandardError, 12);
    }

    [Fact]
    public void Statistics_TestSetPartDoesNotAverageAwayOverSeeds_SameTestSet()
    {
        // Three seeds whose models score alike: the seed mean still carries the full test-set variance of one model,
        // because all seeds are scored on the same studies (an independence assumption would divide it by 3).
        var results = Enumerable.Range(0, 3).Select(seed => Result("base", seed, Predictions(_a))).ToList();
        var stats = new ExperimentStatistics(results, 0.5, new BootstrapOptions(300, 1));
        var auroc = stats.Arm("base", EvaluationLevel.Study, Metric.Auroc);
        Assert.Equal(Math.Sqrt(DeLong.Paired(_labels, _a, _b).VarianceA), auroc.StandardError, 12);
        var accuracy = stats.Arm("base", EvaluationLevel.Image, Metric.Accuracy);
        var single = new ExperimentStatistics([results[0]], 0.5, new BootstrapOptions(300, 1)).Arm("base", EvaluationLevel.Image, Metric.Accuracy);
        Assert.Equal(single.StandardError, accuracy.StandardError, 12);
        Assert.True(accuracy.StandardError > 0.05, $"bootstrap se {accuracy.StandardError}");
        Assert.InRange(accuracy.Lower, 0, 1);
        Assert.InRange(accuracy.Upper, 0, 1);
    }

    [Fact]
    public void JointBootstrap_SameModelTwice_DifferenceHasNoVariance_DifferentTestSetsAreRefused()
    {
        var p = Predictions(_a, imagesPerStudy: 2);
        var joint = Bootstrap.Joint([p, p], 0.5, new BootstrapOptions(200, 3));
        Assert.Equal(0, joint.Variance(EvaluationLevel.Image, Metric.Kappa, [1, -1]), 15);
        Assert.True(joint.Variance(EvaluationLevel.Image, Metric.Kappa, [1, 0]) > 0);
        var other = p.Take(p.Count - 2).ToList(); // one study fewer
        Assert.Throws<ArgumentException>(() => Bootstrap.Joint([p, other]));
    }
}
