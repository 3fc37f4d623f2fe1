using XraySynth.Classifier.Evaluation;

namespace XraySynth.Tests.Classifier.Evaluation;

/// <summary>Seeded image predictions of a fair model: half the studies abnormal, 1–4 images each, abnormal images
/// scoring higher on average with a per-study shift (so images of a study are correlated, as in real data).</summary>
internal static class SyntheticPredictions
{
    public static List<ImagePrediction> Make(int studies, int seed, string prefix = "s")
    {
        var rnd = new Random(seed);
        var list = new List<ImagePrediction>();
        for (int s = 0; s < studies; s++)
        {
            int label = s % 2;
            double studyShift = 0.15 * Normal(rnd);
            int images = 1 + rnd.Next(4);
            for (int i = 0; i < images; i++)
            {
                double p = Math.Clamp(0.38 + 0.24 * label + studyShift + 0.12 * Normal(rnd), 0, 1);
                list.Add(new ImagePrediction($"{prefix}{s:D4}/image{i + 1}.png", $"{prefix}{s:D4}", label, p));
            }
        }
        return list;
    }

    /// <summary>The same predictions <paramref name="copies"/> times over, each copy with its own study ids.</summary>
    public static List<ImagePrediction> Repeat(IReadOnlyList<ImagePrediction> images, int copies) =>
        [.. Enumerable.Range(0, copies).SelectMany(c => images.Select(i => i with { Path = $"c{c}/{i.Path}", Study = $"c{c}/{i.Study}" }))];

    private static double Normal(Random rnd) =>
        Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble());
}
