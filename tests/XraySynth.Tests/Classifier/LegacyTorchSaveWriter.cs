using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace XraySynth.Tests.Classifier;

/// <summary>How the pre-1.6 torch.save file is written, to cover what old checkpoints contain.</summary>
/// <param name="Python2">Python 2 pickling: OrderedDict items as constructor arguments, byte-string keys.</param>
/// <param name="RebuildV2">_rebuild_tensor_v2 (PyTorch 0.4–1.5) instead of _rebuild_tensor (0.2–0.3).</param>
/// <param name="Cuda">Storages tagged torch.cuda.FloatStorage / 'cuda:0' (saved from a GPU).</param>
/// <param name="OneStorage">All tensors are views into one shared storage at increasing offsets.</param>
internal sealed record LegacyFlavour(bool Python2, bool RebuildV2, bool Cuda, bool OneStorage);

/// <summary>
/// Writes a float32 state_dict byte for byte as torch.save did before PyTorch 1.6 (_legacy_save, pickle protocol 2):
/// magic, protocol version and sys_info pickles, the OrderedDict pickle with storages as persistent ids, the storage
/// key list, then each storage as int64 numel + raw little-endian data. Test fixture only.
/// </summary>
internal static class LegacyTorchSaveWriter
{
    public static void Write(string path, IReadOnlyList<(string Key, Tensor Value)> state, LegacyFlavour flavour)
    {
        var p = new PickleWriter(flavour.Python2);
        using var file = File.Create(path);

        p.Proto().Long1([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]).Stop();   // magic
        file.Write(p.TakeBytes());
        p.Proto().Int(1001).Stop();
        file.Write(p.TakeBytes());
        p.Proto().Op('}').Put().Mark()
            .Str("protocol_version").Put().Int(1001)
            .Str("little_endian").Put().Op(0x88)
            .Str("type_sizes").Put().Op('}').Put().Mark()
            .Str("short").Put().Int(2).Str("int").Put().Int(4).Str("long").Put().Int(8).Op('u')
            .Op('u').Stop();
        file.Write(p.TakeBytes());

        // Storages: one per tensor (keys like CPython addresses), or one shared by all.
        var data = state.Select(e => e.Value.contiguous().data<float>().ToArray()).ToList();
        List<(string Key, float[] Data)> storages = flavour.OneStorage
            ? [("140212345678000", data.SelectMany(d => d).ToArray())]
            : data.Select((d, i) => ((140212345678000 + 64 * i).ToString(), d)).ToList();

        p.Proto().Global("collections", "OrderedDict").Put();
        if (flavour.Python2)
            p.Op(']').Put().Mark();                     // OrderedDict([[key, tensor], ...])
        else
            p.Op(')').Op('R').Put().Mark();             // OrderedDict(), then SETITEMS
        long sharedOffset = 0;
        for (var i = 0; i < state.Count; i++)
        {
            var (key, tensor) = state[i];
            var (storageKey, storageData) = flavour.OneStorage ? storages[0] : storages[i];
            var offset = flavour.OneStorage ? sharedOffset : 0;
            sharedOffset += data[i].Length;

            if (flavour.Python2)
                p.Op(']').Put().Mark();
            p.Str(key).Put();
            p.Global("torch._utils", flavour.RebuildV2 ? "_rebuild_tensor_v2" : "_rebuild_tensor").Put().Mark();
            p.Mark().Str("storage").Global(flavour.Cuda ? "torch.cuda" : "torch", "FloatStorage").Put()
                .Str(storageKey).Put().Str(flavour.Cuda ? "cuda:0" : "cpu").Put().SizeInt(storageData.Length)
                .Op('N').Op('t').Put().Op('Q');
            p.SizeInt(offset).IntTuple(tensor.shape).IntTuple(ContiguousStride(tensor.shape));
            if (flavour.RebuildV2)
                p.Op(0x89).Global("collections", "OrderedDict").Put().Op(')').Op('R').Put();
            p.Op('t').Put().Op('R').Put();
            if (flavour.Python2)
                p.Op('e');                              // APPENDS closes [key, tensor]
        }
        if (flavour.Python2)
            p.Op('e').Op(0x85).Put().Op('R').Put();     // APPENDS, TUPLE1, REDUCE
        else
        {
            p.Op('u');                                  // SETITEMS
            // BUILD with the instance dict PyTorch 0.4+ attaches: {'_metadata': OrderedDict({'': {'version': 1}})}
            p.Op('}').Put().Str("_metadata").Put().Global("collections", "OrderedDict").Put().Op(')').Op('R').Put()
                .Str("").Put().Op('}').Put().Str("version").Put().Int(1).Op('s').Op('s').Op('s').Op('b');
        }
        p.Stop();
        file.Write(p.TakeBytes());

        p.Proto().Op(']').Put().Mark();
        foreach (var (storageKey, _) in storages)
            p.Str(storageKey).Put();
        p.Op('e').Stop();
        file.Write(p.TakeBytes());

        Span<byte> numel = stackalloc byte[8];
        foreach (var (_, storageData) in storages)
        {
            BinaryPrimitives.WriteInt64LittleEndian(numel, storageData.Length);
            file.Write(numel);
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(storageData.AsSpan()));
        }
    }

    private static long[] ContiguousStride(long[] shape)
    {
        var stride = new long[shape.Length];
        long step = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = step;
            step *= shape[i];
        }
        return stride;
    }

    /// <summary>Emits pickle protocol-2 opcodes as CPython's pickler does for these objects.</summary>
    private sealed class PickleWriter(bool python2)
    {
        private readonly MemoryStream _bytes = new();
        private int _memo;

        public byte[] TakeBytes()
        {
            var bytes = _bytes.ToArray();
            _bytes.SetLength(0);
            _memo = 0;
            return bytes;
        }

        public PickleWriter Op(char op) => Op((byte)op);

        public PickleWriter Op(byte op)
        {
            _bytes.WriteByte(op);
            return this;
        }

        public PickleWriter Proto() => Op(0x80).Op(2);

        public PickleWriter Stop() => Op('.');

        public PickleWriter Mark() => Op('(');

        public PickleWriter Put()                       // BINPUT / LONG_BINPUT memo entry
        {
            if (_memo < 256)
                Op('q').Op((byte)_memo);
            else
                Op('r').Raw(BitConverter.GetBytes(_memo));
            _memo++;
            return this;
        }

        public PickleWriter Global(string module, string name) =>
            Op('c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

        public PickleWriter Str(string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            if (python2 && utf8.Length < 256)           // a Python 2 str: SHORT_BINSTRING
                return Op('U').Op((byte)utf8.Length).Raw(utf8);
            return Op('X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);
        }

        public PickleWriter Int(long v) => v switch
        {
            >= 0 and < 256 => Op('K').Op((byte)v),
            >= 0 and < 65536 => Op('M').Raw(BitConverter.GetBytes((ushort)v)),
            >= int.MinValue and <= int.MaxValue => Op('J').Raw(BitConverter.GetBytes((int)v)),
            _ => throw new NotSupportedException("no LONG1 ints in these fixtures"),
        };

        // Sizes, strides and offsets came from C as Python 2 'long's, which protocol 2 writes as LONG1
        // (two's complement, shortest; 0 has no bytes).
        public PickleWriter SizeInt(long v)
        {
            if (!python2)
                return Int(v);
            return Long1(v == 0 ? [] : new System.Numerics.BigInteger(v).ToByteArray());
        }

        public PickleWriter Long1(byte[] littleEndian) => Op(0x8A).Op((byte)littleEndian.Length).Raw(littleEndian);

        public PickleWriter IntTuple(long[] values)
        {
            if (values.Length is >= 1 and <= 3)
            {
                foreach (var v in values)
                    SizeInt(v);
                return Op((byte)(0x84 + values.Length)).Put();   // TUPLE1..3
            }
            Mark();
            foreach (var v in values)
                SizeInt(v);
            return Op('t').Put();
        }

        private PickleWriter Raw(ReadOnlySpan<byte> bytes)
        {
            _bytes.Write(bytes);
            return this;
        }
    }
}
