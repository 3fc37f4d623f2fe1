using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Convolution with equalized learning rate (weight N(0,1) scaled by 1/sqrt(in·k²) at run time), optional FIR
/// up/downsampling, bias, activation and clamp. A frozen layer (Freeze-D) holds weight and bias as buffers.
/// </summary>
public sealed class Conv2dLayer : nn.Module<Tensor, double, Tensor>
{
    private readonly Tensor resample_filter;
    private readonly Tensor weight;
    private readonly Tensor? bias;

    /// <summary>Number of input channels.</summary>
    public int InChannels { get; }

    /// <summary>Number of output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel width and height.</summary>
    public int KernelSize { get; }

    /// <summary>Upsampling factor.</summary>
    public int Up { get; }

    /// <summary>Downsampling factor.</summary>
    public int Down { get; }

    /// <summary>Clamp of the output (× gain); null = none.</summary>
    public double? ConvClamp { get; }

    /// <summary>Activation after the bias.</summary>
    public Activation Activation { get; }

    /// <summary>Run-time weight scale: 1/sqrt(in·k²).</summary>
    public double WeightGain { get; }

    /// <param name="inChannels">Number of input channels.</param>
    /// <param name="outChannels">Number of output channels.</param>
    /// <param name="kernelSize">Kernel width and height.</param>
    /// <param name="useBias">Add a bias before the activation.</param>
    /// <param name="activation">Activation after the bias.</param>
    /// <param name="up">Upsampling factor.</param>
    /// <param name="down">Downsampling factor.</param>
    /// <param name="resampleFilter">Taps of the low-pass filter used to resample; null = [1,3,3,1].</param>
    /// <param name="convClamp">Clamp the output to ±convClamp·gain; null = no clamp.</param>
    /// <param name="trainable">False = weights are buffers (not updated by the optimizer).</param>
    public Conv2dLayer(int inChannels, int outChannels, int kernelSize, bool useBias = true,
        Activation activation = Activation.Linear, int up = 1, int down = 1, IReadOnlyList<double>? resampleFilter = null,
        double? convClamp = null, bool trainable = true)
        : base(nameof(Conv2dLayer))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Up = up;
        Down = down;
        ConvClamp = convClamp;
        Activation = activation;
        WeightGain = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        resample_filter = Upfirdn2d.SetupFilter(resampleFilter ?? [1, 3, 3, 1]);
        var w = randn(outChannels, inChannels, kernelSize, kernelSize);
        var b = useBias ? zeros(outChannels) : null;
        weight = trainable ? new Parameter(w) : w;
        bias = b is null ? null : trainable ? new Parameter(b) : b;
        RegisterComponents();
    }

    /// <summary>[N, in, H, W] → [N, out, H·up/down, W·up/down]; <paramref name="gain"/> scales the activation gain and the clamp.</summary>
    public override Tensor forward(Tensor x, double gain)
    {
        TensorChecks.Shape(x, "Conv2dLayer input [NCHW]", null, InChannels, null, null);
        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var w = weight * WeightGain;
        if (w.dtype != dtype)
            w = w.to(dtype);
        var b = bias is null ? null : bias.dtype == dtype ? bias : bias.to(dtype);
        var y = Conv2dResample.Apply(x, w, resample_filter, Up, Down, KernelSize / 2, flipWeight: Up == 1);
        var clamp = ConvClamp is { } c ? c * gain : (double?)null;
        y = BiasAct.Apply(y, b, Activation, BiasAct.DefaultGain(Activation) * gain, clamp); // [NCHW]
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Runs with gain 1.</summary>
    public Tensor call(Tensor x) => call(x, 1.0);
}
