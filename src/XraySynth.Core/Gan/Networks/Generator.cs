using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// StyleGAN2 generator: <see cref="MappingNetwork"/> (z, c → ws) then <see cref="SynthesisNetwork"/> (ws → image).
/// State-dict keys match the official networks (mapping.fc0.weight, synthesis.b4.const, …).
/// </summary>
public sealed class Generator : nn.Module<Tensor, Tensor?, double, int?, NoiseMode, bool, Tensor>
{
    private readonly SynthesisNetwork synthesis;
    private readonly MappingNetwork mapping;

    /// <summary>The configuration this generator was built from.</summary>
    public GeneratorConfig Config { get; }

    /// <summary>The mapping network (z, c → ws).</summary>
    public MappingNetwork Mapping => mapping;

    /// <summary>The synthesis network (ws → image).</summary>
    public SynthesisNetwork Synthesis => synthesis;

    /// <summary>Number of w vectors the synthesis network consumes.</summary>
    public int NumWs => synthesis.NumWs;

    /// <summary>Input latent dimensionality.</summary>
    public int ZDim => Config.ZDim;

    /// <summary>Label dimensionality (0 = unconditional).</summary>
    public int CDim => Config.CDim;

    /// <summary>Builds a freshly initialised generator (weights from the global torch RNG).</summary>
    public Generator(GeneratorConfig config) : base(nameof(Generator))
    {
        config.Validate();
        Config = config;
        synthesis = new SynthesisNetwork(config.WDim, config.ImgResolution, config.ImgChannels, config.Synthesis);
        mapping = new MappingNetwork(config.ZDim, config.CDim, config.WDim, synthesis.NumWs, config.Mapping);
        RegisterComponents();
    }

    /// <summary>
    /// z [N, z_dim], c [N, c_dim] (null or [N, 0] when unconditional) → img [N, C, res, res].
    /// <paramref name="truncationPsi"/> 1 = no truncation; <paramref name="truncationCutoff"/> null = all ws;
    /// <paramref name="updateEmas"/> updates w_avg from this batch (training only).
    /// </summary>
    public override Tensor forward(Tensor z, Tensor? c, double truncationPsi, int? truncationCutoff,
        NoiseMode noiseMode, bool updateEmas)
    {
        using var scope = NewDisposeScope();
        var ws = mapping.call(z, c, truncationPsi, truncationCutoff, updateEmas); // [N, num_ws, w_dim]
        var img = synthesis.call(ws, new SynthesisOptions { NoiseMode = noiseMode }); // [N, C, res, res]
        return img.MoveToOuterDisposeScope();
    }

    /// <summary>Runs without truncation, with random noise and without updating w_avg.</summary>
    public Tensor call(Tensor z, Tensor? c) => call(z, c, 1.0, null, NoiseMode.Random, false);
}
