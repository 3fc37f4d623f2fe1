namespace XraySynth.Imaging;

/// <summary>An 8-bit image in memory: <see cref="Channels"/> is 1 (grey) or 3 (RGB), pixels row-major and
/// interleaved (HWC). The one in-memory image type of the pipeline.</summary>
public sealed class RasterImage
{
    public RasterImage(int width, int height, int channels, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height}");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1 or 3, got {channels}");
        if (pixels.Length != width * height * channels)
            throw new ArgumentException($"expected {width * height * channels} bytes for {width}x{height}x{channels}, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    /// <summary>Row-major, channel-interleaved pixel bytes (length Width·Height·Channels).</summary>
    public byte[] Pixels { get; }

    public static RasterImage Blank(int width, int height, int channels, byte value = 0)
    {
        var pixels = new byte[width * height * channels];
        if (value != 0) Array.Fill(pixels, value);
        return new RasterImage(width, height, channels, pixels);
    }

    /// <summary>Grey by ITU-R 601 luma (as PIL's "L" conversion); a grey image is returned as it is.</summary>
    public RasterImage ToGrey()
    {
        if (Channels == 1) return this;
        var grey = new byte[Width * Height];
        for (int i = 0, j = 0; i < grey.Length; i++, j += 3)
            grey[i] = Luma(Pixels[j], Pixels[j + 1], Pixels[j + 2]);
        return new RasterImage(Width, Height, 1, grey);
    }

    /// <summary>RGB with the grey value repeated; an RGB image is returned as it is.</summary>
    public RasterImage ToRgb()
    {
        if (Channels == 3) return this;
        var rgb = new byte[Width * Height * 3];
        for (int i = 0, j = 0; i < Pixels.Length; i++, j += 3)
            rgb[j] = rgb[j + 1] = rgb[j + 2] = Pixels[i];
        return new RasterImage(Width, Height, 3, rgb);
    }

    public RasterImage WithChannels(int channels) => channels == 1 ? ToGrey() : ToRgb();

    internal static byte Luma(byte r, byte g, byte b) => (byte)((r * 299 + g * 587 + b * 114 + 500) / 1000);
}
