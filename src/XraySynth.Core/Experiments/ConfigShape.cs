using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using XraySynth.Runtime;

namespace XraySynth.Experiments;

/// <summary>
/// Checks a config's JSON against the config records before it is read: every unknown key (with the valid keys and
/// the closest one), every <c>null</c> where a value or section is needed, every value of the wrong kind (an enum's value: one of its kebab-case names), every missing
/// required key — all of them, each with its JSON path. Offending keys are removed from the tree, so the rest can be
/// read and its values checked in the same pass; <see cref="Incomplete"/> says when that is impossible.
/// </summary>
internal sealed class ConfigShape
{
    private static readonly NullabilityInfoContext Nullability = new();

    public List<string> Problems { get; } = [];
    /// <summary>A required key is missing or unusable: the config cannot be read at all.</summary>
    public bool Incomplete { get; private set; }

    /// <summary>True when <paramref name="node"/> can be read as <paramref name="type"/> (after removing bad keys inside).</summary>
    public bool Check(JsonNode? node, Type type, bool nullable, string path)
    {
        if (node is null)
        {
            if (nullable) return true;
            return Fail(path, "null is not allowed here (give a value, or leave the key out for the default)");
        }
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return Kind(node, path, "a string", JsonValueKind.String);
        if (t == typeof(bool)) return Kind(node, path, "true or false", JsonValueKind.True, JsonValueKind.False);
        if (t == typeof(int))
            return node is JsonValue iv && iv.GetValueKind() == JsonValueKind.Number && iv.TryGetValue<int>(out _) || Fail(path, $"{Short(node)} is not an integer");
        if (t == typeof(double)) return Kind(node, path, "a number", JsonValueKind.Number);
        if (t.IsEnum)
            return node is JsonValue ev && ev.GetValueKind() == JsonValueKind.String && EnumNames.TryParse(t, ev.GetValue<string>(), out _)
                   || Fail(path, $"{Short(node)} is not one of {string.Join(", ", EnumNames.All(t))}");
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            if (node is not JsonArray array) return Fail(path, $"{Short(node)} is not a list");
            var ok = true;
            for (var i = 0; i < array.Count; i++) ok &= Check(array[i], t.GetGenericArguments()[0], nullable: false, $"{path}[{i}]");
            return ok;
        }
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            if (node is not JsonObject map) return Fail(path, $"{Short(node)} is not an object");
            var ok = true;
            foreach (var (key, value) in map) ok &= Check(value, t.GetGenericArguments()[1], nullable: false, $"{path}.{key}");
            return ok;
        }
        return CheckRecord(node, t, path);
    }

    private bool CheckRecord(JsonNode node, Type type, string path)
    {
        if (node is not JsonObject obj) return Fail(path, $"{Short(node)} is not an object (a section {{ ... }})");
        var props = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && !p.IsDefined(typeof(JsonExtensionDataAttribute)))
            .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), StringComparer.Ordinal);
        var extra = ExtraKeys(type);
        var complete = true;
        var given = obj.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in obj.ToList())
        {
            if (extra.TryGetValue(key, out var extraKey))
            {
                if (!Check(value, extraKey.Type, extraKey.Nullable, $"{path}.{key}"))
                    obj.Remove(key);
                continue;
            }
            if (!props.TryGetValue(key, out var prop))
            {
                var valid = props.Keys.Concat(extra.Keys).ToList();
                var near = valid.MinBy(k => Distance(k.ToLowerInvariant(), key.ToLowerInvariant()))!;
                var hint = Distance(near.ToLowerInvariant(), key.ToLowerInvariant()) <= 2 ? $" Did you mean '{near}'?" : "";
                Problems.Add($"{path}.{key}: unknown key.{hint} Valid keys here: {string.Join(", ", valid)}.");
                obj.Remove(key);
                continue;
            }
            var nullable = Nullability.Create(prop).WriteState == NullabilityState.Nullable;
            if (!Check(value, prop.PropertyType, nullable, $"{path}.{key}"))
            {
                obj.Remove(key);
                complete &= !IsRequired(prop);
            }
        }
        foreach (var key in props.Where(kv => IsRequired(kv.Value) && !given.Contains(kv.Key)).Select(kv => kv.Key))
        {
            Problems.Add($"{path}.{key}: missing (required)");
            complete = false;
        }
        if (!complete) Incomplete = true;
        return complete;
    }

    /// <summary>The keys a section takes besides its properties (<see cref="IConfigExtraKeys"/>), or none.</summary>
    private static IReadOnlyDictionary<string, (Type Type, bool Nullable)> ExtraKeys(Type type) =>
        typeof(IConfigExtraKeys).IsAssignableFrom(type)
            ? (IReadOnlyDictionary<string, (Type, bool)>)type.GetProperty(nameof(IConfigExtraKeys.ExtraKeys), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!
            : new Dictionary<string, (Type, bool)>();

    private static bool IsRequired(PropertyInfo p) => p.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.RequiredMemberAttribute");

    private bool Kind(JsonNode node, string path, string what, params JsonValueKind[] kinds) =>
        node is JsonValue v && kinds.Contains(v.GetValueKind()) || Fail(path, $"{Short(node)} is not {what}");

    private bool Fail(string path, string problem)
    {
        Problems.Add($"{path}: {problem}");
        return false;
    }

    private static string Short(JsonNode node)
    {
        var s = node.ToJsonString();
        return s.Length <= 40 ? s : s[..37] + "...";
    }

    /// <summary>Levenshtein distance (for "did you mean").</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diag = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
                diag = up;
            }
        }
        return row[b.Length];
    }
}

/// <summary>A config section that takes keys besides its properties (held in its <see cref="JsonExtensionDataAttribute"/>
/// property), each with its type and whether null is allowed.</summary>
internal interface IConfigExtraKeys
{
    static abstract IReadOnlyDictionary<string, (Type Type, bool Nullable)> ExtraKeys { get; }
}
