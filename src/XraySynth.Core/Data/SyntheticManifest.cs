using System.Globalization;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>One generated image: file name (relative to its folder), seed, class ("positive", "negative" or "" when
/// the model has no class) and truncation psi.</summary>
public sealed record SyntheticRow(string File, long Seed, string Class, double Trunc);

/// <summary>The <c>manifest.csv</c> of a <c>gan generate</c> folder (header <c>file,seed,class,trunc</c>): written by
/// generation, read by the classifier to mix synthetic images in by class.</summary>
public static class SyntheticManifest
{
    public const string FileName = "manifest.csv";
    public static readonly string[] Header = ["file", "seed", "class", "trunc"];

    public static void Write(string file, IEnumerable<SyntheticRow> rows) => AtomicFile.Write(file, stream =>
    {
        using var csv = Csv.Writer(stream);
        foreach (var h in Header) csv.WriteField(h);
        csv.NextRecord();
        foreach (var r in rows)
        {
            csv.WriteField(r.File);
            csv.WriteField(r.Seed);
            csv.WriteField(r.Class);
            csv.WriteField(r.Trunc.ToString("R", CultureInfo.InvariantCulture));
            csv.NextRecord();
        }
    });

    public static List<SyntheticRow> Read(string folder)
    {
        var file = Path.Combine(folder, FileName);
        if (!File.Exists(file))
            throw new DataException($"{file}: not found. fix: pass a folder written by 'xraysynth gan generate' (it holds {FileName}).");
        using var csv = Csv.Open(file);
        if (!csv.Read() || !csv.ReadHeader() || !Header.All(h => csv.HeaderRecord!.Contains(h)))
            throw new DataException($"{file}: not a generation manifest (expected the header '{string.Join(",", Header)}').");
        var rows = new List<SyntheticRow>();
        while (csv.Read())
        {
            var name = csv.GetField("file") ?? "";
            var cls = csv.GetField("class") ?? "";
            if (name.Length == 0 || name.Contains("..") || Path.IsPathRooted(name)
                || !long.TryParse(csv.GetField("seed"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                || !double.TryParse(csv.GetField("trunc"), NumberStyles.Float, CultureInfo.InvariantCulture, out var trunc)
                || cls is not ("positive" or "negative" or ""))
                throw new DataException($"{file}:{csv.Parser.RawRow}: malformed row '{csv.Parser.RawRecord.Trim()}' (file inside the folder, integer seed, class positive|negative|empty, numeric trunc).");
            rows.Add(new SyntheticRow(name, seed, cls, trunc));
        }
        return rows;
    }

    /// <summary>"positive" → 1, "negative" → 0, otherwise null.</summary>
    public static int? Label(string cls) => cls switch { "positive" => 1, "negative" => 0, _ => null };

    public static string ClassName(int label) => label == 1 ? "positive" : "negative";
}
