using XraySynth.Runtime;
using XraySynth.Gan.Networks;

namespace XraySynth.Gan.Training;

/// <summary>Everything a run resolved from its options and data: saved in options.json beside the options.</summary>
public sealed record GanTrainSetup
{
    /// <summary>Image side.</summary>
    public int Resolution { get; init; }

    /// <summary>Image channels.</summary>
    public int Channels { get; init; }

    /// <summary>Label dimensionality (0 = unconditional).</summary>
    public int CDim { get; init; }

    /// <summary>Distinct training images (before mirroring).</summary>
    public int Images { get; init; }

    /// <summary>The training half of the preset (before --kimg/--batch/--gamma overrides).</summary>
    public required TrainingHyperparameters Preset { get; init; }

    /// <summary>Adam learning rate and betas of G after the lazy-regularisation adjustment (interval 4).</summary>
    public required double[] GOptimizer { get; init; }

    /// <summary>Adam learning rate and betas of D after the lazy-regularisation adjustment (interval 16).</summary>
    public required double[] DOptimizer { get; init; }

    /// <summary>Minibatches between path-length passes.</summary>
    public int GRegInterval { get; init; } = 4;

    /// <summary>Minibatches between R1 passes.</summary>
    public int DRegInterval { get; init; } = 16;

    /// <summary>Minibatches between ADA updates.</summary>
    public int AdaInterval { get; init; } = 4;

    /// <summary>kimg for ADA's p to move by 1.</summary>
    public double AdaKimg { get; init; } = 500;

    /// <summary>Generator architecture.</summary>
    public required GeneratorConfig G { get; init; }

    /// <summary>Discriminator architecture.</summary>
    public required DiscriminatorConfig D { get; init; }
}

/// <summary>The content of a run's options.json: the resolved options and what they resolved to.</summary>
/// <param name="Options">Every option, defaults filled in.</param>
/// <param name="Setup">Hyper-parameters and architecture.</param>
public sealed record GanRunOptions(GanTrainOptions Options, GanTrainSetup Setup);

/// <summary>One tick's record in stats.jsonl (means over the tick; null where nothing was measured).</summary>
public sealed record GanTickStats
{
    /// <summary>Tick index (0 = the first minibatch).</summary>
    public long Tick { get; init; }

    /// <summary>Real images shown to D so far, in thousands.</summary>
    public double Kimg { get; init; }

    /// <summary>Unix time of the record.</summary>
    public double Timestamp { get; init; }

    /// <summary>Training seconds so far (all sessions of the run).</summary>
    public double TotalSec { get; init; }

    /// <summary>Seconds of this tick.</summary>
    public double SecPerTick { get; init; }

    /// <summary>Seconds per 1000 real images in this tick.</summary>
    public double SecPerKimg { get; init; }

    /// <summary>Seconds spent between the previous tick and this one (grids, snapshots, logs).</summary>
    public double MaintenanceSec { get; init; }

    /// <summary>Resident memory of the process in GiB.</summary>
    public double CpuMemGb { get; init; }

    /// <summary>Peak GPU memory in GiB; null where TorchSharp cannot tell (it exposes no CUDA memory statistics).</summary>
    public double? GpuMemGb { get; init; }

    /// <summary>Augmentation probability at the end of the tick.</summary>
    public double AugmentP { get; init; }

    /// <summary>ADA's last r_t = E[sign(D(real))]; null without ADA or before its first update.</summary>
    public double? AdaRt { get; init; }

    /// <summary>G loss: softplus(−D(G(z))).</summary>
    public double? LossG { get; init; }

    /// <summary>D loss: softplus(D(G(z))) + softplus(−D(x)).</summary>
    public double? LossD { get; init; }

    /// <summary>Weighted path-length penalty.</summary>
    public double? LossGReg { get; init; }

    /// <summary>Weighted R1 penalty (gamma/2 · ‖∇D‖²).</summary>
    public double? LossDReg { get; init; }

    /// <summary>‖∇_x D(aug(x))‖² on reals.</summary>
    public double? R1Penalty { get; init; }

    /// <summary>(path length − its mean)².</summary>
    public double? PlPenalty { get; init; }

    /// <summary>Running mean of path lengths.</summary>
    public double? PlMean { get; init; }

    /// <summary>Mean D logit on reals.</summary>
    public double? ScoresReal { get; init; }

    /// <summary>Mean D logit on generated images.</summary>
    public double? ScoresFake { get; init; }

    /// <summary>Mean sign of D logits on reals.</summary>
    public double? SignsReal { get; init; }

    /// <summary>Mean sign of D logits on generated images.</summary>
    public double? SignsFake { get; init; }

    /// <summary>
    /// FD8: Fréchet distance of 8×8 area-averaged pixels between fixed G_ema images and the reals
    /// (<see cref="Quality.PixelFeatures"/>); on snapshot ticks only. A quick trend, not FID.
    /// </summary>
    public double? Fd8 { get; init; }

    /// <summary>Generated images FD8 ran on (sized to the snapshot budget: FD is biased by the sample size, compare figures of equal counts).</summary>
    public int? Fd8Samples { get; init; }

    /// <summary>Wall seconds per kimg of each phase in this tick (Gmain, Greg, Dmain, Dreg; optimizer steps included).</summary>
    public Dictionary<string, double>? PhaseSecPerKimg { get; init; }
}

/// <summary>What a training session did.</summary>
/// <param name="RunDir">The run folder.</param>
/// <param name="Kimg">kimg reached.</param>
/// <param name="Ticks">Ticks completed in all.</param>
/// <param name="LastSnapshot">The newest snapshot folder, or null.</param>
/// <param name="AugmentP">Final augmentation probability.</param>
/// <param name="SecPerKimg">Mean seconds per kimg of this session's ticks after its first; null when it had one tick.</param>
/// <param name="ResumedFrom">The snapshot this session started from, or null for a new run.</param>
public sealed record GanTrainResult(string RunDir, double Kimg, long Ticks, string? LastSnapshot, double AugmentP,
    double? SecPerKimg, string? ResumedFrom)
{
    /// <summary>Mean seconds per kimg of each phase over the ticks after the first; null when one tick ran.</summary>
    public IReadOnlyDictionary<string, double>? PhaseSecPerKimg { get; init; }

    /// <summary>The largest per-snapshot overhead of the session (FD8 + grid + files over training time since the
    /// previous snapshot), snapshots of the first tick excluded; null when none was taken after it.</summary>
    public double? WorstSnapshotOverhead { get; init; }
}

/// <summary>Training produced a non-finite loss or weights: it stopped without writing a snapshot of them.</summary>
public sealed class TrainingDivergedException(string message, long step, double kimg, string? lastGoodSnapshot)
    : Exception(message)
{
    /// <summary>The minibatch (0-based) whose loss was first non-finite.</summary>
    public long Step { get; } = step;

    /// <summary>kimg at that minibatch.</summary>
    public double Kimg { get; } = kimg;

    /// <summary>The newest snapshot written before, or null.</summary>
    public string? LastGoodSnapshot { get; } = lastGoodSnapshot;
}
