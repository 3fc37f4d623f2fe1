using System.Text.Json;
using System.Text.Json.Serialization;

namespace XraySynth.Gan.Snapshot;

/// <summary>
/// snapshot.json: the last file written into a snapshot folder. It lists every tensor file with its size and
/// SHA-256 and carries named JSON sections (the network architecture; later training state, counters, RNG).
/// </summary>
public sealed record SnapshotManifest
{
    /// <summary>The format this code writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Format marker; readers refuse versions newer than theirs.</summary>
    public string Format { get; init; } = "xraysynth-snapshot";

    /// <summary>Version of the snapshot layout.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>When the snapshot was written (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>Tensor files by logical name (e.g. "G" → G.safetensors).</summary>
    public Dictionary<string, SnapshotFileEntry> Files { get; init; } = [];

    /// <summary>Named JSON sections, e.g. "networks" (architecture of G and D).</summary>
    public Dictionary<string, JsonElement> Sections { get; init; } = [];

    /// <summary>JSON options of the manifest (snake_case keys).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One tensor file of a snapshot.</summary>
/// <param name="File">File name inside the snapshot folder.</param>
/// <param name="Bytes">Exact size in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file.</param>
/// <param name="Tensors">Number of tensors stored.</param>
public sealed record SnapshotFileEntry(string File, long Bytes, string Sha256, int Tensors);
