using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Minibatch standard deviation: splits the batch into groups of G (sample i belongs to group i mod N/G), takes the
/// std over each group (+1e-8 inside the sqrt), averages it over channels (in F feature groups) and pixels, and
/// appends it as F new channels.
/// </summary>
public sealed class MinibatchStdLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>Group size; null = the whole minibatch.</summary>
    public int? GroupSize { get; }

    /// <summary>Number of appended feature channels.</summary>
    public int NumChannels { get; }

    /// <param name="groupSize">Group size (capped at N); null = the whole minibatch.</param>
    /// <param name="numChannels">Number of appended feature channels.</param>
    public MinibatchStdLayer(int? groupSize, int numChannels = 1) : base(nameof(MinibatchStdLayer))
    {
        GroupSize = groupSize;
        NumChannels = numChannels;
        RegisterComponents();
    }

    /// <summary>[N, C, H, W] → [N, C + F, H, W].</summary>
    public override Tensor forward(Tensor x)
    {
        var s = TensorChecks.Shape(x, "MinibatchStdLayer input [NCHW]", null, null, null, null);
        long n = s[0], c = s[1], h = s[2], w = s[3];
        long g = GroupSize is { } gs ? Math.Min(gs, n) : n;
        long f = NumChannels;
        if (n % g != 0)
            throw new ArgumentException($"MinibatchStdLayer: batch size {n} is not divisible by the group size {g}.");
        if (c % f != 0)
            throw new ArgumentException($"MinibatchStdLayer: {c} channels are not divisible into {f} groups.");
        using var scope = NewDisposeScope();
        var y = x.reshape(g, -1, f, c / f, h, w); // [GnFcHW]
        y = y - y.mean([0]); // [GnFcHW]
        y = y.square().mean([0]); // [nFcHW]
        y = (y + 1e-8).sqrt(); // [nFcHW]
        y = y.mean([2, 3, 4]); // [nF]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w); // [NFHW]
        return cat([x, y], 1).MoveToOuterDisposeScope(); // [N, C+F, H, W]
    }
}
