using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace XraySynth.Runtime;

/// <summary>
/// The one CSV layer: every CSV XraySynth writes or reads goes through here. RFC 4180: fields with a comma, a quote,
/// a line break or surrounding spaces are quoted and quotes doubled, so any path (spaces, commas, quotes, non-ASCII
/// letters) round-trips. UTF-8 without a byte-order mark, '\n' line ends, invariant culture (a '.' decimal point).
/// A field with a stray quote is a <see cref="DataException"/> naming the file and line, never a parser crash.
/// </summary>
public static class Csv
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes a header (null: none) and rows atomically (temporary name, then rename).</summary>
    public static void Write(string file, IReadOnlyList<string>? header, IEnumerable<IEnumerable<object?>> rows) =>
        AtomicFile.Write(file, stream =>
        {
            using var csv = Writer(stream);
            if (header is not null) WriteRow(csv, header);
            foreach (var row in rows) WriteRow(csv, row);
        });

    /// <summary>A writer on <paramref name="stream"/> (left open) with this layer's conventions.</summary>
    public static CsvWriter Writer(Stream stream) =>
        new(new StreamWriter(stream, Utf8, leaveOpen: true), new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\n" });

    /// <summary>Writes one record: every field, then the line end.</summary>
    public static void WriteRow(CsvWriter csv, IEnumerable<object?> fields)
    {
        foreach (var f in fields) csv.WriteField(f is IFormattable x ? x.ToString(null, CultureInfo.InvariantCulture) : f?.ToString());
        csv.NextRecord();
    }

    /// <summary>Opens <paramref name="file"/> for reading. <paramref name="lenient"/>: a stray quote is kept as text
    /// (the caller checks every row itself, as for MURA's own CSVs) instead of being an error.</summary>
    public static CsvReader Open(string file, bool hasHeader = true, bool lenient = false)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = hasHeader,
            MissingFieldFound = null,
            IgnoreBlankLines = true,
            DetectColumnCountChanges = false,
            BadDataFound = lenient ? null : args => throw new DataException(
                $"{file}:{args.Context.Parser?.RawRow}: malformed CSV field (a quote inside an unquoted field, or an unclosed quote): " +
                $"'{Clip(args.RawRecord)}'. fix: quote the field and double its quotes (RFC 4180), or rewrite the file with XraySynth."),
        };
        return new CsvReader(new StreamReader(file, Utf8, detectEncodingFromByteOrderMarks: true), config);
    }

    /// <summary>Reads the header; false when the file has none or lacks one of <paramref name="required"/>.</summary>
    public static bool ReadHeader(CsvReader csv, IEnumerable<string> required) =>
        csv.Read() && csv.ReadHeader() && required.All(h => csv.HeaderRecord!.Contains(h));

    private static string Clip(string s)
    {
        s = s.Trim();
        return s.Length <= 120 ? s : s[..117] + "...";
    }
}
