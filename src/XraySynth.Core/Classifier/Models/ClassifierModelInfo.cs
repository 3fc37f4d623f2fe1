using XraySynth.Runtime;

namespace XraySynth.Classifier.Models;

/// <summary>What a saved classifier needs to be rebuilt and used: <c>model.json</c> beside its safetensors.</summary>
public sealed record ClassifierModelInfo
{
    public const string FileName = "model.json";
    public const string BestWeights = "best.safetensors";
    public const string Format = "xraysynth-classifier/1";

    public string FormatVersion { get; init; } = Format;
    public required string Arch { get; init; }
    /// <summary>Input side in pixels (grey images are resized to it and repeated to 3 channels).</summary>
    public required int Size { get; init; }
    /// <summary>Input normalisation: ImageNet mean/std.</summary>
    public string Normalization { get; init; } = "imagenet";
    public required int Epoch { get; init; }
    public required double ValAuroc { get; init; }
    public required double ValKappa { get; init; }
    public required double ValLoss { get; init; }

    public ClassifierArchitecture Architecture => ClassifierModels.Parse(Arch);

    /// <summary>The run's best network, rebuilt from model.json and loaded from best.safetensors (every key and shape
    /// checked), in eval mode on the CPU.</summary>
    public static TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> LoadBest(string runDir, out ClassifierModelInfo info)
    {
        info = Read(runDir);
        var weights = Path.Combine(runDir, BestWeights);
        if (!File.Exists(weights))
            throw new DataException($"{weights}: not found. fix: pass a classifier run that finished at least one epoch (it writes {BestWeights}).");
        var model = ClassifierModels.Create(info.Architecture, 1);
        try
        {
            ImageNetWeights.Load(model, weights, headName: "");
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    public static ClassifierModelInfo Read(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path))
            throw new DataException($"{path}: not found. fix: pass --model a run folder written by 'xraysynth classifier train' (it holds {FileName} and {BestWeights}).");
        var info = Json.Deserialize<ClassifierModelInfo>(File.ReadAllText(path))
            ?? throw new DataException($"{path}: empty model description.");
        if (info.FormatVersion != Format)
            throw new DataException($"{path}: format '{info.FormatVersion}', this version reads '{Format}'. fix: retrain or use a matching xraysynth.");
        return info;
    }
}
