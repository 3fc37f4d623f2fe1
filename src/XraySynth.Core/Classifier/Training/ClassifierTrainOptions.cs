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
    Auroc,
    Kappa,
}

/// <summary>Options of <c>classifier train</c>; saved as the run's options.json.</summary>
public sealed record ClassifierTrainOptions
{
    /// <summary>A folder written by <c>prepare</c> (train.csv, val.csv).</summary>
    public required string Data { get; init; }
    /// <summary>Folder that holds the run folders.</summary>
    public required string OutRoot { get; init; }
    /// <summary>densenet121|densenet169|densenet201|resnet18|resnet50|densenet-smoke.</summary>
    public string Arch { get; init; } = "densenet169";
    /// <summary>ImageNet checkpoint (.pth or .safetensors), or <c>imagenet</c> (torchvision's, fetched; the run's
    /// options.json records the file); null: random initialisation.</summary>
    public string? Weights { get; init; }
    /// <summary><c>gan generate</c> folders whose images join the training set (never validation or test).</summary>
    public IReadOnlyList<string> Synthetic { get; init; } = [];
    /// <summary>Synthetic images to add in all (null: all of them, unless per class is set).</summary>
    public int? SyntheticCount { get; init; }
    /// <summary>Synthetic images to add per class (overrides the count).</summary>
    public int? SyntheticPerClass { get; init; }
    /// <summary>Input side in pixels.</summary>
    public int Size { get; init; } = 224;
    public int Epochs { get; init; } = 20;
    public int Batch { get; init; } = 32;
    /// <summary>Adam learning rate (betas 0.9, 0.999).</summary>
    public double Lr { get; init; } = 1e-4;
    public ClassifierLoss Loss { get; init; } = ClassifierLoss.WeightedBce;
    public ClassifierSampler Sampler { get; init; } = ClassifierSampler.Natural;
    public SelectionMetric SelectBy { get; init; } = SelectionMetric.Auroc;
    /// <summary>Stop after this many epochs without a better validation score.</summary>
    public int Patience { get; init; } = 5;
    /// <summary>Divide the learning rate by 10 when the validation loss has not fallen for more than this many
    /// epochs (never below 1/1000 of <see cref="Lr"/>).</summary>
    public int PlateauPatience { get; init; } = 2;
    public int Seed { get; init; }
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
    /// <summary>Stop at the first bad image instead of skipping it.</summary>
    public bool Strict { get; init; }
    /// <summary>Words for the run folder's name (default: the architecture).</summary>
    public string? Desc { get; init; }
}
