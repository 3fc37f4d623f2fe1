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
    public const int CurrentFormatVersion = 2;

    /// <summary>The first version whose manifest carries <see cref="ManifestSha256"/> (version 1 snapshots are read
    /// without it).</summary>
    public const int FirstDigestVersion = 2;

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

    /// <summary>SHA-256 over the canonical form of everything else that matters here (<see cref="ComputeDigest"/>):
    /// editing a section (e.g. the architecture's lr_multiplier) or a file entry is detected, not silently used.</summary>
    public string? ManifestSha256 { get; init; }

    /// <summary>SHA-256 (lower-case hex) over format, version, every file entry and every section, in a canonical
    /// JSON form (keys sorted, no whitespace, numbers as written); <see cref="CreatedUtc"/> is not covered.</summary>
    public string ComputeDigest()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("format_version", FormatVersion);
            w.WriteStartObject("files");
            foreach (var (name, e) in Files.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject(name);
                w.WriteString("file", e.File);
                w.WriteNumber("bytes", e.Bytes);
                w.WriteString("sha256", e.Sha256);
                w.WriteNumber("tensors", e.Tensors);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WritePropertyName("sections");
            w.WriteStartObject();
            foreach (var (name, section) in Sections.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(name);
                WriteCanonical(w, section);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteCanonical(Utf8JsonWriter w, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var p in e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    w.WritePropertyName(p.Name);
                    WriteCanonical(w, p.Value);
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in e.EnumerateArray()) WriteCanonical(w, item);
                w.WriteEndArray();
                break;
            case JsonValueKind.String:
                w.WriteStringValue(e.GetString());
                break;
            case JsonValueKind.Number:
                w.WriteRawValue(e.GetRawText(), skipInputValidation: true);
                break;
            default:
                e.WriteTo(w);        // true, false, null
                break;
        }
    }

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
