using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>Everything <c>prepare</c> needs; saved (with the resolved dataset folder) as <c>prepare.json</c>.</summary>
public sealed record PrepareOptions
{
    /// <summary>Folder holding MURA-v1.1/ (or MURA-v1.1 itself).</summary>
    public required string MuraRoot { get; init; }
    /// <summary>Output folder; created, or resumed when it holds the same preparation.</summary>
    public required string OutDir { get; init; }
    /// <summary>Study types to keep (lower case: shoulder, elbow, ...).</summary>
    public IReadOnlyList<string> Parts { get; init; } = ["shoulder"];
    /// <summary>GAN image size in pixels: a power of two, 4..1024.</summary>
    public int Resolution { get; init; } = 256;
    /// <summary>GAN image channels: 1 grey, 3 RGB.</summary>
    public int Channels { get; init; } = 1;
    /// <summary>Square side of the classifier images (grey); the classifier resizes them to its input size.</summary>
    public int ClassifierSize { get; init; } = 320;
    public FitMode Fit { get; init; } = FitMode.Pad;
    public ContrastMode Contrast { get; init; } = ContrastMode.None;
    /// <summary>Fraction of MURA-train patients held out as the validation set.</summary>
    public double ValFraction { get; init; } = 0.1;
    /// <summary>Stop at the first bad image or CSV row instead of skipping it.</summary>
    public bool Strict { get; init; }
    /// <summary>Seed of the patient split.</summary>
    public int Seed { get; init; }
    /// <summary>Compression of the GAN zip's PNGs: the pixels are the same, only size and speed differ (none: as the
    /// official dataset_tool: the default, the fastest to write and to read; fast: about half the size; small: the smallest, the slowest).
    /// Not part of the dataset's identity: a rerun with another choice resumes.</summary>
    public PngCompression PngCompression { get; init; } = PngCompression.None;
    /// <summary>Worker threads (default: all cores).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    public void Validate()
    {
        if (Resolution < 4 || Resolution > 1024 || (Resolution & (Resolution - 1)) != 0)
            throw new DataException($"--resolution {Resolution}: must be a power of two from 4 to 1024 (StyleGAN2 needs 2^k).");
        if (Channels is not (1 or 3)) throw new DataException($"--channels {Channels}: must be 1 (grey) or 3 (RGB).");
        if (ClassifierSize is < 16 or > 2048) throw new DataException($"--classifier-size {ClassifierSize}: must be 16..2048.");
        if (ValFraction is < 0 or >= 1) throw new DataException($"--val-fraction {ValFraction}: must be at least 0 and below 1.");
        if (Parts.Count == 0) throw new DataException("--parts: name at least one study type.");
        if (Workers < 1) throw new DataException($"--workers {Workers}: must be at least 1.");
    }
}
