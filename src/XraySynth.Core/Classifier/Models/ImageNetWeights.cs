using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Classifier.Models;

/// <summary>What <see cref="ImageNetWeights.Load"/> did.</summary>
/// <param name="File">The checkpoint file.</param>
/// <param name="Format">
/// "pytorch-zip" (torch.save), "pytorch-legacy" (torch.save before PyTorch 1.6) or "safetensors".
/// </param>
/// <param name="LoadedKeys">Network keys whose values now come from the file.</param>
/// <param name="RenamedLegacyKeys">File keys renamed as torchvision does (<c>norm.1</c> → <c>norm1</c>).</param>
/// <param name="SkippedHeadKeys">File keys of the replaced last layer, ignored.</param>
/// <param name="KeptKeys">
/// Network keys left as they were: the last layer, and BN <c>num_batches_tracked</c> counters that old checkpoints
/// lack (torchvision leaves those at 0 too).
/// </param>
public sealed record ImageNetLoadResult(
    string File,
    string Format,
    IReadOnlyList<string> LoadedKeys,
    IReadOnlyList<string> RenamedLegacyKeys,
    IReadOnlyList<string> SkippedHeadKeys,
    IReadOnlyList<string> KeptKeys)
{
    /// <summary>One line for a log.</summary>
    public override string ToString() =>
        $"{Path.GetFileName(File)} ({Format}): loaded {LoadedKeys.Count} tensors " +
        $"({RenamedLegacyKeys.Count} legacy keys renamed), skipped {SkippedHeadKeys.Count} head tensors, " +
        $"kept {KeptKeys.Count} network tensors";
}

/// <summary>
/// Loads torchvision ImageNet checkpoints (state_dicts, e.g. <c>densenet169-b2777c0a.pth</c>) into a network
/// built by <see cref="ClassifierModels"/>, except its last layer, which is replaced by ours. Reads PyTorch zip
/// files (torch.save since PyTorch 1.6) and <c>.safetensors</c> through TorchSharp.PyBridge, and torch.save's
/// older non-zip format (torchvision's DenseNet checkpoints date from 2017) itself. Keys and shapes are
/// checked here, because TorchSharp's strict loading does not name mismatches and skips same-dtype shape checks.
/// </summary>
public static class ImageNetWeights
{
    // torchvision's densenet._load_state_dict: old DenseNet checkpoints name layers 'norm.1', 'conv.2', ...
    private static readonly Regex LegacyDenseLayerKey = new(
        @"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$",
        RegexOptions.CultureInvariant);

    private const string NumBatchesTracked = "num_batches_tracked";

    /// <summary>
    /// Copies every tensor of <paramref name="file"/> into <paramref name="module"/>, except the last layer.
    /// Checks everything first: on any missing key, unexpected key or shape mismatch nothing is copied and a
    /// <see cref="CheckpointMismatchException"/> names them all.
    /// </summary>
    /// <param name="module">A <see cref="DenseNet"/> or TorchVision ResNet (else give <paramref name="headName"/>).
    /// </param>
    /// <param name="file">A torch.save state_dict (.pth/.pt, zip or legacy) or a .safetensors file.</param>
    /// <param name="headName">
    /// State_dict prefix of the replaced last layer; null picks <c>classifier</c> for DenseNet, <c>fc</c> for ResNet;
    /// "" replaces nothing (every key of the network must be in the file, as for a trained XraySynth classifier).
    /// </param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="CheckpointFormatException">Not a readable state_dict (the message says what to do).
    /// </exception>
    /// <exception cref="CheckpointMismatchException">Keys or shapes do not fit.</exception>
    public static ImageNetLoadResult Load(nn.Module module, string file, string? headName = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        headName ??= module switch
        {
            DenseNet => "classifier",
            ResNet => "fc",
            _ => throw new ArgumentException(
                $"Cannot tell the last layer of a {module.GetType().Name}; pass headName.", nameof(headName)),
        };
        if (!File.Exists(file))
            throw new FileNotFoundException($"ImageNet checkpoint not found: {file}", file);

        using var scope = NewDisposeScope();          // frees the file's tensors once copied
        var (format, fileState) = ReadStateDict(file);
        var state = RenameLegacyKeys(fileState, out var renamed);

        // An empty head name loads every key (our own checkpoints, head included).
        bool IsHead(string key) => headName.Length > 0 && (key == headName || key.StartsWith(headName + ".", StringComparison.Ordinal));

        var target = module.state_dict();
        var match = MatchKeys(target, state, IsHead);
        var skipped = state.Keys.Where(IsHead).ToList();
        var unexpected = state.Keys.Where(k => !IsHead(k) && !target.ContainsKey(k)).ToList();
        if (match.Missing.Count + unexpected.Count + match.Mismatches.Count + match.DtypeMismatches.Count > 0)
            throw new CheckpointMismatchException(file, NetworkName(module), match.Missing, unexpected, match.Mismatches, match.DtypeMismatches);

        using (no_grad())
        {
            foreach (var key in match.Loaded)
                target[key].copy_(state[key]);
        }
        return new ImageNetLoadResult(file, format, match.Loaded, renamed, skipped, match.Kept);
    }

    /// <summary>The file's tensors under the keys torchvision loads them as (<see cref="TorchvisionKey"/>); the renamed
    /// keys (as in the file) in <paramref name="renamed"/>.</summary>
    private static Dictionary<string, Tensor> RenameLegacyKeys(Dictionary<string, Tensor> fileState, out List<string> renamed)
    {
        renamed = [];
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in fileState)
        {
            var newKey = TorchvisionKey(key);
            if (newKey != key)
                renamed.Add(key);
            state[newKey] = tensor;
        }
        return state;
    }

    /// <summary>How the network's keys meet the file's: to load, kept (head, batch counters), missing, or of another
    /// shape or dtype.</summary>
    private sealed record KeyMatch(List<string> Loaded, List<string> Kept, List<string> Missing, List<ShapeMismatch> Mismatches, List<string> DtypeMismatches);

    private static KeyMatch MatchKeys(Dictionary<string, Tensor> target, Dictionary<string, Tensor> state, Func<string, bool> isHead)
    {
        var match = new KeyMatch([], [], [], [], []);
        foreach (var (key, tensor) in target)
        {
            if (isHead(key))
            {
                match.Kept.Add(key);
                continue;
            }
            if (!state.TryGetValue(key, out var source))
            {
                if (key.EndsWith("." + NumBatchesTracked, StringComparison.Ordinal))
                    match.Kept.Add(key);
                else
                    match.Missing.Add(key);
                continue;
            }
            if (!tensor.shape.SequenceEqual(source.shape))
            {
                match.Mismatches.Add(new ShapeMismatch(key, tensor.shape, source.shape));
                continue;
            }
            // copy_ would convert silently (int32 bytes into float32 weights): the dtype must be the network's.
            if (tensor.dtype != source.dtype)
            {
                match.DtypeMismatches.Add($"{key}: network {tensor.dtype}, file {source.dtype}");
                continue;
            }
            match.Loaded.Add(key);
        }
        return match;
    }

    private static string NetworkName(nn.Module module) => module is DenseNet d
        ? $"DenseNet (k {d.GrowthRate}, blocks ({string.Join(", ", d.BlockConfig)}), {d.NumFeatures} features)"
        : module.GetType().Name;

    /// <summary>
    /// The key torchvision loads a checkpoint key as: <c>features.denseblock1.denselayer1.norm.1.weight</c> →
    /// <c>features.denseblock1.denselayer1.norm1.weight</c>; every other key is returned unchanged.
    /// </summary>
    public static string TorchvisionKey(string key)
    {
        var match = LegacyDenseLayerKey.Match(key);
        return match.Success ? match.Groups[1].Value + match.Groups[2].Value : key;
    }

    /// <summary>
    /// Reads a state_dict file as it is (keys not renamed), on the CPU, in the current dispose scope.
    /// Returns its format name (see <see cref="ImageNetLoadResult.Format"/>) and its tensors.
    /// </summary>
    public static (string Format, Dictionary<string, Tensor> State) ReadStateDict(string file)
    {
        using var stream = File.OpenRead(file);
        var head = new byte[512];
        var headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        var kind = Sniff(head.AsSpan(0, headLength));
        try
        {
            switch (kind)
            {
                case FileKind.PyTorchZip:
                {
                    // Structure and every pickle's globals are checked before PyBridge unpickles anything.
                    TorchArchive.Check(file, torchScript: false);
                    Hashtable table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
                    var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                    foreach (DictionaryEntry entry in table)
                    {
                        if (entry.Key is string key && entry.Value is Tensor tensor)
                            state[key] = tensor;
                    }
                    return ("pytorch-zip", state);
                }
                case FileKind.Safetensors:
                    return ("safetensors", SafetensorsFile.Load(stream, file));
                case FileKind.PyTorchLegacy:
                    return ("pytorch-legacy", LegacyTorchFile.Read(stream, file));
                case FileKind.PyTorchTar:
                    throw new CheckpointFormatException(file,
                        $"'{file}' was written in torch.save's tar format (PyTorch < 0.1.10), not read here. " +
                        ResaveAdvice);
                default:
                    throw new CheckpointFormatException(file,
                        $"'{file}' is neither a torch.save zip state_dict nor a .safetensors file.");
            }
        }
        catch (PickleRefusedException e)
        {
            throw new CheckpointFormatException(file, e.Message, e);
        }
        catch (SafetensorsFormatException e)
        {
            throw new CheckpointFormatException(file, $"Cannot read {e.Message}. fix: use an undamaged copy of the file.", e);
        }
        catch (Exception e) when (e is not CheckpointFormatException)
        {
            // PyBridge throws NotImplementedException for whole pickled models; bad zips and pickles throw
            // InvalidDataException, IOException (premature end) or PickleException.
            var advice = kind == FileKind.PyTorchLegacy ? " " + ResaveAdvice : "";
            var reason = e.Message.TrimEnd('.');
            throw new CheckpointFormatException(file, $"Cannot read '{file}' as a state_dict: {reason}.{advice}", e);
        }
    }

    private const string ResaveAdvice =
        "Re-save it once with PyTorch: python3 -c \"import torch; " +
        "torch.save(torch.load('IN.pth', map_location='cpu', weights_only=True), 'OUT.pth')\" (or write OUT.safetensors " +
        "with safetensors.torch.save_file) and pass OUT.";

    private enum FileKind { Unknown, PyTorchZip, PyTorchLegacy, PyTorchTar, Safetensors }

    private static FileKind Sniff(ReadOnlySpan<byte> head)
    {
        // torch.save >= 1.6: a zip archive (local file header "PK\3\4").
        if (head.Length >= 4 && head[0] == 0x50 && head[1] == 0x4B && head[2] == 0x03 && head[3] == 0x04)
            return FileKind.PyTorchZip;
        // Legacy torch.save: a pickle (protocol 2: 0x80 0x02) of the magic number 0x1950a86a20f9469cfc6c, or, before
        // PyTorch 0.2, a tar archive ("ustar" at offset 257).
        ReadOnlySpan<byte> magic = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19];
        if (head.Length >= 2 && head[0] == 0x80 && head.Slice(2).IndexOf(magic) is >= 0 and < 8)
            return FileKind.PyTorchLegacy;
        if (head.Length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8))
            return FileKind.PyTorchTar;
        // safetensors: little-endian u64 header length, then a JSON object.
        if (head.Length >= 9 && head[8] == (byte)'{')
            return FileKind.Safetensors;
        return FileKind.Unknown;
    }
}
