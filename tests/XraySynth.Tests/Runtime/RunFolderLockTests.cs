using System.Diagnostics;
using System.Text.Json;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Runtime;

public class RunFolderLockTests
{
    [Fact]
    public void Acquire_WhileHeld_IsRefusedNamingTheOwnerAndTheFix_AndFreeAfterDispose()
    {
        using var tmp = new TempDir();
        var folder = tmp.Combine("run");
        using (var first = RunFolderLock.Acquire(folder, "gan train"))
        {
            Assert.True(File.Exists(Path.Combine(folder, RunFolderLock.FileName)));
            var ex = Assert.Throws<DataException>(() => RunFolderLock.Acquire(folder, "gan train --resume"));
            Assert.Contains(folder, ex.Message);
            Assert.Contains($"pid {Environment.ProcessId} on host {Environment.MachineName}", ex.Message);
            Assert.Contains("'gan train'", ex.Message);
            Assert.Contains("fix:", ex.Message);
        }
        Assert.False(File.Exists(Path.Combine(folder, RunFolderLock.FileName)));
        using var again = RunFolderLock.Acquire(folder, "gan train");
        Assert.Equal(Environment.ProcessId, RunFolderLock.OwnerOf(folder)!.Pid);
    }

    [Fact]
    public void Acquire_LockOfADeadProcess_IsStaleAndTakenOver()
    {
        using var tmp = new TempDir();
        var folder = tmp.Combine("run");
        Directory.CreateDirectory(folder);
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        WriteLock(folder, new RunFolderLockOwner(child.Id, Environment.MachineName, DateTime.UtcNow, "gan train"));
        using var taken = RunFolderLock.Acquire(folder, "gan train --resume");
        Assert.Equal(Environment.ProcessId, RunFolderLock.OwnerOf(folder)!.Pid);
    }

    [Fact]
    public void Acquire_PidReusedByANewerProcess_IsStale()
    {
        using var tmp = new TempDir();
        var folder = tmp.Combine("run");
        Directory.CreateDirectory(folder);
        // Our own pid, but locked long before this process started: a container restart reused the pid.
        WriteLock(folder, new RunFolderLockOwner(Environment.ProcessId, Environment.MachineName, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), "prepare"));
        using var taken = RunFolderLock.Acquire(folder, "prepare");
        Assert.NotEqual(2001, RunFolderLock.OwnerOf(folder)!.StartedUtc.Year);
    }

    [Fact]
    public void Acquire_LockFromAnotherHost_IsRefused()
    {
        using var tmp = new TempDir();
        var folder = tmp.Combine("run");
        Directory.CreateDirectory(folder);
        WriteLock(folder, new RunFolderLockOwner(1, "some-other-node", DateTime.UtcNow, "classifier train"));
        var ex = Assert.Throws<DataException>(() => RunFolderLock.Acquire(folder, "classifier train --resume"));
        Assert.Contains("on host some-other-node", ex.Message);
        Assert.Contains(Path.Combine(folder, RunFolderLock.FileName), ex.Message); // the file to delete if it is dead
    }

    [Fact]
    public void RemoveTemporaries_RemovesAtomicFileDebris_NotOtherFiles_NorLockedSubfolders()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("out");
        Directory.CreateDirectory(Path.Combine(root, "images", "a"));
        Directory.CreateDirectory(Path.Combine(root, "nested-run"));
        var debris = new[]
        {
            Path.Combine(root, ".gan-16.zip.4242.1.tmp"),
            Path.Combine(root, "images", "a", ".image1.png.4242.17.tmp"),
        };
        foreach (var f in debris) File.WriteAllText(f, "half");
        var keep = new[]
        {
            Path.Combine(root, "train.csv"),
            Path.Combine(root, "images", "a", "image1.png"),
            Path.Combine(root, "notes.tmp"),
            Path.Combine(root, "nested-run", ".x.png.99.1.tmp"), // another owner's folder
        };
        foreach (var f in keep) File.WriteAllText(f, "x");
        File.WriteAllText(Path.Combine(root, "nested-run", RunFolderLock.FileName), "{}");
        var removed = AtomicFile.RemoveTemporaries(root);
        Assert.Equal(debris.Order(), removed.Order());
        Assert.All(debris, f => Assert.False(File.Exists(f)));
        Assert.All(keep, f => Assert.True(File.Exists(f)));
    }

    private static void WriteLock(string folder, RunFolderLockOwner owner) =>
        File.WriteAllText(Path.Combine(folder, RunFolderLock.FileName), JsonSerializer.Serialize(owner, Json.Compact));
}

public class SnapshotLeftoverTests
{
    private static void WriteSnapshot(string dir, float value) =>
        new SnapshotWriter()
            .AddTensors("w", () => new Dictionary<string, Tensor> { ["x"] = full(3, value) })
            .AddSection("note", new { value })
            .Commit(dir);

    [Fact]
    public void RemoveLeftovers_OnlyAnOldCopySurvives_RestoresIt_AndRemovesHalfWrittenFolders()
    {
        using var tmp = new TempDir();
        var snap = tmp.Combine("network-snapshot-000004");
        WriteSnapshot(snap, 1f);
        // A kill between SnapshotWriter.Commit's two renames: the old copy is aside, the new one not yet in place.
        var old = tmp.Combine(".network-snapshot-000004.old-0123456789abcdef");
        Directory.Move(snap, old);
        var half = tmp.Combine(".network-snapshot-000008.tmp-fedcba9876543210");
        Directory.CreateDirectory(half);
        File.WriteAllText(Path.Combine(half, "G.safetensors"), "cut short");

        var actions = TrainingSnapshot.RemoveLeftovers(tmp.Path);

        Assert.True(Directory.Exists(snap));
        Assert.False(Directory.Exists(old));
        Assert.False(Directory.Exists(half));
        SnapshotReader.Open(snap); // complete and intact
        Assert.Contains(actions, a => a.StartsWith("restored network-snapshot-000004", StringComparison.Ordinal));
    }

    [Fact]
    public void RemoveLeftovers_OldCopyBesideACompleteSnapshot_IsRemoved_BesideADamagedOne_IsKept()
    {
        using var tmp = new TempDir();
        var good = tmp.Combine("network-snapshot-000004");
        WriteSnapshot(good, 2f);
        var stale = tmp.Combine(".network-snapshot-000004.old-aa");
        WriteSnapshot(tmp.Combine("spare"), 1f);
        Directory.Move(tmp.Combine("spare"), stale);

        var damaged = tmp.Combine("network-snapshot-000008");
        WriteSnapshot(damaged, 3f);
        File.WriteAllText(Path.Combine(damaged, "w.safetensors"), "overwritten by something else");
        var onlyGood = tmp.Combine(".network-snapshot-000008.old-bb");
        WriteSnapshot(tmp.Combine("spare2"), 1f);
        Directory.Move(tmp.Combine("spare2"), onlyGood);

        TrainingSnapshot.RemoveLeftovers(tmp.Path);

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(good));
        Assert.True(Directory.Exists(onlyGood));
        Assert.True(Directory.Exists(damaged));
    }
}
