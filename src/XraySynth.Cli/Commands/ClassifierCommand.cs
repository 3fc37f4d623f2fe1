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
        var declared = new DeclaredOptions<ClassifierTrainOptions>(ClassifierTrainOptions.Declared.All);
        var runs = CommonOptions.Runs(ClassifierTrainOptions.Declared.OutRoot.Help);
        var resume = new Option<string?>("--resume") { Description = "Continue a run: 'latest' (the newest under --runs) or a run folder.", HelpName = "latest|RUN" };
        var cmd = new Command("train",
            "Train the classifier: prepared real training images (+ synthetic ones), validation on real images only. Writes a run folder with " +
            "options.json, log.txt, stats.jsonl, TensorBoard events, best.safetensors + model.json, and a resumable last checkpoint.");
        foreach (var option in declared.Options) cmd.Options.Add(option);
        cmd.Options.Add(runs.Runs);
        cmd.Options.Add(runs.OldOut);
        cmd.Options.Add(resume);
        cmd.Options.Add(CommonOptions.LibTorch());
        cmd.Options.Add(CommonOptions.Threads());
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = declared.Bind(parse, new ClassifierTrainOptions { Data = "", OutRoot = runs.GetValue(parse) });
            // The options typed on the command line (a resume refuses any that contradicts the run).
            var given = DeclaredOptions<ClassifierTrainOptions>.Typed(parse);
            var result = ProgressRenderer.Run(output, "classifier", p => ClassifierTrainer.Run(options, parse.GetValue(resume), p, output.WriteLine, cancel, given));
            output.WriteLine($"best validation {EnumNames.Of(result.SelectBy)} {SelectionScores.Display(result.SelectBy, result.BestScore):F4} at epoch {result.BestEpoch} of {result.Epochs}" +
                             $"{(result.StoppedEarly ? " (stopped early)" : "")}; model: {Path.Combine(result.RunDir, ClassifierModelInfo.BestWeights)}");
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    private static Command CreateEvaluate()
    {
        var declared = new DeclaredOptions<EvaluateOptions>(EvaluateOptions.Declared.All);
        var cmd = new Command("evaluate",
            "Evaluate a trained classifier on real held-out images, image level and study level (mean of a study's image probabilities): " +
            "accuracy, sensitivity, specificity, kappa, AUROC, average precision, Brier score, predicted-positive rate and the confusion matrix, " +
            "with 95% bootstrap CIs over studies. Writes metrics.json, predictions.csv and ROC / precision-recall / calibration / confusion plots.");
        foreach (var option in declared.Options) cmd.Options.Add(option);
        cmd.Options.Add(CommonOptions.LibTorch());
        cmd.Options.Add(CommonOptions.Threads());
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = declared.Bind(parse, new EvaluateOptions { Model = "", Test = "" });
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
            table.Add(EnumNames.Of(m), Format(r.ImageLevel.Get(m)), Format(r.StudyLevel.Get(m)));
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
        var arch = new Option<string>("--arch")
        {
            Description = $"Architecture: {string.Join(", ", ClassifierModels.Names)}.", DefaultValueFactory = _ => ClassifierTrainOptions.Declared.Arch.Default,
            HelpName = ClassifierTrainOptions.Declared.Arch.Placeholder,
        };
        var size = new Option<int>("--size")
        {
            Description = "Input side for the output shapes.", DefaultValueFactory = _ => ClassifierTrainOptions.Declared.Size.Default,
            HelpName = ClassifierTrainOptions.Declared.Size.Placeholder,
        };
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
