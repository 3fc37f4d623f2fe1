using System.Collections;
using System.IO.Compression;
using System.Text;
using TorchSharp;
using TorchSharp.PyBridge;
using XraySynth.Classifier.Models;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Tests.Support;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public sealed class GanExportTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>A conditional smoke snapshot whose G, D and G_ema all differ (and w_avg is not zero).</summary>
    private string Snapshot()
    {
        var cfg = NetworkPresets.Create("smoke", 16, 1, cDim: 2);
        using var g = new Generator(cfg.G);
        using var d = new Discriminator(cfg.D);
        using var gEma = new Generator(cfg.G);
        using (no_grad())
        {
            var gen = new torch.Generator(5);
            foreach (var p in gEma.parameters()) p.copy_(randn(p.shape, generator: gen));
            gEma.Mapping.UpdateWAvg(randn(8, cfg.G.WDim, generator: gen));
        }
        var dir = _tmp.Combine("network-snapshot-000004");
        GanSnapshot.Save(dir, g, d, gEma);
        return dir;
    }

    [Fact]
    public void Export_RoundTrip_GivesBackEveryTensorOfG_D_And_G_ema()
    {
        var snap = Snapshot();
        var file = _tmp.Combine("out", "net.pt");
        using var scope = NewDisposeScope();

        var count = GanExport.Write(snap, file);

        var reader = SnapshotReader.Open(snap);
        var parts = GanExport.Read(file);
        Assert.Equal(["D", "G", "G_ema"], parts.Keys.Order(StringComparer.Ordinal));
        var total = 0;
        foreach (var name in parts.Keys)
        {
            var expected = reader.ReadTensors(name);
            var actual = parts[name];
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, t) in expected)
            {
                Assert.Equal(t.shape, actual[key].shape);
                Assert.Equal(t.dtype, actual[key].dtype);
                Assert.True(t.equal(actual[key]).all().item<bool>(), $"{name}.{key} differs");
            }
            total += expected.Count;
        }
        Assert.Equal(total, count);
        Assert.Contains("mapping.w_avg", parts["G_ema"].Keys);
        Assert.False(parts["G"]["synthesis.b4.const"].equal(parts["G_ema"]["synthesis.b4.const"]).all().item<bool>());
    }

    [Fact]
    public void Export_CarriesTheOfficialConstructorKwargs()
    {
        var file = _tmp.Combine("net.pt");
        GanExport.Write(Snapshot(), file);
        using var stream = File.OpenRead(file);
        using var scope = NewDisposeScope();
        var table = PyTorchUnpickler.UnpickleStateDict(stream);
        var g = (Hashtable)table["G_kwargs"]!;
        Assert.Equal((32, 2, 32, 16, 1), ((int)g["z_dim"]!, (int)g["c_dim"]!, (int)g["w_dim"]!, (int)g["img_resolution"]!, (int)g["img_channels"]!));
        Assert.Equal(2, (int)((Hashtable)g["mapping_kwargs"]!)["num_layers"]!);
        var synthesis = (Hashtable)g["synthesis_kwargs"]!;
        Assert.Equal((512, 32, 256, "skip"), ((int)synthesis["channel_base"]!, (int)synthesis["channel_max"]!, (int)synthesis["conv_clamp"]!, (string)synthesis["architecture"]!));
        var d = (Hashtable)table["D_kwargs"]!;
        Assert.Equal("resnet", d["architecture"]);
        Assert.Equal(NetworkPresets.SmokeMbstdGroup, (int)((Hashtable)d["epilogue_kwargs"]!)["mbstd_group_size"]!);
        // The official Discriminator passes w_avg_beta=None to its mapping itself: a second one would be a TypeError.
        Assert.False(((Hashtable)d["mapping_kwargs"]!).ContainsKey("w_avg_beta"));
    }

    [Fact]
    public void Export_UsesOnlyGlobalsThatTorchLoadWeightsOnlyAllows()
    {
        var file = _tmp.Combine("net.pt");
        GanExport.Write(Snapshot(), file);
        using var zip = ZipFile.OpenRead(file);
        var pkl = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        using var ms = new MemoryStream();
        using (var s = pkl.Open()) s.CopyTo(ms);
        var bytes = ms.ToArray();
        var (ops, globals) = Walk(bytes);
        Assert.Contains("torch._utils._rebuild_tensor_v2", globals);
        Assert.All(globals, gl => Assert.Contains(gl, new[] { "torch._utils._rebuild_tensor_v2", "collections.OrderedDict", "torch.FloatStorage" }));
        // The opcodes torch 1.13's weights_only unpickler implements (torch/_weights_only_unpickler.py); it has no
        // BINFLOAT, so default kwargs must carry no floats.
        const string known = "c\x81R b a e s u ( t \x85\x86\x87 N \x88\x89 ) ] } \x8f J K M X U Q \x8a h j q r \x80 .";
        var allowed = known.Replace(" ", "");
        Assert.All(ops, op => Assert.True(allowed.Contains((char)op), $"opcode 0x{op:x2} ('{(char)op}') is not read by torch 1.13 weights_only"));
    }

    /// <summary>The opcodes of a protocol-2 pickle and its GLOBALs ("module.name"); fails on an opcode it does not know.</summary>
    private static (List<byte> Ops, HashSet<string> Globals) Walk(byte[] b)
    {
        var ops = new List<byte>();
        var globals = new HashSet<string>();
        var i = 0;
        int Line()
        {
            var end = Array.IndexOf(b, (byte)'\n', i);
            var start = i;
            i = end + 1;
            return end - start;
        }
        while (i < b.Length)
        {
            var op = b[i++];
            ops.Add(op);
            switch ((char)op)
            {
                case 'c':
                    var m0 = i; var ml = Line(); var n0 = i; var nl = Line();
                    globals.Add(Encoding.ASCII.GetString(b, m0, ml) + "." + Encoding.ASCII.GetString(b, n0, nl));
                    break;
                case 'X': i += 4 + BitConverter.ToInt32(b, i); break;          // BINUNICODE
                case 'U': i += 1 + b[i]; break;                                // SHORT_BINSTRING
                case '\x8a': i += 1 + b[i]; break;                             // LONG1
                case 'J': case 'r': case 'j': i += 4; break;                   // BININT, LONG_BINPUT, LONG_BINGET
                case 'K': case 'q': case 'h': i += 1; break;                   // BININT1, BINPUT, BINGET
                case 'M': i += 2; break;                                       // BININT2
                case 'G': i += 8; break;                                       // BINFLOAT
                case '\x80': i += 1; break;                                    // PROTO
                case '.': return (ops, globals);
                default:
                    Assert.True("\x81Rbaesu(t\x85\x86\x87N\x88\x89)]}\x8fQ".Contains((char)op), $"unknown pickle opcode 0x{op:x2} at {i - 1}");
                    break;
            }
        }
        Assert.Fail("no STOP opcode");
        return (ops, globals);
    }

    [Fact]
    public void ExportOnly_G_ema_IsAFlatStateDict_ThatOurCheckpointReaderLoads()
    {
        var snap = Snapshot();
        var file = _tmp.Combine("g_ema.pt");
        using var scope = NewDisposeScope();
        GanExport.Write(snap, file, only: GanSnapshot.GEma);

        var (format, state) = ImageNetWeights.ReadStateDict(file);
        Assert.Equal("pytorch-zip", format);
        using var g = GanSnapshot.LoadGenerator(snap);
        var expected = g.state_dict();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), state.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, kv => Assert.True(kv.Value.equal(state[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Equal([""], GanExport.Read(file).Keys);
    }

    [Fact]
    public void GanExport_Cli_WritesTheFile_AndRefusesAMissingSnapshot()
    {
        var snap = Snapshot();
        var file = _tmp.Combine("cli.pt");
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, XraySynth.Cli.Cli.Run(["gan", "export", "--network", snap, "--out", file], output, error));
        Assert.Contains("wrote " + file, output.ToString());
        Assert.True(File.Exists(file));

        error = new StringWriter();
        Assert.Equal(2, XraySynth.Cli.Cli.Run(["gan", "export", "--network", _tmp.Combine("nope"), "--out", file], output, error));
        Assert.Contains("does not exist", error.ToString());
        Assert.Equal(2, XraySynth.Cli.Cli.Run(["gan", "export", "--network", snap, "--out", file, "--only", "H"], output, new StringWriter()));
    }
}
