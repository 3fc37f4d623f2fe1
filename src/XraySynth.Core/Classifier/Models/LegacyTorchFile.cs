using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp.PyBridge;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Classifier.Models;

/// <summary>
/// Reads state_dicts written by torch.save before PyTorch 1.6 (the "legacy" non-zip format), which
/// TorchSharp.PyBridge rejects. torchvision's oldest ImageNet checkpoints, densenet*-*.pth among them, were saved
/// so. Layout (torch/serialization.py, _legacy_save), all pickles protocol 2:
/// <list type="number">
/// <item>pickle: magic number 0x1950a86a20f9469cfc6c; pickle: protocol version 1001; pickle: sys_info dict;</item>
/// <item>pickle: the object; each tensor is <c>torch._utils._rebuild_tensor(_v2)(storage, offset, size, stride,
/// ...)</c>, each storage a persistent id ('storage', type, key, location, numel, view metadata or None);</item>
/// <item>pickle: the list of storage keys; then for each key, in that order: int64 numel, then the raw
/// little-endian elements.</item>
/// </list>
/// The pre-0.1.10 tar variant is not read.
/// </summary>
internal static class LegacyTorchFile
{
    private static readonly BigInteger Magic = BigInteger.Parse("01950a86a20f9469cfc6c", NumberStyles.HexNumber);
    private const int ProtocolVersion = 1001;

    /// <summary>
    /// The top-level tensors of the pickled dict, on the CPU, in the current dispose scope. Throws
    /// <see cref="InvalidDataException"/> when the file is not this format or holds something else.
    /// </summary>
    public static Dictionary<string, Tensor> Read(Stream input, string file)
    {
        CheckPickles(input, file);
        var stream = new BufferedStream(input, 1 << 20);       // the unpickler reads byte by byte
        using (var header = new Unpickler())
        {
            if (!Magic.Equals(ToBigInteger(header.load(stream))))
                throw new InvalidDataException("Not a legacy torch.save file (bad magic number).");
            if (ToBigInteger(header.load(stream)) != ProtocolVersion)
                throw new InvalidDataException("Unsupported legacy torch.save protocol version.");
            if (header.load(stream) is Hashtable sysInfo && sysInfo["little_endian"] is false)
                throw new InvalidDataException("Big-endian legacy torch.save files are not supported.");
        }

        using var unpickler = new LegacyUnpickler();
        var root = unpickler.load(stream) as IDictionary
            ?? throw new InvalidDataException("The file holds no dict; expected a state_dict.");
        var storageKeys = unpickler.load(stream) as IEnumerable
            ?? throw new InvalidDataException("Missing the storage key list.");

        // Raw storages, in the order of the key list.
        var numelBytes = new byte[sizeof(long)];
        foreach (var keyObject in storageKeys)
        {
            var key = Convert.ToString(keyObject, CultureInfo.InvariantCulture) ?? "";
            if (!unpickler.Storages.TryGetValue(key, out var storage))
                throw new InvalidDataException($"Storage '{key}' is listed but no tensor uses it.");
            stream.ReadExactly(numelBytes);
            var numel = BinaryPrimitives.ReadInt64LittleEndian(numelBytes);
            var elementSize = storage.DType switch { ScalarType.Float64 or ScalarType.Int64 => 8, ScalarType.Float32 or ScalarType.Int32 => 4,
                ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2, _ => 1 };
            if (numel < 0 || numel > (stream.Length - stream.Position) / elementSize)
                throw new InvalidDataException($"Storage '{key}' claims {numel} elements, more than the rest of the file holds (truncated or damaged).");
            if (numel != storage.Numel)
                throw new InvalidDataException($"Storage '{key}': {numel} elements, the pickle says {storage.Numel}.");
            var data = empty(numel, storage.DType);
            var bytes = new byte[numel * data.ElementSize];
            stream.ReadExactly(bytes);
            data.bytes = bytes;
            storage.Data = data;
        }

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in root)
        {
            if (entry.Key is not string key)
                continue;
            state[key] = entry.Value switch
            {
                LegacyTensor t => t.Resolve(key),
                Tensor t => t,
                _ => throw new InvalidDataException(
                    $"'{key}' is not a tensor; expected a flat state_dict (torch.save(model.state_dict(), path))."),
            };
        }
        return state;
    }

    /// <summary>The five pickles before the raw storages (magic, protocol, sys_info, the object, storage keys) may name
    /// only the state_dict globals (<see cref="PickleScanner.StateDictGlobals"/>); checked before any is unpickled.</summary>
    private static void CheckPickles(Stream input, string file)
    {
        var start = input.Position;
        var head = new byte[(int)Math.Min(input.Length - start, 64L * 1024 * 1024)];
        input.ReadExactly(head);
        input.Position = start;
        int offset = 0;
        for (int i = 0; i < 5; i++)
            offset += PickleScanner.CheckGlobals(head.AsSpan(offset), PickleScanner.StateDictGlobals, $"'{file}' (pickle {i + 1} of its header)");
    }

    private static BigInteger ToBigInteger(object value) => value switch
    {
        BigInteger b => b,
        IConvertible c => new BigInteger(c.ToInt64(CultureInfo.InvariantCulture)),
        _ => BigInteger.MinusOne,
    };

    private static long ToLong(object value) => value is BigInteger big
        ? (long)big
        : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static long[] ToLongs(object value) => value is IEnumerable items
        ? [.. items.Cast<object>().Select(ToLong)]
        : throw new InvalidDataException("Expected a tuple of integers.");

    /// <summary>A root storage: its dtype and size from the pickle, its data once the tail is read.</summary>
    private sealed class LegacyStorage(ScalarType dtype, long numel)
    {
        public ScalarType DType { get; } = dtype;
        public long Numel { get; } = numel;
        public Tensor? Data { get; set; }
    }

    /// <summary>A storage as a tensor sees it: a root storage, possibly from an element offset (a view).</summary>
    private sealed record StorageView(LegacyStorage Root, long Offset);

    /// <summary>A tensor whose storage is read after the pickle: resolved at the end.</summary>
    private sealed record LegacyTensor(StorageView Storage, long Offset, long[] Size, long[] Stride)
    {
        public Tensor Resolve(string key)
        {
            var data = Storage.Root.Data
                ?? throw new InvalidDataException($"The storage of '{key}' is not in the file.");
            var offset = Storage.Offset + Offset;
            var last = offset + Size.Zip(Stride, (n, s) => n == 0 ? 0 : (n - 1) * s).Sum();
            if (Size.Any(n => n == 0))
                return empty(Size, data.dtype);
            if (offset < 0 || last >= data.shape[0])
                throw new InvalidDataException($"'{key}' reaches past the end of its storage.");
            return data.as_strided(Size, Stride, offset);
        }
    }

    private sealed class LegacyUnpickler : Unpickler
    {
        static LegacyUnpickler()
        {
            // The constructor registry is global and PyBridge fills it; wrap its entries so that legacy tensors
            // and Python-2 OrderedDicts are handled while PyBridge's own objects pass through unchanged.
            RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
            lock (objectConstructors)
            {
                foreach (var name in new[] { "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" })
                {
                    objectConstructors.TryGetValue(name, out var previous);
                    if (previous is not RebuildTensor)
                        objectConstructors[name] = new RebuildTensor(previous);
                }
                objectConstructors.TryGetValue("collections.OrderedDict", out var dict);
                if (dict is not OrderedDictFromItems)
                    objectConstructors["collections.OrderedDict"] = new OrderedDictFromItems(dict);
            }
        }

        public Dictionary<string, LegacyStorage> Storages { get; } = new(StringComparer.Ordinal);

        protected override object persistentLoad(object pid)
        {
            // ('storage', storage_type, root_key, location, root_numel, view_metadata)
            if (pid is not object[] { Length: 6 } id || id[0] as string != "storage")
                throw new InvalidDataException("Unknown persistent id in a legacy torch.save file.");
            var typeName = id[1] is ClassDictConstructor type ? type.name : Convert.ToString(id[1]) ?? "";
            var key = Convert.ToString(id[2], CultureInfo.InvariantCulture) ?? "";
            var numel = ToLong(id[4]);
            if (!Storages.TryGetValue(key, out var root))
                Storages[key] = root = new LegacyStorage(DTypeOf(typeName), numel);
            // view_metadata: (view_key, offset, view_size) for a storage that is a slice of the root.
            var offset = id[5] is object[] { Length: 3 } view ? ToLong(view[1]) : 0;
            return new StorageView(root, offset);
        }

        private static ScalarType DTypeOf(string storageType) => storageType switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            _ => throw new InvalidDataException($"Unsupported storage type '{storageType}'."),
        };
    }

    /// <summary>torch._utils._rebuild_tensor and _rebuild_tensor_v2 (storage, offset, size, stride, ...).</summary>
    private sealed class RebuildTensor(IObjectConstructor? previous) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args is [StorageView storage, var offset, var size, var stride, ..])
                return new LegacyTensor(storage, ToLong(offset), ToLongs(size), ToLongs(stride));
            return previous?.construct(args)
                ?? throw new PickleException("torch._utils._rebuild_tensor with unexpected arguments");
        }
    }

    /// <summary>
    /// collections.OrderedDict: Python 3 pickles its items after construction (SETITEMS), Python 2 passes them to the
    /// constructor as [[key, value], ...]; PyBridge's constructor ignores constructor arguments.
    /// </summary>
    private sealed class OrderedDictFromItems(IObjectConstructor? previous) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var dict = previous?.construct(args) ?? new Hashtable();
            if (args is [IEnumerable items, ..] && dict is IDictionary target)
            {
                foreach (var item in items)
                {
                    if (item is IList { Count: 2 } pair)
                        target[pair[0]!] = pair[1];
                }
            }
            return dict;
        }
    }
}
