using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Synthesis network ws → image: blocks b4, b8, …, b{res}; channels(res) = min(channel_base / res, channel_max);
/// the N highest resolutions may run in fp16 on CUDA. num_ws = 2·log2(res) − 2.
/// </summary>
public sealed class SynthesisNetwork : nn.Module<Tensor, SynthesisOptions, Tensor>
{
    private readonly List<SynthesisBlock> _blocks = [];

    /// <summary>Intermediate latent (w) dimensionality.</summary>
    public int WDim { get; }

    /// <summary>Output resolution.</summary>
    public int ImgResolution { get; }

    /// <summary>Number of image channels.</summary>
    public int ImgChannels { get; }

    /// <summary>Number of w vectors consumed.</summary>
    public int NumWs { get; }

    /// <summary>Resolutions of the blocks, 4 first.</summary>
    public IReadOnlyList<int> BlockResolutions { get; }

    /// <summary>The blocks, 4x4 first.</summary>
    public IReadOnlyList<SynthesisBlock> Blocks => _blocks;

    /// <summary>Resolution of every noise input, in the order <see cref="SynthesisOptions.Noise"/> expects.</summary>
    public IReadOnlyList<int> NoiseResolutions { get; }

    /// <param name="wDim">Intermediate latent (w) dimensionality.</param>
    /// <param name="imgResolution">Output resolution (power of two, at least 4).</param>
    /// <param name="imgChannels">Number of image channels.</param>
    /// <param name="config">Channels, fp16, architecture, filter, clamp, noise, activation.</param>
    public SynthesisNetwork(int wDim, int imgResolution, int imgChannels, SynthesisConfig config)
        : base(nameof(SynthesisNetwork))
    {
        NetworkConfigChecks.Resolution(imgResolution, nameof(imgResolution));
        WDim = wDim;
        ImgResolution = imgResolution;
        ImgChannels = imgChannels;
        var log2 = GeneratorConfig.Log2(imgResolution);
        BlockResolutions = Enumerable.Range(2, log2 - 1).Select(i => 1 << i).ToArray();
        int Channels(int res) => Math.Min(config.ChannelBase / res, config.ChannelMax);
        var fp16Resolution = Math.Max(1 << (log2 + 1 - config.NumFp16Res), 8);

        foreach (var res in BlockResolutions)
        {
            var inChannels = res > 4 ? Channels(res / 2) : 0;
            var isLast = res == imgResolution;
            var block = new SynthesisBlock(inChannels, Channels(res), wDim, res, imgChannels, isLast,
                useFp16: res >= fp16Resolution, config);
            NumWs += block.NumConv + (isLast ? block.NumToRgb : 0);
            register_module($"b{res}", block);
            _blocks.Add(block);
        }
        NoiseResolutions = _blocks.SelectMany(b => b.NoiseResolutions).ToArray();
        RegisterComponents();
    }

    /// <summary>ws [N, num_ws, w_dim] → img [N, C, res, res] (float32, roughly in [−1, 1]).</summary>
    public override Tensor forward(Tensor ws, SynthesisOptions options)
    {
        TensorChecks.Shape(ws, "synthesis ws [N, num_ws, w_dim]", null, NumWs, WDim);
        if (options.Noise is { } noise && noise.Count != NoiseResolutions.Count)
            throw new ArgumentException(
                $"Synthesis expected {NoiseResolutions.Count} noise images, got {noise.Count}.", nameof(options));
        using var scope = NewDisposeScope();
        var w = ws.dtype == ScalarType.Float32 ? ws : ws.to(ScalarType.Float32);
        Tensor? x = null;
        Tensor? img = null;
        var wIdx = 0;
        var noiseIdx = 0;
        foreach (var block in _blocks)
        {
            var blockOptions = options;
            if (options.Noise is { } all)
            {
                var count = block.NoiseResolutions.Count;
                blockOptions = options with { Noise = all.Skip(noiseIdx).Take(count).ToArray() };
                noiseIdx += count;
            }
            var blockWs = w.narrow(1, wIdx, block.NumConv + block.NumToRgb); // [N, block ws, w_dim]
            (x, img) = block.call(x, img, blockWs, blockOptions);
            wIdx += block.NumConv;
        }
        return img!.MoveToOuterDisposeScope();
    }

    /// <summary>Runs with the given noise mode and otherwise default options.</summary>
    public Tensor call(Tensor ws, NoiseMode noiseMode) => call(ws, new SynthesisOptions { NoiseMode = noiseMode });
}
