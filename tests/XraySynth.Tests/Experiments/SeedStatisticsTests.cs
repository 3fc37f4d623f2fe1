using XraySynth.Experiments;

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
}
