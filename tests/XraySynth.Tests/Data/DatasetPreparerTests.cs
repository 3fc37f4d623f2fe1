using System.Text.Json.Nodes;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Data;

public class DatasetPreparerTests
{
    private static PrepareOptions Options(string mura, string outDir) => new()
    {
        MuraRoot = mura,
        OutDir = outDir,
        Resolution = 32,
        ClassifierSize = 48,
        ValFraction = 0.2,
        Seed = 1,
        Workers = 2,
    };

    [Fact]
    public void Run_WritesOfficialZipLayoutManifestsAndReport()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path);
        var outDir = tmp.Combine("prepared");
        var report = DatasetPreparer.Run(Options(mura, outDir));

        var zipPath = Path.Combine(outDir, "gan-32.zip");
        using var zip = new DatasetZipReader(zipPath);
        var train = Manifest.Read(Path.Combine(outDir, "train.csv"));
        Assert.Equal(train.Count, zip.ImageNames.Count);
        Assert.Equal("00000/img00000000.png", zip.ImageNames[0]);
        Assert.Equal(0, DatasetZipReader.CompressionMethod(zipPath, zip.ImageNames[0]));   // stored, as the official tool writes
        Assert.NotNull(zip.Labels);
        Assert.Equal(train.Count(r => r.Label == 1), zip.Labels!.ByName.Values.Count(l => l == 1));
        Assert.Equal(report.GanImages.Positive, zip.Labels.ByName.Values.Count(l => l == 1));
        var img = ImageCodec.Decode(zip.ReadEntry(zip.ImageNames[^1]), "entry");
        Assert.Equal((32, 32), (img.Width, img.Height));
        Assert.Equal(0, ImageCodec.EncodePng(img)[25]);   // grey PNG

        // Labels of the zip follow the sources file and the manifest, in order.
        var sources = File.ReadAllLines(Path.Combine(outDir, "gan-32-sources.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(zip.ImageNames, sources.Select(s => s[0]));
        Assert.All(sources, s => Assert.Equal(int.Parse(s[3]), zip.Labels.ByName[s[0]]));
        Assert.All(sources, s => Assert.StartsWith("train/", s[1]));

        // Classifier images exist at the classifier size; test = MURA valid only; patients never shared.
        var val = Manifest.Read(Path.Combine(outDir, "val.csv"));
        var test = Manifest.Read(Path.Combine(outDir, "test.csv"));
        Assert.NotEmpty(val);
        Assert.All(test, r => Assert.StartsWith("images/test/", r.Path));
        Assert.All(test, r => Assert.StartsWith("valid/", r.Study));
        Assert.Empty(train.Select(r => r.Patient).Intersect(val.Select(r => r.Patient)));
        Assert.Empty(train.Select(r => r.Patient).Intersect(test.Select(r => r.Patient)));
        var cls = ImageCodec.Decode(Path.Combine(outDir, val[0].Path));
        Assert.Equal((48, 48, 1), (cls.Width, cls.Height, cls.Channels));

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, DatasetPreparer.ReportFile)))!;
        Assert.Equal("gan-32.zip", json["ganZip"]!.GetValue<string>());
        Assert.Equal(train.Count + val.Count + test.Count, json["counts"]!.AsArray().Sum(c => c!["images"]!["negative"]!.GetValue<int>() + c["images"]!["positive"]!.GetValue<int>()));
        Assert.Empty(report.Skipped);
    }

    [Fact]
    public void Run_ThreeChannels_WritesRgbZip()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 8);
        var report = DatasetPreparer.Run(Options(mura, tmp.Combine("out")) with { Channels = 3, ValFraction = 0 });
        using var zip = new DatasetZipReader(tmp.Combine("out", report.GanZip));
        Assert.Equal("gan-32-rgb.zip", report.GanZip);
        Assert.Equal(2, ImageCodec.EncodePng(ImageCodec.Decode(zip.ReadEntry(zip.ImageNames[0]), "e", channels: 3))[25]);
    }

    [Fact]
    public void Run_ImageWithHugeDeclaredSize_IsSkippedAndNamedNotACrash()
    {
        // 65536x16385 RGB in a few hundred bytes: its RGBA buffer overflows 32 bits (a heap overflow before the cap).
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path);
        var catalog = MuraCatalog.Load(mura, ["shoulder"]);
        var huge = catalog.Images.First(i => i.Split == MuraSplit.Train).FullPath;
        File.WriteAllBytes(huge, XraySynth.Tests.Support.PngFixtures.Declared(65536, 16385));
        var report = DatasetPreparer.Run(Options(mura, tmp.Combine("out")));
        var skipped = Assert.Single(report.Skipped);
        Assert.Equal(huge, skipped.File);
        Assert.Contains("exceeds the cap", skipped.Problem);
    }

    [Fact]
    public void Run_CorruptAndMissingImages_AreSkippedAndListed_OrFatalWhenStrict()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path);
        var catalog = MuraCatalog.Load(mura, ["shoulder"]);
        var truncated = catalog.Images.First(i => i.Split == MuraSplit.Train).FullPath;
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var missing = catalog.Images.Last(i => i.Split == MuraSplit.Valid).FullPath;
        File.Delete(missing);

        var report = DatasetPreparer.Run(Options(mura, tmp.Combine("out")));
        Assert.Equal(2, report.Skipped.Count);
        Assert.Contains(report.Skipped, s => s.File == truncated && s.Problem.Contains("truncated"));
        Assert.Contains(report.Skipped, s => s.File == missing && s.Problem.Contains("not found"));
        var all = new[] { "train", "val", "test" }.SelectMany(s => Manifest.Read(tmp.Combine("out", $"{s}.csv"))).ToList();
        Assert.Equal(catalog.Images.Count - 2, all.Count);
        Assert.Contains(truncated, File.ReadAllText(tmp.Combine("out", DatasetPreparer.ReportFile)));

        var e = Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(mura, tmp.Combine("strict")) with { Strict = true }));
        Assert.Contains(truncated, e.Message);
        Assert.False(File.Exists(tmp.Combine("strict", "gan-32.zip")));
    }

    [Fact]
    public void Run_StrictStopsAtMalformedCsvRow()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 6);
        File.AppendAllText(Path.Combine(mura, "MURA-v1.1", "train_image_paths.csv"), "MURA-v1.1/train/../../../etc/passwd\n");
        var e = Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(mura, tmp.Combine("out")) with { Strict = true }));
        Assert.Contains("train_image_paths.csv:", e.Message);
        Assert.Contains("escapes", e.Message);
        var report = DatasetPreparer.Run(Options(mura, tmp.Combine("lenient")) with { ValFraction = 0 });
        Assert.Single(report.Skipped);
    }

    [Fact]
    public void Run_OutputHoldingDifferentDataset_IsRefused_SameSettingsResume()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 8);
        var outDir = tmp.Combine("out");
        var first = DatasetPreparer.Run(Options(mura, outDir));
        Assert.Equal(0, first.Resumed);

        var e = Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(mura, outDir) with { Resolution = 64 }));
        Assert.Contains("different prepared dataset", e.Message);
        Assert.Contains("resolution 32 there, 64 now", e.Message);

        var again = DatasetPreparer.Run(Options(mura, outDir));
        Assert.Equal(first.Counts.Sum(c => c.Images.Total), again.Resumed);

        var foreign = tmp.Combine("foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        Assert.Contains("not empty", Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(mura, foreign))).Message);
    }

    [Fact]
    public void Run_Interrupted_LeavesNoZipThatLooksComplete()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 30);
        var outDir = tmp.Combine("out");
        using var cancel = new CancellationTokenSource();
        var progress = new CallbackProgress(_ => cancel.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => DatasetPreparer.Run(Options(mura, outDir) with { Workers = 1 }, progress, cancel.Token));
        Assert.False(File.Exists(Path.Combine(outDir, "gan-32.zip")));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(outDir, "train.csv")));
        // A rerun finishes the job.
        var report = DatasetPreparer.Run(Options(mura, outDir));
        Assert.True(report.Resumed > 0);
        Assert.True(File.Exists(Path.Combine(outDir, "gan-32.zip")));
    }

    [Fact]
    public void Run_WritesNothingOutsideOut()
    {
        using var tmp = new TempDir();
        var mura = MuraFixture.Phantoms(tmp.Path, patients: 6);
        var before = MuraFixture.Snapshot(tmp.Path);
        DatasetPreparer.Run(Options(mura, tmp.Combine("out")) with { ValFraction = 0 });
        var after = MuraFixture.Snapshot(tmp.Path).Where(kv => !kv.Key.StartsWith("out" + Path.DirectorySeparatorChar)).ToDictionary();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(mura, Path.Combine(mura, "MURA-v1.1", "prepared"))));
    }

    [Fact]
    public void Run_EmptyClass_IsFatalWithMessage()
    {
        using var tmp = new TempDir();
        var ds = tmp.Combine("MURA-v1.1");
        MuraFixture.Image(ds, "train/XR_SHOULDER/patient00001/study1_negative/image1.png");
        MuraFixture.Image(ds, "valid/XR_SHOULDER/patient00002/study1_negative/image1.png");
        MuraFixture.Image(ds, "valid/XR_SHOULDER/patient00003/study1_positive/image1.png");
        var e = Assert.Throws<DataException>(() => DatasetPreparer.Run(Options(tmp.Path, tmp.Combine("out")) with { ValFraction = 0 }));
        Assert.Contains("no positive (abnormal) images in the train split", e.Message);
        Assert.Contains("empty class", e.Message);
    }

    [Fact]
    public void Options_InvalidResolution_IsRejected()
    {
        var o = new PrepareOptions { MuraRoot = "x", OutDir = "y", Resolution = 100 };
        Assert.Contains("power of two", Assert.Throws<DataException>(o.Validate).Message);
        Assert.Contains("--channels", Assert.Throws<DataException>((o with { Resolution = 64, Channels = 2 }).Validate).Message);
    }

    private sealed class CallbackProgress(Action<ProgressInfo> action) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => action(value);
    }
}
