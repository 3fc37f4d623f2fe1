using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Imaging;
using XraySynth.Quality;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// StyleGAN2-ADA training (official training/training_loop.py) with exact resume: phases Gmain, Greg (every 4),
/// Dmain, Dreg (every 16) with lazy-regularisation Adam; gradients sanitised; G_ema with ramp-up; ADA's p every 4
/// minibatches; a tick every --tick kimg writes stats.jsonl, TensorBoard scalars and a status line; every --snap ticks
/// (and at the end) a fakes grid and a snapshot holding everything needed to continue exactly.
/// The parts: <see cref="GanRunState"/> (networks, optimizers, ADA, counters), <see cref="PhaseSchedule"/> (the
/// phases of a minibatch), <see cref="TickReporter"/> (a tick's records), <see cref="SnapshotPolicy"/> (when and what
/// to snapshot); starting and resuming a run: GanTrainer.Start.cs.
/// </summary>
public sealed partial class GanTrainer
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
    /// <see cref="GanTrainRequest.OutRoot"/>), a run folder or a snapshot folder. Every check of the inputs happens
    /// before training starts (<see cref="Runtime.DataException"/>); a non-finite loss stops with
    /// <see cref="TrainingDivergedException"/>; cancellation stops at the end of the current tick with a snapshot
    /// (<see cref="RunInterruptedException"/>; rerun with --resume).
    /// </summary>
    public static GanTrainResult Run(GanTrainRequest request, string? resume = null,
        IProgress<ProgressInfo>? progress = null, Action<string>? say = null, CancellationToken cancel = default)
    {
        var device = TorchRuntime.Select(request.Device);
        if (resume is null)
            return StartNew(request, device, progress, say, cancel);
        return Continue(request, resume, device, progress, say, cancel);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // The training loop.

    private GanTrainResult Train((SnapshotReader Reader, TrainingCheckpoint Checkpoint)? resume, CancellationToken cancel,
        GanNetworks? transferSource = null)
    {
        var o = _o;
        var totalNimg = (long)Math.Ceiling(o.Kimg * 1000);
        SayStart();

        // Step 1: the run state: networks from the seed (or the transfer source), optimizers, augmentation and ADA,
        // random streams; on resume everything else from the snapshot.
        using var s = new GanRunState(o, _setup, _device, transferSource, _say);
        if (resume is { } r)
        {
            s.Resume(r.Reader, r.Checkpoint);
            _run.RewriteStats(rec => rec["tick"]?.GetValue<long>() < s.CurTick);
            _say($"resumed from {s.ResumedFrom}: kimg {s.CurNimg / 1000.0:F3}, tick {s.CurTick}, augment p {s.AugmentP:F4}");
        }

        // Step 2: the fixed grid and the FD8 reference; the phases of a minibatch.
        using var snapshots = new SnapshotPolicy(o, _setup, _run, _data, _device, _say, s.GEma, newRun: resume is null);
        var schedule = new PhaseSchedule(s, _setup, o.Gamma);
        if (s.CurNimg >= totalNimg)
        {
            _say($"already trained to kimg {s.CurNimg / 1000.0:F3} of {o.Kimg}: nothing to do. fix: pass a larger --kimg to train on.");
            return new GanTrainResult(_run.Path, s.CurNimg / 1000.0, s.CurTick, s.LastSnapshot, s.AugmentP, null, s.ResumedFrom);
        }

        // Step 3: train, minibatch by minibatch; progress counts this session's images, so rates and ETAs hold after a
        // resume. A tick ends every --tick kimg (the first after one minibatch) and at the end.
        var ticks = new TickReporter(_run, _say, s.CurNimg, totalNimg, plMean: _setup.Preset.PlWeight != 0);
        _say($"training for {o.Kimg} kimg ({totalNimg - s.CurNimg} images to go)");
        s.Rng.StartTick(s.CurTick);
        var sessionStartNimg = s.CurNimg;
        var stage = resume is null ? "training" : $"training from kimg {s.CurNimg / 1000.0:F1}";
        _progress?.Report(new ProgressInfo(stage, 0, totalNimg - sessionStartNimg));
        while (true)
        {
            TrainMinibatch(s, schedule);
            s.CurNimg += o.Batch;
            s.BatchIdx++;
            s.Ada?.MaybeUpdate(s.BatchIdx);
            if (s.BatchIdx % 4 == 0)
                s.ThrowIfDiverged();
            _progress?.Report(new ProgressInfo(stage, Math.Min(s.CurNimg, totalNimg) - sessionStartNimg, totalNimg - sessionStartNimg));
            var done = s.CurNimg >= totalNimg;
            if (!done && !ticks.TickEnds(s.CurNimg, s.CurTick, o.Tick))
                continue;

            // Step 4: the end of a tick: its record, a snapshot when due, a stop request honoured; the next tick.
            EndTick(s, ticks, snapshots, schedule, done, cancel);
            if (done)
                break;
            s.Rng.StartTick(s.CurTick);
        }

        // Step 5: done.
        ticks.Done(s.CurNimg);
        var mean = ticks.MeanSecPerKimg;
        _say($"done: kimg {s.CurNimg / 1000.0:F3}, {s.CurTick} ticks, augment p {s.AugmentP:F4}, " +
             (mean is { } m ? $"{m:F2} sec/kimg" : "too short to time") + $"; last snapshot {s.LastSnapshot}");
        return new GanTrainResult(_run.Path, s.CurNimg / 1000.0, s.CurTick, s.LastSnapshot, s.AugmentP, mean, s.ResumedFrom)
        {
            PhaseSecPerKimg = ticks.MeanPhaseSecPerKimg,
            WorstSnapshotOverhead = snapshots.WorstOverhead,
        };
    }

    private void SayStart()
    {
        _say($"gan train {_o.Cfg} at {_data.Resolution}x{_data.Resolution}x{_data.Channels} on {TorchRuntime.Describe(_device)}; " +
             $"run {_run.Path}");
        _say($"data: {_data.Count} images{(_data.Mirror ? " (+ x-flips)" : "")} from {_data.ZipPath}" +
             (_data.CDim > 0 ? $", {_data.CDim} classes (conditional)" : "") +
             (_o.Label is { } l ? $", label {GanOption.Show(l)} only" : ""));
    }

    /// <summary>
    /// One minibatch: the next reals and their labels, the phases due (each draws its own latents), the check for a
    /// non-finite loss, and G_ema.
    /// </summary>
    private void TrainMinibatch(GanRunState s, PhaseSchedule schedule)
    {
        using var step = NewDisposeScope();
        var realIdx = s.Rng.NextIndices(_o.Batch, _data.Length);
        var realImg = _data.Reals(realIdx);
        var realC = _data.LabelsOf(realIdx);
        if (_o.InjectNonFiniteAt == s.BatchIdx)
            s.Loss.PoisonNextGLoss = true;
        schedule.Run(s, _data, realImg, realC, _o.Batch, _setup.G.ZDim, _device);
        s.TrackNonFinite();
        s.UpdateEma(_setup.Preset);
    }

    /// <summary>
    /// The end of a tick: divergence check, the tick's record, FD8 and a snapshot when due; a stop request (SIGINT,
    /// SIGTERM) is honoured here, after the snapshot; then the next tick starts.
    /// </summary>
    private void EndTick(GanRunState s, TickReporter ticks, SnapshotPolicy snapshots, PhaseSchedule schedule, bool done,
        CancellationToken cancel)
    {
        var tick = ticks.End(s.CurNimg);
        s.ThrowIfDiverged();
        var values = s.Stats.Collect();
        var stopping = !done && cancel.IsCancellationRequested;
        var due = snapshots.IsDue(s.CurTick, done, stopping);
        var (fd8, fd8Samples) = snapshots.MeasureTick(s.GEma, tick.Seconds, due);
        ticks.Write(s, tick, values, schedule.TakeTickSeconds(), fd8, fd8Samples);
        if (due)
            snapshots.Write(s, () => ticks.Elapsed, ticks.PastFirstTick, stopping, cancel);
        if (stopping)
        {
            _say($"stopped on request at kimg {s.CurNimg / 1000.0:F3} (tick {s.CurTick}); snapshot {Path.GetFileName(s.LastSnapshot)}");
            throw new RunInterruptedException($"stopped at kimg {s.CurNimg / 1000.0:F3}; the run continues exactly from {s.LastSnapshot}", _run.Path);
        }
        s.CurTick++;
        ticks.StartNext(tick, s.CurNimg);
    }
}
