using XraySynth.Runtime;
using System.CommandLine;
using XraySynth.Cli.Rendering;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;

namespace XraySynth.Cli.Commands;

/// <summary>
/// <c>xraysynth gan train</c>: StyleGAN2-ADA training that resumes exactly. Its training options are the declared
/// <see cref="GanOptions"/> (one command-line option each, with its help and default); only where the run reads and
/// writes (--data, --runs, --resume) and where it runs (--device) are declared here.
/// </summary>
public static class GanTrainCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Dataset zip in the StyleGAN2-ADA layout (written by 'prepare'); optional with --resume.", HelpName = "ZIP" };
        var runs = CommonOptions.Runs("Folder that holds the run folders (each run makes RUNS/NNNNN-gan-train-<desc>/).");
        var resume = new Option<string?>("--resume") { Description = "Continue a run exactly: 'latest' (the newest under --runs), a run folder, or one of its snapshots.", HelpName = "latest|RUN|SNAPSHOT" };
        var device = CommonOptions.Device();
        var options = GanOptions.All.Select(TrainOption.Of).ToList();
        var cmd = new Command("train",
            "Train StyleGAN2-ADA (official losses, lazy regularisation, ADA, G_ema) on a dataset zip. Writes a run folder with options.json, " +
            "log.txt, stats.jsonl, TensorBoard events, reals.png, fakesKKKKKK.png and network-snapshot-KKKKKK/ folders that hold " +
            "everything to continue exactly (--resume latest after a kill gives the losses of an uninterrupted run on the same device).")
        {
            data, runs.Runs, runs.OldOut, resume,
        };
        foreach (var option in options.SelectMany(o => o.Options))
            cmd.Options.Add(option);
        cmd.Options.Add(device);
        cmd.Options.Add(CommonOptions.LibTorch());
        cmd.Options.Add(CommonOptions.Threads());
        cmd.SetAction((parse, cancel) =>
        {
            var request = new GanTrainRequest
            {
                Data = parse.GetValue(data) is { } d ? Path.GetFullPath(d) : null,
                OutRoot = Path.GetFullPath(runs.GetValue(parse)),
                Device = parse.GetValue(device),
            };
            foreach (var option in options.Where(o => o.IsGiven(parse)))
                request = request.With(option.Declared, option.Value(parse));
            var config = parse.InvocationConfiguration;
            return Task.FromResult(Run(request, parse.GetValue(resume), config.Output, config.Error, cancel));
        });
        return cmd;
    }

    /// <summary>
    /// The command-line option of a declared training option: kebab-case name, help with the default in kebab-case,
    /// enum values case-insensitive; a former name (--label for --class) as a second option hidden from help. An
    /// option is given when it is on the command line.
    /// </summary>
    private sealed record TrainOption(GanOption Declared, IReadOnlyList<Option> Options, Func<ParseResult, object?> Value)
    {
        public bool IsGiven(ParseResult parse) => Options.Any(o => Given(parse, o));

        /// <summary>On the command line: a result System.CommandLine made up for an option left off (a flag's
        /// false) is implicit, and must not count as a change on resume.</summary>
        private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

        public static TrainOption Of(GanOption declared)
        {
            var t = declared.ValueType;
            if (t == typeof(bool)) return Typed<bool>(declared, null);
            if (t == typeof(int)) return Typed<int>(declared, null);
            if (t == typeof(double)) return Typed<double>(declared, null);
            if (t == typeof(string)) return Typed<string>(declared, null);
            if (t.IsEnum) return Typed<object>(declared, declared.Parse);
            throw new NotSupportedException($"{declared.Name}: no command-line form for {t.Name}.");
        }

        /// <param name="parse">A parser of the declaration (enums: the kebab-case names it shows), or null for the type's.</param>
        private static TrainOption Typed<T>(GanOption declared, Func<string, object>? parse)
        {
            Option<T> Make(string name, bool hidden)
            {
                var option = new Option<T>(name)
                {
                    Description = declared.Help + (declared.DefaultText is { } text ? $" [default: {text}]" : ""),
                    HelpName = declared.HelpName,
                    Hidden = hidden,
                };
                if (parse is not null)
                {
                    option.CustomParser = result =>
                    {
                        try
                        {
                            return (T)parse(result.Tokens.Count > 0 ? result.Tokens[0].Value : "");
                        }
                        catch (XraySynth.Runtime.DataException e)
                        {
                            result.AddError(e.Message);
                            return default!;
                        }
                    };
                }
                return option;
            }
            var options = new List<Option<T>> { Make(declared.Flag, hidden: false) };
            if (declared.Alias is { } alias)
                options.Add(Make(alias, hidden: true));
            return new TrainOption(declared, options,
                result => options.Where(o => Given(result, o)).Select(o => (object?)result.GetValue(o)).Last());
        }
    }

    public static int Run(GanTrainRequest request, string? resume, TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        GanTrainResult result;
        try
        {
            result = ProgressRenderer.Run(output, "gan train", progress => GanTrainer.Run(request, resume, progress, output.WriteLine, cancel));
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (SnapshotException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        var speed = result.SecPerKimg is { } s ? $"{s:F2} sec/kimg this session" : "too short to time";
        output.WriteLine($"trained to kimg {result.Kimg:F3} in {result.Ticks} ticks ({speed}), augment p {result.AugmentP:F4}; " +
                         $"run {result.RunDir}; last snapshot {result.LastSnapshot}");
        return ExitCodes.Ok;
    }
}
