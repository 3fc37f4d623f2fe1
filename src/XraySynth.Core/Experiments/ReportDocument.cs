using XraySynth.Runtime;
using System.Net;
using System.Text;

namespace XraySynth.Experiments;

/// <summary>A report as a list of blocks, rendered to Markdown (images linked) and to one self-contained HTML file
/// (images embedded), so both always say the same thing.</summary>
public sealed class ReportDocument
{
    private abstract record Block;
    private sealed record HeadingBlock(int Level, string Text) : Block;
    private sealed record ParagraphBlock(string Text) : Block;
    private sealed record BulletsBlock(IReadOnlyList<string> Items) : Block;
    private sealed record TableBlock(string[] Header, IReadOnlyList<string[]> Rows) : Block;
    private sealed record FigureBlock(string Path, string Caption) : Block;
    private sealed record CodeBlock(string Text) : Block;

    private readonly List<Block> _blocks = [];

    public ReportDocument H(int level, string text) { _blocks.Add(new HeadingBlock(level, text)); return this; }
    public ReportDocument P(string text) { _blocks.Add(new ParagraphBlock(text)); return this; }
    public ReportDocument List(IEnumerable<string> items) { _blocks.Add(new BulletsBlock(items.ToList())); return this; }
    public ReportDocument Table(string[] header, IEnumerable<string[]> rows) { _blocks.Add(new TableBlock(header, rows.ToList())); return this; }
    /// <summary>An image file (absolute path); Markdown links it relative to the report, HTML embeds it.</summary>
    public ReportDocument Image(string path, string caption) { _blocks.Add(new FigureBlock(path, caption)); return this; }
    public ReportDocument Pre(string text) { _blocks.Add(new CodeBlock(text)); return this; }

    public string ToMarkdown(string reportDir)
    {
        var sb = new StringBuilder();
        foreach (var b in _blocks)
        {
            switch (b)
            {
                case HeadingBlock h: sb.Append('#', h.Level).Append(' ').AppendLine(h.Text).AppendLine(); break;
                case ParagraphBlock p: sb.AppendLine(p.Text).AppendLine(); break;
                case BulletsBlock l: foreach (var i in l.Items) sb.Append("- ").AppendLine(i); sb.AppendLine(); break;
                case TableBlock t:
                    sb.AppendLine("| " + string.Join(" | ", t.Header.Select(Cell)) + " |");
                    sb.AppendLine("|" + string.Concat(t.Header.Select(_ => "---|")));
                    foreach (var r in t.Rows) sb.AppendLine("| " + string.Join(" | ", r.Select(Cell)) + " |");
                    sb.AppendLine();
                    break;
                case FigureBlock f:
                    sb.AppendLine($"![{f.Caption}]({Path.GetRelativePath(reportDir, f.Path).Replace('\\', '/')})").AppendLine();
                    sb.AppendLine($"*{f.Caption}*").AppendLine();
                    break;
                case CodeBlock c: sb.AppendLine("```").AppendLine(c.Text.TrimEnd()).AppendLine("```").AppendLine(); break;
            }
        }
        return sb.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    public string ToHtml(string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{E(title)}</title><style>");
        sb.AppendLine("body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}");
        sb.AppendLine("table{border-collapse:collapse;margin:1em 0;font-size:0.92em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}");
        sb.AppendLine("th{background:#f2f4f7}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}");
        sb.AppendLine("figcaption{font-size:0.9em;color:#555}pre{background:#f6f8fa;padding:0.8em;overflow:auto;font-size:0.85em}h1{border-bottom:2px solid #ddd}");
        sb.AppendLine("</style></head><body>");
        foreach (var b in _blocks)
        {
            switch (b)
            {
                case HeadingBlock h: sb.AppendLine($"<h{h.Level}>{E(h.Text)}</h{h.Level}>"); break;
                case ParagraphBlock p: sb.AppendLine($"<p>{Inline(p.Text)}</p>"); break;
                case BulletsBlock l: sb.AppendLine("<ul>" + string.Concat(l.Items.Select(i => $"<li>{Inline(i)}</li>")) + "</ul>"); break;
                case TableBlock t:
                    sb.Append("<table><thead><tr>").Append(string.Concat(t.Header.Select(h => $"<th>{Inline(h)}</th>"))).AppendLine("</tr></thead><tbody>");
                    foreach (var r in t.Rows) sb.Append("<tr>").Append(string.Concat(r.Select(c => $"<td>{Inline(c)}</td>"))).AppendLine("</tr>");
                    sb.AppendLine("</tbody></table>");
                    break;
                case FigureBlock f:
                    var data = File.Exists(f.Path) ? Convert.ToBase64String(File.ReadAllBytes(f.Path)) : "";
                    sb.AppendLine($"<figure><img alt=\"{E(f.Caption)}\" src=\"data:image/png;base64,{data}\"><figcaption>{E(f.Caption)}</figcaption></figure>");
                    break;
                case CodeBlock c: sb.AppendLine($"<pre>{E(c.Text)}</pre>"); break;
            }
        }
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>HTML-escapes and renders **bold** spans (the only inline markup the report uses).</summary>
    private static string Inline(string s)
    {
        var parts = E(s).Split("**");
        var sb = new StringBuilder();
        for (int i = 0; i < parts.Length; i++) sb.Append(i % 2 == 1 && i < parts.Length - 1 ? $"<strong>{parts[i]}</strong>" : (i % 2 == 1 ? "**" + parts[i] : parts[i]));
        return sb.ToString();
    }
}
