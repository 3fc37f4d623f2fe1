using XraySynth.Runtime;


namespace XraySynth.Data;

/// <summary>One row of a classifier manifest (<c>train.csv</c>, <c>val.csv</c>, <c>test.csv</c>).</summary>
/// <param name="Path">Image path relative to the prepared folder, '/'-separated.</param>
/// <param name="Patient">Patient id (<c>patient00001</c>); studies and images of a patient are never split.</param>
/// <param name="Study">Unique study id; study-level metrics average the study's image probabilities.</param>
/// <param name="Part">Study type (<c>shoulder</c>).</param>
/// <param name="Label">1 abnormal, 0 normal.</param>
public sealed record ManifestRow(string Path, string Patient, string Study, string Part, int Label);

/// <summary>Reads and writes classifier manifests: CSV with the header <c>path,patient,study,part,label</c>.</summary>
public static class Manifest
{
    public static readonly string[] Header = ["path", "patient", "study", "part", "label"];

    public static void Write(string file, IEnumerable<ManifestRow> rows) => AtomicFile.Write(file, stream =>
    {
        using var csv = Csv.Writer(stream);
        foreach (var h in Header) csv.WriteField(h);
        csv.NextRecord();
        foreach (var r in rows)
        {
            csv.WriteField(r.Path);
            csv.WriteField(r.Patient);
            csv.WriteField(r.Study);
            csv.WriteField(r.Part);
            csv.WriteField(r.Label);
            csv.NextRecord();
        }
    });

    /// <summary>Reads a manifest; a malformed row is an error naming the file and line.</summary>
    public static List<ManifestRow> Read(string file)
    {
        if (!File.Exists(file)) throw new DataException($"{file}: manifest not found. fix: run 'xraysynth prepare' first or check the path.");
        using var csv = Csv.Open(file);
        if (!csv.Read() || !csv.ReadHeader() || !Header.All(h => csv.HeaderRecord!.Contains(h)))
            throw new DataException($"{file}: not a manifest (expected the header '{string.Join(",", Header)}').");
        var unknown = csv.HeaderRecord!.Except(Header).ToList();
        if (unknown.Count > 0)
            throw new DataException($"{file}: unknown column(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}; a manifest has exactly '{string.Join(",", Header)}'. fix: use the manifests written by 'xraysynth prepare'.");
        var rows = new List<ManifestRow>();
        while (csv.Read())
        {
            var label = csv.GetField("label");
            var path = csv.GetField("path");
            if (string.IsNullOrEmpty(path) || label is not ("0" or "1"))
                throw new DataException($"{file}:{csv.Parser.RawRow}: malformed row (path must be set, label 0 or 1): '{csv.Parser.RawRecord.Trim()}'");
            rows.Add(new ManifestRow(path, csv.GetField("patient") ?? "", csv.GetField("study") ?? "", csv.GetField("part") ?? "", label == "1" ? 1 : 0));
        }
        return rows;
    }
}
