using XraySynth.Runtime;
using System.Reflection;

namespace XraySynth.Classifier.Evaluation;

/// <summary>The metrics that carry a bootstrap confidence interval (see <see cref="BinaryMetrics"/> for their
/// definitions and edge cases).</summary>
public enum Metric
{
    Accuracy,
    Sensitivity,
    Specificity,
    Precision,
    Npv,
    F1,
    Kappa,
    Auroc,
    AveragePrecision,
    Brier,
    PredictedPositiveRate,
    Prevalence,
}

/// <summary>What one prediction is about: an image, or a study (mean of its images' probabilities).</summary>
public enum EvaluationLevel
{
    Image,
    Study,
}

/// <summary>
/// The one metric ↔ property map: each <see cref="Metric"/> is the property of the same name of a record that holds
/// every metric (<see cref="BinaryMetrics"/> as numbers, <see cref="LevelReport"/> as estimates with intervals), so the
/// property names are also metrics.json's keys. Built once per record type; a metric without its property fails there,
/// naming both.
/// </summary>
internal static class MetricProperties<TRecord, TValue>
{
    private static readonly IReadOnlyDictionary<Metric, PropertyInfo> Properties =
        Enum.GetValues<Metric>().ToDictionary(m => m, Find);

    private static readonly IReadOnlyDictionary<Metric, Func<TRecord, TValue>> Getters =
        Properties.ToDictionary(kv => kv.Key, kv => kv.Value.GetMethod!.CreateDelegate<Func<TRecord, TValue>>());

    /// <summary>The value of <paramref name="metric"/> in <paramref name="record"/>.</summary>
    public static TValue Get(TRecord record, Metric metric) =>
        Getters.TryGetValue(metric, out var get) ? get(record) : throw new ArgumentOutOfRangeException(nameof(metric), metric, null);

    /// <summary>Sets every metric of a record under construction (its init accessors, as a JSON reader does).</summary>
    public static void InitAll(TRecord record, Func<Metric, TValue> value)
    {
        foreach (var (metric, property) in Properties) property.SetValue(record, value(metric));
    }

    private static PropertyInfo Find(Metric metric) =>
        typeof(TRecord).GetProperty(metric.ToString(), BindingFlags.Public | BindingFlags.Instance) is { } p && p.PropertyType == typeof(TValue) && p.SetMethod is not null
            ? p
            : throw new InvalidOperationException($"{typeof(TRecord).Name} has no settable {typeof(TValue).Name} property {metric} for Metric.{metric}.");
}
