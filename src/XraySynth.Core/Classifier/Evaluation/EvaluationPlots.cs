using System.Globalization;
using ScottPlot;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Evaluation;

/// <summary>One model's ROC curve on a shared ROC plot.</summary>
/// <param name="Name">Legend name (an experiment arm, "image level", ...).</param>
/// <param name="Points">From <see cref="Curves.Roc"/>; empty when undefined (one class).</param>
/// <param name="Auroc">Shown in the legend.</param>
public sealed record RocSeries(string Name, IReadOnlyList<RocPoint> Points, double Auroc)
{
    /// <summary>The series of predictions: curve and AUROC.</summary>
    public static RocSeries Of(string name, IReadOnlyList<int> labels, IReadOnlyList<double> probabilities) =>
        new(name, Curves.Roc(labels, probabilities), BinaryMetrics.AurocOf(labels, probabilities));
}

/// <summary>One model's precision-recall curve on a shared plot.</summary>
/// <param name="Name">Legend name.</param>
/// <param name="Points">From <see cref="Curves.PrecisionRecall"/>; empty when undefined (one class).</param>
/// <param name="AveragePrecision">Shown in the legend.</param>
public sealed record PrSeries(string Name, IReadOnlyList<PrPoint> Points, double AveragePrecision)
{
    /// <summary>The series of predictions: curve and average precision.</summary>
    public static PrSeries Of(string name, IReadOnlyList<int> labels, IReadOnlyList<double> probabilities) =>
        new(name, Curves.PrecisionRecall(labels, probabilities), BinaryMetrics.AveragePrecisionOf(labels, probabilities));
}

/// <summary>The evaluation's figures as PNG files (ScottPlot), each written atomically. A null title draws none.
/// Text needs fontconfig and a font on the machine (SkiaSharp.NativeAssets.Linux); the tests check it is drawn.</summary>
public static class EvaluationPlots
{
    public const int DefaultSize = 600;

    private static readonly Color[] _palette = [.. Enumerable.Range(0, 10).Select(i => new ScottPlot.Palettes.Category10().GetColor(i))];
    private static readonly Color _reference = Colors.Gray;

    /// <summary>ROC curves (one per series, AUROC in the legend) with the chance diagonal.</summary>
    public static void Roc(string path, IReadOnlyList<RocSeries> series, string? title = null, int width = DefaultSize, int height = DefaultSize) =>
        Save(path, BuildRoc(series, title), width, height);

    /// <summary>Precision-recall curves (average precision in the legend) with the prevalence line (no skill).</summary>
    public static void PrecisionRecall(string path, IReadOnlyList<PrSeries> series, double prevalence, string? title = null,
        int width = DefaultSize, int height = DefaultSize) =>
        Save(path, BuildPrecisionRecall(series, prevalence, title), width, height);

    /// <summary>Reliability diagram: observed frequency against mean predicted probability per non-empty bin, each
    /// labelled with its count, and the diagonal of perfect calibration; ECE in the legend.</summary>
    public static void Reliability(string path, CalibrationCurve curve, string? title = null, int width = DefaultSize, int height = DefaultSize) =>
        Save(path, BuildReliability(curve, title), width, height);

    /// <summary>2×2 confusion matrix heatmap: rows actual (normal, abnormal), columns predicted; each cell shows its count
    /// and its percentage of the actual class ("76.0 % of normal"), so the diagonal reads specificity and
    /// sensitivity.</summary>
    public static void ConfusionMatrix(string path, ConfusionMatrix matrix, string? title = null, int width = DefaultSize, int height = 520) =>
        Save(path, BuildConfusionMatrix(matrix, title), width, height);

    internal static Plot BuildRoc(IReadOnlyList<RocSeries> series, string? title)
    {
        var plot = NewPlot(title, "1 − specificity (false-positive rate)", "sensitivity (true-positive rate)");
        var chance = plot.Add.Line(0, 0, 1, 1);
        Reference(chance, "chance");
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Points.Count == 0) { Undefined(plot, s.Name, i); continue; }
            string label = $"{s.Name} (AUROC {Number(s.Auroc)})";
            var line = plot.Add.ScatterLine(s.Points.Select(p => p.Fpr).ToArray(), s.Points.Select(p => p.Tpr).ToArray(), Color(i));
            line.LineWidth = 2;
            line.LegendText = label;
        }
        UnitSquare(plot);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    internal static Plot BuildPrecisionRecall(IReadOnlyList<PrSeries> series, double prevalence, string? title)
    {
        var plot = NewPlot(title, "recall (sensitivity)", "precision (PPV)");
        var noSkill = plot.Add.HorizontalLine(prevalence);
        noSkill.LineColor = _reference;
        noSkill.LinePattern = LinePattern.Dashed;
        noSkill.LegendText = $"prevalence {Number(prevalence)} (no skill)";
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Points.Count == 0) { Undefined(plot, s.Name, i); continue; }
            string label = $"{s.Name} (AP {Number(s.AveragePrecision)})";
            var line = plot.Add.ScatterLine(s.Points.Select(p => p.Recall).ToArray(), s.Points.Select(p => p.Precision).ToArray(), Color(i));
            line.ConnectStyle = ConnectStyle.StepVertical; // precision P_n holds over (R_{n-1}, R_n], as average precision sums
            line.LineWidth = 2;
            line.LegendText = label;
        }
        UnitSquare(plot);
        plot.ShowLegend(Alignment.LowerLeft);
        return plot;
    }

    internal static Plot BuildReliability(CalibrationCurve curve, string? title)
    {
        var plot = NewPlot(title, "mean predicted probability", "observed frequency of abnormal");
        var perfect = plot.Add.Line(0, 0, 1, 1);
        Reference(perfect, "perfect calibration");
        var bins = curve.Bins.Where(b => b.Count > 0).ToArray();
        var line = plot.Add.Scatter(bins.Select(b => b.MeanPredicted).ToArray(), bins.Select(b => b.ObservedFrequency).ToArray(), Color(0));
        line.LineWidth = 2;
        line.MarkerSize = 8;
        line.LegendText = $"model (ECE {Number(curve.ExpectedCalibrationError)}; n per bin)";
        foreach (var b in bins)
        {
            var count = plot.Add.Text($"n={b.Count}", b.MeanPredicted, b.ObservedFrequency);
            count.LabelFontSize = 11;
            count.LabelFontColor = Colors.Black;
            count.LabelAlignment = b.ObservedFrequency > 0.9 ? Alignment.UpperCenter : Alignment.LowerCenter;
            count.OffsetY = b.ObservedFrequency > 0.9 ? 8 : -8;
        }
        UnitSquare(plot);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    internal static Plot BuildConfusionMatrix(ConfusionMatrix m, string? title)
    {
        var plot = NewPlot(title, "predicted", "actual");
        // [actual, predicted]; actual normal is the top row, predicted normal the left column (sklearn's layout)
        int[,] counts = { { m.TrueNegatives, m.FalsePositives }, { m.FalseNegatives, m.TruePositives } };
        string[] classes = ["normal", "abnormal"];
        int max = Math.Max(1, counts.Cast<int>().Max());
        for (int actual = 0; actual < 2; actual++)
        {
            int rowTotal = counts[actual, 0] + counts[actual, 1];
            for (int predicted = 0; predicted < 2; predicted++)
            {
                double x = predicted, y = 1 - actual;
                double shade = (double)counts[actual, predicted] / max;
                var cell = plot.Add.Rectangle(x - 0.5, x + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = Blues(shade);
                cell.LineColor = Colors.White;
                cell.LineWidth = 2;
                string percent = rowTotal == 0 ? "–" : ((double)counts[actual, predicted] / rowTotal).ToString("P1", CultureInfo.InvariantCulture);
                var text = plot.Add.Text($"{counts[actual, predicted]}\n{percent} of {classes[actual]}", x, y);
                text.LabelFontSize = 18;
                text.LabelBold = true;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = shade > 0.5 ? Colors.White : Colors.Black;
            }
        }
        plot.Axes.Bottom.SetTicks([0, 1], classes);
        plot.Axes.Left.SetTicks([0, 1], [classes[1], classes[0]]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 15;
        plot.Axes.Left.TickLabelStyle.FontSize = 15;
        plot.Axes.SetLimits(-0.5, 1.5, -0.5, 1.5);
        plot.Grid.IsVisible = false;
        return plot;
    }

    internal static byte[] Png(Plot plot, int width, int height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    internal static void Save(string path, Plot plot, int width, int height) => AtomicFile.WriteAllBytes(path, Png(plot, width, height));

    internal static Plot NewPlot(string? title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        if (title is not null) plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static void Reference(ScottPlot.Plottables.LinePlot line, string label)
    {
        line.LineColor = _reference;
        line.LinePattern = LinePattern.Dashed;
        line.LegendText = label;
    }

    private static void Undefined(Plot plot, string name, int i) =>
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{name} (undefined: one class)", LineColor = Color(i), LineWidth = 2 });

    private static void UnitSquare(Plot plot) => plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);

    internal static Color Color(int i) => _palette[i % _palette.Length];

    /// <summary>White to dark blue (matplotlib's "Blues" end points) for a shade in [0, 1].</summary>
    private static Color Blues(double shade)
    {
        static byte Lerp(int a, int b, double t) => (byte)Math.Round(a + (b - a) * t);
        return new Color(Lerp(247, 8, shade), Lerp(251, 48, shade), Lerp(255, 107, shade));
    }

    private static string Number(double v) => double.IsNaN(v) ? "undefined" : v.ToString("0.000", CultureInfo.InvariantCulture);
}
