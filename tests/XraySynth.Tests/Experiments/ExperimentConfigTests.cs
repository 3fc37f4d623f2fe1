using XraySynth.Experiments;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Experiments;

public class ExperimentConfigTests
{
    private const string Valid = """
        {
          // comments are allowed
          "name": "t",
          "data": { "mura": "mura", "parts": ["shoulder"], "resolution": 32 },
          "gan": { "mode": "conditional", "cfg": "smoke", "kimg": 2 },
          "arms": [ { "name": "baseline", "perClass": 0 }, { "name": "plus", "perClass": 10 }, { "name": "balanced", "balance": true } ],
          "classifier": { "arch": "densenet-smoke", "size": 64, "epochs": 2 },
          "seeds": [0, 1, 2],
        }
        """;

    private static string Write(TempDir tmp, string json)
    {
        Directory.CreateDirectory(tmp.Combine("mura", "MURA-v1.1", "train"));   // data.mura must exist
        var path = tmp.Combine("exp.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Load_ValidConfig_ResolvesPathsAgainstTheConfigFolder()
    {
        using var tmp = new TempDir();
        var config = ExperimentConfig.Load(Write(tmp, Valid));
        Assert.Equal(tmp.Combine("mura"), config.Data.Mura);
        Assert.Equal(3, config.Arms.Count);
        Assert.True(config.Arms[2].Balance);
        Assert.Equal("smoke", config.Gan.Cfg);
        Assert.Equal(1000, config.Evaluation.Bootstrap);   // default
    }

    [Fact]
    public void Load_UnknownKey_NamesItAndListsValidKeys()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, Valid.Replace("\"kimg\": 2", "\"kimgs\": 2"))));
        Assert.Contains("$.gan.kimgs", e.Message);
        Assert.Contains("kimg", e.Message.Split("Valid keys here:")[1]);
        Assert.Contains("exp.json", e.Message);
    }

    [Fact]
    public void Load_BadValues_AreAllListed()
    {
        using var tmp = new TempDir();
        var json = Valid.Replace("\"conditional\"", "\"both\"").Replace("\"resolution\": 32", "\"resolution\": 30")
            .Replace("\"densenet-smoke\"", "\"vgg\"").Replace("{ \"name\": \"baseline\", \"perClass\": 0 }, ", "");
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, json)));
        Assert.Contains("gan.mode: 'both'", e.Message);
        Assert.Contains("data.resolution: 30", e.Message);
        Assert.Contains("classifier.arch: 'vgg'", e.Message);
        Assert.Contains("one arm must be the baseline", e.Message);
    }

    [Fact]
    public void Load_WrongTypeOrMissingRequired_SaysWhere()
    {
        using var tmp = new TempDir();
        Assert.Contains("$.seeds", Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, Valid.Replace("[0, 1, 2]", "\"three\"")))).Message);
        Assert.Contains("$.arms: missing (required)", Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, """{ "name": "x", "data": { "mura": "m" } }"""))).Message);
        Assert.Contains("not found", Assert.Throws<DataException>(() => ExperimentConfig.Load(tmp.Combine("none.json"))).Message);
        Assert.Contains("$: [] is not an object", Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, "[]"))).Message);
        Assert.Contains("not valid JSON", Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, "{ \"name\": "))).Message);
    }

    [Fact]
    public void Load_EveryProblem_IsListedAtOnceWithTheFile()
    {
        using var tmp = new TempDir();
        var json = Valid
            .Replace("\"name\": \"t\"", "\"name\": \"..\"")
            .Replace("\"mura\": \"mura\"", "\"mura\": \"no-such-folder\"")
            .Replace("\"cfg\": \"smoke\"", "\"cfg\": \"smokey\", \"snap\": 0")
            .Replace("\"epochs\": 2", "\"epochs\": 2, \"patience\": -1, \"epochz\": 3")
            .Replace("\"seeds\": [0, 1, 2],", "\"seeds\": [0, 1, 2], \"synthetic\": null, \"evaluation\": { \"threshold\": 1.5, \"bootstrap\": \"many\" },");
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, json)));
        Assert.StartsWith(tmp.Combine("exp.json") + ": invalid experiment config (9 problems)", e.Message);
        foreach (var expected in new[]
                 {
                     "$.synthetic: null is not allowed here",
                     "$.classifier.epochz: unknown key. Did you mean 'epochs'?",
                     "$.evaluation.bootstrap: \"many\" is not an integer",
                     "name: '..' is not a plain folder name",
                     "data.mura: " + tmp.Combine("no-such-folder") + ": MURA folder not found",
                     "gan.cfg: 'smokey' (use auto, stylegan2",
                     "gan.snap: 0",
                     "classifier.patience: -1",
                     "evaluation.threshold: 1.5",
                 })
            Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_ClassifierBlock_FollowsTheDeclaredOptions()
    {
        using var tmp = new TempDir();
        var config = ExperimentConfig.Load(Write(tmp, Valid.Replace("\"epochs\": 2", "\"epochs\": 2, \"loss\": \"focal\"")));
        Assert.Equal(XraySynth.Classifier.Training.ClassifierLoss.Focal, config.Classifier.Loss);
        Assert.Equal(XraySynth.Classifier.Training.ClassifierTrainOptions.Declared.Patience.Default, config.Classifier.Patience);

        // classifier train's own rules: the size it refuses is refused here, before any stage runs.
        var json = Valid.Replace("\"size\": 64", "\"size\": 2000, \"loss\": \"hinge\", \"lr\": 1");
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, json)));
        Assert.Contains("$.classifier.loss: \"hinge\" is not one of weighted-bce, bce, focal", e.Message);
        Assert.Contains("classifier.size: 2000 (must be 32..1024)", e.Message);
        Assert.Contains("classifier.lr: 1 (must be above 0 and below 1)", e.Message);
    }

    [Fact]
    public void Load_ClassifierSelectBy_ReachesTheArmsOptions_AndIsLeftOutOfTheStageJsonWhenUnset()
    {
        using var tmp = new TempDir();
        var config = ExperimentConfig.Load(Write(tmp, Valid.Replace("\"epochs\": 2", "\"epochs\": 2, \"selectBy\": \"loss\"")));
        Assert.Equal(XraySynth.Classifier.Training.SelectionMetric.Loss, config.Classifier.SelectBy);
        var options = config.Classifier.ApplyTo(new XraySynth.Classifier.Training.ClassifierTrainOptions { Data = "" });
        Assert.Equal(XraySynth.Classifier.Training.SelectionMetric.Loss, options.SelectBy);
        Assert.Contains("\"selectBy\": \"loss\"", Json.Serialize(config.Classifier));

        var unset = ExperimentConfig.Load(Write(tmp, Valid));
        Assert.Equal(XraySynth.Classifier.Training.ClassifierTrainOptions.Declared.SelectBy.Default, unset.Classifier.SelectBy);
        Assert.Equal(default(XraySynth.Classifier.Training.SelectionMetric), unset.Classifier.SelectBy);   // what WhenWritingDefault leaves out
        Assert.DoesNotContain("selectBy", Json.Serialize(unset.Classifier));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("/abs")]
    [InlineData(".hidden")]
    [InlineData(" padded")]
    [InlineData("")]
    public void Load_NameThatIsNotOneFolder_IsRefused(string name)
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, Valid.Replace("\"name\": \"t\"", $"\"name\": \"{name}\""))));
        Assert.Contains("is not a plain folder name", e.Message);
    }

    [Theory]
    [InlineData("\"threshold\": 0", "evaluation.threshold: 0")]
    [InlineData("\"threshold\": 1", "evaluation.threshold: 1")]
    [InlineData("\"bootstrap\": 10", "evaluation.bootstrap: 10")]
    public void Load_EvaluationOutOfRange_IsRefused(string evaluation, string expected)
    {
        using var tmp = new TempDir();
        var json = Valid.Replace("\"seeds\": [0, 1, 2],", $"\"seeds\": [0, 1, 2], \"evaluation\": {{ {evaluation} }},");
        Assert.Contains(expected, Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, json))).Message);
    }

    [Fact]
    public void Load_PreparedFolderWithoutManifests_IsRefused()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("prep"));
        var json = Valid.Replace("\"mura\": \"mura\"", "\"prepared\": \"prep\"");
        var e = Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, json)));
        Assert.Contains("data.prepared: " + tmp.Combine("prep", "train.csv") + " not found", e.Message);
    }

    [Fact]
    public void DryRun_BadConfig_ExitsTwoBeforeAnyFolderIsMade()
    {
        using var tmp = new TempDir();
        var config = Write(tmp, Valid.Replace("\"name\": \"t\"", "\"name\": \"../outside\""));
        var output = new StringWriter();
        var error = new StringWriter();
        var code = XraySynth.Cli.Cli.Run(["experiment", "--config", config, "--out", tmp.Combine("runs"), "--dry-run"], output, error);
        Assert.Equal(2, code);
        Assert.Contains("exp.json: invalid experiment config", error.ToString() + output.ToString());
        Assert.False(Directory.Exists(tmp.Combine("runs")));
        Assert.False(Directory.Exists(tmp.Combine("outside")));
    }

    [Fact]
    public void ShippedConfigs_HaveAValidShape()
    {
        // The shipped configs point at data that is not here; only their keys and values are checked.
        foreach (var name in new[] { "demo.json", "mura-shoulder.json" })
        {
            var path = Path.Combine(AppContext.BaseDirectory, "configs", name);
            var e = Record.Exception(() => ExperimentConfig.Load(path, c => c with { Data = c.Data with { Mura = null, Prepared = null }, Classifier = c.Classifier with { Weights = null } }));
            var problems = Assert.IsType<DataException>(e).Message;
            Assert.Contains("(1 problem)", problems);   // only: give exactly one of mura or prepared
            Assert.Contains("data: give exactly one of", problems);
        }
    }
}
