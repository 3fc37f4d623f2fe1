using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Classifier.Models;

/// <summary>What every classifier of XraySynth takes as input: grey images repeated to 3 channels with ImageNet's
/// mean/std (as torchvision's ImageNet weights expect). Training, evaluation and the classifier feature detector use it.</summary>
public static class ImageNetInput
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    /// <summary>float [N,1,H,W] in [0,1] → [N,3,H,W] with ImageNet mean/std (grey repeated to 3 channels).</summary>
    public static Tensor Normalize(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(Mean, [1, 3, 1, 1]).to(x.dtype, x.device);
        var std = tensor(Std, [1, 3, 1, 1]).to(x.dtype, x.device);
        return ((x.expand(-1, 3, -1, -1) - mean) / std).MoveToOuterDisposeScope();
    }
}
