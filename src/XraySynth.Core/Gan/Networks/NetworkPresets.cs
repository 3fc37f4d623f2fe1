namespace XraySynth.Gan.Networks;

/// <summary>
/// The network half of the official <c>--cfg</c> presets (train.py's cfg_specs): channel_base, mapping layers,
/// minibatch-stddev group, D architecture, fp16 for the 4 highest resolutions with conv clamp 256.
/// Training hyper-parameters (kimg, batch, lr, gamma, ema) belong to the training presets. <c>small</c> and
/// <c>smoke</c> are ours: a small network for CPU runs at 32–64 px (the demo's) and a tiny one for tests.
/// </summary>
public static class NetworkPresets
{
    /// <summary>Preset names, as accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["auto", "stylegan2", "paper256", "paper512", "paper1024", "cifar", "small", "smoke"];

    /// <summary>
    /// Builds the G and D configs of preset <paramref name="name"/> for images of
    /// <paramref name="resolution"/>² × <paramref name="imgChannels"/> with <paramref name="cDim"/> label dimensions
    /// (0 = unconditional). <paramref name="gpus"/> only matters for 'auto' (its minibatch-stddev group).
    /// </summary>
    public static NetworkConfigs Create(string name, int resolution, int imgChannels, int cDim = 0, int gpus = 1)
    {
        NetworkConfigChecks.Resolution(resolution, nameof(resolution));
        NetworkConfigChecks.Positive(imgChannels, nameof(imgChannels));
        NetworkConfigChecks.NonNegative(cDim, nameof(cDim));
        NetworkConfigChecks.Positive(gpus, nameof(gpus));
        if (name == "smoke")
            return CpuPreset(resolution, imgChannels, cDim, SmokeChannelBase, SmokeChannelMax);
        if (name == "small")
            return CpuPreset(resolution, imgChannels, cDim, SmallChannelBase, SmallChannelMax);

        // (channel_base, G mapping layers, mbstd group, D architecture) per preset.
        (int ChannelBase, int MapLayers, int Mbstd, Architecture DArch) spec = name switch
        {
            "auto" => (resolution >= 512 ? 32768 : 16384, 2, AutoMbstd(resolution, gpus), Architecture.Resnet),
            "stylegan2" => (32768, 8, 4, Architecture.Resnet),
            "paper256" => (16384, 8, 8, Architecture.Resnet),
            "paper512" => (32768, 8, 8, Architecture.Resnet),
            "paper1024" => (32768, 8, 4, Architecture.Resnet),
            "cifar" => (32768, 2, 32, Architecture.Orig),
            _ => throw new ArgumentException(
                $"Unknown network preset '{name}'; use one of: {string.Join(", ", Names)}.", nameof(name)),
        };
        var g = new GeneratorConfig
        {
            ZDim = 512,
            WDim = 512,
            CDim = cDim,
            ImgResolution = resolution,
            ImgChannels = imgChannels,
            Mapping = new MappingConfig { NumLayers = spec.MapLayers },
            Synthesis = new SynthesisConfig
            {
                ChannelBase = spec.ChannelBase,
                ChannelMax = 512,
                NumFp16Res = 4,
                ConvClamp = 256,
            },
        };
        var d = new DiscriminatorConfig
        {
            CDim = cDim,
            ImgResolution = resolution,
            ImgChannels = imgChannels,
            Architecture = spec.DArch,
            ChannelBase = spec.ChannelBase,
            ChannelMax = 512,
            NumFp16Res = 4,
            ConvClamp = 256,
            MbstdGroupSize = spec.Mbstd,
        };
        return new NetworkConfigs(g, d);
    }

    /// <summary>The minibatch-stddev group of the small and smoke presets (a smaller minibatch is one group).</summary>
    public const int SmokeMbstdGroup = 16;

    /// <summary>smoke's channels: channel base 512, at most 32 (G 67,611 parameters for 32 px with 2 classes).</summary>
    public const int SmokeChannelBase = 512, SmokeChannelMax = 32;

    /// <summary>
    /// small's channels: channel base 1024, at most 64 (3.5× smoke's parameters). Measured on the demo's data
    /// (docs/benchmarks.md): smoke's network draws blurry shapes, one per class, and longer training does not help (at
    /// 20 kimg it is collapsed per class); this one draws bars, shafts and humeral heads by 4 kimg, at ~1.5× smoke's
    /// time per kimg on 2 cores.
    /// </summary>
    public const int SmallChannelBase = 1024, SmallChannelMax = 64;

    /// <summary>The official 'auto' rule: batch = max(min(gpus·min(4096/res, 32), 64), gpus); group = min(batch/gpus, 4).</summary>
    private static int AutoMbstd(int resolution, int gpus)
    {
        var batch = Math.Max(Math.Min(gpus * Math.Min(4096 / resolution, 32), 64), gpus);
        return Math.Min(batch / gpus, 4);
    }

    /// <summary>
    /// Ours, for CPU runs (small) and tests (smoke): z and w 32, 2 mapping layers in G and D, no fp16, the given
    /// channels. The minibatch-stddev group is <see cref="SmokeMbstdGroup"/> (the whole minibatch up to 16), not auto's
    /// 4: measured on the demo's data (docs/benchmarks.md), groups of 4 let these networks collapse to one shape per
    /// class within 6 kimg (builtin FID 30.9–36.8); with groups of 16 FID was lower in every run (8.4–21.4) and the
    /// collapse rarer, not gone.
    /// </summary>
    private static NetworkConfigs CpuPreset(int resolution, int imgChannels, int cDim, int channelBase, int channelMax)
    {
        var g = new GeneratorConfig
        {
            ZDim = 32,
            WDim = 32,
            CDim = cDim,
            ImgResolution = resolution,
            ImgChannels = imgChannels,
            Mapping = new MappingConfig { NumLayers = 2 },
            Synthesis = new SynthesisConfig { ChannelBase = channelBase, ChannelMax = channelMax, NumFp16Res = 0, ConvClamp = 256 },
        };
        var d = new DiscriminatorConfig
        {
            CDim = cDim,
            ImgResolution = resolution,
            ImgChannels = imgChannels,
            ChannelBase = channelBase,
            ChannelMax = channelMax,
            NumFp16Res = 0,
            ConvClamp = 256,
            MbstdGroupSize = SmokeMbstdGroup,
            Mapping = new MappingConfig { NumLayers = 2 },
        };
        return new NetworkConfigs(g, d);
    }
}
