namespace XraySynth.Runtime;

// The errors XraySynth raises on purpose. Three kinds, told apart by type so that the CLI maps each to its exit code
// (src/XraySynth.Cli/Cli.cs, documented in README.md "Exit codes"):
//   InputException        the user's input cannot work: a file, row, option or path (exit 2);
//   EnvironmentException  the machine cannot give what the run needs: weights that cannot be had (offline, proxy,
//                         hash mismatch), no CUDA device, a libtorch that does not load (exit 2);
//   anything else         a bug (exit 1, "this is a bug in xraysynth").
// Every message names the file or option and the fix. Throw a specific subclass where one exists (ImageDecodeException,
// SnapshotException, WeightsException, ...), else DataException for input and WeightsException or DeviceException for
// the environment. Cancellation (RunInterruptedException) is none of these: it is an OperationCanceledException.

/// <summary>An error the user can act on: the message names the file or option and the fix. Never a bug.</summary>
public abstract class XraySynthException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The input cannot work: a missing, corrupt or hostile file, a malformed row, an invalid option or path.</summary>
public abstract class InputException(string message, Exception? inner = null) : XraySynthException(message, inner);

/// <summary>The environment cannot give what the run needs: named weights that cannot be downloaded or do not match
/// their hash, no CUDA device, an unusable libtorch. The message says what to install, download or set.</summary>
public abstract class EnvironmentException(string message, Exception? inner = null) : XraySynthException(message, inner);

/// <summary>A fatal problem with the input or the options (the general <see cref="InputException"/>): the message
/// names the file and the fix.</summary>
public sealed class DataException(string message, Exception? inner = null) : InputException(message, inner);
