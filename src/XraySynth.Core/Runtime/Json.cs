using System.Text.Json;
using System.Text.Json.Serialization;

namespace XraySynth.Runtime;

/// <summary>The JSON conventions of every file XraySynth writes (options.json, reports): camelCase, enums as
/// kebab-case strings (<see cref="Runtime.EnumNames"/>), indented.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new Runtime.KebabEnumConverter() },
    };

    /// <summary>As <see cref="Options"/> on one line (JSONL records).</summary>
    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);

    public static void WriteFile<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");
}
