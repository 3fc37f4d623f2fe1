using System.Text.Json.Nodes;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>
/// The <c>labels</c> of a dataset zip's <c>dataset.json</c>, checked against the zip's images before any work.
/// Accepted forms are the official ones: <c>[name, k]</c> with a class index k in 0..C−1 (C = max + 1), or
/// <c>[name, [0, 1, 0]]</c> with a one-hot vector of length C. Errors (<see cref="DataException"/>): a label that is
/// a string, a fraction, negative, a vector that is not one-hot or of another length than the others, the two forms
/// mixed, the same file with two labels, more classes than labelled images or than <see cref="MaxClasses"/>.
/// Warnings (the official loader tolerates them): labels for files the zip does not hold, a class without images.
/// Images without a label are listed in <see cref="Unlabelled"/>; the caller refuses them where labels are needed.
/// </summary>
public sealed record DatasetLabels
{
    /// <summary>The most classes a dataset may declare (the official tool allows any; ImageNet has 1000).</summary>
    public const int MaxClasses = 1000;

    /// <summary>Class index per image name present in the zip.</summary>
    public required IReadOnlyDictionary<string, int> ByName { get; init; }
    /// <summary>C: the number of classes (the conditioning label's length).</summary>
    public required int ClassCount { get; init; }
    /// <summary>Images of the zip that dataset.json gives no label.</summary>
    public required IReadOnlyList<string> Unlabelled { get; init; }
    /// <summary>Problems the official loader tolerates, one line each, naming the zip.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Reads <c>root["labels"]</c>; null when the dataset has no labels (absent or null).</summary>
    public static DatasetLabels? Parse(JsonNode? root, IReadOnlyList<string> imageNames, string zipPath)
    {
        if (root is not JsonObject obj || !obj.TryGetPropertyValue("labels", out var node) || node is null) return null;
        string Where(string what) => $"{zipPath}: dataset.json {what}. fix: rerun 'xraysynth prepare', or write labels as " +
                                     "[name, class index 0..C-1] or [name, one-hot vector] pairs.";
        if (node is not JsonArray items) throw new DataException(Where($"\"labels\" must be a list of [name, label] pairs, got {Short(node)}"));

        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        int? vectorLength = null;
        bool anyIndex = false;
        int maxIndex = -1;
        foreach (var item in items)
        {
            if (item is not JsonArray pair || pair.Count != 2 || pair[0] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var rawName))
                throw new DataException(Where($"labels must be [name, label] pairs, got {Short(item)}"));
            var name = rawName.Replace('\\', '/');
            if (pair[1] is null) continue;   // an explicitly unlabelled file
            int cls;
            if (pair[1] is JsonArray vector)
            {
                if (vector.Count > MaxClasses)
                    throw new DataException(Where($"label of {name} is a vector of {vector.Count} classes; at most {MaxClasses} are supported"));
                cls = OneHotIndex(vector) ?? throw new DataException(Where($"label of {name} is {Short(vector)}: a vector label must be one-hot (one 1, the rest 0)"));
                if (vectorLength is { } len && len != vector.Count)
                    throw new DataException(Where($"label of {name} has {vector.Count} entries, earlier ones have {len}"));
                vectorLength = vector.Count;
            }
            else
            {
                cls = ClassIndex(pair[1]!) ?? throw new DataException(Where($"label of {name} is {Short(pair[1])}: a label must be a class index 0, 1, 2, ...  (an integer)"));
                anyIndex = true;
                maxIndex = Math.Max(maxIndex, cls);
            }
            if (anyIndex && vectorLength is not null)
                throw new DataException(Where("mixes class indices and vectors; use one form for every file"));
            if (byName.TryGetValue(name, out var previous) && previous != cls)
                throw new DataException(Where($"gives {name} two labels ({previous} and {cls})"));
            byName[name] = cls;
        }
        if (byName.Count == 0) return null;

        var classCount = vectorLength ?? maxIndex + 1;
        if (classCount > MaxClasses)
            throw new DataException(Where($"declares {classCount} classes; at most {MaxClasses} are supported"));
        if (classCount > byName.Count)
            throw new DataException(Where($"declares {classCount} classes for {byName.Count} labelled images (the largest label is {classCount - 1}); " +
                                          "labels must be class indices counted from 0"));

        var inZip = new HashSet<string>(imageNames, StringComparer.Ordinal);
        var warnings = new List<string>();
        var absent = byName.Keys.Where(n => !inZip.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (absent.Count > 0)
            warnings.Add($"{zipPath}: dataset.json labels {absent.Count} file(s) the zip does not hold (first: {absent[0]}); they are ignored.");
        var present = imageNames.Where(byName.ContainsKey).ToDictionary(n => n, n => byName[n], StringComparer.Ordinal);
        var counts = new int[classCount];
        foreach (var c in present.Values) counts[c]++;
        var empty = Enumerable.Range(0, classCount).Where(c => counts[c] == 0).ToList();
        if (empty.Count > 0)
            warnings.Add($"{zipPath}: class(es) {string.Join(", ", empty.Take(10))}{(empty.Count > 10 ? ", ..." : "")} of 0..{classCount - 1} have no image; " +
                         "a conditional model can generate them only as noise.");
        return new DatasetLabels
        {
            ByName = present,
            ClassCount = classCount,
            Unlabelled = imageNames.Where(n => !byName.ContainsKey(n)).ToList(),
            Warnings = warnings,
        };
    }

    /// <summary>A non-negative integral JSON number (2 and 2.0 both count), else null.</summary>
    private static int? ClassIndex(JsonNode node)
    {
        if (node is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number) return null;
        var d = v.GetValue<double>();
        return d >= 0 && d <= int.MaxValue && Math.Floor(d) == d ? (int)d : null;
    }

    /// <summary>The position of the single 1 of a vector of 0s and 1s, else null.</summary>
    private static int? OneHotIndex(JsonArray vector)
    {
        if (vector.Count == 0) return null;
        int? hot = null;
        for (var i = 0; i < vector.Count; i++)
        {
            if (vector[i] is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number) return null;
            var x = v.GetValue<double>();
            if (x == 1) { if (hot is not null) return null; hot = i; }
            else if (x != 0) return null;
        }
        return hot;
    }

    private static string Short(JsonNode? node)
    {
        var s = node?.ToJsonString() ?? "null";
        return s.Length <= 60 ? s : s[..57] + "...";
    }
}
