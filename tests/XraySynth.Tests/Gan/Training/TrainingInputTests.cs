using TorchSharp;
using XraySynth.Gan.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan.Training;

/// <summary>Presets, option checks and the training set: everything checked before any training work.</summary>
public class TrainingInputTests
{
    [Fact]
    public void Presets_MatchTheOfficialTables()
    {
        var auto = TrainingPresets.Get("auto", 256);
        Assert.Equal(new TrainingHyperparameters(25000, 16, 0.0025, 0.8192, 5, 0.05, 0.9, 2), auto);
        Assert.Equal(0.002, TrainingPresets.Get("auto", 1024).Lr);
        Assert.Equal(32, TrainingPresets.Get("auto", 64).Batch);
        Assert.Equal(new TrainingHyperparameters(25000, 32, 0.002, 10, 10, null, 0.9, 2), TrainingPresets.Get("stylegan2", 256));
        Assert.Equal(new TrainingHyperparameters(25000, 64, 0.0025, 1, 20, null, 0.9, 2), TrainingPresets.Get("paper256", 256));
        Assert.Equal(0.5, TrainingPresets.Get("paper512", 512).Gamma);
        Assert.Equal(2, TrainingPresets.Get("paper1024", 1024).Gamma);
        Assert.Equal(new TrainingHyperparameters(100000, 64, 0.0025, 0.01, 500, 0.05, 0, 0), TrainingPresets.Get("cifar", 32));
        Assert.Throws<ArgumentException>(() => TrainingPresets.Get("huge", 256));
    }

    [Fact]
    public void SmallPreset_IsSmokesTrainingAtBatch16WithoutStyleMixing()
    {
        // The values the demo's GAN was measured with (docs/benchmarks.md): smoke's gamma and G_ema, no style mixing
        // (with it the small networks drew speckled, collapsed shapes), path length kept.
        var smoke = TrainingPresets.Get("smoke", 32);
        Assert.Equal(smoke with { Batch = 16, StyleMixingProb = 0 }, TrainingPresets.Get("small", 32));
        Assert.Equal(0.0256, TrainingPresets.Get("small", 32).Gamma, 12);
        Assert.Equal(2, TrainingPresets.Get("small", 32).PlWeight);
    }

    [Theory]
    [InlineData("fixed", null, null, null, "--aug fixed needs --p")]
    [InlineData("ada", 0.3, null, null, "--p is only used with --aug fixed")]
    [InlineData("noaug", null, null, "bgc", "--augpipe cannot be used with --aug noaug")]
    [InlineData("fixed", 0.2, 0.5, null, "--target is only used with --aug ada")]
    [InlineData("ada", null, null, "bgcx", "--augpipe bgcx: unknown pipeline")]
    public void Resolve_InconsistentAugmentationOptions_NameTheOptionAndFix(string aug, double? p, double? target,
        string? augpipe, string expected)
    {
        var options = new GanTrainRequest { Data = "x.zip", OutRoot = "runs" }.With(o => o.Aug, Enum.Parse<AugMode>(aug, ignoreCase: true));
        if (p is not null) options = options.With(o => o.P, p);
        if (target is not null) options = options.With(o => o.Target, target);
        if (augpipe is not null) options = options.With(o => o.AugPipe, augpipe);
        var ex = Assert.Throws<DataException>(() => options.Resolve(32));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Resolve_FillsPresetValuesAndDefaults()
    {
        var request = new GanTrainRequest { Data = "x.zip", OutRoot = "runs" }.With(o => o.Cfg, "auto").With(o => o.Gamma, 2.0);
        var resolved = request.Resolve(256);
        Assert.Equal((25000.0, 16, 2.0, AugMode.Ada, 0.6, "bgc", 4.0, 50, 0), (resolved.Kimg, resolved.Batch, resolved.Gamma,
            resolved.Aug, resolved.Target!.Value, resolved.AugPipe, resolved.Tick, resolved.Snap, resolved.Seed));
        Assert.Throws<DataException>(() => request.With(x => x.Cond, true).With(x => x.Label, LabelFilter.Positive).Resolve(256));
        Assert.Contains("unknown preset", Assert.Throws<DataException>(() => request.With(x => x.Cfg, "big").Resolve(256)).Message);
    }

    [Fact]
    public void Load_GreyZip_DecodesOnceToUint8WithMirrorAndRealsInMinusOneToOne()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 6, size: 16);
        using var set = TrainingSet.Load(zip, cond: false, label: null, mirror: true, CPU);
        Assert.Equal((6, 12, 16, 1, 0), (set.Count, set.Length, set.Resolution, set.Channels, set.CDim));
        Assert.Equal(ScalarType.Byte, set.Images.dtype);
        Assert.Equal([6L, 1, 16, 16], set.Images.shape);
        using var scope = NewDisposeScope();
        var reals = set.Reals([0, 6]);
        Assert.True(reals.min().item<float>() >= -1 && reals.max().item<float>() <= 1);
        Assert.True((reals[1] - reals[0].flip(2)).abs().max().item<float>() == 0, "index N + i must be image i mirrored");
        var expected = set.Images[0].to(ScalarType.Float32) / 127.5 - 1;
        Assert.True((reals[0] - expected).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Load_LabelAndCond_FilterOneClassOrBuildOneHotLabels()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 7, size: 8);
        using (var positives = TrainingSet.Load(zip, false, LabelFilter.Positive, false, CPU))
        {
            Assert.Equal(3, positives.Count); // labels 0,1,0,1,0,1,0
            Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(1, positives.RawLabel(i)));
            Assert.Null(positives.Labels);
        }
        using var cond = TrainingSet.Load(zip, true, null, false, CPU);
        Assert.Equal(2, cond.CDim);
        using var scope = NewDisposeScope();
        var c = cond.LabelsOf([0, 1, 8])!; // 8 = image 1 (mirror indices wrap)
        Assert.Equal(new float[] { 1, 0, 0, 1, 0, 1 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Load_CondOrLabelWithoutLabels_SaysTheDatasetHasNoLabels()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 4, size: 8, labelled: false);
        var ex = Assert.Throws<DataException>(() => TrainingSet.Load(zip, true, null, false, CPU));
        Assert.Contains("--cond needs class labels", ex.Message);
        Assert.Contains("no labels in dataset.json", ex.Message);
        ex = Assert.Throws<DataException>(() => TrainingSet.Load(zip, false, LabelFilter.Negative, false, CPU));
        Assert.Contains("--class needs class labels", ex.Message);
    }

    [Theory]
    [InlineData(16, 12, 1, "not square")]
    [InlineData(12, 12, 1, "power of two")]
    [InlineData(8, 8, 1, "all images must have one size")]
    [InlineData(16, 16, 3, "mixed channels")]
    public void Load_BadImages_NameTheFirstOffendingFileAndTheFix(int w, int h, int channels, string expected)
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 5, size: 16,
            sizeOf: i => i == 3 ? (w, h, channels) : null);
        var ex = Assert.Throws<DataException>(() => TrainingSet.Load(zip, false, null, false, CPU));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("00000/img00000003.png", ex.Message);
        Assert.Contains("fix:", ex.Message);
    }

    [Fact]
    public void Load_NotASquarePowerOfTwoFirstImage_IsRefused()
    {
        using var tmp = new TempDir();
        var zip = GanDatasets.Zip(tmp.Combine("d.zip"), count: 2, size: 24);
        Assert.Contains("power of two", Assert.Throws<DataException>(() => TrainingSet.Load(zip, false, null, false, CPU)).Message);
    }

    [Fact]
    public void MergeForResume_RefusesOptionsThatChangeTheRun_AllowsLengthAndSnapshots()
    {
        var saved = new GanTrainRequest { Data = "/d.zip", OutRoot = "/runs" }.With(o => o.Cfg, "smoke").Resolve(16);
        var merged = GanOptions.MergeForResume(saved, new GanTrainRequest { OutRoot = "/runs" }.With(o => o.Kimg, 9.0)
            .With(o => o.Snap, 3).With(o => o.KeepSnapshots, 2)).Resolve(16);
        Assert.Equal((9.0, 3, 2, "/d.zip"), (merged.Kimg, merged.Snap, merged.KeepSnapshots, merged.Data));
        Assert.Equal(saved.Gamma, merged.Gamma);
        var ex = Assert.Throws<DataException>(() => GanOptions.MergeForResume(saved, new GanTrainRequest { OutRoot = "/runs" }
            .With(o => o.Cfg, "auto").With(o => o.Batch, 8).With(o => o.Mirror, true)));
        Assert.Contains("--cfg auto (the run has smoke)", ex.Message);
        Assert.Contains("--mirror on (the run has off)", ex.Message);
        Assert.DoesNotContain("--batch", ex.Message); // the same value as the run's is no conflict
    }
}
