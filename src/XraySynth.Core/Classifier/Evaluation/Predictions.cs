using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Evaluation;

/// <summary>The classifier's output for one test image (a row of <c>predictions.csv</c>).</summary>
/// <param name="Path">Image path as in the manifest.</param>
/// <param name="Study">Study id; a study's images share its label.</param>
/// <param name="Label">1 abnormal, 0 normal.</param>
/// <param name="Probability">Predicted probability of abnormal, in [0, 1].</param>
public sealed record ImagePrediction(string Path, string Study, int Label, double Probability);

/// <summary>One study's prediction: the mean of its images' probabilities (MURA).</summary>
/// <param name="Study">Study id.</param>
/// <param name="Label">1 abnormal, 0 normal (the label all its images carry).</param>
/// <param name="Probability">Mean of the images' probabilities.</param>
/// <param name="ImageCount">Number of images averaged.</param>
public sealed record StudyPrediction(string Study, int Label, double Probability, int ImageCount);

/// <summary>Image predictions → study predictions, as MURA scores studies: probability = mean of the study's
/// image probabilities, abnormal iff that mean &gt; threshold.</summary>
public static class StudyAggregation
{
    /// <summary>One prediction per study, in ordinal order of the study id (so the result does not depend on the order
    /// of the images). A study whose images carry different labels, or an image without a study, is a
    /// <see cref="DataException"/> naming it; an empty list or a bad label/probability is an <see cref="ArgumentException"/>.</summary>
    public static IReadOnlyList<StudyPrediction> Aggregate(IReadOnlyList<ImagePrediction> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        MetricInputs.Check(images.Select(i => i.Label).ToArray(), images.Select(i => i.Probability).ToArray(), 0.5);
        return GroupByStudy(images).Select(g => Study(g.Key, g.Value)).ToList();
    }

    /// <summary>Images grouped by study: studies in ordinal order of the id, images in ordinal order of the path.
    /// Checks that every image has a study and that a study's images agree on the label.</summary>
    internal static SortedDictionary<string, List<ImagePrediction>> GroupByStudy(IReadOnlyList<ImagePrediction> images)
    {
        var groups = new SortedDictionary<string, List<ImagePrediction>>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            if (string.IsNullOrEmpty(image.Study))
                throw new DataException($"image '{image.Path}' has no study id. fix: predictions need the manifest's study column.");
            if (!groups.TryGetValue(image.Study, out var list)) groups[image.Study] = list = [];
            else if (list[0].Label != image.Label)
                throw new DataException($"study '{image.Study}': its images disagree on the label ('{list[0].Path}' is {list[0].Label}, " +
                    $"'{image.Path}' is {image.Label}). fix: a study has one label; check the manifest.");
            list.Add(image);
        }
        foreach (var list in groups.Values) list.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return groups;
    }

    internal static StudyPrediction Study(string study, List<ImagePrediction> images)
    {
        double sum = 0;
        foreach (var image in images) sum += image.Probability;
        return new StudyPrediction(study, images[0].Label, sum / images.Count, images.Count);
    }
}
