using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace XraySynth.Runtime;

/// <summary>What a lock file says about its owner.</summary>
/// <param name="Pid">The owner's process id.</param>
/// <param name="Host">The owner's machine name.</param>
/// <param name="StartedUtc">When the owner took the lock.</param>
/// <param name="Command">The verb that holds it (e.g. "gan train").</param>
public sealed record RunFolderLockOwner(int Pid, string Host, DateTime StartedUtc, string Command);

/// <summary>
/// One process per output folder, as git's <c>index.lock</c>: the lock file <see cref="FileName"/> in the folder is
/// created atomically (O_EXCL) with the owner's pid, host and start time, and deleted on <see cref="Dispose"/>. A lock
/// whose owner is not alive on this host (no such pid, or a pid reused by a process started after the lock) is stale
/// and taken over; a live owner, or one on another host, makes <see cref="Acquire"/> refuse with a
/// <see cref="DataException"/> that names the folder, the owner and what to do. While a process holds the lock,
/// every temporary file in the folder is its own or a dead process's debris, so cleaning them is safe.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string FileName = ".xraysynth.lock";

    /// <summary>A lock file that cannot be parsed is taken over only once it is this old (its writer crashed
    /// between creating and filling it).</summary>
    private static readonly TimeSpan UnreadableGrace = TimeSpan.FromSeconds(10);

    private readonly string _content;
    private bool _released;

    private RunFolderLock(string folder, string path, RunFolderLockOwner owner, string content)
    {
        Folder = folder;
        LockPath = path;
        Owner = owner;
        _content = content;
    }

    public string Folder { get; }
    public string LockPath { get; }
    public RunFolderLockOwner Owner { get; }

    /// <summary>Takes the lock of <paramref name="folder"/> (created when missing) for <paramref name="command"/>.</summary>
    public static RunFolderLock Acquire(string folder, string command)
    {
        folder = OutputFolder.Ensure(folder, "output folder");
        var path = Path.Combine(folder, FileName);
        var owner = new RunFolderLockOwner(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow, command);
        var content = JsonSerializer.Serialize(owner, Json.Compact);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
                    stream.Flush(flushToDisk: true);
                }
                return new RunFolderLock(folder, path, owner, content);
            }
            catch (IOException) when (File.Exists(path))
            {
                var (existing, text) = ReadOwner(path);
                if (!IsStale(path, existing))
                    throw Refusal(folder, path, existing, command);
                TakeOverStale(path, text);
            }
            catch (Exception e) when (OutputFolder.TryExplain(e, folder) is { } unwritable)
            {
                throw unwritable;
            }
        }
        throw Refusal(folder, path, ReadOwner(path).Owner, command);
    }

    /// <summary>The owner recorded in <paramref name="folder"/>'s lock file, or null when it is not locked.</summary>
    public static RunFolderLockOwner? OwnerOf(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? ReadOwner(path).Owner : null;
    }

    /// <summary>True when <paramref name="owner"/> is a process alive on this host that started no later than it
    /// took the lock (so a pid reused by a newer process does not count).</summary>
    public static bool IsAlive(RunFolderLockOwner owner)
    {
        if (!string.Equals(owner.Host, Environment.MachineName, StringComparison.Ordinal))
            return true; // cannot be checked from here: assume it runs
        try
        {
            using var process = Process.GetProcessById(owner.Pid);
            if (process.HasExited) return false;
            return process.StartTime.ToUniversalTime() <= owner.StartedUtc.AddSeconds(2);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsStale(string path, RunFolderLockOwner? owner)
    {
        if (owner is null)
        {
            try { return DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > UnreadableGrace; }
            catch (IOException) { return true; }
        }
        return !IsAlive(owner);
    }

    /// <summary>Removes a stale lock file without ever removing a fresh one another process wrote meanwhile: the
    /// file is first renamed aside (atomic), and put back if it is not the one judged stale.</summary>
    private static void TakeOverStale(string path, string? staleText)
    {
        var aside = $"{path}.stale-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            File.Move(path, aside);
        }
        catch (FileNotFoundException)
        {
            return; // someone else took it over: try again
        }
        string? moved = null;
        try { moved = File.ReadAllText(aside); } catch (IOException) { }
        if (moved == staleText)
        {
            File.Delete(aside);
            return;
        }
        // A fresh lock was renamed by mistake: give it back (unless yet another process locked meanwhile).
        try { File.Move(aside, path); }
        catch (IOException) { File.Delete(aside); }
    }

    private static (RunFolderLockOwner? Owner, string? Text) ReadOwner(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            try { return (JsonSerializer.Deserialize<RunFolderLockOwner>(text, Json.Compact), text); }
            catch (JsonException) { return (null, text); }
        }
        catch (IOException)
        {
            return (null, null);
        }
    }

    private static DataException Refusal(string folder, string path, RunFolderLockOwner? owner, string command)
    {
        var who = owner is null
            ? "another process (its lock file is being written)"
            : $"'{owner.Command}' (pid {owner.Pid} on host {owner.Host}, since {owner.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z)";
        return new DataException(
            $"{folder} is in use by {who}; {command} refuses to write to it at the same time. fix: wait for that process to " +
            $"finish or stop it (kill {owner?.Pid.ToString(CultureInfo.InvariantCulture) ?? "PID"}), or use another folder; if it " +
            $"is certainly no longer running (e.g. its machine was shut down), delete {path}.");
    }

    /// <summary>Deletes the lock file if it is still this lock's.</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        try
        {
            if (File.Exists(LockPath) && File.ReadAllText(LockPath) == _content)
                File.Delete(LockPath);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
