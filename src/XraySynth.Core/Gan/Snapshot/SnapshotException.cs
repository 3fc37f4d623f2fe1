using XraySynth.Runtime;

namespace XraySynth.Gan.Snapshot;

/// <summary>A snapshot cannot be read or does not fit: the message names the file, the problem and the fix.</summary>
public sealed class SnapshotException : InputException
{
    /// <summary>The snapshot folder or file concerned.</summary>
    public string Path { get; }

    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public SnapshotException(string path, string message, Exception? inner = null) : base(message, inner)
    {
        Path = path;
    }
}
