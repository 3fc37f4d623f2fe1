using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Fully connected layer with equalized learning rate: the weight is stored as N(0,1)/lr_mul and scaled at run time
/// by lr_mul/sqrt(in_features); the bias is scaled by lr_mul.
/// </summary>
public sealed class FullyConnectedLayer : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <summary>Number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>Number of output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Activation after the bias.</summary>
    public Activation Activation { get; }

    /// <summary>Run-time weight scale: lr_mul / sqrt(in_features).</summary>
    public double WeightGain { get; }

    /// <summary>Run-time bias scale: lr_mul.</summary>
    public double BiasGain { get; }

    /// <param name="inFeatures">Number of input features.</param>
    /// <param name="outFeatures">Number of output features.</param>
    /// <param name="useBias">Add a bias before the activation.</param>
    /// <param name="activation">Activation after the bias.</param>
    /// <param name="lrMultiplier">Learning-rate multiplier (equalized LR).</param>
    /// <param name="biasInit">Initial value of the bias (1 for the style affines).</param>
    public FullyConnectedLayer(int inFeatures, int outFeatures, bool useBias = true,
        Activation activation = Activation.Linear, double lrMultiplier = 1, double biasInit = 0)
        : base(nameof(FullyConnectedLayer))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Activation = activation;
        WeightGain = lrMultiplier / Math.Sqrt(inFeatures);
        BiasGain = lrMultiplier;
        weight = new Parameter(randn(outFeatures, inFeatures).div_(lrMultiplier));
        bias = useBias ? new Parameter(full(outFeatures, biasInit)) : null;
        RegisterComponents();
    }

    /// <summary>[N, in] → [N, out].</summary>
    public override Tensor forward(Tensor x)
    {
        TensorChecks.Shape(x, "FullyConnectedLayer input [N, in]", null, InFeatures);
        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var w = (weight.dtype == dtype ? weight : weight.to(dtype)) * WeightGain;
        Tensor? b = null;
        if (bias is not null)
        {
            b = bias.dtype == dtype ? bias : bias.to(dtype);
            if (BiasGain != 1)
                b = b * BiasGain;
        }
        Tensor y;
        if (b is not null)
        {
            y = addmm(b.unsqueeze(0), x, w.t(), beta: 1, alpha: 1); // [N, out]
            y = BiasAct.Apply(y, null, Activation, BiasAct.DefaultGain(Activation));
        }
        else
        {
            y = BiasAct.Apply(x.matmul(w.t()), null, Activation, BiasAct.DefaultGain(Activation));
        }
        return y.MoveToOuterDisposeScope();
    }
}
