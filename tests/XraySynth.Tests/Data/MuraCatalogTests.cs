using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Data;

public class MuraCatalogTests
{
    private const string P1 = "train/XR_SHOULDER/patient00001/study1_positive";
    private const string P2 = "train/XR_SHOULDER/patient00002/study1_negative";
    private const string V1 = "valid/XR_SHOULDER/patient11185/study1_negative";

    private static string Tree(TempDir tmp)
    {
        var ds = tmp.Combine("MURA-v1.1");
        MuraFixture.Image(ds, $"{P1}/image1.png");
        MuraFixture.Image(ds, $"{P1}/image2.png");
        MuraFixture.Image(ds, $"{P2}/image1.png");
        MuraFixture.Image(ds, $"{V1}/image1.png");
        MuraFixture.Image(ds, "train/XR_ELBOW/patient00003/study1_positive/image1.png");
        return ds;
    }

    [Fact]
    public void Load_HeaderlessCsvsWithTrailingSlash_GivesImagesLabelsPatientsAndStudies()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        MuraFixture.Lines(Path.Combine(ds, "train_image_paths.csv"),
            $"MURA-v1.1/{P1}/image1.png", $"MURA-v1.1/{P1}/image2.png", $"MURA-v1.1/{P2}/image1.png", "MURA-v1.1/train/XR_ELBOW/patient00003/study1_positive/image1.png");
        MuraFixture.Lines(Path.Combine(ds, "train_labeled_studies.csv"), $"MURA-v1.1/{P1}/,1", $"MURA-v1.1/{P2}/,0");
        MuraFixture.Lines(Path.Combine(ds, "valid_image_paths.csv"), $"MURA-v1.1/{V1}/image1.png");
        MuraFixture.Lines(Path.Combine(ds, "valid_labeled_studies.csv"), $"MURA-v1.1/{V1}/,0");

        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);

        Assert.Equal("csv", catalog.Source);
        Assert.Empty(catalog.Problems);
        Assert.Equal(4, catalog.Images.Count);   // the elbow is filtered out by part
        var first = catalog.Images.Single(i => i.RelativePath == $"{P1}/image2.png");
        Assert.Equal((MuraSplit.Train, "shoulder", "patient00001", P1, 1), (first.Split, first.Part, first.Patient, first.Study, first.Label));
        Assert.Equal(Path.Combine(ds, P1, "image2.png"), first.FullPath);
        Assert.Equal(0, catalog.Images.Single(i => i.Patient == "patient11185").Label);
        Assert.Equal(MuraSplit.Valid, catalog.Images.Single(i => i.Patient == "patient11185").Split);
    }

    [Fact]
    public void Load_RootMayBeTheDatasetFolderItself()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        var catalog = MuraCatalog.Load(ds, ["shoulder", "elbow"]);
        Assert.Equal("folders", catalog.Source);
        Assert.Equal(5, catalog.Images.Count);
    }

    [Fact]
    public void Load_WithoutCsvs_ScansFoldersAndIgnoresHiddenFiles()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        File.WriteAllText(Path.Combine(ds, P1, "._image1.png"), "macOS resource fork");
        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);
        Assert.Equal("folders", catalog.Source);
        Assert.Equal(4, catalog.Images.Count);
        Assert.DoesNotContain(catalog.Images, i => i.RelativePath.Contains("._"));
    }

    [Fact]
    public void Load_PathEscapingRoot_IsSkippedNamingCsvAndLine()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        File.WriteAllText(tmp.Combine("secret.png"), "outside");
        MuraFixture.Lines(Path.Combine(ds, "train_image_paths.csv"),
            $"MURA-v1.1/{P1}/image1.png", "MURA-v1.1/train/../../secret.png", "/etc/passwd");
        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);
        var escape = Assert.Single(catalog.Problems, p => p.File.EndsWith("train_image_paths.csv:2"));
        Assert.Contains("escapes the dataset root", escape.Problem);
        Assert.Contains(catalog.Problems, p => p.File.EndsWith("train_image_paths.csv:3") && p.Problem.Contains("absolute path"));
        Assert.Single(catalog.Images, i => i.Split == MuraSplit.Train);
    }

    [Fact]
    public void Load_MalformedRows_AreSkippedWithReasons()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        MuraFixture.Lines(Path.Combine(ds, "train_image_paths.csv"),
            $"MURA-v1.1/{P1}/image1.png,extra",
            "MURA-v1.1/train/XR_SHOULDER/patient00001/study1/image1.png",
            "MURA-v1.1/train/XR_KNEE/patient00001/study1_positive/image1.png",
            "MURA-v1.1/train/XR_SHOULDER/bob/study1_positive/image1.png",
            "",
            $"MURA-v1.1/{P2}/image1.png");
        MuraFixture.Lines(Path.Combine(ds, "train_labeled_studies.csv"), $"MURA-v1.1/{P2}/,maybe", $"MURA-v1.1/{P1}/");
        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);
        Assert.Contains(catalog.Problems, p => p.File.EndsWith(":1") && p.Problem.Contains("one column"));
        Assert.Contains(catalog.Problems, p => p.Problem.Contains("_positive or _negative"));
        Assert.Contains(catalog.Problems, p => p.Problem.Contains("XR_KNEE"));
        Assert.Contains(catalog.Problems, p => p.Problem.Contains("'bob'"));
        Assert.Equal(2, catalog.Problems.Count(p => p.File.Contains("train_labeled_studies.csv")));
        Assert.Equal($"{P2}/image1.png", Assert.Single(catalog.Images, i => i.Split == MuraSplit.Train).RelativePath);
    }

    [Fact]
    public void Load_CsvLabelContradictingFolder_IsSkipped()
    {
        using var tmp = new TempDir();
        var ds = Tree(tmp);
        MuraFixture.Lines(Path.Combine(ds, "train_labeled_studies.csv"), $"MURA-v1.1/{P1}/,0", $"MURA-v1.1/{P2}/,0");
        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);
        Assert.Equal(2, catalog.Problems.Count(p => p.Problem.Contains("disagrees")));
        Assert.DoesNotContain(catalog.Images, i => i.Study == P1);
    }

    [Fact]
    public void Load_MissingRootOrUnknownPart_ThrowsWithFix()
    {
        var e = Assert.Throws<DataException>(() => MuraCatalog.Load("/nonexistent/mura", ["shoulder"]));
        Assert.Contains("/nonexistent/mura", e.Message);
        Assert.Contains("fix:", e.Message);
        using var tmp = new TempDir();
        Tree(tmp);
        Assert.Contains("knee", Assert.Throws<DataException>(() => MuraCatalog.Load(tmp.Path, ["knee"])).Message);
        Assert.Contains("no MURA dataset", Assert.Throws<DataException>(() => MuraCatalog.Load(tmp.Combine("MURA-v1.1", "train"), ["shoulder"])).Message);
    }

    [Theory]
    [InlineData("study1_positive", 1)]
    [InlineData("study12_negative", 0)]
    [InlineData("study1", null)]
    [InlineData("positive", null)]
    public void StudyLabel_ParsesFolderSuffix(string folder, int? expected) => Assert.Equal(expected, MuraPaths.StudyLabel(folder));
}
