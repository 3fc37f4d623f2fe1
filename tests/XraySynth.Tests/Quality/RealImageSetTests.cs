using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Quality;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Quality;

public class RealImageSetTests
{
    [Fact]
    public void Open_Zip_ReadsLabelsAndPatientsFromItsSourcesCsv_FiltersByClass()
    {
        using var tmp = new TempDir();
        var (zip, train) = QualityFixture.TrainingZip(tmp.Path, 6);
        using var all = RealImageSet.Open(zip);
        Assert.Equal((6, 64, 1, "gan-64"), (all.Count, all.Resolution, all.Channels, all.Tag));
        Assert.Equal([0, 1, 0, 1, 0, 1], all.Images.Select(i => i.Label!.Value));
        Assert.Equal("patient00001", all.Images[3].Patient);
        Assert.Equal([0L, 0, 1, 1, 2, 2], all.PatientGroups());
        Assert.Equal(train[4].Pixels, all.Load(4).Pixels);
        using var positive = RealImageSet.Open(zip, "positive");
        Assert.Equal((3, "gan-64-positive"), (positive.Count, positive.Tag));
        Assert.NotEqual(all.ContentHash(), positive.ContentHash());
    }

    [Fact]
    public void Open_PreparedFolder_PicksTheZipOfTheResolution_OrAsks()
    {
        using var tmp = new TempDir();
        QualityFixture.TrainingZip(tmp.Path, 4, size: 64);
        QualityFixture.TrainingZip(tmp.Path, 4, size: 32);
        using var set = RealImageSet.Open(tmp.Path, preferResolution: 32);
        Assert.Equal((32, "gan-32"), (set.Resolution, set.Tag));
        Assert.Contains("several GAN zips", Assert.Throws<DataException>(() => RealImageSet.Open(tmp.Path)).Message);
        var empty = Directory.CreateDirectory(tmp.Combine("empty")).FullName;
        Assert.Contains("no GAN training zip", Assert.Throws<DataException>(() => RealImageSet.Open(empty)).Message);
        Assert.Contains("not found", Assert.Throws<DataException>(() => RealImageSet.Open(tmp.Combine("missing.zip"))).Message);
    }

    [Fact]
    public void Open_Manifest_BringsImagesToTheFirstImagesSize_HashFollowsContent()
    {
        using var tmp = new TempDir();
        var rows = new List<ManifestRow>();
        for (int i = 0; i < 4; i++)
        {
            var rel = $"images/train/p{i / 2}/image{i}.png";
            Directory.CreateDirectory(Path.GetDirectoryName(tmp.Combine(rel))!);
            // The second image is not square and smaller: it is padded and resized like 'prepare' does.
            var img = i == 1 ? RasterImage.Blank(20, 30, 1, 90) : QualityFixture.Phantom(i, i % 2, size: 40);
            ImageCodec.WritePng(tmp.Combine(rel), img);
            rows.Add(new ManifestRow(rel, $"patient{i / 2}", $"s{i}", "shoulder", i % 2));
        }
        var manifest = tmp.Combine("train.csv");
        Manifest.Write(manifest, rows);
        string hash;
        using (var set = RealImageSet.Open(manifest))
        {
            Assert.Equal((4, 40, "train"), (set.Count, set.Resolution, set.Tag));
            Assert.Equal((40, 40), (set.Load(1).Width, set.Load(1).Height));
            Assert.Equal([0L, 0, 1, 1], set.PatientGroups());
            hash = set.ContentHash();
            using var again = RealImageSet.Open(manifest);
            Assert.Equal(hash, again.ContentHash());
        }
        ImageCodec.WritePng(tmp.Combine(rows[3].Path), RasterImage.Blank(40, 40, 1, 7));
        using var changed = RealImageSet.Open(manifest);
        Assert.NotEqual(hash, changed.ContentHash());
    }
}
