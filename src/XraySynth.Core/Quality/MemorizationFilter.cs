using System.Globalization;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Quality;

/// <summary>What the filter did.</summary>
/// <param name="Kept">Rows left in the manifest.</param>
/// <param name="Dropped">Rows dropped now.</param>
/// <param name="NotAudited">Manifest rows the audit does not cover (kept; audit them again).</param>
/// <param name="DroppedList">The list of every dropped row (<see cref="MemorizationFilter.DroppedFile"/>).</param>
public sealed record FilterResult(string Folder, int Kept, int Dropped, int NotAudited, string DroppedList, IReadOnlyList<string> DroppedFiles);

/// <summary>Drops the images a memorisation audit flagged from a <c>gan generate</c> folder, so the classifier never
/// trains on them: their rows move from <c>manifest.csv</c> (rewritten atomically) to <c>memorized.csv</c> (same
/// columns; the list of everything ever dropped). The PNG files stay on disk for inspection; nothing reads them
/// without a manifest row. Running it again with the same audit changes nothing.</summary>
public static class MemorizationFilter
{
    public const string DroppedFile = "memorized.csv";

    /// <exception cref="DataException">Not a generate folder, not an audit, or an audit of another folder.</exception>
    public static FilterResult Apply(string imagesDir, string auditCsv)
    {
        var dir = Path.GetFullPath(imagesDir);
        var rows = SyntheticManifest.Read(dir);
        var flags = AuditFiles.ReadFlags(auditCsv);
        var droppedPath = Path.Combine(dir, DroppedFile);
        var before = File.Exists(droppedPath) ? ReadDropped(droppedPath) : [];
        var known = rows.Select(r => r.File).Concat(before.Select(r => r.File)).ToHashSet(StringComparer.Ordinal);
        var foreign = flags.Keys.Where(f => !known.Contains(f)).ToList();
        if (foreign.Count > 0)
            throw new DataException($"{auditCsv}: audits {foreign.Count} image(s) that {dir} does not hold (first: {foreign[0]}). " +
                                    "fix: pass the audit of this folder ('gan metrics --images " + imagesDir + " --metrics memorization').");
        var drop = rows.Where(r => flags.GetValueOrDefault(r.File)).ToList();
        var keep = rows.Where(r => !flags.GetValueOrDefault(r.File)).ToList();
        int notAudited = rows.Count(r => !flags.ContainsKey(r.File));
        if (drop.Count > 0)
        {
            // The list first: a crash between the two writes leaves a row in both files, never in neither.
            SyntheticManifest.Write(droppedPath, before.Concat(drop));
            SyntheticManifest.Write(Path.Combine(dir, SyntheticManifest.FileName), keep);
        }
        return new FilterResult(dir, keep.Count, drop.Count, notAudited, droppedPath, drop.Select(r => r.File).ToList());
    }

    /// <summary>The rows of an earlier <see cref="DroppedFile"/> (the manifest's columns).</summary>
    private static List<SyntheticRow> ReadDropped(string path)
    {
        using var csv = Csv.Open(path);
        if (!csv.Read() || !csv.ReadHeader() || !SyntheticManifest.Header.All(h => csv.HeaderRecord!.Contains(h)))
            throw new DataException($"{path}: expected the header '{string.Join(",", SyntheticManifest.Header)}'. fix: delete or repair it.");
        var rows = new List<SyntheticRow>();
        while (csv.Read())
        {
            if (!long.TryParse(csv.GetField("seed"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                || !double.TryParse(csv.GetField("trunc"), NumberStyles.Float, CultureInfo.InvariantCulture, out var trunc)
                || csv.GetField("file") is not { Length: > 0 } file)
                throw new DataException($"{path}:{csv.Parser.RawRow}: malformed row '{csv.Parser.RawRecord.Trim()}'.");
            rows.Add(new SyntheticRow(file, seed, csv.GetField("class") ?? "", trunc));
        }
        return rows;
    }
}
