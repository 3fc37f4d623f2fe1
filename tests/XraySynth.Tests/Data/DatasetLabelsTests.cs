using System.IO.Compression;
using System.Text.Json.Nodes;
using XraySynth.Data;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Gan.Training;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Data;

/// <summary>dataset.json labels: the official forms are read, everything else is a named error before training.</summary>
public class DatasetLabelsTests
{
    private static readonly string[] Names = ["00000/img00000000.png", "00000/img00000001.png", "00000/img00000002.png", "00000/img00000003.png"];

    private static DatasetLabels? Parse(string labelsJson, IReadOnlyList<string>? names = null) =>
        DatasetLabels.Parse(JsonNode.Parse($$"""{"labels": {{labelsJson}}}"""), names ?? Names, "d.zip");

    private static string Pairs(params string[] labels) =>
        "[" + string.Join(",", labels.Select((l, i) => $"[\"{Names[i]}\", {l}]")) + "]";

    [Fact]
    public void Parse_ClassIndices_GiveClassCountMaxPlusOne()
    {
        var l = Parse(Pairs("0", "1", "2", "1.0"))!;
        Assert.Equal(3, l.ClassCount);
        Assert.Equal([0, 1, 2, 1], Names.Select(n => l.ByName[n]));
        Assert.Empty(l.Warnings);
        Assert.Empty(l.Unlabelled);
    }

    [Fact]
    public void Parse_OneHotVectors_AreTheOfficialFloatForm()
    {
        var l = Parse(Pairs("[1.0, 0.0, 0.0]", "[0, 1, 0]", "[0, 0, 1]", "[1, 0, 0]"))!;
        Assert.Equal(3, l.ClassCount);
        Assert.Equal([0, 1, 2, 0], Names.Select(n => l.ByName[n]));
    }

    [Fact]
    public void Parse_NoLabels_IsUnconditional()
    {
        Assert.Null(DatasetLabels.Parse(JsonNode.Parse("""{"labels": null}"""), Names, "d.zip"));
        Assert.Null(DatasetLabels.Parse(JsonNode.Parse("""{}"""), Names, "d.zip"));
    }

    [Theory]
    [InlineData("\"abnormal\"", "a label must be a class index")]
    [InlineData("0.5", "a label must be a class index")]
    [InlineData("-1", "a label must be a class index")]
    [InlineData("true", "a label must be a class index")]
    [InlineData("[0.5, 0.5]", "must be one-hot")]
    [InlineData("[1, 1]", "must be one-hot")]
    [InlineData("[\"1\", 0]", "must be one-hot")]
    [InlineData("1000000", "declares 1000001 classes; at most 1000")]
    [InlineData("7", "declares 8 classes for 4 labelled images")]
    public void Parse_BadLabel_IsANamedErrorWithTheFile(string bad, string expected)
    {
        var e = Assert.Throws<DataException>(() => Parse(Pairs("0", bad, "1", "0")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("d.zip: dataset.json", e.Message);
        Assert.Contains("fix:", e.Message);
        if (!expected.StartsWith("declares", StringComparison.Ordinal)) Assert.Contains(Names[1], e.Message);
    }

    [Theory]
    [InlineData("{\"a\": 1}", "must be a list of [name, label] pairs")]
    [InlineData("[[\"x.png\"]]", "must be [name, label] pairs")]
    [InlineData("[[3, 1]]", "must be [name, label] pairs")]
    public void Parse_BadStructure_IsANamedError(string labels, string expected) =>
        Assert.Contains(expected, Assert.Throws<DataException>(() => Parse(labels)).Message);

    [Fact]
    public void Parse_MixedFormsVectorLengthsOrTwoLabelsForOneFile_AreErrors()
    {
        Assert.Contains("mixes class indices and vectors", Assert.Throws<DataException>(() => Parse(Pairs("0", "[0, 1]", "1", "0"))).Message);
        Assert.Contains("has 3 entries, earlier ones have 2", Assert.Throws<DataException>(() => Parse(Pairs("[1, 0]", "[0, 1, 0]"))).Message);
        var twice = $"[[\"{Names[0]}\", 0], [\"{Names[0]}\", 1], [\"{Names[1]}\", 1]]";
        Assert.Contains($"gives {Names[0]} two labels (0 and 1)", Assert.Throws<DataException>(() => Parse(twice)).Message);
    }

    [Fact]
    public void Parse_LabelsForAbsentFilesAndEmptyClasses_AreWarnings()
    {
        // Labels 0 and 2 only (class 1 empty), plus a label for a file the zip does not hold.
        var json = $"[[\"{Names[0]}\", 0], [\"{Names[1]}\", 2], [\"{Names[2]}\", 0], [\"{Names[3]}\", 2], [\"gone/x.png\", 0]]";
        var l = Parse(json)!;
        Assert.Equal(3, l.ClassCount);
        Assert.Equal(2, l.Warnings.Count);
        Assert.Contains("labels 1 file(s) the zip does not hold (first: gone/x.png)", l.Warnings[0]);
        Assert.Contains("class(es) 1 of 0..2 have no image", l.Warnings[1]);
        Assert.False(l.ByName.ContainsKey("gone/x.png"));
    }

    [Fact]
    public void Parse_ImagesWithoutLabels_AreListed()
    {
        var l = Parse($"[[\"{Names[0]}\", 0], [\"{Names[1]}\", 1], [\"{Names[2]}\", null]]")!;
        Assert.Equal([Names[2], Names[3]], l.Unlabelled);
    }

    /// <summary>Replaces the zip's dataset.json.</summary>
    private static void SetDatasetJson(string zip, string json)
    {
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Update);
        archive.GetEntry("dataset.json")!.Delete();
        using var s = archive.CreateEntry("dataset.json").Open();
        s.Write(System.Text.Encoding.UTF8.GetBytes(json));
    }

    [Fact]
    public void TrainingSet_HugeOrStringLabel_IsRefusedBeforeDecoding()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 4, size: 8);
        SetDatasetJson(zip, $"{{\"labels\": {Pairs("0", "1000000", "1", "0")}}}");
        var e = Assert.Throws<DataException>(() => TrainingSet.Load(zip, cond: true, label: null, mirror: false, CPU));
        Assert.Contains("declares 1000001 classes", e.Message);
        SetDatasetJson(zip, $"{{\"labels\": {Pairs("0", "\"abnormal\"", "1", "0")}}}");
        e = Assert.Throws<DataException>(() => TrainingSet.Load(zip, cond: false, label: null, mirror: false, CPU));
        Assert.Contains("a label must be a class index", e.Message);
    }

    [Fact]
    public void TrainingSet_OneHotLabelsAndEmptyClass_TrainWithTheDeclaredCDimAndAWarning()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 4, size: 8);
        SetDatasetJson(zip, $"{{\"labels\": {Pairs("[1, 0, 0]", "[0, 0, 1]", "[1, 0, 0]", "[0, 0, 1]")}}}");
        using var set = TrainingSet.Load(zip, cond: true, label: null, mirror: false, CPU);
        Assert.Equal(3, set.CDim);
        Assert.Contains(set.Warnings, w => w.Contains("class(es) 1 of 0..2 have no image"));
        using var scope = NewDisposeScope();
        Assert.Equal(new float[] { 0, 0, 1 }, set.LabelsOf([1])!.data<float>().ToArray());
    }

    [Fact]
    public void TrainingSet_ImageWithoutLabel_IsRefusedWhenLabelsAreNeeded()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 4, size: 8);
        SetDatasetJson(zip, $"{{\"labels\": [[\"{Names[0]}\", 0], [\"{Names[1]}\", 1]]}}");
        var e = Assert.Throws<DataException>(() => TrainingSet.Load(zip, cond: true, label: null, mirror: false, CPU));
        Assert.Contains("no label for 2 image(s) (first: 00000/img00000002.png)", e.Message);
        using var unconditional = TrainingSet.Load(zip, cond: false, label: null, mirror: false, CPU);
        Assert.Equal(4, unconditional.Count);
    }
}
