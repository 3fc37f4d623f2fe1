namespace XraySynth.Classifier.Evaluation;

/// <summary>One equal-width probability bin of a reliability diagram.</summary>
/// <param name="Lower">Inclusive lower edge.</param>
/// <param name="Upper">Upper edge: exclusive, except 1 for the last bin.</param>
/// <param name="Count">Predictions in the bin.</param>
/// <param name="MeanPredicted">Mean predicted probability in the bin; NaN when empty.</param>
/// <param name="ObservedFrequency">Fraction of the bin that is abnormal; NaN when empty.</param>
public sealed record CalibrationBin(double Lower, double Upper, int Count, double MeanPredicted, double ObservedFrequency);

/// <summary>A reliability curve: predicted probability against observed frequency, per bin.</summary>
/// <param name="Bins">All bins, empty ones included (Count 0), lowest first.</param>
/// <param name="ExpectedCalibrationError">Σ (count / N)·|mean predicted − observed| over the bins (ECE); 0 is perfect.</param>
public sealed record CalibrationCurve(IReadOnlyList<CalibrationBin> Bins, double ExpectedCalibrationError)
{
    /// <summary>Bins probabilities into <paramref name="bins"/> equal-width bins on [0, 1]: bin ⌊p·bins⌋, and p = 1 in
    /// the last bin.</summary>
    public static CalibrationCurve Compute(IReadOnlyList<int> labels, IReadOnlyList<double> probabilities, int bins = 10)
    {
        MetricInputs.Check(labels, probabilities, 0.5);
        if (bins < 1) throw new ArgumentException($"{bins} calibration bins: need at least 1.", nameof(bins));
        var count = new int[bins];
        var sumP = new double[bins];
        var sumY = new double[bins];
        for (int i = 0; i < labels.Count; i++)
        {
            int b = Math.Min((int)(probabilities[i] * bins), bins - 1);
            count[b]++;
            sumP[b] += probabilities[i];
            sumY[b] += labels[i];
        }
        var result = new CalibrationBin[bins];
        double ece = 0;
        for (int b = 0; b < bins; b++)
        {
            double meanP = count[b] == 0 ? double.NaN : sumP[b] / count[b];
            double observed = count[b] == 0 ? double.NaN : sumY[b] / count[b];
            result[b] = new CalibrationBin((double)b / bins, (double)(b + 1) / bins, count[b], meanP, observed);
            if (count[b] > 0) ece += (double)count[b] / labels.Count * Math.Abs(meanP - observed);
        }
        return new CalibrationCurve(result, ece);
    }
}
