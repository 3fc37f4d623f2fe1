
namespace XraySynth.Runtime;

/// <summary>
/// The one place that turns a file system failure on an output path into the user's error (<see cref="DataException"/>,
/// exit 2) naming the path and the fix: an output folder that is a file, a parent that is a file, a read-only or full
/// file system, no permission. Missing parents of an output folder are created (as <c>mkdir -p</c>).
/// </summary>
public static class OutputFolder
{
    // errno values (Linux) that .NET keeps in IOException.HResult on Unix.
    private const int ENOENT = 2, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, ENOSPC = 28, EROFS = 30, EDQUOT = 122;

    /// <summary>Creates <paramref name="folder"/> (and its parents) for writing; returns its full path.</summary>
    public static string Ensure(string folder, string option)
    {
        var full = Path.GetFullPath(folder);
        if (File.Exists(full))
            throw new DataException($"{option} {full} is a file, not a folder. fix: pass a folder path, or move the file away.");
        for (var up = Path.GetDirectoryName(full); up is not null && !Directory.Exists(up); up = Path.GetDirectoryName(up))
        {
            if (File.Exists(up))
                throw new DataException($"{option} {full}: a part of the path is a file, not a folder ({up}). fix: correct the path, or move that file away.");
        }
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Explain(e, full, option);
        }
        return full;
    }

    /// <summary>The user's error for <paramref name="e"/>, raised while writing <paramref name="path"/>, or null when
    /// <paramref name="e"/> is no file system failure.</summary>
    public static DataException? TryExplain(Exception e, string? path = null) =>
        e is IOException or UnauthorizedAccessException ? Explain(e, path, null) : null;

    private static DataException Explain(Exception e, string? path, string? option)
    {
        var what = option is null ? (path ?? "") : $"{option} {path}";
        var where = string.IsNullOrEmpty(what) ? e.Message : $"{what}: {e.Message}";
        var errno = e.HResult;
        (string Problem, string Fix) r;
        if (e is UnauthorizedAccessException || errno == EACCES)
            r = ("no permission to write there", "choose a folder you can write to, or change its permissions.");
        else if (errno == EROFS || e.Message.Contains("Read-only file system", StringComparison.Ordinal))
            r = ("the file system is read-only", "choose an output folder on a writable disk.");
        else if (errno is ENOSPC or EDQUOT || e.Message.Contains("No space", StringComparison.Ordinal) || e.Message.Contains("quota", StringComparison.OrdinalIgnoreCase))
            r = ("the disk is full", "free space (or choose another disk) and rerun: finished work is kept.");
        else if (errno is ENOTDIR or EEXIST || (e is IOException && e.Message.Contains("already exists", StringComparison.Ordinal)))
            r = ("a part of the path is a file, not a folder", "correct the path, or move that file away.");
        else if (errno == EISDIR)
            r = ("the path is a folder where a file is expected", "pass a file path.");
        else if (e is DirectoryNotFoundException or FileNotFoundException || errno == ENOENT)
            r = ("a folder on the path does not exist", "check the path (create its parent folder first).");
        else
            r = ("the file system refused the write", "check the path, its permissions and the free space.");
        return new DataException($"{where} ({r.Problem}). fix: {r.Fix}");
    }
}
