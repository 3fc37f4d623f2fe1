using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Runtime;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>The training counters and controller state a snapshot keeps (section "training" of snapshot.json).</summary>
public sealed record TrainingCheckpoint
{
    /// <summary>Real images shown to D so far.</summary>
    public long CurNimg { get; init; }

    /// <summary>The tick that starts after this snapshot (its random streams are seeded from it).</summary>
    public long NextTick { get; init; }

    /// <summary>Minibatches run so far (lazy regularisation and ADA count them).</summary>
    public long BatchIdx { get; init; }

    /// <summary>The training length the run had when the snapshot was written.</summary>
    public double TotalKimg { get; init; }

    /// <summary>The run's seed; with <see cref="NextTick"/> it fixes every random stream from here on.</summary>
    public int Seed { get; init; }

    /// <summary>How the random streams are derived.</summary>
    public string RngScheme { get; init; } = "per-tick: device and host generators reseeded with splitmix64(seed, tick)";

    /// <summary>Current augmentation probability (ADA's or the fixed one; 0 without augmentation).</summary>
    public double AugmentP { get; init; }

    /// <summary>ADA's p and the sign statistics gathered since its last update; null unless --aug ada.</summary>
    public AdaState? Ada { get; init; }

    /// <summary>Running mean of the path lengths.</summary>
    public float PlMean { get; init; }

    /// <summary>Seconds of training so far (for the totals in stats.jsonl).</summary>
    public double TotalSeconds { get; init; }
}

/// <summary>What the snapshot was trained on (section "dataset"): resuming checks the data against it.</summary>
/// <param name="Zip">The dataset zip.</param>
/// <param name="Images">Images used (after --class).</param>
/// <param name="Resolution">Image side.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="CDim">Label dimensionality (0 = unconditional).</param>
/// <param name="Mirror">Whether x-flips were added.</param>
public sealed record TrainingDataInfo(string Zip, int Images, int Resolution, int Channels, int CDim, bool Mirror);

/// <summary>
/// A training snapshot: <see cref="GanSnapshot"/>'s G, D and G_ema plus G_opt.safetensors and D_opt.safetensors
/// (Adam's exp_avg, exp_avg_sq and step per parameter, keyed "&lt;parameter&gt;.exp_avg" …) and the sections
/// "training" (<see cref="TrainingCheckpoint"/>), "dataset" (<see cref="TrainingDataInfo"/>) and "options".
/// Folders are named network-snapshot-KKKKKK (kimg; KKKKKK.III when ticks are shorter than 1 kimg).
/// </summary>
public static class TrainingSnapshot
{
    /// <summary>Section and tensor-file names.</summary>
    public const string TrainingSection = "training", DatasetSection = "dataset", OptionsSection = GanSnapshot.TrainingOptionsSection,
        GOptimizer = "G_opt", DOptimizer = "D_opt", Prefix = "network-snapshot-";

    /// <summary>The folder name of a snapshot at <paramref name="nimg"/> images.</summary>
    public static string Name(long nimg, bool fractional) => Prefix + Kimg(nimg, fractional);

    /// <summary>KKKKKK (whole kimg, as the official names) or KKKKKK.III (with the images).</summary>
    public static string Kimg(long nimg, bool fractional) =>
        fractional ? $"{nimg / 1000:D6}.{nimg % 1000:D3}" : $"{nimg / 1000:D6}";

    /// <summary>Writes the snapshot atomically to <paramref name="dir"/>.</summary>
    public static void Save(string dir, Generator g, Discriminator d, Generator gEma, Adam gOpt, Adam dOpt,
        TrainingCheckpoint checkpoint, TrainingDataInfo data, GanTrainOptions options)
    {
        GanSnapshot.Save(dir, g, d, gEma, writer => writer
            .AddTensors(GOptimizer, () => OptimizerTensors(gOpt, g))
            .AddTensors(DOptimizer, () => OptimizerTensors(dOpt, d))
            .AddSection(TrainingSection, checkpoint)
            .AddSection(DatasetSection, data)
            .AddSection(OptionsSection, options, Json.Options));
    }

    /// <summary>Reads the counters of a snapshot.</summary>
    public static TrainingCheckpoint ReadCheckpoint(SnapshotReader reader) =>
        reader.GetSection<TrainingCheckpoint>(TrainingSection);

    /// <summary>Reads what a snapshot was trained on.</summary>
    public static TrainingDataInfo ReadDataInfo(SnapshotReader reader) =>
        reader.GetSection<TrainingDataInfo>(DatasetSection);

    /// <summary>Loads G, D, G_ema and both optimizers' state from a snapshot (shapes and keys checked).</summary>
    public static void Load(SnapshotReader reader, Generator g, Discriminator d, Generator gEma, Adam gOpt, Adam dOpt)
    {
        reader.LoadInto(GanSnapshot.G, g);
        reader.LoadInto(GanSnapshot.D, d);
        reader.LoadInto(GanSnapshot.GEma, gEma);
        LoadOptimizer(reader, GOptimizer, gOpt, g);
        LoadOptimizer(reader, DOptimizer, dOpt, d);
    }

    /// <summary>Adam's state by parameter name: exp_avg, exp_avg_sq and the step count (int64 scalar).</summary>
    internal static Dictionary<string, Tensor> OptimizerTensors(Adam optimizer, nn.Module module)
    {
        var states = optimizer.state_dict().State;
        var names = module.named_parameters().Select(p => p.name).ToArray();
        if (states.Count != names.Length)
            throw new InvalidOperationException($"The optimizer holds {states.Count} states for {names.Length} parameters.");
        var result = new Dictionary<string, Tensor>();
        for (var i = 0; i < names.Length; i++)
        {
            var state = (Adam.State)states[i];
            result[$"{names[i]}.exp_avg"] = state.exp_avg;
            result[$"{names[i]}.exp_avg_sq"] = state.exp_avg_sq;
            result[$"{names[i]}.step"] = tensor(state.step);
        }
        return result;
    }

    private static void LoadOptimizer(SnapshotReader reader, string name, Adam optimizer, nn.Module module)
    {
        using var scope = NewDisposeScope();
        var source = reader.ReadTensors(name);
        var states = optimizer.state_dict().State;
        var parameters = module.named_parameters().ToArray();
        var expected = parameters.SelectMany(p => new[] { $"{p.name}.exp_avg", $"{p.name}.exp_avg_sq", $"{p.name}.step" })
            .ToHashSet();
        var missing = expected.Where(k => !source.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = source.Keys.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new SnapshotException(reader.Directory,
                $"Snapshot '{reader.Directory}': the optimizer state '{name}' does not fit the network (missing: " +
                $"{string.Join(", ", missing.Take(5))}; unexpected: {string.Join(", ", unexpected.Take(5))}). " +
                "Fix: resume with the architecture the snapshot was written for.");
        }
        using var noGrad = no_grad();
        for (var i = 0; i < parameters.Length; i++)
        {
            var (pname, p) = parameters[i];
            var state = (Adam.State)states[i];
            var avg = source[$"{pname}.exp_avg"];
            if (!avg.shape.SequenceEqual(p.shape))
                throw new SnapshotException(reader.Directory, $"Snapshot '{reader.Directory}': {name} state of '{pname}' has the wrong shape.");
            state.exp_avg.copy_(avg);
            state.exp_avg_sq.copy_(source[$"{pname}.exp_avg_sq"]);
            state.step = source[$"{pname}.step"].item<long>();
        }
    }

    /// <summary>The complete snapshots of a run folder, oldest first (by images seen), each with its counters.</summary>
    public static List<(string Dir, TrainingCheckpoint Checkpoint)> List(string runDir)
    {
        var result = new List<(string, TrainingCheckpoint)>();
        if (!Directory.Exists(runDir))
            return result;
        foreach (var dir in Directory.EnumerateDirectories(runDir, Prefix + "*"))
        {
            try
            {
                var reader = SnapshotReader.Open(dir, verifyHashes: false);
                result.Add((dir, ReadCheckpoint(reader)));
            }
            catch (SnapshotException)
            {
                // Incomplete or damaged: not a candidate.
            }
        }
        return result.OrderBy(s => s.Item2.CurNimg).ThenBy(s => s.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> complete snapshots; returns the deleted folders.</summary>
    public static List<string> Prune(string runDir, int keep)
    {
        var deleted = new List<string>();
        if (keep <= 0)
            return deleted;
        var all = List(runDir);
        foreach (var (dir, _) in all.Take(Math.Max(0, all.Count - keep)))
        {
            Directory.Delete(dir, recursive: true);
            deleted.Add(dir);
        }
        return deleted;
    }

    /// <summary>
    /// Cleans what an interrupted <see cref="SnapshotWriter.Commit"/> left in <paramref name="runDir"/>; call it only
    /// while holding the run's <see cref="RunFolderLock"/>, so every hidden folder there is a dead writer's. A
    /// <c>.network-snapshot-K.old-*</c> folder is the previous copy of snapshot K: when K itself is missing or damaged it
    /// is the only complete copy and is restored (renamed back); when K is complete it is deleted; next to a damaged K it is kept. Half-written
    /// <c>.network-snapshot-K.tmp-*</c> folders are deleted. Returns one line per action, for the log.
    /// </summary>
    public static List<string> RemoveLeftovers(string runDir)
    {
        var actions = new List<string>();
        var hidden = Directory.EnumerateDirectories(runDir, "." + Prefix + "*").Order(StringComparer.Ordinal).ToList();
        foreach (var dir in hidden)
        {
            var name = Path.GetFileName(dir);
            int at = name.LastIndexOf(".old-", StringComparison.Ordinal);
            if (at <= 1) continue;
            var target = Path.Combine(runDir, name[1..at]);
            if (IsComplete(target))
            {
                if (TryDelete(dir)) actions.Add($"removed {name} (an older copy of {Path.GetFileName(target)})");
            }
            else if (Directory.Exists(target))
            {
                // Damaged by something other than an interrupted write: keep both for the user to judge.
                actions.Add($"kept {name}: {Path.GetFileName(target)} is damaged and this may be its only good copy");
            }
            else if (IsComplete(dir))
            {
                Directory.Move(dir, target);
                actions.Add($"restored {Path.GetFileName(target)} from {name} (a snapshot write was interrupted)");
            }
            else if (TryDelete(dir))
            {
                actions.Add($"removed {name} (incomplete)");
            }
        }
        foreach (var dir in hidden.Where(d => Path.GetFileName(d).Contains(".tmp-", StringComparison.Ordinal)))
        {
            if (Directory.Exists(dir) && TryDelete(dir))
                actions.Add($"removed {Path.GetFileName(dir)} (a half-written snapshot)");
        }
        return actions;
    }

    private static bool IsComplete(string snapshotDir)
    {
        if (!Directory.Exists(snapshotDir)) return false;
        try
        {
            SnapshotReader.Open(snapshotDir);
            return true;
        }
        catch (SnapshotException)
        {
            return false;
        }
    }

    private static bool TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    internal static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
