using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

public class DegenerateModelCheckTests
{
    private static readonly int[] _balanced = [.. Enumerable.Range(0, 100).Select(i => i % 2)];

    private static void AssertNamesTheCauses(string? warning)
    {
        Assert.NotNull(warning);
        foreach (var cause in new[] { "label mapping", "normalisation", "threshold", "learning rate" })
            Assert.Contains(cause, warning);
    }

    [Fact]
    public void Check_AlmostEverythingNormal_Warns()
    {
        // 4 of 100 above 0.5: 4% < 5%
        double[] p = [.. Enumerable.Range(0, 100).Select(i => i < 4 ? 0.7 : 0.1 + 0.003 * i)];
        var warning = DegenerateModelCheck.Check(_balanced, p, 0.5, "image");
        AssertNamesTheCauses(warning);
        Assert.Contains("4.0", warning);
        Assert.StartsWith("image level", warning);
    }

    [Fact]
    public void Check_AlmostEverythingAbnormal_Warns()
    {
        double[] p = [.. Enumerable.Range(0, 100).Select(i => i < 3 ? 0.2 : 0.6 + 0.003 * i)]; // 97% abnormal
        AssertNamesTheCauses(DegenerateModelCheck.Check(_balanced, p, 0.5, "study"));
    }

    [Fact]
    public void Check_ProbabilitiesWithin001_WarnsEvenWhenBalanced()
    {
        // straddles the threshold (50% positive) but carries no information
        double[] p = [.. Enumerable.Range(0, 100).Select(i => 0.496 + 0.008 * (i % 2 == 0 ? i / 100.0 : 1 - i / 100.0))];
        var warning = DegenerateModelCheck.Check(_balanced, p);
        AssertNamesTheCauses(warning);
        Assert.Contains("within", warning);
    }

    [Fact]
    public void Check_HealthyModel_DoesNotWarn()
    {
        // 6% and 94% positive, and a spread of probabilities: no warning
        double[] low = [.. Enumerable.Range(0, 100).Select(i => i < 6 ? 0.8 : 0.05 + 0.004 * i)];
        double[] high = [.. Enumerable.Range(0, 100).Select(i => i < 6 ? 0.2 : 0.55 + 0.004 * i)];
        Assert.Null(DegenerateModelCheck.Check(_balanced, low));
        Assert.Null(DegenerateModelCheck.Check(_balanced, high));
        Assert.Null(DegenerateModelCheck.Check(_balanced, [.. _balanced.Select(l => l == 1 ? 0.7 : 0.3)]));
    }

    [Fact]
    public void EvaluationReport_ConstantModel_CarriesWarningsForBothLevels()
    {
        var images = SyntheticPredictions.Make(40, seed: 1).Select(i => i with { Probability = 0.2 }).ToList();
        var report = EvaluationReport.Compute(images, new EvaluationOptions(Bootstrap: new BootstrapOptions(Replicates: 20)));
        Assert.Equal(2, report.Warnings.Count);
        Assert.StartsWith("image level", report.Warnings[0]);
        Assert.StartsWith("study level", report.Warnings[1]);
        var healthy = EvaluationReport.Compute(SyntheticPredictions.Make(40, seed: 1), new EvaluationOptions(Bootstrap: new BootstrapOptions(Replicates: 20)));
        Assert.Empty(healthy.Warnings);
    }
}
