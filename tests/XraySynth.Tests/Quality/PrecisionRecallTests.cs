using TorchSharp;
using XraySynth.Quality;
using static TorchSharp.torch;

namespace XraySynth.Tests.Quality;

public class PrecisionRecallTests
{
    private static Tensor Sample(int n, int d, ulong seed, double shift = 0)
    {
        using var g = new torch.Generator(seed);
        return randn([n, d], generator: g) + shift;
    }

    [Fact]
    public void Compute_IdenticalSets_AreOne()
    {
        using var x = Sample(150, 16, 1);
        var (precision, recall) = PrecisionRecall.Compute(x, x.clone());
        Assert.Equal((1.0, 1.0), (precision, recall));
    }

    [Fact]
    public void Compute_DisjointSets_AreZero()
    {
        using var real = Sample(120, 16, 2);
        using var far = Sample(80, 16, 3, shift: 50);
        Assert.Equal((0.0, 0.0), PrecisionRecall.Compute(real, far));
    }

    [Fact]
    public void Compute_HalfTheGeneratedOffTheRealManifold_PrecisionHalves_RecallFalls()
    {
        using var real = Sample(100, 8, 4);
        // The generated set copies the reals of one side (first coordinate < 0) and puts as many far away.
        var side = real.select(1, 0).lt(0).nonzero().flatten();
        using var copies = real.index_select(0, side);
        int n = (int)copies.shape[0];
        using var far = Sample(n, 8, 5, shift: 40);
        using var generated = cat([copies, far], 0);
        var (precision, recall) = PrecisionRecall.Compute(real, generated);
        Assert.Equal(0.5, precision, 12);
        Assert.InRange(recall, n / 100.0, 0.9);                             // covers its own side, little of the other
        var (copiesPrecision, copiesRecall) = PrecisionRecall.Compute(real, copies.clone());
        Assert.Equal(1.0, copiesPrecision);
        Assert.Equal(recall, copiesRecall, 12);                             // the far half covers no real point
    }

    [Fact]
    public void Compute_SmallRowAndColumnBlocks_GiveTheSameAnswer()
    {
        using var real = Sample(97, 8, 6);
        using var generated = Sample(61, 8, 7, shift: 0.7);
        var whole = PrecisionRecall.Compute(real, generated);
        var blocked = PrecisionRecall.Compute(real, generated, rowBatch: 7, colBatch: 5);
        Assert.Equal(whole, blocked);
        Assert.InRange(whole.Precision, 0.05, 0.95);
    }

    [Fact]
    public void Nearest_WithGroups_FindsTheClosestReferenceOutsideTheQuerysGroup()
    {
        using var refs = Sample(40, 6, 8);
        using var queries = refs.narrow(0, 0, 10).clone();
        var refGroups = Enumerable.Range(0, 40).Select(i => (long)(i / 2)).ToArray();     // pairs share a group
        var queryGroups = refGroups.Take(10).ToArray();
        using var search = new NeighborSearch(refs, rowBatch: 3, colBatch: 7);
        var (distance, index) = search.Nearest(queries, queryGroups, refGroups);
        var (selfDistance, selfIndex) = search.Nearest(queries);
        var r = refs.to(ScalarType.Float64).data<double>().ToArray();
        for (int q = 0; q < 10; q++)
        {
            Assert.Equal(q, selfIndex[q]);
            Assert.InRange(selfDistance[q], 0, 1e-3);
            double best = double.PositiveInfinity;
            long arg = -1;
            for (int j = 0; j < 40; j++)
            {
                if (refGroups[j] == queryGroups[q]) continue;
                double s = 0;
                for (int k = 0; k < 6; k++) s += Math.Pow(r[q * 6 + k] - r[j * 6 + k], 2);
                if (Math.Sqrt(s) < best) (best, arg) = (Math.Sqrt(s), j);
            }
            Assert.Equal(arg, index[q]);
            Assert.Equal(best, distance[q], 4);
        }
    }
}
