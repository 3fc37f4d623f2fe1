using ScottPlot;
using SkiaSharp;
using XraySynth.Classifier.Evaluation;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Classifier.Evaluation;

public class EvaluationPlotsTests
{
    private static readonly List<ImagePrediction> _images = SyntheticPredictions.Make(60, seed: 4);
    private static readonly int[] _labels = [.. _images.Select(i => i.Label)];
    private static readonly double[] _probabilities = [.. _images.Select(i => i.Probability)];

    public static TheoryData<string> Kinds => ["roc", "precision-recall", "reliability", "confusion-matrix"];

    private static Plot Build(string kind, string? title) => kind switch
    {
        "roc" => EvaluationPlots.BuildRoc([RocSeries.Of("model", _labels, _probabilities)], title),
        "precision-recall" => EvaluationPlots.BuildPrecisionRecall([PrSeries.Of("model", _labels, _probabilities)], 0.5, title),
        "reliability" => EvaluationPlots.BuildReliability(CalibrationCurve.Compute(_labels, _probabilities), title),
        "confusion-matrix" => EvaluationPlots.BuildConfusionMatrix(ConfusionMatrix.From(_labels, _probabilities), title),
        _ => throw new ArgumentException(kind),
    };

    /// <summary>Renders at 600×600 and returns the pixels with the data area's pixel rectangle.</summary>
    private static (SKBitmap Pixels, PixelRect Data) Render(Plot plot)
    {
        var png = EvaluationPlots.Png(plot, 600, 600);
        return (SKBitmap.Decode(png), plot.RenderManager.LastRender.DataRect);
    }

    private static bool Dark(SKColor c) => c.Red + c.Green + c.Blue < 3 * 110;

    private static int CountDark(SKBitmap bmp, int x0, int x1, int y0, int y1)
    {
        int n = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(bmp.Height, y1); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(bmp.Width, x1); x++)
                if (Dark(bmp.GetPixel(x, y))) n++;
        return n;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Plot_Title_IsRenderedAsGlyphs(string kind)
    {
        // Two titles of the same length and height: the layout is identical, so the images differ only where glyphs
        // are drawn. Without a working font (SkiaSharp's NoDependencies natives) both renders are the same.
        var (a, dataA) = Render(Build(kind, "Title HHHH"));
        var (b, dataB) = Render(Build(kind, "Title EEEE"));
        Assert.Equal(dataA, dataB);
        int differing = 0, outsideTitleBand = 0;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
                if (a.GetPixel(x, y) != b.GetPixel(x, y))
                {
                    differing++;
                    if (y >= dataA.Top) outsideTitleBand++;
                }
        Assert.True(differing > 50, $"{kind}: the titles differ in {differing} pixels; is text drawn at all?");
        Assert.Equal(0, outsideTitleBand);
        Assert.True(CountDark(a, 0, a.Width, 0, (int)dataA.Top) > 100, $"{kind}: no dark title pixels above the data area");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Plot_AxisLabelsAndTicks_AreRenderedAsGlyphs(string kind)
    {
        var (bmp, data) = Render(Build(kind, null));
        // below the data area (beyond the 4-px tick marks): tick labels and the x-axis label
        int below = CountDark(bmp, (int)data.Left, (int)data.Right, (int)data.Bottom + 7, bmp.Height);
        // left of it: tick labels and the rotated y-axis label
        int left = CountDark(bmp, 0, (int)data.Left - 7, (int)data.Top, (int)data.Bottom);
        Assert.True(below > 300, $"{kind}: {below} dark pixels below the data area");
        Assert.True(left > 300, $"{kind}: {left} dark pixels left of the data area");
    }

    [Fact]
    public void Roc_SeveralSeries_EachCurveDrawnInItsColour()
    {
        var studies = StudyAggregation.Aggregate(_images);
        var plot = EvaluationPlots.BuildRoc(
        [
            RocSeries.Of("image level", _labels, _probabilities),
            RocSeries.Of("study level", [.. studies.Select(s => s.Label)], [.. studies.Select(s => s.Probability)]),
            RocSeries.Of("one class", [1, 1], [0.3, 0.6]), // undefined: legend only, no exception
        ], "arms");
        var (bmp, data) = Render(plot);
        var palette = new ScottPlot.Palettes.Category10();
        foreach (int i in new[] { 0, 1 })
        {
            var c = palette.GetColor(i);
            int n = 0;
            for (int y = (int)data.Top; y < (int)data.Bottom; y++)
                for (int x = (int)data.Left; x < (int)data.Right; x++)
                {
                    var p = bmp.GetPixel(x, y);
                    if (Math.Abs(p.Red - c.R) + Math.Abs(p.Green - c.G) + Math.Abs(p.Blue - c.B) < 30) n++;
                }
            Assert.True(n > 300, $"series {i}: {n} pixels in its colour");
        }
    }

    [Fact]
    public void ConfusionMatrix_CellsShadedByCount_ActualNormalOnTop()
    {
        // TN 30 is the largest count: darkest; FP 0: white. TN sits top left (actual normal, predicted normal).
        var plot = EvaluationPlots.BuildConfusionMatrix(new ConfusionMatrix(TruePositives: 10, FalsePositives: 0, TrueNegatives: 30, FalseNegatives: 5), null);
        var (bmp, _) = Render(plot);
        SKColor At(double x, double y) { var px = plot.GetPixel(new Coordinates(x, y)); return bmp.GetPixel((int)px.X, (int)px.Y); }
        Assert.Equal(new SKColor(8, 48, 107), At(-0.4, 1.4));      // TN, top left
        Assert.Equal(new SKColor(247, 251, 255), At(0.6, 1.4));    // FP, top right
        Assert.Equal(new SKColor(167, 183, 206), At(0.6, 0.4));   // TP 10, bottom right: a third of the way
    }

    [Fact]
    public void PublicWriters_WritePngOfRequestedSizeAtomically()
    {
        using var dir = new TempDir();
        var curve = CalibrationCurve.Compute(_labels, _probabilities);
        EvaluationPlots.Roc(dir.Combine("roc.png"), [RocSeries.Of("model", _labels, _probabilities)], "ROC", width: 500, height: 400);
        EvaluationPlots.PrecisionRecall(dir.Combine("pr.png"), [PrSeries.Of("model", _labels, _probabilities)], 0.5);
        EvaluationPlots.Reliability(dir.Combine("reliability.png"), curve, "Reliability");
        EvaluationPlots.ConfusionMatrix(dir.Combine("confusion.png"), ConfusionMatrix.From(_labels, _probabilities));
        Assert.Equal(["confusion.png", "pr.png", "reliability.png", "roc.png"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G'];
        foreach (var file in Directory.GetFiles(dir.Path))
            Assert.Equal(signature, File.ReadAllBytes(file)[..4]);
        using var roc = SKBitmap.Decode(dir.Combine("roc.png"));
        Assert.Equal((500, 400), (roc.Width, roc.Height));
    }
}
