using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace XraySynth.Gan.Snapshot;

/// <summary>
/// Collects the parts of a snapshot and writes them atomically: every file goes into a hidden temporary folder
/// beside the target, snapshot.json last, each flushed to disk; then one rename makes the folder appear complete.
/// A crash leaves at most a hidden temporary folder, never a half-written snapshot.
/// </summary>
public sealed class SnapshotWriter
{
    /// <summary>Name of the manifest inside a snapshot folder.</summary>
    public const string ManifestFileName = "snapshot.json";

    private readonly List<(string Name, Func<Dictionary<string, Tensor>> Tensors)> _files = [];
    private readonly Dictionary<string, JsonElement> _sections = [];

    /// <summary>Adds the state dict (parameters and buffers) of <paramref name="module"/> as &lt;name&gt;.safetensors.</summary>
    public SnapshotWriter AddModule(string name, nn.Module module) =>
        AddTensors(name, () => module.state_dict());

    /// <summary>
    /// Adds named tensors (e.g. optimizer state flattened to "state.3.exp_avg") as &lt;name&gt;.safetensors;
    /// <paramref name="tensors"/> is called while writing.
    /// </summary>
    public SnapshotWriter AddTensors(string name, Func<Dictionary<string, Tensor>> tensors)
    {
        CheckName(name);
        if (_files.Any(f => f.Name == name))
            throw new ArgumentException($"The snapshot already has a tensor file '{name}'.", nameof(name));
        _files.Add((name, tensors));
        return this;
    }

    /// <summary>Adds a JSON section to the manifest (architecture, counters, RNG state, options…).</summary>
    public SnapshotWriter AddSection<T>(string name, T value, JsonSerializerOptions? options = null)
    {
        CheckName(name);
        _sections[name] = JsonSerializer.SerializeToElement(value, options ?? SnapshotManifest.JsonOptions);
        return this;
    }

    /// <summary>
    /// Writes the snapshot to the folder <paramref name="snapshotDir"/>; an existing snapshot there is replaced
    /// only once the new one is complete.
    /// </summary>
    public void Commit(string snapshotDir)
    {
        var target = Path.GetFullPath(snapshotDir.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException("Invalid snapshot folder.", nameof(snapshotDir));
        Directory.CreateDirectory(parent);
        var leaf = Path.GetFileName(target);
        var temp = Path.Combine(parent, $".{leaf}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var entries = new Dictionary<string, SnapshotFileEntry>();
            foreach (var (name, source) in _files)
            {
                var fileName = name + ".safetensors";
                var path = Path.Combine(temp, fileName);
                int count;
                using (var scope = NewDisposeScope())
                {
                    var tensors = source();
                    // Contiguous CPU copies: safetensors stores raw row-major bytes.
                    var contiguous = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
                    count = contiguous.Count;
                    using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                    Safetensors.SaveStateDict(stream, contiguous, leaveOpen: true);
                    stream.Flush(flushToDisk: true);
                }
                entries[name] = new SnapshotFileEntry(fileName, new FileInfo(path).Length, Sha256Of(path), count);
            }

            var manifest = new SnapshotManifest
            {
                CreatedUtc = DateTimeOffset.UtcNow,
                Files = entries,
                Sections = new Dictionary<string, JsonElement>(_sections),
            };
            manifest = manifest with { ManifestSha256 = manifest.ComputeDigest() };
            using (var stream = new FileStream(Path.Combine(temp, ManifestFileName), FileMode.CreateNew,
                       FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, manifest, SnapshotManifest.JsonOptions);
                stream.Flush(flushToDisk: true);
            }

            if (Directory.Exists(target))
            {
                var old = Path.Combine(parent, $".{leaf}.old-{Guid.NewGuid():N}");
                Directory.Move(target, old);
                Directory.Move(temp, target);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, target);
            }
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    internal static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.StartsWith('.'))
            throw new ArgumentException($"'{name}' is not a valid snapshot part name.", nameof(name));
    }
}
