using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// One resolution of the discriminator: fromRGB (top block, or every block in 'skip'), conv0 3x3, conv1 3x3 with
/// downsampling ×2 and, in 'resnet', a 1x1 downsampling skip without bias; both paths scaled by sqrt(0.5).
/// </summary>
public sealed class DiscriminatorBlock : nn.Module<Tensor?, Tensor?, (bool ForceFp32, bool Fp16OnCpu), (Tensor X, Tensor? Img)>
{
    private readonly Tensor resample_filter;
    private readonly Conv2dLayer? fromrgb;
    private readonly Conv2dLayer conv0;
    private readonly Conv2dLayer conv1;
    private readonly Conv2dLayer? skip;

    /// <summary>Input channels; 0 = first block (reads the image).</summary>
    public int InChannels { get; }

    /// <summary>Resolution of this block's input.</summary>
    public int Resolution { get; }

    /// <summary>Number of image channels.</summary>
    public int ImgChannels { get; }

    /// <summary>Block architecture.</summary>
    public Architecture Architecture { get; }

    /// <summary>Whether this block runs in fp16 on CUDA.</summary>
    public bool UseFp16 { get; }

    /// <summary>Number of layers (for Freeze-D counting).</summary>
    public int NumLayers { get; private set; }

    /// <param name="inChannels">Input channels; 0 = first block.</param>
    /// <param name="tmpChannels">Channels of the intermediate layers.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="resolution">Resolution of this block's input.</param>
    /// <param name="imgChannels">Number of image channels.</param>
    /// <param name="firstLayerIdx">Index of this block's first layer (Freeze-D counts from fromRGB).</param>
    /// <param name="architecture">orig, skip or resnet.</param>
    /// <param name="activation">Activation of the convolutions.</param>
    /// <param name="resampleFilter">Taps of the downsampling low-pass filter.</param>
    /// <param name="convClamp">Clamp of the convolution outputs; null = none.</param>
    /// <param name="useFp16">Run this block in fp16 on CUDA.</param>
    /// <param name="freezeLayers">Layers with index below this are frozen (buffers, not parameters).</param>
    public DiscriminatorBlock(int inChannels, int tmpChannels, int outChannels, int resolution, int imgChannels,
        int firstLayerIdx, Architecture architecture = Architecture.Resnet, Activation activation = Activation.Lrelu,
        IReadOnlyList<double>? resampleFilter = null, double? convClamp = null, bool useFp16 = false,
        int freezeLayers = 0)
        : base(nameof(DiscriminatorBlock))
    {
        if (inChannels != 0 && inChannels != tmpChannels)
            throw new ArgumentException($"in_channels must be 0 or tmp_channels ({tmpChannels}), got {inChannels}.");
        InChannels = inChannels;
        Resolution = resolution;
        ImgChannels = imgChannels;
        Architecture = architecture;
        UseFp16 = useFp16;
        var filter = resampleFilter ?? [1, 3, 3, 1];
        resample_filter = Upfirdn2d.SetupFilter(filter);
        bool Trainable() => firstLayerIdx + NumLayers++ >= freezeLayers;

        if (inChannels == 0 || architecture == Architecture.Skip)
        {
            fromrgb = new Conv2dLayer(imgChannels, tmpChannels, kernelSize: 1, activation: activation,
                convClamp: convClamp, trainable: Trainable());
        }
        conv0 = new Conv2dLayer(tmpChannels, tmpChannels, kernelSize: 3, activation: activation,
            convClamp: convClamp, trainable: Trainable());
        conv1 = new Conv2dLayer(tmpChannels, outChannels, kernelSize: 3, activation: activation, down: 2,
            resampleFilter: filter, convClamp: convClamp, trainable: Trainable());
        if (architecture == Architecture.Resnet)
        {
            skip = new Conv2dLayer(tmpChannels, outChannels, kernelSize: 1, useBias: false, down: 2,
                resampleFilter: filter, trainable: Trainable());
        }
        RegisterComponents();
    }

    /// <summary>
    /// x [N, in, res, res] (null for the first block), img [N, C, res, res] (first block or 'skip') →
    /// (x [N, out, res/2, res/2], img [N, C, res/2, res/2] in 'skip', else null).
    /// </summary>
    public override (Tensor X, Tensor? Img) forward(Tensor? x, Tensor? img, (bool ForceFp32, bool Fp16OnCpu) precision)
    {
        using var scope = NewDisposeScope();
        var device = (x ?? img ?? throw new ArgumentException("A discriminator block needs x or img.")).device;
        var dtype = BlockPrecision.Dtype(UseFp16, precision.ForceFp32, precision.Fp16OnCpu, device);

        Tensor? h = null;
        if (x is not null)
        {
            TensorChecks.Shape(x, $"b{Resolution} x [NCHW]", null, InChannels, Resolution, Resolution);
            h = x.dtype == dtype ? x : x.to(dtype);
        }

        Tensor? outImg = null;
        if (fromrgb is not null)
        {
            if (img is null)
                throw new ArgumentException($"b{Resolution} needs the image.", nameof(img));
            TensorChecks.Shape(img, $"b{Resolution} img [NCHW]", null, ImgChannels, Resolution, Resolution);
            var im = img.dtype == dtype ? img : img.to(dtype);
            var y = fromrgb.call(im, 1.0);
            h = h is null ? y : h + y; // [N, tmp, res, res]
            if (Architecture == Architecture.Skip)
                outImg = Upfirdn2d.Downsample2d(im, resample_filter); // [N, C, res/2, res/2]
        }
        if (h is null)
            throw new ArgumentException($"b{Resolution} needs the features of the previous block.", nameof(x));

        if (Architecture == Architecture.Resnet)
        {
            var y = skip!.call(h, Math.Sqrt(0.5));
            h = conv0.call(h, 1.0);
            h = conv1.call(h, Math.Sqrt(0.5));
            h = y + h; // [N, out, res/2, res/2]
        }
        else
        {
            h = conv0.call(h, 1.0);
            h = conv1.call(h, 1.0); // [N, out, res/2, res/2]
        }
        h.MoveToOuterDisposeScope();
        outImg?.MoveToOuterDisposeScope();
        return (h, outImg);
    }
}
