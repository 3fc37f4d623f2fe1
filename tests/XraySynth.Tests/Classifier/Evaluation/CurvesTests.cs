using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

public class CurvesTests
{
    // labels 1 1 0 0, scores 0.8 0.4 0.4 0.2: distinct scores 0.8 (+), 0.4 (+, -), 0.2 (-)
    private static readonly int[] _labels = [1, 1, 0, 0];
    private static readonly double[] _scores = [0.8, 0.4, 0.4, 0.2];

    [Fact]
    public void Roc_TiedScores_OnePointPerDistinctScore()
    {
        var roc = Curves.Roc(_labels, _scores);
        // ≥ +∞: nothing; ≥ 0.8: TP 1; ≥ 0.4: TP 2, FP 1; ≥ 0.2: all
        Assert.Equal([0, 0, 0.5, 1], roc.Select(p => p.Fpr));
        Assert.Equal([0, 0.5, 1, 1], roc.Select(p => p.Tpr));
        Assert.Equal([double.PositiveInfinity, 0.8, 0.4, 0.2], roc.Select(p => p.Threshold));
        // trapezoids: 0 + 0.5·(0.5 + 1)/2 + 0.5·1 = 0.875 = the Mann–Whitney AUROC
        Assert.Equal(0.875, Curves.TrapezoidArea(roc), 12);
    }

    [Fact]
    public void PrecisionRecall_TiedScores_StartsAtPrecisionOneAndGroupsTies()
    {
        var pr = Curves.PrecisionRecall(_labels, _scores);
        Assert.Equal([0, 0.5, 1, 1], pr.Select(p => p.Recall));
        Assert.Equal([1, 1, 2.0 / 3, 0.5], pr.Select(p => p.Precision));
        // average precision is the step sum over this curve: ½·1 + ½·⅔
        double ap = 0;
        for (int k = 1; k < pr.Count; k++) ap += (pr[k].Recall - pr[k - 1].Recall) * pr[k].Precision;
        Assert.Equal(BinaryMetrics.AveragePrecisionOf(_labels, _scores), ap, 12);
        Assert.Equal(5.0 / 6, ap, 12);
    }

    [Fact]
    public void Curves_SingleClass_AreEmpty()
    {
        Assert.Empty(Curves.Roc([0, 0], [0.2, 0.7]));
        Assert.Empty(Curves.PrecisionRecall([1, 1], [0.2, 0.7]));
    }

    [Fact]
    public void Calibration_EqualWidthBins_MeanPredictedObservedAndCount()
    {
        // 10 bins: [0, .1) 0.05 (normal); [.1, .2) 0.15 (normal), 0.12 (abnormal); [.5, .6) 0.5 (abnormal);
        // [.9, 1] 0.95 (abnormal), 1.0 (abnormal: 1 falls in the last bin), 0.92 (normal)
        var curve = CalibrationCurve.Compute([0, 0, 1, 1, 1, 1, 0], [0.05, 0.15, 0.12, 0.5, 0.95, 1.0, 0.92], bins: 10);
        Assert.Equal(10, curve.Bins.Count);
        Assert.Equal([1, 2, 0, 0, 0, 1, 0, 0, 0, 3], curve.Bins.Select(b => b.Count));
        Assert.Equal(0.135, curve.Bins[1].MeanPredicted, 12);
        Assert.Equal(0.5, curve.Bins[1].ObservedFrequency, 12);
        Assert.Equal(2.87 / 3, curve.Bins[9].MeanPredicted, 12);
        Assert.Equal(2.0 / 3, curve.Bins[9].ObservedFrequency, 12);
        Assert.True(double.IsNaN(curve.Bins[2].MeanPredicted));
        Assert.Equal(0.9, curve.Bins[9].Lower, 12);
        Assert.Equal(1.0, curve.Bins[9].Upper, 12);
        // ECE = (1·|.05 - 0| + 2·|.135 - .5| + 1·|.5 - 1| + 3·|.95667 - .66667|) / 7 = (.05 + .73 + .5 + .87) / 7
        Assert.Equal(2.15 / 7, curve.ExpectedCalibrationError, 12);
    }
}
