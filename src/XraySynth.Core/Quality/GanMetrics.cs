using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using XraySynth.Data;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>A quality metric of <c>gan metrics</c>.</summary>
public enum QualityMetric
{
    /// <summary>Fréchet distance (FID with Inception), with the relative FD.</summary>
    Fid,
    /// <summary>Kernel distance (KID with Inception), unbiased, 100 subsets of ≤ 1000.</summary>
    Kid,
    /// <summary>Precision and recall of k-NN manifolds (k = 3).</summary>
    Pr,
    /// <summary>The memorisation audit.</summary>
    Memorization,
}

/// <summary>Options of <c>gan metrics</c>.</summary>
public sealed record MetricsOptions
{
    /// <summary>Snapshot folder (network-snapshot-KKKKKK) whose G_ema generates the images; or set <see cref="Images"/>.</summary>
    public string? Network { get; init; }

    /// <summary>Folder of synthetic images (a <c>gan generate</c> folder, or any folder of PNGs).</summary>
    public string? Images { get; init; }

    /// <summary>The real images: GAN training zip, prepared folder or classifier manifest (see <see cref="RealImageSet"/>).</summary>
    public required string Data { get; init; }

    public IReadOnlyList<QualityMetric> Metrics { get; init; } = [QualityMetric.Fid];

    /// <summary>inception | builtin | classifier:RUN | FILE.pt (see <see cref="FeatureDetectors"/>).</summary>
    public string Detector { get; init; } = "inception";

    /// <summary>Synthetic images to measure (seeds 0 … Count − 1; a folder's first Count images).</summary>
    public int Count { get; init; } = 50_000;

    /// <summary>positive | negative: measure that class against the reals of that class.</summary>
    public string? Class { get; init; }

    /// <summary>Images per detector pass.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Seed of KID's subsets, the halves of the relative FD, the audit's calibration sample and a conditional
    /// model's class draws.</summary>
    public int Seed { get; init; }

    /// <summary>Real-feature cache folder; null = <see cref="FeatureCache.DefaultDirectory"/>.</summary>
    public string? CacheDir { get; init; }

    /// <summary>False: compute the real features every time and write no cache.</summary>
    public bool UseCache { get; init; } = true;

    public AuditOptions Audit { get; init; } = new();

    /// <summary>Where metric-*.jsonl and the audit files go; null = the snapshot's run folder (its parent), or the
    /// images folder.</summary>
    public string? OutDir { get; init; }

    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    public int KidSubsets { get; init; } = KernelDistance.DefaultSubsets;
    public int KidMaxSubsetSize { get; init; } = KernelDistance.DefaultMaxSubsetSize;
    public int PrNeighborhood { get; init; } = PrecisionRecall.DefaultNeighborhood;

    /// <summary>"fid,kid,pr,memorization" (also "all") → metrics.</summary>
    public static List<QualityMetric> ParseMetrics(string text)
    {
        var list = new List<QualityMetric>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase)) list.AddRange(Enum.GetValues<QualityMetric>());
            else if (Enum.TryParse<QualityMetric>(part, ignoreCase: true, out var m) && !int.TryParse(part, out _)) list.Add(m);
            else if (part.Equals("memorisation", StringComparison.OrdinalIgnoreCase)) list.Add(QualityMetric.Memorization);
            else throw new DataException($"--metrics '{part}': expected fid, kid, pr, memorization (comma-separated) or all.");
        }
        if (list.Count == 0) throw new DataException("--metrics: name at least one of fid, kid, pr, memorization.");
        return list.Distinct().ToList();
    }
}

/// <summary>One metric's values, as appended to <see cref="File"/>.</summary>
public sealed record MetricResult(string Metric, IReadOnlyDictionary<string, double> Results, string File);

/// <summary>What a metrics run measured and wrote.</summary>
public sealed record MetricsReport(
    IReadOnlyList<MetricResult> Results, AuditSummary? Audit, AuditOutput? AuditFiles, string OutDir, int RealImages,
    int SyntheticImages, string Detector, bool ComparableToPublished, string? Class, IReadOnlyList<string> CacheHits, double Seconds);

/// <summary>
/// <c>gan metrics</c>: FID/KID/precision-recall of a snapshot or an image folder against the real images, the relative
/// FD and the memorisation audit — one pass over the synthetic images in batches (features only are kept, never the
/// images), real features from the cache when present. Each metric appends one JSON line, in the official format
/// (<c>results</c>, <c>metric</c>, <c>total_time</c>, <c>snapshot_pkl</c>, <c>timestamp</c>, …), to
/// <c>metric-&lt;name&gt;.jsonl</c>. Names follow the official ones (<c>fid50k_full</c>, <c>kid50k_full</c>,
/// <c>pr50k3_full</c>; the count as measured) and carry the detector (<c>fid50k_full-builtin</c>) unless it is
/// NVIDIA's Inception, and the class when one was chosen.
/// </summary>
public static class GanMetrics
{
    public static MetricsReport Run(MetricsOptions o, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if ((o.Network is null) == (o.Images is null)) throw new DataException("pass exactly one of --network SNAPSHOT or --images DIR.");
        if (o.Batch < 1) throw new DataException($"--batch {o.Batch}: must be at least 1.");
        if (o.Metrics.Count == 0) throw new DataException("--metrics: name at least one of fid, kid, pr, memorization.");
        var clock = Stopwatch.StartNew();
        var device = TorchRuntime.Select(o.Device);
        using var detector = FeatureDetectors.Open(o.Detector, device, progress, cancel);     // first: a missing detector file is the likeliest error

        // The synthetic side decides the class and resolution the reals are taken at.
        SyntheticImages synthetic;
        RealImageSet reals;
        if (o.Network is not null)
        {
            var cls = SyntheticImages.SnapshotClass(o.Network, o.Class, out int resolution, out int cDim);
            reals = RealImageSet.Open(o.Data, cls, resolution);
            double[]? frequencies = cDim > 0 && cls is null && reals.Images.All(i => i.Label is not null)
                ? [reals.Images.Count(i => i.Label == 0), reals.Images.Count(i => i.Label == 1)]
                : null;
            try
            {
                synthetic = SyntheticImages.FromNetwork(o.Network, o.Count, cls, frequencies, device, o.Seed);
            }
            catch
            {
                reals.Dispose();
                throw;
            }
        }
        else
        {
            synthetic = SyntheticImages.FromFolder(o.Images!, o.Count, o.Class);
            try
            {
                reals = RealImageSet.Open(o.Data, synthetic.ClassName, synthetic.Resolution);
            }
            catch
            {
                synthetic.Dispose();
                throw;
            }
        }
        using var realSet = reals;
        using var syntheticSet = synthetic;
        CheckCounts(o, reals.Count, synthetic.Count);

        bool audit = o.Metrics.Contains(QualityMetric.Memorization);
        int pixelSize = Math.Min(o.Audit.PixelSize, Math.Min(reals.Resolution, synthetic.Resolution));
        var cache = o.UseCache ? new FeatureCache(o.CacheDir ?? FeatureCache.DefaultDirectory()) : null;
        using var real = RealFeatures.Load(reals, detector, cache, audit, pixelSize, o.Batch, device, progress, cancel);
        using var auditor = audit
            ? new MemorizationAudit(real.Features, real.Mirrored!, real.Pixels!, reals.PatientGroups(), o.Audit with { PixelSize = pixelSize }, device)
            : null;

        // One pass over the synthetic images.
        bool keepAll = o.Metrics.Contains(QualityMetric.Kid) || o.Metrics.Contains(QualityMetric.Pr);
        using var generated = new FeatureAccumulator(keepAll);
        progress?.Report(new ProgressInfo("synthetic images", 0, synthetic.Count));
        foreach (var batch in synthetic.Batches(o.Batch, cancel))
        {
            using (batch)
            {
                cancel.ThrowIfCancellationRequested();
                using var features = detector.Extract(batch.Images);
                generated.Append(features);
                if (auditor is not null)
                {
                    using var pixels = ImageTensors.PixelVectors(batch.Images, pixelSize, device);
                    auditor.Add(batch, features, pixels);
                }
            }
            progress?.Report(new ProgressInfo("synthetic images", generated.Count, synthetic.Count));
        }

        // The metrics.
        var outDir = Path.GetFullPath(o.OutDir ?? (o.Network is not null ? Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Network)))! : o.Images!));
        OutputFolder.Ensure(outDir, "--out");
        int n = (int)generated.Count;
        string count = n % 1000 == 0 ? $"{n / 1000}k" : n.ToString(CultureInfo.InvariantCulture);
        string suffix = (detector.ComparableToPublished ? "" : "-" + detector.Name) + (synthetic.ClassName is null ? "" : "-" + synthetic.ClassName);
        var results = new List<(string Name, Dictionary<string, double> Values)>();
        foreach (var metric in o.Metrics)
        {
            cancel.ThrowIfCancellationRequested();
            switch (metric)
            {
                case QualityMetric.Fid:
                {
                    string name = $"fid{count}_full{suffix}";
                    using var moments = generated.Moments();
                    double fd = FrechetDistance.Compute(moments, real.Moments);
                    var values = new Dictionary<string, double> { [name] = fd };
                    if (RealHalves(real.Features, o.Seed) is { } halves)
                    {
                        values["fd_real_halves"] = halves;
                        values["relative_fd"] = fd / halves;
                    }
                    results.Add((name, values));
                    break;
                }
                case QualityMetric.Kid:
                {
                    string name = $"kid{count}_full{suffix}";
                    progress?.Report(new ProgressInfo("kid", 0, 1, "run"));
                    double kid = KernelDistance.Compute(generated.All(), real.Features, o.KidSubsets, o.KidMaxSubsetSize, o.Seed, device);
                    progress?.Report(new ProgressInfo("kid", 1, 1, "run"));
                    results.Add((name, new Dictionary<string, double> { [name] = kid }));
                    break;
                }
                case QualityMetric.Pr:
                {
                    // pr50k3_full as the official name; a count not in thousands gets a separator: pr500_3_full.
                    string name = $"pr{count}{(char.IsDigit(count[^1]) ? "_" : "")}{o.PrNeighborhood}_full{suffix}";
                    progress?.Report(new ProgressInfo("precision/recall", 0, 1, "run"));
                    var (precision, recall) = PrecisionRecall.Compute(real.Features, generated.All(), o.PrNeighborhood, device);
                    progress?.Report(new ProgressInfo("precision/recall", 1, 1, "run"));
                    results.Add((name, new Dictionary<string, double> { [name + "_precision"] = precision, [name + "_recall"] = recall }));
                    break;
                }
                case QualityMetric.Memorization:
                {
                    var s = auditor!.Summary();
                    string name = $"mem{count}{suffix}";
                    results.Add((name, new Dictionary<string, double>
                    {
                        [name + "_flagged"] = s.Flagged, [name + "_flagged_fraction"] = s.Flagged / (double)Math.Max(1, s.Images),
                        [name + "_flagged_feature"] = s.Feature.Flagged, [name + "_flagged_pixel"] = s.Pixel.Flagged,
                        [name + "_feature_threshold"] = s.Feature.Threshold, [name + "_pixel_threshold"] = s.Pixel.Threshold,
                        [name + "_chance_rate"] = Math.Max(s.Feature.RealBelowThreshold, s.Pixel.RealBelowThreshold),
                    }));
                    break;
                }
            }
        }

        // Files.
        var context = new JsonObject
        {
            ["data"] = reals.Source, ["num_real"] = reals.Count, ["num_gen"] = n, ["class"] = synthetic.ClassName,
            ["snapshot_pkl"] = o.Network is null ? null : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Network))),
            ["images"] = o.Images is null ? null : Path.GetFullPath(o.Images),
            ["detector"] = detector.Name, ["detector_sha256"] = detector.Identity, ["comparable_to_published"] = detector.ComparableToPublished,
            ["seed"] = o.Seed,
        };
        AuditOutput? auditFiles = null;
        if (auditor is not null)
        {
            var baseName = o.Network is null ? AuditFiles.BaseName : AuditFiles.BaseName + "-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Network)));
            auditFiles = AuditFiles.Write(outDir, baseName, auditor, reals, context);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var written = new List<MetricResult>();
        foreach (var (name, values) in results)
        {
            var file = Path.Combine(outDir, $"metric-{name}.jsonl");
            var record = new JsonObject
            {
                // JSON has no NaN: a value that could not be computed (a diverged generator) is written as null.
                ["results"] = new JsonObject(values.Select(kv => KeyValuePair.Create(kv.Key, double.IsFinite(kv.Value) ? (JsonNode?)JsonValue.Create(kv.Value) : null))),
                ["metric"] = name,
                ["total_time"] = seconds,
                ["total_time_str"] = FormatTime(seconds),
                ["num_gpus"] = device.type == TorchSharp.DeviceType.CUDA ? 1 : 0,
                ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            };
            foreach (var (key, value) in context) record[key] = value?.DeepClone();
            File.AppendAllText(file, record.ToJsonString() + "\n");
            written.Add(new MetricResult(name, values, file));
        }
        return new MetricsReport(written, auditor?.Summary(), auditFiles, outDir, reals.Count, n, detector.Name,
            detector.ComparableToPublished, synthetic.ClassName, real.Cached, seconds);
    }

    private static void CheckCounts(MetricsOptions o, int reals, int synthetic)
    {
        if (o.Metrics.Contains(QualityMetric.Fid) && (reals < 2 || synthetic < 2))
            throw new DataException($"FID needs at least 2 real and 2 synthetic images, got {reals} and {synthetic}.");
        if (o.Metrics.Contains(QualityMetric.Kid) && (reals < 2 || synthetic < 2))
            throw new DataException($"KID needs at least 2 real and 2 synthetic images, got {reals} and {synthetic}.");
        if (o.Metrics.Contains(QualityMetric.Pr) && Math.Min(reals, synthetic) < o.PrNeighborhood + 1)
            throw new DataException($"precision/recall with k = {o.PrNeighborhood} needs at least {o.PrNeighborhood + 1} real and synthetic images, got {reals} and {synthetic}.");
    }

    /// <summary>FD between two random halves of the real features (seeded), the scale of the relative FD; null for fewer
    /// than 4 reals.</summary>
    public static double? RealHalves(Tensor realFeatures, int seed)
    {
        int n = (int)realFeatures.shape[0];
        if (n < 4) return null;
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        using var a = tensor(order.Take(n / 2).Select(i => (long)i).ToArray());
        using var b = tensor(order.Skip(n / 2).Take(n / 2).Select(i => (long)i).ToArray());
        using var fa = realFeatures.index_select(0, a);
        using var fb = realFeatures.index_select(0, b);
        using var ma = FeatureMoments.Of(fa);
        using var mb = FeatureMoments.Of(fb);
        return FrechetDistance.Compute(ma, mb);
    }

    /// <summary>Elapsed time as the official dnnlib.util.format_time: 42s, 3m 07s, 2h 05m 09s, 1d 03h 04m.</summary>
    public static string FormatTime(double seconds)
    {
        long s = (long)Math.Round(seconds);
        if (s < 60) return $"{s}s";
        if (s < 3600) return $"{s / 60}m {s % 60:D2}s";
        if (s < 86400) return $"{s / 3600}h {s / 60 % 60:D2}m {s % 60:D2}s";
        return $"{s / 86400}d {s / 3600 % 24:D2}h {s / 60 % 60:D2}m";
    }
}
