using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Gan.Augment;

/// <summary>
/// The ADA augmentation pipeline ("Training Generative Adversarial Networks with Limited Data", official
/// training/augment.py), applied to every image the discriminator sees. Each op fires per sample with probability
/// multiplier · p. Geometric ops compose one inverse 3×3 matrix per sample that is executed once: reflect-pad,
/// upsample ×2 with the sym6 wavelet, affine grid + bilinear sampling (<see cref="GridSampleGradfix"/>, so R1 can
/// differentiate through it twice), downsample ×2, crop. Colour ops compose one 4×4 matrix; a one-channel image uses
/// its mean over the RGB rows (a scalar gain and offset; hue and saturation do not apply). Then the image-space
/// filter, additive noise and cutout. Every random number comes from the <see cref="torch.Generator"/> passed in.
/// </summary>
public sealed class AugmentPipe : IDisposable
{
    // Low-pass filters of wavelet decompositions (Daubechies symlets).
    internal static readonly double[] Sym2 =
        [-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025];

    internal static readonly double[] Sym6 =
    [
        0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633, 0.4910559419267466,
        0.787641141030194, 0.3379294217276218, -0.07263752278646252, -0.021060292512300564, 0.04472490177066578,
        0.0017677118642428036, -0.007800708325034148,
    ];

    private readonly Tensor _hzGeom;    // [12, 12] separable sym6, normalised to sum 1
    private readonly Tensor _hzFbank;   // [4, 43] filter bank of the image-space filter, low to high band
    private readonly Device _device;

    /// <summary>The probability multipliers and strengths.</summary>
    public AugmentSpec Spec { get; }

    /// <summary>Builds the pipeline's filters on <paramref name="device"/>.</summary>
    public AugmentPipe(AugmentSpec spec, Device? device = null)
    {
        if (spec.ImgFilterBands.Count != 4)
            throw new ArgumentException($"The image filter has 4 bands, got {spec.ImgFilterBands.Count} multipliers.");
        Spec = spec;
        _device = device ?? CPU;
        _hzGeom = Upfirdn2d.SetupFilter(Sym6).to(_device).DetachFromDisposeScope();
        _hzFbank = tensor(FilterBank(), ScalarType.Float32).to(_device).DetachFromDisposeScope();
    }

    /// <summary>Half the length of the geometric filter: the padding each side needs (official Hz_pad).</summary>
    private int HzPad => (int)_hzGeom.shape[0] / 4;

    /// <summary>
    /// images [N, C, H, W] (C = 1 or 3, roughly in [−1, 1]) → augmented images of the same shape, every op firing with
    /// probability multiplier · <paramref name="p"/>. Differentiable with respect to the images, to any order.
    /// </summary>
    public Tensor Apply(Tensor images, double p, torch.Generator? generator = null)
    {
        if (images.ndim != 4)
            throw new ArgumentException($"ADA needs images [N, C, H, W], got [{string.Join(", ", images.shape)}].");
        var shape = images.shape;
        long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        if (c is not (1 or 3))
            throw new ArgumentException($"ADA needs 1 (grey) or 3 (RGB) channels, got {c}.");
        using var scope = NewDisposeScope();
        var rng = new Draws(n, _device, generator);
        var x = images;
        if (Spec.HasGeometry)
            x = ExecuteGeometry(x, GeometryMatrix(rng, p, w, h));
        if (Spec.HasColor)
            x = ExecuteColor(x, ColorMatrix(rng, p, (int)c));
        if (Spec.ImgFilter > 0)
            x = ImageFilter(x, rng, p);
        if (Spec.Noise > 0)
            x = AddNoise(x, rng, p);
        if (Spec.Cutout > 0)
            x = ApplyCutout(x, rng, p);
        return x.MoveToOuterDisposeScope();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Geometry: the inverse transform G_inv (output pixel → input pixel), per sample [N, 3, 3].

    internal Tensor GeometryMatrix(Draws rng, double p, long width, long height)
    {
        var s = Spec;
        var gInv = eye(3, device: _device).expand(rng.N, 3, 3);

        // Pixel blitting: x-flip, 90° rotations, integer translation.
        // DRAW ORDER: in rng.Where(probability, value, otherwise) C# evaluates the arguments left to right, so the
        // value's draw (rng.Uniform() / rng.Normal() inside the argument) happens before Where draws the mask. That is
        // the official order (augment.py draws the value, then torch.rand(...) < prob for torch.where), and exact resume
        // depends on it: never hoist the mask out, or the value out of the call, without keeping value-then-mask.
        // Pinned by AugmentPipeRandomStreamTests.
        if (s.XFlip > 0)
        {
            var i = rng.Where(s.XFlip * p, rng.Uniform().mul(2).floor(), 0);
            gInv = gInv.matmul(Mat.Scale(1 - 2 * i, rng.Ones())); // ±1: its own inverse
        }
        if (s.Rotate90 > 0)
        {
            var i = rng.Where(s.Rotate90 * p, rng.Uniform().mul(4).floor(), 0);
            gInv = gInv.matmul(Mat.RotateInv(-Math.PI / 2 * i));
        }
        if (s.XInt > 0)
        {
            var t = (rng.Uniform(2) * 2 - 1) * s.XIntMax; // [N, 2]
            t = where(rng.Mask(s.XInt * p, 1), t, zeros_like(t));
            gInv = gInv.matmul(Mat.Translate(-(t[.., 0] * width).round(), -(t[.., 1] * height).round()));
        }

        // General geometric transformations: scale, rotation, anisotropy, fractional translation.
        if (s.Scale > 0)
        {
            var f = rng.Where(s.Scale * p, exp2(rng.Normal() * s.ScaleStd), 1);
            gInv = gInv.matmul(Mat.Scale(1 / f, 1 / f));
        }
        // P(pre or post rotation) = rotate · p.
        var pRot = 1 - Math.Sqrt(Math.Clamp(1 - s.Rotate * p, 0, 1));
        if (s.Rotate > 0)
        {
            var theta = rng.Where(pRot, (rng.Uniform() * 2 - 1) * (Math.PI * s.RotateMax), 0);
            gInv = gInv.matmul(Mat.RotateInv(-theta)); // before the anisotropic scaling
        }
        if (s.Aniso > 0)
        {
            var f = rng.Where(s.Aniso * p, exp2(rng.Normal() * s.AnisoStd), 1);
            gInv = gInv.matmul(Mat.Scale(1 / f, f));
        }
        if (s.Rotate > 0)
        {
            var theta = rng.Where(pRot, (rng.Uniform() * 2 - 1) * (Math.PI * s.RotateMax), 0);
            gInv = gInv.matmul(Mat.RotateInv(-theta)); // after the anisotropic scaling
        }
        if (s.XFrac > 0)
        {
            var t = rng.Normal(2) * s.XFracStd; // [N, 2]
            t = where(rng.Mask(s.XFrac * p, 1), t, zeros_like(t));
            gInv = gInv.matmul(Mat.Translate(-t[.., 0] * width, -t[.., 1] * height));
        }
        return gInv;
    }

    /// <summary>Resamples images [N, C, H, W] through the inverse transforms <paramref name="gInv"/> [N, 3, 3].</summary>
    internal Tensor ExecuteGeometry(Tensor images, Tensor gInv)
    {
        var shape = images.shape;
        long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        var hzPad = HzPad;

        // Padding: where the corners of the output land in the input, plus room for the filter.
        var corners = tensor(new float[] { (float)-cx, (float)-cy, 1, (float)cx, (float)-cy, 1, (float)cx, (float)cy, 1,
            (float)-cx, (float)cy, 1 }, [4, 3], device: _device);
        var cp = gInv.matmul(corners.t()); // [N, xyz, corner]
        var margin = cp[.., ..2, ..].permute(1, 0, 2).flatten(1); // [xy, N·4]
        margin = cat([-margin, margin]).amax([1]); // [x0, y0, x1, y1]
        margin += tensor(new float[] { (float)(hzPad * 2 - cx), (float)(hzPad * 2 - cy), (float)(hzPad * 2 - cx),
            (float)(hzPad * 2 - cy) }, device: _device);
        margin = margin.clamp_min(0).minimum(tensor(new float[] { w - 1, h - 1, w - 1, h - 1 }, device: _device));
        var m = margin.ceil().to(ScalarType.Int32).cpu().data<int>().ToArray(); // one small read per call
        int mx0 = m[0], my0 = m[1], mx1 = m[2], my1 = m[3];

        // Pad with reflection and move the origin accordingly.
        var x = F.pad(images, [mx0, mx1, my0, my1], PaddingModes.Reflect);
        gInv = Mat.Translate((mx0 - mx1) / 2.0, (my0 - my1) / 2.0, _device).matmul(gInv);

        // Upsample ×2: the transform acts on the finer grid.
        x = Upfirdn2d.Upsample2d(x, _hzGeom, up: 2);
        gInv = Mat.Scale(2, 2, _device).matmul(gInv).matmul(Mat.Scale(0.5, 0.5, _device));
        gInv = Mat.Translate(-0.5, -0.5, _device).matmul(gInv).matmul(Mat.Translate(0.5, 0.5, _device));

        // Sample: pixel units → the [−1, 1] coordinates of affine_grid (output grid with room for the filter).
        long outH = (h + hzPad * 2) * 2, outW = (w + hzPad * 2) * 2;
        var xs = x.shape;
        gInv = Mat.Scale(2.0 / xs[3], 2.0 / xs[2], _device).matmul(gInv)
            .matmul(Mat.Scale(outW / 2.0, outH / 2.0, _device));
        var grid = F.affine_grid(gInv[.., ..2, ..], [n, c, outH, outW], align_corners: false);
        x = GridSampleGradfix.GridSample(x, grid);

        // Downsample ×2 with the flipped filter and crop the padding of the filter.
        var (fh, fw) = Upfirdn2d.FilterSize(_hzGeom);
        var px0 = (fw - 2 + 1) / 2 - hzPad * 2;
        var px1 = (fw - 2) / 2 - hzPad * 2;
        var py0 = (fh - 2 + 1) / 2 - hzPad * 2;
        var py1 = (fh - 2) / 2 - hzPad * 2;
        return Upfirdn2d.Apply(x, _hzGeom, down: 2, padding: new Padding2d(px0, px1, py0, py1), flipFilter: true);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Colour: a homogeneous 4×4 transform of (r, g, b, 1) per sample.

    internal Tensor ColorMatrix(Draws rng, double p, int channels)
    {
        var s = Spec;
        var c = eye(4, device: _device).expand(rng.N, 4, 4);
        if (s.Brightness > 0)
        {
            var b = rng.Where(s.Brightness * p, rng.Normal() * s.BrightnessStd, 0);
            c = Mat.Translate3d(b, b, b).matmul(c);
        }
        if (s.Contrast > 0)
        {
            var k = rng.Where(s.Contrast * p, exp2(rng.Normal() * s.ContrastStd), 1);
            c = Mat.Scale3d(k, k, k).matmul(c);
        }
        var v = tensor(new float[] { 1, 1, 1, 0 }, device: _device) / Math.Sqrt(3); // luma axis
        var vv = v.outer(v); // [4, 4]
        if (s.LumaFlip > 0)
        {
            var i = rng.Where(s.LumaFlip * p, rng.Uniform().mul(2).floor(), 0).reshape(-1, 1, 1);
            c = (eye(4, device: _device) - 2 * vv * i).matmul(c); // Householder reflection
        }
        if (s.Hue > 0 && channels > 1)
        {
            var theta = rng.Where(s.Hue * p, (rng.Uniform() * 2 - 1) * (Math.PI * s.HueMax), 0);
            c = Mat.Rotate3d(v, theta).matmul(c); // rotation around the luma axis
        }
        if (s.Saturation > 0 && channels > 1)
        {
            var k = rng.Where(s.Saturation * p, exp2(rng.Normal() * s.SaturationStd), 1).reshape(-1, 1, 1);
            c = (vv + (eye(4, device: _device) - vv) * k).matmul(c);
        }
        return c;
    }

    private static Tensor ExecuteColor(Tensor images, Tensor colorMatrix)
    {
        var shape = images.shape;
        long n = shape[0], ch = shape[1], h = shape[2], w = shape[3];
        var x = images.reshape(n, ch, h * w);
        if (ch == 3)
        {
            x = colorMatrix[.., ..3, ..3].matmul(x) + colorMatrix[.., ..3, 3..];
        }
        else
        {
            // Grey: the mean of the RGB rows gives one gain (sum of its RGB columns) and one offset.
            var m = colorMatrix[.., ..3, ..].mean([1], keepdim: true); // [N, 1, 4]
            x = x * m[.., .., ..3].sum(2, keepdim: true) + m[.., .., 3..];
        }
        return x.reshape(n, ch, h, w);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Image-space filtering, noise and cutout.

    private Tensor ImageFilter(Tensor images, Draws rng, double p)
    {
        var shape = images.shape;
        long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        var numBands = (int)_hzFbank.shape[0];
        var expectedPower = tensor(new float[] { 10, 1, 1, 1 }, device: _device) / 13; // 1/f power spectrum
        // Amplify each band with probability imgfilter · p · band multiplier, keeping the expected power.
        var g = ones(n, numBands, device: _device);
        for (var i = 0; i < numBands; i++)
        {
            var ti = rng.Where(Spec.ImgFilter * p * Spec.ImgFilterBands[i], exp2(rng.Normal() * Spec.ImgFilterStd), 1);
            var t = ones(n, numBands, device: _device);
            t[.., i] = ti;
            t = t / (expectedPower * t.square()).sum(-1, keepdim: true).sqrt();
            g = g * t;
        }
        var hz = g.matmul(_hzFbank); // [N, taps]
        hz = hz.unsqueeze(1).expand(n, c, -1).reshape(n * c, 1, -1); // [N·C, 1, taps]
        var pad = (int)_hzFbank.shape[1] / 2;
        if (pad >= h || pad >= w)
        {
            throw new ArgumentException(
                $"The ADA image filter needs images larger than {pad} pixels, got {h}x{w}; use a pipeline without 'f'.");
        }
        var x = images.reshape(1, n * c, h, w);
        x = F.pad(x, [pad, pad, pad, pad], PaddingModes.Reflect);
        x = F.conv2d(x, hz.unsqueeze(2), groups: n * c); // horizontal
        x = F.conv2d(x, hz.unsqueeze(3), groups: n * c); // vertical
        return x.reshape(n, c, h, w);
    }

    private Tensor AddNoise(Tensor images, Draws rng, double p)
    {
        var shape = images.shape;
        var sigma = (rng.Normal(1, 1, 1).abs() * Spec.NoiseStd).reshape(-1, 1, 1, 1); // [N, 1, 1, 1]
        sigma = where(rng.Mask(Spec.Noise * p, 1, 1, 1), sigma, zeros_like(sigma));
        return images + randn(shape, device: _device, generator: rng.Generator) * sigma;
    }

    private Tensor ApplyCutout(Tensor images, Draws rng, double p)
    {
        var shape = images.shape;
        long h = shape[2], w = shape[3];
        var size = full([rng.N, 2, 1, 1, 1], Spec.CutoutSize, device: _device);
        size = where(rng.Mask(Spec.Cutout * p, 1, 1, 1, 1), size, zeros_like(size));
        var center = rng.Uniform(2, 1, 1, 1); // [N, 2, 1, 1, 1]
        var coordX = arange(w, device: _device, dtype: ScalarType.Float32).reshape(1, 1, 1, -1);
        var coordY = arange(h, device: _device, dtype: ScalarType.Float32).reshape(1, 1, -1, 1);
        var maskX = ((coordX + 0.5) / w - center[.., 0]).abs() >= size[.., 0] / 2; // [N, 1, 1, W]
        var maskY = ((coordY + 0.5) / h - center[.., 1]).abs() >= size[.., 1] / 2; // [N, 1, H, 1]
        var mask = logical_or(maskX, maskY).to(ScalarType.Float32); // [N, 1, H, W]
        return images * mask;
    }

    // ------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The official filter bank: band 0 is the low-pass of a 3-level sym2 decomposition, bands 1..3 the high-pass
    /// details, as 43-tap symmetric filters whose sum is a unit impulse (all gains 1 = identity).
    /// </summary>
    internal static float[,] FilterBank()
    {
        var lo = Sym2;
        var hi = lo.Select((v, i) => i % 2 == 0 ? v : -v).ToArray(); // H(−z)
        var lo2 = Convolve(lo, lo.Reverse().ToArray()).Select(v => v / 2).ToArray();
        var hi2 = Convolve(hi, hi.Reverse().ToArray()).Select(v => v / 2).ToArray();
        List<double[]> bands = [[1.0], [0.0], [0.0], [0.0]];
        for (var i = 1; i < 4; i++)
        {
            for (var b = 0; b < 4; b++)
            {
                // Upsample by zero insertion (length L → 2L − 1), then low-pass.
                var row = bands[b];
                var up = new double[row.Length * 2 - 1];
                for (var k = 0; k < row.Length; k++)
                    up[2 * k] = row[k];
                bands[b] = Convolve(up, lo2);
            }
            var len = bands[i].Length;
            var start = (len - hi2.Length) / 2;
            for (var k = 0; k < hi2.Length; k++)
                bands[i][start + k] += hi2[k];
        }
        var result = new float[4, bands[0].Length];
        for (var b = 0; b < 4; b++)
            for (var k = 0; k < bands[b].Length; k++)
                result[b, k] = (float)bands[b][k];
        return result;
    }

    private static double[] Convolve(double[] a, double[] b)
    {
        var result = new double[a.Length + b.Length - 1];
        for (var i = 0; i < a.Length; i++)
            for (var j = 0; j < b.Length; j++)
                result[i + j] += a[i] * b[j];
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _hzGeom.Dispose();
        _hzFbank.Dispose();
    }

    /// <summary>Per-sample random draws from one generator, in a fixed order.</summary>
    internal sealed class Draws(long n, Device device, torch.Generator? generator)
    {
        public long N { get; } = n;

        public torch.Generator? Generator { get; } = generator;

        public Tensor Uniform(params long[] tail) => rand([N, .. tail], device: device, generator: Generator);

        public Tensor Normal(params long[] tail) => randn([N, .. tail], device: device, generator: Generator);

        public Tensor Ones() => ones(N, device: device);

        /// <summary>True with probability <paramref name="probability"/>, per sample: [N, tail...].</summary>
        public Tensor Mask(double probability, params long[] tail) => Uniform(tail) < probability;

        /// <summary>Per sample: <paramref name="value"/> with probability <paramref name="probability"/>, else <paramref name="otherwise"/>.</summary>
        /// <remarks>The mask is drawn here, after the caller's argument <paramref name="value"/> was evaluated (and drew
        /// its numbers): C#'s left-to-right argument evaluation gives the official value-then-mask order.</remarks>
        public Tensor Where(double probability, Tensor value, double otherwise)
        {
            var mask = Mask(probability); // after value's draws: see the remark
            return where(mask, value, full_like(value, otherwise));
        }
    }
}
