using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (FID when the features are Inception's):
/// FD = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½.
/// <para>How tr (Σ₁Σ₂)^½ is computed: Σ₁Σ₂ is not symmetric, but it is similar to the symmetric positive semi-definite
/// M = Σ₁^½ Σ₂ Σ₁^½ (Σ₁Σ₂ = Σ₁^½ M Σ₁^-½ when Σ₁ is invertible, and by continuity otherwise), so the traces of their
/// square roots agree: tr (Σ₁Σ₂)^½ = Σᵢ √λᵢ(M). Both square roots come from symmetric eigendecompositions
/// (<c>torch.linalg.eigh</c>, float64 on the CPU): Σ₁^½ = V diag(√λ) Vᵀ, then the eigenvalues of M; eigenvalues below
/// λ_max · D · 2⁻⁵² (rounding noise, or negative) count as 0 — no complex arithmetic, no iterative sqrtm that may fail to converge for the
/// singular covariances of few samples in many dimensions (scipy's sqrtm in the official code returns a complex
/// result there and keeps its real part).</para>
/// </summary>
public static class FrechetDistance
{
    private const double Float64Epsilon = 2.220446049250313e-16;   // 2⁻⁵², the spacing of doubles at 1

    /// <summary>FD between two fitted Gaussians; never negative (a rounding residue below 0 is returned as 0); NaN when
    /// a mean or covariance is not finite (a diverged generator).</summary>
    public static double Compute(FeatureMoments a, FeatureMoments b) => Compute(a.Mean, a.Covariance, b.Mean, b.Covariance);

    /// <summary>FD between N(<paramref name="mu1"/>, <paramref name="sigma1"/>) and N(<paramref name="mu2"/>,
    /// <paramref name="sigma2"/>): means [D], covariances [D, D], any float type and device.</summary>
    public static double Compute(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2)
    {
        long d = mu1.shape[0];
        if (mu2.shape[0] != d || !sigma1.shape.SequenceEqual([d, d]) || !sigma2.shape.SequenceEqual([d, d]))
            throw new ArgumentException($"Shapes do not match: means [{mu1.shape[0]}], [{mu2.shape[0]}], covariances " +
                                        $"[{string.Join(", ", sigma1.shape)}], [{string.Join(", ", sigma2.shape)}].");
        using var scope = NewDisposeScope();
        var m1 = mu1.to(ScalarType.Float64, CPU);
        var m2 = mu2.to(ScalarType.Float64, CPU);
        var s1 = sigma1.to(ScalarType.Float64, CPU);
        var s2 = sigma2.to(ScalarType.Float64, CPU);
        if (!new[] { m1, m2, s1, s2 }.All(t => t.isfinite().all().item<bool>())) return double.NaN;
        double meanTerm = (m1 - m2).square().sum().item<double>();
        double traces = (s1.trace() + s2.trace()).item<double>();
        double fd = meanTerm + traces - 2 * TraceSqrtProduct(s1, s2);
        return Math.Max(0, fd);
    }

    /// <summary>tr (Σ₁Σ₂)^½ for symmetric positive semi-definite Σ₁, Σ₂, as Σᵢ √λᵢ(Σ₁^½ Σ₂ Σ₁^½).</summary>
    public static double TraceSqrtProduct(Tensor sigma1, Tensor sigma2)
    {
        using var scope = NewDisposeScope();
        var s1 = Symmetric(sigma1.to(ScalarType.Float64, CPU));
        var s2 = Symmetric(sigma2.to(ScalarType.Float64, CPU));
        var root1 = SqrtPsd(s1);
        var m = Symmetric(root1.mm(s2).mm(root1));
        var eigenvalues = linalg.eigvalsh(m);                                          // values only: M's vectors are not needed
        return RankRevealed(eigenvalues).sqrt().sum().item<double>();
    }

    /// <summary>The symmetric square root V diag(√λ) Vᵀ of a symmetric positive semi-definite matrix (eigenvalues
    /// indistinguishable from 0, or negative by rounding, taken as 0).</summary>
    public static Tensor SqrtPsd(Tensor symmetric)
    {
        using var scope = NewDisposeScope();
        var (values, vectors) = linalg.eigh(Symmetric(symmetric));
        var root = (vectors * RankRevealed(values).sqrt().unsqueeze(0)).mm(vectors.t());
        return Symmetric(root).MoveToOuterDisposeScope();
    }

    private static Tensor Symmetric(Tensor m) => (m + m.t()) / 2;

    /// <summary>Eigenvalues with those indistinguishable from 0 set to 0: below λ_max · D · ε(float64), as a
    /// rank-revealing solver would. Without this, √ of rounding noise (~1e-16 → 1e-8) adds up over the null space of
    /// the singular covariances of few samples.</summary>
    private static Tensor RankRevealed(Tensor eigenvalues)
    {
        double max = eigenvalues.abs().max().item<double>();
        double tolerance = max * eigenvalues.shape[0] * Float64Epsilon;
        return where(eigenvalues > tolerance, eigenvalues, zeros_like(eigenvalues));
    }
}
