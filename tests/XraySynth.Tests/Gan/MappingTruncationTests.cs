using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class MappingTruncationTests
{
    private static Generator SmokeGenerator(int cDim = 0)
    {
        manual_seed(21);
        return new Generator(NetworkPresets.Create("smoke", 16, 1, cDim).G);
    }

    [Fact]
    public void UpdateWAvg_IsExponentialAverageWithBeta0995()
    {
        using var g = SmokeGenerator();
        using var scope = NewDisposeScope();
        var before = g.Mapping.WAvg!.clone();
        var w = randn(6, 32);
        g.Mapping.UpdateWAvg(w);
        var expected = w.mean([0]) + (before - w.mean([0])) * 0.995;
        Assert.True(g.Mapping.WAvg!.allclose(expected, rtol: 1e-5, atol: 1e-7));

        // The forward updates w_avg only when asked.
        var snapshot = g.Mapping.WAvg!.clone();
        g.Mapping.call(randn(4, 32), null, 1.0, null, false);
        Assert.True(g.Mapping.WAvg!.allclose(snapshot));
        g.Mapping.call(randn(4, 32), null, 1.0, null, true);
        Assert.False(g.Mapping.WAvg!.allclose(snapshot));
    }

    [Fact]
    public void TruncationPsi0_GivesTheMeanImageForEverySeed()
    {
        using var g = SmokeGenerator();
        g.eval();
        using var scope = NewDisposeScope();
        g.Mapping.UpdateWAvg(randn(64, 32) * 3); // a w_avg different from zero
        var z = randn(4, 32);
        var img = g.call(z, null, 0.0, null, NoiseMode.Const, false);
        var wAvgWs = g.Mapping.WAvg!.reshape(1, 1, -1).expand(1, g.NumWs, -1);
        var meanImage = g.Synthesis.call(wAvgWs, NoiseMode.Const);
        for (var i = 0; i < 4; i++)
            Assert.True(img[i].allclose(meanImage[0], rtol: 1e-4, atol: 1e-5), $"sample {i} is not the w_avg image");
    }

    [Fact]
    public void TruncationCutoff_OnlyPullsTheFirstWs()
    {
        using var g = SmokeGenerator();
        using var scope = NewDisposeScope();
        g.Mapping.UpdateWAvg(randn(64, 32));
        var z = randn(3, 32);
        var full = g.Mapping.call(z, null);
        var half = g.Mapping.call(z, null, 0.5, 2, false);
        var wAvg = g.Mapping.WAvg!;
        Assert.True(half.narrow(1, 0, 2).allclose(wAvg + (full.narrow(1, 0, 2) - wAvg) * 0.5, rtol: 1e-5, atol: 1e-6));
        Assert.True(half.narrow(1, 2, g.NumWs - 2).allclose(full.narrow(1, 2, g.NumWs - 2)));
    }

    [Fact]
    public void Mapping_NormalisesZ_SoScaledZGivesTheSameW()
    {
        using var g = SmokeGenerator(cDim: 3);
        using var scope = NewDisposeScope();
        var z = randn(2, 32);
        var c = eye(3)[..2];
        Assert.True(g.Mapping.call(z, c).allclose(g.Mapping.call(z * 7, c * 5), rtol: 1e-4, atol: 1e-5));
        Assert.False(g.Mapping.call(z, c).allclose(g.Mapping.call(z, eye(3)[1..3]), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void StyleMixing_MappingPlusSynthesis_EqualsGeneratorForward()
    {
        using var g = SmokeGenerator();
        g.eval();
        using var scope = NewDisposeScope();
        var z = randn(2, 32);
        var ws = g.Mapping.call(z, null);
        var viaParts = g.Synthesis.call(ws, NoiseMode.Const);
        var viaForward = g.call(z, null, 1.0, null, NoiseMode.Const, false);
        Assert.True(viaParts.allclose(viaForward));

        // The training loop mixes styles by splicing ws from a second z; synthesis accepts any ws.
        var ws2 = g.Mapping.call(randn(2, 32), null);
        var mixed = cat([ws.narrow(1, 0, 3), ws2.narrow(1, 3, g.NumWs - 3)], 1);
        Assert.Equal(viaParts.shape, g.Synthesis.call(mixed, NoiseMode.Const).shape);
    }

    [Fact]
    public void NoiseModes_ConstAndNoneAreRepeatable_RandomIsNot()
    {
        using var g = SmokeGenerator();
        g.eval();
        using var scope = NewDisposeScope();
        // Give the noise a visible strength.
        using (no_grad())
            foreach (var (name, p) in g.named_parameters().Where(p => p.name.EndsWith("noise_strength")))
                p.fill_(0.5);
        var ws = g.Mapping.call(randn(2, 32), null);
        Assert.True(g.Synthesis.call(ws, NoiseMode.Const).allclose(g.Synthesis.call(ws, NoiseMode.Const)));
        Assert.True(g.Synthesis.call(ws, NoiseMode.None).allclose(g.Synthesis.call(ws, NoiseMode.None)));
        Assert.False(g.Synthesis.call(ws, NoiseMode.Const).allclose(g.Synthesis.call(ws, NoiseMode.None)));
        Assert.False(g.Synthesis.call(ws, NoiseMode.Random).allclose(g.Synthesis.call(ws, NoiseMode.Random)));
    }
}
