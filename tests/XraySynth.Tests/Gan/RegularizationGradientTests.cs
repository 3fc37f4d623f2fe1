using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

/// <summary>The training loop's regularisers need second derivatives through the networks.</summary>
public class RegularizationGradientTests
{
    [Fact]
    public void Discriminator_R1Penalty_BackpropagatesToEveryParameter()
    {
        var cfg = NetworkPresets.Create("smoke", 16, 1, cDim: 2).D;
        using var d = new Discriminator(cfg);
        d.train();
        using var scope = NewDisposeScope();
        var real = randn(4, 1, 16, 16).requires_grad_(true);
        var c = eye(2)[tensor(new long[] { 0, 1, 0, 1 })];
        var logits = d.call(real, c);
        var grad = autograd.grad([logits.sum()], [real], retain_graph: true, create_graph: true)[0];
        var penalty = grad.square().sum([1, 2, 3]).mean();
        penalty.backward();
        // The bias of the last layer cannot reach the input gradient; every weight must.
        foreach (var (name, p) in d.named_parameters().Where(p => p.name.EndsWith("weight")))
        {
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no R1 gradient");
        }
    }

    [Fact]
    public void Generator_PathLengthPenalty_BackpropagatesThroughSynthesis()
    {
        var cfg = NetworkPresets.Create("smoke", 16, 1).G;
        using var g = new Generator(cfg);
        g.train();
        using var scope = NewDisposeScope();
        var ws = g.Mapping.call(randn(2, cfg.ZDim), null);
        var img = g.Synthesis.call(ws, NoiseMode.Random);
        var y = randn_like(img) / 16;
        var wGrad = autograd.grad([(img * y).sum()], [ws], retain_graph: true, create_graph: true)[0];
        var lengths = wGrad.square().sum(2).mean([1]).sqrt();
        (lengths - 1).square().mean().backward();
        var affine = g.named_parameters().Single(p => p.name == "synthesis.b16.conv1.affine.weight").parameter;
        var fc0 = g.named_parameters().Single(p => p.name == "mapping.fc0.weight").parameter;
        Assert.True(affine.grad is not null && affine.grad.abs().sum().item<float>() > 0);
        Assert.True(fc0.grad is not null && fc0.grad.abs().sum().item<float>() > 0);
    }
}
