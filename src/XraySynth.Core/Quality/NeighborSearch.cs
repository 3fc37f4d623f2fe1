using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// Batched Euclidean neighbour searches on the device with bounded memory: queries in row batches against references
/// in column batches, so only an r×c distance block exists at a time (as the official precision/recall's row/column
/// batching). Distances come from |a|² + |b|² − 2aᵀb in float32 after both sides are centred on the references' mean,
/// which keeps the cancellation small (an exact copy lands within ~1e-3 of 0 relative to the typical distance).
/// </summary>
public sealed class NeighborSearch : IDisposable
{
    /// <summary>Rows (and columns) per block in the official pr50k3_full.</summary>
    public const int DefaultBatch = 10_000;

    private readonly Tensor _shift;        // [D] on the device
    private readonly Tensor _references;   // [R, D] centred, on the device
    private readonly Tensor _norms;        // [R] squared norms
    private readonly Device _device;
    private readonly int _rowBatch;
    private readonly int _colBatch;

    /// <summary>Moves <paramref name="references"/> [R, D] to <paramref name="device"/> (centred) for repeated searches.</summary>
    public NeighborSearch(Tensor references, Device? device = null, int rowBatch = DefaultBatch, int colBatch = DefaultBatch)
    {
        if (references.dim() != 2) throw new ArgumentException($"Expected references [R, D], got [{string.Join(", ", references.shape)}].", nameof(references));
        if (rowBatch < 1 || colBatch < 1) throw new ArgumentOutOfRangeException(nameof(rowBatch));
        _device = device ?? CPU;
        _rowBatch = rowBatch;
        _colBatch = colBatch;
        using var scope = NewDisposeScope();
        var r = references.to(ScalarType.Float32, _device);
        // Owned by this object, whatever scope it is created in.
        _shift = (r.shape[0] > 0 ? r.mean([0]) : zeros(r.shape[1], device: _device)).DetachFromDisposeScope();
        _references = (r - _shift).contiguous().DetachFromDisposeScope();
        _norms = _references.square().sum(1).DetachFromDisposeScope();
        Count = r.shape[0];
    }

    /// <summary>Number of references.</summary>
    public long Count { get; }

    /// <summary>
    /// For each query [Q, D], its nearest reference: the distance and the reference's index. When groups are given,
    /// a query never matches a reference of its own group (the same image, or the same patient).
    /// </summary>
    public (double[] Distance, long[] Index) Nearest(Tensor queries, long[]? queryGroups = null, long[]? referenceGroups = null)
    {
        if ((queryGroups is null) != (referenceGroups is null)) throw new ArgumentException("Pass both groups or neither.");
        if (Count == 0) throw new InvalidOperationException("No references to search.");
        long q = queries.shape[0];
        var distance = new double[q];
        var index = new long[q];
        Tensor? refGroups = null;
        if (referenceGroups is not null)
        {
            using var cpuGroups = tensor(referenceGroups);
            refGroups = cpuGroups.to(_device).DetachFromDisposeScope();
        }
        using var groupsOnDevice = refGroups;
        for (long start = 0; start < q; start += _rowBatch)
        {
            using var scope = NewDisposeScope();
            long rows = Math.Min(_rowBatch, q - start);
            var (a, aNorms) = Centre(queries.narrow(0, start, rows));
            var qGroups = queryGroups is null ? null : tensor(queryGroups.AsSpan((int)start, (int)rows).ToArray()).to(_device);
            var best = full(rows, double.PositiveInfinity, ScalarType.Float32, _device);
            var bestIndex = full(rows, -1L, ScalarType.Int64, _device);
            for (long c0 = 0; c0 < Count; c0 += _colBatch)
            {
                long cols = Math.Min(_colBatch, Count - c0);
                var d = Block(a, aNorms, c0, cols);                                      // [r,c]
                if (qGroups is not null)
                    d = d.masked_fill(qGroups.unsqueeze(1).eq(refGroups!.narrow(0, c0, cols).unsqueeze(0)), double.PositiveInfinity);
                var (value, arg) = d.min(1);
                var better = value < best;
                best = where(better, value, best);
                bestIndex = where(better, arg + c0, bestIndex);
            }
            var bestCpu = best.to(ScalarType.Float64).cpu();
            var indexCpu = bestIndex.cpu();
            bestCpu.data<double>().CopyTo(distance.AsSpan((int)start, (int)rows));
            indexCpu.data<long>().CopyTo(index.AsSpan((int)start, (int)rows));
        }
        return (distance, index);
    }

    /// <summary>For each reference, the distance to its k-th nearest other reference (the (k+1)-th smallest distance,
    /// itself included at 0) — the radius of its neighbourhood in the k-NN manifold. [R] float32 on the device.</summary>
    public Tensor KthNeighborRadii(int k)
    {
        if (k < 1 || k + 1 > Count) throw new ArgumentException($"k = {k} needs at least {k + 1} features, got {Count}.");
        var parts = new List<Tensor>();
        for (long start = 0; start < Count; start += _rowBatch)
        {
            using var scope = NewDisposeScope();
            long rows = Math.Min(_rowBatch, Count - start);
            var a = _references.narrow(0, start, rows);
            var aNorms = _norms.narrow(0, start, rows);
            Tensor? smallest = null;                                                       // [r,k+1]
            for (long c0 = 0; c0 < Count; c0 += _colBatch)
            {
                long cols = Math.Min(_colBatch, Count - c0);
                var d = Block(a, aNorms, c0, cols);
                var candidates = smallest is null ? d : cat([smallest, d], 1);
                int keep = (int)Math.Min(k + 1, candidates.shape[1]);
                smallest = candidates.topk(keep, dim: 1, largest: false, sorted: true).values;
            }
            parts.Add(smallest!.select(1, k).MoveToOuterDisposeScope());
        }
        var radii = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return radii;
    }

    /// <summary>Whether each probe [P, D] lies within the neighbourhood (distance ≤ radius) of some reference.</summary>
    public bool[] Covered(Tensor probes, Tensor radii)
    {
        long p = probes.shape[0];
        var covered = new bool[p];
        for (long start = 0; start < p; start += _rowBatch)
        {
            using var scope = NewDisposeScope();
            long rows = Math.Min(_rowBatch, p - start);
            var (a, aNorms) = Centre(probes.narrow(0, start, rows));
            var hit = zeros(rows, ScalarType.Bool, _device);
            for (long c0 = 0; c0 < Count; c0 += _colBatch)
            {
                long cols = Math.Min(_colBatch, Count - c0);
                var d = Block(a, aNorms, c0, cols);
                hit = hit.logical_or(d.le(radii.narrow(0, c0, cols).unsqueeze(0)).any(1));
            }
            hit.cpu().data<bool>().CopyTo(covered.AsSpan((int)start, (int)rows));
        }
        return covered;
    }

    private (Tensor Centred, Tensor Norms) Centre(Tensor rows)
    {
        var a = rows.to(ScalarType.Float32, _device) - _shift;
        return (a, a.square().sum(1));
    }

    /// <summary>Distances [r, c] between centred rows <paramref name="a"/> and references c0 … c0 + cols − 1.</summary>
    private Tensor Block(Tensor a, Tensor aNorms, long c0, long cols)
    {
        var b = _references.narrow(0, c0, cols);
        var d2 = aNorms.unsqueeze(1) + _norms.narrow(0, c0, cols).unsqueeze(0) - 2 * a.mm(b.t());
        return d2.clamp_min(0).sqrt();
    }

    public void Dispose()
    {
        _shift.Dispose();
        _references.Dispose();
        _norms.Dispose();
    }
}
