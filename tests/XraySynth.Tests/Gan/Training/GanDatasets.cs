using XraySynth.Data;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Gan.Training;

/// <summary>Small StyleGAN2-ADA dataset zips written by hand: bright disks on a dark background, optional labels.</summary>
internal static class GanDatasets
{
    /// <summary>
    /// Writes <paramref name="count"/> grey (or RGB) <paramref name="size"/>² images; label i % 2 when
    /// <paramref name="labelled"/>. <paramref name="sizeOf"/> overrides the size of single images (bad-input tests).
    /// </summary>
    public static string Zip(string path, int count = 24, int size = 16, bool labelled = true, int channels = 1,
        Func<int, (int W, int H, int Channels)?>? sizeOf = null)
    {
        var rnd = new Random(count * 31 + size);
        using var writer = new DatasetZipWriter(path);
        for (var i = 0; i < count; i++)
        {
            var (w, h, c) = sizeOf?.Invoke(i) ?? (size, size, channels);
            double cx = rnd.Next(w / 4, 3 * w / 4), cy = rnd.Next(h / 4, 3 * h / 4), r = w / 5.0 + rnd.NextDouble() * w / 8;
            var bright = (byte)(150 + rnd.Next(100));
            byte Pixel(int x, int y) => (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r ? bright : (byte)(20 + (x + y) % 7);
            var png = c == 1
                ? PngFixtures.Grey8(w, h, Pixel)
                : PngFixtures.Encode(w, h, PngFixtures.Rgb, 8, Enumerable.Range(0, w * h)
                    .SelectMany(p => Enumerable.Repeat(Pixel(p % w, p / w), 3)).ToArray());
            writer.Add(png, labelled ? i % 2 : null);
        }
        writer.Complete();
        return path;
    }
}
