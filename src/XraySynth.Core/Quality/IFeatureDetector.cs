using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Quality;

/// <summary>
/// A feature detector for the quality metrics: images in, one feature vector per image out. Every detector takes
/// uint8 images [N, C, H, W] (C = 1 grey or 3 RGB, 0..255, any size, any device) exactly as the official metrics feed
/// them, does its own channel handling and resizing, and returns float32 features [N, D] on the CPU.
/// </summary>
public interface IFeatureDetector : IDisposable
{
    /// <summary>Short name for metric names and cache files: <c>inception-2015-12-05</c>, <c>builtin</c>,
    /// <c>classifier-00003-densenet169</c>.</summary>
    string Name { get; }

    /// <summary>What the features depend on, for cache keys: the SHA-256 of the weights file(s), or a version tag for a
    /// detector defined in code. Two detectors with the same identity give the same features.</summary>
    string Identity { get; }

    /// <summary>True only for NVIDIA's Inception TorchScript file (<c>inception-2015-12-05.pt</c>): its Fréchet
    /// distance is the FID that papers report. Every other detector gives numbers comparable only among themselves.</summary>
    bool ComparableToPublished { get; }

    /// <summary>uint8 [N, C, H, W] → float32 [N, D] on the CPU. Runs without gradients, in evaluation mode.</summary>
    Tensor Extract(Tensor images);
}
