namespace XraySynth.Imaging;

/// <summary>Separable Lanczos-3 resampling with the kernel widened by the scale factor when shrinking (as PIL's
/// antialiased resize does), so downscaling a 512-px radiograph to 64 px averages every source pixel instead of
/// aliasing. Works on any channel count; output rounded and clamped to bytes. Single-threaded: callers
/// parallelise over images.</summary>
public static class Resampler
{
    private const double Support = 3.0;

    public static RasterImage Resize(RasterImage src, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"target size {width}x{height}");
        if (width == src.Width && height == src.Height) return src;
        int c = src.Channels;
        // Horizontal pass into floats [src.Height, width, c], then vertical pass to bytes.
        var (hStart, hWeights, hTaps) = Weights(src.Width, width);
        var tmp = new float[src.Height * width * c];
        for (int y = 0; y < src.Height; y++)
        {
            int srcRow = y * src.Width * c, dstRow = y * width * c;
            for (int x = 0; x < width; x++)
            {
                int start = hStart[x], wOff = x * hTaps;
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int k = 0; k < hTaps; k++)
                    {
                        double w = hWeights[wOff + k];
                        if (w == 0) continue;
                        acc += w * src.Pixels[srcRow + (start + k) * c + ch];
                    }
                    tmp[dstRow + x * c + ch] = (float)acc;
                }
            }
        }
        var (vStart, vWeights, vTaps) = Weights(src.Height, height);
        var dst = new byte[width * height * c];
        int rowLen = width * c;
        for (int y = 0; y < height; y++)
        {
            int start = vStart[y], wOff = y * vTaps, dstRow = y * rowLen;
            for (int i = 0; i < rowLen; i++)
            {
                double acc = 0;
                for (int k = 0; k < vTaps; k++)
                {
                    double w = vWeights[wOff + k];
                    if (w == 0) continue;
                    acc += w * tmp[(start + k) * rowLen + i];
                }
                dst[dstRow + i] = (byte)Math.Clamp(Math.Round(acc), 0, 255);
            }
        }
        return new RasterImage(width, height, c, dst);
    }

    /// <summary>For each output index: the first source index and the normalised weights of its taps. Taps past
    /// the end of the image have weight 0 and are never read.</summary>
    private static (int[] Start, double[] Weights, int Taps) Weights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);       // widen the kernel when shrinking: antialiasing
        double support = Support * filterScale;
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var weights = new double[outSize * taps];
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(center - support));
            int hi = Math.Min(inSize, (int)Math.Ceiling(center + support));
            if (hi - lo > taps) hi = lo + taps;
            start[i] = lo;
            double sum = 0;
            for (int j = lo; j < hi; j++)
            {
                double w = Lanczos((j + 0.5 - center) / filterScale);
                weights[i * taps + (j - lo)] = w;
                sum += w;
            }
            if (sum != 0)
                for (int j = 0; j < hi - lo; j++) weights[i * taps + j] /= sum;
        }
        return (start, weights, taps);
    }

    private static double Lanczos(double x)
    {
        if (x == 0) return 1;
        if (x <= -Support || x >= Support) return 0;
        double px = Math.PI * x;
        return Support * Math.Sin(px) * Math.Sin(px / Support) / (px * px);
    }
}
