using System.CommandLine;
using XraySynth.Data;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth demo</c>: the whole pipeline on generated phantom data, on a CPU, in minutes.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder for everything the demo writes (rerun to resume).", DefaultValueFactory = _ => "demo", HelpName = "DIR" };
        var patients = new Option<int>("--patients") { Description = "Phantom patients to generate.", DefaultValueFactory = _ => 80 };
        var cmd = new Command("demo",
            "Run the pipeline end to end on generated phantom X-rays (no MURA download needed): phantoms -> prepare " +
            "(64px GAN set, 128px classifier images), printing what each stage produced. Rerunning skips finished stages.")
        {
            outDir, patients,
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetValue(outDir)!, parse.GetValue(patients), parse.InvocationConfiguration.Output, cancel)));
        return cmd;
    }

    public static int Run(string outDir, int patients, TextWriter output, CancellationToken cancel = default)
    {
        var root = Path.GetFullPath(outDir);
        var phantomDir = Path.Combine(root, "phantoms");
        var datasetDir = Path.Combine(phantomDir, MuraCatalog.DatasetFolderName);
        output.WriteLine($"demo: writing to {root}");
        output.WriteLine("[1/2] phantom MURA data");
        if (Phantoms.IsComplete(datasetDir))
            output.WriteLine($"  already there: {datasetDir}");
        else
            PhantomsCommand.Run(new PhantomOptions { OutDir = phantomDir, Patients = patients, Parts = ["shoulder"], Seed = 0 }, output, cancel);

        output.WriteLine("[2/2] prepare: patient split, GAN zip, classifier manifests");
        PrepareCommand.Run(new PrepareOptions
        {
            MuraRoot = phantomDir,
            OutDir = Path.Combine(root, "prepared"),
            Parts = ["shoulder"],
            Resolution = 64,
            ClassifierSize = 128,
            ValFraction = 0.15,
            Seed = 0,
        }, output, cancel);
        output.WriteLine($"demo: done. Prepared data in {Path.Combine(root, "prepared")} ({DatasetPreparer.ReportFile} has the details).");
        return ExitCodes.Ok;
    }
}
