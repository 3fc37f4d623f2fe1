using XraySynth.Cli.Commands;
using XraySynth.Experiments;

namespace XraySynth.Tests.Cli;

public class DemoConfigTests
{
    [Fact]
    public void DemoConfig_HasEnoughSeedsAndArmsForAVerdict_AndRecordsGanFid()
    {
        // The demo points data.mura at the phantoms it writes first; an empty MURA-shaped folder stands in for them.
        using var tmp = new XraySynth.Tests.Support.TempDir();
        Directory.CreateDirectory(Path.Combine(tmp.Path, "MURA-v1.1", "train"));
        Directory.CreateDirectory(Path.Combine(tmp.Path, "MURA-v1.1", "valid"));
        var config = ExperimentConfig.Load(DemoCommand.ConfigPath, c => c with { Data = c.Data with { Mura = tmp.Path } });
        Assert.True(config.Seeds.Count >= 3, $"the demo trains {config.Seeds.Count} seeds per arm; a paired verdict needs at least 3");
        Assert.True(config.Arms.Count >= 2, "the demo compares at least one synthetic arm with the baseline");
        Assert.Contains(config.Arms, a => a.PerClass == 0 && !a.Balance);
        Assert.Contains(XraySynth.Quality.QualityMetric.Fid, XraySynth.Quality.MetricsOptions.ParseMetrics(config.Gan.Metrics!));
        Assert.Equal("conditional", config.Gan.Mode);
    }
}
