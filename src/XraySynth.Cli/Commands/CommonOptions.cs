using System.CommandLine;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary>Options shared by verbs.</summary>
public static class CommonOptions
{
    public static Option<DeviceChoice> Device() =>
        Enum("--device", "Where torch work runs: auto (CUDA if available, else CPU), cpu, or cuda.", DeviceChoice.Auto);

    public const string ThreadsName = "--threads";

    /// <summary>libtorch's CPU threads. Every verb that computes with torch declares it; <see cref="ApplyThreads"/>
    /// acts on it once, after parsing and before the verb runs.</summary>
    public static Option<int> Threads()
    {
        var option = new Option<int>(ThreadsName)
        {
            Description = "CPU threads for torch (its intra-op OpenMP pool and its inter-op pool). Default: OMP_NUM_THREADS when set, " +
                          "else the CPUs this process may use (affinity and cgroup quota).",
            DefaultValueFactory = _ => TorchRuntime.DefaultThreads,
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError($"{ThreadsName} {result.GetValueOrDefault<int>()}: must be at least 1.");
        });
        return option;
    }

    /// <summary>Sizes torch's thread pools from the parsed <c>--threads</c> of the verb about to run (verbs without
    /// torch do not declare it and load no libtorch here).</summary>
    public static void ApplyThreads(ParseResult parse)
    {
        if (parse.Errors.Count > 0 || parse.Action is System.CommandLine.Help.HelpAction) return;
        if (parse.CommandResult.Command.Options.OfType<Option<int>>().FirstOrDefault(o => o.Name == ThreadsName) is { } threads)
            TorchRuntime.SetThreads(parse.GetValue(threads));
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
            HelpName = string.Join("|", System.Enum.GetNames<T>().Select(Kebab)),
        };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (EnumNames.TryParse<T>(text, out var value)) return value;
            result.AddError($"{name} '{text}': expected one of {string.Join(", ", System.Enum.GetNames<T>().Select(Kebab))}.");
            return defaultValue;
        };
        return option;
    }

    /// <summary>WeightedBce → weighted-bce (<see cref="EnumNames.Kebab"/>).</summary>
    public static string Kebab(string name) => EnumNames.Kebab(name);
}
