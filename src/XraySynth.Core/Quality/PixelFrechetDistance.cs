using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Quality;

/// <summary>The mean and covariance of a set of feature vectors (float64, on the CPU).</summary>
/// <param name="Mean">[D]</param>
/// <param name="Covariance">[D, D], unbiased.</param>
internal sealed record GaussianFit(Tensor Mean, Tensor Covariance) : IDisposable
{
    /// <summary>Fits features [N, D] (N ≥ 2); the fit owns its tensors (outside any dispose scope).</summary>
    public static GaussianFit Of(Tensor features)
    {
        if (features.ndim != 2 || features.shape[0] < 2)
            throw new ArgumentException("A Gaussian fit needs features [N ≥ 2, D].", nameof(features));
        using var scope = NewDisposeScope();
        var x = features.detach().to(ScalarType.Float64).cpu();
        var mean = x.mean([0]);
        var centred = x - mean;
        var cov = centred.t().matmul(centred) / (x.shape[0] - 1);
        return new GaussianFit(mean.DetachFromDisposeScope(), cov.DetachFromDisposeScope());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}

/// <summary>
/// The Fréchet distance behind the FD8 figure that <c>gan train</c> logs, computed by <see cref="FrechetDistance"/>.
/// Internal on purpose: a quick training trend on <see cref="PixelFeatures"/>; FID/KID belong to the metrics module.
/// </summary>
internal static class PixelFrechetDistance
{
    /// <summary>The distance between two fits (the metrics module's one Fréchet distance).</summary>
    public static double Compute(GaussianFit a, GaussianFit b) => FrechetDistance.Compute(a.Mean, a.Covariance, b.Mean, b.Covariance);

    /// <summary>The distance between the Gaussians of two feature sets [N, D] and [M, D].</summary>
    public static double Compute(Tensor featuresA, Tensor featuresB)
    {
        using var a = GaussianFit.Of(featuresA);
        using var b = GaussianFit.Of(featuresB);
        return Compute(a, b);
    }
}

/// <summary>
/// A small fixed feature extractor for quick quality tracking without a detector network: each image area-averaged to
/// <c>size × size</c> per channel (grey levels and coarse layout). The Fréchet distance of these features ("FD8" at
/// 8×8, on images in [−1, 1]) falls as generated images approach the reals; it is no substitute for FID.
/// </summary>
internal static class PixelFeatures
{
    /// <summary>images [N, C, H, W] in [−1, 1] (float) or 0..255 (uint8) → features [N, C·size²] (float64, CPU).</summary>
    public static Tensor Extract(Tensor images, int size = 8)
    {
        if (images.ndim != 4)
            throw new ArgumentException("Pixel features need images [N, C, H, W].", nameof(images));
        using var scope = NewDisposeScope();
        var x = images.detach();
        x = x.dtype == ScalarType.Byte ? x.to(ScalarType.Float32) / 127.5 - 1 : x.to(ScalarType.Float32);
        var pooled = F.adaptive_avg_pool2d(x, [size, size]); // [N, C, size, size]
        return pooled.flatten(1).to(ScalarType.Float64).cpu().MoveToOuterDisposeScope();
    }
}
