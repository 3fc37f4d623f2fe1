using System.Buffers.Binary;
using System.Numerics;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Import;

/// <summary>
/// An object of a <c>torch_utils.persistence</c> class as pickled by the official code: its class name, the Python
/// source it carries (kept as text, never run), the arguments it was built with and its module state
/// (<c>_parameters</c>, <c>_buffers</c>, <c>_modules</c>, plain attributes).
/// </summary>
public sealed record PersistentObject(string ClassName, string ModuleSource, PyDict State)
{
    /// <summary>The keyword arguments it was constructed with (<c>init_kwargs</c>).</summary>
    public PyDict InitKwargs => State.Get("_init_kwargs") as PyDict ?? new PyDict();

    /// <summary>The positional arguments it was constructed with (<c>init_args</c>).</summary>
    public IReadOnlyList<object?> InitArgs => (State.Get("_init_args") as PyTuple)?.Items ?? [];
}

/// <summary>One network of a pickle: its class, constructor kwargs and every parameter and buffer by state_dict key.</summary>
public sealed record PickledNetwork(string ClassName, PyDict InitKwargs, IReadOnlyDictionary<string, Tensor> Tensors);

/// <summary>The contents of a network-snapshot-*.pkl of stylegan2-ada-pytorch (or stylegan3's stylegan2 config).</summary>
public sealed record NetworkPickleContents(PickledNetwork G, PickledNetwork D, PickledNetwork GEma, PyDict? TrainingSetKwargs,
    bool HasAugmentPipe);

/// <summary>
/// Reads the network pickles of the official StyleGAN2-ADA code without running any of it. Format (verified by
/// disassembling pickles written by the official training loop under PyTorch 1.13): a protocol 3/4 pickle of
/// <c>dict(training_set_kwargs, G, D, G_ema, augment_pipe)</c>; each network is
/// <c>torch_utils.persistence._reconstruct_persistent_obj(meta)</c> with meta = {type, version, module_src,
/// class_name, state}; state is the module's <c>__dict__</c>; a tensor is
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)</c> (parameters wrapped in
/// <c>_rebuild_parameter</c>); a storage is <c>torch.storage._load_from_bytes(b)</c> where b is a legacy
/// <c>torch.save</c> of that one storage (five small pickles, then int64 numel and the raw little-endian data).
/// Plain attributes may be numpy scalars (<c>numpy.core.multiarray.scalar(dtype, bytes)</c>) and kwargs
/// <c>dnnlib.util.EasyDict</c>. Every other global is refused.
/// </summary>
public static class NetworkPickle
{
    /// <summary>Largest pickle read (the published 1024-px networks are ~380 MB).</summary>
    public const long MaxBytes = 2L << 30;

    /// <summary>
    /// Reads <paramref name="path"/>. Throws <see cref="DataException"/> naming the file and the fix when it is not
    /// such a pickle, holds a global that is not on the list, or is damaged. Tensors are CPU tensors the caller disposes.
    /// </summary>
    public static NetworkPickleContents Read(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new DataException($"{full}: not found. fix: pass a network pickle (network-snapshot-*.pkl) or a snapshot folder.");
        var length = new FileInfo(full).Length;
        if (length > MaxBytes)
            throw new DataException($"{full}: {length} bytes is larger than any StyleGAN2 network pickle ({MaxBytes} bytes at most).");
        try
        {
            return Read(File.ReadAllBytes(full));
        }
        catch (PickleRefusedException e)
        {
            throw new DataException($"{full}: refused: {e.Message}. This reader takes the network pickles of stylegan2-ada-pytorch " +
                "and stylegan3 (stylegan2 config) only and runs none of their code. fix: pass such a pickle, or an XraySynth snapshot folder.");
        }
    }

    /// <summary>Reads a pickle held in memory (see <see cref="Read(string)"/>); throws <see cref="PickleRefusedException"/>.</summary>
    internal static NetworkPickleContents Read(byte[] data)
    {
        var root = new RestrictedUnpickler(data, new SnapshotGlobals()).Load() as PyDict
            ?? throw new PickleRefusedException("the pickle holds no dict; a network snapshot is dict(G=..., D=..., G_ema=...)");
        PickledNetwork Network(string key)
        {
            if (!root.TryGet(key, out var value) || value is null)
                throw new PickleRefusedException($"the pickle has no '{key}' (it has: {string.Join(", ", root.Keys)})");
            var obj = value as PersistentObject
                ?? throw new PickleRefusedException($"'{key}' is a {Describe(value)}, not a persistent network object");
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            Flatten(obj, "", tensors, key, depth: 0);
            return new PickledNetwork(obj.ClassName, obj.InitKwargs, tensors);
        }
        var hasAugment = root.TryGet("augment_pipe", out var augment) && augment is not null;
        return new NetworkPickleContents(Network("G"), Network("D"), Network("G_ema"),
            root.Get("training_set_kwargs") as PyDict, hasAugment);
    }

    /// <summary>state_dict of a module: its _parameters and _buffers (None skipped), then its _modules, recursively.</summary>
    private static void Flatten(PersistentObject module, string prefix, Dictionary<string, Tensor> into, string network, int depth)
    {
        if (depth > 64)
            throw new PickleRefusedException($"'{network}' nests modules more than 64 deep");
        var nonPersistent = (module.State.Get("_non_persistent_buffers_set") as PySet)?.Items.OfType<string>().ToHashSet() ?? [];
        foreach (var field in new[] { "_parameters", "_buffers" })
        {
            if (module.State.Get(field) is not PyDict dict)
                throw new PickleRefusedException($"'{network}.{prefix}' ({module.ClassName}) has no {field}: not a torch.nn.Module state");
            foreach (var (key, value) in dict.Entries)
            {
                if (value is null || (field == "_buffers" && nonPersistent.Contains((string)key)))
                    continue;
                var tensor = value as Tensor
                    ?? throw new PickleRefusedException($"'{network}.{prefix}{key}' is a {Describe(value)}, not a tensor");
                into[prefix + (string)key] = tensor;
            }
        }
        if (module.State.Get("_modules") is not PyDict modules)
            return;
        foreach (var (key, value) in modules.Entries)
        {
            if (value is null)
                continue;
            var child = value as PersistentObject
                ?? throw new PickleRefusedException($"'{network}.{prefix}{key}' is a {Describe(value)}, not a persistent module");
            Flatten(child, prefix + (string)key + ".", into, network, depth + 1);
        }
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PersistentObject p => $"persistent {p.ClassName}",
        PyGlobal g => g.FullName,
        _ => value.GetType().Name,
    };

    /// <summary>The names a network snapshot uses, and what each builds.</summary>
    private sealed class SnapshotGlobals : IPickleGlobals
    {
        private static readonly HashSet<string> Known =
        [
            "torch_utils.persistence._reconstruct_persistent_obj",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.storage._load_from_bytes",
            "collections.OrderedDict", "builtins.set", "builtins.frozenset", "dnnlib.util.EasyDict", "dnnlib.EasyDict",
            "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
        ];

        public bool Knows(string module, string name) => Known.Contains(module + "." + name);

        public object? Call(PyGlobal callable, IReadOnlyList<object?> args)
        {
            switch (callable.FullName)
            {
                case "torch_utils.persistence._reconstruct_persistent_obj":
                {
                    if (args is not [PyDict meta])
                        throw new PickleRefusedException("_reconstruct_persistent_obj without its meta dict");
                    if (meta.Get("type") as string != "class")
                        throw new PickleRefusedException($"persistent object of type '{meta.Get("type")}' (only 'class' is known)");
                    var className = meta.Get("class_name") as string
                        ?? throw new PickleRefusedException("persistent object without a class_name");
                    var state = meta.Get("state") as PyDict
                        ?? throw new PickleRefusedException($"persistent {className} without a state dict");
                    return new PersistentObject(className, meta.Get("module_src") as string ?? "", state);
                }
                case "torch._utils._rebuild_tensor":
                case "torch._utils._rebuild_tensor_v2":
                    return RebuildTensor(args);
                case "torch._utils._rebuild_parameter":
                case "torch._utils._rebuild_parameter_with_state":
                    return args.Count >= 1 && args[0] is Tensor t ? t
                        : throw new PickleRefusedException("_rebuild_parameter without a tensor");
                case "torch.storage._load_from_bytes":
                    return args is [byte[] blob] ? StorageBlob.Read(blob)
                        : throw new PickleRefusedException("_load_from_bytes without bytes");
                case "collections.OrderedDict":
                {
                    var dict = new PyDict();
                    if (args is [List<object?> items])
                    {
                        foreach (var item in items)
                        {
                            if (item is not PyTuple { Items: [var k, var v] })
                                throw new PickleRefusedException("OrderedDict items are not pairs");
                            dict.Set(k, v);
                        }
                    }
                    return dict;
                }
                case "builtins.set":
                case "builtins.frozenset":
                    return new PySet(args is [List<object?> list] ? [.. list] : []);
                case "numpy.core.multiarray.scalar":
                case "numpy._core.multiarray.scalar":
                    return args is [NumpyDType dtype, byte[] bytes] ? dtype.Decode(bytes)
                        : throw new PickleRefusedException("numpy scalar without (dtype, bytes)");
                case "numpy.dtype":
                    return args is [string code, ..] ? new NumpyDType(code)
                        : throw new PickleRefusedException("numpy.dtype without a type code");
                default:
                    throw new PickleRefusedException($"'{callable.FullName}' cannot be called");
            }
        }

        public object? New(PyGlobal cls, IReadOnlyList<object?> args) => cls.FullName switch
        {
            "dnnlib.util.EasyDict" or "dnnlib.EasyDict" or "collections.OrderedDict" => new PyDict(),
            _ => throw new PickleRefusedException($"'{cls.FullName}' cannot be instantiated"),
        };

        public object? Build(object? obj, object? state)
        {
            switch (obj)
            {
                case NumpyDType dtype when state is PyTuple { Items.Count: >= 2 } tuple:
                    dtype.ByteOrder = tuple.Items[1] as string ?? "|";
                    return dtype;
                case PyDict when state is null || state is PyDict { Count: 0 }:
                    return obj;   // EasyDict keeps its items as dict items; its __dict__ is empty
                default:
                    throw new PickleRefusedException($"BUILD of a {Describe(obj)} with a {Describe(state)} state");
            }
        }

        public object? PersistentLoad(object? pid) =>
            throw new PickleRefusedException("a persistent id in the outer pickle (expected storages pickled inline as bytes)");

        private static Tensor RebuildTensor(IReadOnlyList<object?> args)
        {
            if (args.Count < 4 || args[0] is not Tensor storage || args[1] is not long offset
                || args[2] is not PyTuple size || args[3] is not PyTuple stride)
                throw new PickleRefusedException("_rebuild_tensor with unexpected arguments");
            var sizes = size.Items.Select(x => x is long v && v >= 0 ? v : throw new PickleRefusedException("a tensor size is not a non-negative int")).ToArray();
            var strides = stride.Items.Select(x => x is long v && v >= 0 ? v : throw new PickleRefusedException("a tensor stride is not a non-negative int")).ToArray();
            if (sizes.Length != strides.Length)
                throw new PickleRefusedException("a tensor's size and stride differ in length");
            if (sizes.Any(n => n == 0))
                return empty(sizes, storage.dtype);
            var last = offset + sizes.Zip(strides, (n, s) => (n - 1) * s).Sum();
            if (offset < 0 || last >= storage.shape[0])
                throw new PickleRefusedException($"a tensor of size [{string.Join(", ", sizes)}] reaches past the end of its storage");
            return storage.as_strided(sizes, strides, offset).contiguous();
        }
    }

    /// <summary>numpy.dtype(code, align, copy) with its byte order from BUILD.</summary>
    private sealed class NumpyDType(string code)
    {
        public string ByteOrder { get; set; } = "<";

        public object Decode(byte[] bytes)
        {
            if (ByteOrder == ">")
                throw new PickleRefusedException("big-endian numpy scalars are not read");
            return (code, bytes.Length) switch
            {
                ("f8", 8) => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
                ("f4", 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(bytes),
                ("i8", 8) => BinaryPrimitives.ReadInt64LittleEndian(bytes),
                ("i4", 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(bytes),
                ("b1", 1) => bytes[0] != 0,
                _ => throw new PickleRefusedException($"numpy scalar of dtype '{code}' with {bytes.Length} bytes"),
            };
        }
    }

    /// <summary>
    /// The bytes of <c>torch.storage._load_from_bytes</c>: a legacy (non-zip) torch.save of one storage — pickles of
    /// the magic number, the protocol version 1001, sys_info, the storage (a persistent id
    /// ('storage', type, key, location, numel, view_metadata)), the key list; then int64 numel and the raw data.
    /// </summary>
    private static class StorageBlob
    {
        private static readonly BigInteger Magic = BigInteger.Parse("01950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

        public static Tensor Read(byte[] blob)
        {
            var globals = new StorageGlobals();
            var pos = 0;
            object? Next()
            {
                var reader = new RestrictedUnpickler(blob, globals, pos);
                var value = reader.Load();
                pos = reader.Position;
                return value;
            }
            if (Next() is not BigInteger magic || magic != Magic)
                throw new PickleRefusedException("an inline storage is not a torch.save blob (bad magic number)");
            if (Next() is not 1001L)
                throw new PickleRefusedException("an inline storage has an unknown torch.save protocol version");
            if (Next() is PyDict sysInfo && sysInfo.Get("little_endian") is false)
                throw new PickleRefusedException("big-endian storages are not read");
            var storage = Next() as StorageRef ?? throw new PickleRefusedException("an inline storage blob holds no storage");
            if (Next() is not List<object?> { Count: 1 } keys || keys[0] as string != storage.Key)
                throw new PickleRefusedException("an inline storage blob has an unexpected key list");
            if (blob.Length - pos < 8)
                throw new PickleRefusedException("an inline storage blob is truncated");
            var numel = BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(pos, 8));
            pos += 8;
            var elementSize = ElementSize(storage.DType);
            if (numel != storage.Numel || numel < 0 || numel > (blob.Length - pos) / elementSize)
                throw new PickleRefusedException($"an inline storage claims {numel} elements, its blob holds {(blob.Length - pos) / elementSize}");
            var data = empty(numel, storage.DType);
            data.bytes = blob.AsSpan(pos, (int)(numel * elementSize));
            return data;
        }

        private static int ElementSize(ScalarType t) => t switch
        {
            ScalarType.Float64 or ScalarType.Int64 => 8,
            ScalarType.Float32 or ScalarType.Int32 => 4,
            ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
            _ => 1,
        };

        private sealed record StorageRef(string Key, ScalarType DType, long Numel);

        private sealed class StorageGlobals : IPickleGlobals
        {
            private static readonly Dictionary<string, ScalarType> Types = new()
            {
                ["FloatStorage"] = ScalarType.Float32, ["DoubleStorage"] = ScalarType.Float64,
                ["HalfStorage"] = ScalarType.Float16, ["BFloat16Storage"] = ScalarType.BFloat16,
                ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32, ["ShortStorage"] = ScalarType.Int16,
                ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte, ["BoolStorage"] = ScalarType.Bool,
            };

            public bool Knows(string module, string name) => module == "torch" && Types.ContainsKey(name);

            public object? Call(PyGlobal callable, IReadOnlyList<object?> args) =>
                throw new PickleRefusedException($"'{callable.FullName}' cannot be called inside a storage blob");

            public object? New(PyGlobal cls, IReadOnlyList<object?> args) =>
                throw new PickleRefusedException($"'{cls.FullName}' cannot be instantiated inside a storage blob");

            public object? Build(object? obj, object? state) =>
                throw new PickleRefusedException("BUILD inside a storage blob");

            public object? PersistentLoad(object? pid)
            {
                if (pid is not PyTuple { Items: ["storage", PyGlobal type, string key, string, long numel, ..] })
                    throw new PickleRefusedException("an inline storage has an unknown persistent id");
                return new StorageRef(key, Types[type.Name], numel);
            }
        }
    }
}
