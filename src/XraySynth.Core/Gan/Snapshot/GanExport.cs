using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using XraySynth.Gan.Networks;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Snapshot;

/// <summary>
/// <c>gan export</c>: a snapshot as a PyTorch file (torch.save's zip format) that the official code and any PyTorch
/// user load without XraySynth and without running code (<c>torch.load(f, weights_only=True)</c>). Key names are
/// the official ones (our modules are named as in training/networks.py).
/// <para>Layout (<see cref="Write"/>): a dict <c>{"G": state_dict, "D": state_dict, "G_ema": state_dict,
/// "G_kwargs": {...}, "D_kwargs": {...}}</c> whose kwargs are the official constructors' arguments, so
/// <c>Generator(**d["G_kwargs"]).load_state_dict(d["G_ema"])</c> rebuilds the network. With <c>only</c> set, the
/// file is that one network's flat state_dict (<c>G.load_state_dict(torch.load(f, weights_only=True))</c>).</para>
/// </summary>
public static class GanExport
{
    /// <summary>Names of the parts of the file.</summary>
    public const string GKwargs = "G_kwargs", DKwargs = "D_kwargs";

    /// <summary>Writes <paramref name="snapshotDir"/>'s networks to <paramref name="file"/> atomically; returns the
    /// number of tensors written. <paramref name="only"/> ("G", "D" or "G_ema") writes that network's flat state_dict.</summary>
    /// <exception cref="SnapshotException">The snapshot cannot be read.</exception>
    public static int Write(string snapshotDir, string file, string? only = null)
    {
        if (only is not null && only is not (GanSnapshot.G or GanSnapshot.D or GanSnapshot.GEma))
            throw new ArgumentException($"'{only}' is not a network of a snapshot; use G, D or G_ema.", nameof(only));
        using var scope = NewDisposeScope();
        using var networks = GanSnapshot.Load(snapshotDir);
        var arch = new GanArchitecture(networks.G.Config, networks.D.Config);
        var parts = new Dictionary<string, nn.Module>
        {
            [GanSnapshot.G] = networks.G,
            [GanSnapshot.D] = networks.D,
            [GanSnapshot.GEma] = networks.GEma,
        };
        int count = 0;
        Hashtable StateOf(nn.Module m)
        {
            var table = new Hashtable();
            foreach (var (key, tensor) in m.state_dict())
            {
                // Contiguous CPU copies without grad: the pickler stores raw row-major bytes at offset 0.
                table[key] = tensor.detach().cpu().contiguous().clone();
                count++;
            }
            return table;
        }
        Hashtable content;
        if (only is not null)
        {
            content = StateOf(parts[only]);
        }
        else
        {
            content = new Hashtable();
            foreach (var (name, module) in parts)
                content[name] = StateOf(module);
            content[GKwargs] = OfficialKwargs(arch.G);
            content[DKwargs] = OfficialKwargs(arch.D);
        }
        var full = Path.GetFullPath(file);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        AtomicFile.Write(full, stream => PyTorchPickler.PickleStateDict(stream, content, leaveOpen: true));
        return count;
    }

    /// <summary>Reads a file written by <see cref="Write"/> (either layout) into CPU tensors, by part ("G", "D",
    /// "G_ema"; a flat file is the single part ""). The caller disposes the tensors.</summary>
    public static Dictionary<string, Dictionary<string, Tensor>> Read(string file)
    {
        using var stream = File.OpenRead(file);
        var table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        static Dictionary<string, Tensor> Tensors(Hashtable t) =>
            t.Cast<DictionaryEntry>().Where(e => e.Value is Tensor).ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);
        var parts = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Hashtable inner && key is GanSnapshot.G or GanSnapshot.D or GanSnapshot.GEma)
                parts[key] = Tensors(inner);
        }
        if (parts.Count == 0) parts[""] = Tensors(table);
        return parts;
    }

    /// <summary>The official <c>training.networks.Generator</c> keyword arguments of <paramref name="g"/>.</summary>
    public static Dictionary<string, object?> OfficialKwargs(GeneratorConfig g) => new()
    {
        ["z_dim"] = g.ZDim,
        ["c_dim"] = g.CDim,
        ["w_dim"] = g.WDim,
        ["img_resolution"] = g.ImgResolution,
        ["img_channels"] = g.ImgChannels,
        ["mapping_kwargs"] = MappingKwargs(g.Mapping, withWAvg: true),
        ["synthesis_kwargs"] = new Dictionary<string, object?>
        {
            ["channel_base"] = g.Synthesis.ChannelBase,
            ["channel_max"] = g.Synthesis.ChannelMax,
            ["num_fp16_res"] = g.Synthesis.NumFp16Res,
            ["conv_clamp"] = Number(g.Synthesis.ConvClamp),
            ["architecture"] = Name(g.Synthesis.Architecture),
            ["resample_filter"] = Filter(g.Synthesis.ResampleFilter),
            ["use_noise"] = g.Synthesis.UseNoise,
            ["activation"] = Name(g.Synthesis.Activation),
            ["kernel_size"] = g.Synthesis.KernelSize,
        },
    };

    /// <summary>The official <c>training.networks.Discriminator</c> keyword arguments of <paramref name="d"/>.</summary>
    public static Dictionary<string, object?> OfficialKwargs(DiscriminatorConfig d) => new()
    {
        ["c_dim"] = d.CDim,
        ["img_resolution"] = d.ImgResolution,
        ["img_channels"] = d.ImgChannels,
        ["architecture"] = Name(d.Architecture),
        ["channel_base"] = d.ChannelBase,
        ["channel_max"] = d.ChannelMax,
        ["num_fp16_res"] = d.NumFp16Res,
        ["conv_clamp"] = Number(d.ConvClamp),
        ["cmap_dim"] = d.CmapDim,
        ["block_kwargs"] = new Dictionary<string, object?>
        {
            ["activation"] = Name(d.Activation),
            ["resample_filter"] = Filter(d.ResampleFilter),
            ["freeze_layers"] = d.FreezeLayers,
        },
        // The discriminator's label mapping: official passes w_avg_beta=None itself.
        ["mapping_kwargs"] = MappingKwargs(d.Mapping, withWAvg: false),
        ["epilogue_kwargs"] = new Dictionary<string, object?>
        {
            ["mbstd_group_size"] = d.MbstdGroupSize,
            ["mbstd_num_channels"] = d.MbstdNumChannels,
            ["activation"] = Name(d.Activation),
        },
    };

    // The official MappingNetwork defaults.
    private const double OfficialLrMultiplier = 0.01, OfficialWAvgBeta = 0.995;

    private static Dictionary<string, object?> MappingKwargs(MappingConfig m, bool withWAvg)
    {
        var kwargs = new Dictionary<string, object?>
        {
            ["num_layers"] = m.NumLayers,
            ["embed_features"] = m.EmbedFeatures,
            ["layer_features"] = m.LayerFeatures,
            ["activation"] = Name(m.Activation),
        };
        // Floats only where they differ from the official defaults: torch 1.x's weights_only unpickler has no
        // BINFLOAT opcode, so a float would make the whole file unreadable there.
        if (m.LrMultiplier != OfficialLrMultiplier) kwargs["lr_multiplier"] = m.LrMultiplier;
        if (withWAvg && m.WAvgBeta != OfficialWAvgBeta) kwargs["w_avg_beta"] = m.WAvgBeta;
        return kwargs;
    }

    private static string Name(Enum value) => value.ToString().ToLowerInvariant();

    // A Python list (not an array.array, which weights_only refuses), integers where the taps are whole.
    private static List<object> Filter(double[] taps) => [.. taps.Select(t => Number(t)!)];

    private static object? Number(double? value) => value switch
    {
        null => null,
        { } v when v == Math.Floor(v) && Math.Abs(v) < int.MaxValue => (int)v,
        { } v => v,
    };
}
