using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Data;

/// <summary>One classifier image: absolute path, study and patient (synthetic images get their own pseudo-study),
/// label 0/1, and whether it is synthetic (synthetic images only ever enter training).</summary>
public sealed record ClassifierSample(string Path, string Study, string Patient, int Label, bool Synthetic);

public static class ClassifierSamples
{
    /// <summary>Real samples from a prepared manifest (paths are relative to the manifest's folder; a path that
    /// leaves that folder is an error).</summary>
    public static List<ClassifierSample> FromManifest(string csvPath)
    {
        var root = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(csvPath))!;
        return Manifest.Read(csvPath).Select(r =>
        {
            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, r.Path));
            if (!full.StartsWith(root + "/", StringComparison.Ordinal))
                throw new DataException($"{csvPath}: path '{r.Path}' leaves the folder of the manifest. fix: use the manifests written by 'xraysynth prepare'.");
            return new ClassifierSample(full, r.Study, r.Patient, r.Label, false);
        }).ToList();
    }

    /// <summary>Synthetic samples of a <c>gan generate</c> folder; every row must name a class.</summary>
    public static List<ClassifierSample> FromGenerated(string folder)
    {
        var full = System.IO.Path.GetFullPath(folder);
        return SyntheticManifest.Read(full).Select(r =>
        {
            var label = SyntheticManifest.Label(r.Class)
                ?? throw new DataException($"{System.IO.Path.Combine(full, SyntheticManifest.FileName)}: '{r.File}' has no class. fix: generate with a conditional model and --class, or from a model trained with gan train --class.");
            return new ClassifierSample(System.IO.Path.Combine(full, r.File), $"synthetic:{full}/{r.File}", "synthetic", label, true);
        }).ToList();
    }

    /// <summary>Picks synthetic samples to add: <paramref name="perClass"/> of each class (when set), else
    /// <paramref name="count"/> in all, drawn without replacement with a seed; asking for more than exist is an error.</summary>
    public static List<ClassifierSample> Select(IReadOnlyList<ClassifierSample> synthetic, int? count, int? perClass, int seed)
    {
        var rng = new Random(seed);
        List<ClassifierSample> Draw(IEnumerable<ClassifierSample> pool, int n, string what)
        {
            var arr = pool.OrderBy(s => s.Path, StringComparer.Ordinal).ToArray();
            if (n > arr.Length) throw new DataException($"asked for {n} synthetic {what} images, only {arr.Length} exist. fix: generate more or ask for fewer.");
            rng.Shuffle(arr);
            return arr.Take(n).ToList();
        }
        if (perClass is { } k)
            return [.. Draw(synthetic.Where(s => s.Label == 0), k, "normal"), .. Draw(synthetic.Where(s => s.Label == 1), k, "abnormal")];
        return count is { } n ? Draw(synthetic, n, "") : [.. synthetic];
    }
}
