using XraySynth.Classifier.Training;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Weights;

public class ClassifierWeightsTests
{
    [Fact]
    public void IsNamedWeights_TellsNamesFromFiles()
    {
        Assert.True(ClassifierTrainer.IsNamedWeights("imagenet"));
        Assert.True(ClassifierTrainer.IsNamedWeights("ImageNet"));
        Assert.True(ClassifierTrainer.IsNamedWeights("densenet169"));
        Assert.False(ClassifierTrainer.IsNamedWeights("inception"));            // not an ImageNet checkpoint
        Assert.False(ClassifierTrainer.IsNamedWeights("densenet169-b2777c0a.pth"));
        Assert.False(ClassifierTrainer.IsNamedWeights("weights/imagenet"));
    }

    [Fact]
    public void ResolveWeights_KeepsFiles_AndRefusesImageNetForAnArchitectureWithoutOne()
    {
        using var tmp = new TempDir();
        var file = tmp.Combine("mine.pth");
        File.WriteAllBytes(file, [1]);
        Assert.Equal(file, ClassifierTrainer.ResolveWeights(file, "densenet169"));
        Assert.Null(ClassifierTrainer.ResolveWeights(null, "densenet169"));
        Assert.Equal(tmp.Combine("missing.pth"), ClassifierTrainer.ResolveWeights(tmp.Combine("missing.pth"), "densenet169"));

        var (output, error) = (new StringWriter(), new StringWriter());
        var code = XraySynth.Cli.Cli.Run(["classifier", "train", "--data", tmp.Path, "--out", tmp.Combine("runs"),
            "--arch", "densenet-smoke", "--weights", "imagenet"], output, error);
        Assert.Equal(2, code);
        Assert.Contains("publishes no ImageNet weights for 'densenet-smoke'", error.ToString());
        Assert.False(Directory.Exists(tmp.Combine("runs")));
    }
}
