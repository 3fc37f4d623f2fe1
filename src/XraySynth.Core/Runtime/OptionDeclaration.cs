using System.Globalization;
using System.Text.Json;

namespace XraySynth.Runtime;

/// <summary>What resuming a run does with an option.</summary>
public enum OnResume
{
    /// <summary>Part of what the run is: typed again with another value than the run has, the resume is refused.</summary>
    Fixed,
    /// <summary>May change on resume: a typed value replaces the run's; otherwise the run's stays.</summary>
    MayChange,
    /// <summary>How this invocation runs (the device): always this invocation's value.</summary>
    Current,
    /// <summary>Not part of the run (where to find runs, words for a new run's name): ignored on resume.</summary>
    Ignored,
}

/// <summary>
/// One option of the options record <typeparamref name="TOptions"/>, declared once: its name (the record's property;
/// camelCase, the key in options.json and in experiment configs), command-line flag, type, default, help text, what
/// resuming does with it, and what values can work. The record's defaults, the command line, resume checks and config
/// checks are all derived from these declarations.
/// </summary>
public abstract class OptionDeclaration<TOptions>
{
    private protected OptionDeclaration(string name, string? flag, string help, OnResume onResume)
    {
        Name = name;
        Flag = flag;
        Help = help;
        OnResume = onResume;
    }

    /// <summary>The property of <typeparamref name="TOptions"/> (PascalCase).</summary>
    public string Name { get; }

    /// <summary>The key in options.json and experiment configs: <see cref="Name"/> in camelCase.</summary>
    public string Key => JsonNamingPolicy.CamelCase.ConvertName(Name);

    /// <summary>The command-line flag (<c>--epochs</c>); null: not on the command line.</summary>
    public string? Flag { get; }

    /// <summary>One or two sentences for help.</summary>
    public string Help { get; }

    /// <summary>What resuming a run does with this option.</summary>
    public OnResume OnResume { get; }

    /// <summary>The command line must give it (no default).</summary>
    public bool Required { get; init; }

    /// <summary>The value's placeholder in help (<c>DIR</c>, <c>N</c>); null: the option's name.</summary>
    public string? Placeholder { get; init; }

    /// <summary>The value's type.</summary>
    public abstract Type ValueType { get; }

    /// <summary>The default, as an object (null when none).</summary>
    public abstract object? DefaultValue { get; }

    /// <summary>The value in <paramref name="options"/>, as an object.</summary>
    public abstract object? ValueOf(TOptions options);

    /// <summary>Why this option's value in <paramref name="options"/> cannot work ("must be at least 1"), or null.</summary>
    public abstract string? Problem(TOptions options);

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> hold the same value of this option.</summary>
    public abstract bool SameValue(TOptions a, TOptions b);

    /// <summary><paramref name="to"/> with this option's value taken from <paramref name="from"/>.</summary>
    public abstract TOptions CopyValue(TOptions from, TOptions to);

    /// <summary>The value as a user writes it: kebab-case enums, invariant numbers, lists space-separated, (none).</summary>
    public string Show(TOptions options) => ShowValue(ValueOf(options));

    /// <summary>Calls <paramref name="visitor"/> with the typed declaration (how the CLI builds a typed option).</summary>
    public abstract TResult Accept<TResult>(IOptionVisitor<TOptions, TResult> visitor);

    /// <summary>See <see cref="Show"/>.</summary>
    public static string ShowValue(object? value) => value switch
    {
        null => "(none)",
        string s => s,
        IEnumerable<string> list => list.Any() ? string.Join(" ", list) : "(none)",
        Enum e => EnumNames.Kebab(e.ToString()),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>An <see cref="OptionDeclaration{TOptions}"/> of type <typeparamref name="T"/>.</summary>
/// <param name="name">The property of <typeparamref name="TOptions"/> (use <c>nameof</c>).</param>
/// <param name="flag">The command-line flag, or null when the option is not on the command line.</param>
/// <param name="defaultValue">The default (for a required option: what the record holds until it is given).</param>
/// <param name="help">The help text.</param>
/// <param name="onResume">What resuming does with it.</param>
/// <param name="get">Reads the value from the record.</param>
/// <param name="set">The record with another value.</param>
/// <param name="check">Why a value cannot work ("must be at least 1"), or null when it can; null: every value can.</param>
/// <param name="same">Equality of two values; null: <see cref="EqualityComparer{T}.Default"/> (sequences: element-wise).</param>
public sealed class OptionDeclaration<TOptions, T>(
    string name, string? flag, T defaultValue, string help, OnResume onResume,
    Func<TOptions, T> get, Func<TOptions, T, TOptions> set, Func<T, string?>? check = null, Func<T, T, bool>? same = null)
    : OptionDeclaration<TOptions>(name, flag, help, onResume)
{
    public T Default { get; } = defaultValue;

    public Func<TOptions, T> Get { get; } = get;

    public Func<TOptions, T, TOptions> Set { get; } = set;

    /// <summary>Why <paramref name="value"/> cannot work, or null.</summary>
    public string? Check(T value) => check?.Invoke(value);

    public override Type ValueType => typeof(T);

    public override object? DefaultValue => Default;

    public override object? ValueOf(TOptions options) => Get(options);

    public override string? Problem(TOptions options) => Check(Get(options));

    public override bool SameValue(TOptions a, TOptions b) => Same(Get(a), Get(b));

    public override TOptions CopyValue(TOptions from, TOptions to) => Set(to, Get(from));

    public override TResult Accept<TResult>(IOptionVisitor<TOptions, TResult> visitor) => visitor.Visit(this);

    private bool Same(T a, T b) => same is not null ? same(a, b)
        : a is IEnumerable<string> x && b is IEnumerable<string> y ? x.SequenceEqual(y)
        : EqualityComparer<T>.Default.Equals(a, b);
}

/// <summary>Does something with a typed <see cref="OptionDeclaration{TOptions, T}"/> (e.g. builds a command-line option).</summary>
public interface IOptionVisitor<TOptions, out TResult>
{
    TResult Visit<T>(OptionDeclaration<TOptions, T> declaration);
}

/// <summary>The rules every options record follows, derived from its declarations.</summary>
public static class OptionDeclarations
{
    /// <summary>Every declared option whose value cannot work, as "--flag value: problem" (the key where there is no flag).</summary>
    public static List<string> Problems<TOptions>(IEnumerable<OptionDeclaration<TOptions>> declarations, TOptions options) =>
        [.. declarations.Where(d => d.Problem(options) is not null).Select(d => $"{d.Flag ?? d.Key} {d.Show(options)}: {d.Problem(options)}")];

    /// <summary>The declarations behind a config section: those named as a property of <paramref name="section"/>.</summary>
    public static IReadOnlyList<OptionDeclaration<TOptions>> InSection<TOptions>(Type section, IEnumerable<OptionDeclaration<TOptions>> declarations) =>
        [.. declarations.Where(d => section.GetProperty(d.Name) is not null)];

    /// <summary>Every declared option whose value cannot work, as a config check reports it: "SECTION.key: value (problem)",
    /// strings quoted.</summary>
    public static IEnumerable<string> ConfigProblems<TOptions>(string section, IEnumerable<OptionDeclaration<TOptions>> declarations, TOptions options) =>
        declarations.Where(d => d.Problem(options) is not null).Select(d =>
            $"{section}.{d.Key}: {(d.ValueOf(options) is string ? $"'{d.Show(options)}'" : d.Show(options))} ({d.Problem(options)})");

    /// <summary>
    /// The saved options of a run being resumed, with what this invocation may change: options that
    /// <see cref="OnResume.MayChange"/> and were given, and <see cref="OnResume.Current"/> ones. <paramref name="given"/>
    /// names the flags the user typed (null: every option counts as given). A given <see cref="OnResume.Fixed"/> option
    /// with another value than the run has, or a given value that cannot work, is a conflict: the conflicts are returned
    /// as "--flag value (the run has value)" lines, and the merged options are null.
    /// </summary>
    public static (TOptions? Merged, List<string> Conflicts) MergeForResume<TOptions>(
        IEnumerable<OptionDeclaration<TOptions>> declarations, TOptions saved, TOptions request, IReadOnlySet<string>? given)
        where TOptions : class
    {
        var conflicts = new List<string>();
        var merged = saved;
        foreach (var d in declarations)
        {
            bool typed = given is null || (d.Flag is not null && given.Contains(d.Flag));
            switch (d.OnResume)
            {
                case OnResume.Fixed when typed && !d.SameValue(request, saved):
                    conflicts.Add($"{d.Flag ?? d.Key} {d.Show(request)} (the run has {d.Show(saved)})");
                    break;
                case OnResume.MayChange when typed && d.Problem(request) is { } problem:
                    conflicts.Add($"{d.Flag ?? d.Key} {d.Show(request)} ({problem})");
                    break;
                case OnResume.MayChange when typed:
                case OnResume.Current:
                    merged = d.CopyValue(request, merged);
                    break;
            }
        }
        return (conflicts.Count == 0 ? merged : null, conflicts);
    }
}
