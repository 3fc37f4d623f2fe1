using System.Reflection;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Experiments;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Classifier.Training;

public class ClassifierTrainOptionsTests
{
    private static readonly ClassifierTrainOptions Defaults = new() { Data = "/data" };

    /// <summary>A value of <paramref name="type"/> other than <paramref name="value"/>.</summary>
    private static object? Other(Type type, object? value) => type switch
    {
        _ when type == typeof(string) => (string?)value + "x",
        _ when type == typeof(int) || type == typeof(int?) => ((int?)value ?? 0) + 7,
        _ when type == typeof(double) => (double)value! / 2,
        _ when type == typeof(bool) => !(bool)value!,
        _ when type == typeof(IReadOnlyList<string>) => new List<string> { "/a", "/b" },
        _ when type.IsEnum => Enum.GetValues(type).Cast<object>().First(v => !v.Equals(value)),
        _ => throw new InvalidOperationException(type.Name),
    };

    public static TheoryData<string> Declared => [.. ClassifierTrainOptions.Declared.All.Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(Declared))]
    public void Declaration_IsThePropertyOfItsName_WithItsDefault_AndGetSetReachOnlyIt(string name)
    {
        var d = ClassifierTrainOptions.Declared.All.Single(x => x.Name == name);
        var property = typeof(ClassifierTrainOptions).GetProperty(name)!;
        Assert.Equal(property.PropertyType, d.ValueType);
        if (!d.Required) Assert.Equal(d.DefaultValue, property.GetValue(Defaults));

        var other = Other(d.ValueType, d.ValueOf(Defaults));
        var changed = d.CopyValue(from: (ClassifierTrainOptions)SetProperty(Defaults, property, other), to: Defaults);
        Assert.Equal(other, property.GetValue(changed));
        Assert.False(d.SameValue(changed, Defaults));
        foreach (var p in typeof(ClassifierTrainOptions).GetProperties().Where(p => p.Name != name))
            Assert.Equal(p.GetValue(Defaults), p.GetValue(changed));
    }

    private static object SetProperty(object record, PropertyInfo property, object? value)
    {
        var clone = record.GetType().GetMethod("<Clone>$")!.Invoke(record, null)!;
        property.SetValue(clone, value);
        return clone;
    }

    [Fact]
    public void Declarations_HaveDistinctNamesAndFlags_AndEveryPropertyIsDeclared()
    {
        var all = ClassifierTrainOptions.Declared.All;
        Assert.Equal(all.Count, all.Select(d => d.Name).Distinct().Count());
        Assert.Equal(all.Count(d => d.Flag is not null), all.Select(d => d.Flag).OfType<string>().Distinct().Count());
        Assert.Equal(typeof(ClassifierTrainOptions).GetProperties().Select(p => p.Name).Order(), all.Select(d => d.Name).Order());
    }

    [Fact]
    public void ExperimentClassifierBlock_IsDeclaredOptions_WithTheirDefaults_AndApplyToCopiesEveryKey()
    {
        var block = new ClassifierConfig();
        var keys = ClassifierConfig.Keys;
        Assert.Equal(typeof(ClassifierConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name), keys.Select(d => d.Name));
        foreach (var d in keys)
        {
            var property = typeof(ClassifierConfig).GetProperty(d.Name)!;
            Assert.Equal(d.ValueType, property.PropertyType);
            Assert.Equal(d.DefaultValue, property.GetValue(block));
            var other = Other(d.ValueType, d.DefaultValue);
            var applied = ((ClassifierConfig)SetProperty(block, property, other)).ApplyTo(Defaults);
            Assert.Equal(other, d.ValueOf(applied));
        }
    }

    [Fact]
    public void ExperimentClassifierBlock_SerializesAsBefore_SoStageKeysOfExistingExperimentsHold()
    {
        // The arm stages' key hashes this JSON: a change here would refuse every existing experiment folder.
        Assert.Equal("""
            {
              "arch": "densenet169",
              "weights": null,
              "size": 224,
              "epochs": 20,
              "batch": 32,
              "lr": 0.0001,
              "loss": "weighted-bce",
              "patience": 5
            }
            """.ReplaceLineEndings("\n"), Json.Serialize(new ClassifierConfig()).ReplaceLineEndings("\n"));
        Assert.Equal("""{"bootstrap":1000,"primary":"study-auroc","threshold":0.5}""", System.Text.Json.JsonSerializer.Serialize(new EvaluationConfig(), Json.Compact));
    }

    [Fact]
    public void SelectionScores_HigherIsBetter_TheLossIsNegated_AndShownPositive()
    {
        // Epoch A: loss 0.30, AUROC 0.95, kappa 0.40; epoch B: loss 0.20, AUROC 0.90, kappa 0.60.
        double A(SelectionMetric m) => SelectionScores.Of(m, 0.30, 0.95, 0.40);
        double B(SelectionMetric m) => SelectionScores.Of(m, 0.20, 0.90, 0.60);
        Assert.True(A(SelectionMetric.Auroc) > B(SelectionMetric.Auroc));
        Assert.True(B(SelectionMetric.Kappa) > A(SelectionMetric.Kappa));
        Assert.True(B(SelectionMetric.Loss) > A(SelectionMetric.Loss));   // the lower loss wins
        Assert.Equal(0.20, SelectionScores.Display(SelectionMetric.Loss, B(SelectionMetric.Loss)), 12);
        Assert.Equal(0.90, SelectionScores.Display(SelectionMetric.Auroc, B(SelectionMetric.Auroc)), 12);
    }

    [Fact]
    public void MergeForResume_FollowsTheDeclaredRules()
    {
        var saved = Defaults with { Data = "/data", Epochs = 3, Patience = 4, Device = DeviceChoice.Cuda, Desc = "first" };
        var request = Defaults with { Data = "/data", Epochs = 9, Patience = 7, Device = DeviceChoice.Cpu, Desc = "second", Lr = 0.5 };

        var merged = ClassifierTrainer.MergeForResume(saved, request, new HashSet<string> { "--epochs", "--desc" });
        Assert.Equal((9, 4, DeviceChoice.Cpu, "first", 1e-4), (merged.Epochs, merged.Patience, merged.Device, merged.Desc, merged.Lr));

        var e = Assert.Throws<DataException>(() => ClassifierTrainer.MergeForResume(saved, request with { Loss = ClassifierLoss.Focal },
            new HashSet<string> { "--lr", "--loss", "--epochs" }));
        Assert.Contains("--lr 0.5 (the run has 0.0001); --loss focal (the run has weighted-bce)", e.Message);
        Assert.Contains("only --epochs, --patience and --device may change on resume", e.Message);

        var zero = Assert.Throws<DataException>(() => ClassifierTrainer.MergeForResume(saved, request with { Epochs = 0 }, new HashSet<string> { "--epochs" }));
        Assert.Contains("--epochs 0 (must be at least 1)", zero.Message);
    }

    [Fact]
    public void MergeForResume_TheWeightsNameTheRunStartedWith_MatchesTheFileItWasResolvedTo()
    {
        // A new run saves the resolved cache path; an experiment resumes by passing its config again, name included.
        var saved = Defaults with { Data = "/data", Arch = "densenet169", Weights = "/cache/hub/checkpoints/densenet169-b2777c0a.pth" };
        foreach (var name in new[] { "imagenet", "ImageNet", "densenet169" })
        {
            var merged = ClassifierTrainer.MergeForResume(saved, saved with { Weights = name }, given: null);
            Assert.Equal(saved.Weights, merged.Weights);
        }
        // Another checkpoint, another file, or none is still a conflict.
        foreach (var other in new[] { "resnet18", "/elsewhere/my-weights.pth", null })
        {
            var e = Assert.Throws<DataException>(() => ClassifierTrainer.MergeForResume(saved, saved with { Weights = other }, given: null));
            Assert.Contains("--weights", e.Message);
        }
        Assert.True(ClassifierTrainer.SameWeights(null, null));
        Assert.True(ClassifierTrainer.SameWeights("/a/b/../w.pth", "/a/w.pth"));
        Assert.False(ClassifierTrainer.SameWeights("imagenet", "/cache/densenet169-b2777c0a-copy.pth"));
    }

    [Fact]
    public void NewRun_EveryBadValue_IsListedAtOnceWithItsFlag()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<DataException>(() => ClassifierTrainer.Run(Defaults with
        {
            Data = tmp.Path, OutRoot = tmp.Combine("runs"), Size = 2000, Lr = 0, Batch = 1, Arch = "vgg", Patience = 0,
        }));
        foreach (var expected in new[] { "--arch vgg: expected one of densenet121", "--size 2000: must be 32..1024", "--batch 1: must be at least 2",
                                         "--lr 0: must be above 0 and below 1", "--patience 0: must be at least 1" })
            Assert.Contains(expected, e.Message);
        Assert.False(Directory.Exists(tmp.Combine("runs")));
    }

    [Fact]
    public void EvaluateDeclarations_AreThePropertiesOfTheirNames_WithTheirDefaults()
    {
        var defaults = new EvaluateOptions { Model = "", Test = "" };
        Assert.Equal(typeof(EvaluateOptions).GetProperties().Select(p => p.Name).Order(), EvaluateOptions.Declared.All.Select(d => d.Name).Order());
        foreach (var d in EvaluateOptions.Declared.All.Where(d => !d.Required))
            Assert.Equal(d.DefaultValue, typeof(EvaluateOptions).GetProperty(d.Name)!.GetValue(defaults));
        Assert.Equal(["Bootstrap", "Threshold"], EvaluationConfig.Keys.Select(d => d.Name));
    }
}
