namespace XraySynth.Imaging;

/// <summary>How a non-square radiograph becomes square.</summary>
public enum FitMode
{
    /// <summary>Pad the short side (centred) with the median of the image border: nothing is cut off.</summary>
    Pad,
    /// <summary>Centre-crop the long side: no padding, but anatomy at the ends may be lost.</summary>
    Crop,
}

/// <summary>Contrast enhancement applied at the source resolution, before resizing.</summary>
public enum ContrastMode
{
    None,
    /// <summary>Linear stretch so the 1st and 99th percentiles map to 0 and 255.</summary>
    Autocontrast,
    /// <summary>Contrast-limited adaptive histogram equalisation (8×8 tiles, clip limit 2).</summary>
    Clahe,
}

/// <summary>What every image of a prepared dataset goes through: contrast, square fit, antialiased resize to
/// <see cref="Size"/>, and <see cref="Channels"/> (1 grey, 3 RGB).</summary>
public sealed record PreprocessSettings(int Size, int Channels = 1, FitMode Fit = FitMode.Pad, ContrastMode Contrast = ContrastMode.None);

public static class Preprocessing
{
    public static RasterImage Apply(RasterImage image, PreprocessSettings settings)
    {
        var img = image.WithChannels(settings.Channels);
        img = settings.Contrast switch
        {
            ContrastMode.Autocontrast => Contrast.Autocontrast(img),
            ContrastMode.Clahe => Contrast.Clahe(img),
            _ => img,
        };
        img = ToSquare(img, settings.Fit);
        return Resampler.Resize(img, settings.Size, settings.Size);
    }

    public static RasterImage ToSquare(RasterImage img, FitMode fit)
    {
        if (img.Width == img.Height) return img;
        int c = img.Channels;
        if (fit == FitMode.Crop)
        {
            int side = Math.Min(img.Width, img.Height);
            int x0 = (img.Width - side) / 2, y0 = (img.Height - side) / 2;
            var cropped = new byte[side * side * c];
            for (int y = 0; y < side; y++)
                Buffer.BlockCopy(img.Pixels, ((y0 + y) * img.Width + x0) * c, cropped, y * side * c, side * c);
            return new RasterImage(side, side, c, cropped);
        }
        int size = Math.Max(img.Width, img.Height);
        int ox = (size - img.Width) / 2, oy = (size - img.Height) / 2;
        var fill = BorderMedian(img);
        var padded = new byte[size * size * c];
        for (int i = 0; i < padded.Length; i += c)
            for (int ch = 0; ch < c; ch++) padded[i + ch] = fill[ch];
        for (int y = 0; y < img.Height; y++)
            Buffer.BlockCopy(img.Pixels, y * img.Width * c, padded, ((oy + y) * size + ox) * c, img.Width * c);
        return new RasterImage(size, size, c, padded);
    }

    /// <summary>Per channel, the median of the outermost rows and columns: the background a pad should continue
    /// (dark for ordinary radiographs, bright for inverted ones).</summary>
    internal static byte[] BorderMedian(RasterImage img)
    {
        int c = img.Channels, w = img.Width, h = img.Height;
        var result = new byte[c];
        var hist = new int[256];
        for (int ch = 0; ch < c; ch++)
        {
            Array.Clear(hist);
            int count = 0;
            for (int x = 0; x < w; x++)
            {
                hist[img.Pixels[x * c + ch]]++;
                hist[img.Pixels[((h - 1) * w + x) * c + ch]]++;
                count += 2;
            }
            for (int y = 1; y < h - 1; y++)
            {
                hist[img.Pixels[(y * w) * c + ch]]++;
                hist[img.Pixels[(y * w + w - 1) * c + ch]]++;
                count += 2;
            }
            int half = (count + 1) / 2, acc = 0, v = 0;
            for (; v < 255; v++)
            {
                acc += hist[v];
                if (acc >= half) break;
            }
            result[ch] = (byte)v;
        }
        return result;
    }
}
