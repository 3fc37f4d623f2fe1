using System.CommandLine;
using XraySynth.Cli.Rendering;
using System.Globalization;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Models;
using XraySynth.Classifier.Training;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth classifier train|evaluate|summary</c>.</summary>
public static class ClassifierCommand
{
    public static Command Create()
    {
        var cmd = new Command("classifier", "The abnormality classifier (DenseNet-169 and friends): train on real (+ synthetic) images, evaluate on real held-out images.");
        cmd.Subcommands.Add(CreateTrain());
        cmd.Subcommands.Add(CreateEvaluate());
        cmd.Subcommands.Add(CreateSummary());
        return cmd;
    }

    private static Command CreateTrain()
    {
        var data = new Option<string>("--data") { Description = "Folder written by 'prepare' (train.csv, val.csv and their images).", Required = true, HelpName = "PREPARED_DIR" };
        var outRoot = new Option<string>("--out") { Description = "Folder for run folders (NNNNN-classifier-<desc>/).", DefaultValueFactory = _ => "runs", HelpName = "RUNS" };
        var arch = new Option<string>("--arch") { Description = "densenet169 (MURA baseline), densenet121, densenet201, resnet18, resnet50, densenet-smoke (tiny, for CPU tests).", DefaultValueFactory = _ => "densenet169" };
        var weights = new Option<string?>("--weights") { Description = "ImageNet weights: 'imagenet' (torchvision's checkpoint of --arch, downloaded once, SHA-256 verified, reused from the torch.hub cache) or a file: torchvision .pth (e.g. densenet169-b2777c0a.pth) or .safetensors. Without it: random initialisation.", HelpName = "imagenet|FILE" };
        var synthetic = new Option<string[]>("--synthetic") { Description = "'gan generate' folder(s) whose images join the training set (never validation or test).", HelpName = "DIR", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var synCount = new Option<int?>("--synthetic-count") { Description = "Synthetic images to add in all (default: all)." };
        var synPerClass = new Option<int?>("--synthetic-per-class") { Description = "Synthetic images to add per class (normal and abnormal each)." };
        var size = new Option<int>("--size") { Description = "Input side in pixels.", DefaultValueFactory = _ => 224 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs (early stopping may end sooner).", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate; divided by 10 when the validation loss plateaus.", DefaultValueFactory = _ => 1e-4 };
        var loss = CommonOptions.Enum("--loss", "weighted-bce (MURA paper's class weights), bce, or focal.", ClassifierLoss.WeightedBce);
        var sampler = CommonOptions.Enum("--sampler", "natural (each image once per epoch) or balanced (classes drawn equally).", ClassifierSampler.Natural);
        var selectBy = CommonOptions.Enum("--select-by", "Validation metric for the best checkpoint and early stopping: auroc or kappa.", SelectionMetric.Auroc);
        var patience = new Option<int>("--patience") { Description = "Stop after this many epochs without a better validation score.", DefaultValueFactory = _ => 5 };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var strict = new Option<bool>("--strict") { Description = "Stop at the first bad image instead of skipping it." };
        var resume = new Option<string?>("--resume") { Description = "Continue a run: 'latest' (the newest under --out) or a run folder.", HelpName = "latest|RUN" };
        var desc = new Option<string?>("--desc") { Description = "Words for the run folder's name (default: the architecture)." };
        var cmd = new Command("train",
            "Train the classifier: prepared real training images (+ synthetic ones), validation on real images only. Writes a run folder with " +
            "options.json, log.txt, stats.jsonl, TensorBoard events, best.safetensors + model.json, and a resumable last checkpoint.")
        {
            data, outRoot, arch, weights, synthetic, synCount, synPerClass, size, epochs, batch, lr, loss, sampler, selectBy, patience, seed, device, strict, resume, desc,
            CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = new ClassifierTrainOptions
            {
                Data = Path.GetFullPath(parse.GetValue(data)!),
                OutRoot = Path.GetFullPath(parse.GetValue(outRoot)!),
                Arch = parse.GetValue(arch)!,
                Weights = parse.GetValue(weights) is { } w ? (ClassifierTrainer.IsNamedWeights(w) ? w : Path.GetFullPath(w)) : null,
                Synthetic = parse.GetValue(synthetic)!.Select(Path.GetFullPath).ToList(),
                SyntheticCount = parse.GetValue(synCount),
                SyntheticPerClass = parse.GetValue(synPerClass),
                Size = parse.GetValue(size),
                Epochs = parse.GetValue(epochs),
                Batch = parse.GetValue(batch),
                Lr = parse.GetValue(lr),
                Loss = parse.GetValue(loss),
                Sampler = parse.GetValue(sampler),
                SelectBy = parse.GetValue(selectBy),
                Patience = parse.GetValue(patience),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device),
                Strict = parse.GetValue(strict),
                Desc = parse.GetValue(desc),
            };
            // The options typed on the command line (a resume refuses any that contradicts the run).
            var given = new HashSet<string>(parse.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
                .Where(r => !r.Implicit).Select(r => r.Option.Name));
            var result = ProgressRenderer.Run(output, "classifier", p => ClassifierTrainer.Run(options, parse.GetValue(resume), p, output.WriteLine, cancel, given));
            output.WriteLine($"best validation {result.SelectBy} {result.BestScore:F4} at epoch {result.BestEpoch} of {result.Epochs}" +
                             $"{(result.StoppedEarly ? " (stopped early)" : "")}; model: {Path.Combine(result.RunDir, ClassifierModelInfo.BestWeights)}");
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    private static Command CreateEvaluate()
    {
        var model = new Option<string>("--model") { Description = "A classifier run folder (holds model.json and best.safetensors).", Required = true, HelpName = "RUN" };
        var test = new Option<string>("--test") { Description = "Manifest of real held-out images: prepare's test.csv.", Required = true, HelpName = "CSV" };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default: RUN/eval-<manifest name>).", HelpName = "DIR" };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap replicates (resampling studies) for the 95% confidence intervals.", DefaultValueFactory = _ => 1000 };
        var threshold = new Option<double>("--threshold") { Description = "Abnormal when the probability is above this.", DefaultValueFactory = _ => 0.5 };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var strict = new Option<bool>("--strict") { Description = "Stop at the first bad image instead of skipping it." };
        var cmd = new Command("evaluate",
            "Evaluate a trained classifier on real held-out images, image level and study level (mean of a study's image probabilities): " +
            "accuracy, sensitivity, specificity, kappa, AUROC, average precision, Brier score, predicted-positive rate and the confusion matrix, " +
            "with 95% bootstrap CIs over studies. Writes metrics.json, predictions.csv and ROC / precision-recall / calibration / confusion plots.")
        {
            model, test, outDir, bootstrap, threshold, seed, device, strict, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = new EvaluateOptions
            {
                Model = parse.GetValue(model)!,
                Test = parse.GetValue(test)!,
                OutDir = parse.GetValue(outDir),
                Bootstrap = parse.GetValue(bootstrap),
                Threshold = parse.GetValue(threshold),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device),
                Strict = parse.GetValue(strict),
            };
            var result = ProgressRenderer.Run(output, "evaluate", p => ClassifierEvaluator.Run(options, p, cancel));
            WriteReport(output, result);
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    /// <summary>The evaluation table: each metric at image and study level with its 95% CI.</summary>
    public static void WriteReport(TextWriter output, EvaluateResult result)
    {
        var r = result.Report;
        output.WriteLine($"{result.Model.Arch} (epoch {result.Model.Epoch}) on {r.ImageLevel.N} images / {r.StudyLevel.N} studies, threshold {r.Threshold}, " +
                         $"{r.Bootstrap.Replicates} bootstrap replicates over studies");
        var table = new TextTable("metric", "image level (95% CI)", "study level (95% CI)");
        foreach (var m in new[] { Metric.Accuracy, Metric.Sensitivity, Metric.Specificity, Metric.Kappa, Metric.Auroc, Metric.AveragePrecision, Metric.Brier, Metric.PredictedPositiveRate })
            table.Add(CommonOptions.Kebab(m.ToString()), Format(r.ImageLevel.Get(m)), Format(r.StudyLevel.Get(m)));
        table.Write(output);
        var c = r.StudyLevel.Confusion;
        output.WriteLine($"study-level confusion: TP {c.TruePositives}, FP {c.FalsePositives}, TN {c.TrueNegatives}, FN {c.FalseNegatives}");
        foreach (var w in r.Warnings) output.WriteLine($"warning: {w}");
        if (result.Skipped.Count > 0) output.WriteLine($"skipped {result.Skipped.Count} unreadable images (first: {result.Skipped[0].File}: {result.Skipped[0].Problem})");
        output.WriteLine($"wrote metrics.json, predictions.csv and plots to {result.OutDir}");
    }

    private static string Format(Estimate e) =>
        double.IsNaN(e.Value) ? "undefined" : string.Create(CultureInfo.InvariantCulture, $"{e.Value:F3} ({e.Lower:F3}-{e.Upper:F3})");

    private static Command CreateSummary()
    {
        var arch = new Option<string>("--arch") { Description = $"Architecture: {string.Join(", ", ClassifierModels.Names)}.", DefaultValueFactory = _ => "densenet169" };
        var size = new Option<int>("--size") { Description = "Input side for the output shapes.", DefaultValueFactory = _ => 224 };
        var cmd = new Command("summary", "Per-layer table of a classifier network (one output): output shapes, parameters, buffers, totals.") { arch, size, CommonOptions.Threads() };
        cmd.SetAction(parse =>
        {
            ClassifierArchitecture architecture;
            try { architecture = ClassifierModels.Parse(parse.GetValue(arch)!); }
            catch (ArgumentException e) { throw new DataException($"--arch: {e.Message}"); }
            using var net = ClassifierModels.Create(architecture, 1);
            net.eval();
            using var noGrad = no_grad();
            int s = parse.GetValue(size);
            var summary = ModuleSummary.Run(net, () => net.call(randn(1, 3, s, s)));
            GanCommand.Write(parse.InvocationConfiguration.Output, $"{ClassifierModels.Name(architecture)}, one output, input [1, 3, {s}, {s}]", summary);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
