using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019) as the official <c>pr50k3_full</c>: each feature set is a
/// manifold, the union of balls around its points with radius the distance to the point's k-th nearest neighbour
/// (k = 3). Precision is the fraction of generated features inside the real manifold (realism), recall the fraction of
/// real features inside the generated manifold (coverage). The official code computes in float16; here float32.
/// </summary>
public static class PrecisionRecall
{
    /// <summary>Neighbourhood size of pr50k3_full.</summary>
    public const int DefaultNeighborhood = 3;

    public static (double Precision, double Recall) Compute(Tensor real, Tensor generated, int k = DefaultNeighborhood,
        Device? device = null, int rowBatch = NeighborSearch.DefaultBatch, int colBatch = NeighborSearch.DefaultBatch)
    {
        if (real.dim() != 2 || generated.dim() != 2 || real.shape[1] != generated.shape[1])
            throw new ArgumentException($"Expected features [N, D] and [M, D], got [{string.Join(", ", real.shape)}] and [{string.Join(", ", generated.shape)}].");
        double precision = Coverage(manifold: real, probes: generated, k, device, rowBatch, colBatch);
        double recall = Coverage(manifold: generated, probes: real, k, device, rowBatch, colBatch);
        return (precision, recall);
    }

    /// <summary>Fraction of <paramref name="probes"/> within the k-NN manifold of <paramref name="manifold"/>.</summary>
    private static double Coverage(Tensor manifold, Tensor probes, int k, Device? device, int rowBatch, int colBatch)
    {
        using var search = new NeighborSearch(manifold, device, rowBatch, colBatch);
        using var radii = search.KthNeighborRadii(k);
        var covered = search.Covered(probes, radii);
        return covered.Length == 0 ? double.NaN : covered.Count(c => c) / (double)covered.Length;
    }
}
