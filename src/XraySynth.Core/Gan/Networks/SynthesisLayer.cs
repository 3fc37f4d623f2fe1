using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// One synthesis layer: style = affine(w), modulated 3x3 conv (optionally upsampling ×2), noise, bias, activation.
/// </summary>
public sealed class SynthesisLayer : nn.Module<Tensor, Tensor, NoiseMode, Tensor?, bool, double, Tensor>
{
    private readonly Tensor resample_filter;
    private readonly FullyConnectedLayer affine;
    private readonly Parameter weight;
    private readonly Tensor? noise_const;
    private readonly Parameter? noise_strength;
    private readonly Parameter bias;

    /// <summary>Number of input channels.</summary>
    public int InChannels { get; }

    /// <summary>Number of output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Output resolution of this layer.</summary>
    public int Resolution { get; }

    /// <summary>Upsampling factor (2 for conv0 of each block above 4x4).</summary>
    public int Up { get; }

    /// <summary>Whether this layer has a noise input.</summary>
    public bool UseNoise { get; }

    /// <summary>Clamp of the output (× gain); null = none.</summary>
    public double? ConvClamp { get; }

    /// <summary>Activation after the bias.</summary>
    public Activation Activation { get; }

    private readonly int _kernelSize;

    /// <param name="inChannels">Number of input channels.</param>
    /// <param name="outChannels">Number of output channels.</param>
    /// <param name="wDim">Intermediate latent (w) dimensionality.</param>
    /// <param name="resolution">Output resolution of this layer.</param>
    /// <param name="kernelSize">Convolution kernel size.</param>
    /// <param name="up">Upsampling factor.</param>
    /// <param name="useNoise">Add per-pixel noise.</param>
    /// <param name="activation">Activation after the bias.</param>
    /// <param name="resampleFilter">Taps of the upsampling low-pass filter.</param>
    /// <param name="convClamp">Clamp the output to ±convClamp·gain; null = no clamp.</param>
    public SynthesisLayer(int inChannels, int outChannels, int wDim, int resolution, int kernelSize = 3, int up = 1,
        bool useNoise = true, Activation activation = Activation.Lrelu, IReadOnlyList<double>? resampleFilter = null,
        double? convClamp = null)
        : base(nameof(SynthesisLayer))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Resolution = resolution;
        Up = up;
        UseNoise = useNoise;
        ConvClamp = convClamp;
        Activation = activation;
        _kernelSize = kernelSize;
        resample_filter = Upfirdn2d.SetupFilter(resampleFilter ?? [1, 3, 3, 1]);
        affine = new FullyConnectedLayer(wDim, inChannels, biasInit: 1);
        weight = new Parameter(randn(outChannels, inChannels, kernelSize, kernelSize));
        if (useNoise)
        {
            noise_const = randn(resolution, resolution);
            noise_strength = new Parameter(zeros([]));
        }
        bias = new Parameter(zeros(outChannels));
        RegisterComponents();
    }

    /// <summary>
    /// x [N, in, res/up, res/up], w [N, w_dim] → [N, out, res, res]. An explicit <paramref name="noise"/> image
    /// [N, 1, res, res] (N(0,1), before noise_strength) replaces <paramref name="noiseMode"/>. <paramref name="fused"/>
    /// selects the grouped convolution; <paramref name="gain"/> scales the activation gain and the clamp.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor w, NoiseMode noiseMode, Tensor? noise, bool fused, double gain)
    {
        var inRes = Resolution / Up;
        var xs = TensorChecks.Shape(x, "SynthesisLayer input [NCHW]", null, InChannels, inRes, inRes);
        using var scope = NewDisposeScope();
        var styles = affine.call(w); // [N, in]

        Tensor? n = null;
        if (UseNoise)
        {
            if (noise is not null)
            {
                TensorChecks.Shape(noise, "SynthesisLayer noise [N,1,H,W]", xs[0], 1, Resolution, Resolution);
                n = noise * noise_strength!;
            }
            else if (noiseMode == NoiseMode.Random)
            {
                n = randn([xs[0], 1, Resolution, Resolution], device: x.device) * noise_strength!; // [N1HW]
            }
            else if (noiseMode == NoiseMode.Const)
            {
                n = noise_const! * noise_strength!; // [HW]
            }
        }

        var y = ModulatedConv.Apply(x, weight, styles, n, up: Up, padding: _kernelSize / 2,
            resampleFilter: resample_filter, flipWeight: Up == 1, fused: fused); // [N, out, res, res]
        var clamp = ConvClamp is { } c ? c * gain : (double?)null;
        var b = bias.dtype == y.dtype ? bias : bias.to(y.dtype);
        y = BiasAct.Apply(y, b, Activation, BiasAct.DefaultGain(Activation) * gain, clamp);
        return y.MoveToOuterDisposeScope();
    }
}
