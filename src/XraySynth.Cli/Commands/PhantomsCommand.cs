using XraySynth.Runtime;
using System.CommandLine;
using XraySynth.Cli.Rendering;
using XraySynth.Data;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth phantoms</c>: a MURA-shaped tree of generated radiograph-like images.</summary>
public static class PhantomsCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder to write MURA-v1.1/ into.", Required = true, HelpName = "DIR" };
        var patients = new Option<int>("--patients") { Description = "Number of patients (about 20% go to valid/, each has 1-3 studies of 1-4 views).", DefaultValueFactory = _ => 100, HelpName = "N" };
        var parts = CommonOptions.Parts();
        var seed = CommonOptions.Seed();
        var maxSide = new Option<int>("--max-side") { Description = "Longest image side in pixels (MURA: 512); sides vary from half of it up.", DefaultValueFactory = _ => 512, HelpName = "N" };
        var cmd = new Command("phantoms",
            "Write a MURA-v1.1-shaped dataset of generated radiograph-like PNGs (folders + the four header-less CSVs): " +
            "bone shapes on soft tissue, random pose and size; abnormal studies show a fracture, implant or lesion. " +
            "For tests, benchmarks and the demo: MURA itself is licensed by Stanford and cannot ship with the tool.")
        {
            outDir, patients, parts, seed, maxSide,
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(Run(new PhantomOptions
        {
            OutDir = parse.GetValue(outDir)!,
            Patients = parse.GetValue(patients),
            Parts = CommonOptions.ResolveParts(parse.GetValue(parts)!),
            Seed = parse.GetValue(seed),
            MaxSide = parse.GetValue(maxSide),
        }, parse.InvocationConfiguration.Output, cancel)));
        return cmd;
    }

    public static int Run(PhantomOptions options, TextWriter output, CancellationToken cancel = default)
    {
        var summary = ProgressRenderer.Run(output, "phantoms", p => Phantoms.Generate(options, p, cancel));
        Write(output, summary);
        return ExitCodes.Ok;
    }

    public static void Write(TextWriter output, PhantomSummary s) =>
        output.WriteLine($"phantoms: {s.Images} images in {s.Studies} studies ({s.PositiveStudies} abnormal) of {s.Patients} patients " +
                         $"(train {s.TrainImages}, valid {s.ValidImages} images) -> {s.DatasetDir}");
}
