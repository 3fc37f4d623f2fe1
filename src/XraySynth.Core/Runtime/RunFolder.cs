using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace XraySynth.Runtime;

/// <summary>A run folder <c>ROOT/NNNNN-&lt;kind&gt;-&lt;desc&gt;/</c> with the files every run writes: <c>options.json</c>
/// (every option, resolved), <c>log.txt</c> and <c>stats.jsonl</c> (one JSON object per tick or epoch).</summary>
public sealed class RunFolder
{
    public const string OptionsFile = "options.json";
    public const string LogFile = "log.txt";
    public const string StatsFile = "stats.jsonl";

    private readonly Lock _gate = new();

    public RunFolder(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }
    public string Name => System.IO.Path.GetFileName(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates the next numbered folder under <paramref name="root"/> (created when missing). The owner
    /// then takes its <see cref="RunFolderLock"/>.</summary>
    public static RunFolder Create(string root, string kind, string desc)
    {
        root = OutputFolder.Ensure(root, "--out");
        int next = Numbered(root).Select(d => d.Number + 1).DefaultIfEmpty(0).Max();
        var safe = new string($"{kind}-{desc}".Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).Trim('-');
        // Another process may have taken this number meanwhile: never share a fresh folder.
        while (Directory.Exists(System.IO.Path.Combine(root, $"{next:D5}-{safe}"))) next++;
        var run = new RunFolder(System.IO.Path.Combine(root, $"{next:D5}-{safe}"));
        OutputFolder.Ensure(run.Path, "--out");
        return run;
    }

    /// <summary>The highest-numbered run of <paramref name="kind"/> under <paramref name="root"/>, or null.</summary>
    public static RunFolder? Latest(string root, string kind) =>
        Numbered(root).Where(d => d.Name.StartsWith($"{d.Number:D5}-{kind}-", StringComparison.Ordinal) || d.Name == $"{d.Number:D5}-{kind}")
            .OrderByDescending(d => d.Number).Select(d => new RunFolder(d.Path)).FirstOrDefault();

    private static IEnumerable<(int Number, string Name, string Path)> Numbered(string root)
    {
        if (!Directory.Exists(root)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (name.Length > 5 && int.TryParse(name.AsSpan(0, 5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && (name.Length == 5 || name[5] == '-'))
                yield return (n, name, dir);
        }
    }

    public void WriteOptions<T>(T options) => Json.WriteFile(File(OptionsFile), options);

    public T ReadOptions<T>() where T : class =>
        Json.Deserialize<T>(System.IO.File.ReadAllText(File(OptionsFile)))
        ?? throw new InvalidDataException($"{File(OptionsFile)}: empty options");

    /// <summary>Appends a timestamped line to log.txt.</summary>
    public void Log(string line)
    {
        lock (_gate)
            System.IO.File.AppendAllText(File(LogFile), $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {line}\n");
    }

    /// <summary>Appends one JSON object to stats.jsonl.</summary>
    public void AppendStats<T>(T record)
    {
        var line = JsonSerializer.Serialize(record, Json.Compact);
        lock (_gate)
            System.IO.File.AppendAllText(File(StatsFile), line + "\n");
    }

    /// <summary>The stats records; a last line cut short by a crash is ignored.</summary>
    public List<JsonObject> ReadStats()
    {
        var path = File(StatsFile);
        var list = new List<JsonObject>();
        if (!System.IO.File.Exists(path)) return list;
        foreach (var line in System.IO.File.ReadAllLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject o) list.Add(o);
            }
            catch (JsonException)
            {
                break;
            }
        }
        return list;
    }

    /// <summary>Keeps only the stats records for which <paramref name="keep"/> holds (used on resume, so the
    /// records after the resumed checkpoint are written again, not twice).</summary>
    public void RewriteStats(Func<JsonObject, bool> keep)
    {
        var kept = ReadStats().Where(keep).Select(o => o.ToJsonString(Json.Compact) + "\n");
        AtomicFile.WriteAllText(File(StatsFile), string.Concat(kept));
    }
}
