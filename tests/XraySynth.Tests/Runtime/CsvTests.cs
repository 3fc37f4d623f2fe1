using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Runtime;

/// <summary>The one CSV layer: RFC 4180 quoting both ways; a broken quote is a named error, never a parser crash.</summary>
public class CsvTests
{
    [Fact]
    public void WriteThenRead_KeepsCommasQuotesLineBreaksSpacesAndNonAscii()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("t.csv");
        string[] awkward = ["a,b", "say \"hi\"", "two\nlines", " padded ", "ünïcödé/路径.png", "", "plain"];
        Csv.Write(path, ["name", "n"], awkward.Select((a, i) => new object?[] { a, i + 0.5 }));
        Assert.StartsWith("name,n\n\"a,b\",0.5\n\"say \"\"hi\"\"\",1.5\n", File.ReadAllText(path));   // RFC 4180, invariant decimals
        Assert.NotEqual(0xEF, File.ReadAllBytes(path)[0]);   // no byte-order mark
        using var csv = Csv.Open(path);
        Assert.True(Csv.ReadHeader(csv, ["name", "n"]));
        var back = new List<string>();
        while (csv.Read()) back.Add(csv.GetField("name")!);
        Assert.Equal(awkward, back);
    }

    [Fact]
    public void StrayQuote_IsADataExceptionNamingFileAndLine()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("manifest.csv");
        File.WriteAllText(path, "path,patient,study,part,label\nimages/a.png,patient1,s1,shoulder,1\nimages/b\"c.png,patient2,s2,shoulder,0\n");
        var e = Assert.Throws<DataException>(() => Manifest.Read(path));
        Assert.Contains(path + ":3: malformed CSV field", e.Message);
        Assert.Contains("fix:", e.Message);
    }

    [Fact]
    public void ManifestWithCommaInPath_RoundTrips()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("m.csv");
        var row = new ManifestRow("images/p, \"q\" ü/image1.png", "patient00001", "train/XR_SHOULDER/patient00001/study1, x_positive", "shoulder", 1);
        Manifest.Write(path, [row]);
        Assert.Equal(row, Assert.Single(Manifest.Read(path)));
    }
}
