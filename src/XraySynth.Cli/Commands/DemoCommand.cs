using System.CommandLine;
using System.Diagnostics;
using XraySynth.Data;
using XraySynth.Experiments;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth demo</c>: the whole study on generated phantom data, on a CPU, in minutes.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder for everything the demo writes (rerun to resume).", DefaultValueFactory = _ => "demo", HelpName = "DIR" };
        var patients = new Option<int>("--patients") { Description = "Phantom patients to generate.", DefaultValueFactory = _ => 320, HelpName = "N" };
        var device = CommonOptions.Device();
        var cmd = new Command("demo",
            "Run the whole study end to end on generated phantom X-rays (no MURA download needed): phantoms -> configs/demo.json " +
            "(prepare, a small conditional StyleGAN2-ADA for 4 kimg, synthetic images, 2 classifier arms x 3 seeds, evaluation, report). " +
            "Prints where the report is. Rerunning skips finished stages.")
        {
            outDir, patients, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetValue(outDir)!, parse.GetValue(patients), parse.GetValue(device), parse.InvocationConfiguration.Output, cancel)));
        return cmd;
    }

    /// <summary>configs/demo.json, shipped beside the program.</summary>
    public static string ConfigPath => Path.Combine(AppContext.BaseDirectory, "configs", "demo.json");

    public static int Run(string outDir, int patients, DeviceChoice device, TextWriter output, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var root = OutputFolder.Ensure(outDir, "--out");
        var phantomDir = Path.Combine(root, "phantoms");
        var datasetDir = Path.Combine(phantomDir, MuraCatalog.DatasetFolderName);
        output.WriteLine($"demo: writing to {root}");
        output.WriteLine("[1/2] phantom MURA data");
        if (Phantoms.IsComplete(datasetDir))
            output.WriteLine($"  already there: {datasetDir}");
        else
            PhantomsCommand.Run(new PhantomOptions { OutDir = phantomDir, Patients = patients, Parts = ["shoulder"], Seed = 0, MaxSide = 256 }, output, cancel);

        output.WriteLine($"[2/2] the study: {ConfigPath}");
        var config = ExperimentConfig.Load(ConfigPath, c => c with { Data = c.Data with { Mura = phantomDir } });
        int code = ExperimentCommand.Run(config, root, resume: true, dryRun: false, device, output, cancel);
        output.WriteLine($"demo: done in {clock.Elapsed:mm\\:ss}. Open {Path.Combine(root, config.Name, ExperimentReport.HtmlFile)}");
        return code;
    }
}
