using System.Diagnostics;
using XraySynth.Tests.Gan.Training;
using XraySynth.Tests.Support;
using Xunit.Abstractions;

namespace XraySynth.Tests.Cli;

/// <summary>Output paths the file system refuses: every verb exits 2 naming the path and the fix, never a stack trace.</summary>
[Collection(GanTrainingCollection.Name)]
public class FileSystemErrorTests(ITestOutputHelper log)
{
    private static (int Code, string Err) Run(params string[] args)
    {
        var error = new StringWriter();
        int code = XraySynth.Cli.Cli.Run(args, TextWriter.Null, error);
        return (code, error.ToString());
    }

    private static void AssertBadOutput(string path, string problem, (int Code, string Err) r)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains(path, r.Err);
        Assert.True(r.Err.Contains(problem, StringComparison.Ordinal), r.Err);
        Assert.Contains("fix:", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("this is a bug", r.Err);
    }

    [Fact]
    public void OutThatIsAFile_OrUnderAFile_ExitsTwoForEveryVerb()
    {
        using var tmp = new TempDir();
        var file = tmp.Combine("a-file");
        File.WriteAllText(file, "x");
        var under = Path.Combine(file, "sub");
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        Assert.Equal(0, Run("phantoms", "--out", tmp.Combine("mura"), "--patients", "6", "--max-side", "32", "--parts", "elbow", "--seed", "1").Code);
        Assert.Equal(0, Run("prepare", "--mura", tmp.Combine("mura"), "--out", tmp.Combine("prep"), "--parts", "elbow", "--resolution", "16",
            "--classifier-size", "32", "--val-fraction", "0.5").Code);
        foreach (var target in new[] { file, under })
        {
            string problem = target == file ? "is a file, not a folder" : "a part of the path is a file";
            AssertBadOutput(target, problem, Run("phantoms", "--out", target, "--patients", "4", "--max-side", "32", "--parts", "elbow"));
            AssertBadOutput(target, problem, Run("prepare", "--mura", tmp.Combine("mura"), "--out", target, "--parts", "elbow", "--resolution", "16", "--classifier-size", "32"));
            AssertBadOutput(target, problem, Run("gan", "train", "--data", zip, "--out", target, "--cfg", "smoke", "--kimg", "0.008", "--device", "cpu"));
            AssertBadOutput(target, problem, Run("classifier", "train", "--data", tmp.Combine("prep"), "--out", target, "--arch", "densenet-smoke",
                "--size", "32", "--epochs", "1", "--device", "cpu"));
        }
    }

    [Fact]
    public void Prepare_Rerun_RemovesTheTemporariesAKilledRunLeft()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Run("phantoms", "--out", tmp.Combine("mura"), "--patients", "4", "--max-side", "32", "--parts", "elbow", "--seed", "1").Code);
        string[] prepare = ["prepare", "--mura", tmp.Combine("mura"), "--out", tmp.Combine("prep"), "--parts", "elbow", "--resolution", "16", "--classifier-size", "32"];
        Assert.Equal(0, Run(prepare).Code);
        var png = Directory.EnumerateFiles(tmp.Combine("prep", "images"), "*.png", SearchOption.AllDirectories).First();
        var debris = new[] { tmp.Combine("prep", ".gan-16.zip.99999.1.tmp"), Path.Combine(Path.GetDirectoryName(png)!, $".{Path.GetFileName(png)}.99999.7.tmp") };
        foreach (var f in debris) File.WriteAllText(f, "killed mid-write");
        Assert.Equal(0, Run(prepare).Code);
        Assert.All(debris, f => Assert.False(File.Exists(f), f));
    }

    [Fact]
    public void OutWithMissingParents_IsCreated()
    {
        using var tmp = new TempDir();
        var deep = tmp.Combine("no", "such", "parent");
        Assert.Equal(0, Run("phantoms", "--out", deep, "--patients", "2", "--max-side", "32", "--parts", "elbow").Code);
        Assert.True(Directory.Exists(Path.Combine(deep, "MURA-v1.1")));
    }

    [Fact]
    public void ReadOnlyAndFullFileSystems_ExitTwoWithTheFix()
    {
        using var tmp = new TempDir();
        var ro = tmp.Combine("ro");
        var full = tmp.Combine("full");
        if (!Mount(ro, "size=64k,ro") || !Mount(full, "size=64k"))
        {
            log.WriteLine("skipped: needs root and mount -t tmpfs (a read-only folder does not stop root, a full disk needs a small file system)");
            return;
        }
        try
        {
            AssertBadOutput(ro, "read-only", Run("phantoms", "--out", Path.Combine(ro, "x"), "--patients", "4", "--max-side", "32", "--parts", "elbow"));
            Assert.Equal(0, Run("phantoms", "--out", tmp.Combine("mura"), "--patients", "40", "--max-side", "96", "--parts", "elbow", "--seed", "2").Code);
            AssertBadOutput(full, "disk is full", Run("prepare", "--mura", tmp.Combine("mura"), "--out", Path.Combine(full, "prep"), "--parts", "elbow",
                "--resolution", "64", "--classifier-size", "96"));
            // Nothing half-written is left behind by the failed writes.
            Assert.Empty(Directory.EnumerateFiles(full, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Umount(ro);
            Umount(full);
        }
    }

    private static bool Mount(string dir, string options)
    {
        if (Environment.UserName != "root") return false;
        Directory.CreateDirectory(dir);
        return Exec("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir) == 0;
    }

    private static void Umount(string dir) => Exec("umount", dir);

    private static int Exec(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
