using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Tests.Runtime;

public class EnumNamesTests
{
    [Fact]
    public void Of_WritesKebabCase()
    {
        Assert.Equal("weighted-bce", EnumNames.Of(ClassifierLoss.WeightedBce));
        Assert.Equal("predicted-positive-rate", EnumNames.Of(Metric.PredictedPositiveRate));
        Assert.Equal("f1", EnumNames.Of(Metric.F1));
        Assert.Equal(["weighted-bce", "bce", "focal"], EnumNames.All<ClassifierLoss>());
        Assert.Equal("weighted-bce, bce or focal", EnumNames.Choices<ClassifierLoss>());
    }

    [Theory]
    [InlineData("weighted-bce")]
    [InlineData("WeightedBce")]
    [InlineData("WEIGHTED-BCE")]
    [InlineData(" weightedbce ")]
    public void TryParse_IsLenientInCaseAndHyphens(string text)
    {
        Assert.True(EnumNames.TryParse<ClassifierLoss>(text, out var loss));
        Assert.Equal(ClassifierLoss.WeightedBce, loss);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("bce,focal")]
    [InlineData("natural,balanced")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("weighted")]
    public void TryParse_RefusesNumbersCombinationsAndUnknownNames(string? text)
    {
        Assert.False(EnumNames.TryParse<ClassifierSampler>(text, out _));
        Assert.False(EnumNames.TryParse<ClassifierLoss>(text, out _));
    }

    [Fact]
    public void Parse_UnknownName_NamesWhatAndTheChoices()
    {
        var e = Assert.Throws<DataException>(() => EnumNames.Parse<ClassifierLoss>("hinge", "--loss"));
        Assert.Equal("--loss 'hinge': expected one of weighted-bce, bce, focal.", e.Message);
    }

    private sealed record Holder(ClassifierLoss Loss, DeviceChoice? Device, IReadOnlyDictionary<Metric, int> ByMetric);

    [Fact]
    public void Json_WritesKebabCaseAndReadsWhatEnumNamesReads()
    {
        var json = Json.Serialize(new Holder(ClassifierLoss.WeightedBce, DeviceChoice.Cuda, new Dictionary<Metric, int> { [Metric.AveragePrecision] = 1 }));
        Assert.Contains("\"loss\": \"weighted-bce\"", json);
        Assert.Contains("\"device\": \"cuda\"", json);
        Assert.Contains("\"average-precision\": 1", json);
        Assert.Equal(ClassifierLoss.WeightedBce, Json.Deserialize<Holder>(json)!.Loss);
        Assert.Equal(ClassifierLoss.Focal, Json.Deserialize<Holder>("""{"loss": "Focal", "device": null, "byMetric": {}}""")!.Loss);
        Assert.Null(Json.Deserialize<Holder>("""{"loss": "bce", "device": null, "byMetric": {}}""")!.Device);
        Assert.Throws<System.Text.Json.JsonException>(() => Json.Deserialize<Holder>("""{"loss": 1, "device": null, "byMetric": {}}"""));
        Assert.Throws<System.Text.Json.JsonException>(() => Json.Deserialize<Holder>("""{"loss": "hinge", "device": null, "byMetric": {}}"""));
    }
}
