namespace XraySynth.Experiments;

/// <summary>Holm's step-down correction for multiple comparisons (Holm 1979): controls the family-wise error rate
/// like Bonferroni, and is uniformly more powerful. With the m p-values sorted ascending, p₍ᵢ₎ becomes
/// max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎) — the adjusted p-values of R's <c>p.adjust(method = "holm")</c>.</summary>
public static class Holm
{
    /// <summary>Holm-adjusted p-values, in the input order. NaN entries (comparisons without a test) are left NaN and
    /// do not count in m: only the tests actually made form the family.</summary>
    /// <exception cref="ArgumentException">A p-value outside [0, 1].</exception>
    public static double[] Adjust(IReadOnlyList<double> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        foreach (var v in p)
            if (!double.IsNaN(v) && !(v >= 0 && v <= 1))
                throw new ArgumentException($"p-value {v} is not in [0, 1].", nameof(p));
        var tested = Enumerable.Range(0, p.Count).Where(i => !double.IsNaN(p[i])).OrderBy(i => p[i]).ToList();
        var adjusted = Enumerable.Repeat(double.NaN, p.Count).ToArray();
        int m = tested.Count;
        double running = 0;
        for (int rank = 0; rank < m; rank++)
        {
            int i = tested[rank];
            running = Math.Max(running, Math.Min(1, (m - rank) * p[i]));
            adjusted[i] = running;
        }
        return adjusted;
    }
}
