using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Augment;

/// <summary>The controller's state that a snapshot keeps: p and the statistics gathered since the last update.</summary>
/// <param name="P">Current augmentation probability.</param>
/// <param name="SignSum">Sum of sign(D(real)) since the last update.</param>
/// <param name="SignCount">Number of real logits since the last update.</param>
/// <param name="LastRt">The last r_t = E[sign(D(real))] an update used (null before the first).</param>
public sealed record AdaState(double P, double SignSum, double SignCount, double? LastRt);

/// <summary>
/// The adaptive p of ADA: r_t = E[sign(D(real))] over the real logits seen since the last update; every
/// <see cref="Interval"/> minibatches p ← max(0, p + sign(r_t − target) · batch · interval / (ada_kimg · 1000)).
/// The signs are summed on the device; one small read per update.
/// </summary>
public sealed class AdaController : IDisposable
{
    private readonly Tensor _signSum; // [] float64 on the device
    private readonly Tensor _signCount; // [] float64 on the device

    /// <summary>Target value of r_t (0.6 in the paper).</summary>
    public double Target { get; }

    /// <summary>Minibatches between updates (4).</summary>
    public int Interval { get; }

    /// <summary>How many kimg it takes p to move by 1 (500; the official code uses 100 after resuming from a pickle).</summary>
    public double AdaKimg { get; }

    /// <summary>Images per minibatch.</summary>
    public int BatchSize { get; }

    /// <summary>Current augmentation probability.</summary>
    public double P { get; private set; }

    /// <summary>The r_t of the last update; null before the first.</summary>
    public double? LastRt { get; private set; }

    /// <param name="target">Target of r_t.</param>
    /// <param name="batchSize">Images per minibatch.</param>
    /// <param name="interval">Minibatches between updates.</param>
    /// <param name="adaKimg">kimg for p to move by 1.</param>
    /// <param name="initialP">Starting p.</param>
    /// <param name="device">Where the sign statistics accumulate.</param>
    public AdaController(double target, int batchSize, int interval = 4, double adaKimg = 500, double initialP = 0,
        Device? device = null)
    {
        if (interval < 1 || batchSize < 1 || adaKimg <= 0)
            throw new ArgumentException("ADA needs interval ≥ 1, batch ≥ 1 and ada_kimg > 0.");
        Target = target;
        BatchSize = batchSize;
        Interval = interval;
        AdaKimg = adaKimg;
        P = initialP;
        _signSum = zeros([], ScalarType.Float64, device ?? CPU).DetachFromDisposeScope();
        _signCount = zeros([], ScalarType.Float64, device ?? CPU).DetachFromDisposeScope();
    }

    /// <summary>The step p moves by at one update: batch · interval / (ada_kimg · 1000).</summary>
    public double Step => BatchSize * Interval / (AdaKimg * 1000);

    /// <summary>Adds the signs of real logits [N, 1] (no gradient, no synchronisation).</summary>
    public void Accumulate(Tensor realLogits)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var signs = realLogits.detach().sign().to(ScalarType.Float64);
        _signSum.add_(signs.sum());
        _signCount.add_(signs.numel());
    }

    /// <summary>
    /// Called after minibatch <paramref name="batchIndex"/> (counted from 1): on every <see cref="Interval"/>-th one,
    /// reads the statistics, moves p and clears them. Returns whether p was updated.
    /// </summary>
    public bool MaybeUpdate(long batchIndex)
    {
        if (batchIndex % Interval != 0)
            return false;
        var (sum, count) = ReadStatistics();
        Update(sum, count);
        _signSum.zero_();
        _signCount.zero_();
        return true;
    }

    /// <summary>The update rule for given statistics: r_t = sum / count; p ← max(0, p + sign(r_t − target) · step).</summary>
    public void Update(double signSum, double signCount)
    {
        if (signCount <= 0)
            return; // no real logits seen: nothing to adjust by
        var rt = signSum / signCount;
        LastRt = rt;
        P = Math.Max(0, P + Math.Sign(rt - Target) * Step);
    }

    /// <summary>The state to snapshot (reads the device statistics once).</summary>
    public AdaState GetState()
    {
        var (sum, count) = ReadStatistics();
        return new AdaState(P, sum, count, LastRt);
    }

    /// <summary>Restores a snapshotted state.</summary>
    public void SetState(AdaState state)
    {
        P = state.P;
        LastRt = state.LastRt;
        _signSum.fill_(state.SignSum);
        _signCount.fill_(state.SignCount);
    }

    private (double Sum, double Count) ReadStatistics()
    {
        using var scope = NewDisposeScope();
        var both = stack([_signSum, _signCount]).cpu().data<double>().ToArray();
        return (both[0], both[1]);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _signSum.Dispose();
        _signCount.Dispose();
    }
}
