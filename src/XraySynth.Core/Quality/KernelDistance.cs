using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// The kernel distance (KID when the features are Inception's; Bińkowski et al. 2018) as the official
/// <c>kid50k_full</c>: the unbiased estimate of the squared maximum mean discrepancy under the polynomial kernel
/// k(x, y) = (xᵀy / d + 1)³, averaged over <c>subsets</c> random subsets of m = min(N_gen, N_real, maxSubsetSize)
/// features drawn without replacement from each side. Unbiased: its expectation is 0 when both sets come from one
/// distribution, so small or slightly negative values mean "indistinguishable". Kernel sums are taken in float64.
/// </summary>
public static class KernelDistance
{
    /// <summary>Subsets in the official kid50k_full.</summary>
    public const int DefaultSubsets = 100;

    /// <summary>Subset size cap in the official kid50k_full.</summary>
    public const int DefaultMaxSubsetSize = 1000;

    /// <summary>KID between generated features [N, D] and real features [M, D]. Subsets come from a
    /// <see cref="Random"/> seeded with <paramref name="seed"/> (the official code uses numpy's global generator).</summary>
    public static double Compute(Tensor generated, Tensor real, int subsets = DefaultSubsets,
        int maxSubsetSize = DefaultMaxSubsetSize, int seed = 0, Device? device = null)
    {
        if (generated.dim() != 2 || real.dim() != 2 || generated.shape[1] != real.shape[1])
            throw new ArgumentException($"Expected features [N, D] and [M, D], got [{string.Join(", ", generated.shape)}] and [{string.Join(", ", real.shape)}].");
        if (subsets < 1) throw new ArgumentOutOfRangeException(nameof(subsets));
        int m = (int)Math.Min(Math.Min(generated.shape[0], real.shape[0]), maxSubsetSize);
        if (m < 2) throw new ArgumentException($"KID needs at least 2 features on each side, got {generated.shape[0]} and {real.shape[0]}.");
        device ??= CPU;
        double n = generated.shape[1];
        var rng = new Random(seed);
        double t = 0;
        for (int s = 0; s < subsets; s++)
        {
            using var scope = NewDisposeScope();
            var x = Subset(generated, m, rng).to(ScalarType.Float64, device);          // [m,D]
            var y = Subset(real, m, rng).to(ScalarType.Float64, device);               // [m,D]
            var a = (x.mm(x.t()) / n + 1).pow(3) + (y.mm(y.t()) / n + 1).pow(3);       // [m,m]
            var b = (x.mm(y.t()) / n + 1).pow(3);                                      // [m,m]
            double offDiagonal = (a.sum() - a.diagonal().sum()).item<double>();
            t += offDiagonal / (m - 1) - b.sum().item<double>() * 2 / m;
        }
        return t / subsets / m;
    }

    /// <summary>m rows drawn without replacement (a partial Fisher–Yates shuffle).</summary>
    private static Tensor Subset(Tensor features, int m, Random rng)
    {
        int n = (int)features.shape[0];
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < m; i++)
        {
            int j = rng.Next(i, n);
            (order[i], order[j]) = (order[j], order[i]);
        }
        using var index = tensor(order.AsSpan(0, m).ToArray().Select(v => (long)v).ToArray());
        return features.index_select(0, index);
    }
}
