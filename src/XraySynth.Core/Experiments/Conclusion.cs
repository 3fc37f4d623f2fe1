using System.Globalization;

namespace XraySynth.Experiments;

/// <summary>What a paired comparison supports.</summary>
public enum ComparisonVerdict
{
    /// <summary>p &lt; alpha and the interval excludes 0, in the better direction.</summary>
    SignificantImprovement,
    /// <summary>p &lt; alpha and the interval excludes 0, in the worse direction.</summary>
    SignificantDecline,
    /// <summary>A test was possible and did not reach significance (which is not evidence of no effect).</summary>
    NoSignificantDifference,
    /// <summary>No test was possible: fewer than 2 pairs, or differences without spread (identical arms).</summary>
    Untestable,
}

/// <summary>Turns a <see cref="PairedComparison"/> into one short, honest sentence for the report, e.g.
/// "AUROC 0.912 vs 0.905 baseline: +0.007 (95% CI −0.010 to +0.024), paired t-test p = 0.31 over n = 3 seeds:
/// no significant difference; too few seeds for a reliable test."
/// <para>Significance is claimed only when the paired t-test gives p &lt; alpha <b>and</b> the t interval
/// excludes 0; below <see cref="MinReliableSeeds"/> seeds a caveat is appended whatever the result. Numbers use the
/// invariant culture: metrics and differences with 3 decimals (differences signed, with the Unicode minus sign
/// U+2212), p with 2 significant digits, "p &lt; 0.001" below 0.001.</para></summary>
public static class Conclusion
{
    /// <summary>Fewer seeds than this get the caveat "too few seeds for a reliable test".</summary>
    public const int MinReliableSeeds = 5;

    private const string _minus = "\u2212";
    private const string _caveat = "too few seeds for a reliable test";

    /// <summary>The verdict of a comparison at level alpha. <paramref name="higherIsBetter"/> is false for metrics
    /// such as the Brier score, where a decrease is the improvement.</summary>
    /// <exception cref="ArgumentOutOfRangeException">alpha not in (0, 1).</exception>
    public static ComparisonVerdict Judge(PairedComparison comparison, double alpha = 0.05, bool higherIsBetter = true)
    {
        if (!(alpha > 0 && alpha < 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1).");
        var c = comparison;
        if (double.IsNaN(c.PValue)) return ComparisonVerdict.Untestable;
        bool intervalExcludesZero = c.Lower > 0 || c.Upper < 0;
        if (!(c.PValue < alpha && intervalExcludesZero)) return ComparisonVerdict.NoSignificantDifference;
        return (c.MeanDifference > 0) == higherIsBetter
            ? ComparisonVerdict.SignificantImprovement
            : ComparisonVerdict.SignificantDecline;
    }

    /// <summary>One sentence on a comparison of <paramref name="metric"/> (its display name, e.g. "AUROC").</summary>
    /// <exception cref="ArgumentOutOfRangeException">alpha not in (0, 1).</exception>
    public static string Sentence(string metric, PairedComparison comparison, double alpha = 0.05,
        bool higherIsBetter = true)
    {
        var c = comparison;
        var verdict = Judge(c, alpha, higherIsBetter);
        if (c.N == 0) return $"{metric}: no seed has a value in both arms, so there is nothing to compare.";

        string head = $"{metric} {Value(c.CandidateMean)} vs {Value(c.BaselineMean)} baseline";
        if (c.N == 1) return $"{head}: {Signed(c.MeanDifference)} from a single seed: no test is possible.";

        string caveat = c.N < MinReliableSeeds ? "; " + _caveat : "";
        if (verdict == ComparisonVerdict.Untestable)
        {
            string what = c.SdDifference != 0
                ? $"{Signed(c.MeanDifference)} over n = {c.N} seeds: the paired t-test is undefined"
                : c.MeanDifference == 0
                    ? $"identical on all n = {c.N} seeds: no difference"
                    : $"{Signed(c.MeanDifference)} on every one of n = {c.N} seeds: the paired t-test is undefined " +
                      "(no spread in the differences)";
            return $"{head}: {what}{caveat}.";
        }

        string level = (c.Confidence * 100).ToString("0.#", CultureInfo.InvariantCulture);
        string outcome = verdict switch
        {
            ComparisonVerdict.SignificantImprovement => "significant improvement",
            ComparisonVerdict.SignificantDecline => "significant decline",
            _ => "no significant difference",
        };
        return $"{head}: {Signed(c.MeanDifference)} ({level}% CI {Signed(c.Lower)} to {Signed(c.Upper)}), " +
               $"paired t-test {PText(c.PValue)} over n = {c.N} seeds: {outcome}{caveat}.";
    }

    /// <summary>A metric value with 3 decimals ("0.912", "−0.250").</summary>
    public static string Value(double v)
    {
        if (double.IsNaN(v)) return "undefined";
        string s = Math.Abs(v).ToString("0.000", CultureInfo.InvariantCulture);
        return v < 0 && s != "0.000" ? _minus + s : s;
    }

    /// <summary>A difference with 3 decimals and its sign ("+0.007", "−0.010"; "0.000" when it rounds to 0).</summary>
    public static string Signed(double v)
    {
        if (double.IsNaN(v)) return "undefined";
        string s = Math.Abs(v).ToString("0.000", CultureInfo.InvariantCulture);
        if (s == "0.000") return s;
        return (v < 0 ? _minus : "+") + s;
    }

    /// <summary>"p = 0.31", "p = 0.046", "p = 0.0012", "p = 1.0", or "p &lt; 0.001": two significant digits.</summary>
    public static string PText(double p)
    {
        if (double.IsNaN(p)) return "p undefined";
        if (p < 0.001) return "p < 0.001";
        // Decimals for 2 significant digits, recomputed after rounding (0.0996 rounds to 0.10, not 0.100).
        int decimals = 1 - (int)Math.Floor(Math.Log10(p));
        double rounded = Math.Round(p, decimals, MidpointRounding.AwayFromZero);
        if (rounded >= Math.Pow(10, 2 - decimals)) decimals--; // 10^(e+1), the next decade
        decimals = Math.Max(decimals, 1);
        return "p = " + p.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }
}
