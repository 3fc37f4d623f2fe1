using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Quality;

/// <summary>The tensor-side image handling shared by the detectors, the pixel-space audit and the batch loaders.</summary>
internal static class ImageTensors
{
    /// <summary>Throws unless <paramref name="images"/> is uint8 [N, C, H, W] with C 1 or 3.</summary>
    public static void CheckImages(Tensor images)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte || images.shape[1] is not (1 or 3))
            throw new ArgumentException(
                $"Expected uint8 images [N, 1|3, H, W], got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
    }

    /// <summary>uint8 [N, C, H, W] → float32 [N, 1, H, W] in [0, 1] on <paramref name="device"/>; RGB becomes grey by
    /// ITU-R 601 luma, as <see cref="Imaging.ImageCodec"/> does.</summary>
    public static Tensor GreyFloat(Tensor images, Device device)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var x = images.to(device).to(ScalarType.Float32).div_(255f);                 // [N,C,H,W]
        if (x.shape[1] == 3)
        {
            var w = tensor(new[] { 0.299f, 0.587f, 0.114f }, [1, 3, 1, 1]).to(device);
            x = (x * w).sum(1, keepdim: true);                                       // [N,1,H,W]
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>float [N, C, H, W] → [N, C, size, size]: exact area averaging when the size divides the image,
    /// antialiased bilinear otherwise (so shrinking never aliases).</summary>
    public static Tensor Resize(Tensor x, int size)
    {
        long h = x.shape[2], w = x.shape[3];
        if (h == size && w == size) return x.alias();
        if (h % size == 0 && w % size == 0) return F.adaptive_avg_pool2d(x, [size, size]);
        return F.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
    }

    /// <summary>Images as uint8 [N, C, H, W] in channel-major layout from interleaved (HWC) pixel bytes.</summary>
    public static Tensor FromInterleaved(byte[] pixels, int count, int height, int width, int channels)
    {
        using var scope = NewDisposeScope();
        var t = tensor(pixels, [count, height, width, channels]);                     // [N,H,W,C]
        return t.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();        // [N,C,H,W]
    }

    /// <summary>The pixel space of the memorisation audit: uint8 [N, C, H, W] → uint8 [N, S·S] on the CPU — grey,
    /// resized to S×S as <see cref="Resize"/> does, rounded.</summary>
    public static Tensor PixelVectors(Tensor images, int size, Device device)
    {
        using var scope = NewDisposeScope();
        var x = Resize(GreyFloat(images, device), size);                               // [N,1,S,S] in [0,1]
        return x.mul(255f).round().clamp(0, 255).to(ScalarType.Byte).flatten(1).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Pixel vectors [N, S·S] of the x-flipped images.</summary>
    public static Tensor MirrorPixelVectors(Tensor vectors, int size)
    {
        using var scope = NewDisposeScope();
        return vectors.view(-1, size, size).flip(2).reshape(-1, size * size).MoveToOuterDisposeScope();
    }
}
