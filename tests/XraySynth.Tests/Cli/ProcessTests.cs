using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Gan.Training;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

/// <summary>The CLI as a real second process: the run-folder lock between processes and SIGTERM mid-run.</summary>
[Collection(GanTrainingCollection.Name)]
public class ProcessTests
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int SIGTERM = 15;

    /// <summary>The CLI dll beside the test assembly, started with the same dotnet host.</summary>
    private static Process Start(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "xraysynth.dll");
        var info = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_NUM_THREADS"] = "1";
        return Process.Start(info)!;
    }

    private static (int Code, string Out, string Err) RunToEnd(Process p, int seconds = 120)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(seconds * 1000), "the CLI did not exit in time");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Prepare_IntoAFolderLockedByAnotherProcess_ExitsTwoNamingTheOwner()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, XraySynth.Cli.Cli.Run(["phantoms", "--out", tmp.Combine("mura"), "--patients", "4", "--max-side", "32",
            "--parts", "elbow", "--seed", "1"], TextWriter.Null, TextWriter.Null));
        var outDir = tmp.Combine("prepared");
        using var held = RunFolderLock.Acquire(outDir, "prepare");
        var (code, _, err) = RunToEnd(Start("prepare", "--mura", tmp.Combine("mura"), "--out", outDir, "--parts", "elbow",
            "--resolution", "16", "--classifier-size", "24"));
        Assert.Equal(2, code);
        Assert.Contains($"{outDir} is in use by 'prepare' (pid {Environment.ProcessId} on host {Environment.MachineName}", err);
        Assert.Contains("fix:", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.False(File.Exists(Path.Combine(outDir, "train.csv")));
    }

    [Fact]
    public async Task GanTrain_SigtermMidRun_SnapshotsTheFinishedTick_Exits143WithTheResumeLine_AndResumeContinues()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        var runs = tmp.Combine("runs");
        using var child = Start("gan", "train", "--data", zip, "--out", runs, "--cfg", "smoke", "--kimg", "1000",
            "--tick", "0.008", "--snap", "1000", "--device", "cpu");
        var stdout = new StringBuilder();
        var ticking = new ManualResetEventSlim();
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("tick 1 ", StringComparison.Ordinal)) ticking.Set();
        };
        var stderr = child.StandardError.ReadToEndAsync();
        child.BeginOutputReadLine();
        try
        {
            Assert.True(ticking.Wait(TimeSpan.FromSeconds(120)), $"no tick 1 in time: {stdout}");
            // A second process on the same run is refused while the first one trains.
            var run = Directory.GetDirectories(runs).Single();
            var ex = Assert.Throws<DataException>(() => RunFolderLock.Acquire(run, "gan train --resume"));
            Assert.Contains($"pid {child.Id}", ex.Message);
            var refused = new StringWriter();
            Assert.Equal(2, XraySynth.Cli.Cli.Run(["gan", "train", "--resume", run, "--device", "cpu"], TextWriter.Null, refused));
            Assert.Contains("is in use by 'gan train'", refused.ToString());

            Assert.Equal(0, kill(child.Id, SIGTERM));
            Assert.True(child.WaitForExit(120_000), "gan train did not stop after SIGTERM");
            child.WaitForExit();
            var err = await stderr;
            Assert.Equal(143, child.ExitCode);
            Assert.Contains($"interrupted by SIGTERM (stopped at kimg", err);
            Assert.Contains($"resume with: xraysynth gan train --resume {run}", err);
            Assert.DoesNotContain("   at ", err);
            Assert.False(File.Exists(Path.Combine(run, RunFolderLock.FileName)));
            // The finished tick was snapshotted although --snap 1000 would have written none yet.
            var snapshot = TrainingSnapshot.List(run).Last();
            Assert.True(snapshot.Checkpoint.CurNimg >= 16);

            var output = new StringWriter();
            var error = new StringWriter();
            var kimg = (snapshot.Checkpoint.CurNimg + 16) / 1000.0;
            var code = XraySynth.Cli.Cli.Run(["gan", "train", "--resume", run, "--kimg", kimg.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--device", "cpu"], output, error);
            Assert.True(code == 0, error.ToString());
            Assert.Contains($"trained to kimg {kimg:F3}", output.ToString());
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
    }
}
