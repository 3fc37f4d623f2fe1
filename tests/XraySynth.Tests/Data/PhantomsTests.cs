using System.Security.Cryptography;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Data;

public class PhantomsTests
{
    [Fact]
    public void Generate_SameSeed_GivesIdenticalTree_OtherSeedDiffers()
    {
        using var tmp = new TempDir();
        var a = Hashes(tmp.Combine("a"), seed: 11);
        var b = Hashes(tmp.Combine("b"), seed: 11);
        var c = Hashes(tmp.Combine("c"), seed: 12);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    private static Dictionary<string, string> Hashes(string dir, int seed)
    {
        Phantoms.Generate(new PhantomOptions { OutDir = dir, Patients = 10, Seed = seed, MaxSide = 64, Parts = ["shoulder", "hand"] });
        return MuraFixture.Snapshot(dir).ToDictionary(kv => kv.Key, kv => Convert.ToHexString(SHA256.HashData(kv.Value)));
    }

    [Fact]
    public void Generate_WritesMuraShapedTreeThatTheCatalogueReads()
    {
        using var tmp = new TempDir();
        var summary = Phantoms.Generate(new PhantomOptions { OutDir = tmp.Path, Patients = 40, Seed = 2, MaxSide = 128, Parts = ["shoulder", "wrist"] });
        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder", "wrist"]);
        Assert.Empty(catalog.Problems);
        Assert.Equal("csv", catalog.Source);
        Assert.Equal(summary.Images, catalog.Images.Count);
        Assert.Equal(summary.ValidImages, catalog.Images.Count(i => i.Split == MuraSplit.Valid));
        Assert.Contains(catalog.Images, i => i.Part == "wrist");
        // Both labels in both splits, no patient in both splits, 1-4 views per study.
        foreach (var split in new[] { MuraSplit.Train, MuraSplit.Valid })
            Assert.Equal([0, 1], catalog.Images.Where(i => i.Split == split).Select(i => i.Label).Distinct().Order());
        Assert.Empty(catalog.Images.Where(i => i.Split == MuraSplit.Train).Select(i => i.Patient)
            .Intersect(catalog.Images.Where(i => i.Split == MuraSplit.Valid).Select(i => i.Patient)));
        Assert.All(catalog.Images.GroupBy(i => i.Study), g => Assert.InRange(g.Count(), 1, 4));
        // Sizes vary, the longest side stays within the limit, aspect ratios differ.
        var sizes = catalog.Images.Take(30).Select(i => ImageCodec.Decode(i.FullPath)).Select(img => (img.Width, img.Height)).ToList();
        Assert.All(sizes, s => Assert.InRange(Math.Max(s.Width, s.Height), 64, 128));
        Assert.True(sizes.Distinct().Count() > 10);
    }

    [Fact]
    public void Render_LabelIsNotGivenAwayByGlobalBrightness()
    {
        // The abnormality changes the picture, but neither the mean nor the brightest pixel separates the classes:
        // a classifier has to look at shapes (markers, casts and implants are all bright).
        var pos = Enumerable.Range(0, 120).Select(i => Phantoms.Render("shoulder", 1, new Random(i), 96)).ToList();
        var neg = Enumerable.Range(0, 120).Select(i => Phantoms.Render("shoulder", 0, new Random(10_000 + i), 96)).ToList();
        double meanAuc = Auroc(pos.Select(Mean), neg.Select(Mean));
        double maxAuc = Auroc(pos.Select(im => (double)im.Pixels.Max()), neg.Select(im => (double)im.Pixels.Max()));
        Assert.InRange(meanAuc, 0.25, 0.75);
        Assert.InRange(maxAuc, 0.25, 0.8);
    }

    private static double Mean(RasterImage im) => im.Pixels.Average(p => (double)p);

    /// <summary>AUROC by the Mann-Whitney statistic (ties count half).</summary>
    private static double Auroc(IEnumerable<double> positives, IEnumerable<double> negatives)
    {
        var p = positives.ToList();
        var n = negatives.ToList();
        double wins = p.Sum(a => n.Sum(b => a > b ? 1.0 : a == b ? 0.5 : 0.0));
        return wins / (p.Count * n.Count);
    }

    [Fact]
    public void Generate_CompleteTree_IsNotOverwritten()
    {
        using var tmp = new TempDir();
        var o = new PhantomOptions { OutDir = tmp.Path, Patients = 3, MaxSide = 48 };
        Phantoms.Generate(o);
        Assert.Contains("already holds", Assert.Throws<DataException>(() => Phantoms.Generate(o)).Message);
        Assert.Contains("--patients", Assert.Throws<DataException>(() => Phantoms.Generate(o with { OutDir = tmp.Combine("x"), Patients = 1 })).Message);
    }
}
