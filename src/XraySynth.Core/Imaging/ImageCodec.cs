using SkiaSharp;
using XraySynth.Runtime;

namespace XraySynth.Imaging;

/// <summary>An image file that cannot be used: missing, truncated, corrupt or of an unsupported kind.</summary>
public sealed class ImageDecodeException(string path, string reason)
    : InputException($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>The one image loader and writer of XraySynth (PNG and whatever else Skia decodes). Every PNG that
/// MURA-like data holds is read: 8/16-bit grey (16-bit scaled down to 8), RGB, RGBA (alpha dropped), palette.</summary>
public static class ImageCodec
{
    /// <summary>The default pixel cap: 64 Mpx (a 8192x8192 image; MURA's largest are about 4 Mpx).</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;

    /// <summary>The environment variable that raises (or lowers) the pixel cap, e.g. XRAYSYNTH_MAX_IMAGE_PIXELS=268435456.</summary>
    public const string MaxPixelsVariable = "XRAYSYNTH_MAX_IMAGE_PIXELS";

    private static long? _maxPixels;

    /// <summary>The largest width x height decoded; a larger image is refused from its header, before any pixel
    /// buffer is allocated (as libpng's user limits do). <see cref="DefaultMaxPixels"/> unless
    /// <see cref="MaxPixelsVariable"/> says otherwise.</summary>
    public static long MaxPixels
    {
        get => _maxPixels ??= MaxPixelsFromEnvironment();
        set => _maxPixels = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "the pixel cap must be positive");
    }

    private static long MaxPixelsFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(MaxPixelsVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultMaxPixels;
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0)
            return value;
        throw new DataException($"{MaxPixelsVariable}={text}: expected a positive whole number of pixels (default {DefaultMaxPixels}). fix: correct or unset it.");
    }

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

    /// <summary>Decodes encoded bytes; <paramref name="name"/> is used in error messages; <paramref name="maxPixels"/>
    /// overrides <see cref="MaxPixels"/> for this call.</summary>
    public static RasterImage Decode(byte[] encoded, string name, int channels = 1, long? maxPixels = null)
    {
        long cap = maxPixels ?? MaxPixels;
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels));
        if (encoded.Length == 0) throw new ImageDecodeException(name, "empty file (0 bytes)");
        using var stream = new SKMemoryStream(encoded);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
            throw new ImageDecodeException(name, $"not a readable image ({Describe(createResult)})");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(name, $"invalid image size {info.Width}x{info.Height}");
        // The header's size decides every buffer below: check it in 64 bits before anything is allocated.
        long pixelCount = (long)info.Width * info.Height;
        if (pixelCount > cap)
            throw new ImageDecodeException(name,
                $"image of {info.Width}x{info.Height} = {pixelCount} pixels exceeds the cap of {cap} pixels " +
                $"(a damaged header or a decompression bomb; to read larger images set {MaxPixelsVariable})");

        // Grey sources (8 or 16 bit) decode straight to Gray8; everything else goes through RGBA.
        if (info.ColorType == SKColorType.Gray8)
        {
            var grey = DecodePixels(codec, new SKImageInfo(info.Width, info.Height, SKColorType.Gray8, SKAlphaType.Opaque), 1, name);
            var image = new RasterImage(info.Width, info.Height, 1, grey);
            return channels == 1 ? image : image.ToRgb();
        }
        var rgbaInfo = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = DecodePixels(codec, rgbaInfo, 4, name);
        int n = checked((int)pixelCount);
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
        long size = (long)target.Width * target.Height * bytesPerPixel;
        if (size > Array.MaxLength)
            throw new ImageDecodeException(name, $"image of {target.Width}x{target.Height} is too large to decode ({size} bytes)");
        var pixels = new byte[size];
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
