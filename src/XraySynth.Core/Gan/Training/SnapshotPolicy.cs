using XraySynth.Runtime;
using System.Diagnostics;
using TorchSharp;
using XraySynth.Gan.Networks;
using XraySynth.Imaging;
using XraySynth.Quality;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>
/// When and what a run snapshots. A snapshot is due every --snap ticks, at the end and on a stop request; then FD8
/// (an 8×8-pixel Fréchet distance of fixed G_ema images against the reals), a fakes grid of the fixed latents, the
/// snapshot folder (everything to continue exactly), pruning to --keep-snapshots, and --metrics. The FD8 sample and
/// the grid rows are sized so that this work takes at most <see cref="SnapshotBudget"/> of the training time since the
/// previous snapshot (unless a test fixes the sizes); when even FD8's floor of <see cref="MinFd8Samples"/> images does
/// not fit, that snapshot has no FD8 and its log says so.
/// </summary>
internal sealed class SnapshotPolicy : IDisposable
{
    /// <summary>Per-snapshot work may take this fraction of the training time since the previous snapshot.</summary>
    internal const double SnapshotBudget = 0.08;

    /// <summary>A snapshot's fakes grid has at least this many images (a partial first row when a row does not fit).</summary>
    internal const int MinGridImages = 4;

    /// <summary>FD8 never runs on fewer images (its 64-dimensional covariance needs them).</summary>
    internal const int MinFd8Samples = 128;

    private readonly GanTrainOptions _o;
    private readonly RunFolder _run;
    private readonly TrainingSet _data;
    private readonly Device _device;
    private readonly Action<string> _say;
    private readonly int _gw, _gh;
    private readonly int[] _gridIndices;
    private readonly torch.Generator _gridGen, _qualityGen;
    private readonly Tensor _gridZ, _qualityZ;
    private readonly Tensor? _gridC, _qualityC;
    private readonly GaussianFit _realFit;
    private readonly int _qualitySamples;
    private readonly bool _budgeted;
    private readonly bool _fractionalNames;

    /// <summary>Seconds per G_ema image, measured at every grid and FD8 (the snapshot budget's unit).</summary>
    private double _genSecPerImage = 1e-3;
    private double _trainSinceSnapshot;
    private double _lastSaveSec;
    private int _fd8Samples;
    private int _gridRows, _gridColumns;
    private double _fd8Sec;
    private string? _fd8Skipped;
    private long _overheadStart;

    /// <summary>The largest per-snapshot overhead of the session after its first tick, or null.</summary>
    public double? WorstOverhead { get; private set; }

    /// <summary>
    /// The fixed grid (the official layout of reals, grouped by label, and fixed latents for G_ema) and the FD8
    /// reference (the reals' 8×8 pixel statistics once, fixed latents); a new run writes reals.png and fakes_init.png.
    /// </summary>
    public SnapshotPolicy(GanTrainOptions o, GanTrainSetup setup, RunFolder run, TrainingSet data, Device device,
        Action<string> say, Generator gEma, bool newRun)
    {
        (_o, _run, _data, _device, _say) = (o, run, data, device, say);
        try
        {
            _fractionalNames = o.Tick < 1;
            (_gw, _gh) = o.GridSize ?? ImageGrid.OfficialSize(data.Resolution);
            _gridIndices = GridIndices(_gw, _gh, o.Seed);
            _gridGen = new torch.Generator((ulong)o.Seed);
            _gridZ = randn([_gw * _gh, setup.G.ZDim], generator: _gridGen).DetachFromDisposeScope();
            _gridC = data.LabelsOf(_gridIndices);
            if (newRun)
            {
                using (var reals = data.RawImages(_gridIndices))
                    ImageGrid.Save(run.File("reals.png"), reals, _gw, _gh);
                // On a CPU the whole grid of an untrained G_ema can cost more than the ticks before the first snapshot
                // (cfg auto at 64 px: 0.4 s per image, 1,024 images): there the first rows, at most 64 images.
                var initRows = device.type == DeviceType.CUDA ? _gh : Math.Clamp(64 / _gw, 1, _gh);
                SaveFakes(gEma, _gw, initRows, run.File("fakes_init.png"));
            }
            else
                SaveFakes(gEma, Math.Min(_gw, 8), 1, null);   // times G_ema for the snapshot budget

            _realFit = RealFit(o.Seed);
            _qualitySamples = o.QualitySamples ?? 1024;
            // Per-snapshot work (FD8, fakes grid, snapshot files) is sized to SnapshotBudget of the training time since
            // the previous snapshot, unless the sizes are fixed (tests); each tick's record says on how many images FD8 ran.
            _budgeted = o.QualitySamples is null && o.GridSize is null;
            _fd8Samples = _qualitySamples;
            _qualityGen = new torch.Generator((ulong)o.Seed + 1);
            _qualityZ = randn([_qualitySamples, setup.G.ZDim], generator: _qualityGen).DetachFromDisposeScope();
            _qualityC = data.LabelsOf(new Random(o.Seed + 1).GetItems(Enumerable.Range(0, data.Length).ToArray(), _qualitySamples));
        }
        catch
        {
            Dispose();   // what was created so far
            throw;
        }
    }

    /// <summary>Whether the tick that ends now snapshots: every --snap ticks, at the end, and on a stop request.</summary>
    public bool IsDue(long curTick, bool done, bool stopping) => done || stopping || curTick % _o.Snap == 0;

    /// <summary>
    /// Counts a tick's <paramref name="trainSeconds"/> and, when <paramref name="due"/>, measures FD8 on the images the
    /// budget allows (and sizes the grid); null on other ticks. Starts the snapshot's overhead clock.
    /// </summary>
    public (double? Fd8, int Samples) MeasureTick(Generator gEma, double trainSeconds, bool due)
    {
        _trainSinceSnapshot += trainSeconds;
        (_gridColumns, _gridRows) = (_gw, _gh);
        _fd8Skipped = null;
        if (due && _budgeted)
        {
            var size = Size(_trainSinceSnapshot, _lastSaveSec, _genSecPerImage, _qualitySamples, _gw, _gh);
            (_fd8Samples, _gridColumns, _gridRows) = (size.Fd8Samples ?? _fd8Samples, size.GridColumns, size.GridRows);
            if (size.Fd8Samples is null)
                _fd8Skipped = $"FD8 skipped: its {Math.Min(MinFd8Samples, _qualitySamples)}-image floor needs " +
                              $"~{Math.Min(MinFd8Samples, _qualitySamples) * _genSecPerImage:F1} s, over half of the " +
                              $"{100 * SnapshotBudget:F0}% budget ({size.Budget / 2:F1} s); --metrics measures quality at snapshots";
        }
        _overheadStart = Stopwatch.GetTimestamp();
        double? fd8 = due && _fd8Skipped is null ? Fd8(gEma, _fd8Samples) : null;
        _fd8Sec = Stopwatch.GetElapsedTime(_overheadStart).TotalSeconds;
        return (fd8, _fd8Samples);
    }

    /// <summary>
    /// The budgeted sizes of one snapshot: <see cref="SnapshotBudget"/> of the <paramref name="trainSeconds"/> since the
    /// previous snapshot, less its file writing, half for FD8 (in steps of 64 images, between the floor and
    /// <paramref name="qualitySamples"/>) and half for the fakes grid: whole rows of the official layout, or when not
    /// even one row fits, the first images of its first row (at least <see cref="MinGridImages"/>). When FD8's floor does
    /// not fit its half, FD8 is skipped (null) and the grid may use the whole budget.
    /// </summary>
    internal static (int? Fd8Samples, int GridColumns, int GridRows, double Budget) Size(double trainSeconds, double lastSaveSeconds,
        double secPerImage, int qualitySamples, int gridWidth, int gridHeight)
    {
        var budget = Math.Max(0, SnapshotBudget * trainSeconds - lastSaveSeconds);
        var affordable = budget / 2 / secPerImage;   // images; compared as doubles (no int overflow on fast devices)
        var floor = Math.Min(MinFd8Samples, qualitySamples);
        int? fd8 = affordable < floor ? null : (int)Math.Clamp(Math.Floor(affordable / 64) * 64, floor, qualitySamples);
        var gridImages = fd8 is null ? 2 * affordable : affordable;
        if (gridImages < gridWidth)
            return (fd8, (int)Math.Clamp(Math.Floor(gridImages), Math.Min(MinGridImages, gridWidth), gridWidth), 1, budget);
        return (fd8, gridWidth, (int)Math.Min(Math.Floor(gridImages / gridWidth), gridHeight), budget);
    }

    /// <summary>
    /// The fakes grid and the snapshot of the tick that just ended (never of a non-finite model), pruning, the overhead
    /// line and --metrics (not on a stop request: the user wants the process to end).
    /// </summary>
    public void Write(GanRunState s, Func<double> sessionSeconds, bool pastFirstTick, bool stopping, CancellationToken cancel)
    {
        s.ThrowIfWeightsNotFinite();
        SaveFakes(s.GEma, _gridColumns, _gridRows, _run.File($"fakes{TrainingSnapshot.Kimg(s.CurNimg, _fractionalNames)}.png"));
        var saveStart = Stopwatch.GetTimestamp();
        var dir = _run.File(TrainingSnapshot.Name(s.CurNimg, _fractionalNames));
        var info = new TrainingDataInfo(_data.ZipPath, _data.Count, _data.Resolution, _data.Channels, _data.CDim, _data.Mirror);
        TrainingSnapshot.Save(dir, s.G, s.D, s.GEma, s.GOpt, s.DOpt, s.Checkpoint(sessionSeconds()), info, _o);
        s.LastSnapshot = dir;
        foreach (var pruned in TrainingSnapshot.Prune(_run.Path, _o.KeepSnapshots))
            _say($"pruned {Path.GetFileName(pruned)} (--keep-snapshots {_o.KeepSnapshots})");
        _lastSaveSec = Stopwatch.GetElapsedTime(saveStart).TotalSeconds;
        var overhead = Stopwatch.GetElapsedTime(_overheadStart).TotalSeconds;
        var fraction = overhead / Math.Max(_trainSinceSnapshot, 1e-9);
        if (pastFirstTick) WorstOverhead = Math.Max(WorstOverhead ?? 0, fraction);
        var fd8Part = _fd8Skipped is null ? $"FD8 on {_fd8Samples} images {_fd8Sec:F1} s" : "FD8 skipped";
        _say($"snapshot {Path.GetFileName(dir)}; overhead {overhead:F1} s = {100 * fraction:F1}% of the {_trainSinceSnapshot:F1} s trained since the last " +
             $"({fd8Part}, fakes grid {_gridColumns}x{_gridRows}, files {_lastSaveSec:F1} s)");
        if (_fd8Skipped is not null) _say(_fd8Skipped);
        _trainSinceSnapshot = 0;
        if (_o.Metrics is not null && !stopping) SnapshotMetrics(dir, cancel);
    }

    /// <summary>--metrics: the snapshot's quality against the training zip, appended to the run's metric-*.jsonl. The
    /// training streams are reseeded at every tick, so this does not change the run.</summary>
    private void SnapshotMetrics(string snapshot, CancellationToken cancel)
    {
        var report = GanMetrics.Run(new MetricsOptions
        {
            Network = snapshot, Data = _data.ZipPath, Metrics = MetricsOptions.ParseMetrics(_o.Metrics!),
            Detector = _o.MetricsDetector, Count = _o.MetricsCount, Seed = _o.Seed, Device = _o.Device,
        }, null, cancel);
        foreach (var r in report.Results)
            _say($"metric {r.Metric}: {string.Join(", ", r.Results.Select(kv => $"{kv.Key} {kv.Value:G4}"))}");
    }

    /// <summary>The official grid: a random subset, or with labels one label per row in label order.</summary>
    private int[] GridIndices(int gw, int gh, int seed)
    {
        var rnd = new Random(seed);
        var total = gw * gh;
        if (_data.CDim == 0)
        {
            var all = Enumerable.Range(0, _data.Length).ToArray();
            rnd.Shuffle(all);
            return Enumerable.Range(0, total).Select(i => all[i % all.Length]).ToArray();
        }
        var groups = Enumerable.Range(0, _data.Length).GroupBy(i => _data.RawLabel(i) ?? 0)
            .OrderBy(grp => grp.Key).Select(grp => grp.ToArray()).ToList();
        foreach (var grp in groups)
            rnd.Shuffle(grp);
        var result = new List<int>(total);
        var offsets = new int[groups.Count];
        for (var y = 0; y < gh; y++)
        {
            var k = y % groups.Count;
            var grp = groups[k];
            for (var x = 0; x < gw; x++)
                result.Add(grp[(offsets[k] + x) % grp.Length]);
            offsets[k] = (offsets[k] + gw) % grp.Length;
        }
        return result.ToArray();
    }

    /// <summary>G_ema's images of the fixed latents of the grid's first <paramref name="rows"/> rows, or of the first
    /// <paramref name="columns"/> of its first row, as a grid (null path: only timed).</summary>
    private void SaveFakes(Generator gEma, int columns, int rows, string? path)
    {
        var clockStart = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int chunk = 64;
        var n = columns * rows;
        var images = new List<Tensor>();
        for (var start = 0; start < n; start += chunk)
        {
            var len = Math.Min(chunk, n - start);
            var z = _gridZ.narrow(0, start, len).to(_device);
            var c = _gridC?.narrow(0, start, len);
            images.Add(gEma.call(z, c, 1.0, null, NoiseMode.Const, false).cpu());
        }
        if (path is not null) ImageGrid.Save(path, cat(images, 0), columns, rows);
        _genSecPerImage = Stopwatch.GetElapsedTime(clockStart).TotalSeconds / n;
    }

    /// <summary>The reals' 8×8 pixel Gaussian, from up to 4096 images (mirrors included).</summary>
    private GaussianFit RealFit(int seed)
    {
        var indices = Enumerable.Range(0, _data.Length).ToArray();
        new Random(seed).Shuffle(indices);
        using var scope = NewDisposeScope();
        var features = indices.Take(4096).Chunk(512).Select(chunk => PixelFeatures.Extract(_data.RawImages(chunk))).ToList();
        return GaussianFit.Of(cat(features, 0));
    }

    /// <summary>FD8 of G_ema's images of the first <paramref name="n"/> fixed latents against the reals.</summary>
    private double Fd8(Generator gEma, int n)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = new List<Tensor>();
        const int chunk = 128;
        for (var start = 0; start < n; start += chunk)
        {
            var len = Math.Min(chunk, n - start);
            var img = gEma.call(_qualityZ.narrow(0, start, len).to(_device), _qualityC?.narrow(0, start, len), 1.0, null,
                NoiseMode.Const, false);
            features.Add(PixelFeatures.Extract(img.clamp(-1, 1)));
        }
        using var fakeFit = GaussianFit.Of(cat(features, 0));
        var fd = PixelFrechetDistance.Compute(fakeFit, _realFit);
        _genSecPerImage = clock.Elapsed.TotalSeconds / n;
        return fd;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Null-tolerant: also called when the constructor fails half-way.
        _qualityC?.Dispose();
        _qualityZ?.Dispose();
        _qualityGen?.Dispose();
        _realFit?.Dispose();
        _gridC?.Dispose();
        _gridZ?.Dispose();
        _gridGen?.Dispose();
    }
}
