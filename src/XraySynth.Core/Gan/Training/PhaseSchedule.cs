using XraySynth.Runtime;
using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// The official phases of a minibatch in their order — Gmain, Greg, Dmain, Dreg — each with its network, optimizer
/// and interval: the main phases run every minibatch, the regularisation phases (lazy regularisation) every
/// G/D reg interval, and not at all when their weight is 0 (no path length, gamma 0). Times each phase.
/// </summary>
internal sealed class PhaseSchedule
{
    private readonly record struct Phase(LossPhase Name, nn.Module Module, Adam Optimizer, int Interval);

    private readonly Phase[] _active;
    private readonly Dictionary<LossPhase, double> _tickSeconds = [];

    public PhaseSchedule(GanRunState s, GanTrainSetup setup, double gamma)
    {
        Phase[] all =
        [
            new(LossPhase.Gmain, s.G, s.GOpt, 1),
            new(LossPhase.Greg, s.G, s.GOpt, setup.GRegInterval),
            new(LossPhase.Dmain, s.D, s.DOpt, 1),
            new(LossPhase.Dreg, s.D, s.DOpt, setup.DRegInterval),
        ];
        _active = all.Where(p => p.Name switch
        {
            LossPhase.Greg => setup.Preset.PlWeight != 0,
            LossPhase.Dreg => gamma != 0,
            _ => true,
        }).ToArray();
    }

    /// <summary>
    /// Runs the phases due at minibatch <see cref="GanRunState.BatchIdx"/> on one minibatch of reals: each draws its
    /// latents and labels, accumulates its loss into its network's gradients, sanitises them and steps its optimizer.
    /// </summary>
    public void Run(GanRunState s, TrainingSet data, Tensor realImg, Tensor? realC, int batch, int zDim, Device device)
    {
        foreach (var (phase, module, opt, interval) in _active)
        {
            if (s.BatchIdx % interval != 0)
                continue;
            var genZ = randn([batch, zDim], device: device, generator: s.Rng.Device);
            var genC = data.LabelsOf(s.Rng.Uniform(batch, data.Length));
            var phaseStart = Stopwatch.GetTimestamp();
            NetworkOps.ClearGrads(module);
            NetworkOps.SetRequiresGrad(module, true);
            s.Loss.Accumulate(phase, realImg, realC, genZ, genC, interval);
            NetworkOps.SetRequiresGrad(module, false);
            NetworkOps.SanitizeGrads(module);
            opt.step();
            // Wall time per phase (exact on a CPU; on CUDA the kernels may still run when it is read).
            _tickSeconds[phase] = _tickSeconds.GetValueOrDefault(phase) + Stopwatch.GetElapsedTime(phaseStart).TotalSeconds;
        }
    }

    /// <summary>Seconds per phase since the last call (the tick's), and a fresh count for the next tick.</summary>
    public Dictionary<LossPhase, double> TakeTickSeconds()
    {
        var seconds = new Dictionary<LossPhase, double>(_tickSeconds);
        _tickSeconds.Clear();
        return seconds;
    }
}
