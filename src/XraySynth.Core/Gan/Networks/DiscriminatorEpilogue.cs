using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// The discriminator's 4x4 head: (fromRGB in 'skip'), minibatch stddev, conv 3x3, FC (C·16 → C), FC → 1 or
/// cmap_dim; with labels, the projection (x · cmap) summed and scaled by 1/sqrt(cmap_dim).
/// A 4x4 discriminator has no blocks, so its epilogue reads the image through fromRGB (the official code cannot
/// build a 4 px discriminator; this is our extension and changes nothing at other resolutions).
/// </summary>
public sealed class DiscriminatorEpilogue : nn.Module<Tensor?, Tensor?, Tensor?, Tensor>
{
    private readonly Conv2dLayer? fromrgb;
    private readonly MinibatchStdLayer? mbstd;
    private readonly Conv2dLayer conv;
    private readonly FullyConnectedLayer fc;
    private readonly FullyConnectedLayer @out;

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Width of the mapped label; 0 = unconditional.</summary>
    public int CmapDim { get; }

    /// <summary>Resolution of the input (4).</summary>
    public int Resolution { get; }

    /// <summary>Number of image channels.</summary>
    public int ImgChannels { get; }

    /// <summary>Architecture (fromRGB here only in 'skip').</summary>
    public Architecture Architecture { get; }

    /// <summary>Whether the epilogue reads the image itself (4 px discriminator).</summary>
    public bool ReadsImage { get; }

    /// <param name="inChannels">Input channels.</param>
    /// <param name="cmapDim">Width of the mapped label; 0 = unconditional.</param>
    /// <param name="resolution">Resolution of the input.</param>
    /// <param name="imgChannels">Number of image channels.</param>
    /// <param name="architecture">orig, skip or resnet.</param>
    /// <param name="mbstdGroupSize">Minibatch-stddev group size; null = whole minibatch.</param>
    /// <param name="mbstdNumChannels">Minibatch-stddev feature channels; 0 = no such layer.</param>
    /// <param name="activation">Activation of conv and fc.</param>
    /// <param name="convClamp">Clamp of the conv output; null = none.</param>
    /// <param name="readsImage">True when no block precedes the epilogue (4 px): x is fromRGB(img).</param>
    public DiscriminatorEpilogue(int inChannels, int cmapDim, int resolution, int imgChannels,
        Architecture architecture = Architecture.Resnet, int? mbstdGroupSize = 4, int mbstdNumChannels = 1,
        Activation activation = Activation.Lrelu, double? convClamp = null, bool readsImage = false)
        : base(nameof(DiscriminatorEpilogue))
    {
        InChannels = inChannels;
        CmapDim = cmapDim;
        Resolution = resolution;
        ImgChannels = imgChannels;
        Architecture = architecture;
        ReadsImage = readsImage;
        if (architecture == Architecture.Skip || readsImage)
            fromrgb = new Conv2dLayer(imgChannels, inChannels, kernelSize: 1, activation: activation);
        if (mbstdNumChannels > 0)
            mbstd = new MinibatchStdLayer(mbstdGroupSize, mbstdNumChannels);
        conv = new Conv2dLayer(inChannels + mbstdNumChannels, inChannels, kernelSize: 3, activation: activation,
            convClamp: convClamp);
        fc = new FullyConnectedLayer(inChannels * resolution * resolution, inChannels, activation: activation);
        @out = new FullyConnectedLayer(inChannels, cmapDim == 0 ? 1 : cmapDim);
        RegisterComponents();
    }

    /// <summary>
    /// x [N, C, 4, 4] (null when <see cref="ReadsImage"/>), img [N, C_img, 4, 4] ('skip' or 4 px only),
    /// cmap [N, cmap_dim] (conditional only) → [N, 1].
    /// </summary>
    public override Tensor forward(Tensor? x, Tensor? img, Tensor? cmap)
    {
        using var scope = NewDisposeScope();
        Tensor? h = null;
        if (x is not null)
        {
            TensorChecks.Shape(x, "b4 x [NCHW]", null, InChannels, Resolution, Resolution);
            h = x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        }
        if (fromrgb is not null)
        {
            if (img is null)
                throw new ArgumentException("This epilogue needs the image.", nameof(img));
            TensorChecks.Shape(img, "b4 img [NCHW]", null, ImgChannels, Resolution, Resolution);
            var y = fromrgb.call(img.to(ScalarType.Float32), 1.0); // [N, C, 4, 4]
            h = h is null ? y : h + y;
        }
        if (h is null)
            throw new ArgumentException("The epilogue needs the features of the previous block.", nameof(x));
        var n = h.shape[0];
        if (mbstd is not null)
            h = mbstd.call(h); // [N, C+1, 4, 4]
        h = conv.call(h, 1.0); // [N, C, 4, 4]
        h = fc.call(h.flatten(1)); // [N, C]
        h = @out.call(h); // [N, 1] or [N, cmap_dim]
        if (CmapDim > 0)
        {
            if (cmap is null)
                throw new ArgumentException("A conditional discriminator needs the mapped label.", nameof(cmap));
            TensorChecks.Shape(cmap, "b4 cmap [N, cmap_dim]", n, CmapDim);
            h = (h * cmap).sum(1, keepdim: true) * (1 / Math.Sqrt(CmapDim)); // [N, 1]
        }
        return h.MoveToOuterDisposeScope();
    }
}
