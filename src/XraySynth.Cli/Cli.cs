using System.CommandLine;
using XraySynth.Cli.Commands;

namespace XraySynth.Cli;

/// <summary>Exit codes of every verb (documented in README.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>An unexpected failure (a bug or an environment problem); the message says what.</summary>
    public const int Failure = 1;
    /// <summary>Bad input or options: a missing or corrupt file, a malformed row, an unusable device.</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted (Ctrl+C); finished work is kept and a rerun resumes.</summary>
    public const int Interrupted = 130;
}

/// <summary>The command tree. Each verb lives in Commands/&lt;Verb&gt;Command.cs: its options and a handler that
/// takes parsed values and writers and returns an exit code.</summary>
public static class Cli
{
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "XraySynth: train StyleGAN2-ADA on X-rays (MURA), generate synthetic X-rays, and measure on real held-out " +
            "images whether they improve a DenseNet-169 abnormality classifier.\n" +
            "Start with 'xraysynth demo'; every verb explains itself with --help.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(PhantomsCommand.Create());
        root.Subcommands.Add(PrepareCommand.Create());
        root.Subcommands.Add(GanCommand.Create());
        root.Subcommands.Add(ClassifierCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(EnvCommand.Create());
        return root;
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parse = BuildRoot().Parse(args);
            CommonOptions.ApplyThreads(parse);
            return parse.Invoke(config);
        }
        catch (Exception e) when (UserError(e) is { } message)
        {
            error.WriteLine($"error: {message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("interrupted: finished work is kept; rerun the same command to resume.");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>The message of an exception that is the user's to fix (bad input), or null for a bug.</summary>
    private static string? UserError(Exception e) => e switch
    {
        Data.DataException or Imaging.ImageDecodeException or DeviceException or Gan.Snapshot.SnapshotException
            or Classifier.Models.CheckpointMismatchException or Classifier.Models.CheckpointFormatException
            or Weights.WeightsException => e.Message,
        AggregateException { InnerExceptions.Count: > 0 } a => UserError(a.InnerExceptions[0]),
        UnauthorizedAccessException or DirectoryNotFoundException => $"{e.Message} fix: check the path and its permissions.",
        IOException io when io.HResult == 28 || io.Message.Contains("No space", StringComparison.Ordinal) => $"{e.Message} fix: free disk space and rerun (finished work is kept).",
        _ => null,
    };

    /// <summary>The value of --libtorch in raw arguments (read before parsing: it must act before any torch call).</summary>
    public static string? LibTorchFromArgs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--libtorch" && i + 1 < args.Length) return args[i + 1];
            if (args[i].StartsWith("--libtorch=", StringComparison.Ordinal)) return args[i]["--libtorch=".Length..];
        }
        return null;
    }
}
