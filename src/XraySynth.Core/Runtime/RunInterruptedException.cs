namespace XraySynth.Runtime;

/// <summary>A cancellation request (SIGINT, SIGTERM) stopped a job at a safe point; what was finished is on disk.
/// <see cref="RunDir"/> is the run folder a resume continues, when the job has one.</summary>
public sealed class RunInterruptedException(string message, string? runDir) : OperationCanceledException(message)
{
    public string? RunDir { get; } = runDir;
}
