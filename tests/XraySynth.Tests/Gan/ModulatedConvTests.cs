using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan;

public class ModulatedConvTests
{
    /// <summary>Per sample: W' = W·s, demodulated by rsqrt(ΣW'² + 1e-8) over in-channels and kernel, plain conv.</summary>
    private static Tensor PerSampleReference(Tensor x, Tensor weight, Tensor styles, Tensor? noise, int up,
        Tensor f, bool demodulate, bool flipWeight)
    {
        var n = x.shape[0];
        var k = weight.shape[2];
        var outputs = new List<Tensor>();
        for (var i = 0; i < n; i++)
        {
            var w = weight * styles[i].reshape(1, -1, 1, 1); // [OIkk]
            if (demodulate)
                w = w * (w.square().sum([1, 2, 3], keepdim: true) + 1e-8).rsqrt();
            var y = Conv2dResample.Apply(x[i].unsqueeze(0), w, f, up: up, padding: (int)k / 2, flipWeight: flipWeight);
            if (noise is not null)
                y = y + noise[i].unsqueeze(0);
            outputs.Add(y);
        }
        return cat(outputs, 0);
    }

    [Theory]
    // k, up, demodulate, noise
    [InlineData(3, 1, true, true)]
    [InlineData(3, 1, false, false)]
    [InlineData(3, 2, true, true)]
    [InlineData(3, 2, false, false)]
    [InlineData(1, 1, false, false)]
    public void FusedAndUnfused_MatchPerSampleReference(int k, int up, bool demodulate, bool withNoise)
    {
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(5);
        const int n = 3, i = 4, o = 5, h = 6;
        var x = randn(n, i, h, h, generator: gen);
        var weight = randn(o, i, k, k, generator: gen);
        var styles = randn(n, i, generator: gen) + 1;
        var noise = withNoise ? randn(n, 1, h * up, h * up, generator: gen) * 0.3 : null;
        var f = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        var flip = up == 1;

        var expected = PerSampleReference(x, weight, styles, noise, up, f, demodulate, flip);
        var fused = ModulatedConv.Apply(x, weight, styles, noise, up: up, padding: k / 2, resampleFilter: f,
            demodulate: demodulate, flipWeight: flip, fused: true);
        var unfused = ModulatedConv.Apply(x, weight, styles, noise, up: up, padding: k / 2, resampleFilter: f,
            demodulate: demodulate, flipWeight: flip, fused: false);

        Assert.Equal(new long[] { n, o, h * up, h * up }, fused.shape);
        Assert.True(ReferenceOps.MaxAbsDiff(expected, fused) < 1e-4, $"fused diff {ReferenceOps.MaxAbsDiff(expected, fused)}");
        Assert.True(ReferenceOps.MaxAbsDiff(expected, unfused) < 1e-4, $"unfused diff {ReferenceOps.MaxAbsDiff(expected, unfused)}");
    }

    [Fact]
    public void Demodulation_NormalisesEachOutputChannelToUnitWeightNorm()
    {
        // With a 1x1 input and a 1x1 kernel the output is W'·x; a one-hot x reads one column of W'.
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(9);
        var weight = randn(4, 3, 1, 1, generator: gen);
        var styles = randn(2, 3, generator: gen) * 5;
        var sum = zeros(2, 4);
        for (var c = 0; c < 3; c++)
        {
            var x = zeros(2, 3, 1, 1);
            x[.., c] = ones(2, 1, 1);
            var y = ModulatedConv.Apply(x, weight, styles).reshape(2, 4);
            sum += y.square();
        }
        Assert.True(sum.allclose(ones(2, 4), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void StylesWithWrongShape_Throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() =>
            ModulatedConv.Apply(randn(2, 3, 4, 4), randn(5, 3, 3, 3), randn(2, 4), padding: 1));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[2, 4]", ex.Message);
    }
}
