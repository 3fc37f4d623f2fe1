using XraySynth.Runtime;
using System.CommandLine;
using XraySynth.Cli.Rendering;
using XraySynth.Data;
using XraySynth.Imaging;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth prepare</c>: MURA → GAN training zip + classifier manifests and images.</summary>
public static class PrepareCommand
{
    public static Command Create()
    {
        var mura = new Option<string>("--mura") { Description = "Folder holding MURA-v1.1/ (or MURA-v1.1 itself).", Required = true, HelpName = "ROOT" };
        var outDir = new Option<string>("--out") { Description = "Output folder (new or empty, or an earlier run of the same preparation, which resumes).", Required = true, HelpName = "DIR" };
        var parts = CommonOptions.Parts();
        var resolution = new Option<int>("--resolution") { Description = "GAN image size: a power of two (64, 128, 256, 512, ...).", DefaultValueFactory = _ => 256, HelpName = "N" };
        var channels = new Option<int>("--channels") { Description = "GAN image channels: 1 (grey, X-rays are grey) or 3 (RGB, for tools that need it).", DefaultValueFactory = _ => 1, HelpName = "1|3" };
        var clsSize = new Option<int>("--classifier-size") { Description = "Side of the stored classifier images (grey, square); the classifier resizes to its --size.", DefaultValueFactory = _ => 320, HelpName = "N" };
        var fit = CommonOptions.Enum("--fit", "Make images square by padding (keeps everything) or centre-cropping.", FitMode.Pad);
        var contrast = CommonOptions.Enum("--contrast", "Contrast enhancement: none, autocontrast (1% stretch), clahe (adaptive equalisation).", ContrastMode.None);
        var valFraction = new Option<double>("--val-fraction") { Description = "Fraction of MURA-train patients held out for validation (split by patient).", DefaultValueFactory = _ => 0.1, HelpName = "X" };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first bad image or CSV row instead of skipping and listing it." };
        var seed = CommonOptions.Seed();
        var pngCompression = CommonOptions.Enum("--png-compression", "PNG compression inside the GAN zip (same pixels): none (default, as the official dataset_tool: largest, fastest to write and read), fast (about half the size), small (smallest, slowest).", PngCompression.None);
        var workers = new Option<int?>("--workers") { Description = "Parallel workers that decode and write images. Default: the CPUs this process may use.", HelpName = "N" };
        var cmd = new Command("prepare",
            "Read MURA-v1.1 (its CSVs, or its folders), split by patient (MURA valid/ = held-out test set; validation cut from train/), " +
            "and write: a StyleGAN2-ADA-compatible zip of the training split (dataset.json labels: 0 normal, 1 abnormal), classifier " +
            "manifests train.csv/val.csv/test.csv with their images, and prepare-report.json. Bad images are skipped and listed.")
        {
            mura, outDir, parts, resolution, channels, clsSize, fit, contrast, valFraction, strict, seed, pngCompression, workers,
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(Run(new PrepareOptions
        {
            MuraRoot = parse.GetValue(mura)!,
            OutDir = parse.GetValue(outDir)!,
            Parts = CommonOptions.ResolveParts(parse.GetValue(parts)!),
            Resolution = parse.GetValue(resolution),
            Channels = parse.GetValue(channels),
            ClassifierSize = parse.GetValue(clsSize),
            Fit = parse.GetValue(fit),
            Contrast = parse.GetValue(contrast),
            ValFraction = parse.GetValue(valFraction),
            Strict = parse.GetValue(strict),
            Seed = parse.GetValue(seed),
            PngCompression = parse.GetValue(pngCompression),
            Workers = parse.GetValue(workers) ?? Environment.ProcessorCount,
        }, parse.InvocationConfiguration.Output, cancel)));
        return cmd;
    }

    public static int Run(PrepareOptions options, TextWriter output, CancellationToken cancel = default)
    {
        var report = ProgressRenderer.Run(output, "prepare", p => DatasetPreparer.Run(options, p, cancel));
        WriteSummary(output, report);
        return ExitCodes.Ok;
    }

    public static void WriteSummary(TextWriter output, PrepareReport r)
    {
        output.WriteLine($"prepared {r.DatasetDir} ({r.CatalogSource}) -> {r.Options.OutDir}");
        var table = new TextTable("split", "part", "images", "normal", "abnormal", "studies", "normal", "abnormal", "patients");
        foreach (var c in r.Counts)
            table.Add(c.Split, c.Part, c.Images.Total, c.Images.Negative, c.Images.Positive, c.Studies.Total, c.Studies.Negative, c.Studies.Positive, c.Patients);
        table.Write(output);
        output.WriteLine($"GAN training set: {r.GanZip} ({r.GanImages.Total} images: {r.GanImages.Negative} normal, {r.GanImages.Positive} abnormal; " +
                         $"{r.Options.Resolution}x{r.Options.Resolution}, {(r.Options.Channels == 1 ? "grey" : "RGB")})");
        output.WriteLine($"classifier manifests: train.csv, val.csv, test.csv ({r.Options.ClassifierSize}px grey images under images/)");
        foreach (var w in r.Warnings) output.WriteLine($"warning: {w}");
        if (r.Skipped.Count > 0)
        {
            output.WriteLine($"skipped {r.Skipped.Count} (listed in {DatasetPreparer.ReportFile}):");
            foreach (var s in r.Skipped.Take(5)) output.WriteLine($"  {s.File}: {s.Problem}");
            if (r.Skipped.Count > 5) output.WriteLine($"  ... and {r.Skipped.Count - 5} more");
        }
        output.WriteLine($"{r.ImagesPerSecond:F1} images/s, {r.ElapsedSeconds:F1} s" + (r.Resumed > 0 ? $" ({r.Resumed} classifier images kept from an earlier run)" : ""));
    }
}
