using TorchSharp;
using XraySynth.Gan.Networks;
using XraySynth.Runtime;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class ModuleSummaryTests
{
    [Fact]
    public void GeneratorSummary_HasTheOfficialRowsAndTotals()
    {
        manual_seed(31);
        var cfg = NetworkPresets.Create("smoke", 8, 3).G;
        using var g = new Generator(cfg);
        var summary = ModuleSummary.Run(g, () => g.call(randn(2, cfg.ZDim), null));

        // As the official print_module_summary: children before parents, up to 3 levels below the root,
        // ':k' for extra outputs; 'synthesis' and the root are dropped (their output is b8's image).
        Assert.Equal(
            [
                "mapping.fc0", "mapping.fc1", "mapping",
                "synthesis.b4.conv1", "synthesis.b4.torgb", "synthesis.b4:0", "synthesis.b4:1",
                "synthesis.b8.conv0", "synthesis.b8.conv1", "synthesis.b8.torgb", "synthesis.b8:0", "synthesis.b8:1",
            ],
            summary.Rows.Select(r => r.Name));
        Assert.Equal(g.parameters().Sum(p => p.numel()), summary.TotalParameters);
        Assert.Equal(g.buffers().Sum(b => b.numel()), summary.TotalBuffers);

        var rows = summary.Rows.ToDictionary(r => r.Name);
        Assert.Equal(new long[] { 2, cfg.NumWs, 32 }, rows["mapping"].OutputShape);
        Assert.Equal(32, rows["mapping"].Buffers); // w_avg
        Assert.Equal(32 * 16, rows["synthesis.b4:0"].Parameters); // the learned constant
        Assert.Equal(16, rows["synthesis.b4:0"].Buffers); // the block's 4x4 resample filter
        Assert.Equal(16 + 16, rows["synthesis.b4.conv1"].Buffers); // noise_const 4x4 + filter
        // A synthesis layer: affine (w·i + i) + weight (o·i·9) + noise_strength + bias.
        Assert.Equal(32 * 32 + 32 + 32 * 32 * 9 + 1 + 32, rows["synthesis.b8.conv0"].Parameters);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, rows["synthesis.b8:1"].OutputShape);
        Assert.Equal("float32", rows["synthesis.b8:1"].OutputDtype);
    }

    [Fact]
    public void DiscriminatorSummary_EndsWithEpilogueAndCountsEverything()
    {
        manual_seed(32);
        var cfg = NetworkPresets.Create("smoke", 8, 1, cDim: 2).D;
        using var d = new Discriminator(cfg);
        var summary = ModuleSummary.Run(d, () => d.call(randn(4, 1, 8, 8), eye(2)[tensor(new long[] { 0, 1, 0, 1 })]));
        Assert.Equal(
            [
                "b8.fromrgb", "b8.skip", "b8.conv0", "b8.conv1", "b8",
                "mapping.embed", "mapping.fc0", "mapping.fc1", "mapping",
                "b4.mbstd", "b4.conv", "b4.fc", "b4.out", "b4",
            ],
            summary.Rows.Select(r => r.Name));
        Assert.Equal(d.parameters().Sum(p => p.numel()), summary.TotalParameters);
        Assert.Equal(new long[] { 4, 33, 4, 4 }, summary.Rows.Single(r => r.Name == "b4.mbstd").OutputShape);
        Assert.Equal(new long[] { 4, 1 }, summary.Rows[^1].OutputShape);
    }

    [Fact]
    public void Summary_WorksForPlainTorchSharpModules()
    {
        var net = nn.Sequential(("conv", nn.Conv2d(1, 4, 3)), ("act", nn.ReLU()), ("pool", nn.AdaptiveAvgPool2d(1)));
        var summary = ModuleSummary.Run(net, () => net.call(randn(2, 1, 8, 8)));
        Assert.Contains(summary.Rows, r => r.Name == "conv" && r.Parameters == 4 * 9 + 4);
        Assert.Equal(40, summary.TotalParameters);
        Assert.Equal(new long[] { 2, 4, 1, 1 }, summary.Rows.Single(r => r.Name == "pool").OutputShape);
    }
}
