using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Runtime;

/// <summary>A safetensors file whose header is damaged or hostile; the message names the file and what is wrong.</summary>
public sealed class SafetensorsFormatException(string file, string message) : InputException($"'{file}': {message}")
{
    /// <summary>The file.</summary>
    public string File { get; } = file;

    /// <summary>What is wrong, without the file name.</summary>
    public string Reason { get; } = message;
}

/// <summary>One tensor as a safetensors header describes it: byte range relative to the data section.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

/// <summary>
/// The one reader of safetensors files (weights, checkpoints, snapshots, feature caches). The header is parsed and
/// checked here before any tensor is allocated, as the reference implementation does: its length is sane for the file,
/// it is one well-formed JSON object with unique keys, every dtype is known, every shape is non-negative and its byte
/// count (in checked 64-bit arithmetic) equals its data range, every range lies inside the file, and no two ranges
/// overlap. Tensors are then read one by one into CPU tensors of exactly the declared dtype and shape.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The reference implementation's limit on the header (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The checked header of <paramref name="path"/> and where its data section starts.</summary>
    public static (IReadOnlyList<SafetensorsEntry> Entries, long DataStart) ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>The checked header of a seekable stream positioned at the file's start.</summary>
    public static (IReadOnlyList<SafetensorsEntry> Entries, long DataStart) ReadHeader(Stream stream, string name)
    {
        var length = stream.Length - stream.Position;
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new SafetensorsFormatException(name, $"{length} bytes, too short to be a safetensors file");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(length - 8))
            throw new SafetensorsFormatException(name,
                $"the header claims {headerLength} bytes; the file has {length} bytes and a header may have at most {MaxHeaderBytes}: the file is truncated or not safetensors");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataLength = length - 8 - (long)headerLength;
        return (ParseHeader(header, dataLength, name), 8 + (long)headerLength);
    }

    /// <summary>Reads every tensor into CPU tensors (in the current dispose scope), after checking the header.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Reads every tensor from a seekable stream positioned at the file's start.</summary>
    public static Dictionary<string, Tensor> Load(Stream stream, string name)
    {
        var start = stream.Position;
        var (entries, dataStart) = ReadHeader(stream, name);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in entries)
            {
                var t = empty(e.Shape, e.DType);
                result[e.Name] = t;
                if (e.End == e.Begin) continue;
                stream.Position = start + dataStart + e.Begin;
                t.ReadBytesFromStream(stream);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static IReadOnlyList<SafetensorsEntry> ParseHeader(byte[] header, long dataLength, string name)
    {
        JsonDocument doc;
        try
        {
            var text = new UTF8Encoding(false, true).GetString(header);
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            throw new SafetensorsFormatException(name, $"the header is not well-formed JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(name, "the header is not a JSON object");
            var entries = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(item.Name))
                    throw new SafetensorsFormatException(name, $"the header names '{item.Name}' twice");
                if (item.Name == "__metadata__")
                {
                    if (item.Value.ValueKind != JsonValueKind.Object)
                        throw new SafetensorsFormatException(name, "__metadata__ is not an object of strings");
                    continue;
                }
                entries.Add(ParseEntry(item, dataLength, name));
            }
            // No two tensors may share bytes: one tensor's damage must not show up in another.
            var sorted = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
            for (int i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].Begin < sorted[i - 1].End)
                    throw new SafetensorsFormatException(name,
                        $"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap (bytes {sorted[i].Begin}..{sorted[i - 1].End})");
            }
            return entries;
        }
    }

    private static SafetensorsEntry ParseEntry(JsonProperty item, long dataLength, string name)
    {
        var key = item.Name;
        var v = item.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw new SafetensorsFormatException(name, $"tensor '{key}' lacks a string dtype, a shape array or two data_offsets");
        var dtypeName = dtypeElement.GetString()!;
        var (dtype, size) = DType(dtypeName)
            ?? throw new SafetensorsFormatException(name, $"tensor '{key}' has dtype '{dtypeName}', not one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
        var shape = new long[shapeElement.GetArrayLength()];
        if (shape.Length > 16) throw new SafetensorsFormatException(name, $"tensor '{key}' has {shape.Length} dimensions");
        long bytes = size;
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var n) || n < 0)
                throw new SafetensorsFormatException(name, $"tensor '{key}' has a shape entry {dim.GetRawText()}, not a size");
            shape[d++] = n;
            try { bytes = checked(bytes * n); }
            catch (OverflowException) { throw new SafetensorsFormatException(name, $"tensor '{key}' of shape [{string.Join(", ", shape.Take(d))}...] overflows 64 bits"); }
        }
        long begin = Offset(offsetsElement[0]), end = Offset(offsetsElement[1]);
        if (begin < 0 || end < begin || end > dataLength)
            throw new SafetensorsFormatException(name,
                $"tensor '{key}' claims bytes {begin}..{end} of a data section of {dataLength} bytes (truncated or damaged)");
        if (end - begin != bytes)
            throw new SafetensorsFormatException(name,
                $"tensor '{key}' is {dtypeName} [{string.Join(", ", shape)}] = {bytes} bytes, but its data range holds {end - begin}");
        return new SafetensorsEntry(key, dtype, shape, begin, end);
    }

    private static long Offset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : -1;

    /// <summary>A safetensors dtype name's torch dtype and element size, or null when unknown.</summary>
    public static (ScalarType DType, int Size)? DType(string name) => name switch
    {
        "F64" => (ScalarType.Float64, 8),
        "F32" => (ScalarType.Float32, 4),
        "F16" => (ScalarType.Float16, 2),
        "BF16" => (ScalarType.BFloat16, 2),
        "I64" => (ScalarType.Int64, 8),
        "I32" => (ScalarType.Int32, 4),
        "I16" => (ScalarType.Int16, 2),
        "I8" => (ScalarType.Int8, 1),
        "U8" => (ScalarType.Byte, 1),
        "BOOL" => (ScalarType.Bool, 1),
        _ => null,
    };
}
