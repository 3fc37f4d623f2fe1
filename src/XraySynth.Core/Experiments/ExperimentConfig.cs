using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Gan.Training;
using Declared = XraySynth.Classifier.Training.ClassifierTrainOptions.Declared;

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

/// <summary>
/// How the synthetic images are made. Besides its own keys (mode, snapshots) the block takes every <c>gan train</c>
/// option (<see cref="GanOptions"/>) by its JSON key, except those the experiment sets for each model (cond, label,
/// desc): the keys below carry the experiment's defaults (and the report reads them), any other declared option
/// (gamma, p, target, augPipe, tick, keepSnapshots, metricsDetector, ...) is held in <see cref="Options"/>.
/// </summary>
public sealed record GanConfig : IConfigExtraKeys
{
    /// <summary>"conditional" (one model for both classes), "per-class" (one model per class), or "snapshots" (reuse).</summary>
    public string Mode { get; init; } = "conditional";
    /// <summary>Training preset (auto, stylegan2, paper256, ..., small, smoke).</summary>
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
    /// <summary>Start the GAN from pretrained networks (gan train --transfer): a network pickle, a snapshot folder or a
    /// published name (ffhq256, ...); null = from scratch.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Transfer { get; init; }
    /// <summary>Freeze-D layers with <see cref="Transfer"/> (gan train --freezed); null = 0.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Freezed { get; init; }
    /// <summary>Quality metrics measured at every snapshot, the first (initialisation) included (as 'gan train --metrics',
    /// builtin detector), e.g. "fid"; the report plots them against kimg. Null: none. Not part of the stage key:
    /// measuring does not change the run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Metrics { get; init; } = "fid";
    /// <summary>Generated images per metrics evaluation (null: 1000). Not part of the stage key.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MetricsCount { get; init; }
    /// <summary>Mode "snapshots": a conditional snapshot ("conditional") or one per class ("positive", "negative").</summary>
    public IReadOnlyDictionary<string, string> Snapshots { get; init; } = new Dictionary<string, string>();

    /// <summary>Every other gan train option given, by JSON key (written back flat into the block; a JsonObject here
    /// would be written as a nested object by System.Text.Json 10).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Options { get; init; }

    /// <summary>The gan train options the experiment sets for each model itself.</summary>
    private static readonly string[] SetPerModel = [nameof(GanTrainOptions.Cond), nameof(GanTrainOptions.Label), nameof(GanTrainOptions.Desc)];

    /// <summary>Options that only measure: not part of the GAN stages' key (a change does not retrain).</summary>
    internal static readonly string[] MeasuringOnly =
        [nameof(GanTrainOptions.Metrics), nameof(GanTrainOptions.MetricsCount), nameof(GanTrainOptions.MetricsDetector)];

    /// <summary>The declared options this block takes in <see cref="Options"/>, by JSON key.</summary>
    private static IEnumerable<GanOption> ExtraOptions => GanOptions.All.Where(o => !SetPerModel.Contains(o.Name)
        && typeof(GanConfig).GetProperty(o.Name) is null);

    /// <inheritdoc/>
    public static IReadOnlyDictionary<string, (Type Type, bool Nullable)> ExtraKeys =>
        ExtraOptions.ToDictionary(o => o.Key, o => (o.ValueType, o.AllowsNone));

    /// <summary>
    /// The options of this block as a gan train request (on top of <paramref name="request"/>: data, folder, device):
    /// every key given here or with an experiment default; keys left out or null are not given (gan train's default).
    /// A value of the wrong form is a <see cref="DataException"/>, or with <paramref name="problems"/> a line there.
    /// </summary>
    public GanTrainRequest Request(GanTrainRequest request, List<string>? problems = null)
    {
        void Give(GanOption option, object value)
        {
            try
            {
                request = request.With(option, option.Coerce(value));
            }
            catch (FormatException e)
            {
                var problem = $"gan.{option.Key}: {(value is JsonElement j ? j.GetRawText() : $"'{value}'")} ({e.Message})";
                if (problems is null) throw new DataException(problem);
                problems.Add(problem);
            }
        }
        foreach (var option in GanOptions.All)
        {
            if (typeof(GanConfig).GetProperty(option.Name)?.GetValue(this) is { } value)
                Give(option, value);
        }
        foreach (var (key, element) in Options ?? [])
        {
            var option = ExtraOptions.FirstOrDefault(o => o.Key == key)
                ?? throw new DataException($"gan.{key}: not a gan train option this block takes.");
            if (element.ValueKind != JsonValueKind.Null)
                Give(option, element);
        }
        return request;
    }

    /// <summary>This block as the GAN stages' key sees it: without the options that only measure.</summary>
    internal GanConfig StageKey() => this with
    {
        Metrics = null,
        MetricsCount = null,
        Options = Options?.Where(kv => !MeasuringOnly.Contains(GanOptions.Find(kv.Key)?.Name)).ToDictionary() is { Count: > 0 } kept
            ? kept : null,
    };

    /// <summary>Every value of the block that cannot work, as "gan.key: problem" lines (gan train's own rules).</summary>
    internal IEnumerable<string> OptionProblems()
    {
        var problems = new List<string>();
        var request = Request(new GanTrainRequest { OutRoot = "" }, problems);
        static string Show(object? v) => v is string text ? $"'{text}'" : GanOption.Show(v);
        problems.AddRange(GanOptions.Problems(request, o => $"gan.{o.Key}", (o, v, p) => $"gan.{o.Key}: {Show(v)} ({p.Fix ?? p.What})"));
        return problems;
    }
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

/// <summary>Classifier settings shared by every arm: the options of <c>classifier train</c> an experiment sets, with their
/// keys, defaults and rules as declared in <see cref="ClassifierTrainOptions.Declared"/> (the runner sets the others: data,
/// synthetic images, seed, device). <c>weights</c>: "imagenet" (torchvision's, fetched and verified) or a file relative to the config.</summary>
public sealed record ClassifierConfig
{
    public string Arch { get; init; } = Declared.Arch.Default;
    public string? Weights { get; init; } = Declared.Weights.Default;
    public int Size { get; init; } = Declared.Size.Default;
    public int Epochs { get; init; } = Declared.Epochs.Default;
    public int Batch { get; init; } = Declared.Batch.Default;
    public double Lr { get; init; } = Declared.Lr.Default;
    public ClassifierLoss Loss { get; init; } = Declared.Loss.Default;
    /// <summary>The validation metric that picks each arm's checkpoint. Left out of the JSON at its default (auroc, the
    /// enum's first value), so the stage keys of experiments written before this key existed still hold.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public SelectionMetric SelectBy { get; init; } = Declared.SelectBy.Default;
    public int Patience { get; init; } = Declared.Patience.Default;

    /// <summary>The declarations of this block's keys: those of <see cref="ClassifierTrainOptions.Declared"/> named as a property here.</summary>
    public static IReadOnlyList<OptionDeclaration<ClassifierTrainOptions>> Keys { get; } = OptionDeclarations.InSection(typeof(ClassifierConfig), Declared.All);

    /// <summary><paramref name="options"/> with this block's settings.</summary>
    public ClassifierTrainOptions ApplyTo(ClassifierTrainOptions options) => options with
    {
        Arch = Arch, Weights = Weights, Size = Size, Epochs = Epochs, Batch = Batch, Lr = Lr, Loss = Loss, Patience = Patience, SelectBy = SelectBy,
    };

    /// <summary>Every key whose value cannot work, as "classifier.key: value (problem)".</summary>
    public IEnumerable<string> Problems() => OptionDeclarations.ConfigProblems("classifier", Keys, ApplyTo(new ClassifierTrainOptions { Data = "" }));
}

/// <summary>How every model is evaluated: <c>bootstrap</c> and <c>threshold</c> are the options of <c>classifier evaluate</c>
/// (keys, defaults and rules as declared in <see cref="EvaluateOptions.Declared"/>).</summary>
public sealed record EvaluationConfig
{
    public int Bootstrap { get; init; } = EvaluateOptions.Declared.Bootstrap.Default;
    /// <summary>The primary endpoint, "LEVEL-METRIC" (e.g. "study-auroc", "image-kappa"): the comparison the
    /// conclusion is about (Holm-corrected over the arms); every other comparison is exploratory.</summary>
    public string Primary { get; init; } = PrimaryEndpoint.Default;
    public double Threshold { get; init; } = EvaluateOptions.Declared.Threshold.Default;

    /// <summary>Every key whose value cannot work, as "evaluation.key: value (problem)"; the primary endpoint included.</summary>
    public IEnumerable<string> Problems()
    {
        var options = new EvaluateOptions { Model = "", Test = "", Bootstrap = Bootstrap, Threshold = Threshold };
        foreach (var problem in OptionDeclarations.ConfigProblems("evaluation", Keys, options)) yield return problem;
        if (!PrimaryEndpoint.TryParse(Primary, out _)) yield return $"evaluation.primary: '{Primary}' (use {PrimaryEndpoint.Choices})";
    }

    /// <summary>The declarations of this block's keys: those of <see cref="EvaluateOptions.Declared"/> named as a property here.</summary>
    public static IReadOnlyList<OptionDeclaration<EvaluateOptions>> Keys { get; } = OptionDeclarations.InSection(typeof(EvaluationConfig), EvaluateOptions.Declared.All);
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

    /// <summary>Reads and validates a config; relative paths are resolved against the config file's folder. Every
    /// problem (unknown keys, nulls, wrong types, values that cannot work) is reported at once, naming the file.
    /// <paramref name="adjust"/> changes the config before its values are checked (the demo points data.mura at its phantoms).</summary>
    public static ExperimentConfig Load(string file, Func<ExperimentConfig, ExperimentConfig>? adjust = null)
    {
        if (!File.Exists(file)) throw new DataException($"{file}: experiment config not found.");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException e)
        {
            throw new DataException($"{file}: not valid JSON: {e.Message}");
        }
        if (root is null) throw new DataException($"{file}: empty config.");
        var shape = new ConfigShape();
        var readable = shape.Check(root, typeof(ExperimentConfig), nullable: false, "$") && !shape.Incomplete;
        var problems = shape.Problems;
        if (readable)
        {
            // The well-formed rest is read, so the value checks below report alongside the shape problems.
            ExperimentConfig config;
            try
            {
                config = root.Deserialize<ExperimentConfig>(ReadOptions)!;
            }
            catch (JsonException e)
            {
                throw new DataException($"{file}: {Explain(e)}");
            }
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            string? Resolve(string? p) => p is null ? null : Path.GetFullPath(Path.Combine(baseDir, p));
            config = config with
            {
                Data = config.Data with { Mura = Resolve(config.Data.Mura), Prepared = Resolve(config.Data.Prepared) },
                Gan = config.Gan with { Snapshots = config.Gan.Snapshots.ToDictionary(kv => kv.Key, kv => Resolve(kv.Value)!), Transfer = Resolve(config.Gan.Transfer) },
                Classifier = config.Classifier with { Weights = config.Classifier.Weights is { } w && ClassifierTrainer.IsNamedWeights(w) ? w : Resolve(config.Classifier.Weights) },
            };
            if (adjust is not null) config = adjust(config);
            problems.AddRange(config.Problems());
            if (problems.Count == 0) return config;
        }
        throw new DataException($"{file}: invalid experiment config ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  - " +
                                $"{string.Join("\n  - ", problems)}\nfix: correct these keys (see configs/mura-shoulder.json for a complete example).");
    }

    /// <summary>Every value that cannot work, as "key: problem" lines. One line per rule; add new rules here.</summary>
    public List<string> Problems()
    {
        var p = new List<string>();
        void Need(bool ok, string problem) { if (!ok) p.Add(problem); }

        Need(IsPlainFolderName(Name), $"name: '{Name}' is not a plain folder name (letters, digits, '-', '_', '.'; not '.' or '..'; no slashes)");

        Need((Data.Mura is null) != (Data.Prepared is null), "data: give exactly one of 'mura' (a MURA root) or 'prepared' (a folder written by prepare)");
        if (Data.Mura is not null) Need(MuraFolderProblem(Data.Mura) is null, $"data.mura: {MuraFolderProblem(Data.Mura)}");
        if (Data.Prepared is not null)
            foreach (var f in new[] { "train.csv", "val.csv", "test.csv" })
                Need(File.Exists(Path.Combine(Data.Prepared, f)), $"data.prepared: {Path.Combine(Data.Prepared, f)} not found (pass a folder written by 'xraysynth prepare')");
        Need(Data.Parts.Count > 0, "data.parts: at least one study type");
        foreach (var part in Data.Parts.Where(x => !MuraPaths.Parts.Contains(x))) p.Add($"data.parts: unknown study type '{part}' (use {string.Join(", ", MuraPaths.Parts)})");
        Need(Data.Parts.Distinct().Count() == Data.Parts.Count, "data.parts: a study type is listed twice");
        Need(Data.Resolution is >= 4 and <= 1024 && (Data.Resolution & (Data.Resolution - 1)) == 0, $"data.resolution: {Data.Resolution} is not a power of two from 4 to 1024");
        Need(Data.ClassifierSize is >= 16 and <= 2048, $"data.classifierSize: {Data.ClassifierSize} (use 16..2048)");
        Need(Data.ValFraction is >= 0 and < 1, $"data.valFraction: {Data.ValFraction} (use at least 0 and below 1)");

        Need(Gan.Mode is "conditional" or "per-class" or "snapshots", $"gan.mode: '{Gan.Mode}' (use conditional, per-class or snapshots)");
        if (Gan.Mode == "snapshots")
        {
            var keys = Gan.Snapshots.Keys.Order().ToList();
            Need(keys.SequenceEqual(["conditional"]) || keys.SequenceEqual(["negative", "positive"]), "gan.snapshots: give {\"conditional\": DIR} or {\"positive\": DIR, \"negative\": DIR}");
            foreach (var (k, v) in Gan.Snapshots.Where(kv => !Directory.Exists(kv.Value))) p.Add($"gan.snapshots.{k}: folder {v} not found");
        }
        p.AddRange(Gan.OptionProblems());   // gan train's rules, from its option declarations

        Need(Synthetic.Trunc is >= 0 and <= 1, $"synthetic.trunc: {Synthetic.Trunc} (use 0..1)");
        Need(Synthetic.Sharpen >= 0, $"synthetic.sharpen: {Synthetic.Sharpen} (at least 0)");

        Need(Arms.Count > 0, "arms: at least one arm (e.g. {\"name\": \"baseline\", \"perClass\": 0})");
        foreach (var a in Arms.Where(a => string.IsNullOrWhiteSpace(a.Name))) p.Add("arms: every arm needs a non-empty name");
        foreach (var dup in Arms.GroupBy(a => ExperimentResults.SafeName(a.Name)).Where(g => g.Count() > 1)) p.Add($"arms: the names {string.Join(" and ", dup.Select(a => $"'{a.Name}'"))} share the folder arms/{dup.Key}");
        foreach (var a in Arms.Where(a => a.PerClass < 0 || (a.Balance && a.PerClass > 0))) p.Add($"arms.{a.Name}: perClass must be ≥ 0, and not set together with balance");
        Need(Arms.Any(a => a.PerClass == 0 && !a.Balance), "arms: one arm must be the baseline (perClass 0) so the others can be compared to it");
        Need(Seeds.Count > 0 && Seeds.Distinct().Count() == Seeds.Count, "seeds: distinct classifier seeds, at least one (3 or more for a paired test)");

        p.AddRange(Classifier.Problems());

        p.AddRange(Evaluation.Problems());
        return p;
    }

    /// <summary>A name that is one folder under --runs: never '.', '..', a path, hidden, or with control characters.</summary>
    public static bool IsPlainFolderName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= 100 && name is not ("." or "..") && !name.StartsWith('.')
        && name.Trim() == name && name.All(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.');

    private static string? MuraFolderProblem(string root)
    {
        try
        {
            MuraCatalog.FindDatasetDir(root);
            return null;
        }
        catch (DataException e)
        {
            return e.Message;
        }
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
