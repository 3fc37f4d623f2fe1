using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using XraySynth.Classifier.Data;
using XraySynth.Classifier.Evaluation;
using XraySynth.Classifier.Models;
using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Weights;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Classifier.Training;

/// <summary>One epoch's record in stats.jsonl.</summary>
public sealed record ClassifierEpochStats(int Epoch, double Lr, double TrainLoss, double ValLoss, double ValAuroc, double ValKappa,
    double ValAccuracy, double ValPredictedPositiveRate, double ImagesPerSecond, double Seconds, bool Best);

/// <summary>What a finished (or early-stopped) training run produced.</summary>
public sealed record ClassifierTrainResult(string RunDir, int Epochs, int BestEpoch, double BestScore, SelectionMetric SelectBy,
    int TrainImages, int SyntheticImages, int ValImages, IReadOnlyList<InputProblem> Skipped, bool StoppedEarly);

/// <summary>Trains the abnormality classifier: real training images (+ synthetic ones) → one logit; validation on
/// real images only; Adam, LR ÷10 on validation-loss plateau, early stopping, best checkpoint by validation AUROC
/// or kappa. Resumable at epoch boundaries (model, optimizer, schedule and RNG are all restored: the rest of the
/// run is identical to an uninterrupted one on the same device).</summary>
public sealed class ClassifierTrainer
{
    public const string LastFile = "last.json";
    private readonly ClassifierTrainOptions _o;
    private readonly RunFolder _run;
    private readonly IProgress<ProgressInfo>? _progress;
    private readonly Action<string> _say;

    private sealed record LastCheckpoint(int Epoch, double Lr, double BestScore, int BestEpoch, double PlateauBest, int PlateauBad,
        string Weights, string Optimizer);

    private ClassifierTrainer(ClassifierTrainOptions options, RunFolder run, IProgress<ProgressInfo>? progress, Action<string>? say)
    {
        _o = options;
        _run = run;
        _progress = progress;
        _say = line => { run.Log(line); say?.Invoke(line); };
    }

    /// <summary>Starts a new run, or continues one when <paramref name="resume"/> is "latest" or a run folder. The
    /// options and data are checked before a run folder is created; the run folder is locked while training
    /// (<see cref="RunFolderLock"/>). On resume, <paramref name="given"/> names the options the user typed (null: all
    /// of <paramref name="options"/> counts as given); any that contradicts the run is refused, as gan train does.
    /// A stop request ends the current epoch early (<see cref="RunInterruptedException"/>): finished epochs are kept.</summary>
    public static ClassifierTrainResult Run(ClassifierTrainOptions options, string? resume = null,
        IProgress<ProgressInfo>? progress = null, Action<string>? say = null, CancellationToken cancel = default,
        IReadOnlySet<string>? given = null)
    {
        options = options.WithFullPaths();
        RunFolder run;
        if (resume is null)
        {
            options = options with { Weights = ResolveWeights(options.Weights, options.Arch, progress, cancel) };
            Validate(options);
            CheckData(options);
            run = RunFolder.Create(options.OutRoot, "classifier", options.Desc ?? options.Arch);
            using var held = RunFolderLock.Acquire(run.Path, "classifier train");
            run.WriteOptions(options);
            return new ClassifierTrainer(options, run, progress, say).Train(cancel);
        }
        else
        {
            run = resume == "latest"
                ? RunFolder.Latest(options.OutRoot, "classifier") ?? throw new DataException($"--resume latest: no classifier run under {options.OutRoot}. fix: start one without --resume.")
                : new RunFolder(resume);
            if (!File.Exists(run.File(RunFolder.OptionsFile)))
                throw new DataException($"--resume {resume}: {run.File(RunFolder.OptionsFile)} not found. fix: pass a classifier run folder.");
            var saved = run.ReadOptions<ClassifierTrainOptions>();
            options = MergeForResume(saved, options, given);
            CheckData(options);
            using var held = RunFolderLock.Acquire(run.Path, "classifier train --resume");
            AtomicFile.RemoveTemporaries(run.Path);
            return new ClassifierTrainer(options, run, progress, say).Train(cancel);
        }
    }

    /// <summary>The saved options of a resumed run with what a resume may change (--epochs, --patience, --device: see
    /// <see cref="ClassifierTrainOptions.Declared"/>); any other option given with another value than the run has is refused.</summary>
    internal static ClassifierTrainOptions MergeForResume(ClassifierTrainOptions saved, ClassifierTrainOptions request, IReadOnlySet<string>? given)
    {
        var declared = ClassifierTrainOptions.Declared.All;
        var (merged, conflicts) = OptionDeclarations.MergeForResume(declared, saved, request, given);
        if (merged is not null) return merged;
        var mayChange = declared.Where(d => d.OnResume is OnResume.MayChange or OnResume.Current && d.Flag is not null).Select(d => d.Flag!).ToList();
        throw new DataException(
            $"--resume continues a run as it was started, but {string.Join("; ", conflicts)}. fix: drop these options (only " +
            $"{string.Join(", ", mayChange.Take(mayChange.Count - 1))} and {mayChange[^1]} may change on resume), or start a new run.");
    }

    /// <summary>The manifests and synthetic folders are readable and give both classes and a validation set: checked
    /// before any run folder is created or any image decoded.</summary>
    private static void CheckData(ClassifierTrainOptions o)
    {
        var trainCsv = Path.Combine(o.Data, "train.csv");
        var valCsv = Path.Combine(o.Data, "val.csv");
        if (!Directory.Exists(o.Data))
            throw new DataException($"--data {o.Data}: folder not found. fix: pass the folder written by 'xraysynth prepare'.");
        var real = ClassifierSamples.FromManifest(trainCsv);
        var val = ClassifierSamples.FromManifest(valCsv);
        if (val.Count == 0)
            throw new DataException($"{valCsv}: the validation set is empty. fix: prepare with --val-fraction above 0.");
        var synthetic = o.Synthetic.SelectMany(ClassifierSamples.FromGenerated).ToList();
        int positives = real.Count(s => s.Label == 1) + synthetic.Count(s => s.Label == 1);
        int negatives = real.Count + synthetic.Count - positives;
        if (positives == 0 || negatives == 0)
            throw new DataException($"the training set has no {(positives == 0 ? "abnormal" : "normal")} images (an empty class). fix: check {trainCsv} and the synthetic folders.");
    }

    /// <summary>
    /// The local file of <paramref name="weights"/>: <c>imagenet</c> means torchvision's checkpoint of
    /// <paramref name="arch"/>, a name of <see cref="WeightsRegistry"/> that checkpoint by name (both fetched and
    /// verified by <see cref="WeightsCache"/>); a path is returned as it is.
    /// </summary>
    public static string? ResolveWeights(string? weights, string arch, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (weights is null || File.Exists(weights)) return weights;
        if (weights.Trim().Equals(ImageNetName, StringComparison.OrdinalIgnoreCase))
        {
            var source = WeightsRegistry.ImageNet(arch)
                ?? throw new DataException($"--weights {ImageNetName}: torchvision publishes no ImageNet weights for '{arch}'. " +
                                           $"fix: use --arch {string.Join("|", WeightsRegistry.Names(WeightsKind.ImageNet))}, or leave --weights out.");
            return WeightsCache.FromEnvironment().Resolve(source, progress, cancel);
        }
        if (WeightsRegistry.Find(weights) is null) return weights;   // a missing file: Validate names it
        return WeightsCache.FromEnvironment().Resolve(weights, WeightsKind.ImageNet, progress, cancel);
    }

    /// <summary>
    /// Whether two <c>--weights</c> values name the same checkpoint: both none, the same file, or a name
    /// (<c>imagenet</c>, <c>densenet169</c>) and the file it resolves to, which a new run saves in its options.json in
    /// place of the name (torchvision's file name, e.g. <c>densenet169-b2777c0a.pth</c>; the architecture is compared
    /// on its own). So a resume that repeats the name the run started with (an experiment config does) is no conflict.
    /// </summary>
    public static bool SameWeights(string? a, string? b)
    {
        if (a is null || b is null) return a is null && b is null;
        bool aNamed = IsNamedWeights(a), bNamed = IsNamedWeights(b);
        if (aNamed == bNamed)
            return aNamed ? string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase) : Path.GetFullPath(a) == Path.GetFullPath(b);
        var (name, file) = aNamed ? (a.Trim(), Path.GetFileName(b)) : (b.Trim(), Path.GetFileName(a));
        return name.Equals(ImageNetName, StringComparison.OrdinalIgnoreCase)
            ? WeightsRegistry.All.Any(s => s.Kind == WeightsKind.ImageNet && s.FileName == file)
            : WeightsRegistry.Find(name)?.FileName == file;
    }

    /// <summary>The <c>--weights</c> value that means "torchvision's ImageNet checkpoint of the architecture".</summary>
    public const string ImageNetName = "imagenet";

    /// <summary>Whether a <c>--weights</c> value is a name (<c>imagenet</c>, <c>densenet169</c>, ...) rather than a file:
    /// no such file, no folder separator, and a name <see cref="ResolveWeights"/> knows.</summary>
    public static bool IsNamedWeights(string value) =>
        !File.Exists(value) && value.IndexOfAny(['/', '\\']) < 0
        && (value.Trim().Equals(ImageNetName, StringComparison.OrdinalIgnoreCase) || WeightsRegistry.Find(value) is { Kind: WeightsKind.ImageNet });

    /// <summary>Every declared option's rule (<see cref="ClassifierTrainOptions.Declared"/>), and the options that need others.</summary>
    private static void Validate(ClassifierTrainOptions o)
    {
        var problems = OptionDeclarations.Problems(ClassifierTrainOptions.Declared.All, o);
        if ((o.SyntheticCount is not null || o.SyntheticPerClass is not null) && o.Synthetic.Count == 0)
            problems.Add("--synthetic-count/--synthetic-per-class need --synthetic DIR");
        if (problems.Count > 0) throw new DataException(string.Join("; ", problems) + ".");
    }

    private ClassifierTrainResult Train(CancellationToken cancel)
    {
        var device = TorchRuntime.Select(_o.Device);
        _say($"classifier {_o.Arch} at {_o.Size}px on {TorchRuntime.Describe(device)}; run {_run.Path}");
        using var data = LoadData(cancel);

        // Networks and optimizer: from the last checkpoint, else from ImageNet weights (or random).
        random.manual_seed(_o.Seed);
        var arch = ClassifierModels.Parse(_o.Arch);
        using var model = ClassifierModels.Create(arch, 1);
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), _o.Lr, beta1: 0.9, beta2: 0.999);
        var schedule = StartSchedule(model, optimizer, arch);

        var tensorboard = torch.utils.tensorboard.SummaryWriter(_run.Path);
        bool stoppedEarly = false;
        int epoch;
        for (epoch = schedule.NextEpoch; epoch <= _o.Epochs; epoch++)
        {
            // Step: one epoch of training, then validation on real images.
            var clock = Stopwatch.StartNew();
            double trainLoss = TrainEpochOrStop(model, optimizer, data, device, epoch, cancel);
            double seconds = clock.Elapsed.TotalSeconds;
            var (valLoss, metrics) = Validate(model, data.Val, device, data.W0, data.W1);

            // Step: the best checkpoint, the epoch's record.
            bool best = schedule.Score(epoch, SelectionScores.Of(_o.SelectBy, valLoss, metrics.Auroc, metrics.Kappa));
            if (best) SaveBest(model, arch, epoch, valLoss, metrics);
            Record(tensorboard, new ClassifierEpochStats(epoch, schedule.Lr, trainLoss, valLoss, metrics.Auroc, metrics.Kappa, metrics.Accuracy,
                metrics.PredictedPositiveRate, data.Train.Count / seconds, seconds, best));

            // Step: LR ÷10 when the validation loss stops falling; the resumable checkpoint; early stopping.
            if (schedule.AfterValidationLoss(valLoss))
            {
                SetLr(optimizer, schedule.Lr);
                _say($"validation loss has not improved for {_o.PlateauPatience + 1} epochs: learning rate -> {schedule.Lr:G3}");
            }
            SaveLast(model, optimizer, schedule.Checkpoint(epoch));
            if (schedule.ShouldStop(epoch))
            {
                _say($"early stop: no better validation {EnumNames.Of(_o.SelectBy)} for {_o.Patience} epochs (best {SelectionScores.Display(_o.SelectBy, schedule.BestScore):F4} at epoch {schedule.BestEpoch})");
                stoppedEarly = true;
                break;
            }
        }
        return new ClassifierTrainResult(_run.Path, Math.Min(epoch, _o.Epochs), schedule.BestEpoch, schedule.BestScore, _o.SelectBy, data.Train.Count,
            data.SyntheticCount, data.Val.Count, data.Skipped, stoppedEarly);
    }

    /// <summary>The decoded training images (real + selected synthetic) and validation images (real only), and the
    /// loss's class weights.</summary>
    private sealed class TrainingData(ImageBank train, ImageBank val, int syntheticCount) : IDisposable
    {
        public ImageBank Train { get; } = train;
        public ImageBank Val { get; } = val;
        public int SyntheticCount { get; } = syntheticCount;
        public List<InputProblem> Skipped { get; } = [.. train.Skipped, .. val.Skipped];
        public int Positives { get; } = train.Samples.Count(s => s.Label == 1);
        public int Negatives => Train.Count - Positives;
        /// <summary>MURA paper's weights: each class weighted by the other class's share.</summary>
        public float W1 => (float)Negatives / Train.Count;
        public float W0 => (float)Positives / Train.Count;

        public void Dispose()
        {
            Train.Dispose();
            Val.Dispose();
        }
    }

    private TrainingData LoadData(CancellationToken cancel)
    {
        var real = ClassifierSamples.FromManifest(Path.Combine(_o.Data, "train.csv"));
        var synthetic = ClassifierSamples.Select(_o.Synthetic.SelectMany(ClassifierSamples.FromGenerated).ToList(), _o.SyntheticCount, _o.SyntheticPerClass, _o.Seed);
        var valSamples = ClassifierSamples.FromManifest(Path.Combine(_o.Data, "val.csv")); // not empty: CheckData
        var train = ImageBank.Load([.. real, .. synthetic], _o.Size, _o.Strict, "decode train", _progress, cancel);
        ImageBank val;
        try
        {
            val = ImageBank.Load(valSamples, _o.Size, _o.Strict, "decode val", _progress, cancel);
        }
        catch
        {
            train.Dispose();
            throw;
        }
        var data = new TrainingData(train, val, synthetic.Count);
        foreach (var s in data.Skipped) _say($"skipped {s.File}: {s.Problem}");
        if (data.Positives == 0 || data.Negatives == 0)
        {
            data.Dispose();
            throw new DataException($"the training set has no {(data.Positives == 0 ? "abnormal" : "normal")} images (an empty class). fix: check {_o.Data}/train.csv and the synthetic folders.");
        }
        _say($"train: {train.Count} images ({data.Negatives} normal, {data.Positives} abnormal; {synthetic.Count} synthetic); val: {val.Count} real images");
        return data;
    }

    /// <summary>Learning rate, best score and plateau counters across epochs: what last.json saves and a resume restores.</summary>
    private sealed class Schedule(ClassifierTrainOptions options)
    {
        private readonly ClassifierTrainOptions _o = options;
        public double Lr { get; private set; } = options.Lr;
        public double BestScore { get; private set; } = double.NegativeInfinity;
        public int BestEpoch { get; private set; }
        public double PlateauBest { get; private set; } = double.PositiveInfinity;
        public int PlateauBad { get; private set; }
        public int NextEpoch { get; private set; } = 1;

        public static Schedule Resumed(ClassifierTrainOptions o, LastCheckpoint last) => new(o)
        {
            Lr = last.Lr, BestScore = last.BestScore, BestEpoch = last.BestEpoch, PlateauBest = last.PlateauBest, PlateauBad = last.PlateauBad,
            NextEpoch = last.Epoch + 1,
        };

        /// <summary>Records an epoch's validation score; true when it is the best so far (or the first).</summary>
        public bool Score(int epoch, double score)
        {
            bool best = score > BestScore || BestEpoch == 0;
            if (best) (BestScore, BestEpoch) = (score, epoch);
            return best;
        }

        /// <summary>Records an epoch's validation loss; true when the learning rate was divided by 10.</summary>
        public bool AfterValidationLoss(double valLoss)
        {
            if (valLoss < PlateauBest - 1e-4)
            {
                (PlateauBest, PlateauBad) = (valLoss, 0);
                return false;
            }
            if (++PlateauBad <= _o.PlateauPatience || Lr / 10 < _o.Lr / 1000 * 0.999) return false;
            Lr /= 10;
            PlateauBad = 0;
            return true;
        }

        public bool ShouldStop(int epoch) => epoch - BestEpoch >= _o.Patience;

        public LastCheckpoint Checkpoint(int epoch) => new(epoch, Lr, BestScore, BestEpoch, PlateauBest, PlateauBad, "", "");
    }

    /// <summary>The schedule to start from: the last checkpoint's (its weights and optimizer state loaded), else a fresh
    /// one with ImageNet weights (or random initialisation) in <paramref name="model"/>.</summary>
    private Schedule StartSchedule(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ClassifierArchitecture arch)
    {
        var last = ResumeCheckpoint(model, optimizer);
        if (last is null)
        {
            _say(_o.Weights is not null
                ? $"weights: {ImageNetWeights.Load(model, _o.Weights, ClassifierModels.HeadName(arch))}"
                : "weights: NONE - random initialisation (pass --weights imagenet for torchvision's ImageNet weights; results will be much weaker)");
            return new Schedule(_o);
        }
        var schedule = Schedule.Resumed(_o, last);
        SetLr(optimizer, schedule.Lr);
        _run.RewriteStats(o => o["epoch"]?.GetValue<int>() <= last.Epoch);
        _say($"resumed after epoch {last.Epoch} (best {EnumNames.Of(_o.SelectBy)} {SelectionScores.Display(_o.SelectBy, schedule.BestScore):F4} at epoch {schedule.BestEpoch}, lr {schedule.Lr:G3})");
        return schedule;
    }

    /// <summary>One training epoch; a stop request ends it with <see cref="RunInterruptedException"/> (finished epochs are kept).</summary>
    private double TrainEpochOrStop(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, TrainingData data, Device device, int epoch,
        CancellationToken cancel)
    {
        try
        {
            cancel.ThrowIfCancellationRequested();
            return TrainEpoch(model, optimizer, data.Train, device, data.W0, data.W1, epoch, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            var kept = epoch - 1 >= 1 ? $"epochs up to {epoch - 1} are kept" : "no epoch was finished";
            _say($"stopped on request during epoch {epoch}; {kept}");
            throw new RunInterruptedException($"stopped during epoch {epoch}; {kept}", _run.Path);
        }
    }

    /// <summary>best.safetensors and model.json of the best epoch so far.</summary>
    private void SaveBest(nn.Module model, ClassifierArchitecture arch, int epoch, double valLoss, BinaryMetrics metrics)
    {
        SaveWeights(model, _run.File(ClassifierModelInfo.BestWeights));
        Json.WriteFile(_run.File(ClassifierModelInfo.FileName), new ClassifierModelInfo
        {
            Arch = ClassifierModels.Name(arch), Size = _o.Size, Epoch = epoch, ValAuroc = metrics.Auroc, ValKappa = metrics.Kappa, ValLoss = valLoss,
        });
    }

    /// <summary>An epoch in stats.jsonl, TensorBoard and the log.</summary>
    private void Record(SummaryWriter tensorboard, ClassifierEpochStats s)
    {
        _run.AppendStats(s);
        tensorboard.add_scalar("loss/train", (float)s.TrainLoss, s.Epoch);
        tensorboard.add_scalar("loss/val", (float)s.ValLoss, s.Epoch);
        tensorboard.add_scalar("val/auroc", (float)s.ValAuroc, s.Epoch);
        tensorboard.add_scalar("val/kappa", (float)s.ValKappa, s.Epoch);
        tensorboard.add_scalar("lr", (float)s.Lr, s.Epoch);
        _say($"epoch {s.Epoch}/{_o.Epochs}: train loss {s.TrainLoss:F4}, val loss {s.ValLoss:F4}, AUROC {s.ValAuroc:F4}, kappa {s.ValKappa:F4}, " +
             $"accuracy {s.ValAccuracy:F4}, predicted positive {s.ValPredictedPositiveRate:P0}, {s.ImagesPerSecond:F1} img/s{(s.Best ? " (best)" : "")}");
    }

    private double TrainEpoch(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageBank train, Device device, float w0, float w1,
        int epoch, CancellationToken cancel)
    {
        model.train();
        // Every epoch's randomness comes from (seed, epoch): a resumed run draws exactly what the uninterrupted one would.
        using var gen = new Generator((ulong)(_o.Seed * 100_003L + epoch));
        using var order = _o.Sampler == ClassifierSampler.Natural
            ? randperm(train.Count, generator: gen)
            : multinomial(where(train.Labels > 0.5f, 0.5f / Math.Max(1, train.Labels.sum().item<float>()), 0.5f / Math.Max(1, train.Count - train.Labels.sum().item<float>())),
                train.Count, replacement: true, generator: gen);
        using var lossSum = zeros(1, device: device);
        int n = train.Count, done = 0, steps = 0;
        // A last batch of one would break batch norm: fold it into the previous one.
        for (int start = 0; start < n; )
        {
            cancel.ThrowIfCancellationRequested();
            int size = Math.Min(_o.Batch, n - start);
            if (n - start - size == 1) size++;
            using (NewDisposeScope())
            {
                var (x, y) = train.Batch(order.narrow(0, start, size), device);
                var loss = Step(model, optimizer, x, y, gen, (logits, labels) => Loss(logits, labels, w0, w1));
                lossSum.add_(loss.detach() * size);
            }
            start += size;
            done += size;
            if (++steps % 4 == 0 || start >= n) _progress?.Report(new ProgressInfo($"epoch {epoch}/{_o.Epochs}", done, n));
        }
        return lossSum.item<float>() / n;
    }

    /// <summary>One optimisation step: augment, normalise, forward, loss, backward, Adam. x: float [B,1,S,S] in [0,1],
    /// y: [B]. Returns the loss (a device tensor: no synchronisation). Also what <c>bench classifier-train</c> times.</summary>
    public static Tensor Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor x, Tensor y, Generator augment,
        Func<Tensor, Tensor, Tensor> loss)
    {
        var input = ClassifierAugment.Normalize(ClassifierAugment.Augment(x, augment));
        var value = loss(model.call(input).view(-1), y);
        optimizer.zero_grad();
        value.backward();
        optimizer.step();
        return value;
    }

    private Tensor Loss(Tensor logits, Tensor y, float w0, float w1)
    {
        var weight = _o.Loss == ClassifierLoss.Bce ? null : y * w1 + (1 - y) * w0;
        if (_o.Loss != ClassifierLoss.Focal)
            return F.binary_cross_entropy_with_logits(logits, y, weight: weight);
        var ce = F.binary_cross_entropy_with_logits(logits, y, reduction: nn.Reduction.None);
        var p = logits.sigmoid();
        var pt = p * y + (1 - p) * (1 - y);
        return (weight! * (1 - pt).pow(2) * ce).mean();
    }

    /// <summary>Validation loss (same loss as training) and metrics at threshold 0.5 on real images.</summary>
    private (double Loss, BinaryMetrics Metrics) Validate(nn.Module<Tensor, Tensor> model, ImageBank val, Device device, float w0, float w1)
    {
        var probs = Predictor.Probabilities(model, val, device, _o.Batch, out var logits);
        using (logits)
        using (var y = val.Labels.to(device))
        {
            double loss = Loss(logits, y, w0, w1).item<float>();
            var labels = val.Samples.Select(s => s.Label).ToArray();
            return (loss, BinaryMetrics.Compute(labels, probs));
        }
    }

    private static void SetLr(optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    private static void SaveWeights(nn.Module model, string path)
    {
        var temp = AtomicFile.TempNameFor(path);
        model.save_safetensors(temp);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Epoch-numbered weights and optimizer state, then last.json pointing at them (written last, atomically):
    /// a crash at any point leaves the previous complete checkpoint in force.</summary>
    private void SaveLast(nn.Module model, optim.Optimizer optimizer, LastCheckpoint state)
    {
        var weights = $"last-{state.Epoch:D4}.safetensors";
        var optim = $"last-{state.Epoch:D4}.optimizer";
        SaveWeights(model, _run.File(weights));
        var temp = AtomicFile.TempNameFor(_run.File(optim));
        ((OptimizerHelper)optimizer).save_state_dict(temp);
        File.Move(temp, _run.File(optim), overwrite: true);
        var complete = state with { Weights = weights, Optimizer = optim };
        Json.WriteFile(_run.File($"last-{state.Epoch:D4}.json"), complete);
        Json.WriteFile(_run.File(LastFile), complete);
        // Keep this checkpoint and the one before it: a damaged newest one falls back to the previous.
        var keep = new[] { state.Epoch, state.Epoch - 1 }.Select(e => $"last-{e:D4}.").ToArray();
        foreach (var old in Directory.EnumerateFiles(_run.Path, "last-*.*"))
            if (!keep.Any(Path.GetFileName(old).StartsWith)) File.Delete(old);
    }

    /// <summary>Loads the newest checkpoint that is intact into <paramref name="model"/> and <paramref name="optimizer"/>:
    /// every tensor's key, shape and dtype is checked (<see cref="ImageNetWeights.Load"/>) before any is copied; a
    /// damaged one is reported and skipped, as a damaged GAN snapshot is. Null when the run has none.</summary>
    private LastCheckpoint? ResumeCheckpoint(nn.Module model, optim.Optimizer optimizer)
    {
        var candidates = new List<string>();
        if (File.Exists(_run.File(LastFile))) candidates.Add(_run.File(LastFile));
        candidates.AddRange(Directory.EnumerateFiles(_run.Path, "last-*.json").Order(StringComparer.Ordinal).Reverse());
        var tried = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in candidates)
        {
            string problem;
            try
            {
                var state = Json.Deserialize<LastCheckpoint>(File.ReadAllText(path))
                    ?? throw new InvalidDataException("empty file");
                if (!tried.Add(state.Weights)) continue;
                if (Path.GetFileName(state.Weights) != state.Weights || Path.GetFileName(state.Optimizer) != state.Optimizer)
                    throw new InvalidDataException("it names files outside the run folder");
                ImageNetWeights.Load(model, _run.File(state.Weights), headName: "");
                ((OptimizerHelper)optimizer).load_state_dict(_run.File(state.Optimizer));
                return state;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or CheckpointFormatException
                                          or CheckpointMismatchException or ArgumentException or InvalidOperationException
                                          or IndexOutOfRangeException or System.Runtime.InteropServices.ExternalException)
            {
                problem = e.Message.ReplaceLineEndings(" ");
            }
            _say($"warning: checkpoint {Path.GetFileName(path)} is damaged and was skipped ({problem}); trying the previous one");
        }
        if (candidates.Count > 0)
            throw new DataException($"{_run.Path}: no intact classifier checkpoint to resume from (every last-*.json was damaged, see log.txt). fix: start a new run without --resume.");
        return null;
    }
}
