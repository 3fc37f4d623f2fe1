using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>Per-call settings of the synthesis network.</summary>
public sealed record SynthesisOptions
{
    /// <summary>Noise fed to the synthesis layers.</summary>
    public NoiseMode NoiseMode { get; init; } = NoiseMode.Random;

    /// <summary>Run every block in fp32 even where the config asks for fp16.</summary>
    public bool ForceFp32 { get; init; }

    /// <summary>Run the fp16 blocks in fp16 on a CPU too (the official code, and the default, keep a CPU in fp32). For
    /// testing the fp16 path without a GPU; CPU half-precision kernels are slow.</summary>
    public bool Fp16OnCpu { get; init; }

    /// <summary>Grouped (fused) modulated convolution; null = fused when not training and fp32 (official rule).</summary>
    public bool? FusedModconv { get; init; }

    /// <summary>
    /// Explicit N(0,1) noise images, one [N, 1, res, res] per noise layer in forward order
    /// (<see cref="SynthesisNetwork.NoiseResolutions"/>); they replace <see cref="NoiseMode"/>. Null = use the mode.
    /// </summary>
    public IReadOnlyList<Tensor>? Noise { get; init; }

    /// <summary>The defaults: random noise, fp16 where configured, official fused rule.</summary>
    public static SynthesisOptions Default { get; } = new();
}

/// <summary>
/// One resolution of the synthesis network: the learned constant (4x4) or conv0 (up ×2), conv1, and toRGB; in the
/// 'skip' architecture the image so far is upsampled and the new toRGB output added.
/// </summary>
public sealed class SynthesisBlock : nn.Module<Tensor?, Tensor?, Tensor, SynthesisOptions, (Tensor X, Tensor? Img)>
{
    private readonly Tensor resample_filter;
    private readonly Parameter? @const;
    private readonly SynthesisLayer? conv0;
    private readonly SynthesisLayer conv1;
    private readonly ToRGBLayer? torgb;
    private readonly Conv2dLayer? skip;

    /// <summary>Input channels; 0 = first block (starts from the learned constant).</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Resolution of this block.</summary>
    public int Resolution { get; }

    /// <summary>Number of image channels.</summary>
    public int ImgChannels { get; }

    /// <summary>Whether this is the last (highest-resolution) block.</summary>
    public bool IsLast { get; }

    /// <summary>Block architecture.</summary>
    public Architecture Architecture { get; }

    /// <summary>Whether this block runs in fp16 on CUDA.</summary>
    public bool UseFp16 { get; }

    /// <summary>Number of synthesis layers (each consumes one w).</summary>
    public int NumConv { get; }

    /// <summary>Number of toRGB layers (each consumes one w, shared with the next block's conv0).</summary>
    public int NumToRgb { get; }

    private readonly int _wDim;

    /// <param name="inChannels">Input channels; 0 = first block.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="wDim">Intermediate latent (w) dimensionality.</param>
    /// <param name="resolution">Resolution of this block.</param>
    /// <param name="imgChannels">Number of image channels.</param>
    /// <param name="isLast">Whether this is the last block.</param>
    /// <param name="useFp16">Run this block in fp16 on CUDA.</param>
    /// <param name="config">Architecture, filter, clamp, noise, activation and kernel size.</param>
    public SynthesisBlock(int inChannels, int outChannels, int wDim, int resolution, int imgChannels, bool isLast,
        bool useFp16, SynthesisConfig config)
        : base(nameof(SynthesisBlock))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Resolution = resolution;
        ImgChannels = imgChannels;
        IsLast = isLast;
        Architecture = config.Architecture;
        UseFp16 = useFp16;
        _wDim = wDim;
        resample_filter = Upfirdn2d.SetupFilter(config.ResampleFilter);
        if (inChannels == 0)
        {
            @const = new Parameter(randn(outChannels, resolution, resolution));
        }
        else
        {
            conv0 = new SynthesisLayer(inChannels, outChannels, wDim, resolution, config.KernelSize, up: 2,
                config.UseNoise, config.Activation, config.ResampleFilter, config.ConvClamp);
            NumConv++;
        }
        conv1 = new SynthesisLayer(outChannels, outChannels, wDim, resolution, config.KernelSize, up: 1,
            config.UseNoise, config.Activation, config.ResampleFilter, config.ConvClamp);
        NumConv++;
        if (isLast || config.Architecture == Architecture.Skip)
        {
            torgb = new ToRGBLayer(outChannels, imgChannels, wDim, convClamp: config.ConvClamp);
            NumToRgb++;
        }
        NoiseResolutions = new[] { conv0, conv1 }.Where(l => l is { UseNoise: true }).Select(l => l!.Resolution)
            .ToArray();
        if (inChannels != 0 && config.Architecture == Architecture.Resnet)
        {
            skip = new Conv2dLayer(inChannels, outChannels, kernelSize: 1, useBias: false, up: 2,
                resampleFilter: config.ResampleFilter);
        }
        RegisterComponents();
    }

    /// <summary>Resolutions of this block's noise inputs, in forward order (empty when noise is off).</summary>
    public IReadOnlyList<int> NoiseResolutions { get; }

    /// <summary>
    /// x [N, in, res/2, res/2] (null for the first block), img [N, C, res/2, res/2] (null before the first toRGB),
    /// ws [N, num_conv + num_torgb, w_dim] → (x [N, out, res, res], img [N, C, res, res] or null).
    /// </summary>
    public override (Tensor X, Tensor? Img) forward(Tensor? x, Tensor? img, Tensor ws, SynthesisOptions options)
    {
        var wsShape = TensorChecks.Shape(ws, $"b{Resolution} ws [N, num_ws, w_dim]", null, NumConv + NumToRgb, _wDim);
        var n = wsShape[0];
        var noise = options.Noise;
        var noiseCount = NoiseResolutions.Count;
        if (noise is not null && noise.Count != noiseCount)
            throw new ArgumentException($"b{Resolution}: expected {noiseCount} noise images, got {noise.Count}.");

        using var scope = NewDisposeScope();
        var device = ws.device;
        var dtype = BlockPrecision.Dtype(UseFp16, options.ForceFp32, options.Fp16OnCpu, device);
        var fused = options.FusedModconv ?? (!training && (dtype == ScalarType.Float32 || n == 1));
        var mode = options.NoiseMode;
        var wIdx = 0;
        var noiseIdx = 0;
        Tensor? NextNoise(SynthesisLayer layer) =>
            noise is null || !layer.UseNoise ? null : noise[noiseIdx++];

        // Input.
        Tensor h;
        if (InChannels == 0)
        {
            h = @const!.to(dtype).unsqueeze(0).expand(n, -1, -1, -1); // [N, out, 4, 4]
        }
        else
        {
            if (x is null)
                throw new ArgumentException($"b{Resolution} needs the features of the previous block.", nameof(x));
            TensorChecks.Shape(x, $"b{Resolution} x [NCHW]", n, InChannels, Resolution / 2, Resolution / 2);
            h = x.dtype == dtype ? x : x.to(dtype);
        }

        // Main layers.
        if (InChannels == 0)
        {
            h = conv1.call(h, ws.select(1, wIdx++), mode, NextNoise(conv1), fused, 1.0);
        }
        else if (Architecture == Architecture.Resnet)
        {
            var y = skip!.call(h, Math.Sqrt(0.5));
            h = conv0!.call(h, ws.select(1, wIdx++), mode, NextNoise(conv0), fused, 1.0);
            h = conv1.call(h, ws.select(1, wIdx++), mode, NextNoise(conv1), fused, Math.Sqrt(0.5));
            h = y + h;
        }
        else
        {
            h = conv0!.call(h, ws.select(1, wIdx++), mode, NextNoise(conv0), fused, 1.0);
            h = conv1.call(h, ws.select(1, wIdx++), mode, NextNoise(conv1), fused, 1.0); // [N, out, res, res]
        }

        // ToRGB.
        Tensor? outImg = null;
        if (img is not null)
        {
            TensorChecks.Shape(img, $"b{Resolution} img [NCHW]", n, ImgChannels, Resolution / 2, Resolution / 2);
            outImg = Upfirdn2d.Upsample2d(img, resample_filter); // [N, C, res, res]
        }
        if (torgb is not null)
        {
            var y = torgb.call(h, ws.select(1, wIdx), fused);
            if (y.dtype != ScalarType.Float32)
                y = y.to(ScalarType.Float32);
            outImg = outImg is null ? y : outImg + y; // [N, C, res, res]
        }

        h.MoveToOuterDisposeScope();
        outImg?.MoveToOuterDisposeScope();
        return (h, outImg);
    }
}
