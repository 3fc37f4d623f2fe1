using TorchSharp;
using XraySynth.Quality;
using static TorchSharp.torch;

namespace XraySynth.Tests.Quality;

public class KernelDistanceTests
{
    private static Tensor Sample(int n, int d, ulong seed, double shift = 0)
    {
        using var g = new torch.Generator(seed);
        return randn([n, d], generator: g) + shift;
    }

    /// <summary>The biased (V-statistic) MMD² with the same kernel: it keeps the diagonal terms k(x, x).</summary>
    private static double BiasedMmd(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var a = x.to(ScalarType.Float64);
        var b = y.to(ScalarType.Float64);
        double d = a.shape[1];
        Tensor K(Tensor p, Tensor q) => (p.mm(q.t()) / d + 1).pow(3);
        return (K(a, a).mean() + K(b, b).mean() - 2 * K(a, b).mean()).item<double>();
    }

    [Fact]
    public void Compute_SameDistribution_AveragesToZero_WhereTheBiasedEstimateDoesNot()
    {
        const int reps = 40;
        var kid = new double[reps];
        var biased = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            using var x = Sample(64, 8, (ulong)(2 * r + 1));
            using var y = Sample(64, 8, (ulong)(2 * r + 2));
            kid[r] = KernelDistance.Compute(x, y, subsets: 1, seed: r);
            biased[r] = BiasedMmd(x, y);
        }
        double mean = kid.Average();
        double se = Math.Sqrt(kid.Select(v => (v - mean) * (v - mean)).Sum() / (reps - 1) / reps);
        Assert.True(Math.Abs(mean) < 3 * se, $"unbiased mean {mean} vs standard error {se}");
        Assert.True(biased.Average() > 10 * se, $"biased mean {biased.Average()} should stand out from {se}");
        Assert.Contains(kid, v => v < 0);    // unbiased: a single estimate can fall below zero
    }

    [Fact]
    public void Compute_DifferentDistributions_IsClearlyPositive()
    {
        using var x = Sample(200, 8, 1);
        using var same = Sample(200, 8, 2);
        using var shifted = Sample(200, 8, 3, shift: 1.0);
        double zero = Math.Abs(KernelDistance.Compute(x, same, subsets: 20, maxSubsetSize: 100));
        double apart = KernelDistance.Compute(shifted, x, subsets: 20, maxSubsetSize: 100);
        Assert.True(apart > 20 * zero, $"shifted {apart} vs same {zero}");
    }

    [Fact]
    public void Compute_OneSubsetOfEverything_MatchesTheUnbiasedMmdDefinition()
    {
        using var x = Sample(9, 5, 4);
        using var y = Sample(9, 5, 5, shift: 0.3);
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        var ys = y.to(ScalarType.Float64).data<double>().ToArray();
        double K(double[] p, int i, double[] q, int j)
        {
            double dot = 0;
            for (int k = 0; k < 5; k++) dot += p[i * 5 + k] * q[j * 5 + k];
            return Math.Pow(dot / 5 + 1, 3);
        }
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j++)
            {
                if (i != j)
                {
                    xx += K(xs, i, xs, j);
                    yy += K(ys, i, ys, j);
                }
                xy += K(xs, i, ys, j);
            }
        double expected = (xx + yy) / (9 * 8) - 2 * xy / (9 * 9);
        // With m = N every subset is a permutation of everything: the estimate does not depend on the draw.
        Assert.Equal(expected, KernelDistance.Compute(x, y, subsets: 3, seed: 11), 9);
    }
}
