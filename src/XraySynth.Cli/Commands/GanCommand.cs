using System.CommandLine;
using System.Globalization;
using XraySynth.Cli.Rendering;
using XraySynth.Gan.Generation;
using XraySynth.Gan.Networks;
using XraySynth.Runtime;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth gan summary|generate</c> (and <c>train</c>).</summary>
public static class GanCommand
{
    public static Command Create()
    {
        var cmd = new Command("gan", "StyleGAN2-ADA: training with exact resume, network summaries, batched generation of synthetic X-rays.");
        cmd.Subcommands.Add(GanTrainCommand.Create());
        cmd.Subcommands.Add(GanImportCommand.Create());
        cmd.Subcommands.Add(CreateSummary());
        cmd.Subcommands.Add(CreateGenerate());
        cmd.Subcommands.Add(CreateExport());
        cmd.Subcommands.Add(GanMetricsCommand.Create());
        cmd.Subcommands.Add(GanMetricsCommand.CreateFilter());
        return cmd;
    }

    private static Command CreateSummary()
    {
        var cfg = new Option<string>("--cfg") { Description = $"Network preset: {string.Join(", ", NetworkPresets.Names)}.", DefaultValueFactory = _ => "auto", HelpName = "PRESET" };
        var resolution = new Option<int>("--resolution") { Description = "Image size (a power of two, 4..1024).", DefaultValueFactory = _ => 256, HelpName = "N" };
        var channels = new Option<int>("--channels") { Description = "Image channels: 1 (grey) or 3.", DefaultValueFactory = _ => 1, HelpName = "1|3" };
        var cond = new Option<bool>("--cond") { Description = "Class-conditional (2 classes: normal, abnormal)." };
        var cmd = new Command("summary", "Per-layer table of the generator and the discriminator (output shapes, parameters, buffers) with totals, like the official print_module_summary.")
        {
            cfg, resolution, channels, cond, CommonOptions.Threads(),
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            NetworkConfigs configs;
            try
            {
                configs = NetworkPresets.Create(parse.GetValue(cfg)!, parse.GetValue(resolution), parse.GetValue(channels), parse.GetValue(cond) ? 2 : 0);
            }
            catch (ArgumentException e)
            {
                throw new DataException(e.Message);
            }
            using var g = new Generator(configs.G);
            using var d = new Discriminator(configs.D);
            g.eval();
            d.eval();
            using var noGrad = no_grad();
            var c = configs.G.CDim > 0 ? zeros(1, configs.G.CDim) : null;
            var gSummary = ModuleSummary.Run(g, () => g.call(randn(1, configs.G.ZDim), c));
            var dSummary = ModuleSummary.Run(d, () => d.call(randn(1, configs.G.ImgChannels, configs.G.ImgResolution, configs.G.ImgResolution), c));
            output.WriteLine($"cfg {parse.GetValue(cfg)}, {configs.G.ImgResolution}px, {configs.G.ImgChannels} channel(s), {(configs.G.CDim > 0 ? "conditional" : "unconditional")}");
            Write(output, "Generator", gSummary);
            Write(output, "Discriminator", dSummary);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Renders a module summary as a table with totals.</summary>
    public static void Write(TextWriter output, string title, ModuleSummaryResult summary)
    {
        output.WriteLine();
        output.WriteLine(title);
        var table = new TextTable("module", "parameters", "buffers", "output shape", "dtype");
        foreach (var r in summary.Rows)
            table.Add(r.Name, r.Parameters == 0 ? "-" : r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.Buffers == 0 ? "-" : r.Buffers.ToString("N0", CultureInfo.InvariantCulture),
                r.OutputShape is null ? "-" : $"[{string.Join(", ", r.OutputShape)}]", r.OutputDtype ?? "-");
        table.Add("total", summary.TotalParameters.ToString("N0", CultureInfo.InvariantCulture), summary.TotalBuffers.ToString("N0", CultureInfo.InvariantCulture), "", "");
        table.Write(output);
    }

    private static Command CreateExport()
    {
        var network = new Option<string>("--network") { Description = "Snapshot folder written by 'gan train'.", Required = true, HelpName = "SNAPSHOT" };
        var outFile = new Option<string>("--out") { Description = "The PyTorch file to write (torch.save zip format).", Required = true, HelpName = "FILE.pt" };
        var only = new Option<string?>("--only") { Description = "Write just this network's flat state_dict: G, D or G_ema (default: all three plus the official constructor kwargs).", HelpName = "G|D|G_ema" };
        var cmd = new Command("export",
            "Write a snapshot's networks as a PyTorch file with the official key names, loadable without XraySynth and without running code: " +
            "d = torch.load(f, weights_only=True); G = training.networks.Generator(**d['G_kwargs']); G.load_state_dict(d['G_ema']).")
        {
            network, outFile, only,
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var which = parse.GetValue(only);
            if (which is not null && which is not (Gan.Snapshot.GanSnapshot.G or Gan.Snapshot.GanSnapshot.D or Gan.Snapshot.GanSnapshot.GEma))
                throw new DataException($"--only {which}: use G, D or G_ema.");
            var file = Path.GetFullPath(parse.GetValue(outFile)!);
            var count = Gan.Snapshot.GanExport.Write(parse.GetValue(network)!, file, which);
            output.WriteLine($"wrote {file}: {count} tensors ({which ?? "G, D, G_ema + G_kwargs, D_kwargs"})");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command CreateGenerate()
    {
        var network = new Option<string>("--network") { Description = "Snapshot folder (network-snapshot-KKKKKK) from 'gan train'; its G_ema generates.", Required = true, HelpName = "SNAPSHOT" };
        var outDir = new Option<string>("--out") { Description = "Output folder: seedNNNNNN.png per image + manifest.csv (rerun to resume).", Required = true, HelpName = "DIR" };
        var count = new Option<int?>("--count") { Description = "Generate seeds 0..N-1.", HelpName = "N" };
        var seeds = new Option<string?>("--seeds") { Description = "Seeds as ranges and lists: 0-999 or 1,5,10-20.", HelpName = "A-B,C" };
        var cls = new Option<string?>("--class") { Description = "positive (abnormal) or negative (normal), for a class-conditional model.", HelpName = "positive|negative" };
        var trunc = new Option<double>("--trunc") { Description = "Truncation psi: 1 = none, lower = closer to the average image (less diverse, fewer artefacts).", DefaultValueFactory = _ => 1.0, HelpName = "X" };
        var noise = CommonOptions.Enum("--noise-mode", "Per-layer noise: const (fixed, reproducible), random (per seed), none.", NoiseMode.Const);
        var batch = new Option<int>("--batch") { Description = "Images per forward pass on the device.", DefaultValueFactory = _ => 64, HelpName = "N" };
        var sharpen = new Option<double>("--sharpen") { Description = "Unsharp-mask amount applied to each image (0 = none; the seed project used ~1).", DefaultValueFactory = _ => 0, HelpName = "X" };
        var grid = new Option<string?>("--grid") { Description = "Also write a grid PNG of the first (up to 64) images.", HelpName = "FILE.png" };
        var device = CommonOptions.Device();
        var cmd = new Command("generate",
            "Generate synthetic X-rays in batches: one PNG per seed (grey or RGB as the model), a manifest.csv (file, seed, class, trunc) " +
            "that 'classifier train --synthetic' reads. Same seed, same image. Streams to disk; rerunning skips images already written.")
        {
            network, outDir, count, seeds, cls, trunc, noise, batch, sharpen, grid, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var seedList = ParseSeeds(parse.GetValue(count), parse.GetValue(seeds));
            var options = new GenerateOptions
            {
                Network = parse.GetValue(network)!,
                OutDir = parse.GetValue(outDir)!,
                Seeds = seedList,
                Class = parse.GetValue(cls),
                Trunc = parse.GetValue(trunc),
                NoiseMode = parse.GetValue(noise),
                Batch = parse.GetValue(batch),
                Sharpen = parse.GetValue(sharpen),
                Grid = parse.GetValue(grid) is { } g ? Path.GetFullPath(g) : null,
                Device = parse.GetValue(device),
            };
            var result = ProgressRenderer.Run(output, "generate", p => GenerateImages.Run(options, p, cancel));
            output.WriteLine($"generated {result.Written} images ({result.Kept} already there) of {result.Resolution}x{result.Resolution}, " +
                             $"{(result.Channels == 1 ? "grey" : "RGB")}, class {(result.Class.Length > 0 ? result.Class : "none")} -> {result.OutDir}");
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    /// <summary>Seeds from --count N (0..N-1) or --seeds "0-999" / "1,5,10-20".</summary>
    public static List<long> ParseSeeds(int? count, string? seeds)
    {
        if ((count is null) == (seeds is null))
            throw new DataException("pass exactly one of --count N or --seeds A-B.");
        if (count is { } n)
        {
            if (n < 1) throw new DataException($"--count {n}: must be at least 1.");
            return Enumerable.Range(0, n).Select(i => (long)i).ToList();
        }
        var list = new List<long>();
        foreach (var part in seeds!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (ends.Length == 1 && long.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var single)) list.Add(single);
            else if (ends.Length == 2 && long.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                     && long.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && a <= b && b - a < 10_000_000)
                for (long s = a; s <= b; s++) list.Add(s);
            else throw new DataException($"--seeds '{part}': expected a seed (12) or a range (0-999) of non-negative integers.");
        }
        return list;
    }
}
