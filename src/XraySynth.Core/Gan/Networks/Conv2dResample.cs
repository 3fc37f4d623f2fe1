using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Gan.Networks;

/// <summary>
/// 2D convolution with optional up- or downsampling through the FIR filter, padding applied once:
/// up-conv = stride-<c>up</c> transposed convolution, then the FIR filter (gain up²);
/// down-conv = the FIR filter, then a stride-<c>down</c> convolution; 1x1 kernels resample on the cheaper side.
/// </summary>
public static class Conv2dResample
{
    /// <summary>
    /// Convolves <paramref name="x"/> [N, I·groups, H, W] with <paramref name="w"/> [O, I, kh, kw].
    /// <paramref name="padding"/> is relative to the upsampled image (kernel_size / 2 keeps the size);
    /// <paramref name="flipWeight"/> true = correlation (what conv2d does), false = convolution.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor w, Tensor? f = null, int up = 1, int down = 1, int padding = 0,
        long groups = 1, bool flipWeight = true)
    {
        if (up < 1 || down < 1)
            throw new ArgumentException($"up and down must be at least 1, got up={up}, down={down}.");
        if ((up > 1 || down > 1) && f is null)
            throw new ArgumentException("Resampling needs a FIR filter.", nameof(f));
        var ws = TensorChecks.Shape(w, "conv weight [OIkk]", null, null, null, null);
        long outChannels = ws[0], inPerGroup = ws[1], kh = ws[2], kw = ws[3];
        var (fh, fw) = f is null ? (1, 1) : Upfirdn2d.FilterSize(f);
        var p = Padding2d.All(padding);
        if (up > 1)
            p += new Padding2d((fw + up - 1) / 2, (fw - up) / 2, (fh + up - 1) / 2, (fh - up) / 2);
        if (down > 1)
            p += new Padding2d((fw - down + 1) / 2, (fw - down) / 2, (fh - down + 1) / 2, (fh - down) / 2);

        using var scope = NewDisposeScope();
        Tensor y;
        if (kw == 1 && kh == 1 && down > 1 && up == 1)
        {
            // 1x1 kernel, downsampling: shrink first, then convolve the smaller image.
            y = Upfirdn2d.Apply(x, f!, down: down, padding: p);
            y = Conv(y, w, groups: groups, flipWeight: flipWeight); // [NCHW]
        }
        else if (kw == 1 && kh == 1 && up > 1 && down == 1)
        {
            // 1x1 kernel, upsampling: convolve the smaller image, then grow it.
            y = Conv(x, w, groups: groups, flipWeight: flipWeight);
            y = Upfirdn2d.Apply(y, f!, up: up, padding: p, gain: up * up); // [NCHW]
        }
        else if (down > 1 && up == 1)
        {
            y = Upfirdn2d.Apply(x, f!, padding: p);
            y = Conv(y, w, stride: down, groups: groups, flipWeight: flipWeight); // [NCHW]
        }
        else if (up > 1)
        {
            // Transposed convolution wants [I, O/groups, kh, kw] per group.
            Tensor wt;
            if (groups == 1)
            {
                wt = w.transpose(0, 1);
            }
            else
            {
                wt = w.reshape(groups, outChannels / groups, inPerGroup, kh, kw).transpose(1, 2)
                    .reshape(groups * inPerGroup, outChannels / groups, kh, kw);
            }
            p += new Padding2d(-(int)(kw - 1), -(int)(kw - up), -(int)(kh - 1), -(int)(kh - up));
            var pxt = Math.Max(Math.Min(-p.X0, -p.X1), 0);
            var pyt = Math.Max(Math.Min(-p.Y0, -p.Y1), 0);
            // A transposed convolution convolves; flipping the weight makes it correlate.
            var kernel = flipWeight ? wt.flip(2, 3) : wt;
            y = F.conv_transpose2d(x, kernel, strides: [up, up], padding: [pyt, pxt], groups: groups);
            y = Upfirdn2d.Apply(y, f!, padding: p + new Padding2d(pxt, pxt, pyt, pyt), gain: up * up); // [NCHW]
            if (down > 1)
                y = Upfirdn2d.Apply(y, f!, down: down);
        }
        else if (p.IsSymmetricNonNegative)
        {
            y = Conv(x, w, padding: p, groups: groups, flipWeight: flipWeight); // [NCHW]
        }
        else
        {
            y = F.pad(x, [p.X0, p.X1, p.Y0, p.Y1]);
            y = Conv(y, w, groups: groups, flipWeight: flipWeight); // [NCHW]
        }
        return y.MoveToOuterDisposeScope();
    }

    private static Tensor Conv(Tensor x, Tensor w, int stride = 1, Padding2d padding = default, long groups = 1,
        bool flipWeight = true)
    {
        var kernel = flipWeight ? w : w.flip(2, 3);
        return F.conv2d(x, kernel, strides: [stride, stride], padding: [padding.Y0, padding.X0], groups: groups);
    }
}
