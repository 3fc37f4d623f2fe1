using System.Text.Json.Nodes;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>What the metrics need of the real images, from the cache or one pass over them: detector features
/// [N, D] with their moments, and for the audit the features of the x-flipped images and the pixel vectors.</summary>
internal sealed class RealFeatures : IDisposable
{
    private RealFeatures(Tensor features, FeatureMoments moments, Tensor? mirrored, Tensor? pixels, IReadOnlyList<string> cached)
    {
        Features = features;
        Moments = moments;
        Mirrored = mirrored;
        Pixels = pixels;
        Cached = cached;
    }

    /// <summary>float32 [N, D].</summary>
    public Tensor Features { get; }

    public FeatureMoments Moments { get; }

    /// <summary>float32 [N, D] of the x-flipped images (audit only).</summary>
    public Tensor? Mirrored { get; }

    /// <summary>uint8 [N, S²] (audit only).</summary>
    public Tensor? Pixels { get; }

    /// <summary>The cache files that were read.</summary>
    public IReadOnlyList<string> Cached { get; }

    public static RealFeatures Load(RealImageSet reals, IFeatureDetector detector, FeatureCache? cache, bool audit, int pixelSize,
        int batch, Device device, IProgress<ProgressInfo>? progress, CancellationToken cancel)
    {
        string? featuresFile = cache?.PathFor(reals, detector.Name + "-features", detector.Identity);
        string? mirroredFile = audit ? cache?.PathFor(reals, detector.Name + "-mirrored", detector.Identity) : null;
        string? pixelsFile = audit ? cache?.PathFor(reals, $"pixels{pixelSize}", "grey-area-v1") : null;
        var cached = new List<string>();
        Tensor? features = null, mirrored = null, pixels = null;
        FeatureMoments? moments = null;
        // A cached entry is used only when every tensor has the dtype and exact shape this code writes (features
        // float32 [N, D], mean float64 [D], cov float64 [D, D], pixels uint8 [N, S²]); anything else is recomputed.
        if (featuresFile is not null && FeatureCache.TryLoad(featuresFile, reals.Count, "features") is { } f
            && f.TryGetValue("mean", out var mean) && f.TryGetValue("cov", out var cov)
            && FeatureCache.Fits(f["features"], ScalarType.Float32, reals.Count, -1)
            && FeatureCache.Fits(mean, ScalarType.Float64, f["features"].shape[1])
            && FeatureCache.Fits(cov, ScalarType.Float64, f["features"].shape[1], f["features"].shape[1]))
        {
            features = f["features"];
            moments = new FeatureMoments(mean, cov, reals.Count);
            cached.Add(featuresFile);
        }
        if (mirroredFile is not null && FeatureCache.TryLoad(mirroredFile, reals.Count, "features") is { } m
            && FeatureCache.Fits(m["features"], ScalarType.Float32, reals.Count, -1))
        {
            mirrored = m["features"];
            cached.Add(mirroredFile);
        }
        if (pixelsFile is not null && FeatureCache.TryLoad(pixelsFile, reals.Count, "pixels") is { } p
            && FeatureCache.Fits(p["pixels"], ScalarType.Byte, reals.Count, (long)pixelSize * pixelSize))
        {
            pixels = p["pixels"];
            cached.Add(pixelsFile);
        }
        bool needFeatures = features is null, needMirrored = audit && mirrored is null, needPixels = audit && pixels is null;
        if (needFeatures || needMirrored || needPixels)
        {
            using var acc = new FeatureAccumulator(keepAll: true);
            var mirroredParts = new List<Tensor>();
            var pixelParts = new List<Tensor>();
            int done = 0;
            progress?.Report(new ProgressInfo("real images", 0, reals.Count));
            foreach (var b in ImageBatches.Decode(reals.Count, batch, reals.Load, i => reals.Images[i].Name, cancel))
            {
                using (b)
                {
                    cancel.ThrowIfCancellationRequested();
                    if (needFeatures)
                    {
                        using var x = detector.Extract(b.Images);
                        acc.Append(x);
                    }
                    if (needMirrored)
                    {
                        using var flipped = b.Images.flip(3);
                        mirroredParts.Add(detector.Extract(flipped));
                    }
                    if (needPixels) pixelParts.Add(ImageTensors.PixelVectors(b.Images, pixelSize, device));
                    done += b.Count;
                }
                progress?.Report(new ProgressInfo("real images", done, reals.Count));
            }
            var description = new JsonObject
            {
                ["dataset"] = reals.Source, ["tag"] = reals.Tag, ["images"] = reals.Count, ["contentSha256"] = reals.ContentHash(),
                ["detector"] = detector.Name, ["detectorIdentity"] = detector.Identity,
            };
            if (needFeatures)
            {
                features = acc.All().clone();
                moments = acc.Moments();
                if (featuresFile is not null)
                    FeatureCache.Save(featuresFile, new Dictionary<string, Tensor> { ["features"] = features, ["mean"] = moments.Mean, ["cov"] = moments.Covariance },
                        Describe(description, "detector features [N, D] float32 with their mean and population covariance (float64)"));
            }
            if (needMirrored)
            {
                mirrored = Concat(mirroredParts);
                if (mirroredFile is not null)
                    FeatureCache.Save(mirroredFile, new Dictionary<string, Tensor> { ["features"] = mirrored }, Describe(description, "detector features of the x-flipped images"));
            }
            if (needPixels)
            {
                pixels = Concat(pixelParts);
                if (pixelsFile is not null)
                    FeatureCache.Save(pixelsFile, new Dictionary<string, Tensor> { ["pixels"] = pixels },
                        Describe(description, $"grey {pixelSize}x{pixelSize} pixel vectors [N, {pixelSize * pixelSize}] uint8 (audit pixel space)"));
            }
        }
        return new RealFeatures(features!, moments!, mirrored, pixels, cached);
    }

    private static JsonObject Describe(JsonObject common, string what)
    {
        var o = (JsonObject)common.DeepClone();
        o["holds"] = what;
        return o;
    }

    private static Tensor Concat(List<Tensor> parts)
    {
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    public void Dispose()
    {
        Features.Dispose();
        Moments.Dispose();
        Mirrored?.Dispose();
        Pixels?.Dispose();
    }
}
