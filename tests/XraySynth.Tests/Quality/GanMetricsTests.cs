using System.Text.Json.Nodes;
using XraySynth.Cli.Commands;
using XraySynth.Data;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Imaging;
using XraySynth.Quality;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Quality;

public class GanMetricsTests
{
    private static MetricsOptions Options(TempDir tmp, string data, string? images = null, string? network = null) => new()
    {
        Images = images, Network = network, Data = data, Detector = "builtin", Device = DeviceChoice.Cpu,
        CacheDir = tmp.Combine("cache"), Metrics = [QualityMetric.Fid, QualityMetric.Kid, QualityMetric.Pr], Batch = 8,
    };

    private static List<JsonObject> Lines(string file) => File.ReadAllLines(file).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    [Fact]
    public void Run_TheRealsThemselves_FidZero_PrecisionRecallOne_AppendedAsJsonLines()
    {
        using var tmp = new TempDir();
        var (zip, train) = QualityFixture.TrainingZip(tmp.Combine("data"), 24);
        var gen = tmp.Combine("gen");
        QualityFixture.Folder(gen, train, cls: "");
        var report = GanMetrics.Run(Options(tmp, zip, images: gen));

        Assert.Equal(["fid24_full-builtin", "kid24_full-builtin", "pr24_3_full-builtin"], report.Results.Select(r => r.Metric));
        var fid = report.Results[0].Results;
        Assert.InRange(fid["fid24_full-builtin"], 0, 1e-6 * fid["fd_real_halves"]);
        Assert.True(fid["fd_real_halves"] > 0);
        Assert.Equal(fid["fid24_full-builtin"] / fid["fd_real_halves"], fid["relative_fd"]);
        // Identical sets: the unbiased estimate is 2/(m−1)·(1ᵀK1/m − tr K) ≤ 0 (K positive semi-definite), close to 0.
        Assert.InRange(report.Results[1].Results["kid24_full-builtin"], -0.1 * fid["fd_real_halves"], 0);
        Assert.Equal(1.0, report.Results[2].Results["pr24_3_full-builtin_precision"]);
        Assert.Equal(1.0, report.Results[2].Results["pr24_3_full-builtin_recall"]);

        // One JSON object per line in the official layout, in the images folder; a rerun appends.
        GanMetrics.Run(Options(tmp, zip, images: gen) with { Metrics = [QualityMetric.Fid] });
        var lines = Lines(Path.Combine(gen, "metric-fid24_full-builtin.jsonl"));
        Assert.Equal(2, lines.Count);
        Assert.Equal("fid24_full-builtin", lines[0]["metric"]!.GetValue<string>());
        Assert.Equal(fid["fid24_full-builtin"], lines[0]["results"]!["fid24_full-builtin"]!.GetValue<double>());
        Assert.Equal(lines[0]["results"]!.ToJsonString(), lines[1]["results"]!.ToJsonString());
        foreach (var key in new[] { "total_time", "total_time_str", "timestamp", "num_real", "num_gen", "detector_sha256" }) Assert.NotNull(lines[0][key]);
        Assert.False(lines[0]["comparable_to_published"]!.GetValue<bool>());
    }

    [Fact]
    public void Run_ImagesUnlikeTheReals_FarAndOffTheManifold()
    {
        using var tmp = new TempDir();
        var (zip, train) = QualityFixture.TrainingZip(tmp.Combine("data"), 24);
        var near = tmp.Combine("near");
        var far = tmp.Combine("far");
        QualityFixture.Folder(near, Enumerable.Range(0, 24).Select(i => QualityFixture.Phantom(7000 + i, i % 2)).ToList(), cls: "");
        QualityFixture.Folder(far, Enumerable.Range(0, 24).Select(i => QualityFixture.Noised(RasterImage.Blank(64, 64, 1, 128), 60, i)).ToList(), cls: "");
        var a = GanMetrics.Run(Options(tmp, zip, images: near));
        var b = GanMetrics.Run(Options(tmp, zip, images: far));
        double fdNear = a.Results[0].Results["fid24_full-builtin"], fdFar = b.Results[0].Results["fid24_full-builtin"];
        Assert.True(fdFar > 10 * fdNear, $"noise {fdFar} vs new phantoms {fdNear}");
        Assert.True(b.Results[1].Results["kid24_full-builtin"] > 10 * Math.Abs(a.Results[1].Results["kid24_full-builtin"]));
        Assert.Equal(0.0, b.Results[2].Results["pr24_3_full-builtin_precision"]);
        Assert.True(a.Results[2].Results["pr24_3_full-builtin_precision"] > 0.5);
    }

    /// <summary>FID and the memorisation audit of 8 of the 16 training images of a fresh zip, with a cache in tmp.</summary>
    private static (MetricsOptions Options, string Zip) FidAndAuditOfTrainingImages(TempDir tmp)
    {
        var (zip, train) = QualityFixture.TrainingZip(tmp.Combine("data"), 16);
        var gen = tmp.Combine("gen");
        QualityFixture.Folder(gen, train.Take(8).ToList(), cls: "");
        return (Options(tmp, zip, images: gen) with { Metrics = [QualityMetric.Fid, QualityMetric.Memorization] }, zip);
    }

    [Fact]
    public void Run_SecondRun_ReadsRealFeaturesFromTheCache_OtherDataGetsAnotherKey()
    {
        using var tmp = new TempDir();
        var (options, zip) = FidAndAuditOfTrainingImages(tmp);
        var first = GanMetrics.Run(options);
        Assert.Empty(first.CacheHits);
        var files = Directory.GetFiles(tmp.Combine("cache"), "*.safetensors").Select(f => Path.GetFileName(f)).Order().ToList();
        Assert.Equal(3, files.Count);                                   // features, mirrored features, pixel vectors
        Assert.All(files, f => Assert.StartsWith("gan-64-", f));
        Assert.All(files, f => Assert.True(File.Exists(Path.Combine(tmp.Combine("cache"), Path.ChangeExtension(f, ".json")))));

        var second = GanMetrics.Run(options);
        Assert.Equal(3, second.CacheHits.Count);
        Assert.Equal(first.Results[0].Results, second.Results[0].Results);
        Assert.Equal(first.Audit!.Feature.Threshold, second.Audit!.Feature.Threshold);

        // Same file name, other content: a new key, computed afresh.
        var (zip2, _) = QualityFixture.TrainingZip(tmp.Combine("data2"), 16, seed: 3000);
        File.Copy(zip2, zip, overwrite: true);
        var third = GanMetrics.Run(options with { Metrics = [QualityMetric.Fid] });
        Assert.Empty(third.CacheHits);
        Assert.NotEqual(first.Results[0].Results["fid8_full-builtin"], third.Results[0].Results["fid8_full-builtin"]);
        Assert.Equal(4, Directory.GetFiles(tmp.Combine("cache"), "*.safetensors").Length);
        // A damaged cache file is recomputed, not trusted.
        foreach (var f in Directory.GetFiles(tmp.Combine("cache"), "*.safetensors")) File.WriteAllText(f, "garbage");
        Assert.Empty(GanMetrics.Run(options with { Metrics = [QualityMetric.Fid] }).CacheHits);
    }

    [Fact]
    public void Run_CacheEntryWithAnotherDtypeOrShape_IsRecomputedNotTrusted()
    {
        using var tmp = new TempDir();
        var (options, zip) = FidAndAuditOfTrainingImages(tmp);
        var first = GanMetrics.Run(options);
        var files = Directory.GetFiles(tmp.Combine("cache"), "*.safetensors");
        var featuresFile = files.Single(f => Path.GetFileName(f).Contains("-features-"));
        var pixelsFile = files.Single(f => Path.GetFileName(f).Contains("-pixels"));
        // Same keys and row counts, other dtypes: int32 features (the bytes would read as nonsense floats) and
        // float pixel vectors; and a covariance of the wrong shape. Each must be recomputed.
        var f = XraySynth.Runtime.SafetensorsFile.Load(featuresFile);
        XraySynth.Quality.FeatureCache.Save(featuresFile, new Dictionary<string, TorchSharp.torch.Tensor>
        {
            ["features"] = f["features"].to(TorchSharp.torch.ScalarType.Int32), ["mean"] = f["mean"], ["cov"] = f["cov"],
        }, new System.Text.Json.Nodes.JsonObject());
        var p = XraySynth.Runtime.SafetensorsFile.Load(pixelsFile);
        XraySynth.Quality.FeatureCache.Save(pixelsFile, new Dictionary<string, TorchSharp.torch.Tensor>
        {
            ["pixels"] = p["pixels"].to(TorchSharp.torch.ScalarType.Float32),
        }, new System.Text.Json.Nodes.JsonObject());
        var second = GanMetrics.Run(options);
        Assert.DoesNotContain(featuresFile, second.CacheHits);
        Assert.DoesNotContain(pixelsFile, second.CacheHits);
        Assert.Equal(first.Results[0].Results, second.Results[0].Results);
        Assert.Equal(first.Audit!.Pixel.Threshold, second.Audit!.Pixel.Threshold);

        XraySynth.Quality.FeatureCache.Save(featuresFile, new Dictionary<string, TorchSharp.torch.Tensor>
        {
            ["features"] = f["features"], ["mean"] = f["mean"], ["cov"] = f["cov"][..1],
        }, new System.Text.Json.Nodes.JsonObject());
        Assert.DoesNotContain(featuresFile, GanMetrics.Run(options).CacheHits);
    }

    [Fact]
    public void Run_Network_MeasuresSeedsOfItsGenerator_WritesIntoTheRunFolder()
    {
        using var tmp = new TempDir();
        var (zip, _) = QualityFixture.TrainingZip(tmp.Combine("data"), 12, size: 16);
        var cfg = NetworkPresets.Create("smoke", 16, 1, 2);
        var snap = tmp.Combine("runs", "00000-gan-smoke", "network-snapshot-000004");
        using (var g = new Generator(cfg.G))
        using (var d = new Discriminator(cfg.D))
        using (var gEma = new Generator(cfg.G))
            GanSnapshot.Save(snap, g, d, gEma);

        var report = GanMetrics.Run(Options(tmp, zip, network: snap) with { Count = 10, Class = "positive", Metrics = [QualityMetric.Fid, QualityMetric.Memorization] });
        Assert.Equal(tmp.Combine("runs", "00000-gan-smoke"), report.OutDir);
        Assert.Equal((10, 6, "positive"), (report.SyntheticImages, report.RealImages, report.Class));      // the 6 positive reals
        var line = Assert.Single(Lines(Path.Combine(report.OutDir, "metric-fid10_full-builtin-positive.jsonl")));
        Assert.Equal("network-snapshot-000004", line["snapshot_pkl"]!.GetValue<string>());
        var audit = File.ReadAllLines(Path.Combine(report.OutDir, "memorization-network-snapshot-000004.csv"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"seed{i:D6}.png"), audit.Skip(1).Select(l => l.Split(',')[0]).Order());

        // Without --class, a conditional model's classes are drawn with the reals' label frequencies.
        var both = GanMetrics.Run(Options(tmp, zip, network: snap) with { Count = 10, Metrics = [QualityMetric.Fid] });
        Assert.Equal((12, null), (both.RealImages, both.Class));
        Assert.Contains("expected positive or negative", Assert.Throws<DataException>(() => GanMetrics.Run(Options(tmp, zip, network: snap) with { Class = "abnormal" })).Message);
    }

    [Fact]
    public void Cli_MetricsAndFilter_EndToEnd()
    {
        using var tmp = new TempDir();
        var (zip, train) = QualityFixture.TrainingZip(tmp.Combine("data"), 20);
        var gen = tmp.Combine("gen");
        var images = Enumerable.Range(0, 6).Select(i => QualityFixture.Phantom(9000 + i, 0)).Append(train[4]).ToList();
        var files = QualityFixture.Folder(gen, images, cls: "");
        var root = new System.CommandLine.RootCommand { GanMetricsCommand.Create(), GanMetricsCommand.CreateFilter() };
        (int Code, string Out) Run(params string[] args)
        {
            var output = new StringWriter();
            var config = new System.CommandLine.InvocationConfiguration { Output = output, Error = output, EnableDefaultExceptionHandler = false };
            return (root.Parse(args).Invoke(config), output.ToString());
        }

        var metrics = Run("metrics", "--images", gen, "--data", tmp.Combine("data"), "--metrics", "fid,memorization", "--detector", "builtin",
            "--device", "cpu", "--cache", tmp.Combine("cache"));
        Assert.Equal(0, metrics.Code);
        Assert.Contains("fid7_full-builtin", metrics.Out);
        Assert.Contains("relative_fd", metrics.Out);
        Assert.Contains("memorisation: 1 of 7 flagged", metrics.Out);
        var filter = Run("filter", "--images", gen);
        Assert.Equal(0, filter.Code);
        Assert.Contains("dropped 1 flagged image(s), kept 6", filter.Out);
        Assert.DoesNotContain(files[6], SyntheticManifest.Read(gen).Select(r => r.File));

        Assert.Throws<DataException>(() => Run("metrics", "--images", gen, "--network", "x", "--data", zip, "--detector", "builtin"));
        Assert.NotEqual(0, Run("metrics", "--images", gen).Code);                                  // --data is required
        Assert.Contains("--metrics 'fjd'", Assert.Throws<DataException>(() => Run("metrics", "--images", gen, "--data", zip, "--metrics", "fjd")).Message);
    }
}
