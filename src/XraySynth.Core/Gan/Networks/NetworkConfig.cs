using System.Text.Json;
using System.Text.Json.Serialization;

namespace XraySynth.Gan.Networks;

/// <summary>Activation applied after the bias (official names: 'linear', 'relu', 'lrelu').</summary>
public enum Activation
{
    /// <summary>Identity; gain 1.</summary>
    Linear,
    /// <summary>ReLU; default gain sqrt(2).</summary>
    Relu,
    /// <summary>Leaky ReLU with slope 0.2; default gain sqrt(2).</summary>
    Lrelu,
}

/// <summary>Block architecture of the synthesis network or the discriminator.</summary>
public enum Architecture
{
    /// <summary>Plain chain of convolutions; RGB only at the end (G) or the start (D).</summary>
    Orig,
    /// <summary>toRGB / fromRGB at every resolution, images summed (G default).</summary>
    Skip,
    /// <summary>Residual 1x1 skip connections, both paths scaled by sqrt(0.5) (D default).</summary>
    Resnet,
}

/// <summary>How per-pixel noise is fed to the synthesis layers.</summary>
public enum NoiseMode
{
    /// <summary>Fresh N(0,1) noise on every call (training).</summary>
    Random,
    /// <summary>The fixed noise_const buffer of each layer (reproducible images).</summary>
    Const,
    /// <summary>No noise.</summary>
    None,
}

/// <summary>Mapping network settings (z, c → w). Defaults are the official MappingNetwork defaults.</summary>
public sealed record MappingConfig
{
    /// <summary>Number of fully connected layers (official default 8; the auto and cifar presets use 2).</summary>
    public int NumLayers { get; init; } = 8;

    /// <summary>Label embedding width; null = w_dim.</summary>
    public int? EmbedFeatures { get; init; }

    /// <summary>Width of the hidden layers; null = w_dim.</summary>
    public int? LayerFeatures { get; init; }

    /// <summary>Activation of the fully connected layers.</summary>
    public Activation Activation { get; init; } = Activation.Lrelu;

    /// <summary>Learning-rate multiplier of the mapping layers (equalized LR; 0.01 in StyleGAN2).</summary>
    public double LrMultiplier { get; init; } = 0.01;

    /// <summary>Decay of the running average of w; null = do not track it (then truncation is impossible).</summary>
    public double? WAvgBeta { get; init; } = 0.995;
}

/// <summary>Synthesis network settings (ws → image). Defaults are the official SynthesisNetwork defaults.</summary>
public sealed record SynthesisConfig
{
    /// <summary>Overall multiplier for the number of channels: channels(res) = min(channel_base / res, channel_max).</summary>
    public int ChannelBase { get; init; } = 32768;

    /// <summary>Maximum number of channels in any layer.</summary>
    public int ChannelMax { get; init; } = 512;

    /// <summary>Number of highest resolutions run in fp16 (on CUDA only; CPU always runs fp32).</summary>
    public int NumFp16Res { get; init; }

    /// <summary>Block architecture: skip (official default), orig or resnet.</summary>
    public Architecture Architecture { get; init; } = Architecture.Skip;

    /// <summary>Taps of the separable low-pass FIR filter used for resampling.</summary>
    public double[] ResampleFilter { get; init; } = [1, 3, 3, 1];

    /// <summary>Clamp conv outputs to ±conv_clamp (×gain); null = no clamping (the presets use 256).</summary>
    public double? ConvClamp { get; init; }

    /// <summary>Add per-pixel noise inputs to the synthesis layers.</summary>
    public bool UseNoise { get; init; } = true;

    /// <summary>Activation of the synthesis layers.</summary>
    public Activation Activation { get; init; } = Activation.Lrelu;

    /// <summary>Kernel size of the synthesis convolutions.</summary>
    public int KernelSize { get; init; } = 3;

    /// <inheritdoc/>
    public bool Equals(SynthesisConfig? other) =>
        other is not null && ChannelBase == other.ChannelBase && ChannelMax == other.ChannelMax
        && NumFp16Res == other.NumFp16Res && Architecture == other.Architecture
        && ResampleFilter.AsSpan().SequenceEqual(other.ResampleFilter) && ConvClamp == other.ConvClamp
        && UseNoise == other.UseNoise && Activation == other.Activation && KernelSize == other.KernelSize;

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(ChannelBase, ChannelMax, NumFp16Res, Architecture, ResampleFilter.Length, ConvClamp, UseNoise,
            HashCode.Combine(Activation, KernelSize));
}

/// <summary>Every constructor argument of <see cref="Generator"/>.</summary>
public sealed record GeneratorConfig
{
    /// <summary>Input latent (z) dimensionality.</summary>
    public int ZDim { get; init; } = 512;

    /// <summary>Conditioning label (c) dimensionality; 0 = unconditional.</summary>
    public int CDim { get; init; }

    /// <summary>Intermediate latent (w) dimensionality.</summary>
    public int WDim { get; init; } = 512;

    /// <summary>Output resolution in pixels (a power of two, at least 4).</summary>
    public int ImgResolution { get; init; } = 256;

    /// <summary>Number of output image channels (1 = grey, 3 = RGB).</summary>
    public int ImgChannels { get; init; } = 1;

    /// <summary>Mapping network settings.</summary>
    public MappingConfig Mapping { get; init; } = new();

    /// <summary>Synthesis network settings.</summary>
    public SynthesisConfig Synthesis { get; init; } = new();

    /// <summary>Number of w vectors the synthesis network consumes: 2·log2(res) − 2.</summary>
    [JsonIgnore]
    public int NumWs => 2 * Log2(ImgResolution) - 2;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        NetworkConfigChecks.Resolution(ImgResolution, nameof(ImgResolution));
        NetworkConfigChecks.Positive(ImgChannels, nameof(ImgChannels));
        NetworkConfigChecks.Positive(WDim, nameof(WDim));
        NetworkConfigChecks.NonNegative(ZDim, nameof(ZDim));
        NetworkConfigChecks.NonNegative(CDim, nameof(CDim));
        if (ZDim == 0 && CDim == 0)
            throw new ArgumentException("A generator needs z_dim > 0 or c_dim > 0.");
        NetworkConfigChecks.Positive(Mapping.NumLayers, "Mapping.NumLayers");
        NetworkConfigChecks.Positive(Synthesis.ChannelBase, "Synthesis.ChannelBase");
        NetworkConfigChecks.Positive(Synthesis.ChannelMax, "Synthesis.ChannelMax");
        NetworkConfigChecks.NonNegative(Synthesis.NumFp16Res, "Synthesis.NumFp16Res");
        if (Synthesis.ResampleFilter.Length == 0)
            throw new ArgumentException("Synthesis.ResampleFilter needs at least one tap.");
    }

    internal static int Log2(int value) => System.Numerics.BitOperations.Log2((uint)value);
}

/// <summary>Every constructor argument of <see cref="Discriminator"/>.</summary>
public sealed record DiscriminatorConfig
{
    /// <summary>Conditioning label (c) dimensionality; 0 = unconditional.</summary>
    public int CDim { get; init; }

    /// <summary>Input resolution in pixels (a power of two, at least 4).</summary>
    public int ImgResolution { get; init; } = 256;

    /// <summary>Number of input image channels.</summary>
    public int ImgChannels { get; init; } = 1;

    /// <summary>Block architecture: resnet (official default), orig (cifar preset) or skip.</summary>
    public Architecture Architecture { get; init; } = Architecture.Resnet;

    /// <summary>Overall multiplier for the number of channels.</summary>
    public int ChannelBase { get; init; } = 32768;

    /// <summary>Maximum number of channels in any layer.</summary>
    public int ChannelMax { get; init; } = 512;

    /// <summary>Number of highest resolutions run in fp16 (on CUDA only).</summary>
    public int NumFp16Res { get; init; }

    /// <summary>Clamp conv outputs to ±conv_clamp (×gain); null = no clamping.</summary>
    public double? ConvClamp { get; init; }

    /// <summary>Width of the mapped label for the projection; null = channels at 4x4. Ignored when c_dim = 0.</summary>
    public int? CmapDim { get; init; }

    /// <summary>Activation of the convolution and hidden FC layers.</summary>
    public Activation Activation { get; init; } = Activation.Lrelu;

    /// <summary>Taps of the separable low-pass FIR filter used for downsampling.</summary>
    public double[] ResampleFilter { get; init; } = [1, 3, 3, 1];

    /// <summary>Freeze-D: the first N layers (counted from fromRGB) hold their weights as buffers, not parameters.</summary>
    public int FreezeLayers { get; init; }

    /// <summary>Group size of the minibatch standard deviation layer; null = the whole minibatch.</summary>
    public int? MbstdGroupSize { get; init; } = 4;

    /// <summary>Number of minibatch-stddev feature channels; 0 = disable the layer.</summary>
    public int MbstdNumChannels { get; init; } = 1;

    /// <summary>
    /// Label mapping network (c → cmap) settings; used only when c_dim &gt; 0. Official default: 8 layers, lr_mul
    /// 0.01, in every preset. Its w_avg_beta is ignored (the discriminator never tracks w_avg).
    /// </summary>
    public MappingConfig Mapping { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        NetworkConfigChecks.Resolution(ImgResolution, nameof(ImgResolution));
        NetworkConfigChecks.Positive(ImgChannels, nameof(ImgChannels));
        NetworkConfigChecks.NonNegative(CDim, nameof(CDim));
        NetworkConfigChecks.Positive(ChannelBase, nameof(ChannelBase));
        NetworkConfigChecks.Positive(ChannelMax, nameof(ChannelMax));
        NetworkConfigChecks.NonNegative(NumFp16Res, nameof(NumFp16Res));
        NetworkConfigChecks.NonNegative(MbstdNumChannels, nameof(MbstdNumChannels));
        if (MbstdGroupSize is < 1)
            throw new ArgumentException($"MbstdGroupSize must be at least 1 or null, got {MbstdGroupSize}.");
        if (CmapDim is < 1)
            throw new ArgumentException($"CmapDim must be at least 1 or null, got {CmapDim}.");
        if (ResampleFilter.Length == 0)
            throw new ArgumentException("ResampleFilter needs at least one tap.");
    }

    /// <inheritdoc/>
    public bool Equals(DiscriminatorConfig? other) =>
        other is not null && CDim == other.CDim && ImgResolution == other.ImgResolution
        && ImgChannels == other.ImgChannels && Architecture == other.Architecture
        && ChannelBase == other.ChannelBase && ChannelMax == other.ChannelMax && NumFp16Res == other.NumFp16Res
        && ConvClamp == other.ConvClamp && CmapDim == other.CmapDim && Activation == other.Activation
        && ResampleFilter.AsSpan().SequenceEqual(other.ResampleFilter) && FreezeLayers == other.FreezeLayers
        && MbstdGroupSize == other.MbstdGroupSize && MbstdNumChannels == other.MbstdNumChannels
        && Mapping == other.Mapping;

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(CDim, ImgResolution, ImgChannels, Architecture, ChannelBase, ChannelMax, NumFp16Res,
            HashCode.Combine(ConvClamp, CmapDim, FreezeLayers, MbstdGroupSize, MbstdNumChannels, Mapping));
}

/// <summary>A generator and discriminator configuration that belong together (same resolution, channels, labels).</summary>
public sealed record NetworkConfigs(GeneratorConfig G, DiscriminatorConfig D);

/// <summary>The JSON form of the network configs: snake_case keys and enum names, as the official kwargs.</summary>
public static class NetworkJson
{
    /// <summary>Serializer options used for every architecture file.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };
}

internal static class NetworkConfigChecks
{
    public static void Resolution(int value, string name)
    {
        if (value < 4 || (value & (value - 1)) != 0)
            throw new ArgumentException($"{name} must be a power of two and at least 4, got {value}.");
    }

    public static void Positive(int value, string name)
    {
        if (value < 1)
            throw new ArgumentException($"{name} must be at least 1, got {value}.");
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
            throw new ArgumentException($"{name} must not be negative, got {value}.");
    }
}
