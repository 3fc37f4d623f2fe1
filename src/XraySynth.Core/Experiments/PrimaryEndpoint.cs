using XraySynth.Runtime;
using XraySynth.Classifier.Evaluation;

namespace XraySynth.Experiments;

/// <summary>The experiment's primary endpoint: one metric at one level, named in the config as "LEVEL-METRIC"
/// ("study-auroc", the default, as the MURA paper's headline; "image-kappa", ...). The report's conclusion is about
/// this comparison, Holm-corrected over the augmented arms; every other comparison is labelled exploratory.</summary>
/// <param name="Level">Image or study level.</param>
/// <param name="Metric">The metric.</param>
public sealed record PrimaryEndpoint(EvaluationLevel Level, Metric Metric)
{
    public const string Default = "study-auroc";

    /// <summary>The metrics an endpoint may name: those of the report's tables.</summary>
    public static readonly Metric[] Allowed = [Metric.Auroc, Metric.Kappa, Metric.Accuracy, Metric.Sensitivity, Metric.Specificity];

    /// <summary>"study-auroc, image-auroc, study-kappa, ..." for error messages.</summary>
    public static string Choices => string.Join(", ",
        Allowed.SelectMany(m => new[] { EvaluationLevel.Study, EvaluationLevel.Image }.Select(l => Format(l, m))));

    public static string Format(EvaluationLevel level, Metric metric) =>
        $"{level.ToString().ToLowerInvariant()}-{metric.ToString().ToLowerInvariant()}";

    public override string ToString() => Format(Level, Metric);

    public static bool TryParse(string? text, out PrimaryEndpoint endpoint)
    {
        endpoint = new PrimaryEndpoint(EvaluationLevel.Study, Metric.Auroc);
        var parts = (text ?? "").Trim().ToLowerInvariant().Split('-', 2);
        if (parts.Length != 2) return false;
        EvaluationLevel? level = parts[0] switch { "study" => EvaluationLevel.Study, "image" => EvaluationLevel.Image, _ => null };
        Metric? metric = Allowed.Cast<Metric?>().FirstOrDefault(m => m.ToString()!.Equals(parts[1], StringComparison.OrdinalIgnoreCase));
        if (level is null || metric is null) return false;
        endpoint = new PrimaryEndpoint(level.Value, metric.Value);
        return true;
    }

    /// <summary>The endpoint of a validated config.</summary>
    public static PrimaryEndpoint Of(ExperimentConfig config) =>
        TryParse(config.Evaluation.Primary, out var e) ? e
            : throw new ArgumentException($"evaluation.primary '{config.Evaluation.Primary}': use {Choices}.");
}
