using System.CommandLine;
using System.Diagnostics;
using XraySynth.Cli.Rendering;
using XraySynth.Classifier.Models;
using XraySynth.Classifier.Training;
using XraySynth.Data;
using XraySynth.Gan.Generation;
using XraySynth.Gan.Networks;
using XraySynth.Imaging;
using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth bench</c>: reproducible throughput measurements at the real sizes, on phantom or random data.</summary>
public static class BenchCommand
{
    /// <summary>One measured figure.</summary>
    /// <param name="Work">What was measured.</param>
    /// <param name="Setup">Sizes and settings.</param>
    /// <param name="Device">Where it ran.</param>
    /// <param name="Items">Images processed in the timed part.</param>
    /// <param name="Seconds">Wall time of the timed part.</param>
    /// <param name="ImagesPerSecond">Items / seconds.</param>
    /// <param name="PeakMemoryMb">Peak resident memory of the process in MB (host memory, not GPU memory).</param>
    public sealed record BenchResult(string Work, string Setup, string Device, int Items, double Seconds, double ImagesPerSecond, double PeakMemoryMb);

    public static readonly string[] Works = ["gan-train", "generate", "classifier-train", "prepare"];

    public static Command Create()
    {
        var work = new Argument<string>("work") { Description = "What to measure: gan-train, generate, classifier-train, prepare." };
        work.AcceptOnlyFromAmong(Works);
        var patients = new Option<int>("--patients") { Description = "prepare: phantom patients generated as input (not timed).", DefaultValueFactory = _ => 200, HelpName = "N" };
        var batch = new Option<int?>("--batch") { Description = "generate: images per forward (default 64 on CUDA, 8 on CPU); classifier-train: images per step (default 32).", HelpName = "N" };
        var steps = new Option<int?>("--steps") { Description = "Timed batches after one warm-up (default 10 on CUDA, 3 on CPU).", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON (for machines)." };
        var reference = new Option<string?>("--reference") { Description = "prepare: a copy of the official stylegan2-ada-pytorch folder; its dataset_tool.py runs on the same images in the same run, interleaved.", HelpName = "DIR" };
        var python = new Option<string>("--python") { Description = "prepare: the Python that runs --reference (needs numpy, PIL, click, tqdm).", DefaultValueFactory = _ => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", HelpName = "FILE" };
        var resolution = new Option<int>("--resolution") { Description = "gan-train: image size of the phantom zip; generate: of the generator (a power of two).", DefaultValueFactory = _ => 256, HelpName = "N" };
        var repeats = new Option<int>("--repeats") { Description = "prepare: rounds of the GAN-zip comparison (ours, official, ours, official, ...).", DefaultValueFactory = _ => 2, HelpName = "N" };
        var device = CommonOptions.Device();
        var cmd = new Command("bench",
            "Measure throughput at the real sizes. gan-train: sec/kimg of StyleGAN2-ADA training (cfg auto, 256px, batch 16, one channel, " +
            "ADA, R1 and path-length regularisation) on a phantom zip, ticks after the first. prepare: decode + preprocess + write on a phantom MURA tree (256px GAN zip, 320px " +
            "classifier images), one worker and all cores side by side. generate: images/s of a random-initialised cfg-auto 256px " +
            "one-channel generator. classifier-train: images/s of DenseNet-169 training steps at 224px (augmentation, forward, backward, Adam).")
        {
            work, patients, batch, steps, json, reference, python, repeats, resolution, device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction((parse, cancel) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var log = parse.GetValue(json) ? TextWriter.Null : output;
            var results = parse.GetValue(work) switch
            {
                "prepare" => BenchPrepare(parse.GetValue(patients), parse.GetValue(reference), parse.GetValue(python)!, Math.Max(1, parse.GetValue(repeats)), log, cancel),
                "gan-train" => [BenchGanTrain(parse.GetValue(device), parse.GetValue(batch) ?? 16, parse.GetValue(steps), parse.GetValue(resolution), log, cancel)],
                "generate" => [BenchGenerate(TorchRuntime.Select(parse.GetValue(device)), parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(resolution), log)],
                _ => [BenchClassifierTrain(TorchRuntime.Select(parse.GetValue(device)), parse.GetValue(batch) ?? 32, parse.GetValue(steps), log)],
            };
            if (parse.GetValue(json)) output.WriteLine(Json.Serialize(results));
            else
            {
                var table = new TextTable("work", "setup", "device", "images", "seconds", "images/s", "peak RSS MB");
                foreach (var r in results) table.Add(r.Work, r.Setup, r.Device, r.Items, r.Seconds, r.ImagesPerSecond, r.PeakMemoryMb);
                table.Write(output);
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }

    private static double PeakMb(Device device) => Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;

    private static int DefaultSteps(Device device, int? steps) => steps ?? (device.type == DeviceType.CUDA ? 10 : 3);

    /// <summary>prepare speed on a phantom MURA tree (not timed): first the GAN zip alone, one worker, per phase, at each
    /// PNG compression, interleaved with the official <c>dataset_tool.py</c> (when <paramref name="reference"/> names a copy
    /// of it) on the same RGB copies of the images, <paramref name="repeats"/> rounds A B A B; then the whole prepare
    /// (zip + classifier images), one worker and all cores.</summary>
    public static List<BenchResult> BenchPrepare(int patients, string? reference, string python, int repeats, TextWriter log, CancellationToken cancel)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"xraysynth-bench-{Environment.ProcessId}");
        try
        {
            log.WriteLine($"bench: generating {patients} phantom patients in {dir} (not timed)");
            Phantoms.Generate(new PhantomOptions { OutDir = Path.Combine(dir, "mura"), Patients = patients, Seed = 1 }, null, cancel);
            // The official center-crop transform needs RGB input (PIL.Image.fromarray(img, 'RGB')): both tools read RGB copies.
            var rgbDir = Path.Combine(dir, "rgb");
            var files = new List<string>();
            foreach (var src in Directory.EnumerateFiles(Path.Combine(dir, "mura"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var dst = Path.Combine(rgbDir, Path.GetRelativePath(Path.Combine(dir, "mura"), src));
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.WriteAllBytes(dst, ImageCodec.EncodePng(ImageCodec.Decode(src, 3), PngCompression.Fast));
                files.Add(dst);
            }
            files.Sort(StringComparer.Ordinal);
            var results = new List<BenchResult>();
            var rgbCrop = new PreprocessSettings(256, 3, FitMode.Crop);
            for (int round = 1; round <= repeats; round++)
            {
                foreach (var compression in new[] { PngCompression.None, PngCompression.Fast, PngCompression.Small })
                {
                    var load = Load();
                    var processCpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var p = GanZipTiming.Run(files, Path.Combine(dir, $"ours-{compression}.zip"), rgbCrop, compression, cancel);
                    var setup = $"round {round}: ours, GAN zip alone, 1 worker, RGB center-crop 256px, --png-compression {compression.ToString().ToLowerInvariant()}" +
                                (compression == PngCompression.None ? " (default)" : "") + $"; zip {p.ZipBytes / 1e6:F1} MB; thread cpu {p.Total:F2} s = {p.Images / p.Total:F1} images/cpu-s, process cpu {(Process.GetCurrentProcess().TotalProcessorTime - processCpu).TotalSeconds:F2} s; load {load}";
                    results.Add(new BenchResult("prepare-gan-zip", setup, "cpu", p.Images, p.Wall, p.Images / p.Wall, PeakMb(CPU)));
                    log.WriteLine($"bench: {setup}; wall {p.Images / p.Wall:F1} images/s; cpu ms per image: read {Ms(p.Read, p.Images)}, decode {Ms(p.Decode, p.Images)}, " +
                                  $"crop+resize {Ms(p.Preprocess, p.Images)}, encode {Ms(p.Encode, p.Images)}, zip write {Ms(p.ZipWrite, p.Images)}");
                }
                if (reference is not null) results.Add(RunOfficialDatasetTool(reference, python, rgbDir, Path.Combine(dir, $"official-{round}.zip"), files.Count, round, log, cancel));
            }
            foreach (var workers in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var load = Load();
                var clock = Stopwatch.StartNew();
                var report = DatasetPreparer.Run(new PrepareOptions { MuraRoot = Path.Combine(dir, "mura"), OutDir = Path.Combine(dir, $"prepared-{workers}"), Workers = workers }, null, cancel);
                var seconds = clock.Elapsed.TotalSeconds;
                int images = report.Counts.Sum(c => c.Images.Total);
                results.Add(new BenchResult("prepare", $"whole prepare, {workers} worker(s), 256px grey zip + 320px classifier; load {load}", "cpu", images, seconds, images / seconds, PeakMb(CPU)));
                log.WriteLine($"bench: prepare with {workers} worker(s): {images} images in {seconds:F2} s");
            }
            return results;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static string Ms(double seconds, int images) => (1000 * seconds / Math.Max(images, 1)).ToString("F2");

    /// <summary>The 1-minute load average (Linux), to print next to every wall-clock figure.</summary>
    private static string Load() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    /// <summary>The official tool on the same files: <c>python dataset_tool.py --source DIR --dest ZIP --transform=center-crop
    /// --width=256 --height=256</c>, timed from the outside (interpreter start-up included, as a user sees it).</summary>
    private static BenchResult RunOfficialDatasetTool(string reference, string python, string source, string zip, int images, int round, TextWriter log, CancellationToken cancel)
    {
        var tool = Path.Combine(reference, "dataset_tool.py");
        if (!File.Exists(tool))
            throw new DataException($"--reference {reference}: no dataset_tool.py there. fix: pass a copy of the official stylegan2-ada-pytorch folder.");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = reference };
        foreach (var a in new[] { tool, "--source", source, "--dest", zip, "--transform=center-crop", "--width=256", "--height=256" }) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        var load = Load();
        var before = CpuTime.Children();
        var clock = Stopwatch.StartNew();
        using var proc = Process.Start(start) ?? throw new DataException($"--python {python}: cannot start it. fix: pass a Python 3 that has numpy, PIL, click and tqdm.");
        var stderr = proc.StandardError.ReadToEndAsync(cancel);
        proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        var seconds = clock.Elapsed.TotalSeconds;
        var after = CpuTime.Children();
        if (proc.ExitCode != 0)
            throw new InvalidOperationException($"official dataset_tool.py failed (exit {proc.ExitCode}): {stderr.Result.Trim()}");
        var cpu = before is { } t0 && after is { } t1 ? $"cpu user {t1.User - t0.User:F2} s + sys {t1.System - t0.System:F2} s = {images / (t1.User - t0.User + t1.System - t0.System):F1} images/cpu-s" : "cpu n/a";
        var setup = $"round {round}: official dataset_tool.py ({python}), RGB center-crop 256px, compress_level=0; zip {new FileInfo(zip).Length / 1e6:F1} MB; {cpu} (interpreter start included); load {load}";
        log.WriteLine($"bench: {setup}: {images / seconds:F1} images/s");
        return new BenchResult("prepare-gan-zip", setup, "cpu", images, seconds, images / seconds, double.NaN);
    }

    /// <summary>GAN training speed: a phantom dataset at 256 px (not timed), then <paramref name="steps"/> ticks of
    /// two minibatches each; sec/kimg is the mean of the ticks after the first (which includes start-up).</summary>
    public static BenchResult BenchGanTrain(DeviceChoice choice, int batch, int? steps, int resolution, TextWriter log, CancellationToken cancel)
    {
        var device = TorchRuntime.Select(choice);
        int ticks = DefaultSteps(device, steps);
        var dir = Path.Combine(Path.GetTempPath(), $"xraysynth-bench-gan-{Environment.ProcessId}");
        try
        {
            log.WriteLine($"bench: phantom dataset at {resolution}px in {dir} (not timed)");
            Phantoms.Generate(new PhantomOptions { OutDir = Path.Combine(dir, "mura"), Patients = 40, Seed = 1, MaxSide = 320 }, null, cancel);
            DatasetPreparer.Run(new PrepareOptions { MuraRoot = Path.Combine(dir, "mura"), OutDir = Path.Combine(dir, "prep"), ClassifierSize = 32, ValFraction = 0, Resolution = resolution }, null, cancel);
            double kimgPerTick = 2.0 * batch / 1000;
            log.WriteLine($"bench: gan-train, cfg auto {resolution}px, batch {batch}, 1 channel, ADA; {ticks} timed ticks of 2 minibatches on {device.type}");
            var request = new XraySynth.Gan.Training.GanTrainRequest
            {
                Data = Path.Combine(dir, "prep", DatasetPreparer.GanZipName(resolution, 1)), OutRoot = Path.Combine(dir, "runs"), Device = choice,
            }.With(o => o.Cfg, "auto").With(o => o.Batch, batch).With(o => o.Kimg, kimgPerTick * (ticks + 1)).With(o => o.Tick, kimgPerTick)
                .With(o => o.Snap, 1_000_000).With(o => o.Mirror, true);
            var result = XraySynth.Gan.Training.GanTrainer.Run(request, null, null, line => log.WriteLine("  " + line), cancel);
            int images = (int)Math.Round(result.Kimg * 1000);
            var secPerKimg = result.SecPerKimg ?? throw new DataException("gan-train bench: only one tick ran. fix: pass --steps 2 or more.");
            var phases = result.PhaseSecPerKimg is { } ph ? string.Join(", ", ph.Select(kv => $"{kv.Key} {kv.Value:F1}")) : "n/a";
            var overhead = result.WorstSnapshotOverhead is { } w ? $"{100 * w:F1}%" : "n/a";
            return new BenchResult("gan-train", $"cfg auto {resolution}px, batch {batch}, 1 ch, ADA bgc, sec/kimg = {secPerKimg:F1} " +
                $"(per phase: {phases}); final snapshot overhead {overhead}; load {Load()}", device.type.ToString().ToLowerInvariant(),
                images, secPerKimg * images / 1000, 1000 / secPerKimg, PeakMb(device));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    public static BenchResult BenchGenerate(Device device, int? batch, int? steps, int resolution, TextWriter log)
    {
        int b = batch ?? (device.type == DeviceType.CUDA ? 64 : 8), n = DefaultSteps(device, steps);
        var cfg = NetworkPresets.Create("auto", resolution, 1);
        using var g = new Generator(cfg.G);
        g.to(device);
        log.WriteLine($"bench: generate, cfg auto {resolution}px 1 channel, batch {b}, {n} timed batches on {device.type}");
        Run(g, device, Enumerable.Range(0, b).Select(i => (long)i).ToList(), b);     // warm-up
        var seeds = Enumerable.Range(b, b * n).Select(i => (long)i).ToList();
        var clock = Stopwatch.StartNew();
        int images = Run(g, device, seeds, b);
        var seconds = clock.Elapsed.TotalSeconds;
        return new BenchResult("generate", $"cfg auto {resolution}px, 1 ch, batch {b}, uint8 out", device.type.ToString().ToLowerInvariant(), images, seconds, images / seconds, PeakMb(device));
    }

    private static int Run(Generator g, Device device, List<long> seeds, int batch)
    {
        int count = 0;
        foreach (var result in BatchSynthesizer.Generate(g, device, seeds, null, 1.0, NoiseMode.Const, batch))
            using (result) count += result.Seeds.Count;   // images arrive on the CPU as uint8: the device work is done
        return count;
    }

    public static BenchResult BenchClassifierTrain(Device device, int batch, int? steps, TextWriter log)
    {
        int n = DefaultSteps(device, steps);
        using var model = ClassifierModels.Create(ClassifierArchitecture.DenseNet169, 1);
        model.to(device);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), 1e-4);
        using var x = rand([batch, 1, 224, 224], device: device);
        using var y = (rand([batch], device: device) > 0.5f).to(ScalarType.Float32);
        using var gen = new torch.Generator(0);
        log.WriteLine($"bench: classifier-train, DenseNet-169 at 224px, batch {batch}, {n} timed steps on {device.type}");
        Tensor Loss(Tensor logits, Tensor labels) => nn.functional.binary_cross_entropy_with_logits(logits, labels);
        using (NewDisposeScope()) ClassifierTrainer.Step(model, optimizer, x, y, gen, Loss).item<float>();   // warm-up
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
            using (NewDisposeScope())
            {
                var loss = ClassifierTrainer.Step(model, optimizer, x, y, gen, Loss);
                if (i == n - 1) loss.item<float>();   // one synchronisation at the end
            }
        var seconds = clock.Elapsed.TotalSeconds;
        return new BenchResult("classifier-train", $"DenseNet-169 224px, batch {batch}, fp32, augment+fwd+bwd+Adam", device.type.ToString().ToLowerInvariant(),
            batch * n, seconds, batch * n / seconds, PeakMb(device));
    }
}
