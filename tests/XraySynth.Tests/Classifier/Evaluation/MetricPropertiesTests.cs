using XraySynth.Runtime;
using System.Text.Json.Nodes;
using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

public class MetricPropertiesTests
{
    [Fact]
    public void Get_ReadsTheMetricsOwnProperty()
    {
        var m = BinaryMetrics.Compute([1, 1, 1, 0, 0, 0, 0], [0.9, 0.8, 0.4, 0.6, 0.3, 0.2, 0.1]);
        // An independent oracle: the map must pick these very properties, not just be consistent with itself.
        var expected = new Dictionary<Metric, double>
        {
            [Metric.Accuracy] = m.Accuracy, [Metric.Sensitivity] = m.Sensitivity, [Metric.Specificity] = m.Specificity,
            [Metric.Precision] = m.Precision, [Metric.Npv] = m.Npv, [Metric.F1] = m.F1, [Metric.Kappa] = m.Kappa, [Metric.Auroc] = m.Auroc,
            [Metric.AveragePrecision] = m.AveragePrecision, [Metric.Brier] = m.Brier, [Metric.PredictedPositiveRate] = m.PredictedPositiveRate,
            [Metric.Prevalence] = m.Prevalence,
        };
        Assert.Equal(Enum.GetValues<Metric>(), expected.Keys);
        foreach (var (metric, value) in expected) Assert.Equal(value, m.Get(metric));
        Assert.Equal((5 / 7.0, 0.75), (m.Get(Metric.Accuracy), m.Get(Metric.Specificity)));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Get((Metric)99));
    }

    [Fact]
    public void LevelReport_HoldsEveryMetric_AndMetricsJsonKeepsItsKeysAndOrder()
    {
        var images = SyntheticPredictions.Make(30, seed: 4);
        var report = EvaluationReport.Compute(images, new EvaluationOptions(Bootstrap: new BootstrapOptions(Replicates: 20, Seed: 1)));
        var study = report.StudyLevel;
        Assert.Equal(study.Sensitivity, study.Get(Metric.Sensitivity));
        Assert.Equal(study.Prevalence, study.Get(Metric.Prevalence));
        Assert.NotEqual(study.Get(Metric.Sensitivity), study.Get(Metric.Specificity));
        var json = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(report, EvaluationFiles.JsonOptions))!["studyLevel"]!.AsObject();
        Assert.Equal(["level", "n", "studies", "confusion", "accuracy", "sensitivity", "specificity", "precision", "npv", "f1", "kappa", "auroc",
                      "averagePrecision", "brier", "predictedPositiveRate", "prevalence", "calibration"], json.Select(kv => kv.Key));
    }
}
