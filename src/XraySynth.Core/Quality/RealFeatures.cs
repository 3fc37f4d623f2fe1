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
        // A cached entry is used only when every tensor has the dtype and exact shape this code writes (features
        // float32 [N, D], mean float64 [D], cov float64 [D, D], pixels uint8 [N, S²]); anything else is recomputed.
        var (features, moments) = CachedFeatures(featuresFile, reals.Count, cached);
        var mirrored = CachedTensor(mirroredFile, reals.Count, "features", ScalarType.Float32, -1, cached);
        var pixels = CachedTensor(pixelsFile, reals.Count, "pixels", ScalarType.Byte, (long)pixelSize * pixelSize, cached);
        bool needFeatures = features is null, needMirrored = audit && mirrored is null, needPixels = audit && pixels is null;
        if (!(needFeatures || needMirrored || needPixels))
            return new RealFeatures(features!, moments!, mirrored, pixels, cached);

        var pass = OnePass(reals, detector, needFeatures, needMirrored, needPixels ? pixelSize : null, batch, device, progress, cancel);
        var description = new JsonObject
        {
            ["dataset"] = reals.Source, ["tag"] = reals.Tag, ["images"] = reals.Count, ["contentSha256"] = reals.ContentHash(),
            ["detector"] = detector.Name, ["detectorIdentity"] = detector.Identity,
        };
        if (needFeatures)
        {
            (features, moments) = (pass.Features!, pass.Moments!);
            if (featuresFile is not null)
                FeatureCache.Save(featuresFile, new Dictionary<string, Tensor> { ["features"] = features, ["mean"] = moments.Mean, ["cov"] = moments.Covariance },
                    Describe(description, "detector features [N, D] float32 with their mean and population covariance (float64)"));
        }
        if (needMirrored)
        {
            mirrored = pass.Mirrored!;
            if (mirroredFile is not null)
                FeatureCache.Save(mirroredFile, new Dictionary<string, Tensor> { ["features"] = mirrored }, Describe(description, "detector features of the x-flipped images"));
        }
        if (needPixels)
        {
            pixels = pass.Pixels!;
            if (pixelsFile is not null)
                FeatureCache.Save(pixelsFile, new Dictionary<string, Tensor> { ["pixels"] = pixels },
                    Describe(description, $"grey {pixelSize}x{pixelSize} pixel vectors [N, {pixelSize * pixelSize}] uint8 (audit pixel space)"));
        }
        return new RealFeatures(features!, moments!, mirrored, pixels, cached);
    }

    /// <summary>The cached features with their moments, when the entry holds all three in the shapes written.</summary>
    private static (Tensor? Features, FeatureMoments? Moments) CachedFeatures(string? file, int count, List<string> cached)
    {
        if (file is null || FeatureCache.TryLoad(file, count, "features") is not { } f
            || !f.TryGetValue("mean", out var mean) || !f.TryGetValue("cov", out var cov)
            || !FeatureCache.Fits(f["features"], ScalarType.Float32, count, -1)
            || !FeatureCache.Fits(mean, ScalarType.Float64, f["features"].shape[1])
            || !FeatureCache.Fits(cov, ScalarType.Float64, f["features"].shape[1], f["features"].shape[1]))
            return (null, null);
        cached.Add(file);
        return (f["features"], new FeatureMoments(mean, cov, count));
    }

    /// <summary>The cached tensor <paramref name="key"/> [count, width] of <paramref name="dtype"/>, or null.</summary>
    private static Tensor? CachedTensor(string? file, int count, string key, ScalarType dtype, long width, List<string> cached)
    {
        if (file is null || FeatureCache.TryLoad(file, count, key) is not { } entry || !FeatureCache.Fits(entry[key], dtype, count, width))
            return null;
        cached.Add(file);
        return entry[key];
    }

    /// <summary>What one pass over the real images computed (null where it was not needed).</summary>
    private sealed record PassResult(Tensor? Features, FeatureMoments? Moments, Tensor? Mirrored, Tensor? Pixels);

    /// <summary>One decoding pass over the reals: detector features (with moments), features of the x-flipped images,
    /// pixel vectors of <paramref name="pixelSize"/>² (null: not needed), as requested.</summary>
    private static PassResult OnePass(RealImageSet reals, IFeatureDetector detector, bool features, bool mirrored, int? pixelSize,
        int batch, Device device, IProgress<ProgressInfo>? progress, CancellationToken cancel)
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
                if (features)
                {
                    using var x = detector.Extract(b.Images);
                    acc.Append(x);
                }
                if (mirrored)
                {
                    using var flipped = b.Images.flip(3);
                    mirroredParts.Add(detector.Extract(flipped));
                }
                if (pixelSize is { } size) pixelParts.Add(ImageTensors.PixelVectors(b.Images, size, device));
                done += b.Count;
            }
            progress?.Report(new ProgressInfo("real images", done, reals.Count));
        }
        return new PassResult(features ? acc.All().clone() : null, features ? acc.Moments() : null,
            mirrored ? Concat(mirroredParts) : null, pixelSize is not null ? Concat(pixelParts) : null);
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
