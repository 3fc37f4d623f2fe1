using System.Globalization;
using System.Text.Json.Nodes;
using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Quality;

/// <summary>Where an audit's files went.</summary>
public sealed record AuditOutput(string Csv, string Json, string Png);

/// <summary>The audit's files: <c>memorization.csv</c> (one row per synthetic image), <c>memorization.json</c> (thresholds
/// and distance distributions) and <c>memorization.png</c> (the closest pairs side by side).</summary>
public static class AuditFiles
{
    /// <summary>File name (without extension) of an audit of an image folder; a snapshot's audit adds its name.</summary>
    public const string BaseName = "memorization";

    public static readonly string[] Header =
    [
        "file", "flagged", "feature_distance", "feature_ratio", "feature_nearest", "feature_mirrored", "feature_patient",
        "pixel_rms", "pixel_ratio", "pixel_nearest", "pixel_mirrored", "pixel_patient",
    ];

    /// <summary>Writes <c>{baseName}.csv/.json/.png</c> into <paramref name="dir"/>; nearest images are named by their
    /// name in <paramref name="reals"/>. <paramref name="context"/> (data, detector, source) goes into the JSON.</summary>
    public static AuditOutput Write(string dir, string baseName, MemorizationAudit audit, RealImageSet reals, JsonObject context)
    {
        Directory.CreateDirectory(dir);
        var output = new AuditOutput(Path.Combine(dir, baseName + ".csv"), Path.Combine(dir, baseName + ".json"), Path.Combine(dir, baseName + ".png"));
        string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        AtomicFile.Write(output.Csv, stream =>
        {
            using var csv = Csv.Writer(stream);
            foreach (var h in Header) csv.WriteField(h);
            csv.NextRecord();
            foreach (var r in audit.Rows)
            {
                foreach (var field in new[]
                         {
                             r.File, r.Flagged ? "1" : "0", R(r.FeatureDistance), R(r.FeatureRatio), reals.Images[r.FeatureNearest].Name,
                             r.FeatureMirrored ? "1" : "0", reals.Images[r.FeatureNearest].Patient ?? "", R(r.PixelRms), R(r.PixelRatio),
                             reals.Images[r.PixelNearest].Name, r.PixelMirrored ? "1" : "0", reals.Images[r.PixelNearest].Patient ?? "",
                         })
                    csv.WriteField(field);
                csv.NextRecord();
            }
        });
        var summary = audit.Summary();
        var json = new JsonObject
        {
            ["summary"] = System.Text.Json.JsonSerializer.SerializeToNode(summary, Json.Options),
            ["rule"] = $"flagged when the nearest training image (or its x-flip) is closer than {R(summary.Margin)} x percentile {R(summary.Percentile)} " +
                       "of the real-vs-real nearest-neighbour distances (nearest image of another patient), in detector-feature space or in pixel space",
            ["csv"] = Path.GetFileName(output.Csv),
            ["png"] = Path.GetFileName(output.Png),
        };
        foreach (var (key, value) in context) json[key] = value?.DeepClone();
        AtomicFile.WriteAllText(output.Json, json.ToJsonString(Json.Options) + "\n");
        ImageCodec.WritePng(output.Png, ClosestPairs(audit.ClosestPairs, reals));
        return output;
    }

    /// <summary>The flagged column of an audit CSV: file → flagged.</summary>
    /// <exception cref="DataException">Not an audit CSV.</exception>
    public static Dictionary<string, bool> ReadFlags(string csvPath)
    {
        if (!File.Exists(csvPath))
            throw new DataException($"{csvPath}: not found. fix: pass the memorization.csv that 'xraysynth gan metrics --metrics memorization' wrote.");
        using var csv = Csv.Open(csvPath);
        if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("file") || !header.Contains("flagged"))
            throw new DataException($"{csvPath}: not a memorisation audit (expected the columns 'file' and 'flagged').");
        var flags = new Dictionary<string, bool>(StringComparer.Ordinal);
        while (csv.Read())
        {
            var file = csv.GetField("file");
            var flagged = csv.GetField("flagged");
            if (string.IsNullOrEmpty(file) || flagged is not ("0" or "1"))
                throw new DataException($"{csvPath}:{csv.Parser.RawRow}: malformed row '{csv.Parser.RawRecord.Trim()}'.");
            flags[file] = flagged == "1";
        }
        return flags;
    }

    /// <summary>The closest pairs, four per row: synthetic image left, its nearest training image (flipped when the
    /// flip matched) right, grey, each at most 128 px; a white frame marks a flagged pair, a dark one an unflagged.</summary>
    public static RasterImage ClosestPairs(IReadOnlyList<AuditPair> pairs, RealImageSet reals)
    {
        const int perRow = 4, gap = 2, frame = 2, spacing = 8;
        if (pairs.Count == 0) return RasterImage.Blank(1, 1, 1);
        int tile = Math.Min(128, Math.Max(pairs[0].Synthetic.Width, pairs[0].Synthetic.Height));
        int pairW = 2 * tile + gap + 2 * frame, pairH = tile + 2 * frame;
        int cols = Math.Min(perRow, pairs.Count), rows = (pairs.Count + perRow - 1) / perRow;
        int width = cols * pairW + (cols + 1) * spacing, height = rows * pairH + (rows + 1) * spacing;
        var canvas = RasterImage.Blank(width, height, 1);
        for (int i = 0; i < pairs.Count; i++)
        {
            var pair = pairs[i];
            int x0 = spacing + (i % perRow) * (pairW + spacing), y0 = spacing + (i / perRow) * (pairH + spacing);
            Fill(canvas, x0, y0, pairW, pairH, pair.Row.Flagged ? (byte)255 : (byte)64);
            Fill(canvas, x0 + frame, y0 + frame, pairW - 2 * frame, tile, 0);
            var real = reals.Load(pair.RealIndex).ToGrey();
            if (pair.RealMirrored) real = FlipX(real);
            Paste(canvas, RealImageSet.Conform(pair.Synthetic, tile, 1), x0 + frame, y0 + frame);
            Paste(canvas, RealImageSet.Conform(real, tile, 1), x0 + frame + tile + gap, y0 + frame);
        }
        return canvas;
    }

    private static RasterImage FlipX(RasterImage img)
    {
        var p = new byte[img.Pixels.Length];
        int c = img.Channels;
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
                Buffer.BlockCopy(img.Pixels, (y * img.Width + x) * c, p, (y * img.Width + img.Width - 1 - x) * c, c);
        return new RasterImage(img.Width, img.Height, c, p);
    }

    private static void Fill(RasterImage canvas, int x0, int y0, int w, int h, byte value)
    {
        for (int y = y0; y < y0 + h; y++) Array.Fill(canvas.Pixels, value, y * canvas.Width + x0, w);
    }

    private static void Paste(RasterImage canvas, RasterImage tile, int x0, int y0)
    {
        for (int y = 0; y < tile.Height; y++)
            Buffer.BlockCopy(tile.Pixels, y * tile.Width, canvas.Pixels, (y0 + y) * canvas.Width + x0, tile.Width);
    }
}
