using XraySynth.Imaging;

namespace XraySynth.Tests.Imaging;

/// <summary>The fast resampler (single precision, trimmed taps, SIMD rows) against the textbook formula it replaced:
/// double-precision separable Lanczos-3 with every tap.</summary>
public class ResamplerTests
{
    [Theory]
    [InlineData(512, 384, 1, 256, 256)]
    [InlineData(300, 517, 3, 256, 256)]
    [InlineData(256, 256, 1, 64, 64)]
    [InlineData(37, 21, 3, 64, 64)]       // upscaling
    [InlineData(411, 300, 1, 320, 200)]   // odd, unequal factors
    public void Resize_MatchesDoublePrecisionReference(int w, int h, int c, int outW, int outH)
    {
        var rnd = new Random(w * 31 + h);
        var px = new byte[w * h * c];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)   // smooth anatomy-like ramps + hard edges + noise
                    px[(y * w + x) * c + ch] = (byte)Math.Clamp(60 + 100 * Math.Sin(x / 17.0 + ch) * Math.Cos(y / 23.0) + (x > w / 2 ? 50 : 0) + rnd.Next(-20, 21), 0, 255);
        var src = new RasterImage(w, h, c, px);
        var fast = Resampler.Resize(src, outW, outH);
        var reference = Reference(src, outW, outH);
        int differ = 0;
        for (int i = 0; i < fast.Pixels.Length; i++)
        {
            Assert.InRange(fast.Pixels[i] - reference[i], -1, 1);
            if (fast.Pixels[i] != reference[i]) differ++;
        }
        Assert.True(differ <= fast.Pixels.Length / 100, $"{differ} of {fast.Pixels.Length} pixels differ from the reference");
    }

    /// <summary>The straightforward implementation (double weights and sums, every tap).</summary>
    private static byte[] Reference(RasterImage src, int width, int height)
    {
        int c = src.Channels;
        var (hs, hw, ht) = Weights(src.Width, width);
        var tmp = new double[src.Height * width * c];
        for (int y = 0; y < src.Height; y++)
            for (int x = 0; x < width; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int k = 0; k < ht; k++)
                        if (hw[x * ht + k] != 0) acc += hw[x * ht + k] * src.Pixels[(y * src.Width + hs[x] + k) * c + ch];
                    tmp[(y * width + x) * c + ch] = acc;
                }
        var (vs, vw, vt) = Weights(src.Height, height);
        var dst = new byte[width * height * c];
        for (int y = 0; y < height; y++)
            for (int i = 0; i < width * c; i++)
            {
                double acc = 0;
                for (int k = 0; k < vt; k++)
                    if (vw[y * vt + k] != 0) acc += vw[y * vt + k] * tmp[(vs[y] + k) * width * c + i];
                dst[y * width * c + i] = (byte)Math.Clamp(Math.Round(acc), 0, 255);
            }
        return dst;
    }

    private static (int[] Start, double[] Weights, int Taps) Weights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize, filterScale = Math.Max(scale, 1.0), support = 3 * filterScale;
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var weights = new double[outSize * taps];
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(center - support)), hi = Math.Min(inSize, (int)Math.Ceiling(center + support));
            if (hi - lo > taps) hi = lo + taps;
            start[i] = lo;
            double sum = 0;
            for (int j = lo; j < hi; j++)
            {
                double x = (j + 0.5 - center) / filterScale, px = Math.PI * x;
                double wgt = x == 0 ? 1 : Math.Abs(x) >= 3 ? 0 : 3 * Math.Sin(px) * Math.Sin(px / 3) / (px * px);
                weights[i * taps + j - lo] = wgt;
                sum += wgt;
            }
            for (int j = 0; j < hi - lo; j++) weights[i * taps + j] /= sum;
        }
        return (start, weights, taps);
    }
}
