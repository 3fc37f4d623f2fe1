using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// Modulated convolution: W'[n,o,i,·] = W[o,i,·]·s[n,i], optionally demodulated by rsqrt(Σ_{i,k} W'² + 1e-8).
/// Fused: one grouped convolution over the batch with per-sample weights. Not fused: the shared weight convolves
/// activations scaled by the styles, and the demodulation scales the output (same result, cheaper backward).
/// </summary>
public static class ModulatedConv
{
    /// <summary>
    /// <paramref name="x"/> [N,I,H,W], <paramref name="weight"/> [O,I,k,k], <paramref name="styles"/> [N,I],
    /// optional <paramref name="noise"/> broadcastable to the output, added after the (de)modulation.
    /// Returns [N, O, H·up/down, W·up/down] (with padding = k/2).
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor styles, Tensor? noise = null, int up = 1, int down = 1,
        int padding = 0, Tensor? resampleFilter = null, bool demodulate = true, bool flipWeight = true,
        bool fused = true)
    {
        var ws = TensorChecks.Shape(weight, "modulated conv weight [OIkk]", null, null, null, null);
        long outChannels = ws[0], inChannels = ws[1], kh = ws[2], kw = ws[3];
        var xs = TensorChecks.Shape(x, "modulated conv input [NIHW]", null, inChannels, null, null);
        long n = xs[0];
        TensorChecks.Shape(styles, "modulated conv styles [NI]", n, inChannels);

        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var w = weight;
        var s = styles;
        if (dtype == ScalarType.Float16 && demodulate)
        {
            // Pre-normalise so the fp16 products cannot overflow; demodulation removes the scale again.
            w = w * (1 / Math.Sqrt(inChannels * kh * kw) / w.abs().amax([1, 2, 3], keepdim: true));
            s = s / s.abs().amax([1], keepdim: true);
        }

        // Demodulation coefficients without building [N,O,I,k,k]: Σ_i s[n,i]² · Σ_k W[o,i,k]².
        Tensor? dcoefs = null;
        if (demodulate)
            dcoefs = (s.square().matmul(w.square().sum([2, 3]).t()) + 1e-8).rsqrt(); // [NO]

        Tensor y;
        if (!fused)
        {
            var xm = x * s.to(dtype).reshape(n, -1, 1, 1); // [NIHW]
            y = Conv2dResample.Apply(xm, w.to(dtype), resampleFilter, up, down, padding, flipWeight: flipWeight);
            if (dcoefs is not null)
                y = y * dcoefs.to(dtype).reshape(n, -1, 1, 1); // [NOHW]
            if (noise is not null)
                y = y + noise.to(dtype);
            return y.MoveToOuterDisposeScope();
        }

        var wn = w.unsqueeze(0) * s.reshape(n, 1, -1, 1, 1); // [NOIkk]
        if (dcoefs is not null)
            wn = wn * dcoefs.reshape(n, -1, 1, 1, 1); // [NOIkk]
        var xg = x.reshape(1, n * inChannels, xs[2], xs[3]); // [1, N·I, H, W]
        var wg = wn.reshape(n * outChannels, inChannels, kh, kw).to(dtype); // [N·O, I, k, k]
        y = Conv2dResample.Apply(xg, wg, resampleFilter, up, down, padding, groups: n, flipWeight: flipWeight);
        var ys = y.shape;
        y = y.reshape(n, outChannels, ys[2], ys[3]); // [NOHW]
        if (noise is not null)
            y = y + noise.to(dtype);
        return y.MoveToOuterDisposeScope();
    }
}
