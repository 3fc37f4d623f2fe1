using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>Shape checks at module boundaries; a mismatch throws <see cref="ArgumentException"/> with both shapes.</summary>
internal static class TensorChecks
{
    /// <summary>Checks <paramref name="x"/> against <paramref name="expected"/> (null = any size) and returns its shape.</summary>
    public static long[] Shape(Tensor x, string what, params long?[] expected)
    {
        var actual = x.shape;
        var ok = actual.Length == expected.Length;
        for (var i = 0; ok && i < actual.Length; i++)
            ok = expected[i] is not { } e || e == actual[i];
        if (!ok)
            throw new ArgumentException($"{what}: expected shape {Format(expected)}, got {Format(actual)}.");
        return actual;
    }

    public static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";

    public static string Format(long?[] shape) =>
        "[" + string.Join(", ", shape.Select(d => d is { } v ? v.ToString() : "*")) + "]";
}
