using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace XraySynth.Classifier.Models;

/// <summary>The classifier networks XraySynth can train; each has a torchvision ImageNet checkpoint.</summary>
public enum ClassifierArchitecture
{
    /// <summary>torchvision densenet121 (checkpoint densenet121-a639ec97.pth).</summary>
    DenseNet121,

    /// <summary>torchvision densenet169, the MURA baseline (checkpoint densenet169-b2777c0a.pth).</summary>
    DenseNet169,

    /// <summary>torchvision densenet201 (checkpoint densenet201-c1103571.pth).</summary>
    DenseNet201,

    /// <summary>torchvision resnet18, from TorchVision .NET.</summary>
    ResNet18,

    /// <summary>torchvision resnet50, from TorchVision .NET.</summary>
    ResNet50,

    /// <summary>A small DenseNet (growth 12, blocks 3-6-6, 24 initial features) for tests, the
    /// demo and CPU smoke runs. No ImageNet checkpoint exists for it.</summary>
    DenseNetSmoke,
}

/// <summary>Builds classifier networks by architecture and parses their command-line names.</summary>
public static class ClassifierModels
{
    /// <summary>The names <see cref="Parse"/> accepts, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. Enum.GetValues<ClassifierArchitecture>().Select(Name)];

    /// <summary>
    /// An untrained network with <paramref name="numOutputs"/> outputs in its last layer (1 for a binary
    /// abnormal/normal logit), initialised as torchvision does. Load ImageNet weights into it with
    /// <see cref="ImageNetWeights.Load"/>.
    /// </summary>
    public static Module<Tensor, Tensor> Create(ClassifierArchitecture architecture, int numOutputs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numOutputs, 1);
        return architecture switch
        {
            ClassifierArchitecture.DenseNet121 => DenseNet.DenseNet121(numOutputs),
            ClassifierArchitecture.DenseNet169 => DenseNet.DenseNet169(numOutputs),
            ClassifierArchitecture.DenseNet201 => DenseNet.DenseNet201(numOutputs),
            ClassifierArchitecture.ResNet18 => torchvision.models.resnet18(num_classes: numOutputs),
            ClassifierArchitecture.ResNet50 => torchvision.models.resnet50(num_classes: numOutputs),
            ClassifierArchitecture.DenseNetSmoke => new DenseNet(growthRate: 12, blockConfig: [3, 6, 6], numInitFeatures: 24, numClasses: numOutputs),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
        };
    }

    /// <summary>The lower-case torchvision name: densenet121|densenet169|densenet201|resnet18|resnet50.</summary>
    public static string Name(ClassifierArchitecture architecture) => architecture switch
    {
        ClassifierArchitecture.DenseNet121 => "densenet121",
        ClassifierArchitecture.DenseNet169 => "densenet169",
        ClassifierArchitecture.DenseNet201 => "densenet201",
        ClassifierArchitecture.ResNet18 => "resnet18",
        ClassifierArchitecture.ResNet50 => "resnet50",
        ClassifierArchitecture.DenseNetSmoke => "densenet-smoke",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
    };

    /// <summary>Parses a torchvision name (case-insensitive); the error lists the valid names.</summary>
    public static ClassifierArchitecture Parse(string name)
    {
        foreach (var architecture in Enum.GetValues<ClassifierArchitecture>())
        {
            if (string.Equals(Name(architecture), name.Trim(), StringComparison.OrdinalIgnoreCase))
                return architecture;
        }
        throw new ArgumentException(
            $"Unknown classifier architecture '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>
    /// The state_dict prefix of the last (replaced) layer: <c>classifier</c> for DenseNet, <c>fc</c> for ResNet.
    /// Its weights are never taken from an ImageNet checkpoint.
    /// </summary>
    public static string HeadName(ClassifierArchitecture architecture) => architecture switch
    {
        ClassifierArchitecture.DenseNet121 or ClassifierArchitecture.DenseNet169
            or ClassifierArchitecture.DenseNet201 or ClassifierArchitecture.DenseNetSmoke => "classifier",
        ClassifierArchitecture.ResNet18 or ClassifierArchitecture.ResNet50 => "fc",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
    };
}
