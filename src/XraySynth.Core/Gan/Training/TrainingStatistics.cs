using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// Running means of the values reported during a tick (losses, penalties, D scores), by name as in the official
/// training_stats ("Loss/G/loss", …). Sums stay on the device; <see cref="Collect"/> reads them all in one transfer.
/// </summary>
public sealed class TrainingStatistics : IDisposable
{
    private readonly Dictionary<string, (Tensor Sum, long Count)> _values = [];
    private readonly Device _device;

    /// <summary>Collects on <paramref name="device"/>.</summary>
    public TrainingStatistics(Device device)
    {
        _device = device;
    }

    /// <summary>Adds every element of <paramref name="values"/> to the mean of <paramref name="name"/>.</summary>
    public void Report(string name, Tensor values)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var count = values.numel();
        if (!_values.TryGetValue(name, out var entry))
            entry = (zeros([], ScalarType.Float64, _device).DetachFromDisposeScope(), 0);
        entry.Sum.add_(values.detach().to(ScalarType.Float64).sum());
        _values[name] = (entry.Sum, entry.Count + count);
    }

    /// <summary>The mean of every name reported since the last call (NaN stays NaN), and a reset.</summary>
    public Dictionary<string, double> Collect()
    {
        var result = new Dictionary<string, double>();
        if (_values.Count == 0)
            return result;
        var names = _values.Keys.ToArray();
        using (var scope = NewDisposeScope())
        {
            var sums = stack(names.Select(n => _values[n].Sum).ToArray()).cpu().data<double>().ToArray();
            for (var i = 0; i < names.Length; i++)
                result[names[i]] = sums[i] / Math.Max(1, _values[names[i]].Count);
        }
        Dispose();
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (sum, _) in _values.Values)
            sum.Dispose();
        _values.Clear();
    }
}
