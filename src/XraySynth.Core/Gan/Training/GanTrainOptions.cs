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

/// <summary>Which class of a labelled dataset to train on (<c>--class</c>).</summary>
public enum LabelFilter
{
    /// <summary>Label 1 (MURA: abnormal).</summary>
    Positive,
    /// <summary>Label 0 (MURA: normal).</summary>
    Negative,
}

/// <summary>
/// The options of a <c>gan train</c> run, resolved: what options.json holds and what training reads. Each property
/// marked <see cref="GanOptionAttribute"/> is the one declaration of a <c>gan train</c> option: its name (the
/// property's, kebab-case on the command line, camelCase in JSON), its type (nullable only where "none" is a value),
/// its default (the initializer here, or the preset's), whether a resume may change it, and its help text.
/// <see cref="GanOptions"/> reads these declarations for resolution, the resume check, the CLI and experiment configs,
/// so a new option is one property here. What a user gives is a <see cref="GanTrainRequest"/>.
/// </summary>
public sealed record GanTrainOptions
{
    /// <summary>Dataset zip (absolute path) in the official StyleGAN2-ADA layout, written by <c>prepare</c>.</summary>
    public string? Data { get; init; }

    /// <summary>Folder that holds the run folders.</summary>
    public required string OutRoot { get; init; }

    [GanOption("Preset (small = for CPU runs at 32–64 px, the demo's; smoke = tiny, for tests).", Rule = typeof(GanOptionRules.Preset),
        HelpName = "auto|stylegan2|paper256|paper512|paper1024|cifar|small|smoke")]
    public string Cfg { get; init; } = "auto";

    [GanOption("Train one class-conditional model on all labels (positive and negative).")]
    public bool Cond { get; init; }

    /// <summary>null = every image.</summary>
    [GanOption("Train on one class only: positive (abnormal) or negative (normal); default: every image.",
        Flag = "class", Alias = "label")]
    public LabelFilter? Label { get; init; }

    [GanOption("Training length in thousands of real images shown to D.", Resume = OnResume.MayChange,
        Preset = nameof(TrainingHyperparameters.TotalKimg), Above = 0, HelpName = "X")]
    public double Kimg { get; init; }

    [GanOption("Images per minibatch.", Preset = nameof(TrainingHyperparameters.Batch), AtLeast = 2,
        Why = "path-length regularisation uses half the batch", HelpName = "N")]
    public int Batch { get; init; }

    [GanOption("R1 weight gamma.", Preset = nameof(TrainingHyperparameters.Gamma), AtLeast = 0, HelpName = "X")]
    public double Gamma { get; init; }

    [GanOption("Augmentation: ada (adaptive p), fixed (--p), noaug.")]
    public AugMode Aug { get; init; } = AugMode.Ada;

    /// <summary>null unless <see cref="Aug"/> is fixed.</summary>
    [GanOption("Augmentation probability for --aug fixed.", AtLeast = 0, AtMost = 1, HelpName = "X")]
    public double? P { get; init; }

    /// <summary>null unless <see cref="Aug"/> is ada.</summary>
    [GanOption("ADA target of r_t = E[sign(D(real))].", AtLeast = 0, AtMost = 1, HelpName = "X")]
    public double? Target { get; init; } = 0.6;

    /// <summary>null with <see cref="Aug"/> noaug.</summary>
    [GanOption("Augmentation pipeline: bg, bgc, bgcf, bgcfn, bgcfnc (f needs images above 42 px).", Flag = "augpipe",
        Rule = typeof(GanOptionRules.AugmentPipeline), HelpName = "bg|bgc|bgcf|bgcfn|bgcfnc")]
    public string? AugPipe { get; init; } = Augment.AugmentPresets.Default;

    [GanOption("Add x-flipped copies of the training images.")]
    public bool Mirror { get; init; }

    [GanOption("kimg per tick: status line, stats.jsonl and TensorBoard record.", Above = 0, Why = "kimg per tick", HelpName = "X")]
    public double Tick { get; init; } = 4;

    [GanOption("Ticks between network snapshots and fakes grids; one is always written at the end.",
        Resume = OnResume.MayChange, AtLeast = 1, Why = "ticks between snapshots", HelpName = "N")]
    public int Snap { get; init; } = 50;

    [GanOption("Random seed; the same seed gives the same run on the same device.", HelpName = "S")]
    public int Seed { get; init; }

    /// <summary>Where to train (not part of the run: each session uses its own).</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>0 = keep all.</summary>
    [GanOption("Keep only the newest N network snapshots (0 = keep all).", Resume = OnResume.MayChange, AtLeast = 0,
        Why = "0 keeps all", HelpName = "N")]
    public int KeepSnapshots { get; init; }

    /// <summary>null = none.</summary>
    [GanOption("Quality metrics computed at every snapshot (fid, kid, pr, memorization or all; comma-separated), appended " +
        "to metric-*.jsonl (see 'gan metrics').",
        Resume = OnResume.MayChange, Rule = typeof(GanOptionRules.MetricList), HelpName = "METRIC,...")]
    public string? Metrics { get; init; }

    [GanOption("Detector of --metrics: builtin (no download), inception, classifier:RUN or FILE.pt.",
        Resume = OnResume.MayChange, HelpName = "builtin|inception|classifier:RUN|FILE.pt")]
    public string MetricsDetector { get; init; } = "builtin";

    [GanOption("Generated images per --metrics evaluation.", Resume = OnResume.MayChange, AtLeast = 2, HelpName = "N")]
    public int MetricsCount { get; init; } = 1000;

    /// <summary>null = from scratch. A path (a published name is resolved to its cached file before training).</summary>
    [GanOption("Start from pretrained networks: an official StyleGAN2 network pickle (read without running its code), a " +
        "snapshot folder or a published name (ffhq256, ...). The architecture comes from the source; RGB weights become " +
        "grey by luma; a new label embedding starts fresh; the resolution must match. ADA speed 100 kimg (as the " +
        "official resume); G_ema's ramp-up is the preset's, restarted with the transfer (the paper presets have none).", HelpName = "PKL|SNAPSHOT")]
    public string? Transfer { get; init; }

    [GanOption("Freeze-D: the N discriminator layers nearest the image keep their weights (official --freezed).",
        AtLeast = 0, Why = "0 is no Freeze-D", HelpName = "N")]
    public int Freezed { get; init; }

    /// <summary>null = the dataset name and the settings.</summary>
    [GanOption("Words for the run folder's name (default: dataset, preset and augmentation).", HelpName = "WORDS")]
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
}

/// <summary>
/// Declares a property of <see cref="GanTrainOptions"/> as a <c>gan train</c> option. The default is the property's
/// initializer, or the preset's value named by <see cref="Preset"/>; the single-value rules (<see cref="Above"/>,
/// <see cref="AtLeast"/>, <see cref="AtMost"/>, <see cref="Rule"/>) are checked for every given value.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class GanOptionAttribute(string help) : Attribute
{
    /// <summary>One sentence for --help (the default is appended).</summary>
    public string Help { get; } = help;

    /// <summary>What a resume does with it: <see cref="OnResume.Fixed"/> (the default; part of the run, another value is
    /// refused) or <see cref="OnResume.MayChange"/> (training length, snapshot cadence, metrics).</summary>
    public OnResume Resume { get; init; } = OnResume.Fixed;

    /// <summary>The <see cref="TrainingHyperparameters"/> property that gives the default per preset.</summary>
    public string? Preset { get; init; }

    /// <summary>The command-line name without dashes, when not the kebab-case property name.</summary>
    public string? Flag { get; init; }

    /// <summary>A former command-line name, still accepted and hidden from help.</summary>
    public string? Alias { get; init; }

    /// <summary>The value placeholder in help.</summary>
    public string? HelpName { get; init; }

    /// <summary>A given value must be above this.</summary>
    public double Above { get; init; } = double.NaN;

    /// <summary>A given value must be at least this.</summary>
    public double AtLeast { get; init; } = double.NaN;

    /// <summary>A given value must be at most this.</summary>
    public double AtMost { get; init; } = double.NaN;

    /// <summary>Why the range is what it is (shown with a value outside it).</summary>
    public string? Why { get; init; }

    /// <summary>A <see cref="IGanOptionRule"/> type that checks a given value (known names).</summary>
    public Type? Rule { get; init; }
}
