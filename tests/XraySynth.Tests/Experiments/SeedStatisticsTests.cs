using XraySynth.Experiments;
using XraySynth.Statistics;

namespace XraySynth.Tests.Experiments;

// Reference values: closed forms where one exists (given beside the value), textbook t tables (4 d.p.), and
// otherwise mpmath 1.3 at 30+ digits (betainc(a, b, 0, x, regularized=True), loggamma) — an implementation
// independent of the one under test.
public class SeedStatisticsTests
{
    private static void AssertRelative(double expected, double actual, double tolerance)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), double.MinValue);
        Assert.True(error <= tolerance, $"expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }

    // ---- log-gamma and the incomplete beta -------------------------------------------------------------------

    [Theory]
    [InlineData(0.5, 0.57236494292470009)]   // ln √π
    [InlineData(1.0, 0.0)]                   // ln 0!
    [InlineData(2.0, 0.0)]                   // ln 1!
    [InlineData(10.0, 12.80182748008147)]    // ln 9! = ln 362880
    [InlineData(3.7, 1.4280723266653881)]    // mpmath loggamma(3.7)
    [InlineData(100.0, 359.1342053695754)]   // ln 99!, mpmath
    [InlineData(0.1, 2.2527126517342059)]    // mpmath; takes the reflection branch
    [InlineData(1e6, 12815504.569147612)]    // mpmath
    public void LogGamma_MatchesKnownValues(double x, double expected)
    {
        double actual = SpecialFunctions.LogGamma(x);
        if (expected == 0) Assert.True(Math.Abs(actual) < 1e-14, $"got {actual:R}");
        else AssertRelative(expected, actual, 1e-13);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.5)]
    [InlineData(double.NaN)]
    public void LogGamma_NonPositiveArgument_Throws(double x) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SpecialFunctions.LogGamma(x));

    [Theory]
    [InlineData(2.0, 3.0, 0.5, 0.6875)]                  // binomial: Σ_{j=2..4} C(4,j)/2⁴ = (6+4+1)/16 = 11/16
    [InlineData(0.5, 0.5, 0.3, 0.36901011956554538)]     // arcsine law: (2/π)·asin(√0.3)
    [InlineData(1.0, 1.0, 0.37, 0.37)]                   // uniform: I_x(1,1) = x
    [InlineData(3.0, 1.0, 0.6, 0.216)]                   // I_x(a,1) = x^a = 0.6³
    [InlineData(10.0, 2.5, 0.9, 0.8121862743088557)]     // mpmath
    [InlineData(200.0, 300.0, 0.4, 0.502428616319932)]   // mpmath; long continued fraction
    public void RegularizedIncompleteBeta_MatchesReferences(double a, double b, double x, double expected) =>
        AssertRelative(expected, SpecialFunctions.RegularizedIncompleteBeta(a, b, x), 1e-12);

    [Fact]
    public void RegularizedIncompleteBeta_EndpointsAndReflection()
    {
        Assert.Equal(0.0, SpecialFunctions.RegularizedIncompleteBeta(2, 3, 0));
        Assert.Equal(1.0, SpecialFunctions.RegularizedIncompleteBeta(2, 3, 1));
        // I_x(a, b) = 1 − I_{1−x}(b, a), across both branches of the continued fraction.
        foreach (double x in new[] { 0.05, 0.3, 0.5, 0.8, 0.99 })
        {
            double sum = SpecialFunctions.RegularizedIncompleteBeta(2.5, 7, x)
                         + SpecialFunctions.RegularizedIncompleteBeta(7, 2.5, 1 - x);
            Assert.Equal(1.0, sum, 1e-13);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => SpecialFunctions.RegularizedIncompleteBeta(2, 3, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpecialFunctions.RegularizedIncompleteBeta(0, 3, 0.5));
    }

    // ---- Student's t ------------------------------------------------------------------------------------------

    [Theory]
    // mpmath; two-sided p = 0.1019 as in t tables. (The value 0.948999 sometimes quoted is wrong.)
    [InlineData(2.0, 5.0, 0.94903026058507082)]
    [InlineData(1.0, 1.0, 0.75)]                      // Cauchy: 1/2 + atan(1)/π
    [InlineData(-40.0, 1.0, 0.0079560899120258133)]   // Cauchy: 1/2 + atan(−40)/π
    [InlineData(2.0, 2.0, 0.90824829046386302)]       // df 2: 1/2 + t/(2√(2+t²)) = 1/2 + 1/√6
    [InlineData(-1.5, 3.0, 0.11529193262241153)]      // mpmath
    [InlineData(0.5, 10.0, 0.68605319712851353)]      // mpmath
    [InlineData(3.0, 30.0, 0.99730501796717403)]      // mpmath
    [InlineData(2.5, 2.5, 0.94771501846092231)]       // mpmath; non-integer df
    [InlineData(-8.0, 4.0, 0.00066194845460858393)]   // mpmath; far tail
    [InlineData(-1e160, 1.0, 3.183098861837907e-161)] // Cauchy: 1/(π|t|) to 1e-320; t²/df underflows here
    [InlineData(1.96, 1e4, 0.97498823988408348)]      // mpmath; approaching the normal's Φ(1.96) = 0.9750021
    public void StudentTCdf_MatchesReferences(double t, double df, double expected) =>
        AssertRelative(expected, StudentT.Cdf(t, df), 1e-12);

    [Fact]
    public void StudentTCdf_IsSymmetricAboutZero()
    {
        foreach (double df in new[] { 1, 2, 3.5, 4, 29, 1000 })
        {
            Assert.Equal(0.5, StudentT.Cdf(0, df));
            foreach (double t in new[] { 0.01, 0.7, 2.0, 6.5, 80 })
                Assert.Equal(1.0, StudentT.Cdf(t, df) + StudentT.Cdf(-t, df), 1e-14);
        }
        Assert.Equal(0.0, StudentT.Cdf(double.NegativeInfinity, 3));
        Assert.Equal(1.0, StudentT.Cdf(double.PositiveInfinity, 3));
    }

    [Theory]
    [InlineData(0.975, 1.0, 12.706204736174693)]        // Cauchy: tan(0.475π); table 12.7062
    [InlineData(0.975, 2.0, 4.3026527297494618)]        // df 2: (2p−1)/√(2p(1−p)) = 0.95/√0.04875; table 4.3027
    [InlineData(0.975, 3.0, 3.1824463052837084)]        // table 3.1824
    [InlineData(0.975, 4.0, 2.7764451051977935)]        // table 2.7764
    [InlineData(0.975, 10.0, 2.2281388519862742)]       // table 2.2281
    [InlineData(0.975, 30.0, 2.0422724563012379)]       // table 2.0423
    [InlineData(0.995, 5.0, 4.0321429835552272)]        // table 4.0321
    [InlineData(0.9, 2.5, 1.7302509288071768)]          // mpmath; non-integer df
    [InlineData(0.975, 1e4, 1.9602012398906263)]        // mpmath; approaching the normal's 1.959964
    [InlineData(1e-6, 1.0, -318309.88618274349)]        // Cauchy: tan(π(p − 1/2))
    [InlineData(1e-10, 3.0, -2225.7692846830932)]       // mpmath; far lower tail
    [InlineData(1e-300, 1.0, -3.183098861837907e299)]   // Cauchy: −cot(πp) = −1/(πp) to 1e-600
    public void StudentTQuantile_MatchesReferences(double p, double df, double expected) =>
        AssertRelative(expected, StudentT.Quantile(p, df), 1e-11);

    [Fact]
    public void StudentTQuantile_InvertsCdfAndIsAntisymmetric()
    {
        foreach (double df in new[] { 1, 1.5, 2, 3, 4, 7, 50 })
        {
            foreach (double p in new[] { 1e-6, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999 })
            {
                double t = StudentT.Quantile(p, df);
                AssertRelative(p, StudentT.Cdf(t, df), 1e-11);
                Assert.Equal(-t, StudentT.Quantile(1 - p, df), Math.Abs(t) * 1e-9 + 1e-15);
            }
        }
    }

    [Fact]
    public void StudentTQuantile_EdgesAndExtremeTails()
    {
        Assert.Equal(0.0, StudentT.Quantile(0.5, 3));
        Assert.Equal(double.NegativeInfinity, StudentT.Quantile(0, 3));
        Assert.Equal(double.PositiveInfinity, StudentT.Quantile(1, 3));
        // df 2 closed form with upper tail q: t = (1 − 2q)/√(2q(1 − q)) ≈ 1/√(2·1e−100) = 7.0710678e49.
        AssertRelative(-7.0710678118654752e49, StudentT.Quantile(1e-100, 2), 1e-11);
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(1.2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(0.9, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Cdf(1, double.NaN));
    }

    [Fact]
    public void StudentT_HugeDf_ApproachesTheNormal()
    {
        // Φ(1.96) = 0.97500210485177956 and z_{0.975} = 1.9599639845400542 (mpmath); at df = 1e12 the t
        // distribution is within ~1e-13 of the normal; what is left is the documented error (df is capped at 1e8).
        Assert.Equal(0.97500210485177956, StudentT.Cdf(1.96, 1e12), 1e-8);
        Assert.Equal(1.9599639845400542, StudentT.Quantile(0.975, 1e12), 1e-7);
        Assert.Equal(0.97500210485177956, StudentT.Cdf(1.96, double.MaxValue), 1e-8);
    }

    [Fact]
    public void StudentTTwoSidedP_MatchesClosedFormForDf2()
    {
        // df 2: P(|T| ≥ t) = 1 − t/√(2 + t²).
        foreach (double t in new[] { 0.3, 1.0, 3.5, 40.0 })
            AssertRelative(1 - t / Math.Sqrt(2 + t * t), StudentT.TwoSidedP(t, 2), 1e-11);
        Assert.Equal(1.0, StudentT.TwoSidedP(0, 2));
    }

    // ---- Summary -------------------------------------------------------------------------------------------------

    [Fact]
    public void Summarize_OneToFour_GivesMeanSdAndTInterval()
    {
        // mean 2.5; Σ(x − 2.5)² = 2.25 + 0.25 + 0.25 + 2.25 = 5, sd = √(5/3) = 1.290994; se = sd/2 = 0.645497;
        // CI = 2.5 ± t_{0.975, 3}·se = 2.5 ± 3.182446·0.645497 = 2.5 ± 2.054261.
        var s = SeedStatistics.Summarize([1, 2, 3, 4]);
        Assert.Equal(4, s.N);
        Assert.Equal(0, s.Excluded);
        Assert.Equal(2.5, s.Mean, 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 3), s.Sd, 1e-14);
        Assert.Equal(1.290994, s.Sd, 1e-6);
        Assert.Equal(0.645497, s.StandardError, 1e-6);
        Assert.Equal(2.5 - 3.1824463052837084 * 0.6454972243679028, s.Lower, 1e-12);
        Assert.Equal(2.5 + 3.1824463052837084 * 0.6454972243679028, s.Upper, 1e-12);
        Assert.Equal(0.445739, s.Lower, 1e-6);
        Assert.Equal(0.95, s.Confidence);
    }

    [Fact]
    public void Summarize_ExcludesAndCountsNaN()
    {
        var s = SeedStatistics.Summarize([1, double.NaN, 2, 3, double.NaN, 4]);
        Assert.Equal(4, s.N);
        Assert.Equal(2, s.Excluded);
        Assert.Equal(SeedStatistics.Summarize([1, 2, 3, 4]) with { Excluded = 2 }, s);
    }

    [Fact]
    public void Summarize_OneValue_HasMeanButNaNSdAndInterval()
    {
        var s = SeedStatistics.Summarize([0.9, double.NaN]);
        Assert.Equal((1, 1, 0.9), (s.N, s.Excluded, s.Mean));
        Assert.True(double.IsNaN(s.Sd) && double.IsNaN(s.StandardError));
        Assert.True(double.IsNaN(s.Lower) && double.IsNaN(s.Upper));

        var empty = SeedStatistics.Summarize([double.NaN]);
        Assert.Equal((0, 1), (empty.N, empty.Excluded));
        Assert.True(double.IsNaN(empty.Mean));
    }

    // ---- paired comparison ---------------------------------------------------------------------------------------

    // Candidate 0.91, 0.90, 0.93 vs baseline 0.88, 0.89, 0.90: d = 0.03, 0.01, 0.03; mean d̄ = 0.07/3 = 0.023333;
    // Σ(d − d̄)² = 2·(0.006667)² + (0.013333)² = 0.00026667, sd = √(0.00026667/2) = 0.011547,
    // se = sd/√3 = 0.0066667;
    // t = 0.023333/0.0066667 = 3.5 on 2 df; p = 1 − 3.5/√(2 + 3.5²) = 1 − 3.5/3.774917 = 0.072827;
    // CI = 0.023333 ± 4.302653·0.0066667 = 0.023333 ± 0.028684 = (−0.005351, 0.052018).
    private static readonly double[] _handCandidate = [0.91, 0.90, 0.93];
    private static readonly double[] _handBaseline = [0.88, 0.89, 0.90];

    [Fact]
    public void Compare_PairedTTest_MatchesHandComputation()
    {
        var c = SeedStatistics.Compare(_handCandidate, _handBaseline);
        Assert.Equal((3, 0), (c.N, c.Dropped));
        Assert.Equal(0.913333333333333, c.CandidateMean, 1e-12);
        Assert.Equal(0.89, c.BaselineMean, 1e-12);
        Assert.Equal(0.07 / 3, c.MeanDifference, 1e-12);
        Assert.Equal(0.011547005383792516, c.SdDifference, 1e-12);
        Assert.Equal(0.02 / 3, c.StandardError, 1e-12);
        Assert.Equal(3.5, c.T, 1e-9);
        Assert.Equal(2.0, c.Df);
        Assert.Equal(1 - 3.5 / Math.Sqrt(14.25), c.PValue, 1e-9);
        Assert.Equal(0.072827, c.PValue, 1e-6);
        Assert.Equal(-0.005351, c.Lower, 1e-6);
        Assert.Equal(0.052018, c.Upper, 1e-6);
        // All three differences positive: the most extreme Wilcoxon outcome, still p = 2/2³.
        Assert.Equal((3, 0.25), (c.WilcoxonN, c.WilcoxonP));
    }

    [Fact]
    public void Compare_BySeed_DropsAndCountsPairsWithAMissingOrNaNSide()
    {
        var candidate = new Dictionary<int, double>
        {
            [3] = 0.93, [1] = 0.91, [2] = 0.90, [4] = 0.95, [5] = double.NaN,
        };
        var baseline = new Dictionary<int, double> { [1] = 0.88, [2] = 0.89, [3] = 0.90, [5] = 0.90, [6] = 0.80 };
        var c = SeedStatistics.Compare(candidate, baseline);
        // Seed 4 has no baseline, seed 5 a NaN candidate, seed 6 no candidate; seeds 1–3 are the hand example.
        Assert.Equal((3, 3), (c.N, c.Dropped));
        Assert.Equal(SeedStatistics.Compare(_handCandidate, _handBaseline) with { Dropped = 3 }, c);
    }

    [Fact]
    public void Compare_IdenticalArms_ZeroDifferenceAndUndefinedTest()
    {
        double[] arm = [0.91, 0.90, 0.93];
        var c = SeedStatistics.Compare(arm, arm);
        Assert.Equal(0.0, c.MeanDifference);
        Assert.Equal(0.0, c.SdDifference);
        Assert.Equal((0.0, 0.0), (c.Lower, c.Upper));
        // t = 0/0: undefined, and so is its p-value; no non-zero difference is left for Wilcoxon either.
        Assert.True(double.IsNaN(c.T));
        Assert.True(double.IsNaN(c.PValue));
        Assert.Equal(0, c.WilcoxonN);
        Assert.True(double.IsNaN(c.WilcoxonP));
    }

    [Fact]
    public void Compare_ConstantNonZeroShift_TestUndefinedNotInfinitelySignificant()
    {
        var c = SeedStatistics.Compare([1.5, 2.5, 3.5], [1.0, 2.0, 3.0]); // d = 0.5 exactly, three times
        Assert.Equal((0.5, 0.0), (c.MeanDifference, c.SdDifference));
        Assert.True(double.IsNaN(c.T) && double.IsNaN(c.PValue));
    }

    [Fact]
    public void Compare_OnePairOrNone_GivesNaNStatistics()
    {
        var one = SeedStatistics.Compare([0.9, double.NaN], [0.8, 0.85]);
        Assert.Equal((1, 1), (one.N, one.Dropped));
        Assert.Equal(0.1, one.MeanDifference, 1e-12);
        Assert.True(double.IsNaN(one.SdDifference) && double.IsNaN(one.Lower) && double.IsNaN(one.T));
        Assert.True(double.IsNaN(one.Df) && double.IsNaN(one.PValue));

        var none = SeedStatistics.Compare(
            new Dictionary<int, double> { [1] = 0.9 }, new Dictionary<int, double> { [2] = 0.8 });
        Assert.Equal((0, 2), (none.N, none.Dropped));
        Assert.True(double.IsNaN(none.MeanDifference) && double.IsNaN(none.CandidateMean));
    }

    [Fact]
    public void Compare_ListsOfDifferentLength_Throw() =>
        Assert.Throws<ArgumentException>(() => SeedStatistics.Compare([0.9, 0.8], [0.9]));

    // ---- Wilcoxon signed-rank, exact ---------------------------------------------------------------------------

    [Theory]
    [InlineData(new[] { 0.01, 0.02, 0.03 }, 0.25)]                     // 2 of 2³ assignments as extreme
    [InlineData(new[] { -0.01, -0.02, -0.03 }, 0.25)]
    [InlineData(new[] { 0.01, 0.02, 0.03, 0.04, 0.05 }, 0.0625)]       // 2/2⁵
    // d = +0.01, −0.02, +0.03, +0.04: ranks 1, 2, 3, 4; W+ = 1 + 3 + 4 = 8, E[W+] = 10/2 = 5, distance 3.
    // Of the 16 subsets of {1,2,3,4}, sums ≥ 8: {1,3,4} = 8, {2,3,4} = 9, {1,2,3,4} = 10; sums ≤ 2: {}, {1}, {2}.
    // p = 6/16 = 0.375 (scipy.stats.wilcoxon, exact: 2·P(W ≤ 2) = 2·3/16).
    [InlineData(new[] { 0.01, -0.02, 0.03, 0.04 }, 0.375)]
    // d = 1, 2, −3, 4, 5, 6: W+ = 21 − 3 = 18, E = 10.5, distance 7.5; subsets of {1..6} summing ≤ 3:
    // {}, {1}, {2}, {3}, {1,2} = 5, and by symmetry 5 summing ≥ 18; p = 10/64 = 0.15625.
    [InlineData(new[] { 1.0, 2.0, -3.0, 4.0, 5.0, 6.0 }, 0.15625)]
    // Ties: |d| = 0.5, 0.5, 1, 2 get ranks 1.5, 1.5, 3, 4; W+ = 1.5 + 3 + 4 = 8.5, E = 5, distance 3.5.
    // Sums ≤ 1.5: {}, {1.5a}, {1.5b}; ≥ 8.5: {1.5a,3,4}, {1.5b,3,4}, all; p = 6/16 = 0.375.
    [InlineData(new[] { -0.5, 0.5, 1.0, 2.0 }, 0.375)]
    // Zeros are dropped before ranking (zero_method "wilcox"): this is the n = 3 all-positive case.
    [InlineData(new[] { 0.0, 0.01, 0.0, 0.02, 0.03 }, 0.25)]
    // W+ = E exactly: every assignment is at least as extreme.
    [InlineData(new[] { 1.0, -1.0 }, 1.0)]
    public void WilcoxonExactP_MatchesEnumerationByHand(double[] differences, double expected) =>
        Assert.Equal(expected, SeedStatistics.WilcoxonExactP(differences), 1e-15);

    [Fact]
    public void WilcoxonExactP_ThreeSeeds_CanNeverReachSignificance()
    {
        // Every sign pattern of three distinct magnitudes: the smallest p is 0.25.
        double smallest = 1;
        for (int signs = 0; signs < 8; signs++)
        {
            double[] d = [(signs & 1) == 0 ? 1 : -1, (signs & 2) == 0 ? 2 : -2, (signs & 4) == 0 ? 3 : -3];
            smallest = Math.Min(smallest, SeedStatistics.WilcoxonExactP(d));
        }
        Assert.Equal(0.25, smallest);
    }

    [Fact]
    public void WilcoxonExactP_LimitsAndBadInput()
    {
        var twenty = Enumerable.Range(1, 20).Select(i => (double)i).ToArray();
        Assert.Equal(2.0 / (1 << 20), SeedStatistics.WilcoxonExactP(twenty));
        Assert.True(double.IsNaN(SeedStatistics.WilcoxonExactP([.. twenty, 21.0])));
        Assert.True(double.IsNaN(SeedStatistics.WilcoxonExactP([0.0, 0.0])));
        Assert.Throws<ArgumentException>(() => SeedStatistics.WilcoxonExactP([0.1, double.NaN]));
    }

    // ---- number formats of the conclusion -----------------------------------------------------------------------

    [Theory]
    [InlineData(0.31, "p = 0.31")]
    [InlineData(0.0456, "p = 0.046")]
    [InlineData(0.0996, "p = 0.10")]
    [InlineData(0.00123, "p = 0.0012")]
    [InlineData(0.001, "p = 0.0010")]
    [InlineData(0.000999, "p < 0.001")]
    [InlineData(1.0, "p = 1.0")]
    [InlineData(double.NaN, "p undefined")]
    public void PText_TwoSignificantDigits(double p, string expected) => Assert.Equal(expected, Conclusion.PText(p));

    [Theory]
    [InlineData(0.007, "+0.007")]
    [InlineData(-0.0104, "−0.010")]
    [InlineData(-0.0004, "0.000")]
    [InlineData(0.0, "0.000")]
    public void Signed_ThreeDecimalsWithSign(double v, string expected) => Assert.Equal(expected, Conclusion.Signed(v));
}
