using System.CommandLine;
using System.Diagnostics;
using XraySynth.Cli.Rendering;
using XraySynth.Data;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth bench</c>: reproducible throughput measurements on phantom data.</summary>
public static class BenchCommand
{
    public sealed record PrepareBenchResult(string Work, int Images, int Workers, double Seconds, double ImagesPerSecond, int Resolution, int ClassifierSize);

    public static Command Create()
    {
        var target = new Argument<string>("work") { Description = "What to measure: prepare." };
        target.AcceptOnlyFromAmong("prepare");
        var patients = new Option<int>("--patients") { Description = "Phantom patients to generate as input (not timed).", DefaultValueFactory = _ => 200 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON (for machines)." };
        var cmd = new Command("bench",
            "Measure throughput on generated phantom data at the real sizes. 'prepare': images/s of decode + preprocess + write " +
            "(256px GAN zip, 320px classifier images) with one worker and with all cores, side by side in one run.")
        {
            target, patients, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var results = BenchPrepare(parse.GetValue(patients), parse.GetValue(json) ? TextWriter.Null : output, cancel);
            if (parse.GetValue(json)) output.WriteLine(Json.Serialize(results));
            else
            {
                var table = new TextTable("work", "workers", "images", "seconds", "images/s");
                foreach (var r in results) table.Add(r.Work, r.Workers, r.Images, r.Seconds, r.ImagesPerSecond);
                table.Write(output);
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    public static List<PrepareBenchResult> BenchPrepare(int patients, TextWriter log, CancellationToken cancel)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"xraysynth-bench-{Environment.ProcessId}");
        try
        {
            log.WriteLine($"bench: generating {patients} phantom patients in {dir} (not timed)");
            var phantoms = Phantoms.Generate(new PhantomOptions { OutDir = Path.Combine(dir, "mura"), Patients = patients, Seed = 1 }, null, cancel);
            var results = new List<PrepareBenchResult>();
            foreach (var workers in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var outDir = Path.Combine(dir, $"prepared-{workers}");
                var clock = Stopwatch.StartNew();
                var report = DatasetPreparer.Run(new PrepareOptions { MuraRoot = Path.Combine(dir, "mura"), OutDir = outDir, Workers = workers }, null, cancel);
                var seconds = clock.Elapsed.TotalSeconds;
                int images = report.Counts.Sum(c => c.Images.Total);
                results.Add(new PrepareBenchResult("prepare", images, workers, seconds, images / seconds, 256, 320));
                log.WriteLine($"bench: prepare with {workers} worker(s): {images} images in {seconds:F2} s");
            }
            return results;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
