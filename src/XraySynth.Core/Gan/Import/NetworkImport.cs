using System.Security.Cryptography;
using TorchSharp;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Runtime;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Import;

/// <summary>Where an imported snapshot came from (the snapshot's "import" section).</summary>
/// <param name="Source">The pickle's full path.</param>
/// <param name="Sha256">SHA-256 of the pickle.</param>
/// <param name="GClass">Class name of G (and G_ema).</param>
/// <param name="DClass">Class name of D.</param>
/// <param name="TrainingResolution">training_set_kwargs.resolution, when the pickle records it.</param>
/// <param name="TrainingUseLabels">training_set_kwargs.use_labels, when recorded.</param>
/// <param name="TrainingXflip">training_set_kwargs.xflip, when recorded.</param>
/// <param name="HadAugmentPipe">Whether the pickle held an augment_pipe (not imported: ADA starts again at p = 0).</param>
public sealed record ImportInfo(string Source, string Sha256, string GClass, string DClass, int? TrainingResolution,
    bool? TrainingUseLabels, bool? TrainingXflip, bool HadAugmentPipe);

/// <summary>
/// <c>gan import</c>: an official network pickle becomes an XraySynth snapshot folder (G, D, G_ema + architecture),
/// usable by <c>gan generate</c>, <c>gan metrics</c> and <c>gan train --transfer</c>. The architecture comes from the
/// pickle's init_kwargs; every tensor lands by its state_dict name and exact shape, and any missing, extra or
/// misshapen tensor is refused by name.
/// </summary>
public static class NetworkImport
{
    /// <summary>Name of the snapshot section that records the source.</summary>
    public const string ImportSection = "import";

    /// <summary>Imports <paramref name="pklPath"/> into the snapshot folder <paramref name="outDir"/> (atomically).</summary>
    public static (GanArchitecture Architecture, ImportInfo Info) Run(string pklPath, string outDir)
    {
        var full = Path.GetFullPath(pklPath);
        var (arch, nets, info) = Load(full);
        using (nets)
            GanSnapshot.Save(outDir, nets.G, nets.D, nets.GEma, w => w.AddSection(ImportSection, info));
        return (arch, info);
    }

    /// <summary>Reads a pickle into CPU networks (eval mode, no gradients); DataException naming the file on any problem.</summary>
    public static (GanArchitecture Architecture, GanNetworks Networks, ImportInfo Info) Load(string pklPath)
    {
        var full = Path.GetFullPath(pklPath);
        var contents = NetworkPickle.Read(full);
        GanArchitecture arch;
        try
        {
            foreach (var (net, expected) in new[] { (contents.G, "Generator"), (contents.GEma, "Generator"), (contents.D, "Discriminator") })
            {
                if (net.ClassName != expected)
                    throw new PickleRefusedException($"a network of class '{net.ClassName}' where a StyleGAN2 {expected} belongs");
            }
            if (contents.G.Tensors.Keys.Any(k => k.StartsWith("synthesis.input.", StringComparison.Ordinal)))
                throw new PickleRefusedException("G is a StyleGAN3 (config t or r) generator; only StyleGAN2 networks are read");
            var g = PickleArchitecture.Generator(contents.G.InitKwargs);
            if (PickleArchitecture.Generator(contents.GEma.InitKwargs) != g)
                throw new PickleRefusedException("G and G_ema were built with different init_kwargs");
            var d = PickleArchitecture.Discriminator(contents.D.InitKwargs);
            if (d.ImgResolution != g.ImgResolution || d.ImgChannels != g.ImgChannels || d.CDim != g.CDim)
                throw new PickleRefusedException("G and D differ in resolution, channels or c_dim");
            arch = new GanArchitecture(g, d);
        }
        catch (PickleRefusedException e)
        {
            throw new DataException($"{full}: refused: {e.Message}. fix: pass a StyleGAN2 network pickle of stylegan2-ada-pytorch or stylegan3 (--cfg stylegan2).");
        }

        var gNet = new Generator(arch.G);
        var dNet = new Discriminator(arch.D);
        var gEma = new Generator(arch.G);
        var nets = new GanNetworks(gNet, dNet, gEma);
        try
        {
            LoadExact(gNet, contents.G.Tensors, "G", full);
            LoadExact(dNet, contents.D.Tensors, "D", full);
            LoadExact(gEma, contents.GEma.Tensors, "G_ema", full);
        }
        catch
        {
            nets.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in contents.G.Tensors.Values.Concat(contents.D.Tensors.Values).Concat(contents.GEma.Tensors.Values))
                t.Dispose();
        }
        foreach (var m in new nn.Module[] { gNet, dNet, gEma })
        {
            m.eval();
            foreach (var p in m.parameters())
                p.requires_grad = false;
        }
        var kw = contents.TrainingSetKwargs;
        var info = new ImportInfo(full, Sha256Of(full), contents.G.ClassName, contents.D.ClassName,
            kw?.Get("resolution") is long r ? (int)r : null, kw?.Get("use_labels") as bool?, kw?.Get("xflip") as bool?,
            contents.HasAugmentPipe);
        return (arch, nets, info);
    }

    /// <summary>Copies <paramref name="tensors"/> into <paramref name="module"/>: same keys, same shapes, or a DataException listing every difference.</summary>
    internal static void LoadExact(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string network, string file)
    {
        var target = module.state_dict();
        var problems = new List<string>();
        foreach (var key in target.Keys.Where(k => !tensors.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"missing '{key}' {Shape(target[key])}");
        foreach (var key in tensors.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected '{key}' {Shape(tensors[key])}");
        foreach (var key in target.Keys.Where(tensors.ContainsKey).Order(StringComparer.Ordinal))
        {
            if (!target[key].shape.SequenceEqual(tensors[key].shape))
                problems.Add($"'{key}' is {Shape(tensors[key])}, the architecture in its init_kwargs needs {Shape(target[key])}");
        }
        if (problems.Count > 0)
        {
            const int shown = 12;
            throw new DataException($"{file}: {network}'s tensors do not fit the network its init_kwargs describe ({problems.Count} problem(s)): " +
                string.Join("; ", problems.Take(shown)) + (problems.Count > shown ? $"; and {problems.Count - shown} more" : "") +
                ". fix: pass an unmodified StyleGAN2 network pickle.");
        }
        using var noGrad = no_grad();
        foreach (var (key, t) in target)
            t.copy_(tensors[key].to(t.dtype));
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
