using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>The mean [D] and covariance [D, D] of a feature set, float64 on the CPU. The covariance is the population
/// one (divided by N), as the official metrics' <c>FeatureStats.get_mean_cov</c>. Dispose it.</summary>
public sealed class FeatureMoments(Tensor mean, Tensor covariance, long count) : IDisposable
{
    public Tensor Mean { get; } = mean;
    public Tensor Covariance { get; } = covariance;
    public long Count { get; } = count;
    public int Dimension => (int)Mean.shape[0];

    /// <summary>The moments of features [N, D] (any float type), accumulated in chunks.</summary>
    public static FeatureMoments Of(Tensor features, int chunk = 4096)
    {
        using var acc = new FeatureAccumulator(keepAll: false);
        for (long start = 0; start < features.shape[0]; start += chunk)
        {
            using var part = features.narrow(0, start, Math.Min(chunk, features.shape[0] - start));
            acc.Append(part);
        }
        return acc.Moments();
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}

/// <summary>
/// Streams features [N, D] in, batch by batch, and accumulates their first and second moments in float64, so 50k
/// images need only a D×D matrix, never the images or (unless <c>keepAll</c>) the features. Sums are taken about a
/// shift (the first batch's mean): Σ(x − r) and Σ(x − r)(x − r)ᵀ give the same mean and covariance as raw sums but
/// without the cancellation of E[xxᵀ] − μμᵀ when features have large means.
/// </summary>
public sealed class FeatureAccumulator(bool keepAll) : IDisposable
{
    private readonly List<Tensor> _kept = [];
    private Tensor? _shift;      // [D] float64
    private Tensor? _sum;        // [D] float64, Σ(x − r)
    private Tensor? _outer;      // [D, D] float64, Σ(x − r)(x − r)ᵀ

    /// <summary>Features appended so far.</summary>
    public long Count { get; private set; }

    /// <summary>Feature dimension (0 before the first batch).</summary>
    public int Dimension { get; private set; }

    /// <summary>Adds features [N, D] (any float type, any device).</summary>
    public void Append(Tensor features)
    {
        if (features.dim() != 2)
            throw new ArgumentException($"Expected features [N, D], got [{string.Join(", ", features.shape)}].", nameof(features));
        long n = features.shape[0];
        if (n == 0) return;
        if (Dimension == 0) Dimension = (int)features.shape[1];
        else if (features.shape[1] != Dimension)
            throw new ArgumentException($"Feature dimension changed from {Dimension} to {features.shape[1]}.", nameof(features));
        using (var scope = NewDisposeScope())
        {
            var x = features.to(ScalarType.Float64, CPU);                                   // [N,D]
            if (_shift is null)
            {
                // State owned by the accumulator, whatever scope the caller appends in.
                _shift = x.mean([0]).DetachFromDisposeScope();
                _sum = zeros(Dimension, ScalarType.Float64).DetachFromDisposeScope();
                _outer = zeros([Dimension, Dimension], ScalarType.Float64).DetachFromDisposeScope();
            }
            var centred = x - _shift;
            _sum!.add_(centred.sum([0]));
            _outer!.add_(centred.t().mm(centred));
        }
        if (keepAll)
        {
            using var scope = NewDisposeScope();
            var copy = features.to(ScalarType.Float32, CPU).contiguous();
            _kept.Add(ReferenceEquals(copy, features) ? copy.clone().DetachFromDisposeScope() : copy.DetachFromDisposeScope());
        }
        Count += n;
    }

    /// <summary>Mean and population covariance of everything appended.</summary>
    public FeatureMoments Moments()
    {
        if (Count == 0) throw new InvalidOperationException("No features were appended.");
        using var scope = NewDisposeScope();
        var d = _sum! / Count;                                                                 // E[x − r]
        var mean = _shift! + d;
        var cov = _outer! / Count - d.outer(d);
        cov = (cov + cov.t()) / 2;
        return new FeatureMoments(mean.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope(), Count);
    }

    /// <summary>All features appended, float32 [N, D] on the CPU (needs <c>keepAll</c>). The accumulator keeps owning
    /// it: dispose the accumulator, not the result.</summary>
    public Tensor All()
    {
        if (!keepAll) throw new InvalidOperationException("This accumulator does not keep its features.");
        if (_kept.Count == 0) _kept.Add(zeros([0, Dimension], ScalarType.Float32).DetachFromDisposeScope());
        if (_kept.Count > 1)
        {
            var all = cat(_kept, 0).DetachFromDisposeScope();
            foreach (var t in _kept) t.Dispose();
            _kept.Clear();
            _kept.Add(all);
        }
        return _kept[0];
    }

    public void Dispose()
    {
        foreach (var t in _kept) t.Dispose();
        _kept.Clear();
        _shift?.Dispose();
        _sum?.Dispose();
        _outer?.Dispose();
    }
}
