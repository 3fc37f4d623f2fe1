using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Imaging;

/// <summary>
/// Image grids (reals.png, fakesKKKKKK.png, previews): N images [N, C, H, W] laid out row by row in a
/// <c>columns × rows</c> grid, as the official save_image_grid.
/// </summary>
public static class ImageGrid
{
    /// <summary>The official grid size for <paramref name="resolution"/>-px images: about 7680×4320 pixels, 7..32 columns, 4..32 rows.</summary>
    public static (int Columns, int Rows) OfficialSize(int resolution) =>
        (Math.Clamp(7680 / resolution, 7, 32), Math.Clamp(4320 / resolution, 4, 32));

    /// <summary>
    /// Lays out <paramref name="images"/> [columns·rows, C, H, W] (C = 1 or 3); float images are mapped from
    /// [<paramref name="low"/>, <paramref name="high"/>] to 0..255 with rounding and clipping, uint8 images are used as
    /// they are.
    /// </summary>
    public static RasterImage Compose(Tensor images, int columns, int rows, double low = -1, double high = 1)
    {
        if (images.ndim != 4)
            throw new ArgumentException("A grid needs images [N, C, H, W].", nameof(images));
        var shape = images.shape;
        long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        if (n != (long)columns * rows)
            throw new ArgumentException($"A {columns}x{rows} grid needs {columns * rows} images, got {n}.", nameof(images));
        if (c is not (1 or 3))
            throw new ArgumentException($"Grid images need 1 or 3 channels, got {c}.", nameof(images));
        using var scope = NewDisposeScope();
        var x = images.detach().cpu();
        if (x.dtype != ScalarType.Byte)
            x = ((x.to(ScalarType.Float32) - low) * (255 / (high - low))).round().clamp(0, 255).to(ScalarType.Byte);
        // [gh, gw, C, H, W] → [gh, H, gw, W, C] → [gh·H, gw·W, C]
        var grid = x.reshape(rows, columns, c, h, w).permute(0, 3, 1, 4, 2).reshape(rows * h, columns * w, c).contiguous();
        return new RasterImage((int)(columns * w), (int)(rows * h), (int)c, grid.data<byte>().ToArray());
    }

    /// <summary>Composes and writes a PNG atomically.</summary>
    public static void Save(string path, Tensor images, int columns, int rows, double low = -1, double high = 1) =>
        ImageCodec.WritePng(path, Compose(images, columns, rows, low, high));

    /// <summary>Tiles decoded images row by row, <paramref name="columns"/> per row, each resized to the first image's
    /// size and converted to its channel count; empty cells of the last row stay black.</summary>
    public static RasterImage Tile(IReadOnlyList<RasterImage> images, int columns)
    {
        if (images.Count == 0) throw new ArgumentException("A grid needs at least one image.", nameof(images));
        int w = images[0].Width, h = images[0].Height, c = images[0].Channels;
        columns = Math.Min(columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        var grid = new byte[columns * w * rows * h * c];
        for (int i = 0; i < images.Count; i++)
        {
            var img = Resampler.Resize(images[i].WithChannels(c), w, h);
            int gx = i % columns, gy = i / columns;
            for (int y = 0; y < h; y++)
                Buffer.BlockCopy(img.Pixels, y * w * c, grid, ((gy * h + y) * columns * w + gx * w) * c, w * c);
        }
        return new RasterImage(columns * w, rows * h, c, grid);
    }
}
