using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XraySynth.Imaging;

/// <summary>Separable Lanczos-3 resampling with the kernel widened by the scale factor when shrinking (as PIL's
/// antialiased resize does), so downscaling a 512-px radiograph to 64 px averages every source pixel instead of
/// aliasing. Works on any channel count; output rounded and clamped to bytes. Single-threaded: callers
/// parallelise over images. Weights and accumulation are single precision (as PIL's float path); the vertical pass
/// runs first, a whole row at a time in SIMD lanes.</summary>
public static class Resampler
{
    private const double Support = 3.0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static RasterImage Resize(RasterImage src, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"target size {width}x{height}");
        if (width == src.Width && height == src.Height) return src;
        int c = src.Channels;
        // Vertical pass first (whole rows in SIMD lanes) to floats [height, src.Width, c]: when shrinking, the
        // scalar horizontal pass then runs on the fewer output rows.
        var tmp = new float[height * src.Width * c];
        Vertical(src, height, tmp);
        var dst = new byte[width * height * c];
        Horizontal(tmp, src.Width, c, height, width, dst);
        return new RasterImage(width, height, c, dst);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vertical(RasterImage src, int height, float[] tmp)
    {
        int rowLen = src.Width * src.Channels;
        var taps = Taps.For(src.Height, height);
        var srcF = new float[src.Pixels.Length];        // each source byte converted once
        var pixels = src.Pixels;
        for (int i = 0; i < pixels.Length; i++) srcF[i] = pixels[i];
        int lanes = Vector<float>.Count, vectorLen = rowLen / lanes * lanes;
        for (int y = 0; y < height; y++)
        {
            var acc = tmp.AsSpan(y * rowLen, rowLen);
            var accV = MemoryMarshal.Cast<float, Vector<float>>(acc);
            for (int k = 0; k < taps.Count[y]; k++)
            {
                float w = taps.Weights[y * taps.Stride + k];
                var srcRow = srcF.AsSpan((taps.Start[y] + k) * rowLen, rowLen);
                var srcV = MemoryMarshal.Cast<float, Vector<float>>(srcRow);
                var wv = new Vector<float>(w);
                for (int i = 0; i < accV.Length; i++) accV[i] += wv * srcV[i];
                for (int i = vectorLen; i < rowLen; i++) acc[i] += w * srcRow[i];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Horizontal(float[] tmp, int inWidth, int c, int height, int width, byte[] dst)
    {
        var taps = Taps.For(inWidth, width);
        fixed (float* input = tmp, weights = taps.Weights)
        fixed (byte* output = dst)
        fixed (int* starts = taps.Start, counts = taps.Count)
        {
            for (int y = 0; y < height; y++)
            {
                float* row = input + (long)y * inWidth * c;
                byte* dstRow = output + (long)y * width * c;
                for (int x = 0; x < width; x++)
                {
                    float* w = weights + x * taps.Stride;
                    float* p = row + starts[x] * c;
                    int n = counts[x];
                    if (c == 1)
                    {
                        float acc = 0;
                        for (int k = 0; k < n; k++) acc += w[k] * p[k];
                        dstRow[x] = ToByte(acc);
                    }
                    else if (c == 3)
                    {
                        float a0 = 0, a1 = 0, a2 = 0;
                        for (int k = 0; k < n; k++, p += 3)
                        {
                            float wk = w[k];
                            a0 += wk * p[0];
                            a1 += wk * p[1];
                            a2 += wk * p[2];
                        }
                        dstRow[x * 3] = ToByte(a0);
                        dstRow[x * 3 + 1] = ToByte(a1);
                        dstRow[x * 3 + 2] = ToByte(a2);
                    }
                    else
                    {
                        for (int ch = 0; ch < c; ch++)
                        {
                            float acc = 0;
                            for (int k = 0; k < n; k++) acc += w[k] * p[k * c + ch];
                            dstRow[x * c + ch] = ToByte(acc);
                        }
                    }
                }
            }
        }
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);

    /// <summary>For each output index: the first source index, the number of taps that lie inside the image and
    /// their normalised weights (row <c>i * Stride</c> of <see cref="Weights"/>).</summary>
    private sealed record Taps(int[] Start, int[] Count, float[] Weights, int Stride)
    {
        public static Taps For(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);       // widen the kernel when shrinking: antialiasing
            double support = Support * filterScale;
            int stride = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outSize];
            var count = new int[outSize];
            var weights = new float[outSize * stride];
            var w = new double[stride];
            for (int i = 0; i < outSize; i++)
            {
                double center = (i + 0.5) * scale;
                int lo = Math.Max(0, (int)Math.Floor(center - support));
                int hi = Math.Min(inSize, (int)Math.Ceiling(center + support));
                if (hi - lo > stride) hi = lo + stride;
                double sum = 0;
                for (int j = lo; j < hi; j++) sum += w[j - lo] = Lanczos((j + 0.5 - center) / filterScale);
                // Drop zero-weight taps at both ends: they would only cost multiplications.
                while (hi > lo + 1 && w[0] == 0) { Array.Copy(w, 1, w, 0, hi - lo - 1); lo++; }
                while (hi > lo + 1 && w[hi - lo - 1] == 0) hi--;
                start[i] = lo;
                count[i] = hi - lo;
                for (int j = 0; j < hi - lo; j++) weights[i * stride + j] = (float)(sum != 0 ? w[j] / sum : w[j]);
            }
            return new Taps(start, count, weights, stride);
        }
    }

    private static double Lanczos(double x)
    {
        if (x == 0) return 1;
        if (x <= -Support || x >= Support) return 0;
        double px = Math.PI * x;
        return Support * Math.Sin(px) * Math.Sin(px / Support) / (px * px);
    }
}
