using XraySynth.Runtime;
using XraySynth.Weights;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>Opens a detector from its command-line spelling: <c>inception</c>, <c>builtin</c>, <c>classifier:RUN</c>
/// or the path of a TorchScript file.</summary>
public static class FeatureDetectors
{
    /// <summary>Environment variable naming the Inception TorchScript file.</summary>
    public const string InceptionVariable = "XRAYSYNTH_INCEPTION";

    /// <summary>Environment variable naming XraySynth's cache folder (default <c>~/.cache/xraysynth</c>).</summary>
    public const string CacheVariable = CacheFolder.Variable;

    /// <summary>XraySynth's cache folder: <c>$XRAYSYNTH_CACHE</c>, else <c>~/.cache/xraysynth</c>.</summary>
    public static string CacheRoot() => CacheFolder.Root();

    /// <summary>Opens the detector <paramref name="spec"/> on <paramref name="device"/>. <c>inception</c> is
    /// <c>$XRAYSYNTH_INCEPTION</c> when set, else NVIDIA's file from <see cref="WeightsCache"/> (reused from the official
    /// code's dnnlib cache, or downloaded once and verified; <paramref name="progress"/> sees the download).</summary>
    /// <exception cref="DataException">Unknown spelling, missing or unreadable file (the message says how to fix it).</exception>
    /// <exception cref="WeightsException">The Inception file could not be downloaded (the message names the URL and the
    /// folder), or <c>$XRAYSYNTH_INCEPTION</c> names no file.</exception>
    public static IFeatureDetector Open(string spec, Device? device = null, IProgress<ProgressInfo>? progress = null,
        CancellationToken cancel = default)
    {
        device ??= CPU;
        var s = spec.Trim();
        if (s.Equals("builtin", StringComparison.OrdinalIgnoreCase)) return new BuiltinDetector(device);
        if (s.Equals("inception", StringComparison.OrdinalIgnoreCase))
        {
            var path = Environment.GetEnvironmentVariable(InceptionVariable) is { Length: > 0 } env
                ? InceptionFromEnvironment(env)
                : WeightsCache.FromEnvironment().Resolve(InceptionSource, progress, cancel);
            return TorchScriptDetector.Load(path, device);
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

    /// <summary>The file <c>$XRAYSYNTH_INCEPTION</c> names; one that is not there is an environment error (the
    /// setting points nowhere), not bad input.</summary>
    private static string InceptionFromEnvironment(string path) => File.Exists(path)
        ? path
        : throw new WeightsException($"${InceptionVariable}={path}: no such file. fix: point it at NVIDIA's " +
                                     $"{InceptionSource.FileName}, or unset it to use the cached or downloaded copy.");

    /// <summary>NVIDIA's FID Inception network in <see cref="WeightsRegistry"/>.</summary>
    public static WeightsSource InceptionSource => WeightsRegistry.Find("inception")!;
}
