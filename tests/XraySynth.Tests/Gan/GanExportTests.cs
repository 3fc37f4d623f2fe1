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
        Assert.Equal(4, (int)((Hashtable)d["epilogue_kwargs"]!)["mbstd_group_size"]!);
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
        // Every GLOBAL opcode ('c' module\nname\n): torch's weights_only unpickler refuses anything else.
        var globals = new HashSet<string>();
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)'c') continue;
            var end1 = Array.IndexOf(bytes, (byte)'\n', i + 1);
            var end2 = end1 < 0 ? -1 : Array.IndexOf(bytes, (byte)'\n', end1 + 1);
            if (end2 < 0) continue;
            var module = Encoding.ASCII.GetString(bytes, i + 1, end1 - i - 1);
            var name = Encoding.ASCII.GetString(bytes, end1 + 1, end2 - end1 - 1);
            if (module is "torch._utils" or "collections" or "torch" or "array" or "builtins" || module.StartsWith("numpy", StringComparison.Ordinal))
                globals.Add(module + "." + name);
        }
        Assert.Contains("torch._utils._rebuild_tensor_v2", globals);
        Assert.All(globals, gl => Assert.Contains(gl, new[] { "torch._utils._rebuild_tensor_v2", "collections.OrderedDict", "torch.FloatStorage" }));
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
