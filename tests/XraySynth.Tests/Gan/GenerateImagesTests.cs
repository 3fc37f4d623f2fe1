using XraySynth.Data;
using XraySynth.Gan.Generation;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class GenerateImagesTests
{
    private static string Snapshot(TempDir tmp, int cDim, int channels = 1, string name = "snap")
    {
        var cfg = NetworkPresets.Create("smoke", 16, channels, cDim);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        using var gEma = new Generator(cfg.G);
        var dir = tmp.Combine(name);
        GanSnapshot.Save(dir, g, d, gEma);
        return dir;
    }

    private static GenerateOptions Options(string network, string outDir, params long[] seeds) =>
        new() { Network = network, OutDir = outDir, Seeds = seeds, Device = DeviceChoice.Cpu, Batch = 3 };

    [Fact]
    public void Run_WritesOnePngPerSeedAndManifest_SameSeedSameImageWhateverTheBatch()
    {
        using var tmp = new TempDir();
        var snap = Snapshot(tmp, cDim: 2);
        var a = GenerateImages.Run(Options(snap, tmp.Combine("a"), 0, 1, 2, 3, 4) with { Class = "positive", Trunc = 0.7 });
        GenerateImages.Run(Options(snap, tmp.Combine("b"), 4, 2) with { Class = "positive", Trunc = 0.7, Batch = 1, Grid = tmp.Combine("grid.png") });
        var grid = ImageCodec.Decode(tmp.Combine("grid.png"));
        Assert.Equal((32, 16), (grid.Width, grid.Height));   // 2 images, 2 columns of 16 px
        Assert.Equal(5, a.Written);
        var rows = SyntheticManifest.Read(tmp.Combine("a"));
        Assert.Equal(["seed000000.png", "seed000001.png", "seed000002.png", "seed000003.png", "seed000004.png"], rows.Select(r => r.File));
        Assert.All(rows, r => Assert.Equal(("positive", 0.7), (r.Class, r.Trunc)));
        var img = ImageCodec.Decode(tmp.Combine("a", "seed000004.png"));
        Assert.Equal((16, 16, 1), (img.Width, img.Height, img.Channels));
        Assert.Equal(File.ReadAllBytes(tmp.Combine("a", "seed000004.png")), File.ReadAllBytes(tmp.Combine("b", "seed000004.png")));
        Assert.NotEqual(File.ReadAllBytes(tmp.Combine("a", "seed000003.png")), File.ReadAllBytes(tmp.Combine("a", "seed000004.png")));
        // The classifier can read the folder.
        Assert.Equal(5, XraySynth.Classifier.Data.ClassifierSamples.FromGenerated(tmp.Combine("a")).Count(s => s.Label == 1));
    }

    [Fact]
    public void Run_Rerun_KeepsExistingImages_OtherSettingsAreRefused()
    {
        using var tmp = new TempDir();
        var snap = Snapshot(tmp, cDim: 0, channels: 3);
        var outDir = tmp.Combine("out");
        GenerateImages.Run(Options(snap, outDir, 0, 1));
        var again = GenerateImages.Run(Options(snap, outDir, 0, 1, 2));
        Assert.Equal((1, 2), (again.Written, again.Kept));
        Assert.Equal(3, ImageCodec.Decode(Path.Combine(outDir, "seed000002.png"), channels: 3).Channels);
        Assert.Contains("other settings", Assert.Throws<DataException>(() => GenerateImages.Run(Options(snap, outDir, 0) with { Trunc = 0.5 })).Message);
    }

    [Fact]
    public void Run_Sharpen_ChangesTheImages()
    {
        using var tmp = new TempDir();
        var snap = Snapshot(tmp, cDim: 0);
        GenerateImages.Run(Options(snap, tmp.Combine("plain"), 7));
        GenerateImages.Run(Options(snap, tmp.Combine("sharp"), 7) with { Sharpen = 2 });
        var plain = ImageCodec.Decode(tmp.Combine("plain", "seed000007.png"));
        var sharp = ImageCodec.Decode(tmp.Combine("sharp", "seed000007.png"));
        Assert.Equal(Sharpen.UnsharpMask(plain, 2).Pixels, sharp.Pixels);
        Assert.NotEqual(plain.Pixels, sharp.Pixels);
    }

    [Fact]
    public void Run_ClassTheModelDoesNotHave_IsAClearError()
    {
        using var tmp = new TempDir();
        var cond = Snapshot(tmp, cDim: 2, name: "cond");
        var uncond = Snapshot(tmp, cDim: 0, name: "uncond");
        Assert.Contains("--class positive or --class negative", Assert.Throws<DataException>(() => GenerateImages.Run(Options(cond, tmp.Combine("o1"), 0))).Message);
        Assert.Contains("has no class 'negative'", Assert.Throws<DataException>(() => GenerateImages.Run(Options(uncond, tmp.Combine("o2"), 0) with { Class = "negative" })).Message);
        Assert.Contains("expected positive or negative", Assert.Throws<DataException>(() => GenerateImages.Run(Options(cond, tmp.Combine("o3"), 0) with { Class = "abnormal" })).Message);
    }

    [Fact]
    public void Run_MissingOrCorruptSnapshot_NamesIt()
    {
        using var tmp = new TempDir();
        Assert.Throws<SnapshotException>(() => GenerateImages.Run(Options(tmp.Combine("nothing"), tmp.Combine("o"), 0)));
        var snap = Snapshot(tmp, cDim: 0);
        var file = Directory.GetFiles(snap, "G_ema*").Single();
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..100]);
        var e = Assert.Throws<SnapshotException>(() => GenerateImages.Run(Options(snap, tmp.Combine("o"), 0)));
        Assert.Contains("G_ema", e.Message);
        Assert.False(File.Exists(tmp.Combine("o", SyntheticManifest.FileName)));
    }

    [Theory]
    [InlineData("0-3", new long[] { 0, 1, 2, 3 })]
    [InlineData("5,1, 10-11", new long[] { 5, 1, 10, 11 })]
    public void ParseSeeds_RangesAndLists(string text, long[] expected) =>
        Assert.Equal(expected, XraySynth.Cli.Commands.GanCommand.ParseSeeds(null, text));

    [Fact]
    public void ParseSeeds_CountOrSeedsNotBoth()
    {
        Assert.Equal([0L, 1, 2], XraySynth.Cli.Commands.GanCommand.ParseSeeds(3, null));
        Assert.Throws<DataException>(() => XraySynth.Cli.Commands.GanCommand.ParseSeeds(3, "1"));
        Assert.Throws<DataException>(() => XraySynth.Cli.Commands.GanCommand.ParseSeeds(null, "3-1"));
        Assert.Throws<DataException>(() => XraySynth.Cli.Commands.GanCommand.ParseSeeds(null, "-4"));
    }
}
