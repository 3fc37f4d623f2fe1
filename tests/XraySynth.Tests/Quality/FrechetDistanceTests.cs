using TorchSharp;
using XraySynth.Quality;
using static TorchSharp.torch;

namespace XraySynth.Tests.Quality;

public class FrechetDistanceTests
{
    /// <summary>A random symmetric positive definite matrix A Aᵀ + εI, float64.</summary>
    private static Tensor RandomSpd(int d, ulong seed, double eps = 0.1)
    {
        using var g = new torch.Generator(seed);
        using var a = randn([d, d], ScalarType.Float64, generator: g);
        return a.mm(a.t()) / d + eps * eye(d, dtype: ScalarType.Float64);
    }

    private static Tensor RandomVector(int d, ulong seed, double scale = 1)
    {
        using var g = new torch.Generator(seed);
        return randn([d], ScalarType.Float64, generator: g) * scale;
    }

    [Fact]
    public void Compute_IdenticalStatistics_IsZero()
    {
        using var mu = RandomVector(40, 1, scale: 5);
        using var sigma = RandomSpd(40, 2);
        double fd = FrechetDistance.Compute(mu, sigma, mu, sigma);
        Assert.InRange(fd, 0, 1e-9 * sigma.trace().item<double>());
    }

    [Fact]
    public void Compute_DiagonalCovariances_MatchesClosedForm()
    {
        // FD = |μ1 − μ2|² + Σ (σ1 + σ2 − 2 √(σ1 σ2)) for diagonal covariances with variances σ.
        double[] mu1 = [0.5, -1, 2, 0, 3], mu2 = [1.5, -1, 0, 0.25, 3];
        double[] var1 = [1, 4, 0.25, 9, 2], var2 = [4, 1, 0.25, 1, 0];
        double expected = 0;
        for (int i = 0; i < mu1.Length; i++)
            expected += Math.Pow(mu1[i] - mu2[i], 2) + var1[i] + var2[i] - 2 * Math.Sqrt(var1[i] * var2[i]);
        double fd = FrechetDistance.Compute(tensor(mu1), diag(tensor(var1)), tensor(mu2), diag(tensor(var2)));
        Assert.Equal(expected, fd, 10);
    }

    [Fact]
    public void Compute_FullCovariances_AgreesWithEigenvaluesOfTheProduct()
    {
        // Independent route: tr (Σ1Σ2)^½ = Σ √λ(Σ1Σ2), the eigenvalues of the non-symmetric product (real, ≥ 0).
        using var s1 = RandomSpd(30, 3);
        using var s2 = RandomSpd(30, 4);
        using var mu1 = RandomVector(30, 5);
        using var mu2 = RandomVector(30, 6);
        using var eigenvalues = linalg.eigvals(s1.mm(s2));
        double traceSqrt = eigenvalues.real.clamp_min(0).sqrt().sum().item<double>();
        double expected = (mu1 - mu2).square().sum().item<double>() + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceSqrt;
        Assert.Equal(expected, FrechetDistance.Compute(mu1, s1, mu2, s2), 8);
        Assert.Equal(traceSqrt, FrechetDistance.TraceSqrtProduct(s1, s2), 8);
    }

    [Fact]
    public void Compute_FewSamplesInManyDimensions_SingularCovariances_StaysExact()
    {
        // 6 samples in 50 dimensions: rank-5 covariances. A pure shift of the same samples moves only the mean term.
        using var g = new torch.Generator(7);
        using var x = randn([6, 50], ScalarType.Float64, generator: g);
        using var shift = full(50, 0.5, ScalarType.Float64);
        using var a = FeatureMoments.Of(x);
        using var b = FeatureMoments.Of(x + shift);
        Assert.Equal(50 * 0.25, FrechetDistance.Compute(a, b), 6);
        Assert.InRange(FrechetDistance.Compute(a, a), 0, 1e-9);
    }

    [Fact]
    public void Accumulator_StreamedInBatches_GivesTheOneShotMeanAndPopulationCovariance()
    {
        // Large offsets (1e4) would lose digits in E[xxᵀ] − μμᵀ without the shift.
        using var g = new torch.Generator(8);
        using var x = randn([103, 12], ScalarType.Float64, generator: g) + 1e4;
        using var acc = new FeatureAccumulator(keepAll: true);
        foreach (var size in new[] { 1, 40, 2, 60 })
        {
            long start = acc.Count;
            acc.Append(x.narrow(0, start, size).to(ScalarType.Float32));
        }
        using var moments = acc.Moments();
        using var xf = x.to(ScalarType.Float32).to(ScalarType.Float64);     // what was appended, exactly
        using var mean = xf.mean([0]);
        using var centred = xf - mean;
        using var cov = centred.t().mm(centred) / 103;
        Assert.Equal(103, moments.Count);
        Assert.True(moments.Mean.allclose(mean, rtol: 0, atol: 1e-9));
        Assert.True(moments.Covariance.allclose(cov, rtol: 0, atol: 1e-9));
        Assert.True(acc.All().allclose(x.to(ScalarType.Float32)));
    }

    [Fact]
    public void Compute_NonFiniteStatistics_IsNaN_NotAnException()
    {
        using var mu = zeros(4, ScalarType.Float64);
        using var sigma = eye(4, dtype: ScalarType.Float64);
        using var broken = full(4, double.NaN, ScalarType.Float64);
        Assert.True(double.IsNaN(FrechetDistance.Compute(broken, sigma, mu, sigma)));
    }
}
