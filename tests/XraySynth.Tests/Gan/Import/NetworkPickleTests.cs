using XraySynth.Gan.Import;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan.Import;

/// <summary>
/// The importer on pickles of the official structure (tests/fixtures/stylegan2-pickles, written by make_fixtures.py with
/// placeholder source): architecture from init_kwargs, tensors by name with their values, hostile pickles refused.
/// </summary>
public class NetworkPickleTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "stylegan2-pickles", name);

    /// <summary>The fixture rule: the k-th key (ordinal order) holds ((7 j + 13 k) mod 101) / 101 - 0.5 at element j.</summary>
    private static void AssertRuleValues(nn.Module module, string what)
    {
        var state = module.state_dict();
        var keys = state.Keys.Order(StringComparer.Ordinal).ToList();
        using var filter = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        for (var k = 0; k < keys.Count; k++)
        {
            var t = state[keys[k]];
            using var scope = NewDisposeScope();
            var expected = keys[k].EndsWith("resample_filter", StringComparison.Ordinal)
                ? filter
                : ((arange(t.numel(), ScalarType.Int64) * 7 + 13 * k).remainder(101).to(ScalarType.Float32) / 101 - 0.5).reshape(t.shape);
            Assert.True(t.allclose(expected, 0, 1e-7), $"{what} '{keys[k]}' does not hold the fixture's values");
        }
    }

    [Fact]
    public void Import_TinyRgbPickle_ArchitectureFromInitKwargs_EveryTensorByName()
    {
        using var tmp = new TempDir();
        var (arch, info) = NetworkImport.Run(Fixture("tiny-rgb-8px.pkl"), tmp.Combine("snap"));
        Assert.Equal(new GeneratorConfig
        {
            ZDim = 4, WDim = 4, CDim = 0, ImgResolution = 8, ImgChannels = 3,
            Mapping = new MappingConfig { NumLayers = 2 },
            Synthesis = new SynthesisConfig { ChannelBase = 16, ChannelMax = 4, NumFp16Res = 4, ConvClamp = 256 },
        }, arch.G);
        Assert.Equal(new DiscriminatorConfig
        {
            CDim = 0, ImgResolution = 8, ImgChannels = 3, ChannelBase = 16, ChannelMax = 4, NumFp16Res = 4, ConvClamp = 256,
            MbstdGroupSize = 4,
        }, arch.D);
        Assert.Equal(8, info.TrainingResolution);
        Assert.False(info.TrainingUseLabels);

        using var nets = GanSnapshot.Load(tmp.Combine("snap"));
        AssertRuleValues(nets.G, "G");
        AssertRuleValues(nets.GEma, "G_ema");
        AssertRuleValues(nets.D, "D");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var img = nets.GEma.call(ones(2, 4), null, 1.0, null, NoiseMode.Const, false);
        Assert.Equal([2L, 3, 8, 8], img.shape);
        Assert.True(img.isfinite().all().item<bool>());
    }

    [Fact]
    public void Import_Protocol3ConditionalGreyPickle_ReadsGlobalOpcodesSetsAndLabels()
    {
        var (arch, nets, info) = NetworkImport.Load(Fixture("tiny-grey-cond-8px-p3.pkl"));
        using (nets)
        {
            Assert.Equal(2, arch.G.CDim);
            Assert.Equal(1, arch.G.ImgChannels);
            Assert.Equal(2, arch.D.CDim);
            Assert.True(info.TrainingUseLabels);
            AssertRuleValues(nets.G, "G");
            AssertRuleValues(nets.D, "D");
            Assert.Contains("mapping.embed.weight", nets.G.state_dict().Keys);
            Assert.Contains("mapping.fc7.weight", nets.D.state_dict().Keys);
        }
    }

    [Theory]
    [InlineData("hostile-os-system.pkl", "global 'os.system'")]
    [InlineData("hostile-builtins-eval.pkl", "global 'builtins.eval'")]
    [InlineData("hostile-unknown-callable.pkl", "global 'torch.serialization.load'")]
    [InlineData("hostile-wrong-shape.pkl", "'mapping.fc0.weight' is [4, 4, 1], the architecture in its init_kwargs needs [4, 4]")]
    [InlineData("hostile-missing-key.pkl", "missing 'b4.fc.bias' [4]")]
    public void Import_HostilePickle_IsRefusedByName_AndWritesNothing(string file, string expected)
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<DataException>(() => NetworkImport.Run(Fixture(file), tmp.Combine("snap")));
        Assert.Contains(expected, e.Message);
        Assert.Contains(Fixture(file), e.Message);
        Assert.Contains("fix:", e.Message);
        Assert.False(Directory.Exists(tmp.Combine("snap")));
    }

    [Fact]
    public void Import_TruncatedPickle_IsRefusedAsTruncated()
    {
        using var tmp = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("tiny-rgb-8px.pkl"));
        var cut = tmp.Combine("cut.pkl");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DataException>(() => NetworkImport.Run(cut, tmp.Combine("snap")));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Unpickler_HugeLengthField_IsRefusedBeforeAllocating()
    {
        // BINBYTES claiming 2 GB in a 10-byte pickle.
        byte[] data = [0x80, 0x04, (byte)'B', 0xff, 0xff, 0xff, 0x7f, (byte)'.'];
        var e = Assert.Throws<PickleRefusedException>(() => NetworkPickle.Read(data));
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void Cli_GanImport_HostilePickle_ExitsTwo_GoodPickle_WritesSnapshot()
    {
        using var tmp = new TempDir();
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, XraySynth.Cli.Cli.Run(["gan", "import", Fixture("hostile-os-system.pkl"), "--out", tmp.Combine("bad")], output, error));
        Assert.Contains("os.system", error.ToString());
        Assert.Equal(0, XraySynth.Cli.Cli.Run(["gan", "import", Fixture("tiny-rgb-8px.pkl"), "--out", tmp.Combine("good")], output, error));
        Assert.True(File.Exists(tmp.Combine("good", "snapshot.json")));
        Assert.Contains("8x8, 3 channel(s)", output.ToString());
    }
}
