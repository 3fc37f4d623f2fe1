using XraySynth.Data;
using XraySynth.Experiments;
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
        Assert.Contains("arms", Assert.Throws<DataException>(() => ExperimentConfig.Load(Write(tmp, """{ "name": "x", "data": { "mura": "m" } }"""))).Message);
        Assert.Contains("not found", Assert.Throws<DataException>(() => ExperimentConfig.Load(tmp.Combine("none.json"))).Message);
    }
}
