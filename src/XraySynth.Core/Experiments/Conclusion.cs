using XraySynth.Runtime;
using System.Globalization;

namespace XraySynth.Experiments;

/// <summary>What a comparison with the baseline supports.</summary>
public enum ComparisonVerdict
{
    /// <summary>No seed has a value in both arms.</summary>
    NoData,
    /// <summary>Fewer than <see cref="ExperimentStatistics.MinSeeds"/> paired seeds: no test, no verdict.</summary>
    Underpowered,
    /// <summary>Every seed gave the same difference: reported as it is, without a p-value.</summary>
    IdenticalDifferences,
    /// <summary>A test was made and did not reach significance (which is not evidence of no effect).</summary>
    NoSignificantDifference,
    /// <summary>p &lt; alpha, in the better direction.</summary>
    SignificantlyBetter,
    /// <summary>p &lt; alpha, in the worse direction.</summary>
    SignificantlyWorse,
}

/// <summary>Turns an <see cref="ArmComparison"/> into plain words for the report, e.g. "AUROC 0.912 vs 0.905:
/// +0.007 (95% CI −0.010 to +0.024), Holm-adjusted p = 0.31 over 3 seeds: no significant difference; differences
/// within ±0.017 could not be told from 0." Numbers use the invariant culture: metrics and differences with 3
/// decimals (differences signed, with the Unicode minus sign U+2212), p with 2 significant digits, "p &lt; 0.001"
/// below 0.001.</summary>
public static class Conclusion
{
    private const string _minus = "\u2212";

    /// <summary>The verdict at level alpha, judged on <paramref name="p"/> (the comparison's own p-value, or its
    /// Holm-adjusted one for a primary comparison). <paramref name="higherIsBetter"/> is false for metrics such as
    /// the Brier score.</summary>
    /// <exception cref="ArgumentOutOfRangeException">alpha not in (0, 1).</exception>
    public static ComparisonVerdict Judge(ArmComparison c, double p, double alpha = 0.05, bool higherIsBetter = true)
    {
        if (!(alpha > 0 && alpha < 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1).");
        if (c.N == 0) return ComparisonVerdict.NoData;
        if (c.N < ExperimentStatistics.MinSeeds) return ComparisonVerdict.Underpowered;
        if (c.IdenticalDifferences) return ComparisonVerdict.IdenticalDifferences;
        if (double.IsNaN(p) || !(p < alpha)) return ComparisonVerdict.NoSignificantDifference;
        return (c.Difference > 0) == higherIsBetter ? ComparisonVerdict.SignificantlyBetter : ComparisonVerdict.SignificantlyWorse;
    }

    /// <summary>The verdict in plain words, as the report prints it.</summary>
    public static string Words(ComparisonVerdict verdict) => verdict switch
    {
        ComparisonVerdict.NoData => "no data: no seed has a value in both arms",
        ComparisonVerdict.Underpowered => $"underpowered: fewer than {ExperimentStatistics.MinSeeds} paired seeds, no test",
        ComparisonVerdict.IdenticalDifferences => "the same difference on every seed: no test",
        ComparisonVerdict.NoSignificantDifference => "no significant difference",
        ComparisonVerdict.SignificantlyBetter => "significantly better",
        ComparisonVerdict.SignificantlyWorse => "significantly worse",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };

    /// <summary>One sentence on a comparison of <paramref name="metric"/> (its display name, e.g. "AUROC"), judged on
    /// <paramref name="p"/>; <paramref name="pLabel"/> names that p ("p", "Holm-adjusted p").</summary>
    public static string Sentence(string metric, ArmComparison c, double p, string pLabel = "p", double alpha = 0.05,
        bool higherIsBetter = true, double confidence = 0.95)
    {
        var verdict = Judge(c, p, alpha, higherIsBetter);
        if (verdict == ComparisonVerdict.NoData) return $"{metric}: {Words(verdict)}.";
        string head = $"{metric} {Value(c.CandidateMean)} vs {Value(c.BaselineMean)} baseline";
        string seeds = c.N == 1 ? "1 seed" : $"{c.N} seeds";
        string level = (confidence * 100).ToString("0.#", CultureInfo.InvariantCulture);
        string ci = double.IsNaN(c.Lower) ? "" : $" ({level}% CI {Signed(c.Lower)} to {Signed(c.Upper)})";
        return verdict switch
        {
            ComparisonVerdict.Underpowered => $"{head}: {Signed(c.Difference)}{ci} over {seeds}: {Words(verdict)}.",
            ComparisonVerdict.IdenticalDifferences =>
                $"{head}: {Signed(c.Difference)} on every one of the {seeds}{ci}; no spread between seeds, so no p-value.",
            _ => $"{head}: {Signed(c.Difference)}{ci}, {PText(p).Replace("p ", pLabel + " ", StringComparison.Ordinal)} over {seeds}: " +
                 $"{Words(verdict)}; differences within ±{Math.Abs(c.HalfWidth).ToString("0.000", CultureInfo.InvariantCulture)} " +
                 "could not be told from 0.",
        };
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
