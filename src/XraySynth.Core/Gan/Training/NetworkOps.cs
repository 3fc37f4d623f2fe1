using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>The small whole-network operations of the training loop (official misc.py and training_loop.py).</summary>
internal static class NetworkOps
{
    /// <summary>Copies every parameter and buffer of <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void CopyInto(nn.Module source, nn.Module target)
    {
        using var noGrad = no_grad();
        var src = source.state_dict();
        foreach (var (key, t) in target.state_dict())
            t.copy_(src[key]);
    }

    /// <summary>G_ema ← lerp(G, G_ema, beta) for parameters; buffers copied.</summary>
    public static void UpdateEma(Generator g, Generator gEma, double beta)
    {
        using var noGrad = no_grad();
        foreach (var (pEma, p) in gEma.parameters().Zip(g.parameters()))
            pEma.copy_(p.detach().lerp(pEma, beta));
        foreach (var (bEma, b) in gEma.buffers().Zip(g.buffers()))
            bEma.copy_(b);
    }

    public static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var p in module.parameters())
            p.requires_grad = value;
    }

    public static void ClearGrads(nn.Module module)
    {
        foreach (var p in module.parameters())
            p.grad = null;
    }

    /// <summary>NaN → 0 and every value clamped to ±1e5 in every gradient, in place (official misc.nan_to_num).</summary>
    public static void SanitizeGrads(nn.Module module)
    {
        using var scope = NewDisposeScope();
        foreach (var p in module.parameters())
            p.grad?.nan_to_num_(0, 1e5, -1e5).clamp_(-1e5, 1e5);
    }

    public static bool AllFinite(nn.Module module)
    {
        using var scope = NewDisposeScope();
        var flags = module.parameters().Select(p => p.isfinite().all()).ToArray();
        return flags.Length == 0 || stack(flags).all().item<bool>();
    }

    public static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());
}
