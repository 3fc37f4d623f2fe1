using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Mapping network z (and label c) → w: normalise z by its RMS, embed and normalise c, concatenate, then
/// N fully connected layers (lr_mul 0.01). Broadcasts w to num_ws copies, tracks w_avg and applies truncation.
/// </summary>
public sealed class MappingNetwork : nn.Module<Tensor?, Tensor?, double, int?, bool, Tensor>
{
    private readonly FullyConnectedLayer? embed;
    private readonly Tensor? w_avg;
    private readonly List<FullyConnectedLayer> _layers = [];

    /// <summary>Input latent dimensionality (0 = none, as in the discriminator's label mapping).</summary>
    public int ZDim { get; }

    /// <summary>Label dimensionality (0 = none).</summary>
    public int CDim { get; }

    /// <summary>Output dimensionality.</summary>
    public int WDim { get; }

    /// <summary>Number of broadcast copies of w; null = output [N, w_dim].</summary>
    public int? NumWs { get; }

    /// <summary>Decay of the running average of w; null = not tracked.</summary>
    public double? WAvgBeta { get; }

    /// <summary>The running average of w [w_dim], or null when not tracked.</summary>
    public Tensor? WAvg => w_avg;

    /// <param name="zDim">Input latent dimensionality, 0 = no latent.</param>
    /// <param name="cDim">Label dimensionality, 0 = no label.</param>
    /// <param name="wDim">Output (w) dimensionality.</param>
    /// <param name="numWs">Number of broadcast copies of w; null = do not broadcast.</param>
    /// <param name="config">Layer count, widths, activation, lr multiplier and w_avg decay.</param>
    public MappingNetwork(int zDim, int cDim, int wDim, int? numWs, MappingConfig config)
        : base(nameof(MappingNetwork))
    {
        if (zDim == 0 && cDim == 0)
            throw new ArgumentException("The mapping network needs z_dim > 0 or c_dim > 0.");
        ZDim = zDim;
        CDim = cDim;
        WDim = wDim;
        NumWs = numWs;
        WAvgBeta = config.WAvgBeta;
        var embedFeatures = cDim == 0 ? 0 : config.EmbedFeatures ?? wDim;
        var layerFeatures = config.LayerFeatures ?? wDim;
        if (cDim > 0)
            embed = new FullyConnectedLayer(cDim, embedFeatures);
        if (numWs is not null && config.WAvgBeta is not null)
            w_avg = zeros(wDim);
        RegisterComponents();

        for (var idx = 0; idx < config.NumLayers; idx++)
        {
            var inFeatures = idx == 0 ? zDim + embedFeatures : layerFeatures;
            var outFeatures = idx == config.NumLayers - 1 ? wDim : layerFeatures;
            var layer = new FullyConnectedLayer(inFeatures, outFeatures, activation: config.Activation,
                lrMultiplier: config.LrMultiplier);
            register_module($"fc{idx}", layer);
            _layers.Add(layer);
        }
    }

    /// <summary>
    /// z [N, z_dim] (or null when z_dim = 0), c [N, c_dim] (or null / [N, 0] when c_dim = 0) → ws [N, num_ws, w_dim]
    /// (or [N, w_dim] when not broadcasting). <paramref name="truncationPsi"/> pulls the first
    /// <paramref name="truncationCutoff"/> ws (all when null) towards w_avg; <paramref name="updateEmas"/> updates
    /// w_avg from this batch first.
    /// </summary>
    public override Tensor forward(Tensor? z, Tensor? c, double truncationPsi, int? truncationCutoff, bool updateEmas)
    {
        using var scope = NewDisposeScope();
        Tensor? x = null;
        if (ZDim > 0)
        {
            if (z is null)
                throw new ArgumentException($"The mapping network needs z [N, {ZDim}].", nameof(z));
            TensorChecks.Shape(z, "mapping z [N, z_dim]", null, ZDim);
            x = NormalizeSecondMoment(z.to(ScalarType.Float32));
        }
        if (CDim > 0)
        {
            if (c is null)
                throw new ArgumentException($"This network is conditional: it needs labels c [N, {CDim}].", nameof(c));
            TensorChecks.Shape(c, "mapping c [N, c_dim]", x?.shape[0], CDim);
            var y = NormalizeSecondMoment(embed!.call(c.to(ScalarType.Float32)));
            x = x is null ? y : cat([x, y], 1); // [N, z_dim + embed]
        }
        foreach (var layer in _layers)
            x = layer.call(x!); // [N, w_dim]

        if (updateEmas)
            UpdateWAvg(x!);

        if (NumWs is { } numWs)
            x = x!.unsqueeze(1).expand(-1, numWs, -1); // [N, num_ws, w_dim]

        if (truncationPsi != 1)
        {
            if (w_avg is null)
                throw new InvalidOperationException("Truncation needs w_avg, but this mapping network does not track it.");
            if (NumWs is null || truncationCutoff is null || truncationCutoff >= NumWs)
            {
                x = w_avg.lerp(x!, truncationPsi);
            }
            else
            {
                var cutoff = Math.Max(truncationCutoff.Value, 0);
                var head = w_avg.lerp(x!.narrow(1, 0, cutoff), truncationPsi);
                x = cat([head, x.narrow(1, cutoff, NumWs.Value - cutoff)], 1); // [N, num_ws, w_dim]
            }
        }
        return x!.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Runs without truncation and without updating w_avg.</summary>
    public Tensor call(Tensor? z, Tensor? c) => call(z, c, 1.0, null, false);

    /// <summary>w_avg ← lerp(mean_n(w), w_avg, beta) for w [N, w_dim]; no gradient flows.</summary>
    public void UpdateWAvg(Tensor w)
    {
        if (w_avg is null || WAvgBeta is not { } beta)
            throw new InvalidOperationException("This mapping network does not track w_avg.");
        TensorChecks.Shape(w, "w [N, w_dim]", null, WDim);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        w_avg.copy_(w.detach().mean([0]).lerp(w_avg, beta));
    }

    /// <summary>x · rsqrt(mean(x², dim 1) + 1e-8).</summary>
    public static Tensor NormalizeSecondMoment(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (x * (x.square().mean([1], keepdim: true) + 1e-8).rsqrt()).MoveToOuterDisposeScope();
    }
}
