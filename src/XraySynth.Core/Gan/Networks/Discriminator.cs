using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// StyleGAN2 discriminator: blocks b{res} … b8, then the 4x4 epilogue b4; with labels, a mapping network
/// (c → cmap) and a projection head. State-dict keys match the official networks.
/// </summary>
public sealed class Discriminator : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly List<DiscriminatorBlock> _blocks = [];
    private readonly MappingNetwork? mapping;
    private readonly DiscriminatorEpilogue b4;

    /// <summary>The configuration this discriminator was built from.</summary>
    public DiscriminatorConfig Config { get; }

    /// <summary>Resolutions of the blocks, highest first (b4 is the epilogue).</summary>
    public IReadOnlyList<int> BlockResolutions { get; }

    /// <summary>Width of the mapped label; 0 = unconditional.</summary>
    public int CmapDim { get; }

    /// <summary>Run every block in fp32 even where the config asks for fp16.</summary>
    public bool ForceFp32 { get; set; }

    /// <summary>Run the fp16 blocks in fp16 on a CPU too (for testing the fp16 path without a GPU).</summary>
    public bool Fp16OnCpu { get; set; }

    /// <summary>Builds a freshly initialised discriminator (weights from the global torch RNG).</summary>
    public Discriminator(DiscriminatorConfig config) : base(nameof(Discriminator))
    {
        config.Validate();
        Config = config;
        var log2 = GeneratorConfig.Log2(config.ImgResolution);
        BlockResolutions = Enumerable.Range(0, log2 - 2).Select(i => 1 << (log2 - i)).ToArray();
        int Channels(int res) => Math.Min(config.ChannelBase / res, config.ChannelMax);
        var fp16Resolution = Math.Max(1 << (log2 + 1 - config.NumFp16Res), 8);
        CmapDim = config.CDim == 0 ? 0 : config.CmapDim ?? Channels(4);

        var layerIdx = 0;
        foreach (var res in BlockResolutions)
        {
            var inChannels = res < config.ImgResolution ? Channels(res) : 0;
            var block = new DiscriminatorBlock(inChannels, Channels(res), Channels(res / 2), res, config.ImgChannels,
                layerIdx, config.Architecture, config.Activation, config.ResampleFilter, config.ConvClamp,
                useFp16: res >= fp16Resolution, config.FreezeLayers);
            register_module($"b{res}", block);
            _blocks.Add(block);
            layerIdx += block.NumLayers;
        }
        if (config.CDim > 0)
        {
            mapping = new MappingNetwork(0, config.CDim, CmapDim, numWs: null,
                config.Mapping with { WAvgBeta = null });
        }
        b4 = new DiscriminatorEpilogue(Channels(4), CmapDim, 4, config.ImgChannels, config.Architecture,
            config.MbstdGroupSize, config.MbstdNumChannels, config.Activation, config.ConvClamp,
            readsImage: BlockResolutions.Count == 0);
        RegisterComponents();
    }

    /// <summary>img [N, C, res, res] in [−1, 1], c [N, c_dim] (null or [N, 0] when unconditional) → logits [N, 1].</summary>
    public override Tensor forward(Tensor img, Tensor? c)
    {
        TensorChecks.Shape(img, "discriminator img [NCHW]", null, Config.ImgChannels, Config.ImgResolution,
            Config.ImgResolution);
        using var scope = NewDisposeScope();
        Tensor? x = null;
        Tensor? im = img;
        foreach (var block in _blocks)
            (x, im) = block.call(x, im, (ForceFp32, Fp16OnCpu)); // [N, C, res/2, res/2]
        Tensor? cmap = null;
        if (mapping is not null)
        {
            if (c is null)
                throw new ArgumentException($"This discriminator is conditional: it needs labels c [N, {Config.CDim}].",
                    nameof(c));
            cmap = mapping.call(null, c); // [N, cmap_dim]
        }
        var logits = b4.call(x, im, cmap); // [N, 1]
        return logits.MoveToOuterDisposeScope();
    }
}
