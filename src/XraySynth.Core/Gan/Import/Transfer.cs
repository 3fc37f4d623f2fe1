using TorchSharp;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using static TorchSharp.torch;
using XraySynth.Runtime;
using XraySynth.Weights;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Import;

/// <summary>What <see cref="Transfer.Apply"/> did, per network ("G.synthesis.b4.torgb.weight", ...).</summary>
/// <param name="Copied">Tensors copied as they are.</param>
/// <param name="Converted">Tensors converted by a channel rule (torgb: luma; fromrgb: channel sum or mean).</param>
/// <param name="Fresh">Tensors that keep their fresh initialisation (label embedding and projection of a new condition).</param>
public sealed record TransferReport(IReadOnlyList<string> Copied, IReadOnlyList<string> Converted, IReadOnlyList<string> Fresh);

/// <summary>
/// Starting a run from pretrained networks (<c>gan train --transfer</c>): the source is an official network pickle or
/// an XraySynth snapshot folder; the new networks take the source's architecture with the data's channels and labels,
/// and every tensor of G, D and G_ema the source has with the same name and shape. Channel rules (RGB source, grey
/// data; luma weights of ITU-R BT.601, <see cref="Luma"/>):
/// <list type="bullet">
/// <item>torgb (G): weight_grey = Σ_c luma_c · weight_c, bias_grey = Σ_c luma_c · bias_c. toRGB is linear in its
/// weight and bias and the skip generator sums the blocks' images, so the grey generator's image is exactly the
/// luminance 0.299 R + 0.587 G + 0.114 B of the RGB generator's image (up to conv_clamp).</item>
/// <item>fromrgb (D): effective weight_grey = Σ_c effective weight_c, so D sees a grey image g exactly as it saw the
/// RGB image (g, g, g). The layer multiplies its stored weight by 1/sqrt(C) at run time (equalized learning rate), so
/// the stored weight_grey = sqrt(1/3) · Σ_c weight_c.</item>
/// <item>grey source, RGB data: torgb weight and bias replicated to every channel (output (g, g, g)); fromrgb
/// effective weight_c = effective weight / 3 (D sees (g, g, g) as it saw g), stored weight_c = weight / sqrt(3).</item>
/// </list>
/// Labels: a label embedding the source lacks (unconditional → conditional) starts fresh — G's mapping.embed, the
/// label columns of mapping.fc0, D's label mapping and its projection head b4.out; the latent columns of fc0 keep their
/// weights. The resolution must match. Any other difference is refused by name.
/// </summary>
public static class Transfer
{
    /// <summary>ITU-R BT.601 luma weights of R, G, B (the same rule <c>prepare</c> uses to turn colour images grey).</summary>
    public static readonly double[] Luma = [0.299, 0.587, 0.114];

    /// <summary>
    /// The source to transfer from, as a full path: an existing network pickle or snapshot folder, or a published
    /// network's name (<see cref="WeightsRegistry"/>, e.g. <c>ffhq256</c>), fetched and verified by <see cref="WeightsCache"/>.
    /// The one place a transfer source is resolved.
    /// </summary>
    public static string ResolveTransferSource(string nameOrPath, IProgress<ProgressInfo>? progress = null,
        CancellationToken cancel = default)
    {
        var full = Path.GetFullPath(nameOrPath);
        if (Directory.Exists(full))
        {
            if (!File.Exists(Path.Combine(full, SnapshotWriter.ManifestFileName)))
                throw new DataException($"--transfer {nameOrPath}: {full} is a folder without {SnapshotWriter.ManifestFileName}. fix: pass a snapshot folder (network-snapshot-*) or a network pickle (.pkl).");
            return full;
        }
        if (File.Exists(full))
            return full;
        // A published name (ffhq256, ...): fetched once into the weights cache, verified, reused afterwards.
        if (nameOrPath.IndexOfAny(['/', '\\']) < 0 && WeightsRegistry.Find(nameOrPath) is { Kind: WeightsKind.Network })
            return WeightsCache.FromEnvironment().Resolve(nameOrPath, WeightsKind.Network, progress, cancel);
        throw new DataException($"--transfer {nameOrPath}: no file or snapshot folder {full}, and not a published network " +
            $"name ({string.Join(", ", WeightsRegistry.Names(WeightsKind.Network))}). fix: pass one of those names, the path of a " +
            "StyleGAN2 network pickle (.pkl) or of an XraySynth snapshot folder.");
    }

    /// <summary>Loads the source networks (CPU, eval mode) and their architecture from a resolved path.</summary>
    public static (GanArchitecture Architecture, GanNetworks Networks) LoadSource(string resolved)
    {
        if (Directory.Exists(resolved))
        {
            var reader = SnapshotReader.Open(resolved);
            return (GanSnapshot.ReadArchitecture(reader), GanSnapshot.Load(resolved));
        }
        var (arch, nets, _) = NetworkImport.Load(resolved);
        return (arch, nets);
    }

    /// <summary>
    /// The networks a transfer trains: the source's architecture with the data's <paramref name="channels"/> and
    /// <paramref name="cDim"/>, and Freeze-D's <paramref name="freezeLayers"/>. A different resolution is refused.
    /// </summary>
    public static NetworkConfigs TargetArchitecture(GanArchitecture source, string sourcePath, int resolution, int channels, int cDim,
        int freezeLayers)
    {
        if (source.G.ImgResolution != resolution)
        {
            throw new DataException($"--transfer {sourcePath}: the source networks are {source.G.ImgResolution}x{source.G.ImgResolution}, the data is " +
                $"{resolution}x{resolution}. fix: prepare the data at {source.G.ImgResolution} px (prepare --resolution {source.G.ImgResolution}) or transfer from a {resolution}-px network.");
        }
        return new NetworkConfigs(
            source.G with { ImgChannels = channels, CDim = cDim },
            source.D with { ImgChannels = channels, CDim = cDim, FreezeLayers = freezeLayers });
    }

    /// <summary>Copies the source's weights into the new G, D and G_ema by the rules above.</summary>
    public static TransferReport Apply(GanNetworks source, Generator g, Discriminator d, Generator gEma, string sourcePath)
    {
        var copied = new List<string>();
        var converted = new List<string>();
        var fresh = new List<string>();
        var problems = new List<string>();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, src, dst) in new (string, nn.Module, nn.Module)[] { ("G", source.G, g), ("D", source.D, d), ("G_ema", source.GEma, gEma) })
        {
            var from = src.state_dict();
            foreach (var (key, target) in dst.state_dict())
            {
                var label = $"{name}.{key}";
                if (from.TryGetValue(key, out var s) && s.shape.SequenceEqual(target.shape))
                {
                    target.copy_(s);
                    copied.Add(label);
                }
                else if (Convert(name, key, s, target))
                {
                    converted.Add(label);
                }
                else if (IsLabelTensor(name, key))
                {
                    if (s is not null && key == "mapping.fc0.weight")
                    {
                        // Latent columns keep their weights; label columns (new condition) stay fresh.
                        var z = Math.Min(s.shape[1], target.shape[1]);
                        if (s.shape[0] == target.shape[0])
                            target.narrow(1, 0, z).copy_(s.narrow(1, 0, z));
                    }
                    fresh.Add(label);
                }
                else
                {
                    problems.Add(s is null ? $"{label} is not in the source" : $"{label} is [{string.Join(", ", s.shape)}] in the source, [{string.Join(", ", target.shape)}] here");
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new DataException($"--transfer {sourcePath}: the source does not fit the new networks: {string.Join("; ", problems.Take(12))}" +
                (problems.Count > 12 ? $"; and {problems.Count - 12} more" : "") + ". fix: transfer from a StyleGAN2 network of the same resolution.");
        }
        return new TransferReport(copied, converted, fresh);
    }

    /// <summary>torgb (G) and fromrgb (D) between grey and RGB; false when the tensor is not such a pair.</summary>
    private static bool Convert(string network, string key, Tensor? s, Tensor target)
    {
        if (s is null || s.dim() != target.dim() || !s.shape.Skip(2).SequenceEqual(target.shape.Skip(2)))
            return false;
        var torgb = network != "D" && key.Contains(".torgb.", StringComparison.Ordinal) && (key.EndsWith(".weight", StringComparison.Ordinal) || key.EndsWith(".bias", StringComparison.Ordinal))
            && !key.Contains(".affine.", StringComparison.Ordinal);
        var fromrgb = network == "D" && key.EndsWith(".fromrgb.weight", StringComparison.Ordinal);
        if (torgb)
        {
            // weight [C, in, 1, 1], bias [C]: the channel axis is 0.
            if (!s.shape.Skip(1).SequenceEqual(target.shape.Skip(1)))
                return false;
            if (s.shape[0] == 3 && target.shape[0] == 1)
            {
                var luma = tensor(Luma, dtype: s.dtype).reshape([3, .. Enumerable.Repeat(1L, (int)s.dim() - 1)]);
                target.copy_((s * luma).sum(0, keepdim: true));
                return true;
            }
            if (s.shape[0] == 1)
            {
                target.copy_(s.expand(target.shape));
                return true;
            }
            return false;
        }
        if (fromrgb)
        {
            // weight [tmp, C, 1, 1]: the channel axis is 1. The layer scales its weight by 1/sqrt(C) at run time
            // (equalized learning rate), so the stored weight carries sqrt(C_new / C_source) for the rule to hold.
            if (s.shape[0] != target.shape[0])
                return false;
            var gain = Math.Sqrt((double)target.shape[1] / s.shape[1]);
            if (target.shape[1] == 1)
            {
                target.copy_(s.sum(1, keepdim: true) * gain);
                return true;
            }
            if (s.shape[1] == 1)
            {
                target.copy_((s * (gain / target.shape[1])).expand(target.shape));
                return true;
            }
        }
        return false;
    }

    /// <summary>Tensors of the label path: they may be absent or differently shaped when the condition changes.</summary>
    private static bool IsLabelTensor(string network, string key) =>
        key.StartsWith("mapping.embed.", StringComparison.Ordinal) || key == "mapping.fc0.weight"
        || (network == "D" && (key.StartsWith("mapping.", StringComparison.Ordinal) || key.StartsWith("b4.out.", StringComparison.Ordinal)));
}
