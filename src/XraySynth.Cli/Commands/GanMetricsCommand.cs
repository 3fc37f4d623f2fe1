using XraySynth.Runtime;
using System.CommandLine;
using System.Globalization;
using XraySynth.Cli.Rendering;
using XraySynth.Quality;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth gan metrics</c> (FID/KID/precision-recall, relative FD, memorisation audit) and
/// <c>xraysynth gan filter</c> (drop the images an audit flagged).</summary>
public static class GanMetricsCommand
{
    public static Command Create()
    {
        var network = new Option<string?>("--network") { Description = "Snapshot folder (network-snapshot-KKKKKK) whose G_ema generates seeds 0..count-1; results go to its run folder.", HelpName = "SNAPSHOT" };
        var images = new Option<string?>("--images") { Description = "A 'gan generate' folder (or any folder of PNGs) to measure instead; results go into it.", HelpName = "DIR" };
        var data = new Option<string>("--data") { Description = "The real images: the GAN training zip (gan-256.zip), the folder 'prepare' wrote, or a manifest (train.csv).", Required = true, HelpName = "ZIP|PREPARED|CSV" };
        var metrics = new Option<string>("--metrics") { Description = "Comma-separated: fid (with the relative FD), kid, pr, memorization; or all.", DefaultValueFactory = _ => "fid", HelpName = "fid,kid,pr,memorization" };
        var detector = new Option<string>("--detector")
        {
            Description = "Feature detector: inception (NVIDIA's inception-2015-12-05.pt: FIDs comparable to papers), FILE.pt (any TorchScript detector), " +
                          "classifier:RUN (a trained classifier's penultimate features), builtin (fixed random CNN, no download; numbers comparable only among themselves).",
            DefaultValueFactory = _ => "inception",
            HelpName = "inception|FILE.pt|classifier:RUN|builtin",
        };
        var count = new Option<int>("--count") { Description = "Synthetic images to measure (the official metrics use 50000).", DefaultValueFactory = _ => 50_000, HelpName = "N" };
        var cls = new Option<string?>("--class") { Description = "positive or negative: that class of the model against the reals of that class.", HelpName = "positive|negative" };
        var batch = new Option<int>("--batch") { Description = "Images per detector pass on the device.", DefaultValueFactory = _ => 64, HelpName = "N" };
        var seed = CommonOptions.Seed();
        var cache = new Option<string?>("--cache") { Description = $"Real-feature cache folder (default: ${FeatureDetectors.CacheVariable}/gan-metrics or ~/.cache/xraysynth/gan-metrics).", HelpName = "DIR" };
        var noCache = new Option<bool>("--no-cache") { Description = "Compute the real features every time; write no cache." };
        var percentile = new Option<double>("--audit-percentile") { Description = "Audit calibration: percentile of real-vs-real nearest-neighbour distances (nearest image of another patient).", DefaultValueFactory = _ => 1.0, HelpName = "X" };
        var margin = new Option<double>("--audit-margin") { Description = "Audit threshold = margin x that percentile (copies lie far below it).", DefaultValueFactory = _ => 0.5, HelpName = "X" };
        var pixels = new Option<int>("--audit-pixels") { Description = "Side of the grey images compared in the audit's pixel space.", DefaultValueFactory = _ => 64, HelpName = "N" };
        var outDir = new Option<string?>("--out") { Description = "Where metric-*.jsonl and the audit files go (default: the run folder, or the --images folder).", HelpName = "DIR" };
        var device = CommonOptions.Device();
        var cmd = new Command("metrics",
            "How good and how safe are the synthetic X-rays: FID, KID and precision/recall against the real images (as the official " +
            "fid50k_full, kid50k_full, pr50k3_full), the relative FD (FD / FD between two halves of the reals), and a memorisation audit " +
            "(nearest training image of every synthetic image in feature and pixel space; writes memorization.csv and a PNG of the closest pairs). " +
            "Each result is appended to metric-<name>.jsonl.")
        {
            network, images, data, metrics, detector, count, cls, batch, seed, cache, noCache, percentile, margin, pixels, outDir, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = new MetricsOptions
            {
                Network = parse.GetValue(network),
                Images = parse.GetValue(images),
                Data = parse.GetValue(data)!,
                Metrics = MetricsOptions.ParseMetrics(parse.GetValue(metrics)!),
                Detector = parse.GetValue(detector)!,
                Count = parse.GetValue(count),
                Class = parse.GetValue(cls),
                Batch = parse.GetValue(batch),
                Seed = parse.GetValue(seed),
                CacheDir = parse.GetValue(cache),
                UseCache = !parse.GetValue(noCache),
                Audit = new AuditOptions { Percentile = parse.GetValue(percentile), Margin = parse.GetValue(margin), PixelSize = parse.GetValue(pixels), Seed = parse.GetValue(seed) },
                OutDir = parse.GetValue(outDir),
                Device = parse.GetValue(device),
            };
            var report = ProgressRenderer.Run(output, "metrics", p => GanMetrics.Run(options, p, cancel));
            Write(output, report);
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    public static Command CreateFilter()
    {
        var images = new Option<string>("--images") { Description = "The 'gan generate' folder the audit measured.", Required = true, HelpName = "DIR" };
        var audit = new Option<string?>("--audit") { Description = "Its memorization.csv (default: DIR/memorization.csv).", HelpName = "CSV" };
        var cmd = new Command("filter",
            "Drop the images a memorisation audit flagged from a 'gan generate' folder: their rows leave manifest.csv (rewritten atomically) " +
            "and are listed in memorized.csv; the PNGs stay for inspection. A rerun of 'gan generate' into the folder brings them back: filter again.")
        {
            images, audit,
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var dir = parse.GetValue(images)!;
            var result = MemorizationFilter.Apply(dir, parse.GetValue(audit) ?? Path.Combine(dir, AuditFiles.BaseName + ".csv"));
            output.WriteLine($"dropped {result.Dropped} flagged image(s), kept {result.Kept} in {Path.Combine(result.Folder, Data.SyntheticManifest.FileName)}; " +
                             $"dropped images are listed in {result.DroppedList}");
            if (result.NotAudited > 0)
                output.WriteLine($"warning: {result.NotAudited} image(s) in the manifest are not in the audit; audit the folder again.");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Renders a metrics report.</summary>
    public static void Write(TextWriter output, MetricsReport r)
    {
        string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        output.WriteLine($"{r.SyntheticImages} synthetic vs {r.RealImages} real images{(r.Class is null ? "" : $" (class {r.Class})")}, detector {r.Detector}" +
                         (r.ComparableToPublished ? " (comparable to published FIDs)" : " (numbers comparable only among runs with this detector)") +
                         $", real features {(r.CacheHits.Count > 0 ? "from the cache" : "computed")}, {GanMetrics.FormatTime(r.Seconds)}");
        var table = new TextTable("metric", "value");
        foreach (var m in r.Results)
            foreach (var (key, value) in m.Results)
                table.Add(key, F(value));
        table.Write(output);
        if (r.Audit is { } a)
        {
            output.WriteLine($"memorisation: {a.Flagged} of {a.Images} flagged (feature space {a.Feature.Flagged}, pixel space {a.Pixel.Flagged}); " +
                             $"thresholds {F(a.Margin)} x percentile {F(a.Percentile)} of real-vs-real distances: feature {F(a.Feature.Threshold)}, " +
                             $"pixel {F(a.Pixel.Threshold)} RMS grey levels; median nearest distance synthetic {F(a.Feature.SyntheticToReal.Median)} vs real {F(a.Feature.RealToReal.Median)}");
            output.WriteLine($"  audit: {r.AuditFiles!.Csv}, {Path.GetFileName(r.AuditFiles.Png)}; drop flagged images with 'xraysynth gan filter --images DIR --audit CSV'");
        }
        output.WriteLine($"appended to {string.Join(", ", r.Results.Select(m => Path.GetFileName(m.File)))} in {r.OutDir}");
    }
}
