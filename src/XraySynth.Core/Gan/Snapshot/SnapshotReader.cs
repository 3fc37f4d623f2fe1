using System.Text.Json;
using TorchSharp;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Snapshot;

/// <summary>
/// Opens a snapshot folder written by <see cref="SnapshotWriter"/>: checks that snapshot.json exists and that every
/// listed file is there with its recorded size and SHA-256, then reads sections and tensor files. Every problem is a
/// <see cref="SnapshotException"/> naming the file and the fix.
/// </summary>
public sealed class SnapshotReader
{
    /// <summary>The snapshot folder.</summary>
    public string Directory { get; }

    /// <summary>The parsed snapshot.json.</summary>
    public SnapshotManifest Manifest { get; }

    private SnapshotReader(string directory, SnapshotManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    /// <summary>Opens and verifies the snapshot in <paramref name="snapshotDir"/>.</summary>
    public static SnapshotReader Open(string snapshotDir, bool verifyHashes = true)
    {
        var dir = Path.GetFullPath(snapshotDir);
        if (!System.IO.Directory.Exists(dir))
        {
            var hint = File.Exists(dir) ? " It is a file; a snapshot is a folder." : "";
            throw new SnapshotException(dir,
                $"Snapshot folder '{dir}' does not exist.{hint} Fix: pass the folder of a snapshot written by XraySynth " +
                "(it holds snapshot.json and .safetensors files).");
        }
        var manifestPath = Path.Combine(dir, SnapshotWriter.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new SnapshotException(manifestPath,
                $"'{manifestPath}' is missing: the snapshot is incomplete or not an XraySynth snapshot. " +
                "Fix: use an earlier snapshot of the run.");
        }
        SnapshotManifest manifest;
        try
        {
            using var stream = File.OpenRead(manifestPath);
            manifest = JsonSerializer.Deserialize<SnapshotManifest>(stream, SnapshotManifest.JsonOptions)
                ?? throw new JsonException("empty document");
        }
        catch (JsonException ex)
        {
            throw new SnapshotException(manifestPath,
                $"'{manifestPath}' is not valid JSON ({ex.Message}). Fix: use an earlier snapshot of the run.", ex);
        }
        if (manifest.Format != "xraysynth-snapshot" || manifest.FormatVersion > SnapshotManifest.CurrentFormatVersion)
        {
            throw new SnapshotException(manifestPath,
                $"'{manifestPath}' has format '{manifest.Format}' version {manifest.FormatVersion}; this XraySynth reads " +
                $"'xraysynth-snapshot' up to version {SnapshotManifest.CurrentFormatVersion}. Fix: use a newer XraySynth.");
        }
        foreach (var (name, entry) in manifest.Files)
        {
            var path = Path.Combine(dir, entry.File);
            if (Path.GetDirectoryName(Path.GetFullPath(path)) != dir)
                throw new SnapshotException(manifestPath, $"'{manifestPath}' names a file outside the snapshot: '{entry.File}'.");
            if (!File.Exists(path))
            {
                throw new SnapshotException(path,
                    $"Snapshot file '{path}' ({name}) is missing. Fix: use an earlier snapshot of the run.");
            }
            var size = new FileInfo(path).Length;
            if (size != entry.Bytes)
            {
                var what = size < entry.Bytes ? "truncated" : "longer than recorded";
                throw new SnapshotException(path,
                    $"Snapshot file '{path}' is {what}: {size} bytes, snapshot.json records {entry.Bytes}. " +
                    "Fix: use an earlier snapshot of the run.");
            }
            if (verifyHashes && SnapshotWriter.Sha256Of(path) != entry.Sha256)
            {
                throw new SnapshotException(path,
                    $"Snapshot file '{path}' is corrupt: its SHA-256 differs from the one in snapshot.json. " +
                    "Fix: use an earlier snapshot of the run.");
            }
        }
        // The files are as recorded; now the record itself: sections (the architecture) and entries as written.
        if (manifest.FormatVersion >= SnapshotManifest.FirstDigestVersion && manifest.ManifestSha256 != manifest.ComputeDigest())
        {
            var what = manifest.ManifestSha256 is null ? "has no manifest_sha256" : "does not match its manifest_sha256";
            throw new SnapshotException(manifestPath,
                $"'{manifestPath}' {what}: it was edited or damaged after it was written (its sections, such as the " +
                "network architecture, or its file list changed), so the networks it describes cannot be trusted. " +
                "Fix: restore the original snapshot.json, or use an earlier snapshot of the run.");
        }
        return new SnapshotReader(dir, manifest);
    }

    /// <summary>Whether the snapshot has a section <paramref name="name"/>.</summary>
    public bool HasSection(string name) => Manifest.Sections.ContainsKey(name);

    /// <summary>Reads section <paramref name="name"/> as <typeparamref name="T"/>.</summary>
    public T GetSection<T>(string name, JsonSerializerOptions? options = null)
    {
        var manifestPath = Path.Combine(Directory, SnapshotWriter.ManifestFileName);
        if (!Manifest.Sections.TryGetValue(name, out var element))
        {
            throw new SnapshotException(manifestPath,
                $"'{manifestPath}' has no section '{name}' (it has: {string.Join(", ", Manifest.Sections.Keys)}).");
        }
        try
        {
            return element.Deserialize<T>(options ?? SnapshotManifest.JsonOptions)
                ?? throw new JsonException("null section");
        }
        catch (JsonException ex)
        {
            throw new SnapshotException(manifestPath,
                $"Section '{name}' of '{manifestPath}' cannot be read as {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Whether the snapshot has a tensor file <paramref name="name"/>.</summary>
    public bool HasTensors(string name) => Manifest.Files.ContainsKey(name);

    /// <summary>Reads tensor file <paramref name="name"/> into CPU tensors (the caller disposes them).</summary>
    public Dictionary<string, Tensor> ReadTensors(string name)
    {
        var path = FilePath(name);
        try
        {
            return SafetensorsFile.Load(path);
        }
        catch (SafetensorsFormatException ex)
        {
            throw new SnapshotException(path, $"Snapshot file {ex.Message}. Fix: use an earlier snapshot of the run.", ex);
        }
        catch (Exception ex) when (ex is not SnapshotException)
        {
            throw new SnapshotException(path, $"Snapshot file '{path}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Copies tensor file <paramref name="name"/> into <paramref name="module"/>'s parameters and buffers after
    /// checking that keys, shapes and dtypes match exactly; every mismatch is named.
    /// </summary>
    public void LoadInto(string name, nn.Module module)
    {
        var path = FilePath(name);
        using var scope = NewDisposeScope();
        var source = ReadTensors(name);
        var target = module.state_dict();
        var problems = new List<string>();
        foreach (var key in target.Keys.Where(k => !source.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"missing tensor '{key}' {Shape(target[key])}");
        foreach (var key in source.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected tensor '{key}' {Shape(source[key])}");
        foreach (var key in target.Keys.Where(source.ContainsKey).Order(StringComparer.Ordinal))
        {
            var (t, s) = (target[key], source[key]);
            if (!t.shape.SequenceEqual(s.shape))
                problems.Add($"tensor '{key}' has shape {Shape(s)}, the network expects {Shape(t)}");
            else if (t.dtype != s.dtype)
                problems.Add($"tensor '{key}' has dtype {s.dtype}, the network expects {t.dtype}");
        }
        if (problems.Count > 0)
        {
            const int shown = 20;
            var list = string.Join("; ", problems.Take(shown));
            var more = problems.Count > shown ? $"; and {problems.Count - shown} more" : "";
            throw new SnapshotException(path,
                $"Snapshot file '{path}' does not fit {module.GetType().Name} ({problems.Count} problem(s)): {list}{more}. " +
                "Fix: rebuild the network from the architecture stored in the snapshot (GanSnapshot.Load does this), " +
                "or use a snapshot written for this architecture.");
        }
        using var noGrad = no_grad();
        foreach (var (key, t) in target)
            t.copy_(source[key]);
    }

    private string FilePath(string name)
    {
        if (!Manifest.Files.TryGetValue(name, out var entry))
        {
            var manifestPath = Path.Combine(Directory, SnapshotWriter.ManifestFileName);
            throw new SnapshotException(manifestPath,
                $"Snapshot '{Directory}' has no tensor file '{name}' (it has: {string.Join(", ", Manifest.Files.Keys)}).");
        }
        return Path.Combine(Directory, entry.File);
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
