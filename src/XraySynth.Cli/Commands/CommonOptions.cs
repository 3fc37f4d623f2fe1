using System.CommandLine;

namespace XraySynth.Cli.Commands;

/// <summary>Options shared by verbs.</summary>
public static class CommonOptions
{
    public static Option<DeviceChoice> Device() => new("--device")
    {
        Description = "Where torch work runs: auto (CUDA if available, else CPU), cpu, or cuda.",
        DefaultValueFactory = _ => DeviceChoice.Auto,
    };

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
}
