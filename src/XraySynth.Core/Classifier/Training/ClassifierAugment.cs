using XraySynth.Runtime;
using TorchSharp;
using XraySynth.Classifier.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Classifier.Training;

/// <summary>Batch augmentation and normalisation on the device: random horizontal flip (lateral inversion),
/// rotation ±<see cref="MaxRotationDegrees"/>, scale and translation, as one affine warp per image
/// (affine_grid + bilinear grid_sample); then grey → 3 channels and ImageNet normalisation.</summary>
public static class ClassifierAugment
{
    public const double MaxRotationDegrees = 30;
    public const double MaxScale = 0.1;        // scale in [0.9, 1.1]
    public const double MaxTranslate = 0.05;   // ± 5% of the image size

    /// <summary>x: float [N,1,H,W] in [0,1] → augmented, same shape. Random numbers come from
    /// <paramref name="generator"/> (seeded by the trainer), drawn on the CPU so results do not depend on the device.</summary>
    public static Tensor Augment(Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var u = rand([n, 5], generator: generator);                                     // [N,5] uniforms
        var angle = (u[.., 0] * 2 - 1) * (MaxRotationDegrees * Math.PI / 180);
        var scale = 1 + (u[.., 1] * 2 - 1) * MaxScale;
        var flip = where(u[.., 2] < 0.5, -1.0f, 1.0f);
        var tx = (u[.., 3] * 2 - 1) * (2 * MaxTranslate);                                // grid units: [-1,1] spans the image
        var ty = (u[.., 4] * 2 - 1) * (2 * MaxTranslate);
        var cos = angle.cos() / scale;
        var sin = angle.sin() / scale;
        // theta maps output coordinates to input coordinates: [[cos·f, -sin, tx], [sin·f, cos, ty]]  [N,2,3]
        var theta = stack([cos * flip, -sin, tx, sin * flip, cos, ty], 1).view(n, 2, 3).to(x.dtype, x.device);
        var grid = F.affine_grid(theta, x.shape, align_corners: false);
        var y = F.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>float [N,1,H,W] in [0,1] → [N,3,H,W] with ImageNet mean/std: <see cref="ImageNetInput.Normalize"/>.</summary>
    public static Tensor Normalize(Tensor x) => ImageNetInput.Normalize(x);
}
