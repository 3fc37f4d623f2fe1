using System.CommandLine;
using XraySynth.Classifier.Models;
using XraySynth.Cli.Commands;
using XraySynth.Cli;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Weights;

namespace XraySynth.Tests.Cli;

/// <summary>The error hierarchy (src/XraySynth.Core/Runtime/Errors.cs) and its exit codes (README.md "Exit codes"):
/// input and environment errors print one line and exit 2; anything else is a bug and exits 1 saying so.</summary>
public class ExitCodeTests
{
    /// <summary>The real command tree plus a verb 'boom' that throws <paramref name="e"/>.</summary>
    private static (int Code, string Out, string Err) RunThrowing(Exception e, params string[] extra)
    {
        var root = XraySynth.Cli.Cli.BuildRoot();
        var boom = new Command("boom", "Throws (tests only).");
        boom.SetAction(new Func<ParseResult, int>(_ => throw e));
        root.Subcommands.Add(boom);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = XraySynth.Cli.Cli.Run(root, ["boom", .. extra], output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void UnexpectedException_IsABug_ExitsOneWithTheBugLine_AndTheStackOnlyWhenVerbose()
    {
        var (code, _, err) = RunThrowing(new InvalidOperationException("Sequence contains no elements"));
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("error: unexpected InvalidOperationException: Sequence contains no elements -- this is a bug in xraysynth", err);
        Assert.Contains("--verbose or XRAYSYNTH_VERBOSE=1 prints the details", err);
        Assert.DoesNotContain("   at ", err);

        var (verboseCode, _, verboseErr) = RunThrowing(new InvalidOperationException("Sequence contains no elements"), "--verbose");
        Assert.Equal(ExitCodes.Failure, verboseCode);
        Assert.Contains("this is a bug in xraysynth", verboseErr);
        Assert.Contains("   at ", verboseErr); // the stack trace
    }

    public static TheoryData<Exception> UserErrors => new()
    {
        new DataException("--data x.zip: file not found. fix: pass the zip written by 'xraysynth prepare'."),
        new ImageDecodeException("a.png", "truncated PNG"),
        new SafetensorsFormatException("w.safetensors", "header length past the end of the file"),
        new PickleRefusedException("global 'os.system' is not allowed"),
        new SnapshotException("snap", "snap: missing G.safetensors"),
        new CheckpointFormatException("c.pth", "not a state_dict"),
        new WeightsException("download failed: offline. fix: put the file in ~/.cache/xraysynth/weights", "https://x/y.pt", "/tmp"),
        new DeviceException("--device cuda: no CUDA device. fix: use --device cpu"),
    };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void InputAndEnvironmentErrors_ExitTwo_WithTheirMessageOnOneLine(Exception e)
    {
        var (code, _, err) = RunThrowing(e);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"error: {e.Message}", err.TrimEnd('\n'));
        Assert.DoesNotContain("bug", err);
    }

    [Fact]
    public void ErrorKinds_AreToldApartByType()
    {
        Assert.IsAssignableFrom<InputException>(new DataException("x"));
        Assert.IsAssignableFrom<InputException>(new ImageDecodeException("a.png", "x"));
        Assert.IsAssignableFrom<InputException>(new CheckpointMismatchException("c", "net", ["a"], [], []));
        Assert.IsAssignableFrom<EnvironmentException>(new WeightsException("x"));
        Assert.IsAssignableFrom<EnvironmentException>(new DeviceException("x"));
        Assert.False(typeof(XraySynthException).IsAssignableFrom(typeof(TrainingDivergedException)));
    }

    /// <summary>Every exception Core declares says which kind it is, so a new one cannot silently exit as a bug.</summary>
    [Fact]
    public void EveryExceptionOfCore_IsAnInputOrEnvironmentError_OrListedWithItsReason()
    {
        var notUserErrors = new Dictionary<Type, string>
        {
            [typeof(RunInterruptedException)] = "a cancellation at a safe point: exit 130 / 143",
            [typeof(TrainingDivergedException)] = "the run's outcome, not the user's input: gan train exits 1 naming the last good snapshot",
        };
        var unclassified = typeof(Json).Assembly.GetTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t) && !t.IsAbstract)
            .Where(t => !typeof(InputException).IsAssignableFrom(t) && !typeof(EnvironmentException).IsAssignableFrom(t))
            .Where(t => !notUserErrors.ContainsKey(t))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(unclassified.Count == 0, "derive these from InputException or EnvironmentException (Runtime/Errors.cs): " + string.Join(", ", unclassified));
    }
}
