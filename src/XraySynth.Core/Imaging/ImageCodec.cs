using SkiaSharp;

namespace XraySynth.Imaging;

/// <summary>An image file that cannot be used: missing, truncated, corrupt or of an unsupported kind.</summary>
public sealed class ImageDecodeException(string path, string reason)
    : Exception($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>The one image loader and writer of XraySynth (PNG and whatever else Skia decodes). Every PNG that
/// MURA-like data holds is read: 8/16-bit grey (16-bit scaled down to 8), RGB, RGBA (alpha dropped), palette.</summary>
public static class ImageCodec
{
    /// <summary>Decodes a file to 1 channel (grey) or 3 channels (RGB). Throws <see cref="ImageDecodeException"/>
    /// naming the file when it is missing, truncated or not an image.</summary>
    public static RasterImage Decode(string path, int channels = 1)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new ImageDecodeException(path, "file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ImageDecodeException(path, "file not found (its folder does not exist)");
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(path, $"cannot be read ({e.Message})");
        }
        return Decode(bytes, path, channels);
    }

    /// <summary>Decodes encoded bytes; <paramref name="name"/> is used in error messages.</summary>
    public static RasterImage Decode(byte[] encoded, string name, int channels = 1)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels));
        if (encoded.Length == 0) throw new ImageDecodeException(name, "empty file (0 bytes)");
        using var stream = new SKMemoryStream(encoded);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
            throw new ImageDecodeException(name, $"not a readable image ({Describe(createResult)})");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(name, $"invalid image size {info.Width}x{info.Height}");

        // Grey sources (8 or 16 bit) decode straight to Gray8; everything else goes through RGBA.
        if (info.ColorType == SKColorType.Gray8)
        {
            var grey = DecodePixels(codec, new SKImageInfo(info.Width, info.Height, SKColorType.Gray8, SKAlphaType.Opaque), 1, name);
            var image = new RasterImage(info.Width, info.Height, 1, grey);
            return channels == 1 ? image : image.ToRgb();
        }
        var rgbaInfo = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = DecodePixels(codec, rgbaInfo, 4, name);
        int n = info.Width * info.Height;
        if (channels == 1)
        {
            var grey = new byte[n];
            for (int i = 0, j = 0; i < n; i++, j += 4) grey[i] = RasterImage.Luma(rgba[j], rgba[j + 1], rgba[j + 2]);
            return new RasterImage(info.Width, info.Height, 1, grey);
        }
        var rgb = new byte[n * 3];
        for (int i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3)
        {
            rgb[k] = rgba[j];
            rgb[k + 1] = rgba[j + 1];
            rgb[k + 2] = rgba[j + 2];
        }
        return new RasterImage(info.Width, info.Height, 3, rgb);
    }

    private static byte[] DecodePixels(SKCodec codec, SKImageInfo target, int bytesPerPixel, string name)
    {
        var pixels = new byte[target.Width * target.Height * bytesPerPixel];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                var result = codec.GetPixels(target, (IntPtr)p);
                // IncompleteInput hands back partial pixels: a truncated file is corrupt, never used.
                if (result != SKCodecResult.Success)
                    throw new ImageDecodeException(name, $"corrupt or truncated image ({Describe(result)})");
            }
        }
        return pixels;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file ends early: truncated download or copy",
        SKCodecResult.ErrorInInput => "the data is damaged",
        SKCodecResult.InvalidInput => "not an image format Skia knows",
        SKCodecResult.Unimplemented => "an image format Skia cannot decode",
        SKCodecResult.InvalidConversion => "an unsupported pixel format",
        _ => result.ToString(),
    };

    /// <summary>Encodes as PNG: grey images as 8-bit grey PNGs, RGB as 8-bit RGB (no alpha).</summary>
    public static byte[] EncodePng(RasterImage image) => EncodePng(image, PngCompression.Small);

    /// <summary>Encodes as PNG with the given size/speed trade-off (the pixels are the same either way).</summary>
    public static byte[] EncodePng(RasterImage image, PngCompression compression)
    {
        if (compression != PngCompression.Small)
            return PngWriter.Encode(image, subFilter: compression == PngCompression.Fast,
                compression == PngCompression.Fast ? System.IO.Compression.CompressionLevel.Fastest : System.IO.Compression.CompressionLevel.NoCompression);
        SKImageInfo info;
        byte[] pixels;
        if (image.Channels == 1)
        {
            info = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
            pixels = image.Pixels;
        }
        else
        {
            info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            pixels = new byte[image.Width * image.Height * 4];
            var src = image.Pixels;
            for (int i = 0, j = 0; i < src.Length; i += 3, j += 4)
            {
                pixels[j] = src[i];
                pixels[j + 1] = src[i + 1];
                pixels[j + 2] = src[i + 2];
                pixels[j + 3] = 255;
            }
        }
        using var bitmap = new SKBitmap();
        unsafe
        {
            fixed (byte* p = pixels)
            {
                if (!bitmap.InstallPixels(info, (IntPtr)p, info.RowBytes))
                    throw new InvalidOperationException("cannot wrap pixels for PNG encoding");
                using var pixmap = bitmap.PeekPixels();
                using var encoded = pixmap.Encode(compression.EncoderOptions())
                    ?? throw new InvalidOperationException("PNG encoding failed");
                return encoded.ToArray();
            }
        }
    }

    /// <summary>Writes a PNG atomically (temporary file, then rename): a crash never leaves a partial image
    /// under the final name.</summary>
    public static void WritePng(string path, RasterImage image) => AtomicFile.WriteAllBytes(path, EncodePng(image));
}
