using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>Writes a GAN training set in the official StyleGAN2-ADA layout: an uncompressed zip of PNGs named
/// <c>00000/img00000000.png</c> (1000 per folder) plus <c>dataset.json</c> = {"labels": [[name, label], ...]}.
/// The zip is written under a temporary name and renamed by <see cref="Complete"/>: an interrupted run never
/// leaves a zip that looks complete.</summary>
public sealed class DatasetZipWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly ZipArchive _zip;
    private readonly List<(string Name, int? Label)> _entries = [];
    private bool _completed;

    public DatasetZipWriter(string path)
    {
        _path = Path.GetFullPath(path);
        _tempPath = AtomicFile.TempNameFor(_path);
        _stream = new FileStream(_tempPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        _zip = new ZipArchive(_stream, ZipArchiveMode.Create, leaveOpen: true);
    }

    public int Count => _entries.Count;

    /// <summary>Adds one encoded PNG; returns its name inside the zip.</summary>
    public string Add(byte[] png, int? label)
    {
        int idx = _entries.Count;
        var name = $"{idx / 1000:D5}/img{idx:D8}.png";
        WriteEntry(name, png);
        _entries.Add((name, label));
        return name;
    }

    /// <summary>Writes dataset.json, closes the zip and renames it to its final name.</summary>
    public void Complete()
    {
        var labels = new JsonArray();
        bool anyLabel = _entries.Any(e => e.Label is not null);
        foreach (var (name, label) in _entries)
            labels.Add(new JsonArray(name, label));
        var json = new JsonObject { ["labels"] = anyLabel ? labels : null };
        WriteEntry("dataset.json", JsonSerializer.SerializeToUtf8Bytes(json));
        _zip.Dispose();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _completed = true;
    }

    private void WriteEntry(string name, byte[] content)
    {
        // Stored, not deflated: PNGs are compressed already and the official loader reads either.
        var entry = _zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);   // reproducible bytes
        using var s = entry.Open();
        s.Write(content);
    }

    public void Dispose()
    {
        if (_completed) return;
        try { _zip.Dispose(); } catch (IOException) { } catch (InvalidDataException) { }
        try { _stream.Dispose(); } catch (IOException) { } // a full disk fails the final flush too
        try { File.Delete(_tempPath); } catch (IOException) { }
    }
}

/// <summary>Reads a StyleGAN2-ADA dataset zip (ours or the official dataset_tool's): image entry names in
/// sorted order and their labels from dataset.json.</summary>
public sealed class DatasetZipReader : IDisposable
{
    /// <summary>The most bytes one entry may hold (an image of the 64 Mpx cap as a 16-bit RGB PNG fits).</summary>
    public const long MaxEntryBytes = 512L * 1024 * 1024;

    /// <summary>The most bytes dataset.json may hold.</summary>
    public const long MaxLabelsBytes = 64L * 1024 * 1024;

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);

    public DatasetZipReader(string path)
    {
        Path = path;
        try
        {
            _zip = ZipFile.OpenRead(path);
            // Every name is checked once here: no entry can point outside the dataset or shadow another.
            foreach (var entry in _zip.Entries)
            {
                CheckEntryName(path, entry.FullName);
                if (!_entries.TryAdd(entry.FullName, entry))
                    throw new DataException($"{path}: entry '{entry.FullName}' appears twice, so which one is meant is ambiguous. fix: rerun 'xraysynth prepare' or rebuild the zip.");
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException)
        {
            _zip?.Dispose();
            throw new DataException($"{path}: not a readable dataset zip ({e.Message}). fix: rerun 'xraysynth prepare' or pass the zip it wrote.");
        }
        catch
        {
            _zip?.Dispose();
            throw;
        }
        ImageNames = _entries.Keys
            .Where(IsImage)
            .Order(StringComparer.Ordinal)
            .ToList();
        try
        {
            Labels = ReadLabels();
        }
        catch
        {
            _zip.Dispose();   // a refused dataset.json must not keep the zip open
            throw;
        }
    }

    public string Path { get; }
    public IReadOnlyList<string> ImageNames { get; }
    /// <summary>The checked dataset.json labels, or null when the dataset has no labels.</summary>
    public DatasetLabels? Labels { get; }

    /// <summary>An entry's bytes, at most <see cref="MaxEntryBytes"/>. The sizes the zip declares are not trusted: the
    /// bytes are read through a bounded stream and must match the declared size exactly.</summary>
    public byte[] ReadEntry(string name) => ReadEntry(name, MaxEntryBytes);

    private byte[] ReadEntry(string name, long cap)
    {
        if (!_entries.TryGetValue(name, out var entry)) throw new DataException($"{Path}: no entry '{name}'");
        var declared = entry.Length;
        if (declared < 0 || declared > cap)
            throw new DataException($"{Path}: entry '{name}' declares {declared} bytes, over the limit of {cap} bytes: a damaged or hostile zip. fix: rerun 'xraysynth prepare'.");
        try
        {
            using var s = entry.Open();
            // Grow with what is actually read, never with what the header claims.
            using var ms = new MemoryStream((int)Math.Min(declared, 1 << 20));
            var buffer = new byte[81920];
            long total = 0;
            int n;
            while ((n = s.Read(buffer, 0, (int)Math.Min(buffer.Length, declared + 1 - total))) > 0)
            {
                total += n;
                if (total > declared)
                    throw new DataException($"{Path}: entry '{name}' holds more than the {declared} bytes its header declares: a damaged or hostile zip. fix: rerun 'xraysynth prepare'.");
                ms.Write(buffer, 0, n);
            }
            if (total != declared)
                throw new DataException($"{Path}: entry '{name}' holds {total} bytes, its header declares {declared}: the zip is truncated or damaged. fix: rerun 'xraysynth prepare'.");
            return ms.ToArray();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
        {
            throw new DataException($"{Path}: entry '{name}' cannot be read ({e.Message}). fix: rerun 'xraysynth prepare'.");
        }
    }

    /// <summary>CRC-32 and size of an entry as the zip's directory records them (for content hashes).</summary>
    public (uint Crc32, long Length) EntryDigest(string name) =>
        _entries.TryGetValue(name, out var e) ? (e.Crc32, e.Length) : throw new DataException($"{Path}: no entry '{name}'");

    private static void CheckEntryName(string zipPath, string name)
    {
        if (ZipEntryNames.Problem(name) is { } problem)
            throw new DataException($"{zipPath}: entry '{name.ReplaceLineEndings(" ")}' has {problem}; a dataset zip holds plain relative names. fix: rebuild the zip with 'xraysynth prepare'.");
    }

    /// <summary>The compression method of an entry (0 stored, 8 deflate), read from its local header.</summary>
    public static int CompressionMethod(string zipPath, string entryName)
    {
        using var f = File.OpenRead(zipPath);
        var buf = new byte[30];
        while (f.Read(buf, 0, 30) == 30 && BitConverter.ToUInt32(buf, 0) == 0x04034b50)
        {
            int method = BitConverter.ToUInt16(buf, 8);
            int compressed = BitConverter.ToInt32(buf, 18);
            int nameLen = BitConverter.ToUInt16(buf, 26), extraLen = BitConverter.ToUInt16(buf, 28);
            var name = new byte[nameLen];
            f.ReadExactly(name);
            if (System.Text.Encoding.UTF8.GetString(name) == entryName) return method;
            if ((BitConverter.ToUInt16(buf, 6) & 8) != 0) throw new NotSupportedException("data descriptors");
            f.Seek(extraLen + compressed, SeekOrigin.Current);
        }
        throw new KeyNotFoundException(entryName);
    }

    private DatasetLabels? ReadLabels()
    {
        if (!_entries.ContainsKey("dataset.json")) return null;
        var json = ReadEntry("dataset.json", MaxLabelsBytes);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new DataException($"{Path}: dataset.json is not valid JSON ({e.Message}).");
        }
        return DatasetLabels.Parse(root, ImageNames, Path);
    }

    private static bool IsImage(string name) =>
        !name.EndsWith('/') && (name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                                || name.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase));

    public void Dispose() => _zip.Dispose();
}
