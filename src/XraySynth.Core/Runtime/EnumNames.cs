using System.Text.Json;
using System.Text.Json.Serialization;
using XraySynth.Data;

namespace XraySynth.Runtime;

/// <summary>
/// The one spelling of enum values in every file and on every command line: kebab case (<c>WeightedBce</c> ↔
/// <c>weighted-bce</c>), as options.json, experiment configs, help texts and messages write them. Reading is lenient in
/// case and hyphens (<c>weighted-bce</c>, <c>WeightedBce</c>, <c>WEIGHTEDBCE</c>) but accepts only declared names:
/// never a number, never a combination of flags.
/// </summary>
public static class EnumNames
{
    /// <summary>WeightedBce → weighted-bce (the JSON naming policy of <see cref="Json.Options"/>).</summary>
    public static string Kebab(string name) => JsonNamingPolicy.KebabCaseLower.ConvertName(name);

    /// <summary>The kebab-case name of <paramref name="value"/>.</summary>
    public static string Of<T>(T value) where T : struct, Enum => Kebab(value.ToString());

    /// <summary>The kebab-case names of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => All(typeof(T));

    /// <summary>The kebab-case names of the enum type <paramref name="type"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All(Type type) => [.. Enum.GetNames(type).Select(Kebab)];

    /// <summary>"a, b or c": the names of <typeparamref name="T"/> for a message.</summary>
    public static string Choices<T>() where T : struct, Enum => Choices(typeof(T));

    /// <summary>"a, b or c": the names of the enum type <paramref name="type"/> for a message.</summary>
    public static string Choices(Type type)
    {
        var names = All(type);
        return names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";
    }

    /// <summary>The value named <paramref name="text"/> (see the type's remarks), or false.</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        var ok = TryParse(typeof(T), text, out var boxed);
        value = ok ? (T)boxed! : default;
        return ok;
    }

    /// <summary>The value of the enum type <paramref name="type"/> named <paramref name="text"/>, or false.</summary>
    public static bool TryParse(Type type, string? text, out object? value)
    {
        value = null;
        if (text is null) return false;
        var key = text.Trim().Replace("-", "", StringComparison.Ordinal);
        foreach (var name in Enum.GetNames(type))
        {
            if (!string.Equals(name, key, StringComparison.OrdinalIgnoreCase)) continue;
            value = Enum.Parse(type, name);
            return true;
        }
        return false;
    }

    /// <summary>The value named <paramref name="text"/>; otherwise a <see cref="DataException"/> "WHAT 'text': expected
    /// one of a, b, c." (<paramref name="what"/>: the option or key, e.g. <c>--loss</c> or <c>classifier.loss</c>).</summary>
    public static T Parse<T>(string text, string what) where T : struct, Enum =>
        TryParse<T>(text, out var value) ? value : throw new DataException(Problem<T>(text, what));

    /// <summary>"WHAT 'text': expected one of a, b, c." — the message for a name that is not one of <typeparamref name="T"/>.</summary>
    public static string Problem<T>(string text, string what) where T : struct, Enum =>
        $"{what} '{text}': expected one of {string.Join(", ", All<T>())}.";
}

/// <summary>Enums in JSON as <see cref="EnumNames"/> spells them: written kebab case, read by <see cref="EnumNames.TryParse"/>
/// (also as dictionary keys).</summary>
public sealed class KebabEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Parse(reader.GetString()) : throw new JsonException(
                $"expected a string, one of {string.Join(", ", EnumNames.All<T>())}");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(EnumNames.Of(value));

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Parse(reader.GetString());

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WritePropertyName(EnumNames.Of(value));

        private static T Parse(string? text) =>
            EnumNames.TryParse<T>(text, out var value) ? value : throw new JsonException($"'{text}' is not one of {string.Join(", ", EnumNames.All<T>())}");
    }
}
