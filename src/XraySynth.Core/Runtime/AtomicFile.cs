namespace XraySynth;

/// <summary>Writes files so that a reader (or a resumed run) never sees a half-written one: the content goes to
/// a temporary file beside the target, is flushed to disk, and is renamed over the target.</summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var temp = TempNameFor(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string content) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));

    /// <summary>Runs <paramref name="write"/> on a stream to a temporary file and renames it over
    /// <paramref name="path"/> only when it returns normally.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var temp = TempNameFor(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The temporary name used for <paramref name="path"/>: hidden, unique per process and thread.</summary>
    public static string TempNameFor(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
