using XraySynth.Classifier.Training;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Classifier.Training;

[Collection(SerialTorch.Name)]
public class ClassifierResumeTests : IClassFixture<ClassifierTrainerTests.PreparedData>
{
    private readonly ClassifierTrainerTests.PreparedData _data;

    public ClassifierResumeTests(ClassifierTrainerTests.PreparedData data) => _data = data;

    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Resume_OptionsThatContradictTheRunAreRefused_UntypedDefaultsAndEpochsAreNot()
    {
        using var tmp = new TempDir();
        var runs = tmp.Combine("runs");
        var first = ClassifierTrainer.Run(new ClassifierTrainOptions
        {
            Data = _data.Dir, OutRoot = runs, Arch = "densenet-smoke", Size = 32, Epochs = 1, Batch = 8, Lr = 1e-3, Seed = 3,
            Device = DeviceChoice.Cpu,
        });

        var refused = Cli("classifier", "train", "--data", _data.Dir, "--out", runs, "--resume", "latest", "--epochs", "2",
            "--lr", "0.01", "--batch", "4", "--arch", "densenet-smoke", "--device", "cpu");
        Assert.Equal(2, refused.Code);
        Assert.Contains("--lr 0.01 (the run has 0.001)", refused.Err);
        Assert.Contains("--batch 4 (the run has 8)", refused.Err);
        Assert.DoesNotContain("--arch", refused.Err); // typed, but the same as the run's
        Assert.Single(new RunFolder(first.RunDir).ReadStats());

        // --lr, --batch, --size left at the CLI defaults (1e-4, 32, 224) are not contradictions: the run's own values rule.
        var resumed = Cli("classifier", "train", "--data", _data.Dir, "--out", runs, "--resume", first.RunDir, "--epochs", "2", "--device", "cpu");
        Assert.True(resumed.Code == 0, resumed.Err);
        var stats = new RunFolder(first.RunDir).ReadStats();
        Assert.Equal([1, 2], stats.Select(s => s["epoch"]!.GetValue<int>()));
        Assert.Equal(1e-3, stats[1]["lr"]!.GetValue<double>(), 12);
        Assert.Single(Directory.GetDirectories(runs));
    }

    [Fact]
    public void NewRun_DataCheckedBeforeAnyRunFolderIsCreated()
    {
        using var tmp = new TempDir();
        var data = tmp.Combine("prep-without-val");
        Directory.CreateDirectory(data);
        File.Copy(Path.Combine(_data.Dir, "train.csv"), Path.Combine(data, "train.csv"));
        File.WriteAllText(Path.Combine(data, "val.csv"), "path,patient,study,part,label\n");
        var runs = tmp.Combine("runs");
        var (code, _, err) = Cli("classifier", "train", "--data", data, "--out", runs, "--arch", "densenet-smoke", "--size", "32", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("the validation set is empty", err);
        Assert.False(Directory.Exists(runs), "a run folder was created before the data was checked");
    }
}
