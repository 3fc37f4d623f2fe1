namespace XraySynth.Classifier.Evaluation;

/// <summary>Predictions sorted by score, highest first, with equal scores grouped: the one ranking behind the ROC
/// curve, the precision-recall curve, AUROC and average precision, so that all four treat ties alike.</summary>
internal sealed class RankedScores
{
    private RankedScores(double[] thresholds, int[] cumulativeTp, int[] cumulativeFp, int positives, int negatives)
    {
        Thresholds = thresholds;
        CumulativeTp = cumulativeTp;
        CumulativeFp = cumulativeFp;
        Positives = positives;
        Negatives = negatives;
    }

    /// <summary>Distinct scores, descending.</summary>
    public double[] Thresholds { get; }
    /// <summary>Positives with a score ≥ Thresholds[k].</summary>
    public int[] CumulativeTp { get; }
    /// <summary>Negatives with a score ≥ Thresholds[k].</summary>
    public int[] CumulativeFp { get; }
    public int Positives { get; }
    public int Negatives { get; }

    /// <summary>Ranks already checked inputs (<see cref="MetricInputs.Check"/>).</summary>
    public static RankedScores From(IReadOnlyList<int> labels, IReadOnlyList<double> scores)
    {
        int n = labels.Count;
        var keys = new double[n];
        var lab = new int[n];
        for (int i = 0; i < n; i++) { keys[i] = scores[i]; lab[i] = labels[i]; }
        Array.Sort(keys, lab); // ascending; the order inside a tie does not matter, ties are grouped below

        var thresholds = new List<double>();
        var tps = new List<int>();
        var fps = new List<int>();
        int tp = 0, fp = 0;
        for (int i = n - 1; i >= 0; i--)
        {
            if (lab[i] == 1) tp++; else fp++;
            if (i == 0 || keys[i - 1] != keys[i])
            {
                thresholds.Add(keys[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
        }
        return new RankedScores([.. thresholds], [.. tps], [.. fps], tp, fp);
    }

    public bool HasBothClasses => Positives > 0 && Negatives > 0;

    /// <summary>Mann–Whitney U / (P·N): the probability that a random abnormal case scores above a random normal
    /// one, ties counted half. Summed per tie group in integers (2U), so it is exact.</summary>
    public double Auroc()
    {
        if (!HasBothClasses) return double.NaN;
        long twiceU = 0;
        int tpAbove = 0, fpAbove = 0;
        for (int k = 0; k < Thresholds.Length; k++)
        {
            int p = CumulativeTp[k] - tpAbove, q = CumulativeFp[k] - fpAbove;
            // each negative in this group is beaten by every positive above it and ties with the group's positives
            twiceU += (long)q * (2L * tpAbove + p);
            tpAbove = CumulativeTp[k];
            fpAbove = CumulativeFp[k];
        }
        return twiceU / (2.0 * Positives * Negatives);
    }

    /// <summary>sklearn's average_precision_score: Σ (R_k − R_{k−1})·P_k over the distinct scores, descending.</summary>
    public double AveragePrecision()
    {
        if (!HasBothClasses) return double.NaN;
        double ap = 0, previousRecall = 0;
        for (int k = 0; k < Thresholds.Length; k++)
        {
            double recall = (double)CumulativeTp[k] / Positives;
            double precision = (double)CumulativeTp[k] / (CumulativeTp[k] + CumulativeFp[k]);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }
}
