namespace XraySynth.Classifier.Evaluation;

/// <summary>How to bootstrap.</summary>
/// <param name="Replicates">Number of resamples B.</param>
/// <param name="Seed">Seed of the resampling; the same seed and predictions give the same intervals.</param>
/// <param name="Confidence">Coverage of the percentile interval (0.95: the 2.5th to the 97.5th percentile).</param>
public sealed record BootstrapOptions(int Replicates = 1000, int Seed = 0, double Confidence = 0.95)
{
    internal void Check()
    {
        if (Replicates < 1) throw new ArgumentException($"{Replicates} bootstrap replicates: need at least 1.", nameof(Replicates));
        if (!(Confidence > 0 && Confidence < 1)) throw new ArgumentException($"confidence {Confidence} is not in (0, 1).", nameof(Confidence));
    }
}

/// <summary>A percentile bootstrap interval.</summary>
/// <param name="Lower">Lower percentile of the valid replicates; NaN when none is valid.</param>
/// <param name="Upper">Upper percentile of the valid replicates; NaN when none is valid.</param>
/// <param name="ValidReplicates">Replicates where the metric was defined (the others had one class, say).</param>
public sealed record ConfidenceInterval(double Lower, double Upper, int ValidReplicates);

/// <summary>A metric's value on the whole test set and its bootstrap interval.</summary>
/// <param name="Value">Point estimate on the whole test set; NaN when undefined.</param>
/// <param name="Lower">Lower end of the interval.</param>
/// <param name="Upper">Upper end of the interval.</param>
/// <param name="ValidReplicates">Replicates that entered the interval.</param>
public sealed record Estimate(double Value, double Lower, double Upper, int ValidReplicates)
{
    public static Estimate Of(double value, ConfidenceInterval ci) => new(value, ci.Lower, ci.Upper, ci.ValidReplicates);
}

/// <summary>Intervals of every <see cref="Metric"/> at image and study level, from the same resampled studies.</summary>
/// <param name="Options">How they were computed.</param>
/// <param name="Image">Image level: each resampled study brings all its images.</param>
/// <param name="Study">Study level: each resampled study brings its mean probability.</param>
public sealed record BootstrapIntervals(
    BootstrapOptions Options,
    IReadOnlyDictionary<Metric, ConfidenceInterval> Image,
    IReadOnlyDictionary<Metric, ConfidenceInterval> Study)
{
    public ConfidenceInterval Get(EvaluationLevel level, Metric metric) => (level == EvaluationLevel.Image ? Image : Study)[metric];
}

/// <summary>Candidate minus baseline for one metric, with a paired bootstrap interval.</summary>
/// <param name="Level">Image or study level.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Baseline">Baseline's value on the whole test set.</param>
/// <param name="Candidate">Candidate's value on the whole test set.</param>
/// <param name="Difference">Candidate − baseline on the whole test set.</param>
/// <param name="Lower">Lower percentile of the replicate differences.</param>
/// <param name="Upper">Upper percentile of the replicate differences.</param>
/// <param name="ValidReplicates">Replicates where the metric was defined for both models.</param>
public sealed record MetricDifference(
    EvaluationLevel Level, Metric Metric, double Baseline, double Candidate, double Difference,
    double Lower, double Upper, int ValidReplicates);

/// <summary>A paired comparison of two models on the same test set: every metric, both levels.</summary>
/// <param name="Options">How it was computed.</param>
/// <param name="Differences">One entry per level and metric.</param>
public sealed record PairedBootstrapResult(BootstrapOptions Options, IReadOnlyList<MetricDifference> Differences)
{
    public MetricDifference Get(EvaluationLevel level, Metric metric) =>
        Differences.First(d => d.Level == level && d.Metric == metric);
}

/// <summary>Replicates of a <see cref="Bootstrap.Joint"/> bootstrap: one draw of test studies per replicate, every
/// model scored on it.</summary>
public sealed class JointBootstrap
{
    private readonly IReadOnlyDictionary<(EvaluationLevel, Metric), double[][]> _values;

    internal JointBootstrap(BootstrapOptions options, IReadOnlyDictionary<(EvaluationLevel, Metric), double[][]> values)
    {
        Options = options;
        _values = values;
    }

    public BootstrapOptions Options { get; }

    /// <summary>[replicate][model] values of a metric at a level; NaN where undefined on that draw.</summary>
    public IReadOnlyList<double[]> Values(EvaluationLevel level, Metric metric) => _values[(level, metric)];

    /// <summary>Bootstrap variance (n − 1 denominator) of Σ weights[j]·metric(model j) over the replicates where every
    /// model with a non-zero weight is defined; NaN with fewer than 2 such replicates.</summary>
    public double Variance(EvaluationLevel level, Metric metric, IReadOnlyList<double> weights)
    {
        var sums = new List<double>();
        foreach (var row in _values[(level, metric)])
        {
            double sum = 0;
            bool defined = true;
            for (int j = 0; j < weights.Count && defined; j++)
            {
                if (weights[j] == 0) continue;
                if (double.IsNaN(row[j])) defined = false;
                else sum += weights[j] * row[j];
            }
            if (defined) sums.Add(sum);
        }
        if (sums.Count < 2) return double.NaN;
        double mean = sums.Average();
        return sums.Sum(v => (v - mean) * (v - mean)) / (sums.Count - 1);
    }
}

/// <summary>Bootstrap confidence intervals that respect the data's clustering: the unit resampled (with
/// replacement) is the <b>study</b>, never the image, because a study's images are correlated. Image-level metrics
/// of a replicate use all images of the drawn studies; study-level metrics use the drawn studies' mean
/// probabilities. Intervals are percentile intervals (linear interpolation between order statistics, as numpy's
/// default percentile). A replicate where a metric is undefined (NaN: e.g. one class drawn, for AUROC) is skipped for
/// that metric, and the number of valid replicates is reported. Studies are ordered by id and images by path before
/// resampling, so the result depends on the seed and the predictions, not on their order.
/// <para>Note: patients with several studies are resampled study by study (treated as independent).</para></summary>
public static class Bootstrap
{
    private static readonly Metric[] _metrics = Enum.GetValues<Metric>();

    /// <summary>Percentile intervals of every metric at image and study level.</summary>
    public static BootstrapIntervals ConfidenceIntervals(IReadOnlyList<ImagePrediction> images, double threshold = 0.5,
        BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions();
        options.Check();
        var clusters = new StudyClusters(StudyAggregation.GroupByStudy(Checked(images, threshold)));
        var values = NewValueTable(options.Replicates);
        var rng = new Random(options.Seed);
        var draw = new int[clusters.Count];
        for (int r = 0; r < options.Replicates; r++)
        {
            Draw(rng, draw);
            Record(values[0], clusters.ImageLevel(draw, threshold));
            Record(values[1], clusters.StudyLevel(draw, threshold));
        }
        return new BootstrapIntervals(options, Intervals(values[0], options.Confidence), Intervals(values[1], options.Confidence));
    }

    /// <summary>Paired bootstrap of candidate − baseline for every metric at both levels: each replicate draws one
    /// set of studies and scores both models on it, so the interval reflects the models' difference, not the test
    /// set's sampling noise shared by both. Both must hold the same images (paths) of the same studies with the same
    /// labels, else an <see cref="ArgumentException"/> names the first difference.</summary>
    public static PairedBootstrapResult Paired(IReadOnlyList<ImagePrediction> baseline, IReadOnlyList<ImagePrediction> candidate,
        double threshold = 0.5, BootstrapOptions? options = null)
    {
        options ??= new BootstrapOptions();
        options.Check();
        var a = new StudyClusters(StudyAggregation.GroupByStudy(Checked(baseline, threshold)));
        var b = new StudyClusters(StudyAggregation.GroupByStudy(Checked(candidate, threshold)));
        StudyClusters.CheckSameTestSet(a, b);

        var differences = NewValueTable(options.Replicates);
        var rng = new Random(options.Seed);
        var draw = new int[a.Count];
        for (int r = 0; r < options.Replicates; r++)
        {
            Draw(rng, draw);
            RecordDifference(differences[0], a.ImageLevel(draw, threshold), b.ImageLevel(draw, threshold));
            RecordDifference(differences[1], a.StudyLevel(draw, threshold), b.StudyLevel(draw, threshold));
        }

        var all = a.All();
        var pointA = new[] { a.ImageLevel(all, threshold), a.StudyLevel(all, threshold) };
        var pointB = new[] { b.ImageLevel(all, threshold), b.StudyLevel(all, threshold) };
        var result = new List<MetricDifference>();
        foreach (var level in new[] { EvaluationLevel.Image, EvaluationLevel.Study })
        {
            var intervals = Intervals(differences[(int)level], options.Confidence);
            foreach (var m in _metrics)
            {
                double va = pointA[(int)level].Get(m), vb = pointB[(int)level].Get(m);
                var ci = intervals[m];
                result.Add(new MetricDifference(level, m, va, vb, vb - va, ci.Lower, ci.Upper, ci.ValidReplicates));
            }
        }
        return new PairedBootstrapResult(options, result);
    }

    /// <summary>One bootstrap over test studies shared by several models scored on the same test set (e.g. every
    /// arm × seed of an experiment): each replicate draws one set of studies and scores every model on it, so the
    /// replicates keep the correlation between models that comes from sharing the test set. Returns, per level and
    /// metric, the replicate values as [replicate][model] (NaN where the metric was undefined on that draw). Every
    /// model must hold the same images of the same studies with the same labels, else an
    /// <see cref="ArgumentException"/> names the first difference.</summary>
    public static JointBootstrap Joint(IReadOnlyList<IReadOnlyList<ImagePrediction>> models, double threshold = 0.5,
        BootstrapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) throw new ArgumentException("joint bootstrap: no model.", nameof(models));
        options ??= new BootstrapOptions();
        options.Check();
        var clusters = models.Select(m => new StudyClusters(StudyAggregation.GroupByStudy(Checked(m, threshold)))).ToList();
        foreach (var other in clusters.Skip(1)) StudyClusters.CheckSameTestSet(clusters[0], other);

        int k = clusters.Count;
        var values = new Dictionary<(EvaluationLevel, Metric), double[][]>();
        foreach (var level in new[] { EvaluationLevel.Image, EvaluationLevel.Study })
            foreach (var m in _metrics)
                values[(level, m)] = [.. Enumerable.Range(0, options.Replicates).Select(_ => new double[k])];
        var rng = new Random(options.Seed);
        var draw = new int[clusters[0].Count];
        for (int r = 0; r < options.Replicates; r++)
        {
            Draw(rng, draw);
            for (int j = 0; j < k; j++)
            {
                var image = clusters[j].ImageLevel(draw, threshold);
                var study = clusters[j].StudyLevel(draw, threshold);
                foreach (var m in _metrics)
                {
                    values[(EvaluationLevel.Image, m)][r][j] = image.Get(m);
                    values[(EvaluationLevel.Study, m)][r][j] = study.Get(m);
                }
            }
        }
        return new JointBootstrap(options, values);
    }

    /// <summary>The q-quantile (0..1) of sorted values, linear between order statistics (numpy's default).</summary>
    internal static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        double h = (sorted.Count - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    private static IReadOnlyList<ImagePrediction> Checked(IReadOnlyList<ImagePrediction> images, double threshold)
    {
        ArgumentNullException.ThrowIfNull(images);
        MetricInputs.Check(images.Select(i => i.Label).ToArray(), images.Select(i => i.Probability).ToArray(), threshold);
        return images;
    }

    private static void Draw(Random rng, int[] draw)
    {
        for (int i = 0; i < draw.Length; i++) draw[i] = rng.Next(draw.Length);
    }

    // [level][metric] -> replicate values
    private static Dictionary<Metric, List<double>>[] NewValueTable(int replicates) =>
        [.. Enumerable.Range(0, 2).Select(_ => _metrics.ToDictionary(m => m, _ => new List<double>(replicates)))];

    private static void Record(Dictionary<Metric, List<double>> values, BinaryMetrics metrics)
    {
        foreach (var m in _metrics)
        {
            double v = metrics.Get(m);
            if (!double.IsNaN(v)) values[m].Add(v);
        }
    }

    private static void RecordDifference(Dictionary<Metric, List<double>> values, BinaryMetrics a, BinaryMetrics b)
    {
        foreach (var m in _metrics)
        {
            double va = a.Get(m), vb = b.Get(m);
            if (!double.IsNaN(va) && !double.IsNaN(vb)) values[m].Add(vb - va);
        }
    }

    private static Dictionary<Metric, ConfidenceInterval> Intervals(Dictionary<Metric, List<double>> values, double confidence)
    {
        double alpha = 1 - confidence;
        var result = new Dictionary<Metric, ConfidenceInterval>();
        foreach (var (m, list) in values)
        {
            list.Sort();
            result[m] = new ConfidenceInterval(Percentile(list, alpha / 2), Percentile(list, 1 - alpha / 2), list.Count);
        }
        return result;
    }

    /// <summary>Predictions laid out by study for fast resampling.</summary>
    private sealed class StudyClusters
    {
        private readonly string[] _studies;
        private readonly string[][] _paths;
        private readonly int[] _studyLabel;
        private readonly double[] _studyProbability;
        private readonly double[][] _imageProbability;
        private readonly int _largestStudy;

        public StudyClusters(SortedDictionary<string, List<ImagePrediction>> groups)
        {
            _studies = [.. groups.Keys];
            _paths = [.. groups.Values.Select(g => g.Select(i => i.Path).ToArray())];
            _imageProbability = [.. groups.Values.Select(g => g.Select(i => i.Probability).ToArray())];
            _studyLabel = [.. groups.Values.Select(g => g[0].Label)];
            _studyProbability = [.. groups.Select(g => StudyAggregation.Study(g.Key, g.Value).Probability)];
            _largestStudy = _paths.Max(p => p.Length);
        }

        public int Count => _studies.Length;

        public int[] All() => [.. Enumerable.Range(0, Count)];

        public BinaryMetrics ImageLevel(int[] draw, double threshold)
        {
            var labels = new int[draw.Length * _largestStudy];
            var probabilities = new double[labels.Length];
            int n = 0;
            foreach (int s in draw)
            {
                foreach (var p in _imageProbability[s])
                {
                    labels[n] = _studyLabel[s];
                    probabilities[n++] = p;
                }
            }
            return BinaryMetrics.Compute(new ArraySegment<int>(labels, 0, n), new ArraySegment<double>(probabilities, 0, n), threshold);
        }

        public BinaryMetrics StudyLevel(int[] draw, double threshold)
        {
            var labels = new int[draw.Length];
            var probabilities = new double[draw.Length];
            for (int i = 0; i < draw.Length; i++)
            {
                labels[i] = _studyLabel[draw[i]];
                probabilities[i] = _studyProbability[draw[i]];
            }
            return BinaryMetrics.Compute(labels, probabilities, threshold);
        }

        public static void CheckSameTestSet(StudyClusters a, StudyClusters b)
        {
            for (int s = 0; s < Math.Max(a.Count, b.Count); s++)
            {
                if (s >= a.Count || s >= b.Count || a._studies[s] != b._studies[s])
                {
                    var missing = s >= a.Count ? b._studies[s] : s >= b.Count ? a._studies[s]
                        : string.CompareOrdinal(a._studies[s], b._studies[s]) < 0 ? a._studies[s] : b._studies[s];
                    throw new ArgumentException($"paired bootstrap: study '{missing}' is in one model's predictions only; " +
                        "both models must be scored on the same test set.");
                }
                if (a._studyLabel[s] != b._studyLabel[s])
                    throw new ArgumentException($"paired bootstrap: study '{a._studies[s]}' is labelled {a._studyLabel[s]} for the baseline " +
                        $"and {b._studyLabel[s]} for the candidate.");
                if (!a._paths[s].SequenceEqual(b._paths[s]))
                    throw new ArgumentException($"paired bootstrap: study '{a._studies[s]}' has different images for the two models " +
                        $"({string.Join(", ", a._paths[s])} vs {string.Join(", ", b._paths[s])}).");
            }
        }
    }
}
