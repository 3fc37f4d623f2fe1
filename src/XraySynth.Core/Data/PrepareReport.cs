namespace XraySynth.Data;

/// <summary>Image and study counts by label.</summary>
public sealed record LabelCounts(int Negative, int Positive)
{
    public int Total => Negative + Positive;
}

/// <summary>Counts of one split and study type.</summary>
public sealed record SplitPartCounts(string Split, string Part, LabelCounts Images, LabelCounts Studies, int Patients);

/// <summary>What <c>prepare</c> did: written as <c>prepare-report.json</c>.</summary>
public sealed record PrepareReport
{
    public required string DatasetDir { get; init; }
    /// <summary>"csv" or "folders".</summary>
    public required string CatalogSource { get; init; }
    public required PrepareOptions Options { get; init; }
    public required IReadOnlyList<SplitPartCounts> Counts { get; init; }
    /// <summary>The GAN training zip (training split only) and its label counts.</summary>
    public required string GanZip { get; init; }
    public required LabelCounts GanImages { get; init; }
    public required IReadOnlyList<InputProblem> Skipped { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Images decoded, preprocessed and written, per second of wall time.</summary>
    public required double ImagesPerSecond { get; init; }
    public required double ElapsedSeconds { get; init; }
    /// <summary>Classifier images already present from an earlier, interrupted run (not rewritten).</summary>
    public required int Resumed { get; init; }
}
