using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// A detector saved with <c>torch.jit.save</c> — above all NVIDIA's FID network <c>inception-2015-12-05.pt</c>
/// (2048-d pool features) and <c>vgg16.pt</c>, the files the official metrics download. It is fed exactly as the
/// official metrics feed it: uint8 [N, 3, H, W] (one-channel images repeated to three), at the images' own size (the
/// network resizes itself). When its <c>forward</c> takes more than the image, the second argument is passed
/// <c>true</c>: it is <c>return_features</c> in NVIDIA's detectors, which otherwise return class logits.
/// </summary>
public sealed class TorchScriptDetector : IFeatureDetector
{
    /// <summary>File name of NVIDIA's FID Inception network.</summary>
    public const string InceptionFileName = "inception-2015-12-05.pt";

    private readonly jit.ScriptModule _module;
    private readonly Device _device;

    private TorchScriptDetector(jit.ScriptModule module, Device device, string path, string identity, int inputs)
    {
        _module = module;
        _device = device;
        Path = path;
        Identity = identity;
        Inputs = inputs;
        Name = System.IO.Path.GetFileNameWithoutExtension(path);
    }

    /// <summary>The TorchScript file.</summary>
    public string Path { get; }

    /// <summary>Arguments of the module's forward, self excluded.</summary>
    public int Inputs { get; }

    public string Name { get; }

    /// <summary>SHA-256 of the file.</summary>
    public string Identity { get; }

    /// <summary>Claimed from the file name: NVIDIA's <see cref="InceptionFileName"/>.</summary>
    public bool ComparableToPublished => System.IO.Path.GetFileName(Path) == InceptionFileName
                                         || System.IO.Path.GetFileName(Path).EndsWith("_" + InceptionFileName, StringComparison.Ordinal);

    /// <summary>Loads <paramref name="path"/> with <c>torch.jit.load</c> onto <paramref name="device"/>.</summary>
    /// <exception cref="DataException">The file is missing or is not a TorchScript archive.</exception>
    public static TorchScriptDetector Load(string path, Device? device = null)
    {
        device ??= CPU;
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new DataException($"{path}: detector file not found. fix: pass an existing TorchScript file (.pt), or --detector builtin.");
        string identity;
        using (var stream = File.OpenRead(full))
            identity = Convert.ToHexStringLower(SHA256.HashData(stream));
        // libtorch trusts the archive: a malformed one can abort the process, so structure and pickles are checked first.
        try
        {
            TorchArchive.Check(full, torchScript: true);
        }
        catch (Exception e) when (e is InvalidDataException or PickleRefusedException)
        {
            throw new DataException($"{path}: refused before loading: {e.Message} " +
                                    "fix: pass a TorchScript file written by torch.jit.save from a source you trust (e.g. NVIDIA's " + InceptionFileName + "), or --detector builtin.");
        }
        jit.ScriptModule module;
        try
        {
            module = jit.load(full, device);
        }
        catch (ExternalException e)
        {
            throw new DataException($"{path}: not a TorchScript file that torch.jit.load can read ({FirstLine(e.Message)}). " +
                                    "fix: pass a file written by torch.jit.save (e.g. NVIDIA's " + InceptionFileName + "), or --detector builtin.");
        }
        module.eval();
        return new TorchScriptDetector(module, device, full, identity, module.GetNumberOfInputs());
    }

    public Tensor Extract(Tensor images)
    {
        ImageTensors.CheckImages(images);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = images.to(_device);
        if (x.shape[1] == 1) x = x.repeat(1, 3, 1, 1);                                     // [N,3,H,W] uint8
        object output;
        try
        {
            output = Inputs >= 2 ? _module.call(x, true) : _module.call(x);
        }
        catch (ExternalException e)
        {
            throw new DataException($"{Path}: the detector failed on uint8 images [{string.Join(", ", x.shape)}] ({FirstLine(e.Message)}). " +
                                    "fix: use a detector that takes uint8 [N, 3, H, W] and returns [N, D] features.");
        }
        if (output is not Tensor features || features.dim() != 2 || features.shape[0] != x.shape[0])
        {
            var what = output is Tensor t ? $"a tensor [{string.Join(", ", t.shape)}]" : output?.GetType().Name ?? "nothing";
            throw new DataException($"{Path}: the detector returned {what}, expected features [{x.shape[0]}, D].");
        }
        return features.to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    public void Dispose() => _module.Dispose();

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}
