using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Data;

public class DatasetZipReaderTests
{
    private static string Write(TempDir tmp, byte[] zip, string name = "gan.zip")
    {
        var path = tmp.Combine(name);
        File.WriteAllBytes(path, zip);
        return path;
    }

    [Fact]
    public void ValidZip_ReadsEveryImageAndLabel()
    {
        using var tmp = new TempDir();
        using var reader = new DatasetZipReader(Write(tmp, ZipFixtures.Dataset(3)));
        Assert.Equal(3, reader.ImageNames.Count);
        Assert.Equal(1, reader.Labels!.ByName["00000/img00000001.png"]);
        Assert.Equal(0x89, reader.ReadEntry(reader.ImageNames[2])[0]);
    }

    [Theory]
    [InlineData(0x80000000u)]   // 2 GiB: (int) of it is negative, today an ArgumentOutOfRangeException
    [InlineData(0x40000000u)]   // 1 GiB: today a 1 GiB buffer before a byte is read
    public void EntryDeclaringHugeSize_IsRefusedWithoutAllocating(uint declared)
    {
        using var tmp = new TempDir();
        var bytes = ZipFixtures.Dataset(2);
        ZipFixtures.PatchSizes(bytes, "00000/img00000001.png", declared);
        var path = Write(tmp, bytes);
        using var reader = new DatasetZipReader(path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataException>(() => reader.ReadEntry("00000/img00000001.png"));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4 << 20);
        Assert.Contains(path, e.Message);
        Assert.Contains("00000/img00000001.png", e.Message);
        Assert.Contains($"declares {declared} bytes", e.Message);
    }

    [Fact]
    public void EntryDeclaringMoreThanItHolds_IsTruncatedNotPadded()
    {
        using var tmp = new TempDir();
        var bytes = ZipFixtures.Dataset(2);
        ZipFixtures.PatchSizes(bytes, "00000/img00000000.png", 300_000_000u);
        using var reader = new DatasetZipReader(Write(tmp, bytes));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataException>(() => reader.ReadEntry("00000/img00000000.png"));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4 << 20);
        Assert.Contains("00000/img00000000.png", e.Message);
    }

    [Fact]
    public void DeflatedEntryExpandingPastItsDeclaredSize_IsNeverInflatedPastIt()
    {
        // A deflate stream of 32 MB of zeros whose headers claim 100 bytes: at most 100 bytes come out, nothing near 32 MB
        // is allocated (the bytes are either cut at the declared size or refused).
        using var tmp = new TempDir();
        var bytes = ZipFixtures.Build([("00000/img00000000.png", new byte[32 << 20])], deflate: true);
        ZipFixtures.PatchSizes(bytes, "00000/img00000000.png", 100);
        using var reader = new DatasetZipReader(Write(tmp, bytes));
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            Assert.Equal(100, reader.ReadEntry("00000/img00000000.png").Length);
        }
        catch (DataException e)
        {
            Assert.Contains("00000/img00000000.png", e.Message);
        }
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4 << 20);
    }

    [Theory]
    [InlineData("../evil.png", "'..'")]
    [InlineData("00000/../../evil.png", "'..'")]
    [InlineData("/etc/evil.png", "absolute")]
    [InlineData("00000\\..\\evil.png", "backslash")]
    [InlineData("C:/evil.png", "drive letter")]
    [InlineData("00000/./img.png", "'.'")]
    public void EntryNameReachingOutside_IsAnErrorNamingZipAndEntry(string name, string reason)
    {
        using var tmp = new TempDir();
        var path = Write(tmp, ZipFixtures.Build([("00000/img00000000.png", PngFixtures.Grey8(4, 4, (x, y) => 1)), (name, [1, 2, 3])]));
        var e = Assert.Throws<DataException>(() => new DatasetZipReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(name, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void DuplicateEntryName_IsAnError()
    {
        using var tmp = new TempDir();
        var png = PngFixtures.Grey8(4, 4, (x, y) => 1);
        var path = Write(tmp, ZipFixtures.Build([("00000/img00000000.png", png), ("00000/img00000000.png", png)]));
        var e = Assert.Throws<DataException>(() => new DatasetZipReader(path));
        Assert.Contains("appears twice", e.Message);
        Assert.Contains("00000/img00000000.png", e.Message);
    }

    [Fact]
    public void DatasetJsonDeclaringHugeSize_IsRefused()
    {
        using var tmp = new TempDir();
        var bytes = ZipFixtures.Dataset(1);
        ZipFixtures.PatchSizes(bytes, "dataset.json", 0xF0000000u);
        var e = Assert.Throws<DataException>(() => new DatasetZipReader(Write(tmp, bytes)));
        Assert.Contains("dataset.json", e.Message);
    }
}
