using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace XraySynth.Tests.Quality;

/// <summary>
/// Writes <c>Fixtures/tiny-detector.pt</c>, a TorchScript archive made without PyTorch (none is installed here and
/// TorchSharp can load TorchScript but not create it): the zip layout <c>torch.jit.save</c> produces, written by hand —
/// <c>version</c>, <c>code/__torch__.py</c> (the class in TorchScript's serialized Python subset), <c>data.pkl</c> (the
/// module object as a protocol-2 pickle whose tensors are persistent ids into <c>data/N</c>), <c>constants.pkl</c>
/// (an empty tuple) and the raw little-endian tensor bytes. libtorch's <c>torch::jit::load</c> compiles the code and
/// restores the object, so loading it exercises the same path as NVIDIA's <c>inception-2015-12-05.pt</c>.
/// <para>The module mimics NVIDIA's detectors: <c>forward(img, return_features=False)</c> takes uint8 [N, 3, H, W]
/// (anything else raises), and returns features [N, 8] = mean-pool(img / 255, 4×4) flattened (48) @ <c>weight</c>
/// [48, 8] when <c>return_features</c>, else "logits" [N, 2] = features @ <c>head</c> [8, 2]. Weights come from
/// <see cref="Random"/> with fixed seeds, so tests can recompute the expected features.</para>
/// </summary>
internal static class TorchScriptFixture
{
    public const int Pool = 4, Features = 8, Logits = 2;
    private const int Inputs = 3 * Pool * Pool;

    public static readonly string Code = """
        class TinyDetector(Module):
          __parameters__ = []
          __buffers__ = ["weight", "head", ]
          weight : Tensor
          head : Tensor
          training : bool
          def forward(self: __torch__.TinyDetector,
            img: Tensor,
            return_features: bool=False) -> Tensor:
            _0 = torch.eq(ops.prim.dtype(img), 0)
            if _0:
              _1 = torch.eq(torch.size(img, 1), 3)
            else:
              _1 = False
            if _1:
              pass
            else:
              ops.prim.RaiseException("TinyDetector expects uint8 images [N, 3, H, W]")
            x = torch.mul(torch.to(img, 6), 0.0039215686274509803)
            x0 = torch.flatten(torch.adaptive_avg_pool2d(x, [4, 4]), 1)
            features = torch.matmul(x0, self.weight)
            if return_features:
              _2 = features
            else:
              _2 = torch.matmul(features, self.head)
            return _2

        """.Replace("\r\n", "\n");

    /// <summary>The committed fixture, next to this source file.</summary>
    public static string FixturePath([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Fixtures", "tiny-detector.pt");

    /// <summary>[48, 8] row-major.</summary>
    public static float[] Weight() => Uniform(Inputs * Features, seed: 1);

    /// <summary>[8, 2] row-major.</summary>
    public static float[] Head() => Uniform(Features * Logits, seed: 2);

    private static float[] Uniform(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Every entry of the archive, name → bytes, in the order written.</summary>
    public static List<(string Name, byte[] Bytes)> Entries()
    {
        var weight = Weight();
        var head = Head();
        var data = new Pickle();
        data.Global("__torch__", "TinyDetector").Op(')').Op(0x81)                   // EMPTY_TUPLE, NEWOBJ
            .Op('}').Op('(')                                                          // EMPTY_DICT, MARK
            .Str("weight").Tensor("0", weight.Length, [Inputs, Features])
            .Str("head").Tensor("1", head.Length, [Features, Logits])
            .Str("training").Op(0x89)                                                 // NEWFALSE
            .Op('u').Op('b');                                                         // SETITEMS, BUILD
        return
        [
            ("tiny/data.pkl", data.Done()),
            ("tiny/code/__torch__.py", Encoding.UTF8.GetBytes(Code)),
            ("tiny/constants.pkl", new Pickle().Op(')').Done()),
            ("tiny/data/0", Bytes(weight)),
            ("tiny/data/1", Bytes(head)),
            ("tiny/version", "3\n"u8.ToArray()),
        ];
    }

    /// <summary>Writes the archive: stored (uncompressed) entries with a fixed timestamp.</summary>
    public static void Write(string path)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in Entries())
        {
            var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
            entry.LastWriteTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using var s = entry.Open();
            s.Write(bytes);
        }
    }

    private static byte[] Bytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>The few protocol-2 pickle opcodes a TorchScript data.pkl needs.</summary>
    private sealed class Pickle
    {
        private readonly MemoryStream _bytes = new();

        public Pickle() => _bytes.Write([0x80, 2]);                                   // PROTO 2

        public Pickle Op(char op) => Op((byte)op);

        public Pickle Op(byte op)
        {
            _bytes.WriteByte(op);
            return this;
        }

        public Pickle Global(string module, string name)
        {
            Op('c');
            _bytes.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
            return this;
        }

        public Pickle Str(string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            Op('X');
            _bytes.Write(BitConverter.GetBytes(utf8.Length));
            _bytes.Write(utf8);
            return this;
        }

        public Pickle Int(int v)
        {
            Op('J');
            _bytes.Write(BitConverter.GetBytes(v));
            return this;
        }

        /// <summary>torch._utils._rebuild_tensor_v2((storage pid), offset 0, size, stride, requires_grad False, OrderedDict()).</summary>
        public Pickle Tensor(string key, int numel, int[] size)
        {
            Global("torch._utils", "_rebuild_tensor_v2").Op('(');
            Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel).Op('t').Op('Q');  // BINPERSID
            Int(0);
            Op('(');
            foreach (var s in size) Int(s);
            Op('t').Op('(');
            int stride = 1;
            var strides = new int[size.Length];
            for (int i = size.Length - 1; i >= 0; i--)
            {
                strides[i] = stride;
                stride *= size[i];
            }
            foreach (var s in strides) Int(s);
            Op('t').Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R');
            return Op('t').Op('R');
        }

        public byte[] Done()
        {
            Op('.');
            return _bytes.ToArray();
        }
    }
}
