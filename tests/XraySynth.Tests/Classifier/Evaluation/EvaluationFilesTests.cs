using System.Text.Json;
using XraySynth.Classifier.Evaluation;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Classifier.Evaluation;

public class EvaluationFilesTests
{
    [Fact]
    public void EvaluationReport_HoldsPointEstimatesOfBothLevels()
    {
        var images = SyntheticPredictions.Make(60, seed: 2);
        var report = EvaluationReport.Compute(images, new EvaluationOptions(Bootstrap: new BootstrapOptions(Replicates: 50, Seed: 9)));
        var image = BinaryMetrics.Compute(images);
        var study = BinaryMetrics.Compute(StudyAggregation.Aggregate(images));
        Assert.Equal(image.N, report.ImageLevel.N);
        Assert.Equal(60, report.StudyLevel.N);
        Assert.Equal(60, report.ImageLevel.Studies);
        foreach (var metric in Enum.GetValues<Metric>())
        {
            Assert.Equal(image.Get(metric), report.ImageLevel.Get(metric).Value);
            Assert.Equal(study.Get(metric), report.StudyLevel.Get(metric).Value);
        }
        Assert.Equal(study.Confusion, report.StudyLevel.Confusion);
        Assert.Equal(10, report.StudyLevel.Calibration.Bins.Count);
        Assert.Equal(images.Count, report.ImageLevel.Calibration.Bins.Sum(b => b.Count));
    }

    [Fact]
    public void WriteMetrics_CamelCaseJson_UndefinedAsNull_RoundTrips()
    {
        using var dir = new TempDir();
        // one class only: AUROC, AP and specificity are undefined
        var images = SyntheticPredictions.Make(20, seed: 3).Where(i => i.Label == 1).ToList();
        var report = EvaluationReport.Compute(images, new EvaluationOptions(Bootstrap: new BootstrapOptions(Replicates: 30, Seed: 1)));
        var path = dir.Combine(EvaluationFiles.MetricsFileName);
        EvaluationFiles.WriteMetrics(path, report);

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var study = doc.RootElement.GetProperty("studyLevel");
        Assert.Equal(JsonValueKind.Null, study.GetProperty("auroc").GetProperty("value").ValueKind);
        Assert.Equal(0, study.GetProperty("auroc").GetProperty("validReplicates").GetInt32());
        Assert.Equal(1.0, study.GetProperty("prevalence").GetProperty("value").GetDouble());
        Assert.Equal("study", study.GetProperty("level").GetString());
        Assert.True(study.GetProperty("confusion").TryGetProperty("truePositives", out _));
        Assert.Equal(30, doc.RootElement.GetProperty("bootstrap").GetProperty("replicates").GetInt32());

        var back = EvaluationFiles.ReadMetrics(path);
        Assert.True(double.IsNaN(back.StudyLevel.Auroc.Value));
        Assert.Equal(report.StudyLevel.Sensitivity, back.StudyLevel.Sensitivity);
        Assert.Equal(report.ImageLevel.Confusion, back.ImageLevel.Confusion);
        Assert.Equal(report.Threshold, back.Threshold);
        Assert.Equal([EvaluationFiles.MetricsFileName], Directory.GetFiles(dir.Path).Select(Path.GetFileName)); // no temp file left
    }

    [Fact]
    public void Predictions_RoundTripExactly()
    {
        using var dir = new TempDir();
        ImagePrediction[] rows =
        [
            new("valid/XR_SHOULDER/patient11187/study1_positive/image1.png", "valid/XR_SHOULDER/patient11187/study1_positive", 1, 0.1 + 0.2),
            new("a,b/\"quoted\".png", "a,b", 0, 1e-9),
            new("c.png", "c", 0, 1.0),
        ];
        var path = dir.Combine(EvaluationFiles.PredictionsFileName);
        EvaluationFiles.WritePredictions(path, rows);
        Assert.StartsWith("path,study,label,probability\n", File.ReadAllText(path).ReplaceLineEndings("\n"));
        Assert.Equal(rows, EvaluationFiles.ReadPredictions(path));
    }

    [Fact]
    public void ReadPredictions_MalformedRow_ErrorNamesFileAndLine()
    {
        using var dir = new TempDir();
        var path = dir.Combine("predictions.csv");
        File.WriteAllText(path, "path,study,label,probability\na.png,s,1,0.5\nb.png,s,1,1.7\n");
        var e = Assert.Throws<DataException>(() => EvaluationFiles.ReadPredictions(path));
        Assert.Contains($"{path}:3", e.Message);
    }
}
