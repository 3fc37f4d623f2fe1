namespace XraySynth.Imaging;

/// <summary>Unsharp masking: out = in + amount · (in − gaussian_blur(in, sigma)), clamped to 0..255 — the
/// post-processing step the seed project applied to its synthetic X-rays.</summary>
public static class Sharpen
{
    public static RasterImage UnsharpMask(RasterImage img, double amount, double sigma = 1.0)
    {
        if (amount < 0) throw new ArgumentOutOfRangeException(nameof(amount), "sharpening amount must be ≥ 0");
        if (amount == 0) return img;
        var kernel = Gaussian(sigma);
        int r = kernel.Length / 2, w = img.Width, h = img.Height, c = img.Channels;
        var src = img.Pixels;
        var tmp = new double[src.Length];
        var dst = new byte[src.Length];
        // Separable blur with edge clamping: rows, then columns.
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int k = -r; k <= r; k++) acc += kernel[k + r] * src[(y * w + Math.Clamp(x + k, 0, w - 1)) * c + ch];
                    tmp[(y * w + x) * c + ch] = acc;
                }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double blur = 0;
                    for (int k = -r; k <= r; k++) blur += kernel[k + r] * tmp[(Math.Clamp(y + k, 0, h - 1) * w + x) * c + ch];
                    int i = (y * w + x) * c + ch;
                    dst[i] = (byte)Math.Clamp(Math.Round(src[i] + amount * (src[i] - blur)), 0, 255);
                }
        return new RasterImage(w, h, c, dst);
    }

    private static double[] Gaussian(double sigma)
    {
        int r = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = Math.Exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        return k;
    }
}
