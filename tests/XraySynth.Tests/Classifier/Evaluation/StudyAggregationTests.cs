using XraySynth.Classifier.Evaluation;
using XraySynth.Runtime;

namespace XraySynth.Tests.Classifier.Evaluation;

public class StudyAggregationTests
{
    [Fact]
    public void Aggregate_MeanOfImageProbabilities_OneRowPerStudyInIdOrder()
    {
        ImagePrediction[] images =
        [
            new("s2/image1.png", "s2", 0, 0.9),
            new("s1/image1.png", "s1", 1, 0.2),
            new("s1/image2.png", "s1", 1, 0.6),
            new("s1/image3.png", "s1", 1, 0.7),
        ];
        var studies = StudyAggregation.Aggregate(images);
        Assert.Equal(2, studies.Count);
        Assert.Equal(("s1", 1, 3), (studies[0].Study, studies[0].Label, studies[0].ImageCount));
        Assert.Equal(0.5, studies[0].Probability, 12); // (0.2 + 0.6 + 0.7) / 3
        Assert.Equal(new StudyPrediction("s2", 0, 0.9, 1), studies[1]);
        // the study mean 0.5 is not > 0.5: study-level normal although two of its three images are called abnormal
        Assert.Equal(0, BinaryMetrics.Compute(studies).Confusion.TruePositives);
        Assert.Equal(2, BinaryMetrics.Compute(images).Confusion.TruePositives);
    }

    [Fact]
    public void Aggregate_ImagesOfAStudyDisagreeOnLabel_ErrorNamesTheStudy()
    {
        ImagePrediction[] images = [new("a/1.png", "XR_SHOULDER/patient00007/study1", 1, 0.2), new("a/2.png", "XR_SHOULDER/patient00007/study1", 0, 0.6)];
        var e = Assert.Throws<DataException>(() => StudyAggregation.Aggregate(images));
        Assert.Contains("XR_SHOULDER/patient00007/study1", e.Message);
        Assert.Contains("disagree", e.Message);
    }

    [Fact]
    public void Aggregate_EmptyInput_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => StudyAggregation.Aggregate([]));
    }
}
