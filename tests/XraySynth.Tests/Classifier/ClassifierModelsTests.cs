using XraySynth.Classifier.Models;
using static TorchSharp.torch;

namespace XraySynth.Tests.Classifier;

public class ClassifierModelsTests
{
    [Fact]
    public void ResNet18_OneOutput_Has11177025Parameters()
    {
        using var model = ClassifierModels.Create(ClassifierArchitecture.ResNet18, numOutputs: 1);
        Assert.Equal(11_177_025, DenseNetTests.ParameterCount(model));
        Assert.Equal(new long[] { 1, 512 }, model.state_dict()["fc.weight"].shape);
    }

    [Fact]
    public void ResNet50_OneOutput_Has23510081Parameters()
    {
        // torchvision resnet50: 25,557,032 with 1000 classes = 23,508,032 + fc 2048·1000 + 1000.
        using var model = ClassifierModels.Create(ClassifierArchitecture.ResNet50, numOutputs: 1);
        Assert.Equal(23_510_081, DenseNetTests.ParameterCount(model));
    }

    [Theory]
    [InlineData("densenet121", 7_978_856 - 1_025_000 + 1025)]
    [InlineData("densenet169", 12_486_145)]
    [InlineData("densenet201", 20_013_928 - 1_921_000 + 1921)]
    [InlineData("resnet18", 11_177_025)]
    [InlineData("resnet50", 23_510_081)]
    public void Create_ByName_GivesOneLogitPerImage(string name, long parameters)
    {
        var architecture = ClassifierModels.Parse(name);
        Assert.Equal(name, ClassifierModels.Name(architecture));

        using var model = ClassifierModels.Create(architecture, numOutputs: 1);
        model.eval();
        using var x = randn(2, 3, 64, 64);
        using var logits = model.forward(x);

        Assert.Equal(parameters, DenseNetTests.ParameterCount(model));
        Assert.Equal(new long[] { 2, 1 }, logits.shape);
        var head = ClassifierModels.HeadName(architecture);
        Assert.Equal(new long[] { 1 }, model.state_dict()[head + ".bias"].shape);
    }

    [Fact]
    public void Parse_IgnoresCaseAndRejectsUnknownNamesListingValidOnes()
    {
        Assert.Equal(ClassifierArchitecture.DenseNet169, ClassifierModels.Parse("DenseNet169"));
        var error = Assert.Throws<ArgumentException>(() => ClassifierModels.Parse("densenet161"));
        Assert.Contains("densenet121, densenet169, densenet201, resnet18, resnet50", error.Message);
    }
}
