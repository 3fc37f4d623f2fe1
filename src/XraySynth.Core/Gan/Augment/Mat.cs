using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Augment;

/// <summary>
/// Homogeneous transformation matrices for the ADA pipeline: 2D (3×3) for geometry, 3D (4×4) for colour. The tensor
/// overloads take one value per sample [N] and return [N, 3, 3] or [N, 4, 4]; the double overloads return one matrix.
/// </summary>
internal static class Mat
{
    /// <summary>[[sx, 0, 0], [0, sy, 0], [0, 0, 1]] per sample.</summary>
    public static Tensor Scale(Tensor sx, Tensor sy)
    {
        var (o, z) = (ones_like(sx), zeros_like(sx));
        return Rows3(sx, z, z, z, sy, z, z, z, o);
    }

    /// <summary>[[1, 0, tx], [0, 1, ty], [0, 0, 1]] per sample.</summary>
    public static Tensor Translate(Tensor tx, Tensor ty)
    {
        var (o, z) = (ones_like(tx), zeros_like(tx));
        return Rows3(o, z, tx, z, o, ty, z, z, o);
    }

    /// <summary>The inverse of a rotation by <paramref name="theta"/>: a rotation by −theta, per sample.</summary>
    public static Tensor RotateInv(Tensor theta)
    {
        var (c, s) = (cos(-theta), sin(-theta));
        var (o, z) = (ones_like(theta), zeros_like(theta));
        return Rows3(c, -s, z, s, c, z, z, z, o);
    }

    /// <summary>One scaling matrix [3, 3].</summary>
    public static Tensor Scale(double sx, double sy, Device device) =>
        tensor(new float[] { (float)sx, 0, 0, 0, (float)sy, 0, 0, 0, 1 }, [3, 3], device: device);

    /// <summary>One translation matrix [3, 3].</summary>
    public static Tensor Translate(double tx, double ty, Device device) =>
        tensor(new float[] { 1, 0, (float)tx, 0, 1, (float)ty, 0, 0, 1 }, [3, 3], device: device);

    /// <summary>Translation of (r, g, b) by (tx, ty, tz) per sample [N, 4, 4].</summary>
    public static Tensor Translate3d(Tensor tx, Tensor ty, Tensor tz)
    {
        var (o, z) = (ones_like(tx), zeros_like(tx));
        return Rows4(o, z, z, tx, z, o, z, ty, z, z, o, tz, z, z, z, o);
    }

    /// <summary>Scaling of (r, g, b) per sample [N, 4, 4].</summary>
    public static Tensor Scale3d(Tensor sx, Tensor sy, Tensor sz)
    {
        var (o, z) = (ones_like(sx), zeros_like(sx));
        return Rows4(sx, z, z, z, z, sy, z, z, z, z, sz, z, z, z, z, o);
    }

    /// <summary>Rotation by <paramref name="theta"/> [N] around the unit axis <paramref name="v"/> [4] (xyz used).</summary>
    public static Tensor Rotate3d(Tensor v, Tensor theta)
    {
        var (vx, vy, vz) = (v[0], v[1], v[2]);
        var (s, c) = (sin(theta), cos(theta));
        var cc = 1 - c;
        var (o, z) = (ones_like(theta), zeros_like(theta));
        return Rows4(
            vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, z,
            vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, z,
            vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, z,
            z, z, z, o);
    }

    private static Tensor Rows3(params Tensor[] elements) => stack(elements, -1).reshape(-1, 3, 3);

    private static Tensor Rows4(params Tensor[] elements) => stack(elements, -1).reshape(-1, 4, 4);
}
