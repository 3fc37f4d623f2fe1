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

    /// <summary>The saved options of a resumed run with what a resume may change (--epochs, --patience, --device);
    /// any other option given with another value than the run has is refused.</summary>
    internal static ClassifierTrainOptions MergeForResume(ClassifierTrainOptions saved, ClassifierTrainOptions request, IReadOnlySet<string>? given)
    {
        var conflicts = new List<string>();
        void Check<T>(string flag, T given_, T was, Func<T, T, bool>? same = null)
        {
            if (given is not null && !given.Contains(flag)) return;
            if (!(same?.Invoke(given_, was) ?? EqualityComparer<T>.Default.Equals(given_, was)))
                conflicts.Add($"{flag} {Show(given_)} (the run has {Show(was)})");
        }
        static string Show(object? value) => value switch
        {
            null => "(none)",
            IEnumerable<string> list => list.Any() ? string.Join(" ", list) : "(none)",
            Enum e => e.ToString().ToLowerInvariant(),
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
        };
        Check("--data", Path.GetFullPath(request.Data), Path.GetFullPath(saved.Data));
        Check("--arch", request.Arch, saved.Arch);
        Check("--weights", request.Weights, saved.Weights);
        Check("--synthetic", request.Synthetic, saved.Synthetic, (a, b) => a.SequenceEqual(b));
        Check("--synthetic-count", request.SyntheticCount, saved.SyntheticCount);
        Check("--synthetic-per-class", request.SyntheticPerClass, saved.SyntheticPerClass);
        Check("--size", request.Size, saved.Size);
        Check("--batch", request.Batch, saved.Batch);
        Check("--lr", request.Lr, saved.Lr);
        Check("--loss", request.Loss, saved.Loss);
        Check("--sampler", request.Sampler, saved.Sampler);
        Check("--select-by", request.SelectBy, saved.SelectBy);
        Check("--seed", request.Seed, saved.Seed);
        Check("--strict", request.Strict, saved.Strict);
        if (given is not null && given.Contains("--epochs") && request.Epochs < 1)
            conflicts.Add($"--epochs {request.Epochs} (must be at least 1)");
        if (conflicts.Count > 0)
        {
            throw new DataException(
                $"--resume continues a run as it was started, but {string.Join("; ", conflicts)}. fix: drop these options (only " +
                "--epochs, --patience and --device may change on resume), or start a new run.");
        }
        bool Given(string flag) => given is null || given.Contains(flag);
        return saved with
        {
            Epochs = Given("--epochs") ? request.Epochs : saved.Epochs,
            Patience = Given("--patience") ? request.Patience : saved.Patience,
            Device = request.Device,
        };
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

    /// <summary>The <c>--weights</c> value that means "torchvision's ImageNet checkpoint of the architecture".</summary>
    public const string ImageNetName = "imagenet";

    /// <summary>Whether a <c>--weights</c> value is a name (<c>imagenet</c>, <c>densenet169</c>, ...) rather than a file:
    /// no such file, no folder separator, and a name <see cref="ResolveWeights"/> knows.</summary>
    public static bool IsNamedWeights(string value) =>
        !File.Exists(value) && value.IndexOfAny(['/', '\\']) < 0
        && (value.Trim().Equals(ImageNetName, StringComparison.OrdinalIgnoreCase) || WeightsRegistry.Find(value) is { Kind: WeightsKind.ImageNet });

    private static void Validate(ClassifierTrainOptions o)
    {
        try { ClassifierModels.Parse(o.Arch); }
        catch (ArgumentException e) { throw new DataException($"--arch: {e.Message}"); }
        if (o.Size is < 32 or > 1024) throw new DataException($"--size {o.Size}: must be 32..1024.");
        if (o.Epochs < 1 || o.Batch < 2) throw new DataException("--epochs must be at least 1 and --batch at least 2.");
        if (o.Lr <= 0) throw new DataException($"--lr {o.Lr}: must be positive.");
        if (o.Weights is not null && !File.Exists(o.Weights)) throw new DataException($"--weights {o.Weights}: file not found.");
        if ((o.SyntheticCount is not null || o.SyntheticPerClass is not null) && o.Synthetic.Count == 0)
            throw new DataException("--synthetic-count/--synthetic-per-class need --synthetic DIR.");
    }

    private ClassifierTrainResult Train(CancellationToken cancel)
    {
        var device = TorchRuntime.Select(_o.Device);
        _say($"classifier {_o.Arch} at {_o.Size}px on {TorchRuntime.Describe(device)}; run {_run.Path}");

        // Data: real training images + selected synthetic ones; validation real only.
        var real = ClassifierSamples.FromManifest(Path.Combine(_o.Data, "train.csv"));
        var synthetic = ClassifierSamples.Select(_o.Synthetic.SelectMany(ClassifierSamples.FromGenerated).ToList(), _o.SyntheticCount, _o.SyntheticPerClass, _o.Seed);
        var valSamples = ClassifierSamples.FromManifest(Path.Combine(_o.Data, "val.csv")); // not empty: CheckData
        using var train = ImageBank.Load([.. real, .. synthetic], _o.Size, _o.Strict, "decode train", _progress, cancel);
        using var val = ImageBank.Load(valSamples, _o.Size, _o.Strict, "decode val", _progress, cancel);
        var skipped = train.Skipped.Concat(val.Skipped).ToList();
        foreach (var s in skipped) _say($"skipped {s.File}: {s.Problem}");
        int positives = train.Samples.Count(s => s.Label == 1), negatives = train.Count - positives;
        if (positives == 0 || negatives == 0)
            throw new DataException($"the training set has no {(positives == 0 ? "abnormal" : "normal")} images (an empty class). fix: check {_o.Data}/train.csv and the synthetic folders.");
        _say($"train: {train.Count} images ({negatives} normal, {positives} abnormal; {synthetic.Count} synthetic); val: {val.Count} real images");
        // MURA paper's weights: each class weighted by the other class's share.
        float w1 = (float)negatives / train.Count, w0 = (float)positives / train.Count;

        random.manual_seed(_o.Seed);
        var arch = ClassifierModels.Parse(_o.Arch);
        using var model = ClassifierModels.Create(arch, 1);
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), _o.Lr, beta1: 0.9, beta2: 0.999);
        var last = ResumeCheckpoint(model, optimizer);
        if (last is null && _o.Weights is not null)
            _say($"weights: {ImageNetWeights.Load(model, _o.Weights, ClassifierModels.HeadName(arch))}");
        else if (last is null)
            _say("weights: NONE - random initialisation (pass --weights imagenet for torchvision's ImageNet weights; results will be much weaker)");
        double lr = _o.Lr, bestScore = double.NegativeInfinity, plateauBest = double.PositiveInfinity;
        int startEpoch = 1, bestEpoch = 0, plateauBad = 0;
        if (last is not null)
        {
            (lr, bestScore, bestEpoch, plateauBest, plateauBad, startEpoch) = (last.Lr, last.BestScore, last.BestEpoch, last.PlateauBest, last.PlateauBad, last.Epoch + 1);
            SetLr(optimizer, lr);
            _run.RewriteStats(o => o["epoch"]?.GetValue<int>() <= last.Epoch);
            _say($"resumed after epoch {last.Epoch} (best {_o.SelectBy} {bestScore:F4} at epoch {bestEpoch}, lr {lr:G3})");
        }
        var tensorboard = torch.utils.tensorboard.SummaryWriter(_run.Path);
        bool stoppedEarly = false;
        int epoch = startEpoch - 1;
        for (epoch = startEpoch; epoch <= _o.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double trainLoss;
            try
            {
                cancel.ThrowIfCancellationRequested();
                trainLoss = TrainEpoch(model, optimizer, train, device, w0, w1, epoch, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                var kept = epoch - 1 >= 1 ? $"epochs up to {epoch - 1} are kept" : "no epoch was finished";
                _say($"stopped on request during epoch {epoch}; {kept}");
                throw new RunInterruptedException($"stopped during epoch {epoch}; {kept}", _run.Path);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var (valLoss, metrics) = Validate(model, val, device, w0, w1);
            double score = _o.SelectBy == SelectionMetric.Auroc ? metrics.Auroc : metrics.Kappa;
            bool best = score > bestScore || bestEpoch == 0;
            if (best)
            {
                (bestScore, bestEpoch) = (score, epoch);
                SaveWeights(model, _run.File(ClassifierModelInfo.BestWeights));
                Json.WriteFile(_run.File(ClassifierModelInfo.FileName), new ClassifierModelInfo
                {
                    Arch = ClassifierModels.Name(arch), Size = _o.Size, Epoch = epoch, ValAuroc = metrics.Auroc, ValKappa = metrics.Kappa, ValLoss = valLoss,
                });
            }
            var stats = new ClassifierEpochStats(epoch, lr, trainLoss, valLoss, metrics.Auroc, metrics.Kappa, metrics.Accuracy,
                metrics.PredictedPositiveRate, train.Count / seconds, seconds, best);
            _run.AppendStats(stats);
            tensorboard.add_scalar("loss/train", (float)trainLoss, epoch);
            tensorboard.add_scalar("loss/val", (float)valLoss, epoch);
            tensorboard.add_scalar("val/auroc", (float)metrics.Auroc, epoch);
            tensorboard.add_scalar("val/kappa", (float)metrics.Kappa, epoch);
            tensorboard.add_scalar("lr", (float)lr, epoch);
            _say($"epoch {epoch}/{_o.Epochs}: train loss {trainLoss:F4}, val loss {valLoss:F4}, AUROC {metrics.Auroc:F4}, kappa {metrics.Kappa:F4}, " +
                 $"accuracy {metrics.Accuracy:F4}, predicted positive {metrics.PredictedPositiveRate:P0}, {train.Count / seconds:F1} img/s{(best ? " (best)" : "")}");

            // LR ÷10 when the validation loss stops falling.
            if (valLoss < plateauBest - 1e-4) (plateauBest, plateauBad) = (valLoss, 0);
            else if (++plateauBad > _o.PlateauPatience && lr / 10 >= _o.Lr / 1000 * 0.999)
            {
                lr /= 10;
                SetLr(optimizer, lr);
                plateauBad = 0;
                _say($"validation loss has not improved for {_o.PlateauPatience + 1} epochs: learning rate -> {lr:G3}");
            }
            SaveLast(model, optimizer, new LastCheckpoint(epoch, lr, bestScore, bestEpoch, plateauBest, plateauBad, "", ""));
            if (epoch - bestEpoch >= _o.Patience)
            {
                _say($"early stop: no better validation {_o.SelectBy} for {_o.Patience} epochs (best {bestScore:F4} at epoch {bestEpoch})");
                stoppedEarly = true;
                break;
            }
        }
        return new ClassifierTrainResult(_run.Path, Math.Min(epoch, _o.Epochs), bestEpoch, bestScore, _o.SelectBy, train.Count, synthetic.Count,
            val.Count, skipped, stoppedEarly);
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
