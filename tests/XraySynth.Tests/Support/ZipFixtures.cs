using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace XraySynth.Tests.Support;

/// <summary>Builds zips entry by entry (any names, duplicates allowed) and patches their header fields, to craft the
/// damaged and hostile dataset zips a reader must refuse.</summary>
internal static class ZipFixtures
{
    /// <summary>A zip of the entries in order, stored (not deflated) unless <paramref name="deflate"/>.</summary>
    public static byte[] Build(IEnumerable<(string Name, byte[] Content)> entries, bool deflate = false)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = zip.CreateEntry(name, deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using var s = entry.Open();
                s.Write(content);
            }
        }
        return ms.ToArray();
    }

    /// <summary>A valid dataset zip: <paramref name="count"/> small grey PNGs and dataset.json with labels.</summary>
    public static byte[] Dataset(int count = 3)
    {
        var entries = new List<(string, byte[])>();
        var labels = new StringBuilder("{\"labels\": [");
        for (int i = 0; i < count; i++)
        {
            var name = $"00000/img{i:D8}.png";
            entries.Add((name, PngFixtures.Grey8(8, 8, (x, y) => (byte)(x * 20 + y + i))));
            labels.Append(i > 0 ? ", " : "").Append($"[\"{name}\", {i % 2}]");
        }
        entries.Add(("dataset.json", Encoding.UTF8.GetBytes(labels.Append("]}").ToString())));
        return Build(entries);
    }

    /// <summary>Sets the uncompressed size (and, when given, the compressed size) that both the local and the central
    /// header of <paramref name="entryName"/> declare.</summary>
    public static void PatchSizes(byte[] zip, string entryName, uint uncompressed, uint? compressed = null)
    {
        var name = Encoding.UTF8.GetBytes(entryName);
        int patched = 0;
        for (int i = 0; i + 46 <= zip.Length; i++)
        {
            uint sig = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            if (sig == 0x04034b50 && Matches(zip, i + 30, i + 26, name))
            {
                if (compressed is { } c) BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 18), c);
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 22), uncompressed);
                patched++;
            }
            else if (sig == 0x02014b50 && Matches(zip, i + 46, i + 28, name))
            {
                if (compressed is { } c) BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 20), c);
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + 24), uncompressed);
                patched++;
            }
        }
        if (patched != 2) throw new InvalidOperationException($"patched {patched} headers of {entryName}");
    }

    private static bool Matches(byte[] zip, int nameAt, int lengthAt, byte[] name) =>
        BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(lengthAt)) == name.Length
        && nameAt + name.Length <= zip.Length && zip.AsSpan(nameAt, name.Length).SequenceEqual(name);
}
