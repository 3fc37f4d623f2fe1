using System.Text.Json.Nodes;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Models;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Classifier.Training;

[Collection(SerialTorch.Name)]
public class ClassifierTrainerTests : IClassFixture<ClassifierTrainerTests.PreparedData>
{
    /// <summary>One small prepared phantom dataset shared by the tests of this class.</summary>
    public sealed class PreparedData : IDisposable
    {
        private readonly TempDir _tmp = new();

        public PreparedData()
        {
            var mura = MuraFixture.Phantoms(_tmp.Path, patients: 30, seed: 5, maxSide: 64);
            Dir = _tmp.Combine("prep");
            DatasetPreparer.Run(new PrepareOptions { MuraRoot = mura, OutDir = Dir, Resolution = 16, ClassifierSize = 32, ValFraction = 0.25, Seed = 1 });
        }

        public string Dir { get; }

        public void Dispose() => _tmp.Dispose();
    }

    private readonly PreparedData _data;

    public ClassifierTrainerTests(PreparedData data) => _data = data;

    private ClassifierTrainOptions Options(string runs) => new()
    {
        Data = _data.Dir, OutRoot = runs, Arch = "densenet-smoke", Size = 32, Epochs = 2, Batch = 8, Lr = 1e-3, Seed = 3, Device = DeviceChoice.Cpu, Patience = 10,
    };

    private static List<(int Epoch, double TrainLoss, double ValLoss)> Losses(string runDir) =>
        new RunFolder(runDir).ReadStats().Select(o => (o["epoch"]!.GetValue<int>(), o["trainLoss"]!.GetValue<double>(), o["valLoss"]!.GetValue<double>())).ToList();

    [Fact]
    public void Train_WritesRunFolderContract()
    {
        using var tmp = new TempDir();
        var result = ClassifierTrainer.Run(Options(tmp.Path));
        var run = new RunFolder(result.RunDir);
        Assert.StartsWith("00000-classifier-densenet-smoke", run.Name);
        foreach (var f in new[] { RunFolder.OptionsFile, RunFolder.LogFile, RunFolder.StatsFile, ClassifierModelInfo.BestWeights, ClassifierModelInfo.FileName, ClassifierTrainer.LastFile })
            Assert.True(File.Exists(run.File(f)), f);
        Assert.NotEmpty(Directory.GetFiles(run.Path, "events.out.tfevents*", SearchOption.AllDirectories));
        Assert.Equal(2, run.ReadStats().Count);
        Assert.Contains("random initialisation", File.ReadAllText(run.File(RunFolder.LogFile)));
        var info = ClassifierModelInfo.Read(run.Path);
        Assert.Equal(("densenet-smoke", 32, result.BestEpoch), (info.Arch, info.Size, info.Epoch));
        // The newest two last-checkpoints are kept (the older one is the fallback for a damaged newest one).
        Assert.Equal(["last-0001.safetensors", "last-0002.safetensors"], Directory.GetFiles(run.Path, "last-*.safetensors").Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Resume_AfterOneEpoch_GivesTheSameLossesAsAnUninterruptedRun()
    {
        using var tmp = new TempDir();
        var whole = ClassifierTrainer.Run(Options(tmp.Combine("a")));
        ClassifierTrainer.Run(Options(tmp.Combine("b")) with { Epochs = 1 });
        var resumed = ClassifierTrainer.Run(Options(tmp.Combine("b")) with { Epochs = 2 }, resume: "latest");
        Assert.Equal(Losses(whole.RunDir), Losses(resumed.RunDir));
        Assert.Contains("resumed after epoch 1", File.ReadAllText(Path.Combine(resumed.RunDir, RunFolder.LogFile)));
    }

    [Fact]
    public void Train_SyntheticImagesJoinTrainingOnly()
    {
        using var tmp = new TempDir();
        var gen = tmp.Combine("gen");
        Directory.CreateDirectory(gen);
        var rows = Enumerable.Range(0, 6).Select(i => new SyntheticRow($"seed{i:D6}.png", i, i % 2 == 0 ? "positive" : "negative", 1)).ToList();
        foreach (var r in rows) XraySynth.Imaging.ImageCodec.WritePng(Path.Combine(gen, r.File), XraySynth.Imaging.RasterImage.Blank(16, 16, 1, 80));
        SyntheticManifest.Write(Path.Combine(gen, SyntheticManifest.FileName), rows);
        var result = ClassifierTrainer.Run(Options(tmp.Combine("runs")) with { Epochs = 1, Synthetic = [gen], SyntheticPerClass = 2 });
        Assert.Equal(4, result.SyntheticImages);
        Assert.Equal(Manifest.Read(Path.Combine(_data.Dir, "train.csv")).Count + 4, result.TrainImages);
        Assert.Equal(Manifest.Read(Path.Combine(_data.Dir, "val.csv")).Count, result.ValImages);
        // Evaluation reads only the test manifest: no synthetic path can appear in its predictions.
        var eval = ClassifierEvaluator.Run(new EvaluateOptions { Model = result.RunDir, Test = Path.Combine(_data.Dir, "test.csv"), Bootstrap = 100, Device = DeviceChoice.Cpu });
        var predictions = EvaluationFiles.ReadPredictions(Path.Combine(eval.OutDir, EvaluationFiles.PredictionsFileName));
        Assert.All(predictions, p => Assert.StartsWith("images/test/", p.Path));
        Assert.Equal(Manifest.Read(Path.Combine(_data.Dir, "test.csv")).Count, predictions.Count);
        foreach (var plot in new[] { "roc.png", "precision-recall.png", "calibration.png", "confusion-image.png", "confusion-study.png" })
            Assert.True(File.Exists(Path.Combine(eval.OutDir, plot)), plot);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(eval.OutDir, EvaluationFiles.MetricsFileName)))!;
        Assert.NotNull(metrics["studyLevel"]);
    }

    [Fact]
    public void Train_BadOptions_AreRefusedBeforeWork()
    {
        using var tmp = new TempDir();
        Assert.Contains("--arch", Assert.Throws<DataException>(() => ClassifierTrainer.Run(Options(tmp.Path) with { Arch = "vgg" })).Message);
        Assert.Contains("--synthetic", Assert.Throws<DataException>(() => ClassifierTrainer.Run(Options(tmp.Path) with { SyntheticCount = 3 })).Message);
        Assert.Contains("no classifier run", Assert.Throws<DataException>(() => ClassifierTrainer.Run(Options(tmp.Combine("empty")), resume: "latest")).Message);
    }

    [Fact]
    public void Evaluate_ModelOfAnotherArchitecture_NamesTheMismatch()
    {
        using var tmp = new TempDir();
        var result = ClassifierTrainer.Run(Options(tmp.Path) with { Epochs = 1 });
        var info = ClassifierModelInfo.Read(result.RunDir);
        Json.WriteFile(Path.Combine(result.RunDir, ClassifierModelInfo.FileName), info with { Arch = "densenet121" });
        var e = Assert.Throws<XraySynth.Classifier.Models.CheckpointMismatchException>(() =>
            ClassifierEvaluator.Run(new EvaluateOptions { Model = result.RunDir, Test = Path.Combine(_data.Dir, "test.csv"), Device = DeviceChoice.Cpu }));
        Assert.Contains("features.denseblock4", e.Message);
    }

    /// <summary>Replaces one tensor of a checkpoint with <paramref name="replacement"/>, as a damaged or hostile file would.</summary>
    private static void Tamper(string file, string key, TorchSharp.torch.Tensor replacement)
    {
        var state = XraySynth.Runtime.SafetensorsFile.Load(file);
        state[key] = replacement;
        using var stream = File.Create(file);
        TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, state, leaveOpen: false);
    }

    [Theory]
    [InlineData(false)]   // a broadcastable [1,1,1,1] in place of the first conv weight
    [InlineData(true)]    // int32 bytes in place of a float32 weight
    public void Resume_DamagedNewestCheckpoint_IsReportedAndSkippedForThePreviousOne(bool int32)
    {
        using var tmp = new TempDir();
        var first = ClassifierTrainer.Run(Options(tmp.Path));
        var last = Path.Combine(first.RunDir, "last-0002.safetensors");
        var key = "features.conv0.weight";
        var shape = XraySynth.Runtime.SafetensorsFile.Load(last)[key].shape;
        Tamper(last, key, int32 ? TorchSharp.torch.ones(shape, TorchSharp.torch.int32) : TorchSharp.torch.ones(1, 1, 1, 1));
        var bestBefore = File.ReadAllBytes(Path.Combine(first.RunDir, ClassifierModelInfo.BestWeights));

        var resumed = ClassifierTrainer.Run(Options(tmp.Path) with { Epochs = 3 }, resume: first.RunDir);

        var log = File.ReadAllText(Path.Combine(resumed.RunDir, RunFolder.LogFile));
        Assert.Contains("checkpoint last.json is damaged and was skipped", log);
        Assert.Contains(key, log);
        Assert.Contains(int32 ? "Int32" : "[1, 1, 1, 1]", log);
        Assert.Contains("resumed after epoch 1", log);
        Assert.Equal([1, 2, 3], new RunFolder(resumed.RunDir).ReadStats().Select(o => o["epoch"]!.GetValue<int>()));
        // best.safetensors holds a network of the right shapes, never the tampered tensor.
        using var model = ClassifierModelInfo.LoadBest(resumed.RunDir, out _);
        Assert.Equal(shape, model.state_dict()[key].shape);
        Assert.NotEmpty(bestBefore);
    }

    [Fact]
    public void Resume_EveryCheckpointDamaged_IsAnErrorNotAFreshStart()
    {
        using var tmp = new TempDir();
        var first = ClassifierTrainer.Run(Options(tmp.Path));
        foreach (var f in Directory.GetFiles(first.RunDir, "last-*.safetensors"))
            File.WriteAllBytes(f, [1, 2, 3]);
        var e = Assert.Throws<DataException>(() => ClassifierTrainer.Run(Options(tmp.Path) with { Epochs = 3 }, resume: first.RunDir));
        Assert.Contains("no intact classifier checkpoint", e.Message);
    }
}
