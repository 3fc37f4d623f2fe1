using XraySynth.Runtime;
using System.Text.Json.Nodes;
using ScottPlot;
using XraySynth.Classifier.Evaluation;

namespace XraySynth.Experiments;

/// <summary>The experiment report's own plots (ROC, calibration and confusion plots come from
/// <see cref="EvaluationPlots"/>).</summary>
public static class ExperimentPlots
{
    /// <summary>A metric (mean over seeds with its 95% CI as error bars) against the synthetic images per class, one
    /// line per evaluation level.</summary>
    public static void MetricVsAmount(string path, string metric, IReadOnlyList<(string Level, double[] Amount, ArmEstimate[] Values)> lines)
    {
        var plot = EvaluationPlots.NewPlot($"{metric} vs synthetic images added (mean over seeds, 95% interval)", "synthetic images per class", metric);
        for (int i = 0; i < lines.Count; i++)
        {
            var (level, xs, values) = lines[i];
            var ys = values.Select(v => v.Mean).ToArray();
            var line = plot.Add.Scatter(xs, ys, EvaluationPlots.Color(i));
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.LegendText = level;
            // The interval is asymmetric (logit scale): separate lengths below and above the mean.
            var below = values.Select(v => double.IsNaN(v.Lower) ? 0 : v.Mean - v.Lower).ToArray();
            var above = values.Select(v => double.IsNaN(v.Upper) ? 0 : v.Upper - v.Mean).ToArray();
            var bars = plot.Add.ErrorBar(xs, ys, above);
            bars.YErrorNegative = below;
            bars.Color = EvaluationPlots.Color(i);
        }
        plot.ShowLegend(Alignment.LowerRight);
        EvaluationPlots.Save(path, plot, 700, 450);
    }

    /// <summary>GAN training curves from stats.jsonl against kimg: G and D losses (<paramref name="lossesPath"/>) and ADA's
    /// p (<paramref name="augmentPath"/>).</summary>
    public static void GanCurves(string lossesPath, string augmentPath, string title, IReadOnlyList<JsonObject> stats)
    {
        double[] Col(string key) => stats.Select(s => s[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN).ToArray();
        var kimg = Col("kimg");
        var losses = EvaluationPlots.NewPlot($"{title}: losses", "kimg", "loss");
        int c = 0;
        foreach (var (key, label) in new[] { ("lossG", "G loss softplus(-D(G(z)))"), ("lossD", "D loss") })
        {
            var ys = Col(key);
            if (ys.All(double.IsNaN)) continue;
            var line = losses.Add.ScatterLine(kimg, ys, EvaluationPlots.Color(c++));
            line.LineWidth = 2;
            line.LegendText = label;
        }
        losses.ShowLegend(Alignment.UpperRight);
        EvaluationPlots.Save(lossesPath, losses, 600, 380);
        var ada = EvaluationPlots.NewPlot($"{title}: ADA augmentation probability", "kimg", "p");
        ada.Add.ScatterLine(kimg, Col("augmentP"), EvaluationPlots.Color(2)).LineWidth = 2;
        EvaluationPlots.Save(augmentPath, ada, 600, 380);
    }

    /// <summary>A quality metric (e.g. FID) of the snapshots against kimg.</summary>
    public static void MetricOverTraining(string path, string title, IReadOnlyList<(string Name, double[] Kimg, double[] Value)> series)
    {
        var plot = EvaluationPlots.NewPlot(title, "kimg", "value (lower is better)");
        for (int i = 0; i < series.Count; i++)
        {
            var line = plot.Add.Scatter(series[i].Kimg, series[i].Value, EvaluationPlots.Color(3 + i));
            line.LineWidth = 2;
            line.LegendText = series[i].Name;
        }
        plot.ShowLegend(Alignment.UpperRight);
        EvaluationPlots.Save(path, plot, 600, 380);
    }
}
