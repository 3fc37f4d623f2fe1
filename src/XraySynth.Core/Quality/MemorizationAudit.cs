using XraySynth.Imaging;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>Settings of the memorisation audit.</summary>
public sealed record AuditOptions
{
    /// <summary>The percentile (0–100) of the real-vs-real nearest-neighbour distances that calibrates the threshold:
    /// all but this share of real images lie farther than it from the nearest image of another patient.</summary>
    public double Percentile { get; init; } = 1.0;

    /// <summary>The threshold is this fraction of that percentile. A copy (even flipped or slightly noised) lies far
    /// closer than any two patients' images; a margin below 1 keeps genuinely new images — of which about
    /// <see cref="Percentile"/>% fall under the bare percentile by chance — from being flagged. The share of real
    /// images under the threshold is reported as the expected chance rate.</summary>
    public double Margin { get; init; } = 0.5;

    /// <summary>Side of the grey images compared in pixel space.</summary>
    public int PixelSize { get; init; } = 64;

    /// <summary>Real images whose nearest other-patient neighbour calibrates the thresholds (a seeded sample when there
    /// are more).</summary>
    public int CalibrationQueries { get; init; } = 5000;

    /// <summary>Pairs shown in the closest-pairs picture.</summary>
    public int ClosestPairs { get; init; } = 16;

    public int Seed { get; init; }
}

/// <summary>One synthetic image's nearest training images. Distances: Euclidean in detector-feature space; RMS grey-level
/// difference (0–255) in pixel space. Ratios are distance / threshold (below 1 = flagged). Indices are into the real
/// set; "mirrored" means the x-flipped training image was the nearest.</summary>
public sealed record AuditRow(string File, bool Flagged, double FeatureDistance, double FeatureRatio, int FeatureNearest,
    bool FeatureMirrored, double PixelRms, double PixelRatio, int PixelNearest, bool PixelMirrored);

/// <summary>A distribution's summary.</summary>
public sealed record DistanceQuantiles(double Min, double P1, double P5, double P25, double Median, double P75, double Max)
{
    public static DistanceQuantiles Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return new DistanceQuantiles(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        return new DistanceQuantiles(sorted[0], Quantile(sorted, 0.01), Quantile(sorted, 0.05), Quantile(sorted, 0.25),
            Quantile(sorted, 0.5), Quantile(sorted, 0.75), sorted[^1]);
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>One space's threshold, the distributions it came from and led to, and how many images it flagged.</summary>
/// <param name="Threshold">Distance under which an image is flagged.</param>
/// <param name="RealBelowThreshold">Share of the real calibration images whose nearest other-patient image is under the
/// threshold: the rate at which genuinely new images would be flagged by chance.</param>
public sealed record AuditSpace(double Threshold, double RealBelowThreshold, DistanceQuantiles RealToReal, DistanceQuantiles SyntheticToReal, int Flagged);

/// <summary>The audit's findings.</summary>
public sealed record AuditSummary(int Images, int Flagged, double Percentile, double Margin, AuditSpace Feature, AuditSpace Pixel,
    int CalibrationQueries, int RealDuplicatesIgnored, int PixelSize);

/// <summary>A synthetic image and its nearest training image, for the closest-pairs picture.</summary>
public sealed record AuditPair(AuditRow Row, RasterImage Synthetic, int RealIndex, bool RealMirrored, double Score);

/// <summary>
/// The memorisation audit: for every synthetic image, its nearest training image in detector-feature space and in pixel
/// space (grey, <see cref="AuditOptions.PixelSize"/>², the same preprocessing on both sides), searched among the
/// training images and their x-flips (training with --mirror shows the network both). Thresholds are calibrated on
/// real-vs-real nearest neighbours: for (a sample of) the training images, the distance to the nearest training image
/// of another patient (another image when patients are unknown; its own flip excluded); exact duplicates among the
/// reals are left out; the threshold is <see cref="AuditOptions.Margin"/> × the <see cref="AuditOptions.Percentile"/>-th
/// percentile (default: half the 1st percentile). An image is flagged when it is under the threshold in either space.
/// Stream synthetic batches through <see cref="Add"/>.
/// </summary>
public sealed class MemorizationAudit : IDisposable
{
    private readonly NeighborSearch _features;     // reals then their mirrors: [2N, D]
    private readonly NeighborSearch _pixels;       // [2N, S²]
    private readonly int _count;
    private readonly AuditOptions _options;
    private readonly double _pixelScale;
    private readonly double[] _realFeatureNn;
    private readonly double[] _realPixelNn;
    private readonly List<AuditRow> _rows = [];
    private readonly List<AuditPair> _pairs = [];
    private readonly int _calibrationQueries;
    private readonly int _duplicates;

    /// <param name="realFeatures">[N, D] detector features of the training images.</param>
    /// <param name="realMirroredFeatures">[N, D] features of their x-flips.</param>
    /// <param name="realPixels">[N, S²] uint8 pixel vectors (<see cref="ImageTensors.PixelVectors"/>).</param>
    /// <param name="groups">Per training image, its patient group (<see cref="RealImageSet.PatientGroups"/>).</param>
    public MemorizationAudit(Tensor realFeatures, Tensor realMirroredFeatures, Tensor realPixels, long[] groups,
        AuditOptions options, Device? device = null)
    {
        _options = options;
        _count = (int)realFeatures.shape[0];
        if (groups.Length != _count || realMirroredFeatures.shape[0] != _count || realPixels.shape[0] != _count)
            throw new ArgumentException("Features, mirrored features, pixels and groups must describe the same images.");
        if (options.Percentile is <= 0 or >= 100) throw new DataException($"audit percentile {options.Percentile}: expected a value in (0, 100).");
        if (options.Margin is <= 0 or > 1) throw new DataException($"audit margin {options.Margin}: expected a value in (0, 1].");
        if (groups.Distinct().Count() < 2)
            throw new DataException("the memorisation audit needs real images of at least two patients to calibrate its threshold.");
        int size = options.PixelSize;
        _pixelScale = 1 / Math.Sqrt(realPixels.shape[1]);
        using (var scope = NewDisposeScope())
        {
            _features = new NeighborSearch(cat([realFeatures, realMirroredFeatures], 0), device);
            var pixels = realPixels.to(ScalarType.Float32);
            _pixels = new NeighborSearch(cat([pixels, ImageTensors.MirrorPixelVectors(pixels, size)], 0), device);
        }

        // Calibration: each sampled real's nearest image of another group, both orientations searched.
        var rng = new Random(options.Seed);
        var queries = Enumerable.Range(0, _count).ToArray();
        rng.Shuffle(queries);
        queries = [.. queries.Take(Math.Min(options.CalibrationQueries, _count)).Order()];
        _calibrationQueries = queries.Length;
        var refGroups = groups.Concat(groups).ToArray();
        var queryGroups = queries.Select(q => groups[q]).ToArray();
        using var index = tensor(queries.Select(q => (long)q).ToArray());
        using var qf = realFeatures.index_select(0, index);
        using var qp = realPixels.index_select(0, index);
        _realFeatureNn = _features.Nearest(qf, queryGroups, refGroups).Distance;
        _realPixelNn = _pixels.Nearest(qp, queryGroups, refGroups).Distance.Select(d => d * _pixelScale).ToArray();
        FeatureThreshold = Threshold(ref _realFeatureNn, out int dupF);
        PixelThreshold = Threshold(ref _realPixelNn, out int dupP);
        _duplicates = Math.Max(dupF, dupP);
    }

    /// <summary>Feature-space distance under which a synthetic image is flagged.</summary>
    public double FeatureThreshold { get; }

    /// <summary>Pixel-space RMS grey-level difference under which a synthetic image is flagged.</summary>
    public double PixelThreshold { get; }

    /// <summary>Audited images so far.</summary>
    public IReadOnlyList<AuditRow> Rows => _rows;

    /// <summary>Audits one batch: <paramref name="features"/> [B, D] and <paramref name="pixels"/> [B, S²] of
    /// <paramref name="batch"/>'s images.</summary>
    public void Add(ImageBatch batch, Tensor features, Tensor pixels)
    {
        var (fd, fi) = _features.Nearest(features);
        var (pd, pi) = _pixels.Nearest(pixels);
        for (int k = 0; k < batch.Count; k++)
        {
            double f = fd[k], p = pd[k] * _pixelScale;
            double fr = f / FeatureThreshold, pr = p / PixelThreshold;
            var row = new AuditRow(batch.Ids[k], fr < 1 || pr < 1, f, fr, (int)(fi[k] % _count), fi[k] >= _count,
                p, pr, (int)(pi[k] % _count), pi[k] >= _count);
            _rows.Add(row);
            double score = Math.Min(fr, pr);
            if (_pairs.Count < _options.ClosestPairs || score < _pairs[^1].Score)
            {
                bool byFeature = fr <= pr;
                var pair = new AuditPair(row, ToRaster(batch.Images, k), byFeature ? row.FeatureNearest : row.PixelNearest,
                    byFeature ? row.FeatureMirrored : row.PixelMirrored, score);
                int at = _pairs.FindIndex(x => x.Score > score);
                _pairs.Insert(at < 0 ? _pairs.Count : at, pair);
                if (_pairs.Count > _options.ClosestPairs) _pairs.RemoveAt(_pairs.Count - 1);
            }
        }
    }

    /// <summary>The closest pairs seen, closest (relative to the thresholds) first.</summary>
    public IReadOnlyList<AuditPair> ClosestPairs => _pairs;

    public AuditSummary Summary() => new(
        _rows.Count, _rows.Count(r => r.Flagged), _options.Percentile, _options.Margin,
        Space(FeatureThreshold, _realFeatureNn, _rows.Select(r => r.FeatureDistance), _rows.Count(r => r.FeatureRatio < 1)),
        Space(PixelThreshold, _realPixelNn, _rows.Select(r => r.PixelRms), _rows.Count(r => r.PixelRatio < 1)),
        _calibrationQueries, _duplicates, _options.PixelSize);

    private static AuditSpace Space(double threshold, double[] real, IEnumerable<double> synthetic, int flagged) =>
        new(threshold, real.Count(d => d < threshold) / (double)real.Length, DistanceQuantiles.Of(real), DistanceQuantiles.Of(synthetic), flagged);

    /// <summary>Margin × the percentile of the distances, exact duplicates (≤ 1e-6 of the median) left out.</summary>
    private double Threshold(ref double[] distances, out int duplicates)
    {
        var sorted = distances.Order().ToArray();
        double median = DistanceQuantiles.Quantile(sorted, 0.5);
        var kept = sorted.Where(d => d > 1e-6 * median).ToArray();
        duplicates = sorted.Length - kept.Length;
        if (kept.Length == 0)
            throw new DataException("the memorisation audit cannot calibrate: every real image has an exact duplicate of another patient.");
        distances = kept;
        return _options.Margin * DistanceQuantiles.Quantile(kept, _options.Percentile / 100);
    }

    private static RasterImage ToRaster(Tensor images, int k)
    {
        using var chw = images[k];
        using var hwc = chw.permute(1, 2, 0).contiguous();
        return new RasterImage((int)hwc.shape[1], (int)hwc.shape[0], (int)hwc.shape[2], hwc.data<byte>().ToArray());
    }

    public void Dispose()
    {
        _features.Dispose();
        _pixels.Dispose();
    }
}
