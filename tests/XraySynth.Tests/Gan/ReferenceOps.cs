using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan;

/// <summary>Slow, loop-based references that the fused tensor-op implementations are checked against.</summary>
internal static class ReferenceOps
{
    /// <summary>
    /// upfirdn2d by definition, per channel: insert up−1 zeros after each pixel, pad (negative = crop), convolve
    /// with f (correlate when flipFilter), scale by gain, keep every down-th pixel.
    /// </summary>
    public static Tensor Upfirdn2d(Tensor x, float[,] f, int up, int down, (int X0, int X1, int Y0, int Y1) pad,
        bool flipFilter = false, double gain = 1)
    {
        var s = x.shape;
        int n = (int)s[0], c = (int)s[1], h = (int)s[2], w = (int)s[3];
        int fh = f.GetLength(0), fw = f.GetLength(1);
        var src = x.contiguous().data<float>().ToArray();
        int hu = h * up, wu = w * up;
        int hp = hu + pad.Y0 + pad.Y1, wp = wu + pad.X0 + pad.X1;
        int hf = hp - fh + 1, wf = wp - fw + 1;
        int ho = (hf + down - 1) / down, wo = (wf + down - 1) / down;
        var dst = new float[n * c * ho * wo];
        for (var plane = 0; plane < n * c; plane++)
        {
            // Upsample by zero insertion, then pad or crop.
            var padded = new double[hp, wp];
            for (var i = 0; i < hp; i++)
                for (var j = 0; j < wp; j++)
                {
                    int ui = i - pad.Y0, uj = j - pad.X0;
                    if (ui < 0 || uj < 0 || ui >= hu || uj >= wu || ui % up != 0 || uj % up != 0)
                        continue;
                    padded[i, j] = src[plane * h * w + ui / up * w + uj / up];
                }
            // Convolve (valid), then downsample.
            for (var oi = 0; oi < ho; oi++)
                for (var oj = 0; oj < wo; oj++)
                {
                    int i = oi * down, j = oj * down;
                    double acc = 0;
                    for (var a = 0; a < fh; a++)
                        for (var b = 0; b < fw; b++)
                        {
                            var tap = flipFilter ? f[a, b] : f[fh - 1 - a, fw - 1 - b];
                            acc += padded[i + a, j + b] * tap;
                        }
                    dst[plane * ho * wo + oi * wo + oj] = (float)(acc * gain);
                }
        }
        return tensor(dst, [n, c, ho, wo]);
    }

    public static float[,] ToArray(Tensor f)
    {
        var s = f.shape;
        var data = f.contiguous().data<float>().ToArray();
        var result = new float[s[0], s[1]];
        for (var i = 0; i < s[0]; i++)
            for (var j = 0; j < s[1]; j++)
                result[i, j] = data[i * s[1] + j];
        return result;
    }

    public static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
