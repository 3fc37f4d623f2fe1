using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Gan.Networks;

/// <summary>Padding of a 2D signal per side; negative values crop.</summary>
public readonly record struct Padding2d(int X0, int X1, int Y0, int Y1)
{
    /// <summary>The same padding on all four sides.</summary>
    public static Padding2d All(int p) => new(p, p, p, p);

    /// <summary>Adds two paddings side by side.</summary>
    public static Padding2d operator +(Padding2d a, Padding2d b) =>
        new(a.X0 + b.X0, a.X1 + b.X1, a.Y0 + b.Y0, a.Y1 + b.Y1);

    internal bool IsSymmetricNonNegative => X0 == X1 && Y0 == Y1 && X0 >= 0 && Y0 >= 0;
}

/// <summary>
/// The one upfirdn2d of the project: upsample by zero insertion, pad (negative = crop), convolve with a 2D FIR
/// filter, keep every down-th pixel — per channel. Built from two or three large ops instead of a custom kernel:
/// zero insertion and filtering fuse into one depthwise transposed convolution with stride <c>up</c>;
/// filtering and downsampling fuse into one depthwise strided convolution.
/// </summary>
public static class Upfirdn2d
{
    /// <summary>
    /// Builds the 2D filter for <see cref="Apply"/>: a 1D list of taps becomes its outer product, normalised to
    /// sum 1 so that a constant signal keeps its magnitude. [1,3,3,1] gives a [4,4] float32 tensor.
    /// </summary>
    public static Tensor SetupFilter(IReadOnlyList<double> taps, bool normalize = true)
    {
        if (taps.Count == 0)
            throw new ArgumentException("A FIR filter needs at least one tap.", nameof(taps));
        var k = taps.Count;
        var values = new float[k * k];
        var sum = 0.0;
        for (var i = 0; i < k; i++)
            for (var j = 0; j < k; j++)
                sum += taps[i] * taps[j];
        var norm = normalize ? sum : 1.0;
        for (var i = 0; i < k; i++)
            for (var j = 0; j < k; j++)
                values[i * k + j] = (float)(taps[i] * taps[j] / norm);
        return tensor(values, [k, k], ScalarType.Float32);
    }

    /// <summary>
    /// Pads, upsamples, filters and downsamples every channel of <paramref name="x"/> [N,C,H,W].
    /// <paramref name="padding"/> is relative to the upsampled image; <paramref name="flipFilter"/> false =
    /// convolution, true = correlation; <paramref name="gain"/> scales the filter.
    /// Output height: (H·up + Y0 + Y1 − fh + 1) / down, rounded up; likewise the width.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor f, int up = 1, int down = 1, Padding2d padding = default,
        bool flipFilter = false, double gain = 1)
    {
        if (up < 1 || down < 1)
            throw new ArgumentException($"up and down must be at least 1, got up={up}, down={down}.");
        var s = TensorChecks.Shape(x, "upfirdn2d input [NCHW]", null, null, null, null);
        var fs = TensorChecks.Shape(f, "upfirdn2d filter [fh,fw]", null, null);
        long c = s[1], h = s[2], w = s[3], fh = fs[0], fw = fs[1];

        using var scope = NewDisposeScope();
        var k = f.dtype == x.dtype ? f : f.to(x.dtype);
        if (gain != 1)
            k = k * gain;
        Tensor y;
        if (up > 1)
        {
            // Transposed convolution = true convolution of the zero-inserted signal; correlation needs a flip.
            if (flipFilter)
                k = k.flip(0, 1);
            var weight = k.reshape(1, 1, fh, fw).expand(c, 1, fh, fw);
            // The full convolution has (H-1)·up + fh samples; the wanted window starts at fh-1-Y0.
            long cy0 = fh - 1 - padding.Y0, cx0 = fw - 1 - padding.X0;
            long cy1 = (h - 1) * up + fh - (cy0 + h * up + padding.Y0 + padding.Y1 - fh + 1);
            long cx1 = (w - 1) * up + fw - (cx0 + w * up + padding.X0 + padding.X1 - fw + 1);
            if (cy0 == cy1 && cx0 == cx1 && cy0 >= 0 && cx0 >= 0)
            {
                y = F.conv_transpose2d(x, weight, strides: [up, up], padding: [cy0, cx0], groups: c); // [NCHW]
            }
            else
            {
                y = F.conv_transpose2d(x, weight, strides: [up, up], groups: c);
                y = F.pad(y, [-cx0, -cx1, -cy0, -cy1]); // [NCHW] negative = crop, positive = zeros
            }
            if (down > 1)
                y = y[.., .., TensorIndex.Slice(null, null, down), TensorIndex.Slice(null, null, down)];
        }
        else
        {
            // conv2d correlates; a true convolution needs the flipped filter.
            if (!flipFilter)
                k = k.flip(0, 1);
            var weight = k.reshape(1, 1, fh, fw).expand(c, 1, fh, fw);
            if (padding.IsSymmetricNonNegative)
            {
                y = F.conv2d(x, weight, strides: [down, down], padding: [padding.Y0, padding.X0], groups: c);
            }
            else
            {
                var padded = F.pad(x, [padding.X0, padding.X1, padding.Y0, padding.Y1]);
                y = F.conv2d(padded, weight, strides: [down, down], groups: c); // [NCHW]
            }
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Upsamples by <paramref name="up"/> with the filter (gain up² keeps the magnitude), output H·up × W·up
    /// plus <paramref name="padding"/> on each side.
    /// </summary>
    public static Tensor Upsample2d(Tensor x, Tensor f, int up = 2, int padding = 0, double gain = 1)
    {
        var (fh, fw) = FilterSize(f);
        var p = new Padding2d(padding + (fw + up - 1) / 2, padding + (fw - up) / 2,
            padding + (fh + up - 1) / 2, padding + (fh - up) / 2);
        return Apply(x, f, up: up, padding: p, gain: gain * up * up);
    }

    /// <summary>Filters and downsamples by <paramref name="down"/>: output H/down × W/down (plus padding).</summary>
    public static Tensor Downsample2d(Tensor x, Tensor f, int down = 2, int padding = 0, double gain = 1)
    {
        var (fh, fw) = FilterSize(f);
        var p = new Padding2d(padding + (fw - down + 1) / 2, padding + (fw - down) / 2,
            padding + (fh - down + 1) / 2, padding + (fh - down) / 2);
        return Apply(x, f, down: down, padding: p, gain: gain);
    }

    /// <summary>Filters without resampling; output keeps the input size (plus padding).</summary>
    public static Tensor Filter2d(Tensor x, Tensor f, int padding = 0, double gain = 1)
    {
        var (fh, fw) = FilterSize(f);
        var p = new Padding2d(padding + fw / 2, padding + (fw - 1) / 2, padding + fh / 2, padding + (fh - 1) / 2);
        return Apply(x, f, padding: p, gain: gain);
    }

    internal static (int Height, int Width) FilterSize(Tensor f)
    {
        var fs = TensorChecks.Shape(f, "upfirdn2d filter [fh,fw]", null, null);
        return ((int)fs[0], (int)fs[1]);
    }
}
