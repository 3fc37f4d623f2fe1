using System.Text;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Models;

/// <summary>A checkpoint file could not be read as a state_dict (wrong or unsupported format, corrupt file).</summary>
public sealed class CheckpointFormatException(string file, string message, Exception? inner = null)
    : InputException(message, inner)
{
    /// <summary>The checkpoint file.</summary>
    public string File { get; } = file;
}

/// <summary>One tensor whose shape in the checkpoint differs from the network's.</summary>
/// <param name="Key">The state_dict key (after renaming legacy DenseNet keys).</param>
/// <param name="Expected">The network's shape.</param>
/// <param name="Actual">The checkpoint's shape.</param>
public sealed record ShapeMismatch(string Key, IReadOnlyList<long> Expected, IReadOnlyList<long> Actual)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Key}: network [{string.Join(", ", Expected)}], file [{string.Join(", ", Actual)}]";
}

/// <summary>
/// A checkpoint's keys or shapes do not fit the network. Nothing was loaded. The message names every missing key,
/// every unexpected key and every shape mismatch, and says how to fix it.
/// </summary>
public sealed class CheckpointMismatchException : InputException
{
    /// <summary>Builds the exception and its message.</summary>
    /// <param name="file">The checkpoint file.</param>
    /// <param name="network">What the weights were loaded into, e.g. "DenseNet (1664 features)".</param>
    /// <param name="missingKeys">Network keys the file lacks.</param>
    /// <param name="unexpectedKeys">File keys the network lacks.</param>
    /// <param name="shapeMismatches">Keys in both, with different shapes.</param>
    public CheckpointMismatchException(
        string file,
        string network,
        IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys,
        IReadOnlyList<ShapeMismatch> shapeMismatches,
        IReadOnlyList<string>? dtypeMismatches = null)
        : base(BuildMessage(file, network, missingKeys, unexpectedKeys, shapeMismatches, dtypeMismatches ?? []))
    {
        DTypeMismatches = dtypeMismatches ?? [];
        File = file;
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>The checkpoint file.</summary>
    public string File { get; }

    /// <summary>Network keys the file lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>File keys the network lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys in both, with different shapes.</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Keys in both, same shape, different dtypes ("key: network Float32, file Int32").</summary>
    public IReadOnlyList<string> DTypeMismatches { get; }

    private static string BuildMessage(
        string file,
        string network,
        IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys,
        IReadOnlyList<ShapeMismatch> shapeMismatches,
        IReadOnlyList<string> dtypeMismatches)
    {
        var text = new StringBuilder();
        text.Append($"Checkpoint '{file}' does not fit the {network}; nothing was loaded. ");
        text.Append("Use the torchvision ImageNet checkpoint of the same architecture (densenet121-a639ec97.pth, ");
        text.Append("densenet169-b2777c0a.pth, densenet201-c1103571.pth, resnet18/resnet50), saved as a state_dict ");
        text.Append("(torch.save(model.state_dict(), path)) or as .safetensors.");
        AppendList(text, "Missing from the file", missingKeys);
        AppendList(text, "Not in the network", unexpectedKeys);
        AppendList(text, "Shape mismatch", shapeMismatches);
        AppendList(text, "Dtype mismatch", dtypeMismatches);
        return text.ToString();
    }

    private static void AppendList<T>(StringBuilder text, string title, IReadOnlyList<T> items)
    {
        if (items.Count == 0)
            return;
        text.Append($"\n{title} ({items.Count}):");
        foreach (var item in items)
            text.Append($"\n  {item}");
    }
}
