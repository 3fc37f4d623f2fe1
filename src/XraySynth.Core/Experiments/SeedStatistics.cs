using XraySynth.Runtime;
using XraySynth.Statistics;

namespace XraySynth.Experiments;

/// <summary>One arm's per-seed values of one metric: mean and a t confidence interval of the mean.</summary>
/// <param name="N">Values used (NaN values excluded).</param>
/// <param name="Excluded">NaN values left out (a seed whose metric was undefined or missing).</param>
/// <param name="Mean">Mean of the values; NaN when N = 0.</param>
/// <param name="Sd">Sample standard deviation (n − 1 denominator); NaN when N &lt; 2.</param>
/// <param name="StandardError">Sd / √N; NaN when N &lt; 2.</param>
/// <param name="Lower">Mean − t_{(1+c)/2, N−1} · StandardError; NaN when N &lt; 2.</param>
/// <param name="Upper">Mean + t_{(1+c)/2, N−1} · StandardError; NaN when N &lt; 2.</param>
/// <param name="Confidence">Coverage c of the interval (0.95 by default).</param>
public sealed record Summary(
    int N, int Excluded, double Mean, double Sd, double StandardError, double Lower, double Upper, double Confidence);

/// <summary>A candidate arm against the baseline arm, paired by seed (each seed trained in both arms), for one
/// metric. Differences are candidate − baseline.</summary>
/// <param name="N">Pairs used: seeds with a non-NaN value in both arms.</param>
/// <param name="Dropped">Seeds left out because one side was missing or NaN.</param>
/// <param name="CandidateMean">Candidate's mean over the N paired seeds.</param>
/// <param name="BaselineMean">Baseline's mean over the N paired seeds.</param>
/// <param name="MeanDifference">Mean of the differences (= CandidateMean − BaselineMean); NaN when N = 0.</param>
/// <param name="SdDifference">Sample standard deviation of the differences (n − 1); NaN when N &lt; 2.</param>
/// <param name="StandardError">SdDifference / √N; NaN when N &lt; 2.</param>
/// <param name="Lower">Lower end of the t interval of the mean difference; NaN when N &lt; 2.</param>
/// <param name="Upper">Upper end of the t interval of the mean difference; NaN when N &lt; 2.</param>
/// <param name="Confidence">Coverage of the interval (0.95 by default).</param>
/// <param name="T">Paired t statistic MeanDifference / StandardError; NaN when N &lt; 2 or when the differences
/// have no spread (SdDifference = 0, e.g. identical arms): the test is undefined, not "infinitely significant".</param>
/// <param name="Df">Degrees of freedom N − 1; NaN when N &lt; 2.</param>
/// <param name="PValue">Two-sided p-value of the paired t-test; NaN whenever T is.</param>
/// <param name="WilcoxonN">Non-zero differences that entered the Wilcoxon signed-rank test.</param>
/// <param name="WilcoxonP">Exact two-sided Wilcoxon signed-rank p-value (see
/// <see cref="SeedStatistics.WilcoxonExactP"/>); NaN when WilcoxonN = 0 or WilcoxonN &gt; 20.</param>
public sealed record PairedComparison(
    int N, int Dropped, double CandidateMean, double BaselineMean,
    double MeanDifference, double SdDifference, double StandardError, double Lower, double Upper, double Confidence,
    double T, double Df, double PValue, int WilcoxonN, double WilcoxonP);

/// <summary>Statistics over training seeds for the experiment report: each arm is trained with a few seeds
/// (typically 3–5), so every interval and test uses the t distribution with n − 1 degrees of freedom, and the
/// comparison with the baseline is paired by seed. With so few seeds these tests have little power: a
/// non-significant result is not evidence of no effect (see <see cref="Conclusion"/>).</summary>
public static class SeedStatistics
{
    /// <summary>Largest number of non-zero differences for which the exact Wilcoxon p-value is enumerated
    /// (2^20 ≈ 10⁶ sign assignments).</summary>
    public const int MaxWilcoxonN = 20;

    /// <summary>Mean, sample sd, standard error and t interval of the mean of per-seed values. NaN values are
    /// excluded and counted; with one value left sd, standard error and interval are NaN; with none, the mean too.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">confidence not in (0, 1).</exception>
    public static Summary Summarize(IEnumerable<double> values, double confidence = 0.95)
    {
        CheckConfidence(confidence);
        var kept = new List<double>();
        int excluded = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) excluded++;
            else kept.Add(v);
        }
        var m = Moments.Of(kept, confidence);
        return new Summary(kept.Count, excluded, m.Mean, m.Sd, m.StandardError, m.Lower, m.Upper, confidence);
    }

    /// <summary>Candidate vs baseline paired by seed (the dictionaries' keys). A seed present in only one arm, or
    /// NaN in either, is dropped and counted in <see cref="PairedComparison.Dropped"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">confidence not in (0, 1).</exception>
    public static PairedComparison Compare(IReadOnlyDictionary<int, double> candidate,
        IReadOnlyDictionary<int, double> baseline, double confidence = 0.95)
    {
        var seeds = candidate.Keys.Union(baseline.Keys).Order().ToList();
        var pairs = new List<(double Candidate, double Baseline)>();
        foreach (int seed in seeds)
        {
            if (candidate.TryGetValue(seed, out double c) && baseline.TryGetValue(seed, out double b))
                pairs.Add((c, b));
            else
                pairs.Add((double.NaN, double.NaN));
        }
        return Compare(pairs, confidence);
    }

    /// <summary>Candidate vs baseline where pair i is (candidate[i], baseline[i]), e.g. both ordered by seed.
    /// A pair with a NaN side is dropped and counted.</summary>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">confidence not in (0, 1).</exception>
    public static PairedComparison Compare(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline,
        double confidence = 0.95)
    {
        if (candidate.Count != baseline.Count)
            throw new ArgumentException(
                $"{candidate.Count} candidate values but {baseline.Count} baseline values: pairs need one of each.",
                nameof(baseline));
        return Compare(candidate.Zip(baseline).Select(p => (p.First, p.Second)).ToList(), confidence);
    }

    private static PairedComparison Compare(IReadOnlyList<(double Candidate, double Baseline)> pairs,
        double confidence)
    {
        CheckConfidence(confidence);
        var kept = pairs.Where(p => !double.IsNaN(p.Candidate) && !double.IsNaN(p.Baseline)).ToList();
        int n = kept.Count;
        var differences = kept.Select(p => p.Candidate - p.Baseline).ToList();
        var m = Moments.Of(differences, confidence);

        // Paired t-test on the differences. Zero spread makes t 0/0 (identical arms) or ±x/0: report undefined.
        double t = n >= 2 && m.Sd > 0 ? m.Mean / m.StandardError : double.NaN;
        double df = n >= 2 ? n - 1 : double.NaN;
        double p = double.IsNaN(t) ? double.NaN : StudentT.TwoSidedP(t, df);

        int wilcoxonN = differences.Count(d => d != 0);
        double wilcoxonP = WilcoxonExactP(differences);

        return new PairedComparison(
            n, pairs.Count - n,
            n > 0 ? kept.Average(x => x.Candidate) : double.NaN,
            n > 0 ? kept.Average(x => x.Baseline) : double.NaN,
            m.Mean, m.Sd, m.StandardError, m.Lower, m.Upper, confidence,
            t, df, p, wilcoxonN, wilcoxonP);
    }

    /// <summary>Exact two-sided p-value of the Wilcoxon signed-rank test of "differences symmetric about 0".
    /// Zero differences are dropped before ranking (scipy's zero_method = "wilcox"); tied |differences| get their
    /// average rank (ties are exact equality of doubles). The p-value is the share of the 2^n equally likely
    /// sign assignments whose positive-rank sum W+ is at least as far from its mean n(n+1)/4 as the observed one,
    /// found by enumerating them all — so it is exact also with ties, and equals scipy's exact p without ties.
    /// <para>The test is discrete and cannot reach small p with few pairs: the smallest attainable two-sided p is
    /// 2/2^n — 0.25 for n = 3, 0.125 for n = 4, 0.0625 for n = 5 — so with 3 (or 5) seeds a report can never claim
    /// significance at 0.05 from this test, whatever the data.</para></summary>
    /// <returns>The p-value; NaN when no difference is non-zero or more than <see cref="MaxWilcoxonN"/> are.</returns>
    /// <exception cref="ArgumentException">A difference is NaN.</exception>
    public static double WilcoxonExactP(IEnumerable<double> differences)
    {
        var nonZero = new List<double>();
        foreach (double d in differences)
        {
            if (double.IsNaN(d))
                throw new ArgumentException("a difference is NaN: drop the pair first.", nameof(differences));
            if (d != 0) nonZero.Add(d);
        }
        int n = nonZero.Count;
        if (n == 0 || n > MaxWilcoxonN) return double.NaN;

        // Doubled average ranks of |d| are integers, so every comparison below is exact.
        var order = Enumerable.Range(0, n).OrderBy(i => Math.Abs(nonZero[i])).ToArray();
        var rank2 = new long[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && Math.Abs(nonZero[order[end + 1]]) == Math.Abs(nonZero[order[start]])) end++;
            long doubledAverage = start + 1 + end + 1; // 2 · (first rank + last rank) / 2
            for (int k = start; k <= end; k++) rank2[order[k]] = doubledAverage;
            start = end + 1;
        }

        long total2 = rank2.Sum();
        long observed2 = 0;
        for (int i = 0; i < n; i++) if (nonZero[i] > 0) observed2 += rank2[i];
        long observedDistance = Math.Abs(2 * observed2 - total2); // 2·|W+ − E[W+]|, doubled again

        long atLeastAsExtreme = 0;
        long assignments = 1L << n;
        for (long mask = 0; mask < assignments; mask++)
        {
            long sum2 = 0;
            for (int i = 0; i < n; i++) if ((mask & (1L << i)) != 0) sum2 += rank2[i];
            if (Math.Abs(2 * sum2 - total2) >= observedDistance) atLeastAsExtreme++;
        }
        return (double)atLeastAsExtreme / assignments;
    }

    private static void CheckConfidence(double confidence)
    {
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
    }

    /// <summary>Mean, sample sd, standard error and t interval of a NaN-free sample.</summary>
    private readonly record struct Moments(double Mean, double Sd, double StandardError, double Lower, double Upper)
    {
        public static Moments Of(IReadOnlyList<double> x, double confidence)
        {
            int n = x.Count;
            if (n == 0) return new Moments(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
            double mean = x.Average();
            if (n == 1) return new Moments(mean, double.NaN, double.NaN, double.NaN, double.NaN);

            double sumSquares = 0;
            foreach (double v in x) sumSquares += (v - mean) * (v - mean);
            double sd = Math.Sqrt(sumSquares / (n - 1));
            double se = sd / Math.Sqrt(n);
            double halfWidth = StudentT.Quantile((1 + confidence) / 2, n - 1) * se;
            return new Moments(mean, sd, se, mean - halfWidth, mean + halfWidth);
        }
    }
}
