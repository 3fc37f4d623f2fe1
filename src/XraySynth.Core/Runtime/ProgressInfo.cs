namespace XraySynth.Runtime;

/// <summary>Progress of a long stage, reported by Core through <see cref="IProgress{T}"/> and rendered by the CLI
/// (a bar on a terminal, plain lines in logs).</summary>
/// <param name="Stage">What is being done ("decode + resize", "render").</param>
/// <param name="Done">Units finished.</param>
/// <param name="Total">Units in all.</param>
/// <param name="Unit">What a unit is ("img").</param>
public sealed record ProgressInfo(string Stage, long Done, long Total, string Unit = "img");
