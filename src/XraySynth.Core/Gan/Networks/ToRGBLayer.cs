using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>toRGB: 1x1 modulated convolution without demodulation (style scaled by 1/sqrt(in·k²)), bias, clamp.</summary>
public sealed class ToRGBLayer : nn.Module<Tensor, Tensor, bool, Tensor>
{
    private readonly FullyConnectedLayer affine;
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Number of input channels.</summary>
    public int InChannels { get; }

    /// <summary>Number of image channels produced.</summary>
    public int OutChannels { get; }

    /// <summary>Clamp of the output; null = none.</summary>
    public double? ConvClamp { get; }

    private readonly double _weightGain;

    /// <param name="inChannels">Number of input channels.</param>
    /// <param name="outChannels">Number of image channels.</param>
    /// <param name="wDim">Intermediate latent (w) dimensionality.</param>
    /// <param name="kernelSize">Kernel size (1 in StyleGAN2).</param>
    /// <param name="convClamp">Clamp the output to ±convClamp; null = no clamp.</param>
    public ToRGBLayer(int inChannels, int outChannels, int wDim, int kernelSize = 1, double? convClamp = null)
        : base(nameof(ToRGBLayer))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        ConvClamp = convClamp;
        _weightGain = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        affine = new FullyConnectedLayer(wDim, inChannels, biasInit: 1);
        weight = new Parameter(randn(outChannels, inChannels, kernelSize, kernelSize));
        bias = new Parameter(zeros(outChannels));
        RegisterComponents();
    }

    /// <summary>x [N, in, H, W], w [N, w_dim] → [N, img_channels, H, W].</summary>
    public override Tensor forward(Tensor x, Tensor w, bool fused)
    {
        TensorChecks.Shape(x, "ToRGBLayer input [NCHW]", null, InChannels, null, null);
        using var scope = NewDisposeScope();
        var styles = affine.call(w) * _weightGain; // [N, in]
        var y = ModulatedConv.Apply(x, weight, styles, demodulate: false, fused: fused); // [N, C, H, W]
        var b = bias.dtype == y.dtype ? bias : bias.to(y.dtype);
        y = BiasAct.Apply(y, b, Activation.Linear, 1, ConvClamp);
        return y.MoveToOuterDisposeScope();
    }
}
