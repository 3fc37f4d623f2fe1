using XraySynth.Data;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>Opens a detector from its command-line spelling: <c>inception</c>, <c>builtin</c>, <c>classifier:RUN</c>
/// or the path of a TorchScript file.</summary>
public static class FeatureDetectors
{
    /// <summary>Environment variable naming the Inception TorchScript file.</summary>
    public const string InceptionVariable = "XRAYSYNTH_INCEPTION";

    /// <summary>Environment variable naming XraySynth's cache folder (default <c>~/.cache/xraysynth</c>).</summary>
    public const string CacheVariable = "XRAYSYNTH_CACHE";

    /// <summary>Where NVIDIA publishes the FID Inception network.</summary>
    public const string InceptionUrl = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt";

    /// <summary>XraySynth's cache folder: <c>$XRAYSYNTH_CACHE</c>, else <c>~/.cache/xraysynth</c>.</summary>
    public static string CacheRoot()
    {
        var env = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "xraysynth");
    }

    /// <summary>Opens the detector <paramref name="spec"/> on <paramref name="device"/>.</summary>
    /// <exception cref="DataException">Unknown spelling, missing or unreadable file (the message says how to fix it).</exception>
    public static IFeatureDetector Open(string spec, Device? device = null)
    {
        device ??= CPU;
        var s = spec.Trim();
        if (s.Equals("builtin", StringComparison.OrdinalIgnoreCase)) return new BuiltinDetector(device);
        if (s.Equals("inception", StringComparison.OrdinalIgnoreCase))
        {
            var found = FindInception()
                ?? throw new DataException(
                    $"--detector inception: {TorchScriptDetector.InceptionFileName} not found (looked at ${InceptionVariable}, " +
                    $"{Path.Combine(CacheRoot(), TorchScriptDetector.InceptionFileName)} and the official code's download cache ~/.cache/dnnlib/downloads). " +
                    $"fix: download it once from {InceptionUrl} and pass --detector FILE.pt (or put it in {CacheRoot()}), " +
                    "or use --detector builtin (works offline; its numbers are not comparable to published FIDs).");
            return TorchScriptDetector.Load(found, device);
        }
        if (s.StartsWith("classifier:", StringComparison.OrdinalIgnoreCase))
        {
            var run = s["classifier:".Length..];
            if (run.Length == 0) throw new DataException("--detector classifier:RUN needs the run folder of 'xraysynth classifier train'.");
            return ClassifierDetector.Load(run, device);
        }
        if (File.Exists(s) || s.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || s.EndsWith(".pth", StringComparison.OrdinalIgnoreCase))
            return TorchScriptDetector.Load(s, device);
        throw new DataException($"--detector '{spec}': expected inception, builtin, classifier:RUN or the path of a TorchScript .pt file.");
    }

    /// <summary>NVIDIA's Inception file where users keep it: <c>$XRAYSYNTH_INCEPTION</c>, the XraySynth cache folder,
    /// or the official code's download cache (<c>$DNNLIB_CACHE_DIR/downloads</c>, <c>~/.cache/dnnlib/downloads</c>,
    /// where it is stored as <c>&lt;md5&gt;_inception-2015-12-05.pt</c>). Null when none is there.</summary>
    public static string? FindInception()
    {
        var env = Environment.GetEnvironmentVariable(InceptionVariable);
        if (!string.IsNullOrEmpty(env)) return env;   // named explicitly: a missing file is reported by the loader
        var ours = Path.Combine(CacheRoot(), TorchScriptDetector.InceptionFileName);
        if (File.Exists(ours)) return ours;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var dnnlib = Environment.GetEnvironmentVariable("DNNLIB_CACHE_DIR");
        foreach (var dir in new[] { dnnlib is { Length: > 0 } ? Path.Combine(dnnlib, "downloads") : null, Path.Combine(home, ".cache", "dnnlib", "downloads") })
        {
            if (dir is null || !Directory.Exists(dir)) continue;
            var hit = Directory.EnumerateFiles(dir, "*_" + TorchScriptDetector.InceptionFileName).Order(StringComparer.Ordinal).FirstOrDefault();
            if (hit is not null) return hit;
        }
        return null;
    }
}
