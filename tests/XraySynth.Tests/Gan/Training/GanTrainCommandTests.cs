using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using XraySynth.Cli.Commands;
using XraySynth.Data;
using XraySynth.Gan.Snapshot;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Gan.Training;

[Collection(GanTrainingCollection.Name)]
public class GanTrainCommandTests
{
    private static (int Code, string Output) Invoke(params string[] args)
    {
        var root = new RootCommand { GanTrainCommand.Create() };
        var output = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = output, EnableDefaultExceptionHandler = false };
        var code = root.Parse(["train", .. args]).Invoke(config);
        return (code, output.ToString());
    }

    [Fact]
    public void GanTrain_SmokeRun_WritesTheRunFolderWithTheGivenOptionsResolved()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        var (code, output) = Invoke("--data", zip, "--out", tmp.Combine("runs"), "--cfg", "smoke", "--kimg", "0.016",
            "--tick", "0.008", "--label", "negative", "--aug", "fixed", "--p", "0.3", "--augpipe", "bg", "--seed", "7",
            "--keep-snapshots", "1", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("trained to kimg 0.016", output);
        Assert.Contains("sec/kimg", output);
        var run = Directory.GetDirectories(tmp.Combine("runs")).Single();
        Assert.EndsWith("00000-gan-train-d-negative-smoke-p0.3", run);
        var options = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "options.json")))!["options"]!;
        Assert.Equal("negative", options["label"]!.GetValue<string>());
        Assert.Equal("fixed", options["aug"]!.GetValue<string>());
        Assert.Equal(0.3, options["p"]!.GetValue<double>());
        Assert.Equal("bg", options["augPipe"]!.GetValue<string>());
        Assert.Equal(7, options["seed"]!.GetValue<int>());
        Assert.False(options["mirror"]!.GetValue<bool>());
        Assert.Equal(0.0002 * 16 * 16 / 8, options["gamma"]!.GetValue<double>(), 12); // smoke: auto's rule at batch 8
        Assert.Single(Directory.GetDirectories(run, "network-snapshot-*"));
    }

    [Fact]
    public void GanTrain_CondOnAZipWithoutLabels_IsABadInputNamingTheFix()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 4, size: 16, labelled: false);
        var ex = Assert.Throws<DataException>(() => Invoke("--data", zip, "--out", tmp.Combine("runs"), "--cfg", "smoke",
            "--cond", "--device", "cpu"));
        Assert.Contains("--cond needs class labels", ex.Message);
        Assert.False(Directory.Exists(tmp.Combine("runs")));
    }

    [Fact]
    public void GanTrain_ResumeWithADifferentBatch_IsRefused()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        Assert.Equal(0, Invoke("--data", zip, "--out", tmp.Combine("runs"), "--cfg", "smoke", "--kimg", "0.008",
            "--device", "cpu").Code);
        var ex = Assert.Throws<DataException>(() => Invoke("--out", tmp.Combine("runs"), "--resume", "latest", "--batch", "4",
            "--device", "cpu"));
        Assert.Contains("--batch 4 (the run has 8)", ex.Message);
    }

    [Fact]
    public void GanTrain_ResumeOfAMirroredRunWithoutRepeatingItsFlags_Continues()
    {
        // A flag left off on resume is not given: only what is on the command line may conflict with the run.
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        Assert.Equal(0, Invoke("--data", zip, "--runs", tmp.Combine("runs"), "--cfg", "smoke", "--kimg", "0.008",
            "--mirror", "--device", "cpu").Code);
        var (code, output) = Invoke("--runs", tmp.Combine("runs"), "--resume", "latest", "--kimg", "0.016", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("trained to kimg 0.016", output);
    }

    [Fact]
    public void GanTrain_ResumeOfARunWithAnOlderMbstdGroup_KeepsItsGroup()
    {
        // A smoke run from before the preset's group went from 4 to 16: its snapshot says 4 (digest recomputed, as the
        // old version wrote it). The resume continues with 4 and says so; any other architecture change is refused.
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 8, size: 16);
        Assert.Equal(0, Invoke("--data", zip, "--runs", tmp.Combine("runs"), "--cfg", "smoke", "--kimg", "0.008", "--device", "cpu").Code);
        var run = Directory.GetDirectories(tmp.Combine("runs")).Single();
        var manifestPath = Path.Combine(Directory.GetDirectories(run, "network-snapshot-*").Single(), "snapshot.json");
        var manifest = JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(manifestPath), SnapshotManifest.JsonOptions)!;
        var networks = manifest.Sections[GanSnapshot.NetworksSection].GetRawText();
        Assert.Contains($"\"mbstd_group_size\": {XraySynth.Gan.Networks.NetworkPresets.SmokeMbstdGroup}", networks);
        var old = networks.Replace($"\"mbstd_group_size\": {XraySynth.Gan.Networks.NetworkPresets.SmokeMbstdGroup}", "\"mbstd_group_size\": 4");
        manifest.Sections[GanSnapshot.NetworksSection] = JsonDocument.Parse(old).RootElement.Clone();
        manifest = manifest with { ManifestSha256 = null };
        manifest = manifest with { ManifestSha256 = manifest.ComputeDigest() };
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, SnapshotManifest.JsonOptions));

        var (code, output) = Invoke("--runs", tmp.Combine("runs"), "--resume", "latest", "--kimg", "0.016", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("keep the minibatch-stddev group of 4", output);
        Assert.Contains("trained to kimg 0.016", output);
        var resumed = File.ReadAllText(Path.Combine(Directory.GetDirectories(run, "network-snapshot-*").OrderBy(d => d).Last(), "snapshot.json"));
        Assert.Contains("\"mbstd_group_size\": 4", resumed);
    }
}
