using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Generation;

/// <summary>A batch of generated images: the seeds and their uint8 images [N, C, H, W] on the CPU. Dispose it.</summary>
public sealed class SynthesizedBatch : IDisposable
{
    /// <summary>The seed of each image, in order.</summary>
    public IReadOnlyList<long> Seeds { get; }

    /// <summary>uint8 images [N, C, H, W] on the CPU, 0..255 (−1 → 0, +1 → 255).</summary>
    public Tensor Images { get; }

    internal SynthesizedBatch(IReadOnlyList<long> seeds, Tensor images)
    {
        Seeds = seeds;
        Images = images;
    }

    /// <summary>The bytes of image <paramref name="index"/>, channel-major (CHW).</summary>
    public byte[] GetImageBytes(int index) => Images[index].contiguous().data<byte>().ToArray();

    /// <inheritdoc/>
    public void Dispose() => Images.Dispose();
}

/// <summary>
/// Batched generation with a (usually G_ema) generator. The latent of a seed comes from that seed alone — a CPU
/// torch generator seeded with it draws z (and, for random noise, the noise images) — so a seed gives the same image
/// whatever the batch size, the order of the seeds or the device the network runs on (up to that device's arithmetic).
/// </summary>
public static class BatchSynthesizer
{
    /// <summary>
    /// Generates one image per seed in batches of <paramref name="batchSize"/>. <paramref name="classIndex"/> is
    /// required for a conditional generator (0 … c_dim − 1) and must be null otherwise. <paramref name="truncationPsi"/>
    /// 1 = none; <paramref name="truncationCutoff"/> null = all ws. The generator runs in eval mode without gradients;
    /// its mode is restored when the enumeration ends.
    /// </summary>
    public static IEnumerable<SynthesizedBatch> Generate(Generator generator, Device device, IReadOnlyList<long> seeds,
        int? classIndex = null, double truncationPsi = 1, NoiseMode noiseMode = NoiseMode.Const, int batchSize = 16,
        int? truncationCutoff = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(seeds);
        if (batchSize < 1)
            throw new ArgumentException($"batchSize must be at least 1, got {batchSize}.", nameof(batchSize));
        var cDim = generator.CDim;
        if (cDim > 0 && classIndex is null)
            throw new ArgumentException($"This generator is conditional: pass a class index 0..{cDim - 1}.", nameof(classIndex));
        if (cDim > 0 && (classIndex < 0 || classIndex >= cDim))
            throw new ArgumentException($"Class index {classIndex} is outside 0..{cDim - 1}.", nameof(classIndex));
        if (cDim == 0 && classIndex is not null)
            throw new ArgumentException("This generator is unconditional: it takes no class index.", nameof(classIndex));
        foreach (var seed in seeds)
        {
            if (seed < 0)
                throw new ArgumentException($"Seeds must not be negative, got {seed}.", nameof(seeds));
        }
        return Run(generator, device, seeds, classIndex, truncationPsi, truncationCutoff, noiseMode, batchSize);
    }

    private static IEnumerable<SynthesizedBatch> Run(Generator generator, Device device, IReadOnlyList<long> seeds,
        int? classIndex, double psi, int? cutoff, NoiseMode noiseMode, int batchSize)
    {
        var wasTraining = generator.training;
        generator.eval();
        try
        {
            for (var start = 0; start < seeds.Count; start += batchSize)
            {
                var chunk = seeds.Skip(start).Take(batchSize).ToArray();
                yield return Synthesize(generator, device, chunk, classIndex, psi, cutoff, noiseMode);
            }
        }
        finally
        {
            if (wasTraining)
                generator.train();
        }
    }

    private static SynthesizedBatch Synthesize(Generator generator, Device device, long[] seeds, int? classIndex,
        double psi, int? cutoff, NoiseMode noiseMode)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var n = seeds.Length;
        var noiseRes = generator.Synthesis.NoiseResolutions;
        var zs = new List<Tensor>(n);
        var noise = noiseRes.Select(_ => new List<Tensor>(n)).ToArray();
        foreach (var seed in seeds)
        {
            // Everything random about this image comes from its own seed, drawn on the CPU in a fixed order.
            var gen = new torch.Generator((ulong)seed, CPU);
            zs.Add(randn([1, generator.ZDim], generator: gen));
            if (noiseMode == NoiseMode.Random)
            {
                for (var i = 0; i < noiseRes.Count; i++)
                    noise[i].Add(randn([1, 1, noiseRes[i], noiseRes[i]], generator: gen));
            }
            gen.Dispose();
        }
        var z = cat(zs, 0).to(device); // [N, z_dim]
        Tensor? c = null;
        if (classIndex is { } cls)
        {
            c = zeros([n, generator.CDim], device: device); // [N, c_dim]
            c[.., cls] = 1;
        }
        var ws = generator.Mapping.call(z, c, psi, cutoff, false); // [N, num_ws, w_dim]
        var options = new SynthesisOptions
        {
            NoiseMode = noiseMode,
            Noise = noiseMode == NoiseMode.Random ? noise.Select(l => cat(l, 0).to(device)).ToArray() : null,
        };
        var img = generator.Synthesis.call(ws, options); // [N, C, H, W]
        var images = ToUint8(img).cpu();
        images.DetachFromDisposeScope();
        return new SynthesizedBatch(seeds, images);
    }

    /// <summary>Maps float images in [−1, 1] to uint8 as the official scripts do: round-free (x·127.5 + 128) clamped to 0..255.</summary>
    public static Tensor ToUint8(Tensor images)
    {
        using var scope = NewDisposeScope();
        return (images * 127.5 + 128).clamp(0, 255).to(ScalarType.Byte).MoveToOuterDisposeScope();
    }
}
