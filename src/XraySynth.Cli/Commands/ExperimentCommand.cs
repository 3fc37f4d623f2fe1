using System.CommandLine;
using XraySynth.Cli.Rendering;
using XraySynth.Experiments;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth experiment</c>: the whole study from one config.</summary>
public static class ExperimentCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Experiment config (JSON; see configs/mura-shoulder.json and configs/demo.json).", Required = true, HelpName = "FILE.json" };
        var runs = CommonOptions.Runs("Folder that holds experiment folders: this one is RUNS/<name>/ (name from the config).");
        var resume = new Option<bool>("--resume") { Description = "Continue an experiment whose folder exists (finished stages are kept, never recomputed)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (stages, folders, done or to do) and stop." };
        var device = CommonOptions.Device();
        var cmd = new Command("experiment",
            "Run a controlled experiment: prepare -> GAN training -> generation (+ memorisation filter) -> classifier arms x seeds -> " +
            "evaluation on real test images -> report.md / report.html with tables, CIs, paired tests and plots. Prints the plan first; " +
            "each stage writes its own folder and is skipped when already done.")
        {
            config, runs.Runs, runs.OldOut, resume, dryRun, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var loaded = ExperimentConfig.Load(parse.GetValue(config)!);
            return Task.FromResult(Run(loaded, Path.GetFullPath(runs.GetValue(parse)), parse.GetValue(resume), parse.GetValue(dryRun), parse.GetValue(device), output, cancel));
        });
        return cmd;
    }

    public static int Run(ExperimentConfig config, string outRoot, bool resume, bool dryRun, DeviceChoice device, TextWriter output, CancellationToken cancel)
    {
        return ProgressRenderer.Run(output, config.Name, progress =>
        {
            var runner = new ExperimentRunner(config, outRoot, device, progress, output.WriteLine);
            var plan = runner.Plan();
            output.WriteLine($"experiment '{config.Name}' in {runner.Dir}: {plan.Count} stages");
            foreach (var s in plan) output.WriteLine($"  [{(s.Done ? "done" : "todo")}] {s.Name}: {s.Description}");
            if (dryRun) return ExitCodes.Ok;
            if (!resume && plan.Any(s => s.Done))
                throw new DataException($"{runner.Dir} already holds finished stages of this experiment. fix: pass --resume to continue it, or choose another --runs.");
            var report = runner.Run(cancel);
            output.WriteLine($"report: {report}");
            output.WriteLine($"        {Path.ChangeExtension(report, ".html")}");
            return ExitCodes.Ok;
        });
    }
}
