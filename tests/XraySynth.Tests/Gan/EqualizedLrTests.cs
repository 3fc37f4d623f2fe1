using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class EqualizedLrTests
{
    private static Tensor Param(nn.Module m, string name) =>
        m.named_parameters().Single(p => p.name == name).parameter;

    [Fact]
    public void FullyConnectedLayer_ScalesWeightByLrMulOverSqrtFanInAndBiasByLrMul()
    {
        manual_seed(4);
        using var fc = new FullyConnectedLayer(256, 128, activation: Activation.Linear, lrMultiplier: 0.01, biasInit: 0.5);
        using var scope = NewDisposeScope();
        Assert.Equal(0.01 / Math.Sqrt(256), fc.WeightGain, 12);
        Assert.Equal(0.01, fc.BiasGain, 12);
        var weight = Param(fc, "weight");
        var bias = Param(fc, "bias");
        // Stored N(0,1)/lr_mul: std 100.
        Assert.InRange(weight.std().item<float>(), 98, 102);
        Assert.True(bias.allclose(full(128, 0.5)));

        var x = randn(3, 256);
        var expected = x.matmul((weight * (0.01 / 16)).t()) + bias * 0.01;
        Assert.True(fc.call(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void FullyConnectedLayer_Lrelu_AppliesSlope02AndGainSqrt2()
    {
        manual_seed(5);
        using var fc = new FullyConnectedLayer(8, 4, activation: Activation.Lrelu);
        using var scope = NewDisposeScope();
        var x = randn(5, 8);
        var pre = x.matmul((Param(fc, "weight") / Math.Sqrt(8)).t()) + Param(fc, "bias");
        var expected = where(pre >= 0, pre, pre * 0.2) * Math.Sqrt(2);
        Assert.True(fc.call(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Conv2dLayer_ScalesWeightByOneOverSqrtFanIn()
    {
        manual_seed(6);
        using var conv = new Conv2dLayer(6, 4, kernelSize: 3);
        using var scope = NewDisposeScope();
        Assert.Equal(1 / Math.Sqrt(6 * 9), conv.WeightGain, 12);
        var x = randn(2, 6, 5, 5);
        var expected = nn.functional.conv2d(x, Param(conv, "weight") / Math.Sqrt(54), Param(conv, "bias"),
            padding: [1, 1]);
        Assert.True(conv.call(x).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Generator_MappingUsesLrMul001_AffinesStartAtBias1_WeightsAreUnitNormal()
    {
        manual_seed(7);
        var cfg = NetworkPresets.Create("auto", 64, 1);
        using var g = new Generator(cfg.G);
        using var scope = NewDisposeScope();
        var fc0 = Param(g, "mapping.fc0.weight");
        Assert.Equal(new long[] { 512, 512 }, fc0.shape);
        Assert.InRange(fc0.std().item<float>(), 98, 102); // N(0,1) / 0.01
        var mappingLayer = (FullyConnectedLayer)g.named_modules().Single(m => m.name == "mapping.fc1").module;
        Assert.Equal(0.01 / Math.Sqrt(512), mappingLayer.WeightGain, 12);
        Assert.True(Param(g, "synthesis.b8.conv0.affine.bias").allclose(ones(512)));
        Assert.InRange(Param(g, "synthesis.b8.conv0.weight").std().item<float>(), 0.98, 1.02);
        Assert.Equal(0f, Param(g, "synthesis.b8.conv0.noise_strength").item<float>());
    }
}
