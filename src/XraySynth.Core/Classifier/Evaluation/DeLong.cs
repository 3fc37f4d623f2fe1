using XraySynth.Runtime;
using XraySynth.Statistics;

namespace XraySynth.Classifier.Evaluation;

/// <summary>DeLong's paired test of two AUROCs on the same cases.</summary>
/// <param name="AucA">AUROC of the first scores.</param>
/// <param name="AucB">AUROC of the second scores.</param>
/// <param name="VarianceA">DeLong variance of AucA.</param>
/// <param name="VarianceB">DeLong variance of AucB.</param>
/// <param name="Covariance">DeLong covariance of AucA and AucB (the same cases scored twice).</param>
/// <param name="Z">(AucA − AucB) / √(VarA + VarB − 2·Cov); NaN when that variance is 0.</param>
/// <param name="P">Two-sided p-value of Z against the standard normal; NaN when Z is.</param>
public sealed record DeLongTest(double AucA, double AucB, double VarianceA, double VarianceB, double Covariance, double Z, double P)
{
    /// <summary>AucA − AucB.</summary>
    public double Difference => AucA - AucB;

    /// <summary>Variance of the difference: VarA + VarB − 2·Cov.</summary>
    public double DifferenceVariance => VarianceA + VarianceB - 2 * Covariance;
}

/// <summary>DeLong, DeLong &amp; Clarke-Pearson (1988), "Comparing the areas under two or more correlated receiver
/// operating characteristic curves: a nonparametric approach", Biometrics 44:837–845: the AUROCs of k score sets on
/// the same cases and their covariance matrix from the structural components (placement values)
/// V10(Xᵢ) = mean over negatives of ψ(Xᵢ, Y) and V01(Yⱼ) = mean over positives of ψ(X, Yⱼ), ψ = 1 if the positive
/// scores higher, ½ on a tie, 0 otherwise: S = S10/m + S01/n with S10, S01 the sample covariance matrices (m − 1 and
/// n − 1 denominators) of the components over the m positives and n negatives. Components come from midranks
/// (Sun &amp; Xu 2014, "Fast implementation of DeLong's algorithm"), O(k·N log N). This is what pROC's
/// <c>roc.test(method = "delong")</c> and <c>var(roc)</c> compute.</summary>
public static class DeLong
{
    /// <summary>AUROC of every score set and their DeLong covariance matrix. Each score set holds one score per case,
    /// in the order of <paramref name="labels"/> (0 normal, 1 abnormal).</summary>
    /// <exception cref="ArgumentException">No score set, lengths that differ, a label not 0/1, a non-finite score,
    /// or fewer than 2 cases of a class (the covariance needs 2).</exception>
    public static (double[] Auc, double[,] Covariance) Covariance(IReadOnlyList<int> labels, IReadOnlyList<IReadOnlyList<double>> scores)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count == 0) throw new ArgumentException("DeLong: no score set.", nameof(scores));
        var positives = new List<int>();
        var negatives = new List<int>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] == 1) positives.Add(i);
            else if (labels[i] == 0) negatives.Add(i);
            else throw new ArgumentException($"DeLong: label {labels[i]} at index {i}; labels are 0 or 1.", nameof(labels));
        }
        int m = positives.Count, n = negatives.Count;
        if (m < 2 || n < 2)
            throw new ArgumentException($"DeLong: {m} abnormal and {n} normal cases; the variance needs at least 2 of each.", nameof(labels));

        int k = scores.Count;
        var v10 = new double[k][];
        var v01 = new double[k][];
        var auc = new double[k];
        for (int r = 0; r < k; r++)
        {
            var s = scores[r];
            if (s.Count != labels.Count)
                throw new ArgumentException($"DeLong: score set {r} has {s.Count} scores for {labels.Count} labels.", nameof(scores));
            var x = positives.Select(i => Finite(s[i], i)).ToArray();
            var y = negatives.Select(j => Finite(s[j], j)).ToArray();
            var rx = MidRanks(x);
            var ry = MidRanks(y);
            var rxy = MidRanks([.. x, .. y]);
            // V10(Xᵢ) = (rank of Xᵢ among all − rank among positives) / n: the negatives it beats (ties ½).
            v10[r] = [.. Enumerable.Range(0, m).Select(i => (rxy[i] - rx[i]) / n)];
            // V01(Yⱼ) = 1 − (rank of Yⱼ among all − rank among negatives) / m: the positives that beat it.
            v01[r] = [.. Enumerable.Range(0, n).Select(j => 1 - (rxy[m + j] - ry[j]) / m)];
            auc[r] = v10[r].Average();
        }

        var cov = new double[k, k];
        for (int a = 0; a < k; a++)
            for (int b = a; b < k; b++)
                cov[a, b] = cov[b, a] = SampleCovariance(v10[a], v10[b]) / m + SampleCovariance(v01[a], v01[b]) / n;
        return (auc, cov);
    }

    /// <summary>DeLong's test of "equal AUROC" for two score sets on the same cases (the pROC default for paired ROC
    /// curves).</summary>
    public static DeLongTest Paired(IReadOnlyList<int> labels, IReadOnlyList<double> scoresA, IReadOnlyList<double> scoresB)
    {
        var (auc, cov) = Covariance(labels, [scoresA, scoresB]);
        double variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1];
        double z = variance > 0 ? (auc[0] - auc[1]) / Math.Sqrt(variance) : double.NaN;
        return new DeLongTest(auc[0], auc[1], cov[0, 0], cov[1, 1], cov[0, 1], z, StandardNormalTwoSidedP(z));
    }

    /// <summary>P(|Z| ≥ |z|) for a standard normal Z, as the limit of Student's t (df = 10⁸, within 1e-8).</summary>
    public static double StandardNormalTwoSidedP(double z) =>
        double.IsNaN(z) ? double.NaN : StudentT.TwoSidedP(z, 1e8);

    /// <summary>1-based ranks, ties given their average rank.</summary>
    internal static double[] MidRanks(double[] values)
    {
        int n = values.Length;
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && values[order[end + 1]] == values[order[start]]) end++;
            double mid = (start + end) / 2.0 + 1;
            for (int i = start; i <= end; i++) ranks[order[i]] = mid;
            start = end + 1;
        }
        return ranks;
    }

    private static double SampleCovariance(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - ma) * (b[i] - mb);
        return sum / (a.Length - 1);
    }

    private static double Finite(double v, int index) => double.IsFinite(v) ? v
        : throw new ArgumentException($"DeLong: score {v} at index {index} is not a finite number.");
}
