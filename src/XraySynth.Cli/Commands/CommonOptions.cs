using System.CommandLine;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary>Options shared by verbs, and the conventions of docs/cli.md that every verb follows.</summary>
public static class CommonOptions
{
    public const string OutName = "--out", RunsName = "--runs";

    /// <summary><c>--runs RUNS</c>: the folder that holds this verb's run folders (each run makes a new one inside it;
    /// <c>--resume latest</c> takes the newest). <c>--out</c>, the old spelling, is still accepted (hidden from help) so
    /// that existing command lines keep working; passing both is an error. <c>--out</c> otherwise always names what a
    /// verb writes itself (docs/cli.md).</summary>
    public static RunsOption Runs(string description, string defaultValue = "runs") => new(description, defaultValue);

    /// <summary>The pair of options behind <see cref="Runs"/>: add both to the verb, read with <see cref="GetValue"/>.</summary>
    public sealed class RunsOption
    {
        internal RunsOption(string description, string defaultValue)
        {
            Runs = new Option<string>(RunsName) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "RUNS" };
            OldOut = new Option<string?>(OutName) { Description = $"Old spelling of {RunsName}.", Hidden = true, HelpName = "RUNS" };
            OldOut.Validators.Add(result =>
            {
                if (result.GetResult(Runs) is { Implicit: false })
                    result.AddError($"{RunsName} and {OutName} name the same folder here ({OutName} is the old spelling of {RunsName}): pass {RunsName} only.");
            });
        }

        /// <summary>--runs RUNS, shown in help.</summary>
        public Option<string> Runs { get; }

        /// <summary>--out RUNS, the old spelling: accepted, hidden from help.</summary>
        public Option<string?> OldOut { get; }

        /// <summary>The folder given by --runs, else by the old --out, else the default.</summary>
        public string GetValue(ParseResult parse) => parse.GetValue(OldOut) ?? parse.GetValue(Runs)!;
    }

    public static Option<DeviceChoice> Device() =>
        Enum("--device", "Where torch work runs: auto (CUDA if available, else CPU), cpu, or cuda.", DeviceChoice.Auto);

    public const string ThreadsName = "--threads";

    /// <summary>libtorch's CPU threads. Every verb that computes with torch declares it; <see cref="ApplyThreads"/>
    /// acts on it once, after parsing and before the verb runs. Its default depends on the machine, so it is said in
    /// words (help would print this machine's number as "[default: N]").</summary>
    public static Option<int?> Threads()
    {
        var option = new Option<int?>(ThreadsName)
        {
            Description = "CPU threads for torch (its intra-op OpenMP pool and its inter-op pool). Default: OMP_NUM_THREADS when set, " +
                          "else the CPUs this process may use (affinity and cgroup quota).",
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 and var n) result.AddError($"{ThreadsName} {n}: must be at least 1.");
        });
        return option;
    }

    /// <summary>Sizes torch's thread pools from the parsed <c>--threads</c> of the verb about to run (verbs without
    /// torch do not declare it and load no libtorch here).</summary>
    public static void ApplyThreads(ParseResult parse)
    {
        if (parse.Errors.Count > 0 || parse.Action is System.CommandLine.Help.HelpAction) return;
        if (parse.CommandResult.Command.Options.OfType<Option<int?>>().FirstOrDefault(o => o.Name == ThreadsName) is { } threads)
            TorchRuntime.SetThreads(parse.GetValue(threads) ?? TorchRuntime.DefaultThreads);
    }

    /// <summary>Acted on before parsing (see Program.cs); declared so that help shows it and parsing accepts it.</summary>
    public static Option<string?> LibTorch() => new("--libtorch")
    {
        Description = $"Folder of a CUDA-enabled libtorch, e.g. the lib/ folder of a PyTorch install (or set {TorchRuntime.LibTorchVariable}).",
        HelpName = "DIR",
    };

    public static Option<int> Seed(int defaultValue = 0) => new("--seed")
    {
        Description = "Random seed; the same seed gives the same result.",
        DefaultValueFactory = _ => defaultValue,
        HelpName = "S",
    };

    public static Option<string[]> Parts(string defaultParts = "shoulder") => new("--parts")
    {
        Description = "Study types, comma-separated: elbow, finger, forearm, hand, humerus, shoulder, wrist (or 'all').",
        DefaultValueFactory = _ => [defaultParts],
        AllowMultipleArgumentsPerToken = true,
        HelpName = "PART,...",
    };

    /// <summary>Parts from '--parts a,b --parts c' or 'all', lower-cased and de-duplicated.</summary>
    public static List<string> ResolveParts(string[] values)
    {
        var parts = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(p => p.ToLowerInvariant()).Distinct().ToList();
        return parts.Contains("all") ? [.. Data.MuraPaths.Parts] : parts;
    }

    /// <summary>An enum option whose values are written in kebab case (weighted-bce), case-insensitive.</summary>
    public static Option<T> Enum<T>(string name, string description, T defaultValue) where T : struct, System.Enum
    {
        var option = new Option<T>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join("|", EnumNames.All<T>()),
        };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (EnumNames.TryParse<T>(text, out var value)) return value;
            result.AddError(EnumNames.Problem<T>(text, name));
            return defaultValue;
        };
        return option;
    }

    /// <summary>
    /// <paramref name="help"/> (the help of <paramref name="command"/>) with every enum default written as it is typed:
    /// "[default: weighted-bce]", not the C# name "[default: WeightedBce]". System.CommandLine prints a default with
    /// ToString() and keeps its help builder internal, so the CLI's Run
    /// renders help into a buffer and passes it through here; every enum option of every verb gets it.
    /// </summary>
    public static string TypedDefaults(Command command, string help)
    {
        foreach (var option in command.Options)
        {
            if (!option.HasDefaultValue || (Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType) is not { IsEnum: true }
                || option.GetDefaultValue()?.ToString() is not { } name)
                continue;
            var typed = Kebab(name);
            if (typed != name) help = help.Replace($"[default: {name}]", $"[default: {typed}]", StringComparison.Ordinal);
        }
        return help;
    }

    /// <summary>WeightedBce → weighted-bce (<see cref="EnumNames.Kebab"/>).</summary>
    public static string Kebab(string name) => EnumNames.Kebab(name);
}
