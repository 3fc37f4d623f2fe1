using XraySynth.Runtime;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using XraySynth.Data;

namespace XraySynth.Gan.Training;

/// <summary>One <c>gan train</c> option: a property of <see cref="GanTrainOptions"/> and its declaration.</summary>
public sealed class GanOption
{
    private static readonly NullabilityInfoContext Nullability = new();
    private readonly GanOptionAttribute _declaration;

    internal GanOption(PropertyInfo property, GanOptionAttribute declaration, object? defaultValue)
    {
        Property = property;
        _declaration = declaration;
        Type = property.PropertyType;
        ValueType = Nullable.GetUnderlyingType(Type) ?? Type;
        AllowsNone = Nullable.GetUnderlyingType(Type) is not null
            || (!Type.IsValueType && Nullability.Create(property).WriteState == NullabilityState.Nullable);
        Default = declaration.Preset is null ? defaultValue : null;
        if (declaration.Resume is not (OnResume.Fixed or OnResume.MayChange))
            throw new InvalidOperationException($"GanTrainOptions.{property.Name}: a gan train option is {nameof(OnResume.Fixed)} " +
                $"or {nameof(OnResume.MayChange)} on resume (the data and the device are merged by {nameof(GanOptions.MergeForResume)}).");
    }

    /// <summary>The property (PascalCase).</summary>
    public string Name => Property.Name;

    /// <summary>The JSON key (options.json, experiment configs): camelCase.</summary>
    public string Key => JsonNamingPolicy.CamelCase.ConvertName(Name);

    /// <summary>The command-line name: --kebab-case, or the declared one.</summary>
    public string Flag => "--" + (_declaration.Flag ?? JsonNamingPolicy.KebabCaseLower.ConvertName(Name));

    /// <summary>A former command-line name still accepted (hidden), or null.</summary>
    public string? Alias => _declaration.Alias is { } a ? "--" + a : null;

    /// <summary>The declared type (nullable where none is a value).</summary>
    public Type Type { get; }

    /// <summary>The type of a value (<see cref="Type"/> without Nullable).</summary>
    public Type ValueType { get; }

    /// <summary>Whether "none" (null) is a value of this option.</summary>
    public bool AllowsNone { get; }

    /// <summary>What a resume does with it.</summary>
    public OnResume Resume => _declaration.Resume;

    /// <summary>One sentence for --help.</summary>
    public string Help => _declaration.Help;

    /// <summary>The value placeholder for help, or null for the type's.</summary>
    public string? HelpName => _declaration.HelpName ?? (ValueType.IsEnum ? string.Join("|", EnumNames.All(ValueType)) : null);

    /// <summary>The <see cref="TrainingHyperparameters"/> property that gives the default, or null.</summary>
    public string? PresetDefault => _declaration.Preset;

    /// <summary>The default when it does not depend on the preset (null: none, or the preset's).</summary>
    public object? Default { get; }

    /// <summary>The default as help shows it (kebab-case names), or null when there is none to show.</summary>
    public string? DefaultText => PresetDefault is not null ? "the preset's"
        : Default is null || Default is false ? null : Show(Default);

    internal PropertyInfo Property { get; }

    /// <summary>Why a given <paramref name="value"/> cannot work (with the fix where there is one), or null.</summary>
    public GanOptionProblem? Problem(object? value)
    {
        if (value is null)
            return null;
        var d = _declaration;
        if (value is IConvertible and not string and not bool and not Enum)
        {
            var x = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            var why = d.Why is { } w ? $" ({w})" : "";
            if (!double.IsNaN(d.AtLeast) && !double.IsNaN(d.AtMost) && (x < d.AtLeast || x > d.AtMost))
                return new($"must be between {Show(d.AtLeast)} and {Show(d.AtMost)}{why}");
            if (!double.IsNaN(d.Above) && x <= d.Above)
                return new((d.Above == 0 ? "must be positive" : $"must be above {Show(d.Above)}") + why);
            if (!double.IsNaN(d.AtLeast) && x < d.AtLeast)
                return new((d.AtLeast == 0 ? "must not be negative" : $"must be at least {Show(d.AtLeast)}") + why);
        }
        return d.Rule is null ? null : ((IGanOptionRule)Activator.CreateInstance(d.Rule)!).Check(value);
    }

    /// <summary>A value as the user writes it: on/off, kebab-case names, invariant numbers, (none).</summary>
    public static string Show(object? value) => value switch
    {
        null => "(none)",
        bool b => b ? "on" : "off",
        Enum e => EnumNames.Kebab(e.ToString()),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>What a value must be, in words.</summary>
    public string Describe() =>
        ValueType == typeof(bool) ? "true or false"
        : ValueType == typeof(int) ? "an integer"
        : ValueType == typeof(double) ? "a number"
        : ValueType.IsEnum ? $"one of {string.Join(", ", EnumNames.All(ValueType))}"
        : "a string";

    /// <summary>The value written as text (a kebab-case name for enums), converted to the option's type; a
    /// <see cref="DataException"/> says what is expected.</summary>
    public object Parse(string text)
    {
        try
        {
            return Coerce(text)!;
        }
        catch (FormatException e)
        {
            throw new DataException($"{Flag} '{text}': {e.Message}.");
        }
    }

    /// <summary>
    /// A value of another form as the option's type: text (kebab-case names for enums), a JSON value, a number of
    /// another numeric type. Throws <see cref="FormatException"/> saying what is expected.
    /// </summary>
    public object? Coerce(object? value)
    {
        var expected = new FormatException($"expected {Describe()}");
        switch (value)
        {
            case null:
                return AllowsNone ? null : throw expected;
            case var v when v.GetType() == ValueType:
                return v;
            case JsonElement element:
                return Coerce(JsonSerializer.SerializeToNode(element));
            case JsonValue node when node.GetValueKind() == JsonValueKind.String:
                return Coerce(node.GetValue<string>());
            case JsonNode node:
                try
                {
                    return Coerce(node.Deserialize(ValueType, Json.Options));
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    throw expected;
                }
            case string text when ValueType.IsEnum:
                return EnumNames.TryParse(ValueType, text, out var named) ? named : throw expected;
            case string or IConvertible when ValueType != typeof(string) && !ValueType.IsEnum && value is not bool:
                try
                {
                    var converted = Convert.ChangeType(value, ValueType, CultureInfo.InvariantCulture);
                    // No silent rounding: 2.5 is not an integer option's value.
                    return value is double d && ValueType == typeof(int) && d != (int)converted ? throw expected : converted;
                }
                catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
                {
                    throw expected;
                }
            default:
                throw expected;
        }
    }

    internal void CheckType(object? value)
    {
        if (value is null ? !AllowsNone : value.GetType() != ValueType)
            throw new ArgumentException($"{Name} takes {(AllowsNone ? "null or " : "")}{ValueType.Name}, not " +
                                        $"{value?.GetType().Name ?? "null"}.", nameof(value));
    }

    /// <inheritdoc/>
    public override string ToString() => Flag;
}

/// <summary>Why a value cannot work, and what to write instead.</summary>
/// <param name="What">The rule the value breaks ("must be positive", "unknown preset").</param>
/// <param name="Fix">What to write instead, or null when the rule says it.</param>
public sealed record GanOptionProblem(string What, string? Fix = null);

/// <summary>A check of one option's value beyond ranges (known names), named by <see cref="GanOptionAttribute.Rule"/>.</summary>
public interface IGanOptionRule
{
    /// <summary>Why <paramref name="value"/> cannot work, or null.</summary>
    GanOptionProblem? Check(object value);
}

/// <summary>The name checks of <see cref="GanTrainOptions"/>.</summary>
public static class GanOptionRules
{
    /// <summary>--cfg: a network preset.</summary>
    public sealed class Preset : IGanOptionRule
    {
        /// <inheritdoc/>
        public GanOptionProblem? Check(object value) => Networks.NetworkPresets.Names.Contains((string)value) ? null
            : new("unknown preset", $"use {string.Join(", ", Networks.NetworkPresets.Names)}");
    }

    /// <summary>--augpipe: an augmentation pipeline preset.</summary>
    public sealed class AugmentPipeline : IGanOptionRule
    {
        /// <inheritdoc/>
        public GanOptionProblem? Check(object value) => Augment.AugmentPresets.Names.Contains((string)value) ? null
            : new("unknown pipeline", $"use one of {string.Join(", ", Augment.AugmentPresets.Names)}");
    }

    /// <summary>--metrics: a list of metric names (a typo fails before training, not after hours of it).</summary>
    public sealed class MetricList : IGanOptionRule
    {
        /// <inheritdoc/>
        public GanOptionProblem? Check(object value)
        {
            try
            {
                Quality.MetricsOptions.ParseMetrics((string)value);
                return null;
            }
            catch (DataException e)
            {
                return new(e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..].TrimEnd('.'));
            }
        }
    }
}

/// <summary>
/// The <c>gan train</c> options as declared on <see cref="GanTrainOptions"/>, and what is derived from them alone:
/// every check of given values and the resume merge (resolution: <see cref="GanTrainRequest.Resolve"/>).
/// </summary>
public static class GanOptions
{
    /// <summary>Every option, in declaration order.</summary>
    public static IReadOnlyList<GanOption> All { get; } = Declare();

    private static List<GanOption> Declare()
    {
        var blank = new GanTrainOptions { OutRoot = "" };
        return typeof(GanTrainOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.IsDefined(typeof(GanOptionAttribute)))
            .OrderBy(p => p.MetadataToken)
            .Select(p => new GanOption(p, p.GetCustomAttribute<GanOptionAttribute>()!, p.GetValue(blank)))
            .ToList();
    }

    /// <summary>The option of a property: <c>GanOptions.Of(o =&gt; o.Kimg)</c>.</summary>
    public static GanOption Of<T>(Expression<Func<GanTrainOptions, T>> property)
    {
        var body = property.Body is UnaryExpression { NodeType: ExpressionType.Convert } u ? u.Operand : property.Body;
        var name = (body as MemberExpression)?.Member.Name
            ?? throw new ArgumentException("expected a property of GanTrainOptions, e.g. o => o.Kimg", nameof(property));
        return Find(name) ?? throw new ArgumentException($"GanTrainOptions.{name} is not a declared option.", nameof(property));
    }

    /// <summary>The option with this property name or JSON key (case-insensitive), or null.</summary>
    public static GanOption? Find(string name) =>
        All.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Every problem of a request's given values, as one line each: single values (ranges, known names), then the
    /// rules between options. <paramref name="name"/> says how an option is called where the values came from
    /// (<c>--p</c> on the command line, <c>gan.p</c> in an experiment config); <paramref name="show"/> how a value is.
    /// </summary>
    public static IEnumerable<string> Problems(GanTrainRequest request, Func<GanOption, string> name,
        Func<GanOption, object?, GanOptionProblem, string>? show = null)
    {
        show ??= (o, v, p) => $"{name(o)} {GanOption.Show(v)}: {p.What}." + (p.Fix is { } fix ? $" fix: {fix}." : "");
        foreach (var (option, value) in request.Given)
        {
            if (option.Problem(value) is { } problem)
                yield return show(option, value, problem);
        }
        foreach (var problem in Consistency(request, name))
            yield return problem;
    }

    /// <summary>The rules between options (each names both).</summary>
    private static IEnumerable<string> Consistency(GanTrainRequest r, Func<GanOption, string> name)
    {
        string augName = name(Of(o => o.Aug)), pName = name(Of(o => o.P)), targetName = name(Of(o => o.Target)),
            pipeName = name(Of(o => o.AugPipe)), condName = name(Of(o => o.Cond)), labelName = name(Of(o => o.Label));
        var aug = r.Get(o => o.Aug, AugMode.Ada);
        if (aug == AugMode.Fixed && r.Get(o => o.P, null) is null)
            yield return $"{augName} fixed needs {pName} P (the fixed augmentation probability, 0..1).";
        if (r.Get(o => o.P, null) is not null && aug != AugMode.Fixed)
            yield return $"{pName} is only used with {augName} fixed. fix: add {augName} fixed or drop {pName}.";
        if (r.Get(o => o.Target, null) is not null && aug != AugMode.Ada)
            yield return $"{targetName} is only used with {augName} ada. fix: drop {targetName}.";
        if (r.Get(o => o.AugPipe, null) is not null && aug == AugMode.Noaug)
            yield return $"{pipeName} cannot be used with {augName} noaug. fix: drop one of them.";
        if (r.Get(o => o.Cond, false) && r.Get(o => o.Label, null) is not null)
            yield return $"{condName} trains one model on both classes; {labelName} trains on one class only. fix: use one of them.";
    }

    /// <summary>
    /// The options of a resumed run: its saved options (<paramref name="saved"/>, every one given), with the given
    /// options that a resume may change (<see cref="OnResume.MayChange"/>), the dataset path and this session's device.
    /// Any option that is part of the run (<see cref="OnResume.Fixed"/>) given with another value is refused.
    /// </summary>
    public static GanTrainRequest MergeForResume(GanTrainRequest saved, GanTrainRequest request)
    {
        var conflicts = new List<string>();
        foreach (var (option, value) in request.Given.Where(g => g.Option.Resume == OnResume.Fixed))
        {
            var was = saved.IsGiven(option) ? saved[option] : option.Default;
            if (!Equals(value, was))
                conflicts.Add($"{option.Flag} {GanOption.Show(value)} (the run has {GanOption.Show(was)})");
        }
        if (conflicts.Count > 0)
        {
            var changeable = All.Where(o => o.Resume == OnResume.MayChange).Select(o => o.Flag);
            throw new DataException(
                $"--resume continues a run exactly, but {string.Join("; ", conflicts)}. fix: drop these options (only " +
                $"{string.Join(", ", changeable)}, --device and --data may change on resume), or start a new run.");
        }
        var merged = saved with
        {
            Data = string.IsNullOrEmpty(request.Data) ? saved.Data : Path.GetFullPath(request.Data),
            Device = request.Device,
            InjectNonFiniteAt = request.InjectNonFiniteAt,
            GridSize = request.GridSize,
            QualitySamples = request.QualitySamples,
        };
        foreach (var (option, value) in request.Given.Where(g => g.Option.Resume == OnResume.MayChange))
            merged = merged.With(option, value);
        return merged;
    }

    /// <inheritdoc cref="MergeForResume(GanTrainRequest, GanTrainRequest)"/>
    public static GanTrainRequest MergeForResume(GanTrainOptions saved, GanTrainRequest request) =>
        MergeForResume(GanTrainRequest.Of(saved), request);
}
