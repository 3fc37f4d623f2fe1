namespace XraySynth.Runtime;

/// <summary>XraySynth's cache folder (real-feature cache, downloaded weights): <c>$XRAYSYNTH_CACHE</c>, else
/// <c>~/.cache/xraysynth</c>.</summary>
public static class CacheFolder
{
    /// <summary>Environment variable that moves the cache folder.</summary>
    public const string Variable = "XRAYSYNTH_CACHE";

    /// <summary>The cache folder (not created here).</summary>
    public static string Root(Func<string, string?>? getEnvironment = null)
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        var env = getEnvironment(Variable);
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "xraysynth");
    }
}
