using XraySynth.Classifier.Models;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Training;

/// <summary>Loss of the abnormality logit.</summary>
public enum ClassifierLoss
{
    /// <summary>BCE with the MURA paper's class weights: w1 = N/(A+N) for abnormal, w0 = A/(A+N) for normal images.</summary>
    WeightedBce,
    Bce,
    /// <summary>Focal loss (gamma 2) with the same class weights as alpha.</summary>
    Focal,
}

/// <summary>How an epoch draws training images.</summary>
public enum ClassifierSampler
{
    /// <summary>Every image once per epoch, shuffled.</summary>
    Natural,
    /// <summary>As many draws as images, with replacement, each class drawn equally often.</summary>
    Balanced,
}

/// <summary>The validation metric that picks the best checkpoint and drives early stopping.</summary>
public enum SelectionMetric
{
    /// <summary>The highest validation AUROC (image level).</summary>
    Auroc,
    /// <summary>The highest validation Cohen's kappa at threshold 0.5.</summary>
    Kappa,
    /// <summary>The lowest validation loss (the training loss on the validation images): the checkpoint whose
    /// probabilities fit best, so its operating point at 0.5 is the most trustworthy.</summary>
    Loss,
}

/// <summary>Scores of a <see cref="SelectionMetric"/> as "higher is better" (the loss is negated), and back.</summary>
public static class SelectionScores
{
    /// <summary>The epoch's score under <paramref name="metric"/>: higher is better.</summary>
    public static double Of(SelectionMetric metric, double valLoss, double valAuroc, double valKappa) => metric switch
    {
        SelectionMetric.Auroc => valAuroc,
        SelectionMetric.Kappa => valKappa,
        SelectionMetric.Loss => -valLoss,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>The metric's own value of <paramref name="score"/> (the loss positive again), for messages.</summary>
    public static double Display(SelectionMetric metric, double score) => metric == SelectionMetric.Loss ? -score : score;
}

/// <summary>Options of <c>classifier train</c>; saved as the run's options.json. Each option is declared once in
/// <see cref="Declared"/> (flag, default, help, resume rule, valid values): the defaults here, the command line, the
/// resume checks and the experiment config's <c>classifier</c> block all come from there.</summary>
public sealed record ClassifierTrainOptions
{
    public required string Data { get; init; }
    public string OutRoot { get; init; } = Declared.OutRoot.Default;
    public string Arch { get; init; } = Declared.Arch.Default;
    public string? Weights { get; init; } = Declared.Weights.Default;
    public IReadOnlyList<string> Synthetic { get; init; } = Declared.Synthetic.Default;
    public int? SyntheticCount { get; init; } = Declared.SyntheticCount.Default;
    public int? SyntheticPerClass { get; init; } = Declared.SyntheticPerClass.Default;
    public int Size { get; init; } = Declared.Size.Default;
    public int Epochs { get; init; } = Declared.Epochs.Default;
    public int Batch { get; init; } = Declared.Batch.Default;
    public double Lr { get; init; } = Declared.Lr.Default;
    public ClassifierLoss Loss { get; init; } = Declared.Loss.Default;
    public ClassifierSampler Sampler { get; init; } = Declared.Sampler.Default;
    public SelectionMetric SelectBy { get; init; } = Declared.SelectBy.Default;
    public int Patience { get; init; } = Declared.Patience.Default;
    public int PlateauPatience { get; init; } = Declared.PlateauPatience.Default;
    public int Seed { get; init; } = Declared.Seed.Default;
    public DeviceChoice Device { get; init; } = Declared.Device.Default;
    public bool Strict { get; init; } = Declared.Strict.Default;
    public string? Desc { get; init; } = Declared.Desc.Default;

    /// <summary>The options with every path absolute (against the working directory); a named <see cref="Weights"/>
    /// (<c>imagenet</c>, <c>densenet169</c>) stays a name.</summary>
    public ClassifierTrainOptions WithFullPaths() => this with
    {
        Data = Path.GetFullPath(Data),
        OutRoot = Path.GetFullPath(OutRoot),
        Weights = Weights is null || ClassifierTrainer.IsNamedWeights(Weights) ? Weights : Path.GetFullPath(Weights),
        Synthetic = [.. Synthetic.Select(Path.GetFullPath)],
    };

    /// <summary>The declaration of every option, in the order of help.</summary>
    public static class Declared
    {
        private static Func<int, string?> AtLeast(int min) => v => v >= min ? null : $"must be at least {min}";

        public static readonly OptionDeclaration<ClassifierTrainOptions, string> Data = new(nameof(Data), "--data", "",
            "Folder written by 'prepare' (train.csv, val.csv and their images).", OnResume.Fixed,
            o => o.Data, (o, v) => o with { Data = v }, same: (a, b) => Path.GetFullPath(a) == Path.GetFullPath(b)) { Required = true, Placeholder = "PREPARED" };

        /// <summary>Not a declared flag: <c>classifier train</c> gives it as <c>--runs RUNS</c> (and the hidden old <c>--out</c>)
        /// with <c>CommonOptions.Runs</c>, like every verb that makes run folders; experiment configs do not set it.</summary>
        public static readonly OptionDeclaration<ClassifierTrainOptions, string> OutRoot = new(nameof(OutRoot), null, "runs",
            "Folder that holds the run folders (each run makes RUNS/NNNNN-classifier-<desc>/); --resume latest looks here.", OnResume.Ignored,
            o => o.OutRoot, (o, v) => o with { OutRoot = v }) { Placeholder = "RUNS" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, string> Arch = new(nameof(Arch), "--arch", "densenet169",
            "densenet169 (MURA baseline), densenet121, densenet201, resnet18, resnet50, densenet-smoke (tiny, for CPU tests).", OnResume.Fixed,
            o => o.Arch, (o, v) => o with { Arch = v },
            v => ClassifierModels.Names.Contains(v.Trim(), StringComparer.OrdinalIgnoreCase) ? null : $"expected one of {string.Join(", ", ClassifierModels.Names)}") { Placeholder = string.Join("|", ClassifierModels.Names) };

        public static readonly OptionDeclaration<ClassifierTrainOptions, string?> Weights = new(nameof(Weights), "--weights", null,
            "ImageNet weights: 'imagenet' (torchvision's checkpoint of --arch, downloaded once, SHA-256 verified, reused from the torch.hub " +
            "cache) or a file: torchvision .pth (e.g. densenet169-b2777c0a.pth) or .safetensors. Without it: random initialisation.", OnResume.Fixed,
            o => o.Weights, (o, v) => o with { Weights = v },
            v => v is null || ClassifierTrainer.IsNamedWeights(v) || File.Exists(v) ? null : "file not found",
            ClassifierTrainer.SameWeights) { Placeholder = "imagenet|FILE" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, IReadOnlyList<string>> Synthetic = new(
            nameof(Synthetic), "--synthetic", [],
            "'gan generate' folder(s) whose images join the training set (never validation or test).", OnResume.Fixed,
            o => o.Synthetic, (o, v) => o with { Synthetic = v }) { Placeholder = "DIR" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int?> SyntheticCount = new(nameof(SyntheticCount),
            "--synthetic-count", null, "Synthetic images to add in all (default: all, unless --synthetic-per-class is set).", OnResume.Fixed,
            o => o.SyntheticCount, (o, v) => o with { SyntheticCount = v }) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int?> SyntheticPerClass = new(nameof(SyntheticPerClass),
            "--synthetic-per-class", null, "Synthetic images to add per class (normal and abnormal each; overrides --synthetic-count).", OnResume.Fixed,
            o => o.SyntheticPerClass, (o, v) => o with { SyntheticPerClass = v }) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> Size = new(nameof(Size), "--size", 224,
            "Input side in pixels.", OnResume.Fixed, o => o.Size, (o, v) => o with { Size = v },
            v => v is >= 32 and <= 1024 ? null : "must be 32..1024") { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> Epochs = new(nameof(Epochs), "--epochs", 20,
            "Maximum epochs (early stopping may end sooner).", OnResume.MayChange, o => o.Epochs, (o, v) => o with { Epochs = v }, AtLeast(1)) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> Batch = new(nameof(Batch), "--batch", 32,
            "Images per step.", OnResume.Fixed, o => o.Batch, (o, v) => o with { Batch = v }, AtLeast(2)) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, double> Lr = new(nameof(Lr), "--lr", 1e-4,
            "Adam learning rate (betas 0.9, 0.999); divided by 10 when the validation loss plateaus (never below 1/1000 of it).", OnResume.Fixed,
            o => o.Lr, (o, v) => o with { Lr = v }, v => v is > 0 and < 1 ? null : "must be above 0 and below 1") { Placeholder = "X" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, ClassifierLoss> Loss = new(nameof(Loss), "--loss",
            ClassifierLoss.WeightedBce, "weighted-bce (MURA paper's class weights), bce, or focal (gamma 2, the same class weights).", OnResume.Fixed,
            o => o.Loss, (o, v) => o with { Loss = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, ClassifierSampler> Sampler = new(nameof(Sampler), "--sampler",
            ClassifierSampler.Natural, "natural (each image once per epoch) or balanced (classes drawn equally).", OnResume.Fixed,
            o => o.Sampler, (o, v) => o with { Sampler = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, SelectionMetric> SelectBy = new(nameof(SelectBy), "--select-by",
            SelectionMetric.Auroc, "Validation metric for the best checkpoint and early stopping: auroc (highest), kappa (highest) or loss (lowest; the best-calibrated checkpoint).", OnResume.Fixed,
            o => o.SelectBy, (o, v) => o with { SelectBy = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> Patience = new(nameof(Patience), "--patience", 5,
            "Stop after this many epochs without a better validation score.", OnResume.MayChange,
            o => o.Patience, (o, v) => o with { Patience = v }, AtLeast(1)) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> PlateauPatience = new(nameof(PlateauPatience), null, 2,
            "Divide the learning rate by 10 when the validation loss has not fallen for more than this many epochs.", OnResume.Fixed,
            o => o.PlateauPatience, (o, v) => o with { PlateauPatience = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, int> Seed = new(nameof(Seed), "--seed", 0,
            "Random seed; the same seed gives the same result.", OnResume.Fixed, o => o.Seed, (o, v) => o with { Seed = v }) { Placeholder = "N" };

        public static readonly OptionDeclaration<ClassifierTrainOptions, DeviceChoice> Device = new(nameof(Device), "--device",
            DeviceChoice.Auto, "Where torch work runs: auto (CUDA if available, else CPU), cpu, or cuda.", OnResume.Current,
            o => o.Device, (o, v) => o with { Device = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, bool> Strict = new(nameof(Strict), "--strict", false,
            "Stop at the first bad image instead of skipping it.", OnResume.Fixed, o => o.Strict, (o, v) => o with { Strict = v });

        public static readonly OptionDeclaration<ClassifierTrainOptions, string?> Desc = new(nameof(Desc), "--desc", null,
            "Words for the run folder's name (default: the architecture).", OnResume.Ignored, o => o.Desc, (o, v) => o with { Desc = v }) { Placeholder = "WORDS" };

        /// <summary>Every option, in the order of help.</summary>
        public static readonly IReadOnlyList<OptionDeclaration<ClassifierTrainOptions>> All =
        [
            Data, OutRoot, Arch, Weights, Synthetic, SyntheticCount, SyntheticPerClass, Size, Epochs, Batch, Lr, Loss, Sampler, SelectBy, Patience,
            PlateauPatience, Seed, Device, Strict, Desc,
        ];
    }
}
