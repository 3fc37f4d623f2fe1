namespace XraySynth.Runtime;

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

    /// <summary>True for a name <see cref="TempNameFor"/> makes (<c>.NAME.PID.TID.tmp</c>).</summary>
    public static bool IsTemporaryName(string fileName) => TemporaryName.IsMatch(fileName);

    private static readonly System.Text.RegularExpressions.Regex TemporaryName =
        new(@"^\..+\.[0-9]+\.[0-9]+\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// Deletes the temporaries a killed or failed write left in <paramref name="folder"/> and its subfolders (a
    /// subfolder with its own <see cref="RunFolderLock"/> file is its owner's to clean). Call it only while holding
    /// the folder's lock: then every temporary there is this process's or a dead one's. Returns the files removed.
    /// </summary>
    public static List<string> RemoveTemporaries(string folder)
    {
        var removed = new List<string>();
        if (!Directory.Exists(folder)) return removed;
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                if (!IsTemporaryName(Path.GetFileName(file))) continue;
                TryDelete(file);
                if (!File.Exists(file)) removed.Add(file);
            }
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                if (new DirectoryInfo(sub).LinkTarget is not null) continue;
                if (File.Exists(Path.Combine(sub, RunFolderLock.FileName))) continue;
                pending.Push(sub);
            }
        }
        return removed;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
