using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

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
    private readonly ZipArchive _zip;

    public DatasetZipReader(string path)
    {
        Path = path;
        try
        {
            _zip = ZipFile.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: not a readable dataset zip ({e.Message}). fix: rerun 'xraysynth prepare' or pass the zip it wrote.");
        }
        ImageNames = _zip.Entries
            .Where(e => IsImage(e.FullName))
            .Select(e => e.FullName)
            .Order(StringComparer.Ordinal)
            .ToList();
        Labels = ReadLabels();
    }

    public string Path { get; }
    public IReadOnlyList<string> ImageNames { get; }
    /// <summary>Label per image name, or null when the dataset has no labels.</summary>
    public IReadOnlyDictionary<string, int>? Labels { get; }

    public byte[] ReadEntry(string name)
    {
        var entry = _zip.GetEntry(name) ?? throw new DataException($"{Path}: no entry '{name}'");
        using var s = entry.Open();
        using var ms = new MemoryStream((int)entry.Length);
        s.CopyTo(ms);
        return ms.ToArray();
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

    private Dictionary<string, int>? ReadLabels()
    {
        var entry = _zip.GetEntry("dataset.json");
        if (entry is null) return null;
        using var s = entry.Open();
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(s);
        }
        catch (JsonException e)
        {
            throw new DataException($"{Path}: dataset.json is not valid JSON ({e.Message}).");
        }
        if (root?["labels"] is not JsonArray arr) return null;
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in arr)
        {
            if (item is not JsonArray pair || pair.Count != 2 || pair[0] is null)
                throw new DataException($"{Path}: dataset.json labels must be [name, label] pairs, got {item?.ToJsonString()}");
            if (pair[1] is null) continue;
            labels[pair[0]!.GetValue<string>().Replace('\\', '/')] = pair[1]!.GetValue<int>();
        }
        return labels;
    }

    private static bool IsImage(string name) =>
        !name.EndsWith('/') && (name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                                || name.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase));

    public void Dispose() => _zip.Dispose();
}
