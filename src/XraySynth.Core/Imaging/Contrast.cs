namespace XraySynth.Imaging;

/// <summary>Contrast enhancement for radiographs, per channel.</summary>
public static class Contrast
{
    /// <summary>Linear stretch: the <paramref name="cutoff"/> fraction darkest and brightest pixels saturate,
    /// the rest spans 0..255. A flat image is returned unchanged.</summary>
    public static RasterImage Autocontrast(RasterImage img, double cutoff = 0.01)
    {
        int c = img.Channels, n = img.Width * img.Height;
        var dst = new byte[img.Pixels.Length];
        for (int ch = 0; ch < c; ch++)
        {
            var hist = new int[256];
            for (int i = ch; i < img.Pixels.Length; i += c) hist[img.Pixels[i]]++;
            int cut = (int)(n * cutoff), lo = 0, hi = 255, acc = 0;
            for (; lo < 255; lo++) { acc += hist[lo]; if (acc > cut) break; }
            acc = 0;
            for (; hi > 0; hi--) { acc += hist[hi]; if (acc > cut) break; }
            var lut = new byte[256];
            for (int v = 0; v < 256; v++)
                lut[v] = hi <= lo ? (byte)v : (byte)Math.Clamp(Math.Round((v - lo) * 255.0 / (hi - lo)), 0, 255);
            for (int i = ch; i < img.Pixels.Length; i += c) dst[i] = lut[img.Pixels[i]];
        }
        return new RasterImage(img.Width, img.Height, c, dst);
    }

    /// <summary>CLAHE: histogram equalisation per tile of a <paramref name="tiles"/>×<paramref name="tiles"/> grid
    /// with the histogram clipped at <paramref name="clipLimit"/>× the mean bin count (excess redistributed), and
    /// bilinear interpolation between the tiles' mappings (no tile seams).</summary>
    public static RasterImage Clahe(RasterImage img, int tiles = 8, double clipLimit = 2.0)
    {
        int c = img.Channels, w = img.Width, h = img.Height;
        int tx = Math.Min(tiles, w), ty = Math.Min(tiles, h);
        var dst = new byte[img.Pixels.Length];
        var luts = new byte[ty, tx][];
        for (int ch = 0; ch < c; ch++)
        {
            for (int j = 0; j < ty; j++)
                for (int i = 0; i < tx; i++)
                {
                    int x0 = i * w / tx, x1 = (i + 1) * w / tx, y0 = j * h / ty, y1 = (j + 1) * h / ty;
                    var hist = new int[256];
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) hist[img.Pixels[(y * w + x) * c + ch]]++;
                    luts[j, i] = TileMapping(hist, (x1 - x0) * (y1 - y0), clipLimit);
                }
            for (int y = 0; y < h; y++)
            {
                // Tile-centre coordinates: interpolate between the four nearest tile mappings.
                double fy = (y + 0.5) * ty / h - 0.5;
                int j0 = Math.Clamp((int)Math.Floor(fy), 0, ty - 1), j1 = Math.Min(j0 + 1, ty - 1);
                double wy = Math.Clamp(fy - j0, 0, 1);
                for (int x = 0; x < w; x++)
                {
                    double fx = (x + 0.5) * tx / w - 0.5;
                    int i0 = Math.Clamp((int)Math.Floor(fx), 0, tx - 1), i1 = Math.Min(i0 + 1, tx - 1);
                    double wx = Math.Clamp(fx - i0, 0, 1);
                    int idx = (y * w + x) * c + ch;
                    byte v = img.Pixels[idx];
                    double top = luts[j0, i0][v] * (1 - wx) + luts[j0, i1][v] * wx;
                    double bottom = luts[j1, i0][v] * (1 - wx) + luts[j1, i1][v] * wx;
                    dst[idx] = (byte)Math.Clamp(Math.Round(top * (1 - wy) + bottom * wy), 0, 255);
                }
            }
        }
        return new RasterImage(w, h, c, dst);
    }

    private static byte[] TileMapping(int[] hist, int count, double clipLimit)
    {
        int limit = Math.Max(1, (int)(clipLimit * count / 256.0));
        int excess = 0;
        for (int v = 0; v < 256; v++)
            if (hist[v] > limit) { excess += hist[v] - limit; hist[v] = limit; }
        int each = excess / 256, rest = excess % 256;
        for (int v = 0; v < 256; v++) hist[v] += each + (v < rest ? 1 : 0);
        var lut = new byte[256];
        long cdf = 0;
        for (int v = 0; v < 256; v++)
        {
            cdf += hist[v];
            lut[v] = (byte)Math.Clamp(Math.Round(cdf * 255.0 / Math.Max(1, count)), 0, 255);
        }
        return lut;
    }
}
