using XraySynth.Runtime;
using System.CommandLine;
using System.Text.Json.Nodes;
using XraySynth.Cli.Commands;
using XraySynth.Data;
using XraySynth.Experiments;
using XraySynth.Gan.Training;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Gan.Training;

/// <summary>The option declarations of gan train and what is derived from them: resolution, the resume merge, old
/// options.json files, the command line, the experiment config's gan block.</summary>
public class GanOptionsTests
{
    /// <summary>options.json as XraySynth wrote it before options were declared: metricsDetector and metricsCount saved
    /// unresolved (null), and (older still) no transfer/freezed keys.</summary>
    private const string EarlierOptionsJson = """
        {
          "options": {
            "data": "/data/d.zip", "outRoot": "/runs", "cfg": "smoke", "cond": false, "label": "negative", "kimg": 0.2,
            "batch": 8, "gamma": 0.0064, "aug": "fixed", "p": 0.3, "target": null, "augPipe": "bg", "mirror": true,
            "tick": 0.032, "snap": 1, "seed": 7, "device": "cpu", "keepSnapshots": 0, "metrics": null,
            "metricsDetector": null, "metricsCount": null, "desc": null
          },
          "setup": { "resolution": 16 }
        }
        """;

    [Fact]
    public void Declarations_EveryOptionHasHelpAFlagAndAJsonKey_AndTheCliHasOneOptionEach()
    {
        Assert.Equal(21, GanOptions.All.Count);
        Assert.All(GanOptions.All, o =>
        {
            Assert.False(string.IsNullOrWhiteSpace(o.Help), o.Name);
            Assert.StartsWith("--", o.Flag);
            Assert.Equal(char.ToLowerInvariant(o.Name[0]), o.Key[0]);
        });
        var train = GanTrainCommand.Create();
        foreach (var option in GanOptions.All)
            Assert.Contains(train.Options, o => o.Name == option.Flag && !o.Hidden);
        Assert.Equal("--class", GanOptions.Of(o => o.Label).Flag);
        Assert.Contains(train.Options, o => o.Name == "--label" && o.Hidden);
        // Preset defaults are the preset's; constants come from the record's initializers.
        Assert.Equal("the preset's", GanOptions.Of(o => o.Batch).DefaultText);
        Assert.Equal("ada", GanOptions.Of(o => o.Aug).DefaultText);
        Assert.Equal(OnResume.MayChange, GanOptions.Of(o => o.Kimg).Resume);
        Assert.Equal(OnResume.Fixed, GanOptions.Of(o => o.Batch).Resume);
    }

    [Fact]
    public void Help_ShowsDefaultsInKebabCase_AndHidesTheFormerLabelName()
    {
        var (code, help, _) = CliRunner.Run("gan", "train", "--help");
        Assert.Equal(0, code);
        var output = System.Text.RegularExpressions.Regex.Replace(help, @"\s+", " ");   // help wraps long lines
        Assert.Contains("[default: ada]", output);
        Assert.Contains("[default: bgc]", output);
        Assert.Contains("[default: the preset's]", output);
        Assert.Contains("--class", output);
        Assert.Contains("ada|fixed|noaug", output);
        Assert.DoesNotContain("--label", output);
        Assert.DoesNotContain("[default: Ada]", output);
    }

    [Fact]
    public void ClassAndItsFormerNameLabel_ParseToTheSameOption_AndABadValueIsAParseError()
    {
        var root = new RootCommand { GanTrainCommand.Create() };
        foreach (var flag in new[] { "--class", "--label" })
            Assert.Empty(root.Parse(["train", flag, "negative"]).Errors);
        var bad = root.Parse(["train", "--class", "abnormal"]).Errors;
        Assert.Contains(bad, e => e.Message.Contains("--class 'abnormal': expected one of positive, negative"));
        Assert.Contains(root.Parse(["train", "--aug", "Ada!"]).Errors, e => e.Message.Contains("expected one of ada, fixed, noaug"));
    }

    /// <summary>options.json with <paramref name="json"/> in a temporary folder.</summary>
    private static string OptionsFile(TempDir tmp, string json)
    {
        var file = tmp.Combine("options.json");
        File.WriteAllText(file, json);
        return file;
    }

    [Fact]
    public void FromSaved_OptionsOfAnEarlierVersion_ReadAndResolveAsTheyWereTrained()
    {
        using var tmp = new TempDir();
        var saved = GanTrainRequest.FromSaved(OptionsFile(tmp, EarlierOptionsJson));
        Assert.Equal(("/data/d.zip", "/runs"), (saved.Data, saved.OutRoot));
        Assert.False(saved.IsGiven(GanOptions.Of(o => o.MetricsCount)));   // null there meant "the default"
        var r = saved.Resolve(16);
        Assert.Equal(("smoke", (LabelFilter?)LabelFilter.Negative, 0.2, 8, 0.0064, AugMode.Fixed, 0.3, "bg", true, 0.032, 1, 7),
            (r.Cfg, r.Label, r.Kimg, r.Batch, r.Gamma, r.Aug, r.P!.Value, r.AugPipe, r.Mirror, r.Tick, r.Snap, r.Seed));
        Assert.Equal(("builtin", 1000, 0, (string?)null, (double?)null), (r.MetricsDetector, r.MetricsCount, r.Freezed, r.Transfer, r.Target));

        var badBatch = OptionsFile(tmp, EarlierOptionsJson.Replace("\"batch\": 8", "\"batch\": \"eight\""));
        Assert.Contains("\"batch\" is not an integer", Assert.Throws<DataException>(() => GanTrainRequest.FromSaved(badBatch)).Message);
        var other = OptionsFile(tmp, "{\"something\": 1}");
        Assert.Contains("not a gan train options file", Assert.Throws<DataException>(() => GanTrainRequest.FromSaved(other)).Message);
    }

    [Fact]
    public void MergeForResume_MetricsMayChange_AnOptionAbsentFromAnOldFileComparesWithItsDefault()
    {
        using var tmp = new TempDir();
        var saved = GanTrainRequest.FromSaved(OptionsFile(tmp, EarlierOptionsJson));
        var request = new GanTrainRequest { OutRoot = "/elsewhere" }.With(o => o.Metrics, "fid").With(o => o.MetricsCount, 50)
            .With(o => o.Freezed, 0).With(o => o.Seed, 7);
        var merged = GanOptions.MergeForResume(saved, request).Resolve(16);
        Assert.Equal(("fid", 50, "/runs"), (merged.Metrics, merged.MetricsCount, merged.OutRoot));
        var e = Assert.Throws<DataException>(() => GanOptions.MergeForResume(saved, request.With(o => o.Freezed, 2)));
        Assert.Contains("--freezed 2 (the run has 0)", e.Message);
        Assert.Contains("only --kimg, --snap, --keep-snapshots, --metrics, --metrics-detector, --metrics-count, --device and --data", e.Message);
    }

    [Fact]
    public void Resolve_EachRangeRuleNamesTheOptionAndItsValue()
    {
        var request = new GanTrainRequest { OutRoot = "runs" };
        string Problem(GanTrainRequest r) => Assert.Throws<DataException>(() => r.Resolve(32)).Message;
        Assert.Equal("--kimg 0: must be positive.", Problem(request.With(o => o.Kimg, 0.0)));
        Assert.Equal("--batch 1: must be at least 2 (path-length regularisation uses half the batch).", Problem(request.With(o => o.Batch, 1)));
        Assert.Equal("--snap 0: must be at least 1 (ticks between snapshots).", Problem(request.With(o => o.Snap, 0)));
        Assert.Equal("--target 1.5: must be between 0 and 1.", Problem(request.With(o => o.Target, 1.5)));
        Assert.Equal("--cfg big: unknown preset. fix: use auto, stylegan2, paper256, paper512, paper1024, cifar, small, smoke.",
            Problem(request.With(o => o.Cfg, "big")));
        Assert.StartsWith("--metrics fjd: expected fid, kid, pr, memorization", Problem(request.With(o => o.Metrics, "fjd")));
        Assert.Throws<ArgumentException>(() => request.With(GanOptions.Of(o => o.Batch), 2.5));   // the declared type only
    }

    private static Dictionary<string, System.Text.Json.JsonElement> Extra(params (string Key, object Value)[] values) =>
        values.ToDictionary(v => v.Key, v => System.Text.Json.JsonSerializer.SerializeToElement(v.Value));

    [Fact]
    public void ExperimentGanBlock_TakesEveryDeclaredOption_ChecksItWithGanTrainRules_KeepsTheStageKeyOfOldConfigs()
    {
        var gan = new GanConfig { Cfg = "smoke", Kimg = 2 };
        // The stage key of a block without other options is the JSON the first config format hashed: experiment
        // folders made before stay done.
        Assert.Equal("""{"mode":"conditional","cfg":"smoke","kimg":2,"batch":null,"aug":"ada","mirror":true,"snap":50,"seed":0,"snapshots":{}}""",
            JsonNode.Parse(Json.Serialize(gan.StageKey()))!.ToJsonString());

        var extra = gan with { Options = Extra(("gamma", 2.5), ("tick", 1), ("metricsDetector", "inception")) };
        var request = extra.Request(new GanTrainRequest { OutRoot = "runs" });
        Assert.Equal((2.5, 1.0, "inception", 2.0, true), (request.Get(o => o.Gamma, 0), request.Get(o => o.Tick, 0),
            request.Get(o => o.MetricsDetector, ""), request.Get(o => o.Kimg, 0), request.Get(o => o.Mirror, false)));
        var key = JsonNode.Parse(Json.Serialize(extra.StageKey()))!.AsObject();
        Assert.Equal((2.5, 1), (key["gamma"]!.GetValue<double>(), key["tick"]!.GetValue<int>()));
        Assert.False(key.ContainsKey("metricsDetector"));   // measuring does not change the run

        Assert.True(GanConfig.ExtraKeys.ContainsKey("gamma"));
        Assert.False(GanConfig.ExtraKeys.ContainsKey("label"));   // set per model by the experiment
        var problems = (gan with { Aug = "fixed", Options = Extra(("target", 2)) }).OptionProblems().ToList();
        Assert.Contains("gan.target: 2 (must be between 0 and 1)", problems);
        Assert.Contains(problems, p => p.StartsWith("gan.aug fixed needs gan.p P"));
        Assert.Contains("gan.aug: 'often' (expected one of ada, fixed, noaug)", (gan with { Aug = "often" }).OptionProblems());
    }

    [Fact]
    public void ExperimentConfigFile_GanBlockWithOtherGanTrainOptions_ReadsThem_AndReportsBadOnesWithTheOtherProblems()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("mura", "MURA-v1.1", "train"));
        var path = tmp.Combine("exp.json");
        string Config(string gan) => $$"""
            { "name": "t", "data": { "mura": "mura", "resolution": 32 }, "gan": { "cfg": "smoke", "kimg": 2, {{gan}} },
              "arms": [ { "name": "baseline" } ], "classifier": { "arch": "densenet-smoke" } }
            """;
        File.WriteAllText(path, Config("\"gamma\": 3, \"keepSnapshots\": 2, \"augPipe\": \"bg\""));
        var config = ExperimentConfig.Load(path);
        var request = config.Gan.Request(new GanTrainRequest { OutRoot = "runs" });
        Assert.Equal((3.0, 2, "bg"), (request.Get(o => o.Gamma, 0), request.Get(o => o.KeepSnapshots, 0), request.Get(o => o.AugPipe, "")));
        Assert.Contains("\"keepSnapshots\": 2", Json.Serialize(config));   // written back flat (config.json of the run)

        File.WriteAllText(path, Config("\"gamma\": \"high\", \"tick\": 0, \"augPipe\": \"bgx\", \"label\": \"positive\""));
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(path)).Message;
        Assert.Contains("$.gan.gamma: \"high\" is not a number", e);
        Assert.Contains("$.gan.label: unknown key", e);                  // set per model by the experiment
        Assert.Contains("gan.tick: 0 (must be positive (kimg per tick))", e);
        Assert.Contains("gan.augPipe: 'bgx' (use one of", e);
    }
}
