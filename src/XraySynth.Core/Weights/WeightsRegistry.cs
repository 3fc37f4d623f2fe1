namespace XraySynth.Weights;

/// <summary>What a published weights file is for.</summary>
public enum WeightsKind
{
    /// <summary>A torchvision ImageNet state_dict for <c>classifier train --weights imagenet</c>.</summary>
    ImageNet,

    /// <summary>A feature detector for <c>gan metrics --detector</c> (TorchScript).</summary>
    Detector,

    /// <summary>A StyleGAN2-ADA network pickle to start training from (<c>gan train --transfer</c>).</summary>
    Network,
}

/// <summary>
/// One published weights file.
/// </summary>
/// <param name="Name">The name users type (<c>densenet169</c>, <c>inception</c>, <c>ffhq256</c>).</param>
/// <param name="Kind">What it is for.</param>
/// <param name="Url">Canonical HTTPS address (the one the official code downloads; its MD5 names the file in the
/// official dnnlib cache).</param>
/// <param name="Sha256Prefix">
/// Leading hex digits of the file's SHA-256 that the publisher states: torchvision puts the first 8 into the
/// file name (<c>densenet169-b2777c0a.pth</c>) and torch.hub checks exactly that prefix. Null when the publisher
/// states no hash (NVIDIA's files): then the full SHA-256 is recorded on first download and every later use is
/// checked against it (trust on first use, see <see cref="WeightsCache"/>).
/// </param>
/// <param name="Description">One line for help texts and errors.</param>
public sealed record WeightsSource(string Name, WeightsKind Kind, string Url, string? Sha256Prefix, string Description)
{
    /// <summary>The file name: the last segment of <see cref="Url"/>.</summary>
    public string FileName => Url[(Url.LastIndexOf('/') + 1)..];
}

/// <summary>
/// The named weights XraySynth can fetch by itself. URLs and names are the publishers' own: torchvision's model
/// URLs (torchvision.models densenet.py/resnet.py, IMAGENET1K_V1), NVIDIA's FID Inception (the file the official
/// metrics load) and the transfer-learning sources of the official <c>train.py --resume</c> (its resume_specs) plus
/// the pretrained networks listed in the official README.
/// </summary>
public static class WeightsRegistry
{
    private const string Torchvision = "https://download.pytorch.org/models/";
    private const string Nvidia = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/";
    private const string Transfer = Nvidia + "transfer-learning-source-nets/";

    /// <summary>Every named source.</summary>
    public static IReadOnlyList<WeightsSource> All { get; } =
    [
        new("densenet121", WeightsKind.ImageNet, Torchvision + "densenet121-a639ec97.pth", "a639ec97", "torchvision DenseNet-121, ImageNet"),
        new("densenet169", WeightsKind.ImageNet, Torchvision + "densenet169-b2777c0a.pth", "b2777c0a", "torchvision DenseNet-169, ImageNet (the MURA baseline)"),
        new("densenet201", WeightsKind.ImageNet, Torchvision + "densenet201-c1103571.pth", "c1103571", "torchvision DenseNet-201, ImageNet"),
        new("resnet18", WeightsKind.ImageNet, Torchvision + "resnet18-f37072fd.pth", "f37072fd", "torchvision ResNet-18, ImageNet (IMAGENET1K_V1)"),
        new("resnet50", WeightsKind.ImageNet, Torchvision + "resnet50-0676ba61.pth", "0676ba61", "torchvision ResNet-50, ImageNet (IMAGENET1K_V1)"),

        new("inception", WeightsKind.Detector, Nvidia + "metrics/inception-2015-12-05.pt", null,
            "NVIDIA's TorchScript FID Inception-v3 (the official metrics' detector)"),

        // The official train.py resume_specs.
        new("ffhq256", WeightsKind.Network, Transfer + "ffhq-res256-mirror-paper256-noaug.pkl", null, "FFHQ 256px, paper256 config (official --resume ffhq256)"),
        new("ffhq512", WeightsKind.Network, Transfer + "ffhq-res512-mirror-stylegan2-noaug.pkl", null, "FFHQ 512px, stylegan2 config (official --resume ffhq512)"),
        new("ffhq1024", WeightsKind.Network, Transfer + "ffhq-res1024-mirror-stylegan2-noaug.pkl", null, "FFHQ 1024px, stylegan2 config (official --resume ffhq1024)"),
        new("celebahq256", WeightsKind.Network, Transfer + "celebahq-res256-mirror-paper256-kimg100000-ada-target0.5.pkl", null, "CelebA-HQ 256px, paper256 config (official --resume celebahq256)"),
        new("lsundog256", WeightsKind.Network, Transfer + "lsundog-res256-paper256-kimg100000-noaug.pkl", null, "LSUN Dog 256px, paper256 config (official --resume lsundog256)"),

        // The official README's pretrained networks.
        new("ffhq", WeightsKind.Network, Nvidia + "ffhq.pkl", null, "FFHQ 1024px (original StyleGAN2, converted)"),
        new("metfaces", WeightsKind.Network, Nvidia + "metfaces.pkl", null, "MetFaces 1024px, transfer from FFHQ with ADA"),
        new("afhqcat", WeightsKind.Network, Nvidia + "afhqcat.pkl", null, "AFHQ Cat 512px, ADA from scratch"),
        new("afhqdog", WeightsKind.Network, Nvidia + "afhqdog.pkl", null, "AFHQ Dog 512px, ADA from scratch"),
        new("afhqwild", WeightsKind.Network, Nvidia + "afhqwild.pkl", null, "AFHQ Wild 512px, ADA from scratch"),
        new("cifar10", WeightsKind.Network, Nvidia + "cifar10.pkl", null, "class-conditional CIFAR-10 32px"),
        new("brecahad", WeightsKind.Network, Nvidia + "brecahad.pkl", null, "BreCaHAD 512px, ADA from scratch"),
    ];

    /// <summary>The source named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static WeightsSource? Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The names of one kind, for help texts and errors.</summary>
    public static IReadOnlyList<string> Names(WeightsKind kind) => [.. All.Where(s => s.Kind == kind).Select(s => s.Name)];

    /// <summary>
    /// The ImageNet checkpoint of a classifier architecture (its torchvision name, e.g. <c>densenet169</c>), or null
    /// when torchvision publishes none (e.g. <c>densenet-smoke</c>).
    /// </summary>
    public static WeightsSource? ImageNet(string architecture) =>
        Find(architecture) is { Kind: WeightsKind.ImageNet } s ? s : null;
}
