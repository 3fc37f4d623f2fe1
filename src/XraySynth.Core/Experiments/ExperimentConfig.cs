using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using XraySynth.Data;

namespace XraySynth.Experiments;

/// <summary>Where the real images come from: a MURA root (prepared by the experiment) or an existing prepared folder.</summary>
public sealed record DataConfig
{
    /// <summary>Folder holding MURA-v1.1/ (prepared into the experiment folder). Exactly one of Mura/Prepared.</summary>
    public string? Mura { get; init; }
    /// <summary>A folder written by 'prepare' (used as it is).</summary>
    public string? Prepared { get; init; }
    public IReadOnlyList<string> Parts { get; init; } = ["shoulder"];
    /// <summary>GAN image size.</summary>
    public int Resolution { get; init; } = 256;
    /// <summary>Stored classifier image size.</summary>
    public int ClassifierSize { get; init; } = 320;
    public double ValFraction { get; init; } = 0.1;
    public int Seed { get; init; }
}

/// <summary>How the synthetic images are made.</summary>
public sealed record GanConfig
{
    /// <summary>"conditional" (one model for both classes), "per-class" (one model per class), or "snapshots" (reuse).</summary>
    public string Mode { get; init; } = "conditional";
    /// <summary>Training preset (auto, stylegan2, paper256, ..., smoke).</summary>
    public string Cfg { get; init; } = "auto";
    public int Kimg { get; init; } = 5000;
    /// <summary>Minibatch size (null: the preset's).</summary>
    public int? Batch { get; init; }
    /// <summary>ada | fixed | noaug.</summary>
    public string Aug { get; init; } = "ada";
    public bool Mirror { get; init; } = true;
    /// <summary>Snapshot every this many ticks.</summary>
    public int Snap { get; init; } = 50;
    public int Seed { get; init; }
    /// <summary>Quality metrics measured at every snapshot (as 'gan train --metrics', builtin detector), e.g. "fid";
    /// the report plots them against kimg. Null: none. Not part of the stage key: measuring does not change the run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Metrics { get; init; } = "fid";
    /// <summary>Mode "snapshots": a conditional snapshot ("conditional") or one per class ("positive", "negative").</summary>
    public IReadOnlyDictionary<string, string> Snapshots { get; init; } = new Dictionary<string, string>();
}

/// <summary>Filters and post-processing of the generated images.</summary>
public sealed record SyntheticConfig
{
    /// <summary>Truncation psi.</summary>
    public double Trunc { get; init; } = 1.0;
    public double Sharpen { get; init; }
    /// <summary>Drop images the memorisation audit flags as (near) copies of training images.</summary>
    public bool ExcludeMemorized { get; init; } = true;
}

/// <summary>One arm of the experiment: how many synthetic images per class join the real training set.</summary>
public sealed record ArmConfig
{
    public required string Name { get; init; }
    /// <summary>Synthetic images per class (0 = the real-only baseline).</summary>
    public int PerClass { get; init; }
    /// <summary>Instead of a fixed amount: add synthetic images of the smaller class until both classes are equal.</summary>
    public bool Balance { get; init; }
}

/// <summary>Classifier settings shared by every arm.</summary>
public sealed record ClassifierConfig
{
    public string Arch { get; init; } = "densenet169";
    public string? Weights { get; init; }
    public int Size { get; init; } = 224;
    public int Epochs { get; init; } = 20;
    public int Batch { get; init; } = 32;
    public double Lr { get; init; } = 1e-4;
    public string Loss { get; init; } = "weighted-bce";
    public int Patience { get; init; } = 5;
}

public sealed record EvaluationConfig
{
    public int Bootstrap { get; init; } = 1000;
    /// <summary>The primary endpoint, "LEVEL-METRIC" (e.g. "study-auroc", "image-kappa"): the comparison the
    /// conclusion is about (Holm-corrected over the arms); every other comparison is exploratory.</summary>
    public string Primary { get; init; } = PrimaryEndpoint.Default;
    public double Threshold { get; init; } = 0.5;
}

/// <summary>An experiment: data, GAN, synthetic filters, arms × seeds of the classifier, evaluation. Read from JSON with
/// unknown keys refused.</summary>
public sealed record ExperimentConfig
{
    public required string Name { get; init; }
    public required DataConfig Data { get; init; }
    public GanConfig Gan { get; init; } = new();
    public SyntheticConfig Synthetic { get; init; } = new();
    public required IReadOnlyList<ArmConfig> Arms { get; init; }
    public ClassifierConfig Classifier { get; init; } = new();
    /// <summary>Classifier seeds: every arm is trained once per seed (at least 3 for a paired comparison).</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];
    public EvaluationConfig Evaluation { get; init; } = new();

    private static readonly JsonSerializerOptions ReadOptions = new(Json.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and validates a config; relative paths are resolved against the config file's folder.</summary>
    public static ExperimentConfig Load(string file)
    {
        if (!File.Exists(file)) throw new DataException($"{file}: experiment config not found.");
        ExperimentConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<ExperimentConfig>(File.ReadAllText(file), ReadOptions);
        }
        catch (JsonException e)
        {
            throw new DataException($"{file}: {Explain(e)}");
        }
        if (config is null) throw new DataException($"{file}: empty config.");
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string? Resolve(string? p) => p is null ? null : Path.GetFullPath(Path.Combine(baseDir, p));
        config = config with
        {
            Data = config.Data with { Mura = Resolve(config.Data.Mura), Prepared = Resolve(config.Data.Prepared) },
            Gan = config.Gan with { Snapshots = config.Gan.Snapshots.ToDictionary(kv => kv.Key, kv => Resolve(kv.Value)!) },
            Classifier = config.Classifier with { Weights = Resolve(config.Classifier.Weights) },
        };
        var problems = config.Problems();
        if (problems.Count > 0)
            throw new DataException($"{file}: invalid experiment config:\n  - {string.Join("\n  - ", problems)}");
        return config;
    }

    /// <summary>Every value that cannot work, as "key: problem" lines.</summary>
    public List<string> Problems()
    {
        var p = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.IndexOfAny(['/', '\\']) >= 0) p.Add("name: a non-empty word without slashes");
        if ((Data.Mura is null) == (Data.Prepared is null)) p.Add("data: give exactly one of 'mura' (a MURA root) or 'prepared' (a folder written by prepare)");
        foreach (var part in Data.Parts.Where(x => !MuraPaths.Parts.Contains(x))) p.Add($"data.parts: unknown study type '{part}' (use {string.Join(", ", MuraPaths.Parts)})");
        if (Data.Resolution < 4 || Data.Resolution > 1024 || (Data.Resolution & (Data.Resolution - 1)) != 0) p.Add($"data.resolution: {Data.Resolution} is not a power of two from 4 to 1024");
        if (Gan.Mode is not ("conditional" or "per-class" or "snapshots")) p.Add($"gan.mode: '{Gan.Mode}' (use conditional, per-class or snapshots)");
        if (Gan.Mode == "snapshots")
        {
            var keys = Gan.Snapshots.Keys.Order().ToList();
            if (!(keys.SequenceEqual(["conditional"]) || keys.SequenceEqual(["negative", "positive"])))
                p.Add("gan.snapshots: give {\"conditional\": DIR} or {\"positive\": DIR, \"negative\": DIR}");
            foreach (var (k, v) in Gan.Snapshots.Where(kv => !Directory.Exists(kv.Value))) p.Add($"gan.snapshots.{k}: folder {v} not found");
        }
        if (Gan.Aug is not ("ada" or "fixed" or "noaug")) p.Add($"gan.aug: '{Gan.Aug}' (use ada, fixed or noaug)");
        if (Gan.Kimg < 1) p.Add("gan.kimg: at least 1");
        try { if (Gan.Metrics is not null) XraySynth.Quality.MetricsOptions.ParseMetrics(Gan.Metrics); }
        catch (DataException e) { p.Add($"gan.metrics: {e.Message}"); }
        if (Synthetic.Trunc is < 0 or > 1) p.Add($"synthetic.trunc: {Synthetic.Trunc} (use 0..1)");
        if (Arms.Count == 0) p.Add("arms: at least one arm (e.g. {\"name\": \"baseline\", \"perClass\": 0})");
        foreach (var dup in Arms.GroupBy(a => a.Name).Where(g => g.Count() > 1)) p.Add($"arms: the name '{dup.Key}' is used twice");
        foreach (var a in Arms.Where(a => a.PerClass < 0 || (a.Balance && a.PerClass > 0))) p.Add($"arms.{a.Name}: perClass must be ≥ 0, and not set together with balance");
        if (!Arms.Any(a => a.PerClass == 0 && !a.Balance)) p.Add("arms: one arm must be the baseline (perClass 0) so the others can be compared to it");
        if (Seeds.Count == 0 || Seeds.Distinct().Count() != Seeds.Count) p.Add("seeds: distinct classifier seeds, at least one (3 or more for a paired test)");
        try { XraySynth.Classifier.Models.ClassifierModels.Parse(Classifier.Arch); }
        catch (ArgumentException) { p.Add($"classifier.arch: '{Classifier.Arch}' (use {string.Join(", ", XraySynth.Classifier.Models.ClassifierModels.Names)})"); }
        if (Classifier.Weights is not null && !File.Exists(Classifier.Weights)) p.Add($"classifier.weights: file {Classifier.Weights} not found");
        if (Classifier.Loss is not ("weighted-bce" or "bce" or "focal")) p.Add($"classifier.loss: '{Classifier.Loss}' (use weighted-bce, bce or focal)");
        if (Classifier.Epochs < 1 || Classifier.Batch < 2 || Classifier.Lr <= 0 || Classifier.Size < 32) p.Add("classifier: epochs ≥ 1, batch ≥ 2, lr > 0, size ≥ 32");
        if (Evaluation.Bootstrap < 100) p.Add("evaluation.bootstrap: at least 100 replicates");
        if (!PrimaryEndpoint.TryParse(Evaluation.Primary, out _)) p.Add($"evaluation.primary: '{Evaluation.Primary}' (use {PrimaryEndpoint.Choices})");
        return p;
    }

    /// <summary>The JSON reader's complaint, with the valid keys where a key was unknown.</summary>
    private static string Explain(JsonException e)
    {
        var path = e.Path ?? "$";
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var type = TypeAt(path);
            var valid = type is null ? "" : $" Valid keys here: {string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)))}.";
            return $"unknown key at {path}.{valid}";
        }
        return $"{e.Message.Split(". Path:")[0]} (at {path}).";
    }

    private static Type? TypeAt(string path)
    {
        // "$.gan.cfgg" → the type that holds "cfgg": GanConfig.
        var segs = path.TrimStart('$', '.').Split('.', StringSplitOptions.RemoveEmptyEntries);
        Type? t = typeof(ExperimentConfig);
        foreach (var seg in segs.Take(Math.Max(0, segs.Length - 1)))
        {
            var name = seg.Split('[')[0];
            var prop = t?.GetProperties().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            t = prop?.PropertyType;
            if (t is { IsGenericType: true } && t.GetGenericArguments().Length == 1) t = t.GetGenericArguments()[0];
        }
        return t;
    }
}
