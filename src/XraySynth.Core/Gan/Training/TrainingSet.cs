using SkiaSharp;
using TorchSharp;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// The GAN training images: a StyleGAN2-ADA dataset zip decoded once into one uint8 tensor [N, C, H, W] (on the
/// training device when it fits), optionally one class only (<c>--class</c>), with one-hot labels for a conditional
/// model and x-flip mirroring (indices N..2N−1 are the mirrored images).
/// </summary>
public sealed class TrainingSet : IDisposable
{
    /// <summary>Largest image tensor kept on a CUDA device (larger sets stay in host memory, batches are copied).</summary>
    public const long DeviceBytesLimit = 8L << 30;

    private readonly int[]? _labels;

    /// <summary>The zip read.</summary>
    public string ZipPath { get; }

    /// <summary>Names of the images used, in index order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Side of the square images.</summary>
    public int Resolution { get; }

    /// <summary>1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Label dimensionality of the model: the number of classes when conditional, else 0.</summary>
    public int CDim { get; }

    /// <summary>Whether indices Count..2·Count−1 are x-flipped copies.</summary>
    public bool Mirror { get; }

    /// <summary>uint8 [N, C, H, W] (device or host memory).</summary>
    public Tensor Images { get; }

    /// <summary>What the dataset's labels hold that the official loader tolerates (one line each), for the run's log.</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>One-hot labels [N, c_dim] on the training device, or null when unconditional.</summary>
    public Tensor? Labels { get; }

    /// <summary>Number of distinct images.</summary>
    public int Count => Names.Count;

    /// <summary>Number of indices (twice the images when mirrored).</summary>
    public int Length => Mirror ? 2 * Count : Count;

    /// <summary>The raw class label of image <paramref name="index"/> (mirrored indices included), or null.</summary>
    public int? RawLabel(int index) => _labels?[index % Count];

    private readonly Device _device;

    private TrainingSet(string zipPath, List<string> names, int resolution, int channels, int cDim, bool mirror,
        Tensor images, Tensor? labels, int[]? rawLabels, Device device)
    {
        ZipPath = zipPath;
        Names = names;
        Resolution = resolution;
        Channels = channels;
        CDim = cDim;
        Mirror = mirror;
        Images = images;
        Labels = labels;
        _labels = rawLabels;
        _device = device;
    }

    /// <summary>
    /// Reads and checks the zip: every image square, a power of two, one size and one channel count; labels present
    /// when <paramref name="cond"/> or <paramref name="label"/> need them. Throws <see cref="DataException"/> naming the
    /// first offending file and the fix, before any training work.
    /// </summary>
    public static TrainingSet Load(string zipPath, bool cond, LabelFilter? label, bool mirror, Device device,
        IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (!File.Exists(zipPath))
            throw new DataException($"--data {zipPath}: file not found. fix: pass the zip written by 'xraysynth prepare'.");
        using var zip = new DatasetZipReader(zipPath);
        var (names, rawLabels, cDim, warnings) = SelectImages(zip, zipPath, cond, label);

        // Read sequentially (the zip is not thread-safe), decode in parallel.
        var encoded = new byte[names.Count][];
        for (var i = 0; i < names.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            encoded[i] = zip.ReadEntry(names[i]);
        }
        var (res, channels) = CheckHeaders(encoded, names, zipPath);
        var pixels = Decode(encoded, names, res, channels, zipPath, progress, cancel);

        var storage = device.type == DeviceType.CPU || pixels.LongLength <= DeviceBytesLimit ? device : CPU;
        var images = tensor(pixels, [names.Count, channels, res, res]).to(storage).DetachFromDisposeScope();
        Tensor? onehot = null;
        if (cond)
        {
            onehot = nn.functional.one_hot(tensor(rawLabels!.Select(l => (long)l).ToArray()), cDim)
                .to(ScalarType.Float32).to(device).DetachFromDisposeScope();
        }
        return new TrainingSet(zipPath, names, res, channels, cDim, mirror, images, onehot, rawLabels, device) { Warnings = warnings };
    }

    /// <summary>The images to train on (one class with <paramref name="label"/>), their raw labels when labels are
    /// used, the model's c_dim, and what the labels hold that the official loader tolerates.</summary>
    private static (List<string> Names, int[]? RawLabels, int CDim, List<string> Warnings) SelectImages(
        DatasetZipReader zip, string zipPath, bool cond, LabelFilter? label)
    {
        var names = zip.ImageNames.ToList();
        if (names.Count == 0)
            throw new DataException($"{zipPath}: the zip holds no images. fix: rerun 'xraysynth prepare'.");
        var warnings = new List<string>();
        if (!cond && label is null)
            return (names, null, 0, warnings);
        var flag = cond ? "--cond" : "--class";
        if (zip.Labels is not { } labels)
        {
            throw new DataException($"{flag} needs class labels, but {zipPath} has no labels in dataset.json. " +
                "fix: prepare the dataset with labels, or train without " + flag + ".");
        }
        if (labels.Unlabelled.Count > 0)
            throw new DataException($"{zipPath}: dataset.json has no label for {labels.Unlabelled.Count} image(s) (first: {labels.Unlabelled[0]}). " +
                                    "fix: rerun 'xraysynth prepare', or train without --cond/--class.");
        warnings.AddRange(labels.Warnings);
        if (label is { } keep)
        {
            var wanted = keep == LabelFilter.Positive ? 1 : 0;
            names = names.Where(n => labels.ByName[n] == wanted).ToList();
            if (names.Count == 0)
                throw new DataException($"--class {keep.ToString().ToLowerInvariant()}: {zipPath} has no image with label {wanted}.");
        }
        return (names, names.Select(n => labels.ByName[n]).ToArray(), cond ? labels.ClassCount : 0, warnings);
    }

    /// <summary>Checks every header first (cheap), so the message names the first offending file; the side and channels.</summary>
    private static (int Resolution, int Channels) CheckHeaders(byte[][] encoded, List<string> names, string zipPath)
    {
        var first = Probe(encoded[0], names[0], zipPath);
        CheckSize(first, names[0], zipPath);
        var res = first.Width;
        var channels = first.Channels;
        for (var i = 1; i < names.Count; i++)
        {
            var info = Probe(encoded[i], names[i], zipPath);
            if (info.Width != res || info.Height != res)
            {
                CheckSize(info, names[i], zipPath);
                throw new DataException($"{zipPath}: {names[i]} is {info.Width}x{info.Height} but {names[0]} is {res}x{res}: " +
                    "all images must have one size. fix: rerun 'xraysynth prepare' with one --resolution.");
            }
            if (info.Channels != channels)
            {
                throw new DataException($"{zipPath}: mixed channels: {names[0]} is {Describe(channels)} but {names[i]} is " +
                    $"{Describe(info.Channels)}. fix: rerun 'xraysynth prepare' with one --channels value.");
            }
        }
        return (res, channels);
    }

    /// <summary>Every image decoded in parallel into one CHW uint8 buffer [N, C, H, W].</summary>
    private static byte[] Decode(byte[][] encoded, List<string> names, int res, int channels, string zipPath,
        IProgress<ProgressInfo>? progress, CancellationToken cancel)
    {
        var plane = channels * res * res;
        if ((long)names.Count * plane > Array.MaxLength)
        {
            throw new DataException($"{zipPath}: {names.Count} images of {res}x{res}x{channels} exceed one in-memory buffer " +
                $"({Array.MaxLength} bytes). fix: train on fewer images or a lower --resolution.");
        }
        var pixels = new byte[names.Count * plane];
        long done = 0;
        try
        {
            Parallel.For(0, names.Count, new ParallelOptions { CancellationToken = cancel }, i =>
            {
                var image = ImageCodec.Decode(encoded[i], $"{zipPath}:{names[i]}", channels);
                // HWC → CHW.
                var dst = pixels.AsSpan(i * plane, plane);
                var src = image.Pixels;
                for (var c = 0; c < channels; c++)
                    for (var p = 0; p < res * res; p++)
                        dst[c * res * res + p] = src[p * channels + c];
                var n = Interlocked.Increment(ref done);
                if (n % 256 == 0 || n == names.Count)
                    progress?.Report(new ProgressInfo("decode", n, names.Count));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return pixels;
    }

    /// <summary>Real images [B, C, H, W] in [−1, 1] on the training device for dataset indices (mirrored included).</summary>
    public Tensor Reals(IReadOnlyList<int> indices)
    {
        using var scope = NewDisposeScope();
        var raw = indices.Select(i => (long)(i % Count)).ToArray();
        var idx = tensor(raw, device: Images.device);
        var x = Images.index_select(0, idx).to(_device).to(ScalarType.Float32) / 127.5 - 1; // [BCHW]
        if (Mirror && indices.Any(i => i >= Count))
        {
            var flip = tensor(indices.Select(i => i >= Count).ToArray(), device: _device).reshape(-1, 1, 1, 1);
            x = where(flip, x.flip(3), x);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Labels [B, c_dim] of dataset indices on the training device, or null when unconditional.</summary>
    public Tensor? LabelsOf(IReadOnlyList<int> indices)
    {
        if (Labels is null)
            return null;
        using var scope = NewDisposeScope();
        var idx = tensor(indices.Select(i => (long)(i % Count)).ToArray(), device: _device);
        return Labels.index_select(0, idx).MoveToOuterDisposeScope();
    }

    /// <summary>uint8 images [B, C, H, W] on the CPU (for grids), mirroring applied.</summary>
    public Tensor RawImages(IReadOnlyList<int> indices)
    {
        using var scope = NewDisposeScope();
        var x = Images.index_select(0, tensor(indices.Select(i => (long)(i % Count)).ToArray(), device: Images.device)).cpu();
        var flip = tensor(indices.Select(i => i >= Count).ToArray()).reshape(-1, 1, 1, 1);
        return where(flip, x.flip(3), x).MoveToOuterDisposeScope();
    }

    private static string Describe(int channels) => channels == 1 ? "grey (1 channel)" : "RGB (3 channels)";

    private static void CheckSize(ImageInfo info, string name, string zipPath)
    {
        var (w, h) = (info.Width, info.Height);
        if (w != h)
        {
            throw new DataException($"{zipPath}: {name} is {w}x{h}, not square: StyleGAN2-ADA needs square images whose side " +
                "is a power of two. fix: rerun 'xraysynth prepare' (it pads or crops to a square 2^k).");
        }
        if (w < 4 || (w & (w - 1)) != 0)
        {
            throw new DataException($"{zipPath}: {name} is {w}x{h}: the side must be a power of two (4, 8, ..., 256, 512). " +
                "fix: rerun 'xraysynth prepare' with --resolution 2^k.");
        }
    }

    private readonly record struct ImageInfo(int Width, int Height, int Channels);

    /// <summary>Size and channel count from the header (grey sources are one channel; colour, palette and alpha three).</summary>
    private static ImageInfo Probe(byte[] encoded, string name, string zipPath)
    {
        using var stream = new SKMemoryStream(encoded);
        using var codec = SKCodec.Create(stream);
        if (codec is null)
            throw new DataException($"{zipPath}: {name} is not a readable image. fix: rerun 'xraysynth prepare'.");
        var info = codec.Info;
        return new ImageInfo(info.Width, info.Height, info.ColorType == SKColorType.Gray8 ? 1 : 3);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        Labels?.Dispose();
    }
}
