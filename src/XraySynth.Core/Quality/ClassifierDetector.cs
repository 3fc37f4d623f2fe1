using System.Security.Cryptography;
using TorchSharp;
using XraySynth.Classifier.Models;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// A trained XraySynth classifier (a <c>classifier train</c> run folder: model.json + best.safetensors) as a detector:
/// its penultimate features (DenseNet: features → ReLU → global average pool; ResNet: everything before <c>fc</c>),
/// with the input the classifier was trained on — grey, resized to its input size, repeated to three channels and
/// ImageNet-normalised. A Fréchet distance in this space is domain-specific (radiograph features the classifier
/// learned); it is comparable only between runs measured with the same classifier.
/// </summary>
public sealed class ClassifierDetector : IFeatureDetector
{
    private static readonly string[] ResNetTrunk = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"];

    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Device _device;
    private readonly int _size;

    private ClassifierDetector(nn.Module<Tensor, Tensor> model, Device device, int size, string name, string identity)
    {
        _model = model;
        _device = device;
        _size = size;
        Name = name;
        Identity = identity;
    }

    public string Name { get; }

    /// <summary>SHA-256 over model.json and best.safetensors.</summary>
    public string Identity { get; }

    public bool ComparableToPublished => false;

    /// <summary>Loads the best weights of the classifier run <paramref name="runDir"/> onto <paramref name="device"/>.</summary>
    /// <exception cref="DataException">Not a classifier run folder, or its weights are missing.</exception>
    public static ClassifierDetector Load(string runDir, Device? device = null)
    {
        device ??= CPU;
        var dir = Path.GetFullPath(runDir);
        var model = ClassifierModelInfo.LoadBest(dir, out var info);
        var weights = Path.Combine(dir, ClassifierModelInfo.BestWeights);
        model.to(device);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(Path.Combine(dir, ClassifierModelInfo.FileName)));
        using (var stream = File.OpenRead(weights))
            hash.AppendData(SHA256.HashData(stream));
        var name = "classifier-" + Path.GetFileName(dir.TrimEnd(Path.DirectorySeparatorChar));
        return new ClassifierDetector(model, device, info.Size, name, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    public Tensor Extract(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = ImageTensors.Resize(ImageTensors.GreyFloat(images, _device), _size);       // [N,1,S,S] in [0,1]
        x = ImageNetInput.Normalize(x);                                                  // [N,3,S,S]
        return Features(x).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    private Tensor Features(Tensor x)
    {
        if (_model is DenseNet dense) return dense.ForwardFeatures(x);
        // TorchVision's ResNet: run its children up to the average pool, skipping fc.
        var children = _model.named_children().ToDictionary(c => c.name, c => c.module);
        if (!ResNetTrunk.All(children.ContainsKey))
            throw new DataException($"{Name}: cannot take penultimate features of a {_model.GetType().Name}.");
        foreach (var name in ResNetTrunk)
            x = ((nn.Module<Tensor, Tensor>)children[name]).call(x);
        return x.flatten(1);                                                                  // [N,512|2048]
    }

    public void Dispose() => _model.Dispose();
}
