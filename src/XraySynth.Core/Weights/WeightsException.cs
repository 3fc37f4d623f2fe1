using XraySynth.Runtime;

namespace XraySynth.Weights;

/// <summary>
/// Named weights cannot be had (an environment error): the download failed (offline, proxy, 404, timeout), the file does not
/// match its hash, the cache cannot be used, or $XRAYSYNTH_INCEPTION names no file. The message names the URL, the folder
/// to put the file in and the fix.
/// </summary>
public sealed class WeightsException(string message, string? url = null, string? folder = null, Exception? inner = null)
    : EnvironmentException(message, inner)
{
    /// <summary>The address that was tried, if any.</summary>
    public string? Url { get; } = url;

    /// <summary>The folder where a hand-downloaded copy is picked up, if any.</summary>
    public string? Folder { get; } = folder;
}
