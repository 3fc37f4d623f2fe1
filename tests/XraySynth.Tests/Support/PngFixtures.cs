using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace XraySynth.Tests.Support;

/// <summary>Writes PNGs of every colour type and bit depth by hand (the way other tools write them), so the
/// decoder is tested against files it did not write itself.</summary>
internal static class PngFixtures
{
    public const byte Grey = 0, Rgb = 2, Palette = 3, GreyAlpha = 4, Rgba = 6;

    /// <summary>A PNG with raw scanline <paramref name="samples"/> (already in the target layout, big-endian
    /// for 16-bit), filter type 0 on every row.</summary>
    public static byte[] Encode(int width, int height, byte colorType, byte bitDepth, byte[] samples,
        byte[]? palette = null)
    {
        int channels = colorType switch { Grey => 1, Rgb => 3, Palette => 1, GreyAlpha => 2, Rgba => 4, _ => throw new ArgumentException("colour type") };
        int rowBytes = width * channels * bitDepth / 8;
        if (samples.Length != rowBytes * height) throw new ArgumentException($"need {rowBytes * height} bytes");
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            raw.Write(samples, y * rowBytes, rowBytes);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            z.Write(raw.ToArray());

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        WriteChunk(png, "IHDR", ihdr);
        if (palette is not null) WriteChunk(png, "PLTE", palette);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A PNG whose IHDR declares <paramref name="width"/> x <paramref name="height"/> (valid CRCs) while its
    /// IDAT holds only <paramref name="rows"/> zero rows, compressed: a few hundred bytes for any declared size.</summary>
    public static byte[] Declared(int width, int height, byte colorType = Rgb, byte bitDepth = 8, int rows = 1)
    {
        int channels = colorType switch { Grey => 1, Rgb => 3, Palette => 1, GreyAlpha => 2, Rgba => 4, _ => throw new ArgumentException("colour type") };
        long rowBytes = 1 + (long)width * channels * bitDepth / 8;
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[64 * 1024];
            for (long left = rowBytes * rows; left > 0; left -= zeros.Length) z.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    public static byte[] Grey8(int width, int height, Func<int, int, byte> value)
    {
        var s = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) s[y * width + x] = value(x, y);
        return Encode(width, height, Grey, 8, s);
    }

    public static byte[] Grey16(int width, int height, Func<int, int, ushort> value)
    {
        var s = new byte[width * height * 2];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan((y * width + x) * 2), value(x, y));
        return Encode(width, height, Grey, 16, s);
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        png.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        uint crc = Crc32(typeBytes, 0xFFFFFFFFu);
        crc = Crc32(data, crc) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(len, crc);
        png.Write(len);
    }

    private static uint Crc32(byte[] data, uint crc)
    {
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc;
    }
}
