using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary>Exit codes of every verb (documented in README.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>An unexpected failure: a bug (any exception that is not an XraySynthException), or a training run that
    /// diverged; the message says what.</summary>
    public const int Failure = 1;
    /// <summary>Bad input or options (a usage error; <see cref="InputException"/>: a missing or corrupt file, a malformed row, an output
    /// path the file system refuses) or an environment that cannot give what the run needs (<see cref="EnvironmentException"/>:
    /// weights that cannot be downloaded, no CUDA device, an unusable libtorch).</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted by SIGINT (Ctrl+C) at a safe point; finished work is kept and a rerun resumes.</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (a job scheduler's stop) at a safe point; finished work is kept and a rerun resumes.</summary>
    public const int Terminated = 143;
}
