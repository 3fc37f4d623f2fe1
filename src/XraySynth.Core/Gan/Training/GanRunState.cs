using XraySynth.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>
/// Everything a snapshot keeps of a training run, alive for one session: G, D and G_ema, their Adam optimizers (with
/// the lazy-regularisation adjustment), the augment pipe and ADA, the loss (with its path-length mean), the random
/// streams, the counters and the first non-finite minibatch. Created in the official order (networks from the seed,
/// then optimizers, augmentation, streams), so a run and its resume draw the same numbers.
/// </summary>
internal sealed class GanRunState : IDisposable
{
    private readonly GanTrainOptions _o;
    private readonly Device _device;
    private readonly Tensor _firstBad;

    /// <summary>The generator being trained.</summary>
    public Generator G { get; }

    /// <summary>The discriminator.</summary>
    public Discriminator D { get; }

    /// <summary>A running average of G (what snapshots, grids and FD8 use).</summary>
    public Generator GEma { get; }

    /// <summary>Adam of G.</summary>
    public Adam GOpt { get; }

    /// <summary>Adam of D.</summary>
    public Adam DOpt { get; }

    /// <summary>ADA's controller; null unless --aug ada.</summary>
    public AdaController? Ada { get; }

    /// <summary>Every random stream of training (reseeded per tick).</summary>
    public TrainingRng Rng { get; }

    /// <summary>The tick's loss statistics.</summary>
    public TrainingStatistics Stats { get; }

    /// <summary>The StyleGAN2 loss of the four phases.</summary>
    public StyleGan2Loss Loss { get; }

    private readonly AugmentPipe? _augment;

    /// <summary>Real images shown to D so far.</summary>
    public long CurNimg { get; set; }

    /// <summary>The current tick.</summary>
    public long CurTick { get; set; }

    /// <summary>Minibatches run so far.</summary>
    public long BatchIdx { get; set; }

    /// <summary>Training seconds of the sessions before this one.</summary>
    public double PriorSeconds { get; private set; }

    /// <summary>The newest snapshot written (or resumed from), or null.</summary>
    public string? LastSnapshot { get; set; }

    /// <summary>The snapshot this session resumed from, or null.</summary>
    public string? ResumedFrom { get; private set; }

    /// <summary>The augmentation probability now: ADA's, the fixed one, or 0.</summary>
    public double AugmentP => Ada?.P ?? (_o.Aug == AugMode.Fixed ? _o.P!.Value : 0);

    public GanRunState(GanTrainOptions o, GanTrainSetup setup, Device device, GanNetworks? transferSource, Action<string> say)
    {
        _o = o;
        _device = device;
        var preset = setup.Preset;

        _firstBad = full([], -1L, ScalarType.Int64, device).DetachFromDisposeScope();
        try
        {
            // Networks: initialised from the seed, G_ema a copy of G.
            random.manual_seed(o.Seed);
            G = new Generator(setup.G);
            D = new Discriminator(setup.D);
            GEma = new Generator(setup.G);
            NetworkOps.CopyInto(G, GEma);
            if (transferSource is not null)
                SayTransfer(Import.Transfer.Apply(transferSource, G, D, GEma, o.Transfer!), o.Transfer!, setup, say);
            G.to(device).train();
            D.to(device).train();
            GEma.to(device).eval();
            NetworkOps.SetRequiresGrad(G, false);
            NetworkOps.SetRequiresGrad(D, false);
            NetworkOps.SetRequiresGrad(GEma, false);
            say($"G {NetworkOps.Count(G):N0} parameters, D {NetworkOps.Count(D):N0}; batch {o.Batch}, lr {preset.Lr}, gamma {o.Gamma}, " +
                $"ema {preset.EmaKimg} kimg" + (preset.EmaRampup is { } r ? $" (ramp-up {r})" : "") + $", aug {GanOption.Show(o.Aug)}" +
                (o.AugPipe is { } ap ? $" {ap}" : "") + $", {o.Kimg} kimg");

            // Optimizers with the lazy-regularisation adjustment.
            GOpt = optim.Adam(G.parameters(), setup.GOptimizer[0], setup.GOptimizer[1], setup.GOptimizer[2], 1e-8);
            DOpt = optim.Adam(D.parameters(), setup.DOptimizer[0], setup.DOptimizer[1], setup.DOptimizer[2], 1e-8);

            // Augmentation and its controller.
            _augment = o.Aug == AugMode.Noaug || (o.Aug == AugMode.Fixed && o.P == 0)
                ? null
                : new AugmentPipe(AugmentPresets.Get(o.AugPipe!), device);
            Ada = o.Aug == AugMode.Ada
                ? new AdaController(o.Target!.Value, o.Batch, setup.AdaInterval, setup.AdaKimg, 0, device)
                : null;

            Rng = new TrainingRng(o.Seed, device);
            Stats = new TrainingStatistics(device);
            Loss = new StyleGan2Loss(G, D, _augment, Rng, Stats, o.Gamma, preset.StyleMixingProb, preset.PlWeight, device)
            {
                AugmentP = () => AugmentP,
                OnRealLogits = Ada is null ? null : Ada.Accumulate,
            };
        }
        catch
        {
            Dispose();   // what was created so far
            throw;
        }
    }

    private static void SayTransfer(Import.TransferReport report, string source, GanTrainSetup setup, Action<string> say)
    {
        var converted = report.Converted.Count > 0
            ? $" ({string.Join(", ", report.Converted.Take(4))}{(report.Converted.Count > 4 ? ", ..." : "")})" : "";
        say($"transfer from {source}: {report.Copied.Count} tensors copied, {report.Converted.Count} converted by the " +
            $"channel rule{converted}, {report.Fresh.Count} fresh (new label path); ADA speed 100 kimg, " +
            (setup.Preset.EmaRampup is { } ramp ? $"G_ema ramp-up {ramp} from the transfer's start" : "no G_ema ramp-up (the preset has none)") +
            (setup.D.FreezeLayers > 0 ? $", Freeze-D {setup.D.FreezeLayers} layers" : ""));
    }

    /// <summary>Continues from a snapshot: weights, optimizer moments, counters, ADA and the path-length mean.</summary>
    public void Resume(SnapshotReader reader, TrainingCheckpoint c)
    {
        TrainingSnapshot.Load(reader, G, D, GEma, GOpt, DOpt);
        (CurNimg, CurTick, BatchIdx, PriorSeconds) = (c.CurNimg, c.NextTick, c.BatchIdx, c.TotalSeconds);
        if (c.Ada is { } adaState)
            Ada?.SetState(adaState);
        Loss.SetPlMean(c.PlMean);
        LastSnapshot = ResumedFrom = reader.Directory;
    }

    /// <summary>G_ema: a running average of G with half-life ema_kimg, ramped up at the start.</summary>
    public void UpdateEma(TrainingHyperparameters preset)
    {
        var emaNimg = preset.EmaKimg * 1000;
        if (preset.EmaRampup is { } rampup)
            emaNimg = Math.Min(emaNimg, CurNimg * rampup);
        var emaBeta = Math.Pow(0.5, _o.Batch / Math.Max(emaNimg, 1e-8));
        NetworkOps.UpdateEma(G, GEma, emaBeta);
    }

    /// <summary>Remembers the first minibatch whose loss was not finite (on the device: read every few minibatches).</summary>
    public void TrackNonFinite()
    {
        using var noGrad = no_grad();
        using var stepLoss = Loss.TakeStepLoss();
        var bad = stepLoss.isfinite().logical_not().logical_and(_firstBad.lt(0));
        _firstBad.copy_(where(bad, full([], BatchIdx, ScalarType.Int64, _device), _firstBad));
    }

    /// <summary>Stops with <see cref="TrainingDivergedException"/> when a loss was not finite.</summary>
    public void ThrowIfDiverged()
    {
        var step = _firstBad.item<long>();
        if (step < 0)
            return;
        var kimg = step * _o.Batch / 1000.0;
        throw new TrainingDivergedException(
            $"training diverged: the loss became NaN or infinite at minibatch {step} (kimg {kimg:F3}); nothing after the last " +
            $"snapshot is kept. last good snapshot: {LastSnapshot ?? "none (the run diverged before its first snapshot)"}. " +
            "fix: resume from it (--resume PATH) with a lower learning rate or a higher --gamma, or check the data.",
            step, kimg, LastSnapshot);
    }

    /// <summary>Stops with <see cref="TrainingDivergedException"/> when a weight is not finite (before a snapshot).</summary>
    public void ThrowIfWeightsNotFinite()
    {
        if (NetworkOps.AllFinite(G) && NetworkOps.AllFinite(D) && NetworkOps.AllFinite(GEma))
            return;
        throw new TrainingDivergedException(
            $"training diverged: the weights are no longer finite at kimg {CurNimg / 1000.0:F3} (tick {CurTick}); " +
            $"no snapshot was written. last good snapshot: {LastSnapshot ?? "none"}. fix: resume from it with a " +
            "lower learning rate or a higher --gamma.", BatchIdx, CurNimg / 1000.0, LastSnapshot);
    }

    /// <summary>The counters and controller state to save, after tick <see cref="CurTick"/>.</summary>
    public TrainingCheckpoint Checkpoint(double sessionSeconds) => new()
    {
        CurNimg = CurNimg,
        NextTick = CurTick + 1,
        BatchIdx = BatchIdx,
        TotalKimg = _o.Kimg,
        Seed = _o.Seed,
        AugmentP = AugmentP,
        Ada = Ada?.GetState(),
        PlMean = Loss.PlMean.item<float>(),
        TotalSeconds = PriorSeconds + sessionSeconds,
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        _firstBad.Dispose();
        // Null-tolerant: also called when the constructor fails half-way.
        Loss?.Dispose();
        Stats?.Dispose();
        Rng?.Dispose();
        Ada?.Dispose();
        _augment?.Dispose();
        DOpt?.Dispose();
        GOpt?.Dispose();
        GEma?.Dispose();
        D?.Dispose();
        G?.Dispose();
    }
}
