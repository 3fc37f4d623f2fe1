using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

public class BootstrapTests
{
    private static readonly List<ImagePrediction> _images = SyntheticPredictions.Make(studies: 80, seed: 11);

    [Fact]
    public void ConfidenceIntervals_ContainThePointEstimate_ForEveryMetricAndLevel()
    {
        var ci = Bootstrap.ConfidenceIntervals(_images, 0.5, new BootstrapOptions(Replicates: 300, Seed: 1));
        var image = BinaryMetrics.Compute(_images);
        var study = BinaryMetrics.Compute(StudyAggregation.Aggregate(_images));
        foreach (var metric in Enum.GetValues<Metric>())
        {
            foreach (var (level, point) in new[] { (EvaluationLevel.Image, image), (EvaluationLevel.Study, study) })
            {
                var interval = ci.Get(level, metric);
                double value = point.Get(metric);
                Assert.True(interval.Lower <= value && value <= interval.Upper, $"{level} {metric}: {value} not in [{interval.Lower}, {interval.Upper}]");
                Assert.True(interval.Lower < interval.Upper, $"{level} {metric}: empty interval");
                Assert.Equal(300, interval.ValidReplicates); // 40 studies per class: every replicate has both classes
            }
        }
    }

    [Fact]
    public void ConfidenceIntervals_FourTimesTheStudies_AboutHalfAsWide()
    {
        var options = new BootstrapOptions(Replicates: 400, Seed: 2);
        var one = Bootstrap.ConfidenceIntervals(_images, 0.5, options);
        var four = Bootstrap.ConfidenceIntervals(SyntheticPredictions.Repeat(_images, 4), 0.5, options);
        foreach (var level in new[] { EvaluationLevel.Image, EvaluationLevel.Study })
        {
            foreach (var metric in new[] { Metric.Auroc, Metric.Accuracy, Metric.Kappa, Metric.Brier })
            {
                var a = one.Get(level, metric);
                var b = four.Get(level, metric);
                double ratio = (b.Upper - b.Lower) / (a.Upper - a.Lower);
                // width ∝ 1/√n: expect 0.5
                Assert.InRange(ratio, 0.3, 0.7);
            }
        }
    }

    [Fact]
    public void ConfidenceIntervals_SameSeed_SameIntervals_RegardlessOfInputOrder()
    {
        var options = new BootstrapOptions(Replicates: 100, Seed: 7);
        var a = Bootstrap.ConfidenceIntervals(_images, 0.5, options);
        var b = Bootstrap.ConfidenceIntervals(Enumerable.Reverse(_images).ToList(), 0.5, options);
        var c = Bootstrap.ConfidenceIntervals(_images, 0.5, options with { Seed = 8 });
        foreach (var metric in Enum.GetValues<Metric>())
        {
            Assert.Equal(a.Image[metric], b.Image[metric]);
            Assert.Equal(a.Study[metric], b.Study[metric]);
        }
        Assert.NotEqual(a.Image[Metric.Auroc], c.Image[Metric.Auroc]);
    }

    [Fact]
    public void ConfidenceIntervals_ReplicatesWithOneClass_AreSkippedAndCounted()
    {
        // 3 studies, 1 abnormal: a replicate draws one class only with probability (2/3)³ + (1/3)³ = 1/3
        ImagePrediction[] images = [new("a/1", "a", 1, 0.8), new("b/1", "b", 0, 0.3), new("c/1", "c", 0, 0.6), new("c/2", "c", 0, 0.1)];
        var ci = Bootstrap.ConfidenceIntervals(images, 0.5, new BootstrapOptions(Replicates: 600, Seed: 3));
        int valid = ci.Study[Metric.Auroc].ValidReplicates;
        Assert.InRange(valid, 340, 460); // ≈ 400
        Assert.Equal(valid, ci.Image[Metric.Auroc].ValidReplicates); // same draws at both levels
        Assert.Equal(600, ci.Study[Metric.Accuracy].ValidReplicates); // always defined
        Assert.Equal(600, ci.Study[Metric.Brier].ValidReplicates);
    }

    [Fact]
    public void Paired_IdenticalModels_DifferenceIsExactlyZero()
    {
        var copy = _images.Select(i => i with { }).Reverse().ToList();
        var result = Bootstrap.Paired(_images, copy, 0.5, new BootstrapOptions(Replicates: 200, Seed: 4));
        Assert.Equal(2 * Enum.GetValues<Metric>().Length, result.Differences.Count);
        foreach (var d in result.Differences)
        {
            Assert.Equal(0.0, d.Difference);
            Assert.Equal(0.0, d.Lower);
            Assert.Equal(0.0, d.Upper);
            Assert.Equal(200, d.ValidReplicates);
        }
    }

    [Fact]
    public void Paired_BetterCandidate_DifferenceIsCandidateMinusBaselineAndExcludesZero()
    {
        // candidate: the same test set with sharper probabilities (abnormal pushed up, normal down)
        var candidate = _images.Select(i => i with { Probability = i.Label == 1 ? Math.Min(1, i.Probability + 0.25) : Math.Max(0, i.Probability - 0.25) }).ToList();
        var result = Bootstrap.Paired(_images, candidate, 0.5, new BootstrapOptions(Replicates: 300, Seed: 5));
        var auroc = result.Get(EvaluationLevel.Study, Metric.Auroc);
        Assert.Equal(auroc.Candidate - auroc.Baseline, auroc.Difference, 12);
        Assert.True(auroc.Difference > 0);
        Assert.True(auroc.Lower > 0, $"study AUROC difference CI [{auroc.Lower}, {auroc.Upper}] should exclude 0");
        Assert.True(result.Get(EvaluationLevel.Image, Metric.Brier).Upper < 0); // lower Brier is better
    }

    [Fact]
    public void Paired_DifferentTestSets_ErrorNamesTheStudy()
    {
        var other = _images.Where(i => i.Study != "s0005").ToList();
        var e = Assert.Throws<ArgumentException>(() => Bootstrap.Paired(_images, other, 0.5, new BootstrapOptions(Replicates: 10)));
        Assert.Contains("s0005", e.Message);
    }

    [Fact]
    public void Percentile_LinearBetweenOrderStatistics_AsNumpy()
    {
        // numpy.percentile([1, 2, 3, 4], [50, 2.5]) == [2.5, 1.075]
        Assert.Equal(2.5, Bootstrap.Percentile([1, 2, 3, 4], 0.5), 12);
        Assert.Equal(1.075, Bootstrap.Percentile([1, 2, 3, 4], 0.025), 12);
        Assert.True(double.IsNaN(Bootstrap.Percentile([], 0.5)));
    }
}
