using XraySynth.Runtime;
using XraySynth.Data;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>Starting a run: a new one from a request, or a resumed one from its folder, options and newest snapshot.</summary>
public sealed partial class GanTrainer
{
    private static GanTrainResult StartNew(GanTrainRequest request, Device device, IProgress<ProgressInfo>? progress,
        Action<string>? say, CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(request.Data))
            throw new DataException("--data ZIP is required for a new run. fix: pass the zip written by 'xraysynth prepare'.");
        // Validate what can be checked without the data first.
        var unsized = request.Resolve(resolution: 256);
        var data = TrainingSet.Load(Path.GetFullPath(request.Data), unsized.Cond, unsized.Label, unsized.Mirror, device,
            progress, cancel);
        GanNetworks? source = null;
        try
        {
            var options = request.Resolve(data.Resolution) with { Data = Path.GetFullPath(request.Data) };
            NetworkConfigs? transferNets = null;
            if (options.Transfer is { } transfer)
            {
                // The source's architecture with the data's channels and labels; checked before the run folder exists.
                var resolved = Import.Transfer.ResolveTransferSource(transfer);
                options = options with { Transfer = resolved };
                var (sourceArch, sourceNets) = Import.Transfer.LoadSource(resolved);
                source = sourceNets;
                transferNets = Import.Transfer.TargetArchitecture(sourceArch, resolved, data.Resolution, data.Channels,
                    data.CDim, options.Freezed);
            }
            var setup = BuildSetup(options, data, transferNets);
            var run = RunFolder.Create(options.OutRoot, RunKind, options.Desc ?? DefaultDesc(options, data));
            using var held = RunFolderLock.Acquire(run.Path, "gan train");
            run.WriteOptions(new GanRunOptions(options, setup));
            Warn(run, data.Warnings, say);
            var trainer = new GanTrainer(options, setup, run, data, device, progress, say);
            return trainer.Train(null, cancel, source);
        }
        finally
        {
            source?.Dispose();
            data.Dispose();
        }
    }

    /// <summary>Tells the user and the run's log.txt about every warning line.</summary>
    private static void Warn(RunFolder run, IEnumerable<string> warnings, Action<string>? say)
    {
        foreach (var w in warnings)
        {
            say?.Invoke($"warning: {w}");
            run.Log($"warning: {w}");
        }
    }

    private static GanTrainResult Continue(GanTrainRequest request, string resume, Device device,
        IProgress<ProgressInfo>? progress, Action<string>? say, CancellationToken cancel)
    {
        var (run, snapshotDir) = LocateRun(request, resume);
        var options = ResumedOptions(run, request, resume);

        // Under the lock every hidden temporary in the run folder is a dead process's: safe to clean.
        using var held = RunFolderLock.Acquire(run.Path, "gan train --resume");
        foreach (var action in TrainingSnapshot.RemoveLeftovers(run.Path))
        {
            say?.Invoke(action);
            run.Log(action);
        }
        AtomicFile.RemoveTemporaries(run.Path);
        var reader = OpenSnapshot(run, snapshotDir, resume, say);
        var checkpoint = TrainingSnapshot.ReadCheckpoint(reader);
        var trainedOn = TrainingSnapshot.ReadDataInfo(reader);
        var architecture = GanSnapshot.ReadArchitecture(reader);

        var data = TrainingSet.Load(options.Data!, options.Cond, options.Label, options.Mirror, device, progress, cancel);
        try
        {
            CheckResumedData(data, trainedOn, reader.Directory, options.Data!, run, say);
            // A transfer run's networks came from its source; the snapshot holds them.
            var setup = BuildSetup(options, data, options.Transfer is null ? null : new NetworkConfigs(architecture.G, architecture.D));
            // A run started before its preset's minibatch-stddev group changed (smoke: 4, then 16) continues with the
            // group it was trained with: the group holds no weights, and an exact resume keeps it.
            if (setup.D != architecture.D && setup.D with { MbstdGroupSize = architecture.D.MbstdGroupSize } == architecture.D)
            {
                var note = $"the networks keep the minibatch-stddev group of {architecture.D.MbstdGroupSize?.ToString() ?? "the whole minibatch"} " +
                           $"they were trained with (--cfg {options.Cfg} now uses {setup.D.MbstdGroupSize?.ToString() ?? "the whole minibatch"} for new runs)";
                say?.Invoke(note);
                run.Log(note);
                setup = setup with { D = architecture.D };
            }
            if (setup.G != architecture.G || setup.D != architecture.D)
            {
                throw new DataException(
                    $"--resume: the networks in {reader.Directory} differ from the ones --cfg {options.Cfg} builds for this " +
                    $"data ({(setup.G != architecture.G ? $"G: {DescribeArchitecture(architecture.G)} vs {DescribeArchitecture(setup.G)}" : $"D: {DescribeArchitecture(architecture.D)} vs {DescribeArchitecture(setup.D)}")}). fix: resume with " +
                    "the options and data the run was started with.");
            }
            Warn(run, data.Warnings, say);
            var trainer = new GanTrainer(options, setup, run, data, device, progress, say);
            return trainer.Train((reader, checkpoint), cancel);
        }
        finally
        {
            data.Dispose();
        }
    }

    /// <summary>The run folder of --resume ("latest", a run folder or a snapshot folder) and the snapshot it names.</summary>
    private static (RunFolder Run, string? SnapshotDir) LocateRun(GanTrainRequest request, string resume)
    {
        if (resume == "latest")
        {
            return (RunFolder.Latest(request.OutRoot, RunKind)
                ?? throw new DataException($"--resume latest: no {RunKind} run under {request.OutRoot}. fix: start one without --resume."), null);
        }
        if (File.Exists(Path.Combine(resume, SnapshotWriter.ManifestFileName)))
        {
            var snapshotDir = Path.GetFullPath(resume);
            return (new RunFolder(Path.GetDirectoryName(snapshotDir)!), snapshotDir);
        }
        return (new RunFolder(resume), null);
    }

    /// <summary>
    /// The run's saved options with what this request may change on resume (<see cref="GanOptions.MergeForResume"/>),
    /// resolved. The run's data decides the resolution: its preset values were saved with it.
    /// </summary>
    private static GanTrainOptions ResumedOptions(RunFolder run, GanTrainRequest request, string resume)
    {
        var optionsPath = run.File(RunFolder.OptionsFile);
        if (!File.Exists(optionsPath))
            throw new DataException($"--resume {resume}: {optionsPath} not found. fix: pass a '{RunKind}' run folder or one of its snapshots.");
        GanTrainRequest saved;
        try
        {
            saved = GanTrainRequest.FromSaved(optionsPath);
        }
        catch (DataException e)
        {
            throw new DataException($"--resume {resume}: {e.Message}");
        }
        var transfer = GanOptions.Of(o => o.Transfer);
        if (request[transfer] is string given)
            request = request.With(transfer, Import.Transfer.ResolveTransferSource(given));
        var merged = GanOptions.MergeForResume(saved, request);
        // Every preset-dependent option is in the saved options, so the resolution only matters for checking.
        return merged.Resolve(resolution: 256);
    }

    /// <summary>The given snapshot, or the newest whose files are intact (a damaged one is skipped, never deleted).</summary>
    private static SnapshotReader OpenSnapshot(RunFolder run, string? snapshotDir, string resume, Action<string>? say)
    {
        if (snapshotDir is not null)
        {
            try
            {
                return SnapshotReader.Open(snapshotDir);
            }
            catch (SnapshotException e)
            {
                throw new DataException($"--resume {resume}: {e.Message}");
            }
        }
        var candidates = TrainingSnapshot.List(run.Path);
        if (candidates.Count == 0)
            throw new DataException($"--resume {resume}: {run.Path} holds no complete snapshot. fix: start a new run without --resume.");
        foreach (var (dir, _) in Enumerable.Reverse(candidates))
        {
            try
            {
                return SnapshotReader.Open(dir);
            }
            catch (SnapshotException e)
            {
                say?.Invoke($"warning: skipping {dir}: {e.Message}");
                run.Log($"warning: skipping {dir}: {e.Message}");
            }
        }
        throw new DataException($"--resume {resume}: every snapshot in {run.Path} is damaged. fix: start a new run without --resume.");
    }

    /// <summary>The data must have the snapshot's image shape and labels; another image count only warns.</summary>
    private static void CheckResumedData(TrainingSet data, TrainingDataInfo trainedOn, string snapshotDir, string zip,
        RunFolder run, Action<string>? say)
    {
        if (data.Resolution != trainedOn.Resolution || data.Channels != trainedOn.Channels || data.CDim != trainedOn.CDim)
        {
            throw new DataException(
                $"--resume: {snapshotDir} was trained on {trainedOn.Resolution}x{trainedOn.Resolution} images with " +
                $"{trainedOn.Channels} channel(s) and c_dim {trainedOn.CDim}, but {zip} has {data.Resolution}x" +
                $"{data.Resolution}, {data.Channels} channel(s), c_dim {data.CDim}. fix: resume with the dataset the run " +
                "was trained on, or start a new run.");
        }
        if (data.Count != trainedOn.Images)
        {
            var warning = $"warning: {zip} has {data.Count} images, the snapshot was trained on {trainedOn.Images} " +
                          $"({trainedOn.Zip}): training continues, but not exactly as the uninterrupted run would.";
            say?.Invoke(warning);
            run.Log(warning);
        }
    }

    private static string DescribeArchitecture(DiscriminatorConfig d) =>
        $"{d.ImgResolution}px, {d.ImgChannels} ch, c_dim {d.CDim}, channel_base {d.ChannelBase}, channel_max {d.ChannelMax}, " +
        $"{d.Architecture.ToString().ToLowerInvariant()}, mbstd group {d.MbstdGroupSize?.ToString() ?? "all"}, Freeze-D {d.FreezeLayers}";

    private static string DescribeArchitecture(GeneratorConfig g) =>
        $"{g.ImgResolution}px, {g.ImgChannels} ch, c_dim {g.CDim}, z {g.ZDim}, channel_base {g.Synthesis.ChannelBase}, " +
        $"{g.Mapping.NumLayers} mapping layers";

    /// <summary>
    /// Hyper-parameters and networks of resolved options on a dataset (checks batch against mbstd). A transfer
    /// (<paramref name="transferNets"/>: the source's architecture) moves ADA's p at ada_kimg 100, as the official
    /// resume does, but keeps the preset's G_ema ramp-up (auto, cifar, small, smoke; the paper presets have none), counted
    /// from the transfer's first image. The official resume drops it, and then G_ema averages the source's weights into
    /// the new ones for several half-lives: measured at 64 px (docs/benchmarks.md), a transfer onto the source's own
    /// data went from FID 35.8 to 51.2 in 6 kimg without the ramp-up and to 32.6 with it.
    /// </summary>
    internal static GanTrainSetup BuildSetup(GanTrainOptions o, TrainingSet data, NetworkConfigs? transferNets = null)
    {
        var preset = TrainingPresets.Get(o.Cfg, data.Resolution);
        var nets = transferNets ?? NetworkPresets.Create(o.Cfg, data.Resolution, data.Channels, data.CDim);
        nets = nets with { D = nets.D with { FreezeLayers = o.Freezed } };
        var batch = o.Batch;
        var group = Math.Min(nets.D.MbstdGroupSize ?? batch, batch);
        if (batch % group != 0)
        {
            throw new DataException($"--batch {batch}: must be a multiple of the minibatch-stddev group {group} of --cfg {o.Cfg}. " +
                $"fix: use --batch {Math.Max(group, batch / group * group)}.");
        }
        if (o.AugPipe is { } pipe && AugmentPresets.Get(pipe).ImgFilter > 0 && data.Resolution <= 21 * 2)
        {
            throw new DataException($"--augpipe {pipe}: the image filter needs images above 42 px, the data is {data.Resolution} px. " +
                "fix: use --augpipe bgc (or bg).");
        }
        double[] Adam(int interval)
        {
            var ratio = interval / (interval + 1.0);
            return [preset.Lr * ratio, Math.Pow(0, ratio), Math.Pow(0.99, ratio)];
        }
        return new GanTrainSetup
        {
            Resolution = data.Resolution,
            Channels = data.Channels,
            CDim = data.CDim,
            Images = data.Count,
            Preset = preset,
            GOptimizer = Adam(4),
            DOptimizer = Adam(16),
            G = nets.G,
            D = nets.D,
            AdaKimg = transferNets is null ? 500 : 100,
        };
    }

    private static string DefaultDesc(GanTrainOptions o, TrainingSet data)
    {
        var parts = new List<string> { Path.GetFileNameWithoutExtension(data.ZipPath) };
        if (o.Cond)
            parts.Add("cond");
        if (o.Label is { } label)
            parts.Add(GanOption.Show(label));
        if (o.Mirror)
            parts.Add("mirror");
        parts.Add(o.Cfg);
        parts.Add(o.Aug == AugMode.Fixed ? $"p{TrainingSnapshot.Format(o.P!.Value)}" : GanOption.Show(o.Aug));
        return string.Join("-", parts);
    }
}
