using XraySynth.Runtime;
using XraySynth.Gan.Networks;

namespace XraySynth.Gan.Training;

/// <summary>The training half of a <c>--cfg</c> preset (the network half is <see cref="NetworkPresets"/>).</summary>
/// <param name="TotalKimg">Training length in thousands of real images.</param>
/// <param name="Batch">Images per minibatch.</param>
/// <param name="Lr">Adam learning rate of G and D (before the lazy-regularisation adjustment).</param>
/// <param name="Gamma">R1 weight.</param>
/// <param name="EmaKimg">Half-life of G_ema in kimg.</param>
/// <param name="EmaRampup">G_ema ramp-up: the half-life is at most cur_nimg · rampup; null = none.</param>
/// <param name="StyleMixingProb">Probability of mixing two latents in a minibatch.</param>
/// <param name="PlWeight">Weight of the path-length penalty; 0 = no path-length regularisation.</param>
public sealed record TrainingHyperparameters(double TotalKimg, int Batch, double Lr, double Gamma, double EmaKimg,
    double? EmaRampup, double StyleMixingProb, double PlWeight);

/// <summary>
/// The official train.py cfg_specs (one GPU): kimg, batch, lr, gamma, ema, ramp-up; cifar drops path length and
/// style mixing. <c>small</c> and <c>smoke</c> are ours, for CPU runs and tests (auto's rules at a small batch).
/// </summary>
public static class TrainingPresets
{
    /// <summary>The hyper-parameters of preset <paramref name="cfg"/> for <paramref name="resolution"/>-px images.</summary>
    public static TrainingHyperparameters Get(string cfg, int resolution)
    {
        switch (cfg)
        {
            case "auto":
            {
                var batch = Math.Max(Math.Min(Math.Min(4096 / resolution, 32), 64), 1);
                var lr = resolution >= 1024 ? 0.002 : 0.0025;
                return new(25000, batch, lr, 0.0002 * resolution * resolution / batch, batch * 10 / 32.0, 0.05, 0.9, 2);
            }
            case "stylegan2":
                return new(25000, 32, 0.002, 10, 10, null, 0.9, 2);
            case "paper256":
                return new(25000, 64, 0.0025, 1, 20, null, 0.9, 2);
            case "paper512":
                return new(25000, 64, 0.0025, 0.5, 20, null, 0.9, 2);
            case "paper1024":
                return new(25000, 32, 0.002, 2, 10, null, 0.9, 2);
            case "cifar":
                return new(100000, 64, 0.0025, 0.01, 500, 0.05, 0, 0);
            case "small":
                // smoke's R1 gamma and G_ema (its rules at batch 8, with which it was measured) at a batch of 16 and
                // without style mixing: with mixing these networks drew speckled, collapsed shapes on the demo's data
                // (docs/benchmarks.md), without it clean, varied ones; path length stays (without it, speckle again).
                return new(50, 16, 0.0025, 0.0002 * resolution * resolution / 8, 2.5, 0.05, 0, 2);
            case "smoke":
            {
                const int batch = 8;
                return new(50, batch, 0.0025, 0.0002 * resolution * resolution / batch, batch * 10 / 32.0, 0.05, 0.9, 2);
            }
            default:
                throw new ArgumentException(
                    $"Unknown preset '{cfg}'; use one of: {string.Join(", ", NetworkPresets.Names)}.", nameof(cfg));
        }
    }
}
