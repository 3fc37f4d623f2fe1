namespace XraySynth.Cli.Rendering;

/// <summary>A plain, aligned text table (readable in a terminal and in a log file alike).</summary>
public sealed class TextTable(params string[] header)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params object[] cells)
    {
        _rows.Add(cells.Select(c => c switch { double d => d.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), _ => c?.ToString() ?? "" }).ToArray());
        return this;
    }

    public void Write(TextWriter output, string indent = "  ")
    {
        var all = new List<string[]> { header };
        all.AddRange(_rows);
        var widths = Enumerable.Range(0, header.Length).Select(i => all.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
        string Line(string[] r) => indent + string.Join("  ", r.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
        output.WriteLine(Line(header));
        output.WriteLine(indent + string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in _rows) output.WriteLine(Line(r));
    }
}
