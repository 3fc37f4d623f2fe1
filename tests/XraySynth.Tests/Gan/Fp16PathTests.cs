using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

/// <summary>
/// The fp16 path (pre-normalised modulated convs, fp16 blocks, conv clamp) run on the CPU's half-precision kernels and
/// compared with fp32 on the same weights. On CUDA the same code runs with the same dtypes, so this pins the casts and
/// the overflow guards without a GPU (the CUDA kernels' rounding differs a little, the dtype flow does not).
/// </summary>
public class Fp16PathTests
{
    // Tolerances. fp16 has a 10-bit mantissa: each op rounds with a relative error ≤ 2^-11 ≈ 4.9e-4. A smoke block does
    // ~6 rounding steps per layer (modulate, conv accumulate, demodulate, bias, lrelu·gain, clamp) and the image passes
    // ~4 fp16 layers plus the skip upsampling, so errors of a few 1e-3 relative to the signal are expected; the outputs
    // are of order 0.1–1. Measured on libtorch 2.10 CPU over several runs with random weights, relative to the
    // output's scale: max 4e-4–2.5e-3, mean 6e-5–7e-4. The bounds leave ~4× (max) and ~3× (mean) headroom. A wrong
    // cast (e.g. an overflow without the pre-normalisation, or a missing fp32 conversion) gives inf/NaN or errors of
    // order 1e-1, far beyond them.
    // Both errors are relative to the output's scale (max |a|), so outputs near 0 (a few D logits) cannot inflate them.
    private const double MaxRelativeError = 1e-2; // max |a − b| / max |a|
    private const double MeanRelativeError = 2e-3; // mean |a − b| / max |a|

    /// <summary>Every weight of <paramref name="module"/> drawn afresh from N(0, 1) (StyleGAN2's init: weights are
    /// unit normal, scaled at run time) by a generator of its own, so the comparison runs on the same networks every
    /// time, whatever other tests draw from torch's global generator in parallel.</summary>
    private static void SeededWeights(torch.nn.Module module, int seed)
    {
        var gen = new torch.Generator(0).manual_seed(seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
            if (name.EndsWith("weight", StringComparison.Ordinal))
                p.copy_(randn(p.shape, generator: gen));
    }

    private static (Generator G32, Generator G16) Generators(int resolution)
    {
        var cfg = NetworkPresets.Create("smoke", resolution, 1, cDim: 0);
        var g32 = new Generator(cfg.G with { Synthesis = cfg.G.Synthesis with { NumFp16Res = 0, ConvClamp = 256 } });
        var g16 = new Generator(cfg.G with { Synthesis = cfg.G.Synthesis with { NumFp16Res = 2, ConvClamp = 256 } });
        SeededWeights(g32, 1);
        g16.load_state_dict(g32.state_dict());
        g32.eval();
        g16.eval();
        return (g32, g16);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.True(actual.isfinite().all().item<bool>(), $"{what}: fp16 output has inf/NaN");
        var diff = (expected - actual).abs();
        var maxRel = diff.max().item<float>() / expected.abs().max().item<float>();
        var meanRel = diff.mean().item<float>() / expected.abs().max().item<float>();
        Assert.True(maxRel < MaxRelativeError, $"{what}: max relative error {maxRel:G3}");
        Assert.True(meanRel < MeanRelativeError, $"{what}: mean relative error {meanRel:G3}");
        // And it really ran in fp16: not bit-identical to fp32.
        Assert.True(diff.max().item<float>() > 0, $"{what}: identical to fp32, so the fp16 path did not run");
    }

    [Fact]
    public void Synthesis_Fp16OnCpu_MatchesFp32WithinHalfPrecisionRounding()
    {
        using var scope = NewDisposeScope();
        var (g32, g16) = Generators(32);
        using (g32)
        using (g16)
        {
            Assert.True(g16.Synthesis.Blocks.Where(b => b.Resolution >= 16).All(b => b.UseFp16));
            var gen = new torch.Generator(0).manual_seed(7);
            var z = randn(4, g32.ZDim, generator: gen);
            using var noGrad = no_grad();
            var ws = g32.Mapping.call(z, null, 1.0, null, false);
            foreach (var fused in new bool?[] { null, true, false })
            {
                var a = g32.Synthesis.call(ws, new SynthesisOptions { NoiseMode = NoiseMode.Const, FusedModconv = fused });
                var b = g16.Synthesis.call(ws, new SynthesisOptions
                {
                    NoiseMode = NoiseMode.Const, FusedModconv = fused, Fp16OnCpu = true,
                });
                AssertClose(a, b, $"synthesis (fused {fused?.ToString() ?? "auto"})");
            }
            // Without the switch a CPU keeps fp32: bit-identical (the official rule).
            var c = g16.Synthesis.call(ws, new SynthesisOptions { NoiseMode = NoiseMode.Const });
            var d = g32.Synthesis.call(ws, new SynthesisOptions { NoiseMode = NoiseMode.Const });
            Assert.True(c.equal(d).all().item<bool>());
        }
    }

    [Fact]
    public void Discriminator_Fp16OnCpu_MatchesFp32WithinHalfPrecisionRounding()
    {
        using var scope = NewDisposeScope();
        var cfg = NetworkPresets.Create("smoke", 32, 1, cDim: 0).D;
        using var d32 = new Discriminator(cfg with { NumFp16Res = 0, ConvClamp = 256 });
        using var d16 = new Discriminator(cfg with { NumFp16Res = 2, ConvClamp = 256 });
        SeededWeights(d32, 2);
        d16.load_state_dict(d32.state_dict());
        d16.Fp16OnCpu = true;
        var img = rand(32, 1, 32, 32, generator: new torch.Generator(0).manual_seed(3)) * 2 - 1;
        using var noGrad = no_grad();
        AssertClose(d32.call(img, null), d16.call(img, null), "discriminator logits");
    }

    [Fact]
    public void ModulatedConv_Fp16_PreNormalisationPreventsOverflow()
    {
        // Styles and weights large enough that s·w products overflow fp16 (max 65504) without the pre-normalisation.
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(0).manual_seed(11);
        var x = randn(2, 8, 8, 8, generator: gen);
        var w = randn(8, 8, 3, 3, generator: gen) * 300;
        var s = randn(2, 8, generator: gen) * 300;
        // The non-fused path multiplies x by the styles in the compute dtype (the fused one folds them into fp32 weights).
        var expected = ModulatedConv.Apply(x, w, s, demodulate: true, padding: 1, fused: false);
        var half = ModulatedConv.Apply(x.to(ScalarType.Float16), w, s, demodulate: true, padding: 1, fused: false);
        Assert.Equal(ScalarType.Float16, half.dtype);
        AssertClose(expected, half.to(ScalarType.Float32), "modulated conv");
    }
}
