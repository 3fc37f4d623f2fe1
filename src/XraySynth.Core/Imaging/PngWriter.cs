using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace XraySynth.Imaging;

/// <summary>A minimal PNG encoder for the fast choices of <see cref="PngCompression"/>: 8-bit grey or RGB, one IDAT
/// chunk, one row filter for every row, deflate by the runtime's zlib (zlib-ng). Several times cheaper than Skia's
/// encoder at these settings (no colour conversion, no per-row filter search); <see cref="PngCompression.Small"/>
/// stays with Skia.</summary>
internal static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary><paramref name="subFilter"/>: PNG filter 1 (difference to the pixel on the left) on every row, else
    /// filter 0 (none). <paramref name="level"/>: NoCompression writes stored deflate blocks.</summary>
    public static byte[] Encode(RasterImage image, bool subFilter, CompressionLevel level)
    {
        int w = image.Width, h = image.Height, c = image.Channels, rowLen = w * c;
        var raw = new byte[(rowLen + 1) * h];
        var px = image.Pixels;
        for (int y = 0; y < h; y++)
        {
            var src = px.AsSpan(y * rowLen, rowLen);
            var dst = raw.AsSpan(y * (rowLen + 1) + 1, rowLen);
            if (!subFilter)
            {
                src.CopyTo(dst);
                continue;
            }
            raw[y * (rowLen + 1)] = 1;
            src[..c].CopyTo(dst);
            for (int i = c; i < rowLen; i++) dst[i] = (byte)(src[i] - src[i - c]);
        }
        var idat = new MemoryStream(level == CompressionLevel.NoCompression ? raw.Length + raw.Length / 8192 * 5 + 64 : raw.Length / 2 + 64);
        using (var z = new ZLibStream(idat, level, leaveOpen: true)) z.Write(raw);

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8;                          // bit depth
        ihdr[9] = (byte)(c == 1 ? 0 : 2);     // colour type: grey or RGB
        var data = idat.GetBuffer().AsSpan(0, (int)idat.Length);
        var png = new byte[Signature.Length + 12 + ihdr.Length + 12 + data.Length + 12];
        Signature.CopyTo(png);
        int at = Signature.Length;
        at = Chunk(png, at, "IHDR"u8, ihdr);
        at = Chunk(png, at, "IDAT"u8, data);
        Chunk(png, at, "IEND"u8, []);
        return png;
    }

    /// <summary>Writes length, type, data and CRC-32 (of type and data) at <paramref name="at"/>; returns the end.</summary>
    private static int Chunk(byte[] png, int at, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(at), data.Length);
        type.CopyTo(png.AsSpan(at + 4));
        data.CopyTo(png.AsSpan(at + 8));
        var crc = Crc32.HashToUInt32(png.AsSpan(at + 4, 4 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + data.Length), crc);
        return at + 12 + data.Length;
    }
}
