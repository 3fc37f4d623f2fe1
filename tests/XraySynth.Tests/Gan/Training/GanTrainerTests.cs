using System.Text.Json.Nodes;
using XraySynth.Data;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Gan.Training;

/// <summary>Whole training runs need the process to themselves: network initialisation draws from torch's global RNG.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GanTrainingCollection
{
    public const string Name = "gan training (not parallel)";
}

/// <summary>Short smoke runs on 16 px data: the run folder, exact resume, pruning, divergence, bad resumes.</summary>
[Collection(GanTrainingCollection.Name)]
public class GanTrainerTests
{
    private sealed class SyncProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => report(value);
    }

    /// <summary>Smoke at 16 px, batch 8, ticks of 32 images (4 minibatches), a snapshot every tick, tiny grids.</summary>
    private static GanTrainRequest Smoke(string zip, string outRoot, double kimg) => new GanTrainRequest
    {
        Data = zip,
        OutRoot = outRoot,
        Device = DeviceChoice.Cpu,
        GridSize = (2, 2),
        QualitySamples = 96,
    }.With(o => o.Cfg, "smoke").With(o => o.Kimg, kimg).With(o => o.Tick, 0.032).With(o => o.Snap, 1).With(o => o.Mirror, true);

    /// <summary>stats.jsonl without the wall-clock fields.</summary>
    private static List<string> Losses(string runDir)
    {
        var timing = new[] { "timestamp", "totalSec", "secPerTick", "secPerKimg", "maintenanceSec", "cpuMemGb", "phaseSecPerKimg" };
        return new RunFolder(runDir).ReadStats().Select(o =>
        {
            foreach (var key in timing)
                o.Remove(key);
            return o.ToJsonString();
        }).ToList();
    }

    private static string Sha(string snapshotDir, string file) =>
        SnapshotReader.Open(snapshotDir).Manifest.Files[file].Sha256;

    [Fact]
    public void KillAndResume_GivesTheLossesAndWeightsOfAnUninterruptedRun()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 24, size: 16);

        // Uninterrupted: 25 minibatches, R1 at 0 and 16, ADA updates every 4.
        var a = GanTrainer.Run(Smoke(zip, tmp.Combine("a"), kimg: 0.2));

        // Stopped mid-tick after the snapshot at 72 images: the stop request is honoured at the end of that tick with a
        // snapshot (104 images). With debris of a crash during a later snapshot write, and that newest snapshot damaged
        // on disk, resume falls back to the one before (at 72 images).
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Stage == "training" && p.Done > 80)
                cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            GanTrainer.Run(Smoke(zip, tmp.Combine("b"), kimg: 0.2), null, progress, null, cts.Token));
        var runB = RunFolder.Latest(tmp.Combine("b"), GanTrainer.RunKind)!.Path;
        Directory.CreateDirectory(Path.Combine(runB, "network-snapshot-000000.999")); // no snapshot.json: incomplete
        File.WriteAllText(Path.Combine(runB, "network-snapshot-000000.999", "G.safetensors"), "partial");
        Directory.CreateDirectory(Path.Combine(runB, ".network-snapshot-000000.104.tmp-0123"));
        var damaged = Path.Combine(runB, "network-snapshot-000000.104", "D.safetensors");
        var bytes = File.ReadAllBytes(damaged);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        var said = new List<string>();

        var b = GanTrainer.Run(new GanTrainRequest { OutRoot = tmp.Combine("b"), Device = DeviceChoice.Cpu, GridSize = (2, 2), QualitySamples = 96 },
            "latest", null, said.Add);
        Assert.EndsWith("network-snapshot-000000.072", b.ResumedFrom);
        Assert.Contains(said, line => line.StartsWith("warning: skipping") && line.Contains("000000.104") && line.Contains("corrupt"));
        Assert.False(Directory.Exists(Path.Combine(runB, ".network-snapshot-000000.104.tmp-0123")));

        var lossesA = Losses(a.RunDir);
        var lossesB = Losses(b.RunDir);
        Assert.Equal(7, lossesA.Count); // ticks 0..6: one record per tick, none twice after the resume
        Assert.Equal(lossesA, lossesB);
        Assert.Contains("\"r1Penalty\":", lossesA[^1]);
        foreach (var file in new[] { "G", "D", "G_ema", "G_opt", "D_opt" })
            Assert.Equal(Sha(a.LastSnapshot!, file), Sha(b.LastSnapshot!, file));

        // The run folder contract.
        foreach (var name in new[] { "options.json", "log.txt", "stats.jsonl", "reals.png", "fakes_init.png", "fakes000000.200.png" })
            Assert.True(File.Exists(Path.Combine(a.RunDir, name)), $"{name} is missing");
        Assert.NotEmpty(Directory.GetFiles(a.RunDir, "events.out.tfevents.*"));
        var training = JsonNode.Parse(File.ReadAllText(Path.Combine(a.LastSnapshot!, "snapshot.json")))!["sections"]!["training"]!;
        Assert.Equal(200, training["cur_nimg"]!.GetValue<long>());
        Assert.Equal(25, training["batch_idx"]!.GetValue<long>());
        Assert.NotNull(training["ada"]);
    }

    [Fact]
    public void KeepSnapshots_PrunesToTheNewestK_AndExtendingTheRunByResumeContinues()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 16, size: 16);
        var result = GanTrainer.Run(Smoke(zip, tmp.Combine("runs"), kimg: 0.104).With(o => o.KeepSnapshots, 2));
        var left = TrainingSnapshot.List(result.RunDir).Select(s => Path.GetFileName(s.Dir)).ToList();
        Assert.Equal(["network-snapshot-000000.072", "network-snapshot-000000.104"], left);

        var more = GanTrainer.Run(new GanTrainRequest { OutRoot = tmp.Combine("runs"), Device = DeviceChoice.Cpu, GridSize = (2, 2),
            QualitySamples = 96 }.With(o => o.Kimg, 0.136).With(o => o.KeepSnapshots, 1), result.RunDir);
        Assert.Equal(result.RunDir, more.RunDir);
        Assert.Equal(0.136, more.Kimg, 6);
        Assert.Equal(["network-snapshot-000000.136"], TrainingSnapshot.List(result.RunDir).Select(s => Path.GetFileName(s.Dir)));

        // Resuming a finished run trains nothing.
        var again = GanTrainer.Run(new GanTrainRequest { OutRoot = tmp.Combine("runs"), Device = DeviceChoice.Cpu }, "latest");
        Assert.Equal((0.136, more.Ticks, more.LastSnapshot), (again.Kimg, again.Ticks, again.LastSnapshot));
        Assert.Null(again.SecPerKimg);
    }

    [Fact]
    public void NonFiniteLoss_StopsNamingTheStepAndTheLastGoodSnapshot_AndWritesNoSnapshotAfterIt()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 16, size: 16);
        var options = Smoke(zip, tmp.Combine("runs"), kimg: 0.2) with { InjectNonFiniteAt = 6 };
        var ex = Assert.Throws<TrainingDivergedException>(() => GanTrainer.Run(options));
        Assert.Equal(6, ex.Step);
        Assert.EndsWith("network-snapshot-000000.040", ex.LastGoodSnapshot);
        Assert.Contains("minibatch 6", ex.Message);
        Assert.Contains(ex.LastGoodSnapshot!, ex.Message);
        var runDir = Path.GetDirectoryName(ex.LastGoodSnapshot)!;
        Assert.Equal(["network-snapshot-000000.008", "network-snapshot-000000.040"],
            TrainingSnapshot.List(runDir).Select(s => Path.GetFileName(s.Dir)));
    }

    [Fact]
    public void Resume_WithAnotherArchitectureOrResolution_IsRefusedBeforeTraining()
    {
        using var tmp = new TempDir();
        var zip16 = GanDatasets.Zip(tmp.Combine("d16.zip"), count: 8, size: 16);
        var zip8 = GanDatasets.Zip(tmp.Combine("d8.zip"), count: 8, size: 8);
        var run = GanTrainer.Run(Smoke(zip16, tmp.Combine("runs"), kimg: 0.008));
        var before = Directory.GetFileSystemEntries(run.RunDir).Length;

        var ex = Assert.Throws<DataException>(() => GanTrainer.Run(
            new GanTrainRequest { Data = zip8, OutRoot = tmp.Combine("runs"), Device = DeviceChoice.Cpu }, "latest"));
        Assert.Contains("16x16", ex.Message);
        Assert.Contains("8x8", ex.Message);

        ex = Assert.Throws<DataException>(() => GanTrainer.Run(
            new GanTrainRequest { OutRoot = tmp.Combine("runs"), Device = DeviceChoice.Cpu }.With(o => o.Cfg, "auto"), "latest"));
        Assert.Contains("--cfg auto (the run has smoke)", ex.Message);

        ex = Assert.Throws<DataException>(() => GanTrainer.Run(
            new GanTrainRequest { OutRoot = tmp.Combine("empty"), Device = DeviceChoice.Cpu }, "latest"));
        Assert.Contains("no gan-train run", ex.Message);
        Assert.Equal(before, Directory.GetFileSystemEntries(run.RunDir).Length);
    }

    [Fact]
    public void Resume_RunFolderOfAnEarlierVersion_WithUnresolvedOptionsAndWithoutTransferKeys_Continues()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        var run = GanTrainer.Run(Smoke(zip, tmp.Combine("runs"), kimg: 0.008));
        // options.json as earlier versions wrote it: metricsDetector/metricsCount unresolved, no transfer/freezed keys.
        var file = Path.Combine(run.RunDir, RunFolder.OptionsFile);
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        var options = json["options"]!.AsObject();
        options["metricsDetector"] = null;
        options["metricsCount"] = null;
        options.Remove("transfer");
        options.Remove("freezed");
        File.WriteAllText(file, json.ToJsonString());

        var more = GanTrainer.Run(new GanTrainRequest { OutRoot = tmp.Combine("runs"), Device = DeviceChoice.Cpu, GridSize = (2, 2),
            QualitySamples = 96 }.With(o => o.Kimg, 0.016).With(o => o.Freezed, 0), "latest");
        Assert.Equal((run.RunDir, 0.016), (more.RunDir, Math.Round(more.Kimg, 6)));
        Assert.EndsWith("network-snapshot-000000.008", more.ResumedFrom);
    }

    [Fact]
    public void ConditionalRun_TrainsOneModelOnBothClasses()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        var run = GanTrainer.Run(Smoke(zip, tmp.Combine("runs"), kimg: 0.016).With(o => o.Cond, true).With(o => o.Aug, AugMode.Fixed)
            .With(o => o.P, 0.5));
        var arch = GanSnapshot.ReadArchitecture(SnapshotReader.Open(run.LastSnapshot!));
        Assert.Equal((2, 2), (arch.G.CDim, arch.D.CDim));
        Assert.Contains("-cond-mirror-smoke-p0.5", Path.GetFileName(run.RunDir));
        using var g = GanSnapshot.LoadGenerator(run.LastSnapshot!);
        Assert.Equal(2, g.CDim);
    }
}
