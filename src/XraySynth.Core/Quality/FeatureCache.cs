using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// The cache of real-image features, so a dataset's features are computed once per detector (the official code caches
/// its FeatureStats the same way). One safetensors file per entry,
/// <c>&lt;dir&gt;/&lt;dataset tag&gt;-&lt;kind&gt;-&lt;key&gt;.safetensors</c>, beside a <c>.json</c> that says what it
/// holds; the key is 16 hex digits of a SHA-256 over the cache format, the dataset's content hash
/// (<see cref="RealImageSet.ContentHash"/>) and what was computed (detector identity and kind). Any change to the
/// images, the class filter or the detector's weights gives a new key; a file that cannot be read or does not fit is
/// recomputed. Files are written under a temporary name and renamed.
/// </summary>
public sealed class FeatureCache(string directory)
{
    public const string Format = "xraysynth-metrics-cache/1";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary><c>$XRAYSYNTH_CACHE/gan-metrics</c>, else <c>~/.cache/xraysynth/gan-metrics</c>.</summary>
    public static string DefaultDirectory() => Path.Combine(FeatureDetectors.CacheRoot(), "gan-metrics");

    /// <summary>The file of an entry: <paramref name="kind"/> names what it holds ("builtin-features", "pixels64").</summary>
    public string PathFor(RealImageSet reals, string kind, string identity)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Format}\n{reals.ContentHash()}\n{kind}\n{identity}")))[..16];
        return Path.Combine(Directory, $"{Safe(reals.Tag)}-{Safe(kind)}-{key}.safetensors");
    }

    /// <summary>The tensors of an entry, or null when it is absent, unreadable, or its <c>rows</c>-row tensors do not
    /// have <paramref name="rows"/> rows.</summary>
    public static Dictionary<string, Tensor>? TryLoad(string path, long rows, params string[] rowTensors)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            var state = SafetensorsFile.Load(stream, path);
            if (rowTensors.All(k => state.TryGetValue(k, out var t) && t.dim() >= 1 && t.shape[0] == rows))
                return state;
            foreach (var t in state.Values) t.Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SafetensorsFormatException or FormatException or System.Text.Json.JsonException
                                      or ArgumentException or NotImplementedException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="t"/> has exactly <paramref name="dtype"/> and <paramref name="shape"/> (−1: any
    /// size in that dimension, but the number of dimensions is fixed).</summary>
    public static bool Fits(Tensor t, ScalarType dtype, params long[] shape)
    {
        if (t.dtype != dtype || t.dim() != shape.Length) return false;
        var actual = t.shape;
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] >= 0 && actual[i] != shape[i]) return false;
        return true;
    }

    /// <summary>Writes an entry atomically, with <paramref name="description"/> beside it as JSON.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, JsonObject description)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var contiguous = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous());
        try
        {
            AtomicFile.Write(path, stream => Safetensors.SaveStateDict(stream, contiguous, leaveOpen: true));
        }
        finally
        {
            foreach (var (key, t) in contiguous)
                if (!ReferenceEquals(t, tensors[key])) t.Dispose();
        }
        description["format"] = Format;
        description["file"] = Path.GetFileName(path);
        description["createdUtc"] = DateTimeOffset.UtcNow.ToString("o");
        AtomicFile.WriteAllText(Path.ChangeExtension(path, ".json"), description.ToJsonString(Json.Options) + "\n");
    }

    private static string Safe(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
