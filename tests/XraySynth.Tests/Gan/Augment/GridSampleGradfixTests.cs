using TorchSharp;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Tests.Gan.Augment;

public class GridSampleGradfixTests
{
    private static Tensor RandomGrid(int n, int size, torch.Generator gen)
    {
        var theta = tensor(new float[] { 0.9f, 0.2f, 0.05f, -0.15f, 1.1f, -0.03f }).reshape(1, 2, 3)
            + rand([n, 2, 3], generator: gen) * 0.1f;
        return F.affine_grid(theta, [n, 1, size, size], align_corners: false);
    }

    [Fact]
    public void GridSample_ForwardAndFirstOrderGradient_MatchLibtorch()
    {
        using var scope = NewDisposeScope();
        using var gen = new torch.Generator(3);
        var grid = RandomGrid(2, 12, gen);
        var x = randn([2, 3, 12, 12], generator: gen).requires_grad_(true);
        var ours = GridSampleGradfix.GridSample(x, grid);
        var theirs = F.grid_sample(x, grid, align_corners: false);
        Assert.True((ours - theirs).abs().max().item<float>() < 1e-6);
        var g1 = autograd.grad([(ours * ours).sum()], [x])[0];
        var g2 = autograd.grad([(theirs * theirs).sum()], [x])[0];
        Assert.True((g1 - g2).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void GridSample_SecondOrderGradient_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var gen = new torch.Generator(4);
        var grid = RandomGrid(1, 10, gen);
        var x0 = randn([1, 1, 10, 10], ScalarType.Float64, generator: gen);
        var grid64 = grid.to(ScalarType.Float64);

        // f(x) = ‖∂/∂x Σ grid_sample(x)²‖², the shape of an R1 penalty.
        double Penalty(Tensor x, bool createGraph, out Tensor? input)
        {
            input = x.detach().clone().requires_grad_(true);
            var y = GridSampleGradfix.GridSample(input, grid64);
            var g = autograd.grad([(y * y).sum()], [input], retain_graph: createGraph, create_graph: createGraph)[0];
            var p = g.square().sum();
            if (createGraph)
                p.backward();
            return p.item<double>();
        }

        Penalty(x0, createGraph: true, out var leaf);
        var analytic = leaf!.grad!;
        Assert.True(analytic.isfinite().all().item<bool>());
        foreach (var (i, j) in new[] { (3, 4), (5, 5), (0, 9) })
        {
            var e = zeros_like(x0);
            e[0, 0, i, j] = 1e-4;
            var numeric = (Penalty(x0 + e, false, out _) - Penalty(x0 - e, false, out _)) / 2e-4;
            Assert.Equal(numeric, analytic[0, 0, i, j].item<double>(), 4);
        }
    }

    [Theory]
    [InlineData("bgc")]
    [InlineData("bgcfnc")]
    public void R1ThroughAda_GivesFiniteSecondOrderGradients(string pipeline)
    {
        var cfg = NetworkPresets.Create("smoke", 32, 1).D;
        using var d = new Discriminator(cfg);
        using var pipe = new AugmentPipe(AugmentPresets.Get(pipeline));
        using var scope = NewDisposeScope();
        using var gen = new torch.Generator(5);
        var real = (rand([4, 1, 32, 32], generator: gen) * 2 - 1).requires_grad_(true);
        var logits = d.call(pipe.Apply(real, p: 1, gen), null);
        var r1Grad = autograd.grad([logits.sum()], [real], retain_graph: true, create_graph: true)[0];
        Assert.True(r1Grad.abs().sum().item<float>() > 0, "no gradient reached the un-augmented reals");
        var penalty = r1Grad.square().sum([1, 2, 3]).mean();
        penalty.backward();
        foreach (var (name, p) in d.named_parameters().Where(p => p.name.EndsWith("weight")))
        {
            Assert.True(p.grad is not null, $"{name} got no R1 gradient");
            Assert.True(p.grad.isfinite().all().item<bool>(), $"{name} has a non-finite R1 gradient");
            Assert.True(p.grad.abs().sum().item<float>() > 0, $"{name} has a zero R1 gradient");
        }
    }
}
