using System.CommandLine;
using XraySynth.Cli.Rendering;
using XraySynth.Gan.Networks;
using XraySynth.Gan.Snapshot;
using XraySynth.Gan.Training;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth gan train</c>: StyleGAN2-ADA training that resumes exactly.</summary>
public static class GanTrainCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Dataset zip in the StyleGAN2-ADA layout (written by 'prepare'); optional with --resume.", HelpName = "ZIP" };
        var outRoot = new Option<string>("--out") { Description = "Folder for run folders (NNNNN-gan-train-<desc>/).", DefaultValueFactory = _ => "runs", HelpName = "RUNS" };
        var cfg = new Option<string?>("--cfg") { Description = $"Preset: {string.Join(", ", NetworkPresets.Names)} (default auto; smoke = tiny, for CPU tests).", HelpName = "auto|stylegan2|paper256|paper512|paper1024|cifar|smoke" };
        var cond = new Option<bool>("--cond") { Description = "Train one class-conditional model on all labels (positive and negative)." };
        var label = NullableEnum<LabelFilter>("--label", "Train on one class only: positive (abnormal) or negative (normal); default: every image.");
        var kimg = new Option<double?>("--kimg") { Description = "Training length in thousands of real images (default: the preset's, 25000)." };
        var batch = new Option<int?>("--batch") { Description = "Images per minibatch (default: the preset's)." };
        var gamma = new Option<double?>("--gamma") { Description = "R1 weight (default: the preset's)." };
        var aug = NullableEnum<AugMode>("--aug", "Augmentation: ada (adaptive p, the default), fixed (--p), noaug.");
        var p = new Option<double?>("--p") { Description = "Augmentation probability for --aug fixed (0..1)." };
        var target = new Option<double?>("--target") { Description = "ADA target of r_t = E[sign(D(real))] (default 0.6)." };
        var augpipe = new Option<string?>("--augpipe") { Description = "Augmentation pipeline: bg, bgc (default), bgcf, bgcfn, bgcfnc (f needs images above 42 px).", HelpName = "bgc" };
        var mirror = new Option<bool>("--mirror") { Description = "Add x-flipped copies of the training images." };
        var tick = new Option<double?>("--tick") { Description = "kimg per tick: status line, stats.jsonl and TensorBoard record (default 4)." };
        var snap = new Option<int?>("--snap") { Description = "Ticks between network snapshots and fakes grids (default 50); one is always written at the end." };
        var keep = new Option<int?>("--keep-snapshots") { Description = "Keep only the newest K network snapshots (default 0 = keep all).", HelpName = "K" };
        var resume = new Option<string?>("--resume") { Description = "Continue a run exactly: 'latest' (the newest under --out), a run folder, or one of its snapshots.", HelpName = "latest|PATH" };
        var transfer = new Option<string?>("--transfer") { Description = "Start from pretrained networks: an official StyleGAN2 network pickle (read without running its code) or a snapshot folder. The architecture comes from the source; RGB weights become grey by luma; a new label embedding starts fresh; the resolution must match. ADA speed 100 kimg, no G_ema ramp-up (as the official resume).", HelpName = "PKL|SNAPSHOT" };
        var freezed = new Option<int?>("--freezed") { Description = "Freeze-D: the N discriminator layers nearest the image keep their weights (official --freezed; default 0).", HelpName = "N" };
        var seed = new Option<int?>("--seed") { Description = "Random seed (default 0); the same seed gives the same run on the same device." };
        var desc = new Option<string?>("--desc") { Description = "Words for the run folder's name (default: dataset, preset and augmentation)." };
        var metrics = new Option<string?>("--metrics") { Description = "Quality metrics computed at every snapshot, appended to metric-*.jsonl: fid,kid,pr (see 'gan metrics').", HelpName = "fid,kid,pr" };
        var metricsDetector = new Option<string?>("--metrics-detector") { Description = "Detector of --metrics: builtin (default, no download), inception, classifier:RUN or FILE.pt." };
        var metricsCount = new Option<int?>("--metrics-count") { Description = "Generated images per --metrics evaluation (default 1000)." };
        var device = CommonOptions.Device();
        var cmd = new Command("train",
            "Train StyleGAN2-ADA (official losses, lazy regularisation, ADA, G_ema) on a dataset zip. Writes a run folder with options.json, " +
            "log.txt, stats.jsonl, TensorBoard events, reals.png, fakesKKKKKK.png and network-snapshot-KKKKKK/ folders that hold " +
            "everything to continue exactly (--resume latest after a kill gives the losses of an uninterrupted run on the same device).")
        {
            data, outRoot, cfg, cond, label, kimg, batch, gamma, aug, p, target, augpipe, mirror, tick, snap, keep, resume, transfer, freezed, seed,
            desc, metrics, metricsDetector, metricsCount, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var options = new GanTrainOptions
            {
                Data = parse.GetValue(data) is { } d ? Path.GetFullPath(d) : null,
                OutRoot = Path.GetFullPath(parse.GetValue(outRoot)!),
                Cfg = parse.GetValue(cfg),
                Cond = Given(parse, cond),
                Label = parse.GetValue(label),
                Kimg = parse.GetValue(kimg),
                Batch = parse.GetValue(batch),
                Gamma = parse.GetValue(gamma),
                Aug = parse.GetValue(aug),
                P = parse.GetValue(p),
                Target = parse.GetValue(target),
                AugPipe = parse.GetValue(augpipe),
                Mirror = Given(parse, mirror),
                Tick = parse.GetValue(tick),
                Snap = parse.GetValue(snap),
                KeepSnapshots = parse.GetValue(keep),
                Seed = parse.GetValue(seed),
                Transfer = parse.GetValue(transfer),
                Freezed = parse.GetValue(freezed),
                Desc = parse.GetValue(desc),
                Metrics = parse.GetValue(metrics),
                MetricsDetector = parse.GetValue(metricsDetector),
                MetricsCount = parse.GetValue(metricsCount),
                Device = parse.GetValue(device),
            };
            var config = parse.InvocationConfiguration;
            return Task.FromResult(Run(options, parse.GetValue(resume), config.Output, config.Error, cancel));
        });
        return cmd;
    }

    /// <summary>An optional enum option (kebab-case values, case-insensitive): null when not given.</summary>
    private static Option<T?> NullableEnum<T>(string name, string description) where T : struct, Enum
    {
        var values = Enum.GetNames<T>().Select(CommonOptions.Kebab).ToArray();
        var option = new Option<T?>(name) { Description = description, HelpName = string.Join("|", values) };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Enum.TryParse<T>(text.Replace("-", ""), ignoreCase: true, out var value) && Enum.IsDefined(value)
                && !int.TryParse(text, out _))
                return value;
            result.AddError($"{name} '{text}': expected one of {string.Join(", ", values)}.");
            return null;
        };
        return option;
    }

    /// <summary>The value of a flag the user typed, or null when it was left at its default.</summary>
    private static T? Given<T>(ParseResult parse, Option<T> option) where T : struct =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    public static int Run(GanTrainOptions options, string? resume, TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        GanTrainResult result;
        try
        {
            result = ProgressRenderer.Run(output, "gan train", progress => GanTrainer.Run(options, resume, progress, output.WriteLine, cancel));
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (SnapshotException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        var speed = result.SecPerKimg is { } s ? $"{s:F2} sec/kimg this session" : "too short to time";
        output.WriteLine($"trained to kimg {result.Kimg:F3} in {result.Ticks} ticks ({speed}), augment p {result.AugmentP:F4}; " +
                         $"run {result.RunDir}; last snapshot {result.LastSnapshot}");
        return ExitCodes.Ok;
    }
}
