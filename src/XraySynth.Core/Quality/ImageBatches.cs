using XraySynth.Runtime;
using XraySynth.Imaging;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>A batch of images: their ids and uint8 [B, C, H, W] on the CPU. Dispose it.</summary>
public sealed class ImageBatch(IReadOnlyList<string> ids, Tensor images) : IDisposable
{
    public IReadOnlyList<string> Ids { get; } = ids;

    /// <summary>uint8 [B, C, H, W] on the CPU.</summary>
    public Tensor Images { get; } = images;

    public int Count => Ids.Count;

    public void Dispose() => Images.Dispose();
}

/// <summary>Decodes images into uint8 batches, in parallel within a batch, while the caller works on the previous
/// batch: the detector and the decoder overlap and only two batches of images exist at a time.</summary>
internal static class ImageBatches
{
    /// <summary>Batches of items 0 … count − 1: <paramref name="load"/> returns each as an image of one common size and
    /// channel count; <paramref name="id"/> names it.</summary>
    public static IEnumerable<ImageBatch> Decode(int count, int batch, Func<int, RasterImage> load, Func<int, string> id,
        CancellationToken cancel = default)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch));
        Task<ImageBatch>? next = count > 0 ? Task.Run(() => Build(0, Math.Min(batch, count), load, id, cancel), cancel) : null;
        try
        {
            for (int start = 0; start < count; start += batch)
            {
                var current = next!.GetAwaiter().GetResult();
                next = null;
                int following = start + batch;
                if (following < count)
                    next = Task.Run(() => Build(following, Math.Min(batch, count - following), load, id, cancel), cancel);
                yield return current;
            }
        }
        finally
        {
            // An abandoned enumeration (an error downstream) still frees the batch decoded ahead.
            if (next is not null)
            {
                try { next.GetAwaiter().GetResult().Dispose(); }
                catch (Exception) { }   // the error that ended the enumeration is the one to report
            }
        }
    }

    private static ImageBatch Build(int start, int n, Func<int, RasterImage> load, Func<int, string> id, CancellationToken cancel)
    {
        var images = new RasterImage[n];
        Parallel.For(0, n, new ParallelOptions { CancellationToken = cancel }, k => images[k] = load(start + k));
        int w = images[0].Width, h = images[0].Height, c = images[0].Channels, size = w * h * c;
        var pixels = new byte[n * size];
        for (int k = 0; k < n; k++)
        {
            var img = images[k];
            if (img.Width != w || img.Height != h || img.Channels != c)
                throw new InvalidOperationException($"{id(start + k)}: {img.Width}x{img.Height}x{img.Channels}, the batch is {w}x{h}x{c}.");
            Buffer.BlockCopy(img.Pixels, 0, pixels, k * size, size);
        }
        var ids = Enumerable.Range(start, n).Select(id).ToList();
        return new ImageBatch(ids, ImageTensors.FromInterleaved(pixels, n, h, w, c));
    }
}
