using XraySynth.Runtime;
using System.CommandLine;
using XraySynth.Gan.Import;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth gan import PKL --out SNAPSHOT</c>: an official network pickle as an XraySynth snapshot.</summary>
public static class GanImportCommand
{
    public static Command Create()
    {
        var pkl = new Argument<string>("PKL") { Description = "Network pickle of stylegan2-ada-pytorch or stylegan3 (--cfg stylegan2), e.g. network-snapshot-000800.pkl." };
        var outDir = new Option<string>("--out") { Description = "Snapshot folder to write (G, D, G_ema as safetensors + snapshot.json).", Required = true, HelpName = "SNAPSHOT" };
        var cmd = new Command("import",
            "Read an official StyleGAN2 network pickle without running its code (a restricted reader that refuses every unknown global) " +
            "and write it as a snapshot folder: the architecture from the pickle's init_kwargs, every tensor by name and shape. " +
            "The snapshot works with gan generate, gan metrics and gan train --transfer.")
        {
            pkl, outDir,
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var target = Path.GetFullPath(parse.GetValue(outDir)!);
            var (arch, info) = NetworkImport.Run(parse.GetValue(pkl)!, target);
            var g = arch.G;
            output.WriteLine($"imported {info.Source} (sha256 {info.Sha256[..12]}): {g.ImgResolution}x{g.ImgResolution}, " +
                             $"{g.ImgChannels} channel(s), c_dim {g.CDim}, z {g.ZDim}, w {g.WDim}, mapping {g.Mapping.NumLayers} layers, " +
                             $"channel_base {g.Synthesis.ChannelBase}, channel_max {g.Synthesis.ChannelMax}, D {arch.D.Architecture.ToString().ToLowerInvariant()}, " +
                             $"mbstd group {arch.D.MbstdGroupSize?.ToString() ?? "all"} -> {target}");
            if (info.HadAugmentPipe)
                output.WriteLine("note: the pickle's augment_pipe is not imported (training from it starts ADA again at p = 0, as the official resume does).");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
