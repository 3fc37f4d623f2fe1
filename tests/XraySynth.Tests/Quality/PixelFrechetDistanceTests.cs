using TorchSharp;
using XraySynth.Quality;
using static TorchSharp.torch;

namespace XraySynth.Tests.Quality;

public class PixelFrechetDistanceTests
{
    private static GaussianFit Fit(double[] mean, double[,] cov) =>
        new(tensor(mean), tensor(cov));

    [Fact]
    public void Compute_DiagonalGaussians_IsTheSumOfMeanAndStdDifferencesSquared()
    {
        // For commuting covariances: ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)².
        using var a = Fit([0, 1], new double[,] { { 1, 0 }, { 0, 9 } });
        using var b = Fit([1, 3], new double[,] { { 4, 0 }, { 0, 1 } });
        Assert.Equal(1 + 4 + 1 + 4, PixelFrechetDistance.Compute(a, b), 9);
        Assert.Equal(PixelFrechetDistance.Compute(a, b), PixelFrechetDistance.Compute(b, a), 9);
    }

    [Fact]
    public void Compute_RotatedCovariance_MatchesTheClosedForm()
    {
        // Σ₁ = I, Σ₂ = R diag(4, 1) Rᵀ: Tr((Σ₁Σ₂)^½) = 2 + 1 whatever the rotation.
        var c = Math.Cos(0.7);
        var s = Math.Sin(0.7);
        var cov = new double[,] { { 4 * c * c + s * s, 3 * c * s }, { 3 * c * s, 4 * s * s + c * c } };
        using var a = Fit([0, 0], new double[,] { { 1, 0 }, { 0, 1 } });
        using var b = Fit([0, 0], cov);
        Assert.Equal(2 + 5 - 2 * 3, PixelFrechetDistance.Compute(a, b), 9);
    }

    [Fact]
    public void Compute_SameSamples_IsZero_AndGrowsWithAShift()
    {
        using var scope = NewDisposeScope();
        var x = randn([500, 6], generator: new torch.Generator(1));
        Assert.Equal(0, PixelFrechetDistance.Compute(x, x), 6);
        Assert.Equal(6 * 0.25, PixelFrechetDistance.Compute(x, x + 0.5), 6);
    }

    [Fact]
    public void PixelFeatures_AreAreaAveragesPerChannel_OfFloatOrUint8Images()
    {
        using var scope = NewDisposeScope();
        var bytes = full([2, 1, 16, 16], 255, ScalarType.Byte);
        bytes[1, 0, .., ..8] = 0;
        var f = PixelFeatures.Extract(bytes);
        Assert.Equal([2L, 64], f.shape);
        Assert.True((f[0] - 1).abs().max().item<double>() < 1e-6);
        Assert.Equal(-1, f[1, 0].item<double>(), 6); // top-left cell: black
        Assert.Equal(1, f[1, 7].item<double>(), 6); // top-right cell: white
        Assert.Equal([3L, 3 * 16], PixelFeatures.Extract(zeros(3, 3, 32, 32), size: 4).shape);
    }
}
