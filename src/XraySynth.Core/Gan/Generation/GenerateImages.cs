using System.Text.Json.Nodes;
using XraySynth.Data;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Imaging;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Generation;

/// <summary>Options of <c>gan generate</c>; the settings part is saved as <c>generate.json</c> in the output folder.</summary>
public sealed record GenerateOptions
{
    /// <summary>Snapshot folder (network-snapshot-KKKKKK) holding G_ema.</summary>
    public required string Network { get; init; }
    public required string OutDir { get; init; }
    public required IReadOnlyList<long> Seeds { get; init; }
    /// <summary>"positive" or "negative" for a conditional model; null for an unconditional one.</summary>
    public string? Class { get; init; }
    /// <summary>Truncation psi (1 = none).</summary>
    public double Trunc { get; init; } = 1.0;
    public NoiseMode NoiseMode { get; init; } = NoiseMode.Const;
    public int Batch { get; init; } = 64;
    /// <summary>Unsharp-mask amount (0 = none).</summary>
    public double Sharpen { get; init; }
    /// <summary>Also write a grid of the first (up to 64) images to this PNG.</summary>
    public string? Grid { get; init; }
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
}

/// <summary>What generation wrote.</summary>
public sealed record GenerateResult(string OutDir, int Written, int Kept, string Class, int Resolution, int Channels);

/// <summary>Streams generated images to disk as one PNG per seed (<c>seedNNNNNN.png</c>) plus <c>manifest.csv</c>
/// (file, seed, class, trunc). Batched on the device; images are written atomically and never held all at once; a rerun
/// with the same settings keeps the images already there (a folder generated with other settings is refused).</summary>
public static class GenerateImages
{
    public const string SettingsFile = "generate.json";

    /// <summary>Section of a snapshot (the training options, written by <c>gan train</c>) whose <c>label</c> names the class
    /// an unconditional model was trained on (<c>{"label": "positive"}</c>).</summary>
    public const string OptionsSection = GanSnapshot.TrainingOptionsSection;

    public static string FileName(long seed) => $"seed{seed:D6}.png";

    public static GenerateResult Run(GenerateOptions o, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (o.Seeds.Count == 0) throw new DataException("no seeds to generate. fix: pass --count N or --seeds A-B.");
        if (o.Batch < 1) throw new DataException($"--batch {o.Batch}: must be at least 1.");
        if (o.Trunc is < 0 or > 2) throw new DataException($"--trunc {o.Trunc}: expected 0..1 (1 = no truncation).");
        if (o.Sharpen < 0) throw new DataException($"--sharpen {o.Sharpen}: must be ≥ 0.");
        if (o.Seeds.Any(s => s < 0)) throw new DataException("seeds must not be negative.");
        var reader = SnapshotReader.Open(o.Network);
        var arch = GanSnapshot.ReadArchitecture(reader);
        var (classIndex, className) = ResolveClass(o.Network, o.Class, reader, arch.G.CDim);

        var outDir = Path.GetFullPath(o.OutDir);
        using var held = RunFolderLock.Acquire(OutputFolder.Ensure(outDir, "--out"), "gan generate");
        ClaimFolder(outDir, o, className);
        AtomicFile.RemoveTemporaries(outDir);
        var device = TorchRuntime.Select(o.Device);
        using var g = GanSnapshot.LoadGenerator(o.Network, GanSnapshot.GEma, device);

        var todo = o.Seeds.Distinct().Where(s => !File.Exists(Path.Combine(outDir, FileName(s)))).ToList();
        int kept = o.Seeds.Distinct().Count() - todo.Count, written = 0;
        progress?.Report(new ProgressInfo("generate", kept, kept + todo.Count));
        foreach (var batch in BatchSynthesizer.Generate(g, device, todo, classIndex, o.Trunc, o.NoiseMode, o.Batch))
        {
            using (batch)
            {
                cancel.ThrowIfCancellationRequested();
                using var hwc = batch.Images.permute(0, 2, 3, 1).contiguous();   // [N,H,W,C]
                var bytes = hwc.data<byte>().ToArray();
                int n = batch.Seeds.Count, h = (int)hwc.shape[1], w = (int)hwc.shape[2], c = (int)hwc.shape[3], size = h * w * c;
                Parallel.For(0, n, i =>
                {
                    var img = new RasterImage(w, h, c, bytes.AsSpan(i * size, size).ToArray());
                    if (o.Sharpen > 0) img = Sharpen.UnsharpMask(img, o.Sharpen);
                    ImageCodec.WritePng(Path.Combine(outDir, FileName(batch.Seeds[i])), img);
                });
                written += n;
            }
            progress?.Report(new ProgressInfo("generate", kept + written, kept + todo.Count));
        }
        SyntheticManifest.Write(Path.Combine(outDir, SyntheticManifest.FileName),
            o.Seeds.Distinct().Select(s => new SyntheticRow(FileName(s), s, className, o.Trunc)));
        if (o.Grid is not null)
        {
            var first = o.Seeds.Distinct().Take(64).Select(s => ImageCodec.Decode(Path.Combine(outDir, FileName(s)), arch.G.ImgChannels)).ToList();
            ImageCodec.WritePng(o.Grid, ImageGrid.Tile(first, (int)Math.Ceiling(Math.Sqrt(first.Count))));
        }
        return new GenerateResult(outDir, written, kept, className, arch.G.ImgResolution, arch.G.ImgChannels);
    }

    /// <summary>Class index for the generator and the class name for the manifest ("" when the model has none):
    /// <paramref name="requested"/> for a conditional model; for an unconditional one, the class it was trained on
    /// (from the snapshot's training options), which a request must match.</summary>
    public static (int? Index, string Name) ResolveClass(string network, string? requested, SnapshotReader reader, int cDim)
    {
        var o = new { Network = network, Class = requested };
        if (o.Class is not (null or "positive" or "negative"))
            throw new DataException($"--class {o.Class}: expected positive or negative.");
        if (cDim > 0)
        {
            if (cDim != 2)
                throw new DataException($"{o.Network}: a conditional model with {cDim} classes; XraySynth models have 2 (0 negative, 1 positive).");
            if (o.Class is null)
                throw new DataException($"{o.Network} is class-conditional. fix: pass --class positive or --class negative.");
            return (o.Class == "positive" ? 1 : 0, o.Class);
        }
        string trained = "";
        if (reader.HasSection(OptionsSection) && reader.GetSection<JsonObject>(OptionsSection)?["label"] is JsonValue v)
            trained = v.GetValue<string>();
        if (o.Class is not null && o.Class != trained)
            throw new DataException($"{o.Network} is unconditional and was trained on {(trained.Length > 0 ? $"'{trained}' images only" : "images of both classes")}: it has no class '{o.Class}'. " +
                                    "fix: drop --class, or use a model trained with --cond (or gan train --class " + o.Class + ").");
        return (null, trained);
    }

    private static void ClaimFolder(string outDir, GenerateOptions o, string className)
    {
        var settings = new JsonObject
        {
            ["network"] = Path.GetFullPath(o.Network),
            ["class"] = className,
            ["trunc"] = o.Trunc,
            ["noiseMode"] = o.NoiseMode.ToString().ToLowerInvariant(),
            ["sharpen"] = o.Sharpen,
        }.ToJsonString(Json.Options);
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"--out {outDir}: cannot create the folder ({e.Message}). fix: choose a writable folder.");
        }
        var path = Path.Combine(outDir, SettingsFile);
        if (File.Exists(path))
        {
            if (File.ReadAllText(path).Trim() != settings.Trim())
                throw new DataException($"{outDir} holds images generated with other settings (see {SettingsFile}). fix: choose another --out, or delete the folder.");
            return;
        }
        if (Directory.EnumerateFileSystemEntries(outDir).Any(e => Path.GetFileName(e) != RunFolderLock.FileName))
            throw new DataException($"{outDir} is not empty and holds no generated images. fix: choose a new or empty --out.");
        try
        {
            AtomicFile.WriteAllText(path, settings + "\n");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataException($"--out {outDir}: not writable ({e.Message}). fix: choose a writable folder.");
        }
    }
}
