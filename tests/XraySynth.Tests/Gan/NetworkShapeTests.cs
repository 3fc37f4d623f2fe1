using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class NetworkShapeTests
{
    internal static NetworkConfigs Tiny(int res, int channels, int cDim, Architecture gArch = Architecture.Skip,
        Architecture dArch = Architecture.Resnet)
    {
        var cfg = NetworkPresets.Create("smoke", res, channels, cDim);
        return new NetworkConfigs(
            cfg.G with { Synthesis = cfg.G.Synthesis with { Architecture = gArch } },
            cfg.D with { Architecture = dArch });
    }

    internal static Tensor Labels(int n, int cDim) =>
        cDim == 0 ? zeros(n, 0) : nn.functional.one_hot(arange(n) % cDim, cDim).to(ScalarType.Float32);

    [Theory]
    [InlineData(4, 1, 0)]
    [InlineData(8, 3, 2)]
    [InlineData(16, 1, 3)]
    [InlineData(32, 3, 0)]
    [InlineData(64, 1, 2)]
    public void GeneratorAndDiscriminator_OutputShapes_MatchConfig(int res, int channels, int cDim)
    {
        manual_seed(1);
        var cfg = Tiny(res, channels, cDim);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        using var scope = NewDisposeScope();
        const int n = 4;
        var z = randn(n, cfg.G.ZDim);
        var c = Labels(n, cDim);

        Assert.Equal(2 * (int)Math.Log2(res) - 2, g.NumWs);
        Assert.Equal(cfg.G.NumWs, g.NumWs);
        var ws = g.Mapping.call(z, c);
        Assert.Equal(new long[] { n, g.NumWs, cfg.G.WDim }, ws.shape);
        var img = g.call(z, c);
        Assert.Equal(new long[] { n, channels, res, res }, img.shape);
        Assert.Equal(ScalarType.Float32, img.dtype);
        Assert.True(img.isfinite().all().item<bool>());
        Assert.True(img.std().item<float>() > 0);
        var logits = d.call(img, c);
        Assert.Equal(new long[] { n, 1 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(Architecture.Orig, Architecture.Orig)]
    [InlineData(Architecture.Resnet, Architecture.Skip)]
    public void OtherArchitectures_ProduceImagesAndLogits(Architecture gArch, Architecture dArch)
    {
        manual_seed(2);
        var cfg = Tiny(16, 1, 2, gArch, dArch);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        using var scope = NewDisposeScope();
        var c = Labels(2, 2);
        var img = g.call(randn(2, cfg.G.ZDim), c);
        Assert.Equal(new long[] { 2, 1, 16, 16 }, img.shape);
        Assert.Equal(new long[] { 2, 1 }, d.call(img, c).shape);
    }

    [Fact]
    public void SmokePreset_ForwardBackward_RunsAndReachesEveryParameter()
    {
        manual_seed(3);
        var cfg = NetworkPresets.Create("smoke", 32, 1, cDim: 2);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        g.train();
        d.train();
        using var scope = NewDisposeScope();
        var c = Labels(4, 2);
        var img = g.call(randn(4, cfg.G.ZDim), c, 1.0, null, NoiseMode.Random, true);
        var loss = nn.functional.softplus(-d.call(img, c)).mean();
        loss.backward();
        foreach (var (name, p) in g.named_parameters().Concat(d.named_parameters()))
        {
            Assert.True(p.grad is not null, $"{name} got no gradient");
        }
    }

    [Fact]
    public void Generator_WrongZShape_ThrowsWithExpectedAndActual()
    {
        var cfg = Tiny(8, 1, 0);
        using var g = new Generator(cfg.G);
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => g.call(randn(2, cfg.G.ZDim + 1), null));
        Assert.Contains($"[*, {cfg.G.ZDim}]", ex.Message);
        Assert.Contains($"[2, {cfg.G.ZDim + 1}]", ex.Message);
    }

    [Fact]
    public void Discriminator_WrongImageSize_ThrowsWithExpectedAndActual()
    {
        var cfg = Tiny(16, 1, 0);
        using var d = new Discriminator(cfg.D);
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => d.call(randn(2, 1, 8, 8), null));
        Assert.Contains("[*, 1, 16, 16]", ex.Message);
        Assert.Contains("[2, 1, 8, 8]", ex.Message);
    }

    [Fact]
    public void ConditionalGenerator_WithoutLabels_Throws()
    {
        var cfg = Tiny(8, 1, 3);
        using var g = new Generator(cfg.G);
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => g.call(randn(2, cfg.G.ZDim), null));
        Assert.Contains("conditional", ex.Message);
    }
}
