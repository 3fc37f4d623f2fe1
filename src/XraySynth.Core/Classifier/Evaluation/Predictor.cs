using XraySynth.Runtime;
using TorchSharp;
using XraySynth.Classifier.Data;
using XraySynth.Classifier.Models;
using static TorchSharp.torch;

namespace XraySynth.Classifier.Evaluation;

/// <summary>Runs a classifier over an image bank in evaluation mode (no augmentation).</summary>
public static class Predictor
{
    /// <summary>Abnormality probabilities per image, in bank order; <paramref name="logits"/> [N] on the device.</summary>
    public static double[] Probabilities(nn.Module<Tensor, Tensor> model, ImageBank bank, Device device, int batch, out Tensor logits)
    {
        model.eval();
        var parts = new List<Tensor>();
        using (no_grad())
        {
            for (int start = 0; start < bank.Count; start += batch)
            {
                int size = Math.Min(batch, bank.Count - start);
                using var scope = NewDisposeScope();
                using var idx = arange(start, start + size, dtype: ScalarType.Int64);
                var (x, _) = bank.Batch(idx, device);
                parts.Add(model.call(ImageNetInput.Normalize(x)).view(-1).MoveToOuterDisposeScope());
            }
        }
        logits = parts.Count == 0 ? zeros(0, device: device) : cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        using var probs = logits.sigmoid().to(ScalarType.Float64).cpu();
        return probs.data<double>().ToArray();
    }
}
