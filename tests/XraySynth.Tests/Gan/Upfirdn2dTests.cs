using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Tests.Gan;

public class Upfirdn2dTests
{
    private static Tensor Input() => randn(2, 3, 5, 6, generator: new torch.Generator(7));

    [Fact]
    public void SetupFilter_1331_IsNormalisedOuterProduct()
    {
        using var f = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        Assert.Equal(new long[] { 4, 4 }, f.shape);
        Assert.Equal(1.0, f.sum().item<float>(), 5);
        Assert.Equal(9.0 / 64, f[1, 2].item<float>(), 6);
        Assert.Equal(1.0 / 64, f[0, 3].item<float>(), 6);
    }

    [Theory]
    // up, down, x0, x1, y0, y1, flipFilter, gain
    [InlineData(2, 1, 2, 1, 2, 1, false, 4.0)] // upsample2d: one transposed conv
    [InlineData(2, 1, 1, 0, 3, -1, false, 4.0)] // asymmetric and negative padding: transposed conv + pad/crop
    [InlineData(2, 2, 1, 1, 1, 1, false, 1.0)] // up and down together
    [InlineData(3, 1, 0, 2, 1, 1, true, 2.0)] // up 3, correlation
    [InlineData(1, 2, 1, 1, 1, 1, false, 1.0)] // downsample2d: one strided conv
    [InlineData(1, 2, 2, 0, -1, 1, false, 1.0)] // downsample with crop
    [InlineData(1, 1, 2, 1, 2, 1, false, 1.0)] // filter only, asymmetric padding
    [InlineData(1, 1, 1, 1, 2, 2, true, 3.0)] // filter only, symmetric padding, correlation, gain
    public void Apply_MatchesDirectLoopComputation(int up, int down, int x0, int x1, int y0, int y1, bool flip,
        double gain)
    {
        using var scope = NewDisposeScope();
        var x = Input();
        // An asymmetric filter catches flips and transposed axes; the 4x4 [1,3,3,1] filter is checked too.
        var asym = tensor(new float[] { 1, 2, 0, -1, 3, 1, 2, 0.5f, -2, 1, 1, 4 }, [3, 4]);
        foreach (var f in new[] { asym, Upfirdn2d.SetupFilter([1, 3, 3, 1]) })
        {
            var pad = new Padding2d(x0, x1, y0, y1);
            var actual = Upfirdn2d.Apply(x, f, up, down, pad, flip, gain);
            var expected = ReferenceOps.Upfirdn2d(x, ReferenceOps.ToArray(f), up, down, (x0, x1, y0, y1), flip, gain);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(ReferenceOps.MaxAbsDiff(expected, actual) < 1e-4, $"max diff {ReferenceOps.MaxAbsDiff(expected, actual)}");
        }
    }

    [Fact]
    public void Upsample2dAndDownsample2d_KeepConstantSignalsAndHalveOrDoubleSize()
    {
        using var scope = NewDisposeScope();
        var f = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        var x = ones(1, 2, 8, 8) * 3;
        var up = Upfirdn2d.Upsample2d(x, f);
        var down = Upfirdn2d.Downsample2d(x, f);
        Assert.Equal(new long[] { 1, 2, 16, 16 }, up.shape);
        Assert.Equal(new long[] { 1, 2, 4, 4 }, down.shape);
        // Away from the zero-padded border a constant stays constant (DC gain 1).
        Assert.Equal(3.0, up[0, 0, 8, 8].item<float>(), 4);
        Assert.Equal(3.0, down[0, 1, 2, 2].item<float>(), 4);
        Assert.Equal(x.shape, Upfirdn2d.Filter2d(x, f).shape);
    }

    /// <summary>
    /// The official generic path of conv2d_resample: upfirdn2d (FIR only when upsampling, gain up²) with all the
    /// padding, a valid convolution, then FIR + downsample. The fast paths (transposed conv, strided conv, 1x1
    /// reordering) must agree with it.
    /// </summary>
    [Theory]
    // k, up, down, groups, flipWeight
    [InlineData(3, 2, 1, 1, false)]
    [InlineData(3, 2, 1, 2, false)]
    [InlineData(3, 2, 1, 1, true)]
    [InlineData(3, 1, 2, 1, true)]
    [InlineData(1, 2, 1, 1, true)]
    [InlineData(1, 1, 2, 1, true)]
    [InlineData(3, 1, 1, 1, true)]
    [InlineData(3, 1, 1, 2, false)]
    public void Conv2dResample_FastPaths_MatchGenericReference(int k, int up, int down, int groups, bool flipWeight)
    {
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(11);
        var x = randn(2, 4, 6, 6, generator: gen);
        var w = randn(6, 4 / groups, k, k, generator: gen);
        var f = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        var fa = ReferenceOps.ToArray(f);
        var p = k / 2;
        int px0 = p, px1 = p;
        if (up > 1) { px0 += (4 + up - 1) / 2; px1 += (4 - up) / 2; }
        if (down > 1) { px0 += (4 - down + 1) / 2; px1 += (4 - down) / 2; }

        var actual = Conv2dResample.Apply(x, w, f, up, down, p, groups, flipWeight);

        var identity = new float[,] { { 1 } };
        var y = ReferenceOps.Upfirdn2d(x, up > 1 ? fa : identity, up, 1, (px0, px1, px0, px1), gain: up * up);
        y = F.conv2d(y, flipWeight ? w : w.flip(2, 3), groups: groups);
        if (down > 1)
            y = ReferenceOps.Upfirdn2d(y, fa, 1, down, (0, 0, 0, 0));

        Assert.Equal(new long[] { 2, 6, 6 * up / down, 6 * up / down }, actual.shape);
        Assert.Equal(y.shape, actual.shape);
        Assert.True(ReferenceOps.MaxAbsDiff(y, actual) < 1e-3, $"max diff {ReferenceOps.MaxAbsDiff(y, actual)}");
    }
}
