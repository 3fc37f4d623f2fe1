using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;
using System.Runtime.InteropServices;
using XraySynth.Cli.Commands;
using XraySynth.Runtime;

namespace XraySynth.Cli;

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
        root.Options.Add(new Option<bool>("--verbose") { Description = "On an unexpected failure (a bug), print the stack trace.", Recursive = true });
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

    /// <summary>Environment variable that makes an unexpected failure print its stack trace (as --verbose does).</summary>
    public const string VerboseVariable = "XRAYSYNTH_VERBOSE";

    /// <summary>
    /// Runs one command line. Every verb goes through here: usage errors (an unknown option or value) print the error and
    /// the verb's help (exit 2); bad input and file system failures print one line naming
    /// the path and the fix (exit 2); SIGINT / SIGTERM ask the job to stop at its next safe point (a finished tick,
    /// epoch or image; a second signal stops at once) and exit 130 / 143 with how to resume; anything else is a bug:
    /// one line and exit 1 (the stack trace with --verbose or XRAYSYNTH_VERBOSE=1).
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(BuildRoot(), args, output, error);

    /// <summary><see cref="Run(string[], TextWriter, TextWriter)"/> on another command tree (tests).</summary>
    internal static int Run(RootCommand root, string[] args, TextWriter output, TextWriter error)
    {
        // ProcessTerminationTimeout = null: the signals are ours (System.CommandLine would exit 2 s after one).
        InvocationConfiguration Config(TextWriter writer) => new()
        {
            Output = writer, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
        };
        using var stop = new CancellationTokenSource();
        int? signalExit = null;
        void OnSignal(PosixSignalContext context)
        {
            if (signalExit is not null) return; // second signal: the default action ends the process now
            context.Cancel = true;
            signalExit = context.Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
            error.WriteLine($"{SignalName(context.Signal)} received: stopping at the next safe point (send it again to stop at once).");
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            var parse = root.Parse(args);
            if (parse.Action is HelpAction || parse.Errors.Count > 0)
            {
                // Help, asked for or printed after a usage error, is rendered into a buffer so that its enum defaults
                // read as they are typed (docs/cli.md). A usage error is bad input: exit 2.
                var help = new StringWriter();
                int code = parse.InvokeAsync(Config(help), stop.Token).GetAwaiter().GetResult();
                output.Write(CommonOptions.TypedDefaults(parse.CommandResult.Command, help.ToString()));
                return parse.Errors.Count > 0 ? ExitCodes.BadInput : code;
            }
            CommonOptions.ApplyThreads(parse);
            return parse.InvokeAsync(Config(output), stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (UserError(e) is { } message)
        {
            error.WriteLine($"error: {message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException e)
        {
            int code = signalExit ?? ExitCodes.Interrupted;
            var signal = code == ExitCodes.Terminated ? "SIGTERM" : "SIGINT";
            var run = (e as RunInterruptedException)?.RunDir;
            var resume = run is not null && args.Length >= 2 && args[0] is "gan" or "classifier" && args[1] == "train"
                ? $"resume with: xraysynth {args[0]} train --resume {run}"
                : "rerun the same command to continue" + (args.Length > 0 && args[0] == "experiment" && !args.Contains("--resume") ? " with --resume" : "");
            var detail = e is RunInterruptedException ? $" ({e.Message})" : "";
            error.WriteLine($"interrupted by {signal}{detail}: finished work is kept; {resume}.");
            return code;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message} -- this is a bug in xraysynth; please report it " +
                            $"with this line{(Verbose(args) ? "" : $" (--verbose or {VerboseVariable}=1 prints the details)")}.");
            if (Verbose(args)) error.WriteLine(e.ToString());
            return ExitCodes.Failure;
        }
    }

    private static string SignalName(PosixSignal signal) => signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";

    private static bool Verbose(string[] args) =>
        args.Contains("--verbose") || Environment.GetEnvironmentVariable(VerboseVariable) is "1" or "true";

    /// <summary>The message of an exception that is the user's to fix, or null for a bug. The kinds are told apart by
    /// type (src/XraySynth.Core/Runtime/Errors.cs): bad input (<see cref="InputException"/>) and an environment that
    /// cannot give what the run needs (<see cref="EnvironmentException"/>) both exit <see cref="ExitCodes.BadInput"/>,
    /// as README.md documents; a file system failure is explained by <see cref="OutputFolder"/>; anything else is a bug.</summary>
    private static string? UserError(Exception e) => e switch
    {
        InputException or EnvironmentException => e.Message,
        AggregateException { InnerExceptions.Count: > 0 } a => UserError(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => UserError(inner),
        IOException or UnauthorizedAccessException => OutputFolder.TryExplain(e)!.Message,
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
