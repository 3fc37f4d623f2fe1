using XraySynth.Gan.Import;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Gan.Training;
using XraySynth.Tests.Support;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan.Import;

/// <summary>The transfer rules with our own networks: RGB → grey by luma, a new label path, the resolution check.</summary>
public class TransferTests
{
    /// <summary>Networks with every weight moved off its initial value (biases are zero at init; they must count too).</summary>
    private static GanNetworks Perturbed(NetworkConfigs cfg, int seed)
    {
        using var gen = new TorchSharp.torch.Generator((ulong)seed);
        var nets = new GanNetworks(new Generator(cfg.G), new Discriminator(cfg.D), new Generator(cfg.G));
        using var noGrad = no_grad();
        foreach (var m in new nn.Module[] { nets.G, nets.D, nets.GEma })
        {
            m.eval();
            foreach (var (key, t) in m.state_dict())
            {
                if (!key.EndsWith("resample_filter", StringComparison.Ordinal))
                    t.add_(randn(t.shape, generator: gen) * 0.3);
            }
        }
        return nets;
    }

    [Fact]
    public void RgbToGrey_GreyGeneratorGivesTheLumaOfTheRgbImages_AndDSeesGreyAsGreyRgb()
    {
        var rgb = NetworkPresets.Create("smoke", 16, 3);
        using var source = Perturbed(rgb, 1);
        var grey = Transfer.TargetArchitecture(new GanArchitecture(rgb.G, rgb.D), "src", 16, 1, 0, 0);
        using var g = new Generator(grey.G);
        using var d = new Discriminator(grey.D);
        using var gEma = new Generator(grey.G);
        var report = Transfer.Apply(source, g, d, gEma, "src");
        Assert.Contains("G.synthesis.b16.torgb.weight", report.Converted);
        Assert.Contains("G_ema.synthesis.b4.torgb.bias", report.Converted);
        Assert.Contains("D.b16.fromrgb.weight", report.Converted);
        Assert.Empty(report.Fresh);
        g.eval();
        d.eval();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = randn(8, rgb.G.ZDim, generator: new TorchSharp.torch.Generator(7));
        var rgbImg = source.G.call(z, null, 1.0, null, NoiseMode.Const, false);
        var luma = (rgbImg * tensor(Transfer.Luma, dtype: ScalarType.Float32).reshape(1, 3, 1, 1)).sum(1, keepdim: true);
        var greyImg = g.call(z, null, 1.0, null, NoiseMode.Const, false);
        Assert.True(rgbImg.std().item<float>() > 0.1f);
        Assert.True((greyImg - luma).abs().max().item<float>() < 1e-4f, "the grey image is not the luma of the RGB image");

        var dGrey = d.call(greyImg, null);
        var dRgb = source.D.call(greyImg.expand(8, 3, 16, 16), null);
        Assert.True((dGrey - dRgb).abs().max().item<float>() < 1e-4f, "D does not see grey g as it saw (g, g, g)");
    }

    [Fact]
    public void UnconditionalToConditional_LabelPathStartsFresh_LatentWeightsKept()
    {
        var uncond = NetworkPresets.Create("smoke", 16, 1);
        using var source = Perturbed(uncond, 2);
        var cond = Transfer.TargetArchitecture(new GanArchitecture(uncond.G, uncond.D), "src", 16, 1, 2, 0);
        using var g = new Generator(cond.G);
        using var d = new Discriminator(cond.D);
        using var gEma = new Generator(cond.G);
        var fresh = g.state_dict()["mapping.embed.weight"].clone();
        var report = Transfer.Apply(source, g, d, gEma, "src");
        Assert.Contains("G.mapping.embed.weight", report.Fresh);
        Assert.Contains("G.mapping.fc0.weight", report.Fresh);
        Assert.Contains("D.mapping.embed.weight", report.Fresh);
        Assert.Contains("D.b4.out.weight", report.Fresh);
        Assert.Contains("G.synthesis.b16.conv1.weight", report.Copied);
        Assert.True(g.state_dict()["mapping.embed.weight"].allclose(fresh));
        var z = uncond.G.ZDim;
        var fc0 = g.state_dict()["mapping.fc0.weight"];
        Assert.True(fc0.narrow(1, 0, z).allclose(source.G.state_dict()["mapping.fc0.weight"]), "the latent columns of fc0 must keep their weights");
        Assert.Equal(z + cond.G.WDim, fc0.shape[1]);
    }

    [Fact]
    public void ResolutionMismatch_IsAClearError()
    {
        var src = NetworkPresets.Create("smoke", 32, 3);
        var e = Assert.Throws<DataException>(() => Transfer.TargetArchitecture(new GanArchitecture(src.G, src.D), "ffhq.pkl", 16, 1, 0, 0));
        Assert.Contains("32x32", e.Message);
        Assert.Contains("16x16", e.Message);
        Assert.Contains("prepare --resolution 32", e.Message);
    }

    [Fact]
    public void ResolveTransferSource_AcceptsExistingPaths_RefusesUnknownNamesAndEmptyFolders()
    {
        using var tmp = new TempDir();
        var pkl = NetworkPickleTests.Fixture("tiny-rgb-8px.pkl");
        Assert.Equal(pkl, Transfer.ResolveTransferSource(pkl));
        // An unknown name is not looked up anywhere; the message lists the published names (downloads: WeightsCacheTests).
        var e = Assert.Throws<DataException>(() => Transfer.ResolveTransferSource("ffhq-typo"));
        Assert.Contains("not a published network name", e.Message);
        Assert.Contains("ffhq256", e.Message);
        Assert.Contains("fix:", e.Message);
        var empty = Assert.Throws<DataException>(() => Transfer.ResolveTransferSource(tmp.Path));
        Assert.Contains("snapshot.json", empty.Message);
    }
}

/// <summary>gan train --transfer and --freezed end to end on tiny runs.</summary>
[Collection(GanTrainingCollection.Name)]
public class TransferTrainingTests
{
    private static GanTrainRequest Smoke(string zip, string outRoot, double kimg) => new GanTrainRequest
    {
        Data = zip, OutRoot = outRoot, Device = DeviceChoice.Cpu, GridSize = (2, 2), QualitySamples = 32,
    }.With(o => o.Cfg, "smoke").With(o => o.Kimg, kimg).With(o => o.Tick, 0.032).With(o => o.Snap, 1);

    [Fact]
    public void TransferFromRgbRun_IntoGrey_WithFreezeD_FrozenLayersKeepTheSourceWeights()
    {
        using var tmp = new TempDir();
        var rgbZip = GanDatasets.Zip(tmp.Combine("rgb.zip"), count: 16, size: 16, labelled: false, channels: 3);
        var greyZip = GanDatasets.Zip(tmp.Combine("grey.zip"), count: 16, size: 16, labelled: false, channels: 1);
        var a = GanTrainer.Run(Smoke(rgbZip, tmp.Combine("a"), 0.016));
        var source = a.LastSnapshot!;

        var b = GanTrainer.Run(Smoke(greyZip, tmp.Combine("b"), 0.032).With(o => o.Transfer, source).With(o => o.Freezed, 2));
        var options = File.ReadAllText(Path.Combine(b.RunDir, "options.json"));
        Assert.Contains("\"adaKimg\": 100", options);
        // G_ema's ramp-up restarts with the transfer (the official resume drops it; measured worse, docs/benchmarks.md).
        Assert.Contains("\"emaRampup\": 0.05", options);
        Assert.Contains("transfer from", File.ReadAllText(Path.Combine(b.RunDir, "log.txt")));

        using var src = SnapshotReader.Open(source) is var rs ? new TensorSet(rs.ReadTensors("D")) : null!;
        using var dst = new TensorSet(SnapshotReader.Open(b.LastSnapshot!).ReadTensors("D"));
        // Freeze-D 2: b16.fromrgb and b16.conv0 are frozen (fromrgb summed over RGB, times sqrt(1/3) for the
        // equalized-LR gain), b16.conv1 trains.
        Assert.True(dst["b16.fromrgb.weight"].allclose(src["b16.fromrgb.weight"].sum(1, keepdim: true) * Math.Sqrt(1.0 / 3)));
        Assert.True(dst["b16.conv0.weight"].allclose(src["b16.conv0.weight"]));
        Assert.True(dst["b16.conv0.bias"].allclose(src["b16.conv0.bias"]));
        Assert.False(dst["b16.conv1.weight"].allclose(src["b16.conv1.weight"]), "an unfrozen layer must train");

        // Resume of the transfer run keeps its networks; a different --freezed is refused.
        var e = Assert.Throws<DataException>(() => GanTrainer.Run(Smoke(greyZip, tmp.Combine("b"), 0.064).With(o => o.Freezed, 1), "latest"));
        Assert.Contains("--freezed 1", e.Message);
        var c = GanTrainer.Run(Smoke(greyZip, tmp.Combine("b"), 0.048).Without(GanOptions.Of(o => o.Cfg)).With(o => o.Kimg, 0.048), "latest");
        Assert.True(c.Kimg > b.Kimg);
    }

    /// <summary>Tensors read from a snapshot file, disposed together.</summary>
    private sealed class TensorSet(Dictionary<string, Tensor> tensors) : IDisposable
    {
        public Tensor this[string key] => tensors[key];

        public void Dispose()
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
    }
}
