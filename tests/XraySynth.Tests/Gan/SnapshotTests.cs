using XraySynth.Runtime;
using TorchSharp;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public sealed class SnapshotTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xraysynth-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private static (Generator G, Discriminator D, Generator GEma) Networks(int seed = 41)
    {
        manual_seed(seed);
        var cfg = NetworkPresets.Create("smoke", 16, 1, cDim: 2);
        var g = new Generator(cfg.G);
        var d = new Discriminator(cfg.D);
        var gEma = new Generator(cfg.G);
        using (no_grad())
        {
            // Non-default buffers and parameters, so a silent re-initialisation would be caught.
            gEma.Mapping.UpdateWAvg(randn(8, cfg.G.WDim));
            foreach (var (_, p) in gEma.named_parameters().Where(p => p.name.EndsWith("noise_strength")))
                p.fill_(0.3);
        }
        return (g, d, gEma);
    }

    private string SaveSnapshot(string name = "network-snapshot-000000")
    {
        var (g, d, gEma) = Networks();
        var dir = Path.Combine(_root, name);
        GanSnapshot.Save(dir, g, d, gEma);
        g.Dispose();
        d.Dispose();
        gEma.Dispose();
        return dir;
    }

    [Fact]
    public void SaveThenLoad_GivesIdenticalOutputsAndArchitecture()
    {
        var (g, d, gEma) = Networks();
        var dir = Path.Combine(_root, "network-snapshot-000010");
        GanSnapshot.Save(dir, g, d, gEma);
        Assert.Equal(
            ["D.safetensors", "G.safetensors", "G_ema.safetensors", "snapshot.json"],
            Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Single(Directory.GetDirectories(_root)); // no temporary folder left behind

        using var loaded = GanSnapshot.Load(dir);
        Assert.Equal(g.Config, loaded.G.Config);
        Assert.Equal(d.Config, loaded.D.Config);
        foreach (var net in new nn.Module[] { g, d, gEma, loaded.G, loaded.D, loaded.GEma })
            net.eval();

        using var scope = NewDisposeScope();
        var z = randn(3, g.ZDim);
        var c = eye(2)[tensor(new long[] { 0, 1, 1 })];
        Assert.True(gEma.call(z, c, 0.7, null, NoiseMode.Const, false)
            .equal(loaded.GEma.call(z, c, 0.7, null, NoiseMode.Const, false)).all().item<bool>());
        Assert.True(g.call(z, c, 1.0, null, NoiseMode.Const, false)
            .equal(loaded.G.call(z, c, 1.0, null, NoiseMode.Const, false)).all().item<bool>());
        var img = randn(3, 1, 16, 16);
        Assert.True(d.call(img, c).equal(loaded.D.call(img, c)).all().item<bool>());
        Assert.True(gEma.Mapping.WAvg!.equal(loaded.GEma.Mapping.WAvg!).all().item<bool>());
        g.Dispose();
        d.Dispose();
        gEma.Dispose();
    }

    [Fact]
    public void ArchitectureJson_RoundTripsEveryConstructorArgument()
    {
        var cfg = NetworkPresets.Create("cifar", 32, 3, cDim: 10);
        var arch = new GanArchitecture(cfg.G, cfg.D with { FreezeLayers = 2, CmapDim = 64 });
        var json = System.Text.Json.JsonSerializer.Serialize(arch, NetworkJson.Options);
        Assert.Contains("\"channel_base\": 32768", json);
        Assert.Contains("\"architecture\": \"orig\"", json);
        Assert.Contains("\"mbstd_group_size\": 32", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<GanArchitecture>(json, NetworkJson.Options)!;
        Assert.Equal(arch.G, back.G);
        Assert.Equal(arch.D, back.D);
    }

    [Fact]
    public void SnapshotWithMissingAndMisshapenTensors_NamesEveryProblem()
    {
        var (g, d, gEma) = Networks();
        var dir = Path.Combine(_root, "bad");
        new SnapshotWriter()
            .AddSection(GanSnapshot.NetworksSection, new GanArchitecture(g.Config, d.Config), NetworkJson.Options)
            .AddModule(GanSnapshot.G, g)
            .AddModule(GanSnapshot.D, d)
            .AddTensors(GanSnapshot.GEma, () =>
            {
                var sd = gEma.state_dict();
                sd.Remove("synthesis.b8.conv0.weight");
                sd["synthesis.b4.const"] = zeros(5, 4, 4);
                sd["extra.weight"] = zeros(2);
                return sd;
            })
            .Commit(dir);

        var ex = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir));
        Assert.Contains("G_ema.safetensors", ex.Message);
        Assert.Contains("missing tensor 'synthesis.b8.conv0.weight' [32, 32, 3, 3]", ex.Message);
        Assert.Contains("'synthesis.b4.const' has shape [5, 4, 4], the network expects [32, 4, 4]", ex.Message);
        Assert.Contains("unexpected tensor 'extra.weight'", ex.Message);
        Assert.Contains("Fix:", ex.Message);
        g.Dispose();
        d.Dispose();
        gEma.Dispose();
    }

    [Fact]
    public void TruncatedTensorFile_IsReportedWithItsName()
    {
        var dir = SaveSnapshot();
        var path = Path.Combine(dir, "D.safetensors");
        using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(stream.Length - 100);
        var ex = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir));
        Assert.Contains("D.safetensors", ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void CorruptedBytesOrMissingManifest_AreReported()
    {
        var dir = SaveSnapshot();
        var path = Path.Combine(dir, "G.safetensors");
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x55;
        File.WriteAllBytes(path, bytes);
        var corrupt = Assert.Throws<SnapshotException>(() => GanSnapshot.LoadGenerator(dir, GanSnapshot.G));
        Assert.Contains("G.safetensors", corrupt.Message);
        Assert.Contains("corrupt", corrupt.Message);

        File.Delete(Path.Combine(dir, "snapshot.json"));
        var incomplete = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir));
        Assert.Contains("snapshot.json", incomplete.Message);
        Assert.Contains("incomplete", incomplete.Message);

        var missing = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(Path.Combine(_root, "nope")));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void SavingOverAnExistingSnapshot_ReplacesItCompletely()
    {
        var dir = SaveSnapshot("latest");
        var (g, d, gEma) = Networks(seed: 99);
        GanSnapshot.Save(dir, g, d, gEma, extra => extra.AddSection("training_state", new { kimg = 12.5, ada_p = 0.1 }));
        Assert.Single(Directory.GetDirectories(_root));
        var reader = SnapshotReader.Open(dir);
        Assert.Equal(12.5, reader.GetSection<System.Text.Json.JsonElement>("training_state").GetProperty("kimg").GetDouble());
        using var loaded = GanSnapshot.LoadGenerator(dir, GanSnapshot.G);
        using var scope = NewDisposeScope();
        var expected = g.state_dict()["synthesis.b4.const"];
        Assert.True(loaded.state_dict()["synthesis.b4.const"].equal(expected).all().item<bool>());
        g.Dispose();
        d.Dispose();
        gEma.Dispose();
    }

    [Fact]
    public void EditedArchitectureInManifest_KeepingShapes_IsDetected()
    {
        var dir = SaveSnapshot();
        var manifest = Path.Combine(dir, "snapshot.json");
        var text = File.ReadAllText(manifest);
        // lr_multiplier changes the mapping network's output, not any tensor's shape.
        var edited = System.Text.RegularExpressions.Regex.Replace(text, @"(""lr_?multiplier""\s*:\s*)0\.01", "${1}0.5",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        Assert.NotEqual(text, edited);
        File.WriteAllText(manifest, edited);
        var ex = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir));
        Assert.Equal(manifest, ex.Path);
        Assert.Contains("manifest_sha256", ex.Message);
        Assert.Contains("edited", ex.Message);
    }

    [Fact]
    public void ManifestWhitespaceAndKeyOrder_DoNotBreakTheDigest()
    {
        var dir = SaveSnapshot();
        var manifest = Path.Combine(dir, "snapshot.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        File.WriteAllText(manifest, node.ToJsonString());      // compact, same content
        using var loaded = GanSnapshot.Load(dir);
        Assert.NotNull(loaded.G);
    }

    [Fact]
    public void Version1SnapshotWithoutDigest_IsStillRead()
    {
        var dir = SaveSnapshot();
        var manifest = Path.Combine(dir, "snapshot.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        Assert.NotNull(node["manifest_sha256"]);
        node.Remove("manifest_sha256");
        File.WriteAllText(manifest, node.ToJsonString());
        Assert.Contains("no manifest_sha256", Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir)).Message);
        node["format_version"] = 1;
        File.WriteAllText(manifest, node.ToJsonString());
        using var loaded = GanSnapshot.Load(dir);
        Assert.NotNull(loaded.GEma);
    }

    [Fact]
    public void TensorFileWithHostileHeader_IsReportedBeforeAnyTensorIsRead()
    {
        // An unknown dtype, with the manifest's size and hash updated to match (as a hand-edited file would be).
        var dir = SaveSnapshot();
        var path = Path.Combine(dir, "D.safetensors");
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);
        var patched = System.Text.RegularExpressions.Regex.Replace(header, @"(""dtype""\s*:\s*"")F32""", @"${1}Q32""");
        Assert.NotEqual(header, patched);
        var patchedBytes = System.Text.Encoding.UTF8.GetBytes(patched);
        Assert.Equal(headerLength, patchedBytes.Length);
        patchedBytes.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var manifest = Path.Combine(dir, "snapshot.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        node["files"]!["D"]!["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        node.Remove("manifest_sha256");
        node["format_version"] = 1;
        File.WriteAllText(manifest, node.ToJsonString());
        var ex = Assert.Throws<SnapshotException>(() => GanSnapshot.Load(dir));
        Assert.Contains("D.safetensors", ex.Message);
        Assert.Contains("Q32", ex.Message);
    }
}
