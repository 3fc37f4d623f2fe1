using TorchSharp;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Classifier.Data;

/// <summary>A set of classifier images decoded once and held in memory as one uint8 tensor [N,1,S,S] (a MURA
/// study type at 224² is a few hundred MB), with float labels [N]. Images that cannot be decoded are skipped and
/// listed (or fatal with strict).</summary>
public sealed class ImageBank : IDisposable
{
    private ImageBank(Tensor images, Tensor labels, IReadOnlyList<ClassifierSample> samples, IReadOnlyList<InputProblem> skipped, int size)
    {
        Images = images;
        Labels = labels;
        Samples = samples;
        Skipped = skipped;
        Size = size;
    }

    /// <summary>uint8 [N,1,S,S] on the CPU.</summary>
    public Tensor Images { get; }
    /// <summary>float32 [N], 0 normal, 1 abnormal.</summary>
    public Tensor Labels { get; }
    /// <summary>The samples held, in tensor order.</summary>
    public IReadOnlyList<ClassifierSample> Samples { get; }
    public IReadOnlyList<InputProblem> Skipped { get; }
    public int Size { get; }
    public int Count => Samples.Count;

    public static ImageBank Load(IReadOnlyList<ClassifierSample> samples, int size, bool strict = false, string stage = "decode",
        IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        var settings = new PreprocessSettings(size, 1, FitMode.Pad, ContrastMode.None);
        var decoded = new byte[samples.Count][];
        var problems = new InputProblem?[samples.Count];
        int done = 0;
        Parallel.For(0, samples.Count, new ParallelOptions { CancellationToken = cancel }, i =>
        {
            try
            {
                decoded[i] = Preprocessing.Apply(ImageCodec.Decode(samples[i].Path), settings).Pixels;
            }
            catch (ImageDecodeException e)
            {
                problems[i] = new InputProblem(samples[i].Path, e.Reason);
            }
            int d = Interlocked.Increment(ref done);
            if (d % 64 == 0 || d == samples.Count) progress?.Report(new ProgressInfo(stage, d, samples.Count));
        });
        var skipped = problems.Where(p => p is not null).Select(p => p!).ToList();
        if (strict && skipped.Count > 0)
            throw new DataException($"{skipped[0].File}: {skipped[0].Problem} ({skipped.Count} bad images in all). fix: repair or remove it, or run without --strict to skip bad images.");
        var keep = Enumerable.Range(0, samples.Count).Where(i => decoded[i] is not null).ToList();
        var images = zeros([keep.Count, 1, size, size], ScalarType.Byte);
        int pixels = size * size;
        const int chunk = 256;
        for (int start = 0; start < keep.Count; start += chunk)
        {
            int n = Math.Min(chunk, keep.Count - start);
            var buffer = new byte[n * pixels];
            for (int k = 0; k < n; k++) Buffer.BlockCopy(decoded[keep[start + k]], 0, buffer, k * pixels, pixels);
            using var scope = NewDisposeScope();
            images.narrow(0, start, n).copy_(tensor(buffer, [n, 1, size, size]));
        }
        var labels = tensor(keep.Select(i => (float)samples[i].Label).ToArray());
        return new ImageBank(images, labels, keep.Select(i => samples[i]).ToList(), skipped, size);
    }

    /// <summary>A batch as float [B,1,S,S] in [0,1] and labels [B], on <paramref name="device"/>.</summary>
    public (Tensor X, Tensor Y) Batch(Tensor indices, Device device)
    {
        var x = Images.index_select(0, indices).to(device).to(ScalarType.Float32).div_(255f);
        var y = Labels.index_select(0, indices).to(device);
        return (x, y);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
