using XraySynth.Runtime;
using System.Collections.Immutable;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using XraySynth.Data;

namespace XraySynth.Gan.Training;

/// <summary>
/// What a <c>gan train</c> caller asks for: where to read and write, and the options it gives. An option that is not
/// given has one meaning: a new run takes its declared default (<see cref="GanTrainOptions"/>), a resumed run keeps
/// the run's value. A given value is never "default"; for an option whose type is nullable, a given null means none.
/// </summary>
public sealed record GanTrainRequest
{
    /// <summary>Folder that holds the run folders (where "--resume latest" looks).</summary>
    public required string OutRoot { get; init; }

    /// <summary>Dataset zip; a resumed run may omit it (the run's is used) or pass the same data at another path.</summary>
    public string? Data { get; init; }

    /// <summary>Where this session trains (not part of the run: a resume uses the one given now).</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Test hook: make the G loss non-finite at this minibatch index (0-based).</summary>
    internal long? InjectNonFiniteAt { get; init; }

    /// <summary>Test hook: fakes grid size (columns, rows) instead of the official one.</summary>
    internal (int Width, int Height)? GridSize { get; init; }

    /// <summary>Test hook: generated images for the FD8 quality figure instead of 1024.</summary>
    internal int? QualitySamples { get; init; }

    private ImmutableDictionary<GanOption, object?> GivenValues { get; init; } = ImmutableDictionary<GanOption, object?>.Empty;

    /// <summary>The given options and their values, in declaration order.</summary>
    public IEnumerable<(GanOption Option, object? Value)> Given =>
        GanOptions.All.Where(GivenValues.ContainsKey).Select(o => (o, GivenValues[o]));

    /// <summary>This request with <paramref name="option"/> given as <paramref name="value"/>.</summary>
    public GanTrainRequest With<T>(Expression<Func<GanTrainOptions, T>> option, T value) =>
        With(GanOptions.Of(option), value);

    /// <summary>This request with <paramref name="option"/> given as <paramref name="value"/> (of the option's type).</summary>
    public GanTrainRequest With(GanOption option, object? value)
    {
        option.CheckType(value);
        return this with { GivenValues = GivenValues.SetItem(option, value) };
    }

    /// <summary>This request without <paramref name="option"/>.</summary>
    public GanTrainRequest Without(GanOption option) => this with { GivenValues = GivenValues.Remove(option) };

    /// <summary>Whether <paramref name="option"/> is given.</summary>
    public bool IsGiven(GanOption option) => GivenValues.ContainsKey(option);

    /// <summary>The given value of <paramref name="option"/>, or <paramref name="otherwise"/>.</summary>
    public T Get<T>(Expression<Func<GanTrainOptions, T>> option, T otherwise) =>
        GivenValues.TryGetValue(GanOptions.Of(option), out var v) ? (T)v! : otherwise;

    /// <summary>The given value of <paramref name="option"/>, or null when it is not given.</summary>
    public object? this[GanOption option] => GivenValues.GetValueOrDefault(option);

    /// <summary>Every option of resolved <paramref name="options"/> given, with its paths (the run's values on resume).</summary>
    public static GanTrainRequest Of(GanTrainOptions options)
    {
        var request = new GanTrainRequest { OutRoot = options.OutRoot, Data = options.Data, Device = options.Device };
        foreach (var option in GanOptions.All)
            request = request.With(option, option.Property.GetValue(options));
        return request;
    }

    /// <summary>
    /// The options saved in a run's options.json (<c>{"options": {...}, "setup": {...}}</c>), every one present as given.
    /// Files of earlier versions read too: a null where the option now always has a value (metricsDetector and
    /// metricsCount were saved unresolved) is "not given", so the declared default applies.
    /// </summary>
    public static GanTrainRequest FromSaved(string optionsFile)
    {
        JsonObject saved;
        try
        {
            saved = JsonNode.Parse(File.ReadAllText(optionsFile))?["options"] as JsonObject
                ?? throw new JsonException("no \"options\" object");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new DataException($"{optionsFile} is not a gan train options file ({e.Message}).");
        }
        var request = new GanTrainRequest
        {
            OutRoot = saved["outRoot"]?.GetValue<string>() ?? Path.GetDirectoryName(Path.GetDirectoryName(optionsFile)!)!,
            Data = saved["data"]?.GetValue<string>(),
        };
        foreach (var option in GanOptions.All)
        {
            if (!saved.TryGetPropertyValue(option.Key, out var node) || (node is null && !option.AllowsNone))
                continue;
            try
            {
                request = request.With(option, node?.Deserialize(option.Type, Json.Options));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
            {
                throw new DataException($"{optionsFile}: \"{option.Key}\" is not {option.Describe()} ({e.Message}).");
            }
        }
        return request;
    }

    /// <summary>
    /// These options resolved for a dataset of <paramref name="resolution"/> px: every option not given takes its
    /// declared default (the preset's for kimg, batch and gamma), and options that do not apply are none (--p without
    /// --aug fixed, --target without ada, --augpipe with noaug). Throws <see cref="DataException"/> naming the first
    /// invalid option and the fix.
    /// </summary>
    public GanTrainOptions Resolve(int resolution)
    {
        if (GanOptions.Problems(this, o => o.Flag).FirstOrDefault() is { } problem)
            throw new DataException(problem);
        var cfg = Get(o => o.Cfg, "auto");
        var preset = TrainingPresets.Get(cfg, resolution);
        var resolved = new GanTrainOptions
        {
            OutRoot = OutRoot,
            Data = Data,
            Device = Device,
            InjectNonFiniteAt = InjectNonFiniteAt,
            GridSize = GridSize,
            QualitySamples = QualitySamples,
        };
        foreach (var option in GanOptions.All)
        {
            if (IsGiven(option))
                option.Property.SetValue(resolved, GivenValues[option]);
            else if (option.PresetDefault is { } name)
                option.Property.SetValue(resolved, Convert.ChangeType(
                    typeof(TrainingHyperparameters).GetProperty(name)!.GetValue(preset), option.ValueType,
                    System.Globalization.CultureInfo.InvariantCulture));
        }
        // resolved is a fresh record nobody else sees yet: setting its init-only properties above is safe.
        return resolved with
        {
            P = resolved.Aug == AugMode.Fixed ? resolved.P : null,
            Target = resolved.Aug == AugMode.Ada ? resolved.Target : null,
            AugPipe = resolved.Aug == AugMode.Noaug ? null : resolved.AugPipe,
        };
    }
}
