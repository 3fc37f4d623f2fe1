using XraySynth.Runtime;
using XraySynth.Classifier.Evaluation;
using XraySynth.Statistics;

namespace XraySynth.Experiments;

/// <summary>How the test-set part of an interval's variance was estimated.</summary>
public enum TestSetVariance
{
    /// <summary>DeLong's covariance of correlated AUROCs (study-level AUROC: studies are independent cases).</summary>
    DeLong,
    /// <summary>A bootstrap over test studies, one draw shared by every model.</summary>
    Bootstrap,
}

/// <summary>An arm's metric: the mean over its seeds and an interval that accounts for both training randomness
/// (seed-to-seed spread) and the finite test set.</summary>
/// <param name="N">Seeds with a value.</param>
/// <param name="Mean">Mean over those seeds.</param>
/// <param name="SeedSd">Sample sd over seeds (n − 1); NaN when N &lt; 2.</param>
/// <param name="StandardError">√(SeedSd²/N + test-set variance of the mean).</param>
/// <param name="Df">Degrees of freedom N − 1 (the normal's, 1e8, for a single seed).</param>
/// <param name="Lower">Lower end, inside the metric's range (logit-scale interval).</param>
/// <param name="Upper">Upper end, inside the metric's range.</param>
/// <param name="Method">How the test-set variance was estimated.</param>
public sealed record ArmEstimate(int N, double Mean, double SeedSd, double StandardError, double Df, double Lower, double Upper,
    TestSetVariance Method);

/// <summary>Candidate arm − baseline arm for one metric, paired by seed, with an interval and test whose variance adds
/// the between-seed variance of the per-seed differences and the test-set variance of the mean difference.</summary>
/// <param name="N">Seeds with a value in both arms.</param>
/// <param name="Dropped">Seeds of either arm left out (missing or undefined on one side).</param>
/// <param name="CandidateMean">Candidate's mean over the N paired seeds.</param>
/// <param name="BaselineMean">Baseline's mean over the N paired seeds.</param>
/// <param name="Difference">Mean of the per-seed differences.</param>
/// <param name="SdDifference">Sample sd of the per-seed differences (n − 1); NaN when N &lt; 2.</param>
/// <param name="SeedVariance">SdDifference² / N (0 when N &lt; 2: unknown).</param>
/// <param name="TestVariance">Test-set variance of the mean difference (DeLong or bootstrap).</param>
/// <param name="StandardError">√(SeedVariance + TestVariance).</param>
/// <param name="Df">Degrees of freedom N − 1 (the normal's, 1e8, for a single seed).</param>
/// <param name="Lower">Lower end of the t interval (clipped to the difference's possible range).</param>
/// <param name="Upper">Upper end of the t interval.</param>
/// <param name="P">Two-sided p-value of Difference / StandardError against t(Df); NaN when no test is made (N &lt; 3
/// or identical differences on every seed).</param>
/// <param name="IdenticalDifferences">Every seed gave the same difference (N ≥ 2): reported as such, never tested.</param>
/// <param name="Method">How the test-set variance was estimated.</param>
public sealed record ArmComparison(int N, int Dropped, double CandidateMean, double BaselineMean, double Difference,
    double SdDifference, double SeedVariance, double TestVariance, double StandardError, double Df, double Lower, double Upper,
    double P, bool IdenticalDifferences, TestSetVariance Method)
{
    /// <summary>Half the interval's width: differences smaller than this could not be told from 0.</summary>
    public double HalfWidth => (Upper - Lower) / 2;
}

/// <summary>Statistics of an experiment whose arms are each trained with a few seeds and all evaluated on the same
/// real test set. Two sources of variation enter every interval: training randomness (the seed-to-seed spread) and
/// the finite test set. For a mean over seeds (or a mean paired difference) the variance is
/// V = s²/n + V_test, where s² is the sample variance of the per-seed values (differences) and V_test is the test-set
/// sampling variance of that same mean — from DeLong's covariance matrix of all models' AUROCs for study-level AUROC
/// (every model scored on the same studies, so their errors are correlated and do not average out over seeds), and
/// otherwise from a bootstrap over test studies (one draw of studies per replicate, shared by every model; image-level
/// metrics resample whole studies). The interval is ± t_{n−1}·√V, the test a t-test of mean / √V on n − 1 degrees of
/// freedom: adding the test-set variance can only widen the seeds-only interval.
/// An arm's interval is built on the logit scale of the metric's range and mapped back, so it stays inside [0, 1]
/// (kappa: [−1, 1]). With the same test set in both V's terms the seed-by-test interaction is counted twice, so the
/// intervals are, if anything, conservative.</summary>
public sealed class ExperimentStatistics
{
    /// <summary>Fewer paired seeds than this give no verdict and no p-value: "underpowered".</summary>
    public const int MinSeeds = 3;

    private readonly IReadOnlyList<ArmSeedResult> _results;
    private readonly Lazy<JointBootstrap?> _bootstrap;
    private readonly Lazy<(double[] Auc, double[,] Covariance)?> _delong;

    /// <param name="results">Every arm × seed evaluation (predictions on the same test set).</param>
    /// <param name="threshold">Decision threshold of the thresholded metrics.</param>
    /// <param name="bootstrap">Replicates and seed of the test-set bootstrap.</param>
    public ExperimentStatistics(IReadOnlyList<ArmSeedResult> results, double threshold, BootstrapOptions bootstrap)
    {
        _results = results;
        _bootstrap = new(() => results.Count == 0 ? null : Bootstrap.Joint([.. results.Select(r => r.Predictions)], threshold, bootstrap));
        _delong = new(() =>
        {
            if (results.Count == 0) return null;
            var studies = results.Select(r => StudyAggregation.Aggregate(r.Predictions)).ToList();
            var labels = studies[0].Select(s => s.Label).ToArray();
            for (int j = 1; j < studies.Count; j++)
                if (!studies[j].Select(s => s.Study).SequenceEqual(studies[0].Select(s => s.Study)))
                    throw new ArgumentException($"{results[j].Arm} seed {results[j].Seed} was evaluated on other test studies than " +
                        $"{results[0].Arm} seed {results[0].Seed}: a paired comparison needs the same test set.");
            if (labels.Count(l => l == 1) < 2 || labels.Count(l => l == 0) < 2) return null;
            return DeLong.Covariance(labels, [.. studies.Select(s => (IReadOnlyList<double>)s.Select(x => x.Probability).ToArray())]);
        });
    }

    /// <summary>The method behind the test-set variance of a metric at a level.</summary>
    public static TestSetVariance MethodFor(EvaluationLevel level, Metric metric) =>
        level == EvaluationLevel.Study && metric == Metric.Auroc ? TestSetVariance.DeLong : TestSetVariance.Bootstrap;

    /// <summary>The range a metric lives in: [−1, 1] for kappa, [0, 1] for the others.</summary>
    public static (double Low, double High) Range(Metric metric) => metric == Metric.Kappa ? (-1, 1) : (0, 1);

    /// <summary>An arm's mean over seeds with its interval.</summary>
    public ArmEstimate Arm(string arm, EvaluationLevel level, Metric metric, double confidence = 0.95)
    {
        var rows = Indexed(arm, level, metric);
        var weights = new double[_results.Count];
        foreach (var (index, _) in rows) weights[index] = 1.0 / rows.Count;
        var method = MethodFor(level, metric);
        return Estimate(rows.Select(r => r.Value).ToList(), rows.Count == 0 ? 0 : TestVariance(level, metric, weights),
            Range(metric), confidence, method);
    }

    /// <summary>Candidate − baseline, paired by seed.</summary>
    public ArmComparison Compare(string candidate, string baseline, EvaluationLevel level, Metric metric, double confidence = 0.95)
    {
        var a = Indexed(candidate, level, metric).ToDictionary(r => _results[r.Index].Seed);
        var b = Indexed(baseline, level, metric).ToDictionary(r => _results[r.Index].Seed);
        var seeds = a.Keys.Intersect(b.Keys).Order().ToList();
        int dropped = a.Count + b.Count - 2 * seeds.Count;
        var weights = new double[_results.Count];
        foreach (var seed in seeds)
        {
            weights[a[seed].Index] += 1.0 / seeds.Count;
            weights[b[seed].Index] -= 1.0 / seeds.Count;
        }
        var (low, high) = Range(metric);
        var pairs = seeds.Select(s => (a[s].Value, b[s].Value)).ToList();
        return Difference(pairs, seeds.Count == 0 ? 0 : TestVariance(level, metric, weights), high - low, confidence,
            MethodFor(level, metric)) with { Dropped = dropped };
    }

    /// <summary>Test-set variance of Σ weights[j]·metric(evaluation j).</summary>
    private double TestVariance(EvaluationLevel level, Metric metric, double[] weights)
    {
        if (MethodFor(level, metric) == TestSetVariance.DeLong && _delong.Value is { } d)
        {
            double v = 0;
            for (int i = 0; i < weights.Length; i++)
                for (int j = 0; j < weights.Length; j++)
                    v += weights[i] * weights[j] * d.Covariance[i, j];
            return Math.Max(0, v);
        }
        return _bootstrap.Value?.Variance(level, metric, weights) ?? double.NaN;
    }

    private List<(int Index, double Value)> Indexed(string arm, EvaluationLevel level, Metric metric) =>
        [.. _results.Select((r, i) => (Index: i, Result: r)).Where(x => x.Result.Arm == arm)
            .Select(x => (x.Index, Value: (level == EvaluationLevel.Image ? x.Result.Report.ImageLevel : x.Result.Report.StudyLevel).Get(metric).Value))
            .Where(x => !double.IsNaN(x.Value))];

    // ---- the formulas (public for tests: hand-computable) -------------------------------------------------------

    /// <summary>Mean of per-seed values with the interval described on the class, built on the logit scale of
    /// <paramref name="range"/> so it stays inside. <paramref name="testVariance"/> is the test-set variance of the
    /// mean (NaN: unknown, taken as 0). Zero total variance gives the point as the interval.</summary>
    public static ArmEstimate Estimate(IReadOnlyList<double> values, double testVariance, (double Low, double High) range,
        double confidence, TestSetVariance method)
    {
        CheckConfidence(confidence);
        int n = values.Count;
        if (n == 0) return new ArmEstimate(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, method);
        double mean = values.Average();
        double sd = n >= 2 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1)) : double.NaN;
        var (se, df) = Combine(n >= 2 ? sd * sd / n : 0, n, testVariance);
        double width = range.High - range.Low;
        double u = (mean - range.Low) / width;
        double q = StudentT.Quantile((1 + confidence) / 2, df);
        double lower, upper;
        if (se == 0)
            (lower, upper) = (mean, mean);
        else if (u <= 0 || u >= 1)
            (lower, upper) = (Math.Max(range.Low, mean - q * se), Math.Min(range.High, mean + q * se));
        else
        {
            double logit = Math.Log(u / (1 - u));
            double seLogit = se / (width * u * (1 - u)); // delta method
            lower = range.Low + width * Sigmoid(logit - q * seLogit);
            upper = range.Low + width * Sigmoid(logit + q * seLogit);
        }
        return new ArmEstimate(n, mean, sd, se, df, lower, upper, method);
    }

    /// <summary>Paired (candidate, baseline) values by seed → the comparison described on the class.
    /// <paramref name="testVariance"/> is the test-set variance of the mean difference (NaN: unknown, taken as 0);
    /// <paramref name="span"/> the metric range's width, which bounds a difference.</summary>
    public static ArmComparison Difference(IReadOnlyList<(double Candidate, double Baseline)> pairs, double testVariance, double span,
        double confidence, TestSetVariance method)
    {
        CheckConfidence(confidence);
        int n = pairs.Count;
        if (n == 0)
            return new ArmComparison(0, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN,
                double.NaN, double.NaN, double.NaN, double.NaN, false, method);
        var d = pairs.Select(p => p.Candidate - p.Baseline).ToList();
        double mean = d.Average();
        double sd = n >= 2 ? Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (n - 1)) : double.NaN;
        // "Identical" up to rounding noise of the metric computation, not only bit-equal.
        bool identical = n >= 2 && d.Max() - d.Min() <= 1e-12 * Math.Max(1, Math.Abs(mean));
        double seedVariance = n >= 2 && !identical ? sd * sd / n : 0;
        var (se, df) = Combine(seedVariance, n, testVariance);
        double q = StudentT.Quantile((1 + confidence) / 2, df);
        double lower = se > 0 ? Math.Max(-span, mean - q * se) : mean, upper = se > 0 ? Math.Min(span, mean + q * se) : mean;
        double p = n >= MinSeeds && !identical && se > 0 ? StudentT.TwoSidedP(mean / se, df) : double.NaN;
        return new ArmComparison(n, 0, pairs.Average(x => x.Candidate), pairs.Average(x => x.Baseline), mean, sd, seedVariance,
            double.IsNaN(testVariance) ? 0 : testVariance, se, df, lower, upper, p, identical, method);
    }

    /// <summary>Standard error of seedVariance + testVariance, and its degrees of freedom: n − 1, those of the seed
    /// part, whenever there are 2 seeds or more. (Welch–Satterthwaite would give more, treating the test-set variance as
    /// known, and so could make the interval narrower than the seeds-only t interval by adding a source of variance;
    /// n − 1 never does.) One seed: the test set's normal interval.</summary>
    private static (double Se, double Df) Combine(double seedVariance, int n, double testVariance)
    {
        double test = double.IsNaN(testVariance) ? 0 : Math.Max(0, testVariance);
        return (Math.Sqrt(seedVariance + test), n >= 2 ? n - 1 : _largeDf);
    }

    // Where the t distribution is the normal for every purpose here (StudentT evaluates larger df at 1e8).
    private const double _largeDf = 1e8;

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static void CheckConfidence(double confidence)
    {
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
    }
}
