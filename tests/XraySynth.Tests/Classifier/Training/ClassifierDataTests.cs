using TorchSharp;
using XraySynth.Classifier.Data;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Classifier.Training;

public class ClassifierDataTests
{
    private static string Generated(TempDir tmp, string name, int normal, int abnormal, int size = 20)
    {
        var dir = tmp.Combine(name);
        Directory.CreateDirectory(dir);
        var rows = new List<SyntheticRow>();
        for (int i = 0; i < normal + abnormal; i++)
        {
            var file = $"seed{i:D4}.png";
            ImageCodec.WritePng(Path.Combine(dir, file), RasterImage.Blank(size, size, 1, (byte)(i * 7)));
            rows.Add(new SyntheticRow(file, i, i < normal ? "negative" : "positive", 0.7));
        }
        SyntheticManifest.Write(Path.Combine(dir, SyntheticManifest.FileName), rows);
        return dir;
    }

    [Fact]
    public void FromGenerated_ReadsClassesAndMarksSynthetic()
    {
        using var tmp = new TempDir();
        var samples = ClassifierSamples.FromGenerated(Generated(tmp, "gen", 3, 2));
        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.True(s.Synthetic));
        Assert.Equal(2, samples.Count(s => s.Label == 1));
        Assert.Equal(5, samples.Select(s => s.Study).Distinct().Count());
    }

    [Fact]
    public void Select_PerClassAndCount_DrawWithoutReplacementDeterministically()
    {
        using var tmp = new TempDir();
        var all = ClassifierSamples.FromGenerated(Generated(tmp, "gen", 6, 6));
        var perClass = ClassifierSamples.Select(all, count: null, perClass: 4, seed: 1);
        Assert.Equal(4, perClass.Count(s => s.Label == 0));
        Assert.Equal(4, perClass.Count(s => s.Label == 1));
        Assert.Equal(8, perClass.Select(s => s.Path).Distinct().Count());
        Assert.Equal(perClass, ClassifierSamples.Select(all, null, 4, seed: 1));
        Assert.Equal(5, ClassifierSamples.Select(all, 5, null, 2).Count);
        Assert.Contains("only 6 exist", Assert.Throws<DataException>(() => ClassifierSamples.Select(all, null, 7, 1)).Message);
    }

    [Fact]
    public void SyntheticManifest_MalformedRowOrMissingFile_IsAClearError()
    {
        using var tmp = new TempDir();
        Assert.Contains("not found", Assert.Throws<DataException>(() => SyntheticManifest.Read(tmp.Path)).Message);
        File.WriteAllText(tmp.Combine(SyntheticManifest.FileName), "file,seed,class,trunc\n../escape.png,1,positive,0.7\n");
        Assert.Contains(":2", Assert.Throws<DataException>(() => SyntheticManifest.Read(tmp.Path)).Message);
        File.WriteAllText(tmp.Combine(SyntheticManifest.FileName), "file,seed,class,trunc\na.png,1,maybe,0.7\n");
        Assert.Contains("malformed", Assert.Throws<DataException>(() => SyntheticManifest.Read(tmp.Path)).Message);
    }

    [Fact]
    public void ImageBank_DecodesResizesAndSkipsBadImages()
    {
        using var tmp = new TempDir();
        var dir = Generated(tmp, "gen", 2, 2, size: 40);
        var samples = ClassifierSamples.FromGenerated(dir);
        File.WriteAllBytes(samples[1].Path, [1, 2, 3]);
        using var bank = ImageBank.Load(samples, 16);
        Assert.Equal(3, bank.Count);
        Assert.Equal(new long[] { 3, 1, 16, 16 }, bank.Images.shape);
        Assert.Equal(ScalarType.Byte, bank.Images.dtype);
        Assert.Equal(samples[1].Path, Assert.Single(bank.Skipped).File);
        Assert.Equal(new[] { 0f, 1f, 1f }, bank.Labels.data<float>().ToArray());
        Assert.Equal(14, bank.Images[1].max().item<byte>());   // the third image (value 2·7) moved up
        Assert.Throws<DataException>(() => ImageBank.Load(samples, 16, strict: true));
    }

    [Fact]
    public void Augment_KeepsShapeAndRange_AndFollowsTheGenerator()
    {
        using var scope = NewDisposeScope();
        var x = rand([4, 1, 32, 32]);
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        var a = ClassifierAugment.Augment(x, g1);
        var b = ClassifierAugment.Augment(x, g2);
        Assert.Equal(x.shape, a.shape);
        Assert.True(a.allclose(b));
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1.0001f);
        Assert.False(a.allclose(x));
    }

    [Fact]
    public void Augment_RotatesAndFlipsAboutTheCentre()
    {
        // A centred bright disc stays centred under flip, rotation and small scale; the shift is at most 5%.
        using var scope = NewDisposeScope();
        var yy = arange(64).view(64, 1).expand(64, 64).to(ScalarType.Float32);
        var xx = arange(64).view(1, 64).expand(64, 64).to(ScalarType.Float32);
        var disc = ((yy - 31.5f).pow(2) + (xx - 31.5f).pow(2) < 100).to(ScalarType.Float32).view(1, 1, 64, 64).expand(8, 1, 64, 64).contiguous();
        using var g = new Generator(3);
        var a = ClassifierAugment.Augment(disc, g);
        var mass = a.sum([2, 3]);
        var cy = (a * yy).sum([2, 3]) / mass;
        var cx = (a * xx).sum([2, 3]) / mass;
        Assert.True(((cy - 31.5f).abs() < 64 * 0.05 + 1).all().item<bool>());
        Assert.True(((cx - 31.5f).abs() < 64 * 0.05 + 1).all().item<bool>());
    }

    [Fact]
    public void Normalize_RepeatsGreyAndAppliesImageNetStatistics()
    {
        using var scope = NewDisposeScope();
        var x = full([2, 1, 4, 4], 0.485f);
        var n = ClassifierAugment.Normalize(x);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, n.shape);
        Assert.Equal(0f, n[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal((0.485f - 0.456f) / 0.224f, n[1, 1, 2, 2].item<float>(), 5);
    }
}
