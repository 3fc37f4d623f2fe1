using XraySynth.Data;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Data;

public class MuraSymlinkTests
{
    private const string P1 = "train/XR_SHOULDER/patient00001/study1_positive";

    [Fact]
    public void Load_FolderScan_LinksOutsideTheRootAreSkippedAndListed_NoImageCountedTwice()
    {
        using var tmp = new TempDir();
        var ds = tmp.Combine("MURA-v1.1");
        MuraFixture.Image(ds, $"{P1}/image1.png");
        MuraFixture.Image(tmp.Path, "elsewhere/secret.png");
        MuraFixture.Image(tmp.Path, "elsewhere/patient/study1_negative/image1.png");
        // A file link to outside, a folder link to outside, and a second name for patient00001 inside the root.
        File.CreateSymbolicLink(Path.Combine(ds, P1, "image2.png"), tmp.Combine("elsewhere", "secret.png"));
        Directory.CreateSymbolicLink(Path.Combine(ds, "train/XR_SHOULDER/patient00002"), tmp.Combine("elsewhere", "patient"));
        Directory.CreateSymbolicLink(Path.Combine(ds, "train/XR_SHOULDER/patient00003"), Path.Combine(ds, "train/XR_SHOULDER/patient00001"));

        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);

        Assert.Equal([$"{P1}/image1.png"], catalog.Images.Select(i => i.RelativePath));
        Assert.Contains(catalog.Problems, p => p.File.EndsWith("image2.png", StringComparison.Ordinal) && p.Problem.Contains("outside the dataset folder"));
        Assert.Contains(catalog.Problems, p => p.File.EndsWith("patient00002", StringComparison.Ordinal) && p.Problem.Contains("not followed"));
        Assert.Contains(catalog.Problems, p => p.File.EndsWith("patient00003", StringComparison.Ordinal) && p.Problem.Contains("not followed"));
    }

    [Fact]
    public void Load_CsvRowsThroughLinks_OutsideIsSkipped_ASecondNameForTheSameFileCountsOnce()
    {
        using var tmp = new TempDir();
        var ds = tmp.Combine("MURA-v1.1");
        MuraFixture.Image(ds, $"{P1}/image1.png");
        MuraFixture.Image(tmp.Path, "elsewhere/secret.png");
        File.CreateSymbolicLink(Path.Combine(ds, P1, "image2.png"), tmp.Combine("elsewhere", "secret.png"));
        Directory.CreateDirectory(Path.Combine(ds, "train/XR_SHOULDER/patient00009"));
        Directory.CreateSymbolicLink(Path.Combine(ds, "train/XR_SHOULDER/patient00009/study1_positive"), Path.Combine(ds, P1));
        MuraFixture.Lines(Path.Combine(ds, "train_image_paths.csv"), $"MURA-v1.1/{P1}/image1.png", $"MURA-v1.1/{P1}/image2.png",
            "MURA-v1.1/train/XR_SHOULDER/patient00009/study1_positive/image1.png");

        var catalog = MuraCatalog.Load(tmp.Path, ["shoulder"]);

        Assert.Equal([$"{P1}/image1.png"], catalog.Images.Select(i => i.RelativePath));
        Assert.Contains(catalog.Problems, p => p.File.EndsWith(":2", StringComparison.Ordinal) && p.Problem.Contains("outside the dataset folder"));
        Assert.Contains(catalog.Problems, p => p.File.EndsWith(":3", StringComparison.Ordinal) && p.Problem.Contains($"the same file as {P1}/image1.png"));
    }
}
