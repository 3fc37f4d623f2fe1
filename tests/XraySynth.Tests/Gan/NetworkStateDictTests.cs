using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class NetworkStateDictTests
{
    [Fact]
    public void StateDictKeys_FollowTheOfficialNames()
    {
        manual_seed(61);
        var cfg = NetworkPresets.Create("smoke", 16, 1, cDim: 2);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        var gKeys = g.state_dict().Keys.ToHashSet();
        string[] expectedG =
        [
            "mapping.w_avg", "mapping.embed.weight", "mapping.embed.bias", "mapping.fc0.weight", "mapping.fc1.bias",
            "synthesis.b4.const", "synthesis.b4.resample_filter", "synthesis.b4.conv1.weight",
            "synthesis.b4.conv1.noise_const", "synthesis.b4.conv1.noise_strength", "synthesis.b4.conv1.affine.weight",
            "synthesis.b4.torgb.weight", "synthesis.b4.torgb.affine.bias", "synthesis.b16.conv0.resample_filter",
            "synthesis.b16.conv0.bias", "synthesis.b16.conv1.weight", "synthesis.b16.torgb.bias",
        ];
        Assert.All(expectedG, k => Assert.Contains(k, gKeys));
        Assert.DoesNotContain("mapping.fc2.weight", gKeys);

        var dKeys = d.state_dict().Keys.ToHashSet();
        string[] expectedD =
        [
            "b16.fromrgb.weight", "b16.fromrgb.bias", "b16.conv0.weight", "b16.conv1.resample_filter", "b16.skip.weight",
            "b8.conv1.bias", "b4.conv.weight", "b4.fc.weight", "b4.out.bias", "mapping.embed.weight",
            "mapping.fc1.weight",
        ];
        Assert.All(expectedD, k => Assert.Contains(k, dKeys));
        Assert.DoesNotContain("b16.skip.bias", dKeys);
        Assert.DoesNotContain("b8.fromrgb.weight", dKeys);
        Assert.DoesNotContain("mapping.w_avg", dKeys);
    }

    [Fact]
    public void Fp16Resolutions_RunAsFp32OnCpu_WithIdenticalResults()
    {
        var cfg = NetworkPresets.Create("smoke", 16, 1, cDim: 0);
        using var g32 = new Generator(cfg.G with { Synthesis = cfg.G.Synthesis with { NumFp16Res = 0 } });
        using var d32 = new Discriminator(cfg.D with { NumFp16Res = 0 });
        using var g16 = new Generator(cfg.G with { Synthesis = cfg.G.Synthesis with { NumFp16Res = 4 } });
        using var d16 = new Discriminator(cfg.D with { NumFp16Res = 4 });
        // Same weights (tests run in parallel, so the global seed alone cannot promise that).
        g16.load_state_dict(g32.state_dict());
        d16.load_state_dict(d32.state_dict());
        Assert.All(g16.Synthesis.Blocks.Where(b => b.Resolution >= 8), b => Assert.True(b.UseFp16));
        Assert.False(g16.Synthesis.Blocks[0].UseFp16); // 4x4 never runs in fp16

        using var scope = NewDisposeScope();
        var z = randn(2, cfg.G.ZDim);
        var a = g32.call(z, null, 1.0, null, NoiseMode.Const, false);
        var b = g16.call(z, null, 1.0, null, NoiseMode.Const, false);
        Assert.Equal(ScalarType.Float32, b.dtype);
        Assert.True(a.equal(b).all().item<bool>(), $"max diff {(a - b).abs().max().item<float>()}");
        Assert.True(d32.call(a, null).equal(d16.call(b, null)).all().item<bool>());
    }

    [Fact]
    public void FreezeLayers_TurnsTheFirstDiscriminatorLayersIntoBuffers()
    {
        var cfg = NetworkPresets.Create("smoke", 16, 1).D;
        using var d = new Discriminator(cfg);
        using var frozen = new Discriminator(cfg with { FreezeLayers = 2 });
        var names = frozen.named_parameters().Select(p => p.name).ToHashSet();
        Assert.DoesNotContain("b16.fromrgb.weight", names);
        Assert.DoesNotContain("b16.conv0.weight", names);
        Assert.Contains("b16.conv1.weight", names);
        Assert.Equal(d.state_dict().Keys.Order(), frozen.state_dict().Keys.Order());
        var frozenCount = (1 * 32 + 32) + (32 * 32 * 9 + 32); // fromrgb + conv0 at 16 px (32 channels)
        Assert.Equal(NetworkParameterCountTests.Count(d) - frozenCount, NetworkParameterCountTests.Count(frozen));
    }
}
