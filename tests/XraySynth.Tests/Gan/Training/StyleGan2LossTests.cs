using TorchSharp;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Training;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan.Training;

/// <summary>Each loss phase on the smoke networks: finite gradients into the right network, statistics reported.</summary>
public class StyleGan2LossTests
{
    private sealed class Rig : IDisposable
    {
        public Generator G { get; }
        public Discriminator D { get; }
        public AugmentPipe Augment { get; } = new(AugmentPresets.Get("bgc"));
        public TrainingRng Rng { get; } = new(3, CPU);
        public TrainingStatistics Stats { get; } = new(CPU);
        public StyleGan2Loss Loss { get; }

        public Rig(int cDim = 0)
        {
            var nets = NetworkPresets.Create("smoke", 16, 1, cDim);
            G = new Generator(nets.G);
            D = new Discriminator(nets.D);
            G.train();
            D.train();
            Rng.StartTick(0);
            Loss = new StyleGan2Loss(G, D, Augment, Rng, Stats, r1Gamma: 1, styleMixingProb: 0.9, plWeight: 2, CPU)
            {
                AugmentP = () => 0.5,
            };
        }

        public void Run(LossPhase phase, nn.Module trained, int gain = 1)
        {
            foreach (var p in G.parameters().Concat(D.parameters()))
            {
                p.requires_grad = false;
                p.grad = null;
            }
            foreach (var p in trained.parameters())
                p.requires_grad = true;
            using var scope = NewDisposeScope();
            var c = G.CDim > 0 ? eye(G.CDim)[tensor(new long[] { 0, 1, 0, 1 })] : null;
            var reals = rand([4, 1, 16, 16], generator: Rng.Device) * 2 - 1;
            var z = randn([4, G.ZDim], generator: Rng.Device);
            Loss.Accumulate(phase, reals, c, z, c, gain);
        }

        public void Dispose()
        {
            Loss.Dispose();
            Stats.Dispose();
            Rng.Dispose();
            Augment.Dispose();
            G.Dispose();
            D.Dispose();
        }
    }

    private static void AssertGradients(nn.Module trained, nn.Module other, string phase)
    {
        var grads = trained.named_parameters().Where(p => p.parameter.grad is not null).ToList();
        Assert.True(grads.Count == trained.parameters().Count(), $"{phase}: some parameters got no gradient");
        Assert.All(grads, p => Assert.True(p.parameter.grad!.isfinite().all().item<bool>(), $"{phase}: {p.name} not finite"));
        Assert.Contains(grads, p => p.parameter.grad!.abs().sum().item<float>() > 0);
        Assert.All(other.parameters(), p => Assert.Null(p.grad));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void EachPhase_OnTheSmokeConfig_GivesFiniteGradientsToItsNetworkOnly(int cDim)
    {
        using var rig = new Rig(cDim);
        rig.Run(LossPhase.Gmain, rig.G);
        AssertGradients(rig.G, rig.D, "Gmain");
        rig.Run(LossPhase.Greg, rig.G, gain: 4);
        AssertGradients(rig.G, rig.D, "Greg");
        rig.Run(LossPhase.Dmain, rig.D);
        AssertGradients(rig.D, rig.G, "Dmain");
        rig.Run(LossPhase.Dreg, rig.D, gain: 16);
        AssertGradients(rig.D, rig.G, "Dreg");

        var stats = rig.Stats.Collect();
        foreach (var name in new[] { "Loss/G/loss", "Loss/G/reg", "Loss/pl_penalty", "Loss/D/loss", "Loss/D/reg",
                     "Loss/r1_penalty", "Loss/scores/real", "Loss/scores/fake", "Loss/signs/real", "Loss/signs/fake" })
        {
            Assert.True(stats.ContainsKey(name), $"{name} was not reported");
            Assert.True(double.IsFinite(stats[name]), $"{name} = {stats[name]}");
        }
        Assert.True(stats["Loss/G/loss"] > 0 && stats["Loss/D/loss"] > 0, "softplus losses are positive");
        Assert.Empty(rig.Stats.Collect()); // collected means reset
    }

    [Fact]
    public void PathLengthPhase_MovesTheRunningMeanByOnePercent()
    {
        using var rig = new Rig();
        Assert.Equal(0, rig.Loss.PlMean.item<float>());
        rig.Run(LossPhase.Greg, rig.G);
        var first = rig.Loss.PlMean.item<float>();
        var penalty = rig.Stats.Collect()["Loss/pl_penalty"];
        Assert.True(first > 0, "pl_mean must move towards the path lengths");
        // pl_mean = 0.01 · mean length, and each penalty is (length − pl_mean)²: mean length ≈ 100 · pl_mean.
        Assert.InRange(Math.Sqrt(penalty), 0.5 * 99 * first, 2 * 99 * first);
    }

    [Fact]
    public void R1Phase_GainScalesTheGradient()
    {
        using var rig = new Rig();
        var state = rig.Rng.Device!.get_state();
        rig.Run(LossPhase.Dreg, rig.D, gain: 1);
        var g1 = rig.D.parameters().First().grad!.clone();
        rig.Rng.Device!.set_state(state);
        rig.Run(LossPhase.Dreg, rig.D, gain: 16);
        var g16 = rig.D.parameters().First().grad!;
        Assert.True((g16 - g1 * 16).abs().max().item<float>() <= 1e-4 * g16.abs().max().item<float>());
    }

    [Fact]
    public void SanitizeGrads_ZeroesNaNAndClampsToPlusMinus1e5()
    {
        using var layer = nn.Linear(3, 1);
        using var scope = NewDisposeScope();
        var weight = layer.parameters().First();
        weight.grad = tensor(new float[] { float.NaN, float.PositiveInfinity, -3e7f }).reshape(1, 3);
        NetworkOps.SanitizeGrads(layer);
        Assert.Equal(new float[] { 0, 1e5f, -1e5f }, weight.grad!.data<float>().ToArray());
    }

    [Fact]
    public void NonFiniteLoss_ShowsInTheStepLoss()
    {
        using var rig = new Rig();
        rig.Run(LossPhase.Gmain, rig.G);
        using (var ok = rig.Loss.TakeStepLoss())
            Assert.True(ok.isfinite().item<bool>());
        rig.Loss.PoisonNextGLoss = true;
        rig.Run(LossPhase.Gmain, rig.G);
        using var bad = rig.Loss.TakeStepLoss();
        Assert.False(bad.isfinite().item<bool>());
    }
}
