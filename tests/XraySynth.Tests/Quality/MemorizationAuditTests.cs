using System.Text.Json.Nodes;
using TorchSharp;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Quality;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Quality;

public class MemorizationAuditTests
{
    [Fact]
    public void Audit_FlagsExactFlippedAndNoisedCopies_NotDistinctPhantoms()
    {
        using var tmp = new TempDir();
        var (zip, train) = QualityFixture.TrainingZip(tmp.Combine("data"), 80);
        var synthetic = Enumerable.Range(0, 16).Select(i => QualityFixture.Phantom(5000 + i, i % 2)).ToList();
        // Planted: an exact copy, an x-flipped copy, a slightly noised copy (σ 3 grey levels), a flipped noised copy.
        var planted = new (int Train, bool Mirrored, RasterImage Image)[]
        {
            (3, false, train[3]),
            (8, true, QualityFixture.FlipX(train[8])),
            (13, false, QualityFixture.Noised(train[13], 3, seed: 1)),
            (21, true, QualityFixture.Noised(QualityFixture.FlipX(train[21]), 3, seed: 2)),
        };
        synthetic.AddRange(planted.Select(p => p.Image));
        var files = QualityFixture.Folder(tmp.Combine("gen"), synthetic, cls: "");

        var report = GanMetrics.Run(new MetricsOptions
        {
            Images = tmp.Combine("gen"), Data = zip, Metrics = [QualityMetric.Memorization], Detector = "builtin",
            Device = DeviceChoice.Cpu, CacheDir = tmp.Combine("cache"), Batch = 7,
        });

        using var reals = RealImageSet.Open(zip);
        var rows = AuditRowsByFile(report.AuditFiles!.Csv);
        Assert.Equal(files.Skip(16), rows.Where(r => r.Value["flagged"] == "1").Select(r => r.Key).Order());
        for (int i = 0; i < planted.Length; i++)
        {
            var row = rows[files[16 + i]];
            foreach (var space in new[] { "feature", "pixel" })
            {
                Assert.Equal(reals.Images[planted[i].Train].Name, row[space + "_nearest"]);
                Assert.Equal(planted[i].Mirrored ? "1" : "0", row[space + "_mirrored"]);
                Assert.True(double.Parse(row[space + "_ratio"]) < 0.5, $"{files[16 + i]} {space} ratio {row[space + "_ratio"]}");
            }
            Assert.Equal($"patient{planted[i].Train / 2:D5}", row["feature_patient"]);
        }
        foreach (var file in files.Take(16))
            foreach (var space in new[] { "feature", "pixel" })
                Assert.True(double.Parse(rows[file][space + "_ratio"]) > 1, $"distinct {file} {space} ratio {rows[file][space + "_ratio"]}");

        var summary = report.Audit!;
        Assert.Equal((20, 4), (summary.Images, summary.Flagged));
        Assert.Equal(80, summary.CalibrationQueries);
        Assert.All(new[] { summary.Feature, summary.Pixel }, s => Assert.Equal(0, s.RealBelowThreshold));
        var json = JsonNode.Parse(File.ReadAllText(report.AuditFiles.Json))!;
        Assert.Equal(summary.Feature.Threshold, json["summary"]!["feature"]!["threshold"]!.GetValue<double>());
        Assert.Equal("builtin", json["detector"]!.GetValue<string>());
        // The picture: 16 closest pairs, four per row, each pair two 64-px tiles in a frame.
        var png = ImageCodec.Decode(report.AuditFiles.Png);
        Assert.Equal((4 * (2 * 64 + 2 + 4) + 5 * 8, 4 * (64 + 4) + 5 * 8), (png.Width, png.Height));
        Assert.Equal(255, png.Pixels[8 * png.Width + 8]);                                  // the closest pair is flagged: white frame
        var metric = Assert.Single(report.Results);
        Assert.Equal("mem20-builtin", metric.Metric);
        Assert.Equal(4, metric.Results["mem20-builtin_flagged"]);
    }

    [Fact]
    public void Audit_Calibration_IgnoresImagesOfTheSamePatient()
    {
        // 20 patients with two near-identical images each: were same-patient pairs used, the threshold would collapse
        // to their tiny distance and nothing could be flagged.
        using var g = new torch.Generator(3);
        using var centres = randn([20, 8], generator: g) * 10;
        using var jitter = randn([40, 8], generator: g) * 1e-3f;
        using var features = centres.repeat_interleave(2, dim: 0) + jitter;                        // [40,8]
        using var pixels = (features.narrow(1, 0, 4).repeat(1, 4) * 5 + 128).clamp(0, 255).to(ScalarType.Byte); // [40,16]
        var groups = Enumerable.Range(0, 40).Select(i => (long)(i / 2)).ToArray();
        using var audit = new MemorizationAudit(features, features.flip(1), pixels, groups, new AuditOptions { PixelSize = 4 });
        Assert.True(audit.FeatureThreshold > 1, $"feature threshold {audit.FeatureThreshold}");

        using var copy = features.narrow(0, 5, 1).clone();
        using var fresh = randn([1, 8], generator: g) * 10;
        using var images = zeros([2, 1, 4, 4], ScalarType.Byte);
        using var batch = new ImageBatch(["copy.png", "fresh.png"], images.clone());
        using var syntheticFeatures = cat([copy, fresh], 0);
        using var syntheticPixels = cat([pixels.narrow(0, 5, 1), pixels.narrow(0, 30, 1)], 0);
        audit.Add(batch, syntheticFeatures, syntheticPixels);
        Assert.True(audit.Rows[0].Flagged);
        Assert.Equal(2, audit.Rows[0].FeatureNearest / 2);                                  // image 4 or 5: patient 2
        Assert.True(audit.Rows[1].FeatureRatio > 1);
        Assert.Equal(0, audit.Summary().RealDuplicatesIgnored);
    }

    [Fact]
    public void Filter_DropsFlaggedRows_KeepsTheirList_AndIsIdempotent()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("gen");
        var files = QualityFixture.Folder(dir, Enumerable.Range(0, 5).Select(i => RasterImage.Blank(8, 8, 1, (byte)(i * 40))).ToList());
        var audit = tmp.Combine("memorization.csv");
        WriteAudit(audit, (files[1], true), (files[2], false), (files[3], true));

        var first = MemorizationFilter.Apply(dir, audit);
        Assert.Equal((3, 2, 2), (first.Kept, first.Dropped, first.NotAudited));
        Assert.Equal([files[0], files[2], files[4]], SyntheticManifest.Read(dir).Select(r => r.File));
        var dropped = File.ReadAllLines(first.DroppedList);
        Assert.Equal(["file,seed,class,trunc", $"{files[1]},1,positive,1", $"{files[3]},3,positive,1"], dropped);
        Assert.True(File.Exists(Path.Combine(dir, files[1])));                  // kept on disk for inspection

        var again = MemorizationFilter.Apply(dir, audit);
        Assert.Equal((3, 0), (again.Kept, again.Dropped));
        Assert.Equal(dropped, File.ReadAllLines(first.DroppedList));
        Assert.Equal(3, XraySynth.Classifier.Data.ClassifierSamples.FromGenerated(dir).Count);
    }

    [Fact]
    public void Filter_AuditOfAnotherFolder_IsRefused_AndChangesNothing()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("gen");
        QualityFixture.Folder(dir, [RasterImage.Blank(8, 8, 1), RasterImage.Blank(8, 8, 1, 9)]);
        var before = File.ReadAllBytes(Path.Combine(dir, SyntheticManifest.FileName));
        var audit = tmp.Combine("other.csv");
        WriteAudit(audit, ("seed000000.png", true), ("seed009999.png", true));
        var e = Assert.Throws<DataException>(() => MemorizationFilter.Apply(dir, audit));
        Assert.Contains("seed009999.png", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, SyntheticManifest.FileName)));
        Assert.Contains("not a memorisation audit", Assert.Throws<DataException>(() => MemorizationFilter.Apply(dir, Path.Combine(dir, SyntheticManifest.FileName))).Message);
    }

    private static void WriteAudit(string path, params (string File, bool Flagged)[] rows) =>
        File.WriteAllLines(path, [string.Join(",", AuditFiles.Header), .. rows.Select(r => $"{r.File},{(r.Flagged ? 1 : 0)},1,1,x,0,,1,1,x,0,")]);

    private static Dictionary<string, Dictionary<string, string>> AuditRowsByFile(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        Assert.Equal(AuditFiles.Header, header);
        return lines.Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => header.Zip(f).ToDictionary(p => p.First, p => p.Second));
    }
}
