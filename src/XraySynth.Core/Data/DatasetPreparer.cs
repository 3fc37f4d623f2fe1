using System.Diagnostics;
using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>The <c>prepare</c> stage: MURA → a GAN training zip (training split only), classifier images and
/// manifests (train/val/test, split by patient), and a report. Resumable: a rerun with the same settings keeps the
/// classifier images already written; a folder prepared with other settings is refused.</summary>
public static class DatasetPreparer
{
    public const string SettingsFile = "prepare.json";
    public const string ReportFile = "prepare-report.json";
    private const string Format = "xraysynth-prepared/1";

    /// <summary>What makes two preparations the same dataset (saved as prepare.json).</summary>
    private sealed record Settings(string Format, string DatasetDir, IReadOnlyList<string> Parts, int Resolution, int Channels,
        int ClassifierSize, FitMode Fit, ContrastMode Contrast, double ValFraction, int Seed);

    public static string GanZipName(int resolution, int channels) => channels == 1 ? $"gan-{resolution}.zip" : $"gan-{resolution}-rgb.zip";

    public static PrepareReport Run(PrepareOptions options, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var outDir = Path.GetFullPath(options.OutDir);
        var catalog = LoadCatalog(options, outDir);

        var valPatients = PatientSplit.ValidationPatients(catalog.Images.Where(i => i.Split == MuraSplit.Train), options.ValFraction, options.Seed);
        var items = catalog.Images.Select(i => (Image: i, Split: PatientSplit.SplitOf(i, valPatients)))
            .OrderBy(x => x.Split).ThenBy(x => x.Image.RelativePath, StringComparer.Ordinal).ToList();
        var warnings = CheckClasses(items, options, catalog.DatasetDir);

        // One process per output folder; under its lock every temporary there is a killed run's, safe to remove.
        using var held = RunFolderLock.Acquire(OutputFolder.Ensure(outDir, "--out"), "prepare");
        ClaimOutputFolder(outDir, new Settings(Format, catalog.DatasetDir, options.Parts.Order(StringComparer.Ordinal).ToList(),
            options.Resolution, options.Channels, options.ClassifierSize, options.Fit, options.Contrast, options.ValFraction, options.Seed));
        AtomicFile.RemoveTemporaries(outDir);

        var zipName = GanZipName(options.Resolution, options.Channels);
        var written = WriteImages(items, options, outDir, zipName, catalog, progress, cancel);
        foreach (var (split, rows) in written.Manifests)
            Manifest.Write(Path.Combine(outDir, $"{split.ToString().ToLowerInvariant()}.csv"), rows);
        Csv.Write(Path.Combine(outDir, Path.ChangeExtension(zipName, null) + "-sources.csv"), ["entry", "source", "patient", "label"], written.GanSources);

        var elapsed = clock.Elapsed.TotalSeconds;
        var ganRows = written.Manifests[DataSplit.Train];
        var report = new PrepareReport
        {
            DatasetDir = catalog.DatasetDir,
            CatalogSource = catalog.Source,
            Options = options with { OutDir = outDir, MuraRoot = Path.GetFullPath(options.MuraRoot) },
            Counts = Count(written.Manifests),
            GanZip = zipName,
            GanImages = new LabelCounts(ganRows.Count(r => r.Label == 0), ganRows.Count(r => r.Label == 1)),
            Skipped = written.Skipped,
            Warnings = warnings,
            ImagesPerSecond = items.Count / Math.Max(elapsed, 1e-9),
            ElapsedSeconds = elapsed,
            Resumed = written.Resumed,
        };
        Json.WriteFile(Path.Combine(outDir, ReportFile), report);
        return report;
    }

    /// <summary>The catalog of the requested parts, refused when the output folder lies inside the dataset, when it is
    /// empty, or (--strict) when any row had a problem.</summary>
    private static MuraCatalog LoadCatalog(PrepareOptions options, string outDir)
    {
        var catalog = MuraCatalog.Load(options.MuraRoot, options.Parts);
        if ((outDir + "/").StartsWith(catalog.DatasetDir + "/", StringComparison.Ordinal))
            throw new DataException($"--out {options.OutDir} lies inside the MURA folder {catalog.DatasetDir}. fix: choose an output folder outside it.");
        if (options.Strict && catalog.Problems.Count > 0)
            throw new DataException(StrictMessage(catalog.Problems));
        if (catalog.Images.Count == 0)
            throw new DataException($"{catalog.DatasetDir}: no images for {string.Join(", ", options.Parts)}" +
                (catalog.Problems.Count > 0 ? $" ({catalog.Problems.Count} rows skipped, first: {catalog.Problems[0].File}: {catalog.Problems[0].Problem})" : "") +
                ". fix: check --parts and that the dataset holds XR_<PART> folders.");
        return catalog;
    }

    /// <summary>What <see cref="WriteImages"/> wrote: the manifest rows per split, the GAN zip's sources, the images
    /// skipped (the catalog's problems first) and how many were already there from a killed run.</summary>
    private sealed record WrittenImages(Dictionary<DataSplit, List<ManifestRow>> Manifests, List<object?[]> GanSources,
        List<InputProblem> Skipped, int Resumed);

    /// <summary>Every image preprocessed in parallel (classifier image files, and for training images the GAN zip's
    /// PNGs, added in order), in chunks that bound memory and report progress.</summary>
    private static WrittenImages WriteImages(List<(MuraImage Image, DataSplit Split)> items, PrepareOptions options, string outDir,
        string zipName, MuraCatalog catalog, IProgress<ProgressInfo>? progress, CancellationToken cancel)
    {
        var ganSettings = new PreprocessSettings(options.Resolution, options.Channels, options.Fit, options.Contrast);
        var clsSettings = new PreprocessSettings(options.ClassifierSize, 1, options.Fit, options.Contrast);
        var written = new WrittenImages(new() { [DataSplit.Train] = [], [DataSplit.Val] = [], [DataSplit.Test] = [] }, [],
            [.. catalog.Problems], 0);
        int resumed = 0, done = 0;
        using var zip = new DatasetZipWriter(Path.Combine(outDir, zipName));
        // Chunks keep memory bounded (encoded GAN PNGs wait for the in-order zip writer) and give progress.
        int chunk = Math.Max(64, 32 * options.Workers);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancel };
        for (int start = 0; start < items.Count; start += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, items.Count - start);
            var results = new ItemResult[n];
            Parallel.For(0, n, parallel, k =>
            {
                var (image, split) = items[start + k];
                results[k] = Process(image, split, outDir, ganSettings, clsSettings, options.Channels, options.PngCompression);
            });
            for (int k = 0; k < n; k++)
            {
                var (image, split) = items[start + k];
                var r = results[k];
                if (r.Problem is not null)
                {
                    if (options.Strict) throw new DataException(StrictMessage([r.Problem]));
                    written.Skipped.Add(r.Problem);
                    continue;
                }
                if (r.Resumed) resumed++;
                written.Manifests[split].Add(new ManifestRow(r.ClassifierPath!, image.Patient, image.Study, image.Part, image.Label));
                if (r.GanPng is not null)
                    written.GanSources.Add([zip.Add(r.GanPng, image.Label), image.RelativePath, image.Patient, image.Label]);
            }
            done += n;
            progress?.Report(new ProgressInfo("prepare", done, items.Count));
        }
        cancel.ThrowIfCancellationRequested();
        if (zip.Count == 0)
            throw new DataException($"{catalog.DatasetDir}: every training image was skipped ({written.Skipped.Count} problems, first: {written.Skipped[^1].File}: {written.Skipped[^1].Problem}).");
        zip.Complete();
        return written with { Resumed = resumed };
    }

    private sealed record ItemResult(string? ClassifierPath, byte[]? GanPng, bool Resumed, InputProblem? Problem);

    private static ItemResult Process(MuraImage image, DataSplit split, string outDir, PreprocessSettings gan, PreprocessSettings cls, int channels,
        PngCompression compression)
    {
        var rel = $"images/{split.ToString().ToLowerInvariant()}/{image.RelativePath[(image.RelativePath.IndexOf('/') + 1)..]}";
        rel = Path.ChangeExtension(rel, ".png");
        var clsPath = Path.Combine(outDir, rel);
        bool needGan = split == DataSplit.Train;
        bool haveCls = File.Exists(clsPath);
        if (haveCls && !needGan) return new ItemResult(rel, null, true, null);
        RasterImage source;
        try
        {
            source = ImageCodec.Decode(image.FullPath, needGan ? channels : 1);
        }
        catch (ImageDecodeException e)
        {
            return new ItemResult(null, null, false, new InputProblem(image.FullPath, e.Reason));
        }
        if (!haveCls)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(clsPath)!);
            ImageCodec.WritePng(clsPath, Preprocessing.Apply(source, cls));
        }
        var ganPng = needGan ? ImageCodec.EncodePng(Preprocessing.Apply(source, gan), compression) : null;
        return new ItemResult(rel, ganPng, haveCls, null);
    }

    /// <summary>Training and test sets need both classes; a validation set without one only warns.</summary>
    private static List<string> CheckClasses(List<(MuraImage Image, DataSplit Split)> items, PrepareOptions o, string datasetDir)
    {
        var warnings = new List<string>();
        foreach (var split in new[] { DataSplit.Train, DataSplit.Test, DataSplit.Val })
        {
            if (split == DataSplit.Val && o.ValFraction == 0) continue;
            foreach (var label in new[] { 0, 1 })
            {
                if (items.Any(x => x.Split == split && x.Image.Label == label)) continue;
                var what = $"no {(label == 1 ? "positive (abnormal)" : "negative (normal)")} images in the {split.ToString().ToLowerInvariant()} split for {string.Join(", ", o.Parts)} in {datasetDir}";
                if (split == DataSplit.Val) warnings.Add(what + "; validation metrics will be one-sided (raise --val-fraction)");
                else throw new DataException($"{what}: an empty class. fix: check the dataset and --parts (MURA {(split == DataSplit.Test ? "valid/" : "train/")} must hold both classes).");
            }
        }
        return warnings;
    }

    /// <summary>Makes <paramref name="outDir"/> ours: new or empty, or prepared before with the same settings.</summary>
    private static void ClaimOutputFolder(string outDir, Settings settings)
    {
        var settingsPath = Path.Combine(outDir, SettingsFile);
        var json = Json.Serialize(settings);
        if (File.Exists(settingsPath))
        {
            var existing = File.ReadAllText(settingsPath).Trim();
            if (existing != json.Trim())
            {
                var old = Json.Deserialize<Settings>(existing);
                var diff = old is null ? "unreadable settings" : Difference(old, settings);
                throw new DataException($"{outDir} already holds a different prepared dataset ({diff}). fix: choose a new --out, or delete the folder to prepare it again.");
            }
            return;
        }
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(e => Path.GetFileName(e) != RunFolderLock.FileName))
            throw new DataException($"{outDir} is not empty and holds no prepared dataset ({SettingsFile} missing). fix: choose a new or empty --out.");
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(settingsPath, json + "\n");
    }

    private static string Difference(Settings a, Settings b)
    {
        var diffs = new List<string>();
        void Check(string name, object x, object y) { if (!Equals(x.ToString(), y.ToString())) diffs.Add($"{name} {x} there, {y} now"); }
        Check("source", a.DatasetDir, b.DatasetDir);
        Check("parts", string.Join(",", a.Parts), string.Join(",", b.Parts));
        Check("resolution", a.Resolution, b.Resolution);
        Check("channels", a.Channels, b.Channels);
        Check("classifier size", a.ClassifierSize, b.ClassifierSize);
        Check("fit", a.Fit, b.Fit);
        Check("contrast", a.Contrast, b.Contrast);
        Check("val fraction", a.ValFraction, b.ValFraction);
        Check("seed", a.Seed, b.Seed);
        return diffs.Count > 0 ? string.Join("; ", diffs) : $"format {a.Format}";
    }

    private static List<SplitPartCounts> Count(Dictionary<DataSplit, List<ManifestRow>> manifests) =>
        manifests.SelectMany(kv => kv.Value.GroupBy(r => r.Part).Select(g => new SplitPartCounts(
                kv.Key.ToString().ToLowerInvariant(), g.Key,
                new LabelCounts(g.Count(r => r.Label == 0), g.Count(r => r.Label == 1)),
                new LabelCounts(g.Where(r => r.Label == 0).Select(r => r.Study).Distinct().Count(),
                                g.Where(r => r.Label == 1).Select(r => r.Study).Distinct().Count()),
                g.Select(r => r.Patient).Distinct().Count())))
            .OrderBy(c => c.Split).ThenBy(c => c.Part).ToList();

    private static string StrictMessage(IReadOnlyList<InputProblem> problems) =>
        $"{problems[0].File}: {problems[0].Problem}" + (problems.Count > 1 ? $" (and {problems.Count - 1} more problems)" : "") +
        ". --strict stops at bad input. fix: repair or remove the file, or run without --strict to skip it (skipped files are listed in prepare-report.json).";
}
