using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

/// <summary>
/// Parameter counts equal to the official networks'. The official 256 px numbers come from the spec; the others are
/// derived by hand from the official architecture (training/networks.py), layer by layer:
///   FC(i→o) = i·o + o;  SynthesisLayer(i→o, k=3) = affine (w·i + i) + o·i·9 + noise_strength 1 + bias o;
///   ToRGB(i→C) = affine (w·i + i) + C·i + C;  const = ch(4)·16;  Conv(i→o, k) = o·i·k² (+ o with bias);
///   D block(res) = conv0 (t→t, 3) + conv1 (t→o, 3) + [resnet] skip (t→o, 1, no bias) + [top] fromRGB (C→t, 1);
///   D epilogue = conv ((c4+1)→c4, 3) + fc (16·c4→c4) + out (c4→1 or cmap) ; conditional D adds
///   mapping embed (c_dim→cmap) + 8 × FC(cmap→cmap).
/// The same formula reproduces the spec's 256 px totals exactly and the per-layer numbers printed by the official
/// print_module_summary (e.g. synthesis.b4.conv1 2,622,465; 3-channel torgb 264,195; b128.conv0 at 256 channels
/// 1,442,561; mapping.fc 262,656).
/// </summary>
public class NetworkParameterCountTests
{
    internal static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    private static (GeneratorConfig G, DiscriminatorConfig D) Config(int res, int channels, int channelBase, int map,
        int cDim = 0, Architecture dArch = Architecture.Resnet)
    {
        var g = new GeneratorConfig
        {
            ImgResolution = res, ImgChannels = channels, CDim = cDim,
            Mapping = new MappingConfig { NumLayers = map },
            Synthesis = new SynthesisConfig { ChannelBase = channelBase, ChannelMax = 512 },
        };
        var d = new DiscriminatorConfig
        {
            ImgResolution = res, ImgChannels = channels, CDim = cDim, ChannelBase = channelBase, ChannelMax = 512,
            Architecture = dArch,
        };
        return (g, d);
    }

    [Fact]
    public void Generator_ParameterCount_MatchesOfficial256()
    {
        using var g = new Generator(Config(256, 1, 16384, 2).G);
        Assert.Equal(23_186_516, Count(g));
    }

    [Fact]
    public void Discriminator_ParameterCount_MatchesOfficial256()
    {
        using var d = new Discriminator(Config(256, 1, 16384, 2).D);
        Assert.Equal(24_000_961, Count(d));
    }

    [Fact]
    public void AutoPreset256_ParameterCounts_MatchOfficial()
    {
        var cfg = NetworkPresets.Create("auto", 256, 1);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        Assert.Equal(23_186_516, Count(g));
        Assert.Equal(24_000_961, Count(d));
    }

    /// <summary>
    /// cifar preset, 32 px RGB, 10 classes, channel_base 32768 (512 channels everywhere), 2 mapping layers.
    /// G: embed 10·512+512 = 5,632; fc0 (1024→512) 524,800; fc1 262,656; b4: const 8,192 + conv1 2,622,465 + torgb
    /// 264,195; b8, b16, b32: each 2 × 2,622,465 + 264,195 = 5,509,125 → 3 × 5,509,125 = 16,527,375.
    /// Total 5,632 + 524,800 + 262,656 + 8,192 + 2,622,465 + 264,195 + 16,527,375 = 20,215,315.
    /// D ('orig', no skips): b32 fromrgb 2,048 + 3 blocks × 2 × 2,359,808 = 14,158,848; mapping 5,632 + 8 × 262,656
    /// = 2,106,880; epilogue conv 513·512·9 + 512 = 2,364,416, fc 8192·512 + 512 = 4,194,816, out 262,656.
    /// Total 2,048 + 14,158,848 + 2,106,880 + 2,364,416 + 4,194,816 + 262,656 = 23,089,664.
    /// </summary>
    [Fact]
    public void CifarPreset_ParameterCounts_MatchOfficialDerivation()
    {
        var cfg = NetworkPresets.Create("cifar", 32, 3, cDim: 10);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        Assert.Equal(20_215_315, Count(g));
        Assert.Equal(23_089_664, Count(d));
    }

    /// <summary>
    /// Our small preset as the demo builds it: 32 px, 1 channel, 2 classes, z and w 32, 2 mapping layers in G and D,
    /// channel base 1024 at most 64 (64 channels at 4–16 px, 32 at 32 px).
    /// G: mapping embed 2·32 + 32 = 96, fc0 (64→32) 2,080, fc1 1,056 → 3,232; b4: const 1,024, conv1 (64→64)
    /// 2,112 + 36,864 + 1 + 64 = 39,041, torgb (64→1) 2,112 + 64 + 1 = 2,177 → 42,242; b8, b16: 2 × 39,041 + 2,177
    /// = 80,259 each; b32: conv0 (64→32) 2,112 + 18,432 + 1 + 32 = 20,577, conv1 (32→32) 1,056 + 9,216 + 1 + 32
    /// = 10,305, torgb 1,056 + 32 + 1 = 1,089 → 31,971. Total 237,963.
    /// D: b32 fromrgb 64, conv0 9,248, conv1 (32→64) 18,496, skip 2,048 → 29,856; b16, b8: 2 × 36,928 + 4,096
    /// = 77,952 each; epilogue conv (65→64) 37,504, fc (1024→64) 65,600, out (64→cmap 64) 4,160 → 107,264; mapping
    /// embed 2·64 + 64 = 192 + 2 × 4,160 → 8,512. Total 301,536.
    /// </summary>
    [Fact]
    public void SmallPreset32_ParameterCounts_MatchDerivation()
    {
        var cfg = NetworkPresets.Create("small", 32, 1, cDim: 2);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        Assert.Equal(237_963, Count(g));
        Assert.Equal(301_536, Count(d));
        Assert.Equal(NetworkPresets.SmokeMbstdGroup, cfg.D.MbstdGroupSize);
    }

    /// <summary>
    /// 64 px, 1 channel, channel_base 16384 (512 channels up to 32 px, 256 at 64 px), 8 mapping layers.
    /// G: 8 × 262,656 = 2,101,248; b4: 8,192 + 2,622,465 + torgb (512→1: 262,656 + 512 + 1) 263,169 = 2,893,826;
    /// b8, b16, b32: 2 × 2,622,465 + 263,169 = 5,508,099 each → 16,524,297;
    /// b64: conv0 (512→256) 262,656 + 1,179,648 + 1 + 256 = 1,442,561, conv1 (256→256) 131,328 + 589,824 + 1 + 256
    /// = 721,409, torgb (256→1) 131,328 + 256 + 1 = 131,585 → 2,295,555. Total 23,814,926.
    /// D: b64 fromrgb 512, conv0 589,824 + 256, conv1 (256→512) 1,179,648 + 512, skip 131,072 → 1,901,824;
    /// b32, b16, b8: 2 × 2,359,808 + 262,144 = 4,981,760 each → 14,945,280; epilogue 2,364,416 + 4,194,816 + 513
    /// = 6,559,745. Total 23,406,849.
    /// </summary>
    [Fact]
    public void Networks64px_ParameterCounts_MatchOfficialDerivation()
    {
        var (gc, dc) = Config(64, 1, 16384, 8);
        using var g = new Generator(gc);
        using var d = new Discriminator(dc);
        Assert.Equal(23_814_926, Count(g));
        Assert.Equal(23_406_849, Count(d));
    }
}
