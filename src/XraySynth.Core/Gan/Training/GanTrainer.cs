using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using XraySynth.Data;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Imaging;
using XraySynth.Quality;
using XraySynth.Runtime;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>
/// StyleGAN2-ADA training (official training/training_loop.py) with exact resume: phases Gmain, Greg (every 4),
/// Dmain, Dreg (every 16) with lazy-regularisation Adam; gradients sanitised; G_ema with ramp-up; ADA's p every 4
/// minibatches; a tick every --tick kimg writes stats.jsonl, TensorBoard scalars and a status line; every --snap ticks
/// (and at the end) a fakes grid and a snapshot holding everything needed to continue exactly.
/// </summary>
public sealed class GanTrainer
{
    /// <summary>The kind of run folder: NNNNN-gan-train-&lt;desc&gt;.</summary>
    public const string RunKind = "gan-train";

    private readonly GanTrainOptions _o;
    private readonly GanTrainSetup _setup;
    private readonly RunFolder _run;
    private readonly TrainingSet _data;
    private readonly Device _device;
    private readonly IProgress<ProgressInfo>? _progress;
    private readonly Action<string> _say;

    private GanTrainer(GanTrainOptions options, GanTrainSetup setup, RunFolder run, TrainingSet data, Device device,
        IProgress<ProgressInfo>? progress, Action<string>? say)
    {
        _o = options;
        _setup = setup;
        _run = run;
        _data = data;
        _device = device;
        _progress = progress;
        _say = line =>
        {
            run.Log(line);
            say?.Invoke(line);
        };
    }

    /// <summary>
    /// Starts a new run, or continues one when <paramref name="resume"/> is "latest" (the newest run under
    /// <see cref="GanTrainOptions.OutRoot"/>), a run folder or a snapshot folder. Every check of the inputs happens
    /// before training starts (<see cref="DataException"/>); a non-finite loss stops with
    /// <see cref="TrainingDivergedException"/>; cancellation stops at the end of the current tick with a snapshot (<see cref="RunInterruptedException"/>; rerun with --resume).
    /// </summary>
    public static GanTrainResult Run(GanTrainOptions options, string? resume = null,
        IProgress<ProgressInfo>? progress = null, Action<string>? say = null, CancellationToken cancel = default)
    {
        var device = TorchRuntime.Select(options.Device);
        if (resume is null)
            return StartNew(options, device, progress, say, cancel);
        return Continue(options, resume, device, progress, say, cancel);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Setup: new run or resumed run.

    private static GanTrainResult StartNew(GanTrainOptions request, Device device, IProgress<ProgressInfo>? progress,
        Action<string>? say, CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(request.Data))
            throw new DataException("--data ZIP is required for a new run. fix: pass the zip written by 'xraysynth prepare'.");
        // Validate what can be checked without the data first.
        request.Resolve(resolution: 256);
        var data = TrainingSet.Load(Path.GetFullPath(request.Data), request.Cond == true, request.Label,
            request.Mirror == true, device, progress, cancel);
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
                transferNets = Import.Transfer.TargetArchitecture(sourceArch, resolved, data.Resolution, data.Channels, data.CDim,
                    options.Freezed ?? 0);
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

    private static GanTrainResult Continue(GanTrainOptions request, string resume, Device device,
        IProgress<ProgressInfo>? progress, Action<string>? say, CancellationToken cancel)
    {
        // The run folder and the snapshot to continue from.
        RunFolder run;
        string? snapshotDir = null;
        if (resume == "latest")
        {
            run = RunFolder.Latest(request.OutRoot, RunKind)
                ?? throw new DataException($"--resume latest: no {RunKind} run under {request.OutRoot}. fix: start one without --resume.");
        }
        else if (File.Exists(Path.Combine(resume, SnapshotWriter.ManifestFileName)))
        {
            snapshotDir = Path.GetFullPath(resume);
            run = new RunFolder(Path.GetDirectoryName(snapshotDir)!);
        }
        else
        {
            run = new RunFolder(resume);
        }
        var optionsPath = run.File(RunFolder.OptionsFile);
        if (!File.Exists(optionsPath))
            throw new DataException($"--resume {resume}: {optionsPath} not found. fix: pass a '{RunKind}' run folder or one of its snapshots.");
        GanTrainOptions saved;
        try
        {
            saved = JsonNode.Parse(File.ReadAllText(optionsPath))?["options"].Deserialize<GanTrainOptions>(Json.Options)
                ?? throw new JsonException("no \"options\"");
        }
        catch (JsonException e)
        {
            throw new DataException($"--resume {resume}: {optionsPath} is not a gan train options file ({e.Message}).");
        }
        var options = MergeForResume(saved, request);

        // Under the lock every hidden temporary in the run folder is a dead process's: safe to clean.
        using var held = RunFolderLock.Acquire(run.Path, "gan train --resume");
        foreach (var action in TrainingSnapshot.RemoveLeftovers(run.Path))
        {
            say?.Invoke(action);
            run.Log(action);
        }
        AtomicFile.RemoveTemporaries(run.Path);
        SnapshotReader reader;
        if (snapshotDir is not null)
        {
            try
            {
                reader = SnapshotReader.Open(snapshotDir);
            }
            catch (SnapshotException e)
            {
                throw new DataException($"--resume {resume}: {e.Message}");
            }
        }
        else
        {
            // The newest snapshot whose files are intact (a damaged one is skipped, never deleted).
            var candidates = TrainingSnapshot.List(run.Path);
            if (candidates.Count == 0)
                throw new DataException($"--resume {resume}: {run.Path} holds no complete snapshot. fix: start a new run without --resume.");
            SnapshotReader? found = null;
            foreach (var (dir, _) in Enumerable.Reverse(candidates))
            {
                try
                {
                    found = SnapshotReader.Open(dir);
                    break;
                }
                catch (SnapshotException e)
                {
                    say?.Invoke($"warning: skipping {dir}: {e.Message}");
                    run.Log($"warning: skipping {dir}: {e.Message}");
                }
            }
            reader = found ?? throw new DataException(
                $"--resume {resume}: every snapshot in {run.Path} is damaged. fix: start a new run without --resume.");
            snapshotDir = reader.Directory;
        }
        var checkpoint = TrainingSnapshot.ReadCheckpoint(reader);
        var trainedOn = TrainingSnapshot.ReadDataInfo(reader);
        var architecture = GanSnapshot.ReadArchitecture(reader);

        var data = TrainingSet.Load(options.Data!, options.Cond == true, options.Label, options.Mirror == true, device,
            progress, cancel);
        try
        {
            if (data.Resolution != trainedOn.Resolution || data.Channels != trainedOn.Channels || data.CDim != trainedOn.CDim)
            {
                throw new DataException(
                    $"--resume: {snapshotDir} was trained on {trainedOn.Resolution}x{trainedOn.Resolution} images with " +
                    $"{trainedOn.Channels} channel(s) and c_dim {trainedOn.CDim}, but {options.Data} has {data.Resolution}x" +
                    $"{data.Resolution}, {data.Channels} channel(s), c_dim {data.CDim}. fix: resume with the dataset the run " +
                    "was trained on, or start a new run.");
            }
            if (data.Count != trainedOn.Images)
            {
                var warning = $"warning: {options.Data} has {data.Count} images, the snapshot was trained on {trainedOn.Images} " +
                              $"({trainedOn.Zip}): training continues, but not exactly as the uninterrupted run would.";
                say?.Invoke(warning);
                run.Log(warning);
            }
            var resolved = options.Resolve(data.Resolution);
            // A transfer run's networks came from its source; the snapshot holds them.
            var setup = BuildSetup(resolved, data, resolved.Transfer is null ? null : new NetworkConfigs(architecture.G, architecture.D));
            if (setup.G != architecture.G || setup.D != architecture.D)
            {
                throw new DataException(
                    $"--resume: the networks in {snapshotDir} differ from the ones --cfg {resolved.Cfg} builds for this data " +
                    $"(G: {DescribeArchitecture(architecture.G)} vs {DescribeArchitecture(setup.G)}). fix: resume with the " +
                    "options and data the run was started with.");
            }
            Warn(run, data.Warnings, say);
            var trainer = new GanTrainer(resolved, setup, run, data, device, progress, say);
            return trainer.Train((reader, checkpoint), cancel);
        }
        finally
        {
            data.Dispose();
        }
    }

    /// <summary>
    /// The saved options of a resumed run, with the overrides a resume allows (kimg, snap, keep-snapshots, device, the
    /// dataset path). Any other option given differently is refused: it would change the architecture or the training.
    /// </summary>
    internal static GanTrainOptions MergeForResume(GanTrainOptions saved, GanTrainOptions request)
    {
        var conflicts = new List<string>();
        void Check<T>(string flag, T? given, T? was)
        {
            if (given is not null && !EqualityComparer<T?>.Default.Equals(given, was))
                conflicts.Add($"{flag} {Format(given)} (the run has {Format(was)})");
        }
        Check("--cfg", request.Cfg, saved.Cfg);
        Check("--cond", request.Cond, saved.Cond);
        Check("--label", request.Label, saved.Label);
        Check("--batch", request.Batch, saved.Batch);
        Check("--gamma", request.Gamma, saved.Gamma);
        Check("--aug", request.Aug, saved.Aug);
        Check("--p", request.P, saved.P);
        Check("--target", request.Target, saved.Target);
        Check("--augpipe", request.AugPipe, saved.AugPipe);
        Check("--mirror", request.Mirror, saved.Mirror);
        Check("--tick", request.Tick, saved.Tick);
        Check("--seed", request.Seed, saved.Seed);
        Check("--transfer", request.Transfer is null ? null : Import.Transfer.ResolveTransferSource(request.Transfer), saved.Transfer);
        Check("--freezed", request.Freezed, saved.Freezed);
        if (conflicts.Count > 0)
        {
            throw new DataException(
                $"--resume continues a run exactly, but {string.Join("; ", conflicts)}. fix: drop these options (only --kimg, " +
                "--snap, --keep-snapshots, --device and --data may change on resume), or start a new run.");
        }
        return saved with
        {
            Data = string.IsNullOrEmpty(request.Data) ? saved.Data : Path.GetFullPath(request.Data),
            OutRoot = saved.OutRoot,
            Kimg = request.Kimg ?? saved.Kimg,
            Snap = request.Snap ?? saved.Snap,
            KeepSnapshots = request.KeepSnapshots ?? saved.KeepSnapshots,
            Device = request.Device,
            InjectNonFiniteAt = request.InjectNonFiniteAt,
            GridSize = request.GridSize,
            QualitySamples = request.QualitySamples,
        };
    }

    private static string Format<T>(T value) => value switch
    {
        null => "(default)",
        bool b => b ? "on" : "off",
        Enum e => e.ToString().ToLowerInvariant(),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static string DescribeArchitecture(GeneratorConfig g) =>
        $"{g.ImgResolution}px, {g.ImgChannels} ch, c_dim {g.CDim}, z {g.ZDim}, channel_base {g.Synthesis.ChannelBase}, " +
        $"{g.Mapping.NumLayers} mapping layers";

    /// <summary>
    /// Hyper-parameters and networks of resolved options on a dataset (checks batch against mbstd). A transfer
    /// (<paramref name="transferNets"/>: the source's architecture) trains as the official resume does: ADA's p moves
    /// at ada_kimg 100 and G_ema has no ramp-up.
    /// </summary>
    internal static GanTrainSetup BuildSetup(GanTrainOptions o, TrainingSet data, NetworkConfigs? transferNets = null)
    {
        var preset = TrainingPresets.Get(o.Cfg!, data.Resolution);
        var nets = transferNets ?? NetworkPresets.Create(o.Cfg!, data.Resolution, data.Channels, data.CDim);
        nets = nets with { D = nets.D with { FreezeLayers = o.Freezed ?? 0 } };
        if (transferNets is not null)
            preset = preset with { EmaRampup = null };
        var batch = o.Batch!.Value;
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
        if (o.Cond == true)
            parts.Add("cond");
        if (o.Label is { } label)
            parts.Add(label.ToString().ToLowerInvariant());
        if (o.Mirror == true)
            parts.Add("mirror");
        parts.Add(o.Cfg!);
        parts.Add(o.Aug == AugMode.Fixed ? $"p{TrainingSnapshot.Format(o.P!.Value)}" : o.Aug!.Value.ToString().ToLowerInvariant());
        return string.Join("-", parts);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // The training loop.

    /// <summary>--metrics: the snapshot's quality against the training zip, appended to the run's metric-*.jsonl. The
    /// training streams are reseeded at every tick, so this does not change the run.</summary>
    private void SnapshotMetrics(string snapshot, GanTrainOptions o, int seed, CancellationToken cancel)
    {
        var report = XraySynth.Quality.GanMetrics.Run(new XraySynth.Quality.MetricsOptions
        {
            Network = snapshot, Data = _data.ZipPath, Metrics = XraySynth.Quality.MetricsOptions.ParseMetrics(o.Metrics!),
            Detector = o.MetricsDetector ?? "builtin", Count = o.MetricsCount ?? 1000, Seed = seed, Device = o.Device,
        }, null, cancel);
        foreach (var r in report.Results)
            _say($"metric {r.Metric}: {string.Join(", ", r.Results.Select(kv => $"{kv.Key} {kv.Value:G4}"))}");
    }

    private GanTrainResult Train((SnapshotReader Reader, TrainingCheckpoint Checkpoint)? resume, CancellationToken cancel,
        GanNetworks? transferSource = null)
    {
        var o = _o;
        var seed = o.Seed!.Value;
        var batch = o.Batch!.Value;
        var totalNimg = (long)Math.Ceiling(o.Kimg!.Value * 1000);
        var kimgPerTick = o.Tick!.Value;
        var fractionalNames = kimgPerTick < 1;
        var preset = _setup.Preset;
        _say($"gan train {o.Cfg} at {_data.Resolution}x{_data.Resolution}x{_data.Channels} on {TorchRuntime.Describe(_device)}; " +
             $"run {_run.Path}");
        _say($"data: {_data.Count} images{(_data.Mirror ? " (+ x-flips)" : "")} from {_data.ZipPath}" +
             (_data.CDim > 0 ? $", {_data.CDim} classes (conditional)" : "") +
             (o.Label is { } l ? $", label {l.ToString().ToLowerInvariant()} only" : ""));

        // Networks: initialised from the seed, G_ema a copy of G.
        random.manual_seed(seed);
        using var g = new Generator(_setup.G);
        using var d = new Discriminator(_setup.D);
        using var gEma = new Generator(_setup.G);
        CopyInto(g, gEma);
        if (transferSource is not null)
        {
            var report = Import.Transfer.Apply(transferSource, g, d, gEma, o.Transfer!);
            _say($"transfer from {o.Transfer}: {report.Copied.Count} tensors copied, {report.Converted.Count} converted by the channel rule" +
                 (report.Converted.Count > 0 ? $" ({string.Join(", ", report.Converted.Take(4))}{(report.Converted.Count > 4 ? ", ..." : "")})" : "") +
                 $", {report.Fresh.Count} fresh (new label path); ADA speed 100 kimg, no G_ema ramp-up" +
                 (_setup.D.FreezeLayers > 0 ? $", Freeze-D {_setup.D.FreezeLayers} layers" : ""));
        }
        g.to(_device).train();
        d.to(_device).train();
        gEma.to(_device).eval();
        SetRequiresGrad(g, false);
        SetRequiresGrad(d, false);
        SetRequiresGrad(gEma, false);
        _say($"G {Count(g):N0} parameters, D {Count(d):N0}; batch {batch}, lr {preset.Lr}, gamma {o.Gamma}, ema {preset.EmaKimg} kimg" +
             (preset.EmaRampup is { } r ? $" (ramp-up {r})" : "") + $", aug {Format(o.Aug)}" +
             (o.AugPipe is { } ap ? $" {ap}" : "") + $", {o.Kimg} kimg");

        // Optimizers with the lazy-regularisation adjustment.
        using var gOpt = optim.Adam(g.parameters(), _setup.GOptimizer[0], _setup.GOptimizer[1], _setup.GOptimizer[2], 1e-8);
        using var dOpt = optim.Adam(d.parameters(), _setup.DOptimizer[0], _setup.DOptimizer[1], _setup.DOptimizer[2], 1e-8);

        // Augmentation and its controller.
        using var augment = o.Aug == AugMode.Noaug || (o.Aug == AugMode.Fixed && o.P == 0)
            ? null
            : new AugmentPipe(AugmentPresets.Get(o.AugPipe!), _device);
        using var ada = o.Aug == AugMode.Ada
            ? new AdaController(o.Target!.Value, batch, _setup.AdaInterval, _setup.AdaKimg, 0, _device)
            : null;
        double AugmentP() => ada?.P ?? (o.Aug == AugMode.Fixed ? o.P!.Value : 0);

        using var rng = new TrainingRng(seed, _device);
        using var stats = new TrainingStatistics(_device);
        using var loss = new StyleGan2Loss(g, d, augment, rng, stats, o.Gamma!.Value, preset.StyleMixingProb,
            preset.PlWeight, _device)
        {
            AugmentP = AugmentP,
            OnRealLogits = ada is null ? null : ada.Accumulate,
        };

        // Counters.
        long curNimg = 0, curTick = 0, batchIdx = 0;
        double priorSeconds = 0;
        string? lastSnapshot = null;
        string? resumedFrom = null;
        if (resume is { } r0)
        {
            TrainingSnapshot.Load(r0.Reader, g, d, gEma, gOpt, dOpt);
            var c = r0.Checkpoint;
            (curNimg, curTick, batchIdx, priorSeconds) = (c.CurNimg, c.NextTick, c.BatchIdx, c.TotalSeconds);
            if (c.Ada is { } adaState)
                ada?.SetState(adaState);
            loss.SetPlMean(c.PlMean);
            lastSnapshot = resumedFrom = r0.Reader.Directory;
            _run.RewriteStats(rec => rec["tick"]?.GetValue<long>() < curTick);
            _say($"resumed from {resumedFrom}: kimg {curNimg / 1000.0:F3}, tick {curTick}, augment p {AugmentP():F4}");
        }

        // Fixed grid: the official layout of reals (grouped by label) and fixed latents for G_ema.
        var (gw, gh) = o.GridSize ?? ImageGrid.OfficialSize(_data.Resolution);
        var gridIndices = GridIndices(gw, gh, seed);
        using var gridGen = new torch.Generator((ulong)seed);
        using var gridZ = randn([gw * gh, _setup.G.ZDim], generator: gridGen).DetachFromDisposeScope();
        using var gridC = _data.LabelsOf(gridIndices);
        if (resume is null)
        {
            using (var reals = _data.RawImages(gridIndices))
                ImageGrid.Save(_run.File("reals.png"), reals, gw, gh);
            // On a CPU the whole grid of an untrained G_ema can cost more than the ticks before the first snapshot
            // (cfg auto at 32 px: 1,024 forwards of a 20M-parameter G): there the first rows, at most 256 images.
            var initRows = _device.type == DeviceType.CUDA ? gh : Math.Clamp(256 / gw, 1, gh);
            SaveFakes(gEma, gridZ, gridC, gw, initRows, _run.File("fakes_init.png"));
        }
        else
            SaveFakes(gEma, gridZ, gridC, gw, Math.Min(gh, Math.Max(1, 8 / gw)), null);   // times G_ema for the snapshot budget

        // FD8 quality figure: the reals' 8×8 pixel statistics once, fixed latents for G_ema.
        using var realFit = RealFit(seed);
        var qualitySamples = o.QualitySamples ?? 1024;
        // Per-snapshot work (FD8, fakes grid, snapshot files) is sized to SnapshotBudget of the training time since
        // the previous snapshot, unless the sizes are fixed (tests); each tick's record says on how many images FD8 ran.
        var budgeted = o.QualitySamples is null && o.GridSize is null;
        var fd8Samples = qualitySamples;
        var trainSinceSnapshot = 0.0;
        var lastSaveSec = 0.0;
        var phaseSec = new Dictionary<LossPhase, double>();
        var sessionPhaseSec = new Dictionary<LossPhase, double>();
        var worstOverhead = (double?)null;
        using var qualityGen = new torch.Generator((ulong)seed + 1);
        using var qualityZ = randn([qualitySamples, _setup.G.ZDim], generator: qualityGen).DetachFromDisposeScope();
        using var qualityC = _data.LabelsOf(new Random(seed + 1).GetItems(Enumerable.Range(0, _data.Length).ToArray(), qualitySamples));

        var tensorboard = torch.utils.tensorboard.SummaryWriter(_run.Path);
        using var firstBad = full([], -1L, ScalarType.Int64, _device).DetachFromDisposeScope();
        var phases = new (LossPhase Phase, nn.Module Module, Adam Opt, int Interval)[]
        {
            (LossPhase.Gmain, g, gOpt, 1),
            (LossPhase.Greg, g, gOpt, _setup.GRegInterval),
            (LossPhase.Dmain, d, dOpt, 1),
            (LossPhase.Dreg, d, dOpt, _setup.DRegInterval),
        };
        var activePhases = phases.Where(p => p.Phase switch
        {
            LossPhase.Greg => preset.PlWeight != 0,
            LossPhase.Dreg => o.Gamma!.Value != 0,
            _ => true,
        }).ToArray();

        if (curNimg >= totalNimg)
        {
            _say($"already trained to kimg {curNimg / 1000.0:F3} of {o.Kimg}: nothing to do. fix: pass a larger --kimg to train on.");
            return new GanTrainResult(_run.Path, curNimg / 1000.0, curTick, lastSnapshot, AugmentP(), null, resumedFrom);
        }

        var clock = Stopwatch.StartNew();
        var tickStartNimg = curNimg;
        var tickStartTime = 0.0;
        var maintenance = 0.0;
        var sessionSecPerKimg = new List<double>();
        var ticksThisSession = 0;
        _say($"training for {o.Kimg} kimg ({totalNimg - curNimg} images to go)");
        rng.StartTick(curTick);
        // Progress counts this session's images, so rates and ETAs hold after a resume.
        var sessionStartNimg = curNimg;
        var stage = resume is null ? "training" : $"training from kimg {curNimg / 1000.0:F1}";
        _progress?.Report(new ProgressInfo(stage, 0, totalNimg - sessionStartNimg));

        while (true)
        {
            using (var step = NewDisposeScope())
            {
                // Data for this minibatch: reals, their labels, latents and labels for the generated images.
                var realIdx = rng.NextIndices(batch, _data.Length);
                var realImg = _data.Reals(realIdx);
                var realC = _data.LabelsOf(realIdx);
                if (o.InjectNonFiniteAt == batchIdx)
                    loss.PoisonNextGLoss = true;

                foreach (var (phase, module, opt, interval) in activePhases)
                {
                    if (batchIdx % interval != 0)
                        continue;
                    var genZ = randn([batch, _setup.G.ZDim], device: _device, generator: rng.Device);
                    var genC = _data.LabelsOf(rng.Uniform(batch, _data.Length));
                    var phaseStart = Stopwatch.GetTimestamp();
                    ClearGrads(module);
                    SetRequiresGrad(module, true);
                    loss.Accumulate(phase, realImg, realC, genZ, genC, interval);
                    SetRequiresGrad(module, false);
                    SanitizeGrads(module);
                    opt.step();
                    // Wall time per phase (exact on a CPU; on CUDA the kernels may still run when it is read).
                    phaseSec[phase] = phaseSec.GetValueOrDefault(phase) + Stopwatch.GetElapsedTime(phaseStart).TotalSeconds;
                }

                // Remember the first minibatch whose loss was not finite (read every few minibatches).
                using (no_grad())
                {
                    using var stepLoss = loss.TakeStepLoss();
                    var bad = stepLoss.isfinite().logical_not().logical_and(firstBad.lt(0));
                    firstBad.copy_(where(bad, full([], batchIdx, ScalarType.Int64, _device), firstBad));
                }

                // G_ema: a running average of G with half-life ema_kimg, ramped up at the start.
                var emaNimg = preset.EmaKimg * 1000;
                if (preset.EmaRampup is { } rampup)
                    emaNimg = Math.Min(emaNimg, curNimg * rampup);
                var emaBeta = Math.Pow(0.5, batch / Math.Max(emaNimg, 1e-8));
                UpdateEma(g, gEma, emaBeta);
            }

            curNimg += batch;
            batchIdx++;
            ada?.MaybeUpdate(batchIdx);
            if (batchIdx % 4 == 0)
                ThrowIfDiverged(firstBad, batch, lastSnapshot);
            _progress?.Report(new ProgressInfo(stage, Math.Min(curNimg, totalNimg) - sessionStartNimg, totalNimg - sessionStartNimg));

            // A tick ends every kimg_per_tick (the first after one minibatch) and at the end.
            var done = curNimg >= totalNimg;
            if (!done && curTick != 0 && curNimg < tickStartNimg + kimgPerTick * 1000)
                continue;

            var tickEnd = clock.Elapsed.TotalSeconds;
            ThrowIfDiverged(firstBad, batch, lastSnapshot);
            var values = stats.Collect();
            // A stop request (SIGINT/SIGTERM) is honoured here, at the end of a tick: snapshot, then stop.
            var stopping = !done && cancel.IsCancellationRequested;
            var snapshotDue = done || stopping || curTick % o.Snap!.Value == 0;
            var secPerTick = tickEnd - tickStartTime;
            trainSinceSnapshot += secPerTick;
            var gridRows = gh;
            if (snapshotDue && budgeted)
            {
                // Half the budget (less the last snapshot's file writing) for FD8, half for the fakes grid.
                var budget = Math.Max(0, SnapshotBudget * trainSinceSnapshot - lastSaveSec) / 2;
                var affordable = budget / _genSecPerImage;    // images; compared as doubles (no int overflow on fast devices)
                fd8Samples = (int)Math.Clamp(Math.Floor(affordable / 64) * 64, Math.Min(MinFd8Samples, qualitySamples), qualitySamples);
                gridRows = (int)Math.Clamp(Math.Floor(affordable / gw), 1, gh);
            }
            var overheadStart = Stopwatch.GetTimestamp();
            double? fd8 = snapshotDue ? Fd8(gEma, qualityZ, qualityC, fd8Samples, realFit) : null;
            var fd8Sec = Stopwatch.GetElapsedTime(overheadStart).TotalSeconds;
            var secPerKimg = secPerTick / Math.Max(1, curNimg - tickStartNimg) * 1000;
            var tickImages = Math.Max(1, curNimg - tickStartNimg);
            if (ticksThisSession++ > 0)
            {
                sessionSecPerKimg.Add(secPerKimg); // the first tick of a session includes start-up
                foreach (var (ph, sec) in phaseSec)
                    sessionPhaseSec[ph] = sessionPhaseSec.GetValueOrDefault(ph) + sec / tickImages * 1000;
            }
            var record = new GanTickStats
            {
                Tick = curTick,
                Kimg = curNimg / 1000.0,
                Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
                TotalSec = priorSeconds + tickEnd,
                SecPerTick = secPerTick,
                SecPerKimg = secPerKimg,
                MaintenanceSec = maintenance,
                CpuMemGb = Process.GetCurrentProcess().WorkingSet64 / (double)(1L << 30),
                AugmentP = AugmentP(),
                AdaRt = ada?.LastRt,
                LossG = Mean(values, "Loss/G/loss"),
                LossD = Mean(values, "Loss/D/loss"),
                LossGReg = Mean(values, "Loss/G/reg"),
                LossDReg = Mean(values, "Loss/D/reg"),
                R1Penalty = Mean(values, "Loss/r1_penalty"),
                PlPenalty = Mean(values, "Loss/pl_penalty"),
                PlMean = preset.PlWeight != 0 ? loss.PlMean.item<float>() : null,
                ScoresReal = Mean(values, "Loss/scores/real"),
                ScoresFake = Mean(values, "Loss/scores/fake"),
                SignsReal = Mean(values, "Loss/signs/real"),
                SignsFake = Mean(values, "Loss/signs/fake"),
                Fd8 = fd8,
                Fd8Samples = fd8 is null ? null : fd8Samples,
                PhaseSecPerKimg = phaseSec.ToDictionary(kv => kv.Key.ToString(), kv => Math.Round(kv.Value / tickImages * 1000, 4)),
            };
            phaseSec.Clear();
            _run.AppendStats(record);
            WriteTensorBoard(tensorboard, record, values);
            _say(StatusLine(record, totalNimg));

            // Fakes grid and snapshot every --snap ticks and at the end; never of a non-finite model.
            if (snapshotDue)
            {
                if (!AllFinite(g) || !AllFinite(d) || !AllFinite(gEma))
                {
                    throw new TrainingDivergedException(
                        $"training diverged: the weights are no longer finite at kimg {curNimg / 1000.0:F3} (tick {curTick}); " +
                        $"no snapshot was written. last good snapshot: {lastSnapshot ?? "none"}. fix: resume from it with a " +
                        "lower learning rate or a higher --gamma.", batchIdx, curNimg / 1000.0, lastSnapshot);
                }
                SaveFakes(gEma, gridZ, gridC, gw, gridRows, _run.File($"fakes{TrainingSnapshot.Kimg(curNimg, fractionalNames)}.png"));
                var saveStart = Stopwatch.GetTimestamp();
                var dir = _run.File(TrainingSnapshot.Name(curNimg, fractionalNames));
                var checkpoint = new TrainingCheckpoint
                {
                    CurNimg = curNimg,
                    NextTick = curTick + 1,
                    BatchIdx = batchIdx,
                    TotalKimg = o.Kimg!.Value,
                    Seed = seed,
                    AugmentP = AugmentP(),
                    Ada = ada?.GetState(),
                    PlMean = loss.PlMean.item<float>(),
                    TotalSeconds = priorSeconds + clock.Elapsed.TotalSeconds,
                };
                var info = new TrainingDataInfo(_data.ZipPath, _data.Count, _data.Resolution, _data.Channels, _data.CDim, _data.Mirror);
                TrainingSnapshot.Save(dir, g, d, gEma, gOpt, dOpt, checkpoint, info, o);
                lastSnapshot = dir;
                foreach (var pruned in TrainingSnapshot.Prune(_run.Path, o.KeepSnapshots ?? 0))
                    _say($"pruned {Path.GetFileName(pruned)} (--keep-snapshots {o.KeepSnapshots})");
                lastSaveSec = Stopwatch.GetElapsedTime(saveStart).TotalSeconds;
                var overhead = Stopwatch.GetElapsedTime(overheadStart).TotalSeconds;
                var fraction = overhead / Math.Max(trainSinceSnapshot, 1e-9);
                if (ticksThisSession > 1) worstOverhead = Math.Max(worstOverhead ?? 0, fraction);
                _say($"snapshot {Path.GetFileName(dir)}; overhead {overhead:F1} s = {100 * fraction:F1}% of the {trainSinceSnapshot:F1} s trained since the last " +
                     $"(FD8 on {fd8Samples} images {fd8Sec:F1} s, fakes grid {gw}x{gridRows}, files {lastSaveSec:F1} s)");
                trainSinceSnapshot = 0;
                if (o.Metrics is not null && !stopping) SnapshotMetrics(dir, o, seed, cancel);
            }
            if (stopping)
            {
                _say($"stopped on request at kimg {curNimg / 1000.0:F3} (tick {curTick}); snapshot {Path.GetFileName(lastSnapshot)}");
                throw new RunInterruptedException($"stopped at kimg {curNimg / 1000.0:F3}; the run continues exactly from {lastSnapshot}", _run.Path);
            }

            curTick++;
            tickStartNimg = curNimg;
            tickStartTime = clock.Elapsed.TotalSeconds;
            maintenance = tickStartTime - tickEnd;
            if (done)
                break;
            rng.StartTick(curTick);
        }
        tensorboard.add_text("status", "done", (int)(curNimg / 1000));
        double? mean = sessionSecPerKimg.Count > 0 ? sessionSecPerKimg.Average() : null;
        _say($"done: kimg {curNimg / 1000.0:F3}, {curTick} ticks, augment p {AugmentP():F4}, " +
             (mean is { } m ? $"{m:F2} sec/kimg" : "too short to time") + $"; last snapshot {lastSnapshot}");
        return new GanTrainResult(_run.Path, curNimg / 1000.0, curTick, lastSnapshot, AugmentP(), mean, resumedFrom)
        {
            PhaseSecPerKimg = sessionSecPerKimg.Count > 0
                ? sessionPhaseSec.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value / sessionSecPerKimg.Count) : null,
            WorstSnapshotOverhead = worstOverhead,
        };
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Helpers.

    private void ThrowIfDiverged(Tensor firstBad, int batch, string? lastSnapshot)
    {
        var step = firstBad.item<long>();
        if (step < 0)
            return;
        var kimg = step * batch / 1000.0;
        throw new TrainingDivergedException(
            $"training diverged: the loss became NaN or infinite at minibatch {step} (kimg {kimg:F3}); nothing after the last " +
            $"snapshot is kept. last good snapshot: {lastSnapshot ?? "none (the run diverged before its first snapshot)"}. " +
            "fix: resume from it (--resume PATH) with a lower learning rate or a higher --gamma, or check the data.",
            step, kimg, lastSnapshot);
    }

    private static double? Mean(Dictionary<string, double> values, string name) =>
        values.TryGetValue(name, out var v) && double.IsFinite(v) ? v : null;

    private string StatusLine(GanTickStats s, long totalNimg)
    {
        var eta = s.SecPerKimg * (totalNimg / 1000.0 - s.Kimg);
        var parts = new List<string>
        {
            $"tick {s.Tick}",
            $"kimg {s.Kimg:F3}",
            $"sec/kimg {s.SecPerKimg:F2}",
            $"ETA {TimeSpan.FromSeconds(Math.Max(0, eta)):d\\.hh\\:mm\\:ss}",
            $"augment {s.AugmentP:F4}" + (s.AdaRt is { } rt ? $" (r_t {rt:F3})" : ""),
        };
        void Add(string label, double? value)
        {
            if (value is { } v)
                parts.Add($"{label} {v:F4}");
        }
        Add("G", s.LossG);
        Add("D", s.LossD);
        Add("R1", s.R1Penalty);
        Add("PL", s.PlPenalty);
        Add("FD8", s.Fd8);
        parts.Add($"cpumem {s.CpuMemGb:F2} GiB");
        return string.Join("  ", parts);
    }

    private static void WriteTensorBoard(SummaryWriter tb, GanTickStats s, Dictionary<string, double> values)
    {
        var step = (int)Math.Floor(s.Kimg);
        foreach (var (name, value) in values)
        {
            if (double.IsFinite(value))
                tb.add_scalar(name, (float)value, step);
        }
        tb.add_scalar("Progress/augment", (float)s.AugmentP, step);
        if (s.AdaRt is { } rt)
            tb.add_scalar("Progress/ada_rt", (float)rt, step);
        tb.add_scalar("Timing/sec_per_kimg", (float)s.SecPerKimg, step);
        tb.add_scalar("Resources/cpu_mem_gb", (float)s.CpuMemGb, step);
        if (s.PlMean is { } pl)
            tb.add_scalar("Loss/pl_mean", (float)pl, step);
        if (s.Fd8 is { } fd)
            tb.add_scalar("Metrics/fd8", (float)fd, step);
    }

    /// <summary>The official grid: a random subset, or with labels one label per row in label order.</summary>
    private int[] GridIndices(int gw, int gh, int seed)
    {
        var rnd = new Random(seed);
        var total = gw * gh;
        if (_data.CDim == 0)
        {
            var all = Enumerable.Range(0, _data.Length).ToArray();
            rnd.Shuffle(all);
            return Enumerable.Range(0, total).Select(i => all[i % all.Length]).ToArray();
        }
        var groups = Enumerable.Range(0, _data.Length).GroupBy(i => _data.RawLabel(i) ?? 0)
            .OrderBy(grp => grp.Key).Select(grp => grp.ToArray()).ToList();
        foreach (var grp in groups)
            rnd.Shuffle(grp);
        var result = new List<int>(total);
        var offsets = new int[groups.Count];
        for (var y = 0; y < gh; y++)
        {
            var k = y % groups.Count;
            var grp = groups[k];
            for (var x = 0; x < gw; x++)
                result.Add(grp[(offsets[k] + x) % grp.Length]);
            offsets[k] = (offsets[k] + gw) % grp.Length;
        }
        return result.ToArray();
    }

    /// <summary>Per-snapshot work may take this fraction of the training time since the previous snapshot.</summary>
    internal const double SnapshotBudget = 0.08;

    /// <summary>FD8 never runs on fewer images (its 64-dimensional covariance needs them).</summary>
    internal const int MinFd8Samples = 128;

    /// <summary>Seconds per G_ema image, measured at every grid and FD8 (the snapshot budget's unit).</summary>
    private double _genSecPerImage = 1e-3;

    /// <summary>G_ema's images of the first gw×gh fixed latents as a grid (null path: only timed).</summary>
    private void SaveFakes(Generator gEma, Tensor gridZ, Tensor? gridC, int gw, int gh, string? path)
    {
        var clockStart = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int chunk = 64;
        var n = gw * gh;
        var images = new List<Tensor>();
        for (var start = 0; start < n; start += chunk)
        {
            var len = Math.Min(chunk, n - start);
            var z = gridZ.narrow(0, start, len).to(_device);
            var c = gridC?.narrow(0, start, len);
            images.Add(gEma.call(z, c, 1.0, null, NoiseMode.Const, false).cpu());
        }
        if (path is not null) ImageGrid.Save(path, cat(images, 0), gw, gh);
        _genSecPerImage = Stopwatch.GetElapsedTime(clockStart).TotalSeconds / n;
    }

    /// <summary>The reals' 8×8 pixel Gaussian, from up to 4096 images (mirrors included).</summary>
    private GaussianFit RealFit(int seed)
    {
        var indices = Enumerable.Range(0, _data.Length).ToArray();
        new Random(seed).Shuffle(indices);
        using var scope = NewDisposeScope();
        var features = indices.Take(4096).Chunk(512).Select(chunk => PixelFeatures.Extract(_data.RawImages(chunk))).ToList();
        return GaussianFit.Of(cat(features, 0));
    }

    /// <summary>FD8 of G_ema's images for the fixed latents against the reals.</summary>
    /// <summary>FD8 of G_ema's images of the first <paramref name="n"/> fixed latents against the reals.</summary>
    private double Fd8(Generator gEma, Tensor z, Tensor? c, int n, GaussianFit realFit)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = new List<Tensor>();
        const int chunk = 128;
        for (var start = 0; start < n; start += chunk)
        {
            var len = Math.Min(chunk, n - start);
            var img = gEma.call(z.narrow(0, start, len).to(_device), c?.narrow(0, start, len), 1.0, null, NoiseMode.Const, false);
            features.Add(PixelFeatures.Extract(img.clamp(-1, 1)));
        }
        using var fakeFit = GaussianFit.Of(cat(features, 0));
        var fd = PixelFrechetDistance.Compute(fakeFit, realFit);
        _genSecPerImage = clock.Elapsed.TotalSeconds / n;
        return fd;
    }

    private static void CopyInto(nn.Module source, nn.Module target)
    {
        using var noGrad = no_grad();
        var src = source.state_dict();
        foreach (var (key, t) in target.state_dict())
            t.copy_(src[key]);
    }

    private static void UpdateEma(Generator g, Generator gEma, double beta)
    {
        using var noGrad = no_grad();
        foreach (var (pEma, p) in gEma.parameters().Zip(g.parameters()))
            pEma.copy_(p.detach().lerp(pEma, beta));
        foreach (var (bEma, b) in gEma.buffers().Zip(g.buffers()))
            bEma.copy_(b);
    }

    private static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var p in module.parameters())
            p.requires_grad = value;
    }

    private static void ClearGrads(nn.Module module)
    {
        foreach (var p in module.parameters())
            p.grad = null;
    }

    /// <summary>NaN → 0 and every value clamped to ±1e5 in every gradient, in place (official misc.nan_to_num).</summary>
    internal static void SanitizeGrads(nn.Module module)
    {
        using var scope = NewDisposeScope();
        foreach (var p in module.parameters())
            p.grad?.nan_to_num_(0, 1e5, -1e5).clamp_(-1e5, 1e5);
    }

    private static bool AllFinite(nn.Module module)
    {
        using var scope = NewDisposeScope();
        var flags = module.parameters().Select(p => p.isfinite().all()).ToArray();
        return flags.Length == 0 || stack(flags).all().item<bool>();
    }

    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());
}
