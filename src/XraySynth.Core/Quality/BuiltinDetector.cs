using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Quality;

/// <summary>
/// The built-in detector (<c>builtin</c>, definition version 1): a fixed random-weight convolutional network defined
/// entirely in code, the same on every machine, that needs no downloaded file. For tests, the demo, offline users and
/// comparing runs of XraySynth among themselves. Its Fréchet distances are <b>not</b> comparable to published FIDs.
/// <para>Definition. Input uint8 [N, C, H, W] → grey in [0, 1] (RGB by luma) → 128×128 (area averaging, or
/// antialiased bilinear when 128 does not divide the size) → (x − 0.5) / 0.25 → four 3×3 convolutions, stride 2,
/// padding 1, no bias, each followed by ReLU: 1→8 (64²), 8→16 (32²), 16→32 (16²), 32→64 (8²). Weights are drawn
/// i.i.d. from N(0, 2 / fan_in) (He) by splitmix64 seeded with <see cref="Seed"/> and the Box–Muller transform in
/// double precision, rounded to float32, layer by layer in [out, in, kh, kw] order — no torch random generator is
/// involved, so they never change.
/// Features (D = 496): per stage, each channel's spatial mean (8+16+32+64 = 120) and spatial standard deviation
/// (120), then the last stage averaged over a 2×2 grid (64·4 = 256): texture statistics at four scales plus a
/// coarse layout, which is what a Fréchet distance and a nearest-neighbour search need. D is kept small so that the
/// covariances of a few hundred images (the demo, tests) are estimable and the Fréchet distance's eigendecompositions
/// cost little on a CPU.</para>
/// </summary>
public sealed class BuiltinDetector : IFeatureDetector
{
    /// <summary>Seed of the weight generator ("XRAY" in ASCII).</summary>
    public const ulong Seed = 0x58524159;

    /// <summary>Side of the square image the network sees.</summary>
    public const int InputSize = 128;

    /// <summary>Output channels of the four stages.</summary>
    public static readonly IReadOnlyList<int> Channels = [8, 16, 32, 64];

    /// <summary>Feature dimension: 2·(8+16+32+64) + 4·64.</summary>
    public const int Dimension = 496;

    private readonly Device _device;
    private readonly Tensor[] _weights;

    public BuiltinDetector(Device? device = null)
    {
        _device = device ?? CPU;
        var rng = new SplitMix64(Seed);
        var weights = new List<Tensor>();
        int inChannels = 1;
        foreach (var outChannels in Channels)
        {
            int fanIn = inChannels * 9;
            var w = new float[outChannels * fanIn];
            double std = Math.Sqrt(2.0 / fanIn);
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextGaussian() * std);
            weights.Add(tensor(w, [outChannels, inChannels, 3, 3]).to(_device).DetachFromDisposeScope());
            inChannels = outChannels;
        }
        _weights = [.. weights];
    }

    public string Name => "builtin";

    public string Identity => "xraysynth-builtin-v1";

    public bool ComparableToPublished => false;

    /// <summary>The fixed weights of stage <paramref name="stage"/> [out, in, 3, 3] (for tests and inspection).</summary>
    public Tensor Weight(int stage) => _weights[stage];

    public Tensor Extract(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = ImageTensors.Resize(ImageTensors.GreyFloat(images, _device), InputSize);   // [N,1,128,128]
        x = (x - 0.5f) / 0.25f;
        var parts = new List<Tensor>();
        var stds = new List<Tensor>();
        foreach (var w in _weights)
        {
            x = F.relu(F.conv2d(x, w, strides: [2, 2], padding: [1, 1]));                  // [N,Ck,S/2,S/2]
            var flat = x.flatten(2);                                                        // [N,Ck,S²]
            parts.Add(flat.mean([2]));
            stds.Add(flat.std(2, unbiased: false));
        }
        var layout = F.adaptive_avg_pool2d(x, [2, 2]).flatten(1);                           // [N,64·4]
        var features = cat([.. parts, .. stds, layout], 1);                                  // [N,496]
        return features.cpu().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var w in _weights) w.Dispose();
    }

    /// <summary>splitmix64 (Steele, Lea and Flood 2014) with Box–Muller normals: a generator whose output is fixed by
    /// its definition, unlike library random generators.</summary>
    private sealed class SplitMix64(ulong state)
    {
        private ulong _state = state;
        private double? _spare;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in (0, 1): the top 53 bits, offset by half a step so 0 never occurs.</summary>
        public double NextUniform() => ((Next() >> 11) + 0.5) / (1UL << 53);

        public double NextGaussian()
        {
            if (_spare is { } s)
            {
                _spare = null;
                return s;
            }
            double r = Math.Sqrt(-2 * Math.Log(NextUniform())), theta = 2 * Math.PI * NextUniform();
            _spare = r * Math.Sin(theta);
            return r * Math.Cos(theta);
        }
    }
}
