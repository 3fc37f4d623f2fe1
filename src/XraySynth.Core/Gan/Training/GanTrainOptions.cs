using System.Text.Json.Serialization;
using XraySynth.Data;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Runtime;

namespace XraySynth.Gan.Training;

/// <summary>How the discriminator's inputs are augmented (official <c>--aug</c>).</summary>
public enum AugMode
{
    /// <summary>Adaptive p: raised when D overfits (r_t above the target), lowered otherwise.</summary>
    Ada,
    /// <summary>A fixed p (<c>--p</c>).</summary>
    Fixed,
    /// <summary>No augmentation.</summary>
    Noaug,
}

/// <summary>Which class of a labelled dataset to train on (<c>--label</c>).</summary>
public enum LabelFilter
{
    /// <summary>Label 1 (MURA: abnormal).</summary>
    Positive,
    /// <summary>Label 0 (MURA: normal).</summary>
    Negative,
}

/// <summary>
/// Options of <c>gan train</c> as the user gave them: null = the default (of the preset, where it has one). A new run
/// saves them resolved (<see cref="Resolve"/>) in options.json; a resumed run keeps its saved options and only lets
/// <see cref="Kimg"/>, <see cref="Snap"/>, <see cref="KeepSnapshots"/>, <see cref="Device"/> and the dataset path change.
/// </summary>
public sealed record GanTrainOptions
{
    /// <summary>Dataset zip in the official StyleGAN2-ADA layout (written by <c>prepare</c>); a resumed run may omit it.</summary>
    public string? Data { get; init; }

    /// <summary>Folder that holds the run folders.</summary>
    public required string OutRoot { get; init; }

    /// <summary>Preset: auto, stylegan2, paper256, paper512, paper1024, cifar or smoke (tiny, for CPU tests).</summary>
    public string? Cfg { get; init; }

    /// <summary>Train one class-conditional model on all labels (dataset.json must hold labels).</summary>
    public bool? Cond { get; init; }

    /// <summary>Train on one class only; null = every image.</summary>
    public LabelFilter? Label { get; init; }

    /// <summary>Training length in thousands of real images shown to D (the preset's when null).</summary>
    public double? Kimg { get; init; }

    /// <summary>Images per minibatch (the preset's when null).</summary>
    public int? Batch { get; init; }

    /// <summary>R1 weight gamma (the preset's when null).</summary>
    public double? Gamma { get; init; }

    /// <summary>Augmentation mode (ada when null).</summary>
    public AugMode? Aug { get; init; }

    /// <summary>The fixed augmentation probability of <c>--aug fixed</c>.</summary>
    public double? P { get; init; }

    /// <summary>ADA target of r_t (0.6 when null).</summary>
    public double? Target { get; init; }

    /// <summary>Augmentation pipeline preset (bgc when null).</summary>
    public string? AugPipe { get; init; }

    /// <summary>Double the dataset with x-flips.</summary>
    public bool? Mirror { get; init; }

    /// <summary>kimg per tick: the interval of status lines and stats records (4 when null).</summary>
    public double? Tick { get; init; }

    /// <summary>Ticks between network snapshots and fakes grids (50 when null).</summary>
    public int? Snap { get; init; }

    /// <summary>Random seed (0 when null).</summary>
    public int? Seed { get; init; }

    /// <summary>Where to train.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Keep only the newest K network snapshots; 0 (or null) = keep all.</summary>
    public int? KeepSnapshots { get; init; }

    /// <summary>Quality metrics computed at every snapshot ("fid,kid,pr"); null = none.</summary>
    public string? Metrics { get; init; }

    /// <summary>Detector of <see cref="Metrics"/> (builtin when null).</summary>
    public string? MetricsDetector { get; init; }

    /// <summary>Generated images per metrics evaluation (1000 when null).</summary>
    public int? MetricsCount { get; init; }

    /// <summary>
    /// Start from pretrained networks: an official StyleGAN2 network pickle or an XraySynth snapshot folder (see
    /// <see cref="XraySynth.Gan.Import.Transfer"/>); the architecture then comes from the source, not from --cfg's network.
    /// </summary>
    public string? Transfer { get; init; }

    /// <summary>Freeze-D: the N discriminator layers nearest the image (counted from the top block's fromrgb) keep their weights (0 when null).</summary>
    public int? Freezed { get; init; }

    /// <summary>Words for the run folder's name (default: the dataset name and the settings).</summary>
    public string? Desc { get; init; }

    /// <summary>Test hook: make the G loss non-finite at this minibatch index (0-based).</summary>
    [JsonIgnore]
    internal long? InjectNonFiniteAt { get; init; }

    /// <summary>Test hook: fakes grid size (columns, rows) instead of the official one.</summary>
    [JsonIgnore]
    internal (int Width, int Height)? GridSize { get; init; }

    /// <summary>Test hook: generated images for the FD8 quality figure instead of 1024.</summary>
    [JsonIgnore]
    internal int? QualitySamples { get; init; }

    /// <summary>
    /// These options with every default filled in for a dataset of <paramref name="resolution"/> px (preset values
    /// for kimg, batch and gamma). Throws <see cref="DataException"/> naming the first invalid option and the fix.
    /// </summary>
    public GanTrainOptions Resolve(int resolution)
    {
        var cfg = Cfg ?? "auto";
        if (!NetworkPresets.Names.Contains(cfg))
            throw new DataException($"--cfg {cfg}: unknown preset. fix: use one of {string.Join(", ", NetworkPresets.Names)}.");
        var preset = TrainingPresets.Get(cfg, resolution);
        var aug = Aug ?? AugMode.Ada;
        if (aug == AugMode.Fixed && P is null)
            throw new DataException("--aug fixed needs --p P (the fixed augmentation probability, 0..1).");
        if (P is not null && aug != AugMode.Fixed)
            throw new DataException("--p is only used with --aug fixed. fix: add --aug fixed or drop --p.");
        if (P is < 0 or > 1)
            throw new DataException($"--p {P}: must be between 0 and 1.");
        if (Target is not null && aug != AugMode.Ada)
            throw new DataException("--target is only used with --aug ada. fix: drop --target.");
        if (Target is < 0 or > 1)
            throw new DataException($"--target {Target}: must be between 0 and 1.");
        if (AugPipe is not null && aug == AugMode.Noaug)
            throw new DataException("--augpipe cannot be used with --aug noaug. fix: drop one of them.");
        var augPipe = AugPipe ?? AugmentPresets.Default;
        if (!AugmentPresets.Names.Contains(augPipe))
            throw new DataException($"--augpipe {augPipe}: unknown pipeline. fix: use one of {string.Join(", ", AugmentPresets.Names)}.");
        if (Cond == true && Label is not null)
            throw new DataException("--cond trains one model on both classes; --label trains on one class only. fix: use one of them.");
        if (Kimg is <= 0)
            throw new DataException($"--kimg {Kimg}: must be positive.");
        if (Batch is < 2)
            throw new DataException($"--batch {Batch}: must be at least 2 (path-length regularisation uses half the batch).");
        if (Gamma is < 0)
            throw new DataException($"--gamma {Gamma}: must not be negative.");
        if (Tick is <= 0)
            throw new DataException($"--tick {Tick}: must be positive (kimg per tick).");
        if (Snap is < 1)
            throw new DataException($"--snap {Snap}: must be at least 1 (ticks between snapshots).");
        if (Metrics is not null)
            XraySynth.Quality.MetricsOptions.ParseMetrics(Metrics);   // a typo fails now, not after hours of training
        if (MetricsCount is < 2)
            throw new DataException($"--metrics-count {MetricsCount}: must be at least 2.");
        if (Freezed is < 0)
            throw new DataException($"--freezed {Freezed}: must be 0 (no Freeze-D) or more discriminator layers.");
        if (KeepSnapshots is < 0)
            throw new DataException($"--keep-snapshots {KeepSnapshots}: must be 0 (keep all) or more.");
        return this with
        {
            Cfg = cfg,
            Cond = Cond ?? false,
            Kimg = Kimg ?? preset.TotalKimg,
            Batch = Batch ?? preset.Batch,
            Gamma = Gamma ?? preset.Gamma,
            Aug = aug,
            Target = aug == AugMode.Ada ? Target ?? 0.6 : null,
            AugPipe = aug == AugMode.Noaug ? null : augPipe,
            Mirror = Mirror ?? false,
            Tick = Tick ?? 4,
            Snap = Snap ?? 50,
            Seed = Seed ?? 0,
            KeepSnapshots = KeepSnapshots ?? 0,
            Freezed = Freezed ?? 0,
        };
    }
}
