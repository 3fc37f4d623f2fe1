using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Bias, activation, gain and clamp in one place (the official bias_act op, here as plain tensor ops):
/// y = clamp(act(x + b) · gain, ±clamp).
/// </summary>
public static class BiasAct
{
    /// <summary>The default gain of an activation: sqrt(2) for (leaky) ReLU, 1 for linear.</summary>
    public static double DefaultGain(Activation act) => act == Activation.Linear ? 1.0 : Math.Sqrt(2.0);

    /// <summary>
    /// Adds <paramref name="b"/> along <paramref name="dim"/>, applies <paramref name="act"/>, multiplies by
    /// <paramref name="gain"/> and clamps to ±<paramref name="clamp"/> (null = no clamp).
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor? b, Activation act, double gain = 1, double? clamp = null, int dim = 1)
    {
        using var scope = NewDisposeScope();
        var y = x;
        if (b is not null)
        {
            var rank = (int)x.dim();
            var shape = new long[rank];
            Array.Fill(shape, 1L);
            shape[dim] = -1;
            y = y + b.reshape(shape);
        }
        y = act switch
        {
            Activation.Linear => y,
            Activation.Relu => nn.functional.relu(y),
            Activation.Lrelu => nn.functional.leaky_relu(y, 0.2),
            _ => throw new ArgumentOutOfRangeException(nameof(act), act, null),
        };
        if (gain != 1)
            y = y * gain;
        if (clamp is { } c)
            y = y.clamp(-c, c);
        // No op ran: hand back the input itself, untouched by this scope.
        return ReferenceEquals(y, x) ? x : y.MoveToOuterDisposeScope();
    }
}
