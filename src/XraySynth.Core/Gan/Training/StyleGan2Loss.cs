using XraySynth.Runtime;
using TorchSharp;
using XraySynth.Gan.Augment;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Training;

/// <summary>A training phase: main losses or lazy regularisation, of G or of D (official phase names).</summary>
public enum LossPhase
{
    /// <summary>G: non-saturating logistic loss on generated images.</summary>
    Gmain,
    /// <summary>G: path-length regularisation on half the batch.</summary>
    Greg,
    /// <summary>D: logistic loss on generated and real images.</summary>
    Dmain,
    /// <summary>D: R1 on the real images, through the augmentation.</summary>
    Dreg,
}

/// <summary>
/// The StyleGAN2 loss (official training/loss.py StyleGAN2Loss): non-saturating logistic G and D losses, R1 on the
/// un-augmented reals (its gradient flows back through ADA), path-length regularisation on half the batch with its
/// running mean, style mixing. <see cref="Accumulate"/> back-propagates one phase's loss (scaled by the phase's
/// interval) into the parameters that require gradients; the caller chooses them and steps the optimizer.
/// </summary>
public sealed class StyleGan2Loss : IDisposable
{
    private readonly Generator _g;
    private readonly Discriminator _d;
    private readonly AugmentPipe? _augment;
    private readonly TrainingRng _rng;
    private readonly TrainingStatistics _stats;
    private readonly Tensor _plMean; // [] running mean of the path lengths
    private Tensor _stepLoss; // [] sum of every loss of the current step (non-finite if any was)

    /// <summary>R1 weight (gamma); 0 = no R1.</summary>
    public double R1Gamma { get; }

    /// <summary>Probability of style mixing per minibatch.</summary>
    public double StyleMixingProb { get; }

    /// <summary>Weight of the path-length penalty; 0 = none.</summary>
    public double PlWeight { get; }

    /// <summary>Path-length regularisation runs on batch / this.</summary>
    public int PlBatchShrink { get; } = 2;

    /// <summary>Decay of the running mean of path lengths.</summary>
    public double PlDecay { get; } = 0.01;

    /// <summary>The current augmentation probability (read before every D call).</summary>
    public Func<double> AugmentP { get; init; } = () => 0;

    /// <summary>Called with the real logits of every D pass (ADA's statistics).</summary>
    public Action<Tensor>? OnRealLogits { get; init; }

    /// <summary>Test hook: the next G main loss is multiplied by NaN.</summary>
    internal bool PoisonNextGLoss { get; set; }

    /// <param name="g">The generator being trained.</param>
    /// <param name="d">The discriminator being trained.</param>
    /// <param name="augment">The ADA pipeline applied to every D input; null = none.</param>
    /// <param name="rng">Source of latents, noise and augmentation draws.</param>
    /// <param name="stats">Where losses and scores are reported.</param>
    /// <param name="r1Gamma">R1 weight.</param>
    /// <param name="styleMixingProb">Style-mixing probability.</param>
    /// <param name="plWeight">Path-length weight.</param>
    /// <param name="device">The training device.</param>
    public StyleGan2Loss(Generator g, Discriminator d, AugmentPipe? augment, TrainingRng rng, TrainingStatistics stats,
        double r1Gamma, double styleMixingProb, double plWeight, Device device)
    {
        _g = g;
        _d = d;
        _augment = augment;
        _rng = rng;
        _stats = stats;
        R1Gamma = r1Gamma;
        StyleMixingProb = styleMixingProb;
        PlWeight = plWeight;
        _plMean = zeros([], device: device).DetachFromDisposeScope();
        _stepLoss = zeros([], device: device).DetachFromDisposeScope();
    }

    /// <summary>The running mean of path lengths (snapshotted for exact resume).</summary>
    public Tensor PlMean => _plMean;

    /// <summary>The sum of every loss since the last <see cref="TakeStepLoss"/>: non-finite if any loss was.</summary>
    public Tensor TakeStepLoss()
    {
        var loss = _stepLoss;
        _stepLoss = zeros_like(loss).DetachFromDisposeScope();
        return loss;
    }

    /// <summary>
    /// G's mapping (updating w_avg) with style mixing, then synthesis with fresh noise: (img [N, C, H, W], ws).
    /// </summary>
    public (Tensor Img, Tensor Ws) RunG(Tensor z, Tensor? c)
    {
        using var scope = NewDisposeScope();
        var ws = _g.Mapping.call(z, c, 1.0, null, true); // [N, num_ws, w_dim]
        var numWs = _g.NumWs;
        if (StyleMixingProb > 0)
        {
            var cutoff = _rng.Host.Next(1, numWs);
            if (_rng.Host.NextDouble() >= StyleMixingProb)
                cutoff = numWs;
            if (cutoff < numWs)
            {
                var z2 = randn(z.shape, device: z.device, generator: _rng.Device);
                var ws2 = _g.Mapping.call(z2, c, 1.0, null, false);
                ws = cat([ws.narrow(1, 0, cutoff), ws2.narrow(1, cutoff, numWs - cutoff)], 1);
            }
        }
        var n = z.shape[0];
        var noise = _g.Synthesis.NoiseResolutions
            .Select(r => randn([n, 1, r, r], device: z.device, generator: _rng.Device)).ToArray();
        var img = _g.Synthesis.call(ws, new SynthesisOptions { Noise = noise });
        return (img.MoveToOuterDisposeScope(), ws.MoveToOuterDisposeScope());
    }

    /// <summary>D on augmented images: logits [N, 1].</summary>
    public Tensor RunD(Tensor img, Tensor? c)
    {
        using var scope = NewDisposeScope();
        var x = _augment is null ? img : _augment.Apply(img, AugmentP(), _rng.Device);
        return _d.call(x, c).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One phase on one minibatch: reals [N, C, H, W] in [−1, 1] with labels, latents z [N, z_dim] with labels for the
    /// generated images; the loss is scaled by <paramref name="gain"/> (the phase's interval) and back-propagated.
    /// </summary>
    public void Accumulate(LossPhase phase, Tensor realImg, Tensor? realC, Tensor genZ, Tensor? genC, double gain)
    {
        using var scope = NewDisposeScope();
        switch (phase)
        {
            case LossPhase.Gmain:
            {
                // Maximise D's logits for generated images.
                var (genImg, _) = RunG(genZ, genC);
                var genLogits = RunD(genImg, genC);
                _stats.Report("Loss/scores/fake", genLogits);
                _stats.Report("Loss/signs/fake", genLogits.sign());
                var loss = F.softplus(-genLogits); // −log sigmoid(D(G(z)))
                if (PoisonNextGLoss)
                {
                    loss = loss * double.NaN;
                    PoisonNextGLoss = false;
                }
                _stats.Report("Loss/G/loss", loss);
                AddStepLoss(loss);
                loss.mean().mul(gain).backward();
                break;
            }
            case LossPhase.Greg when PlWeight != 0:
            {
                // Path length: ‖J_wᵀ y‖ for image-space noise y should stay at its running mean.
                var batch = Math.Max(1, genZ.shape[0] / PlBatchShrink);
                var (genImg, genWs) = RunG(genZ.narrow(0, 0, batch), genC?.narrow(0, 0, batch));
                var imgShape = genImg.shape;
                var plNoise = randn(imgShape, device: genImg.device, generator: _rng.Device)
                    / Math.Sqrt(imgShape[2] * imgShape[3]);
                var plGrads = autograd.grad([(genImg * plNoise).sum()], [genWs], retain_graph: true, create_graph: true)[0];
                var plLengths = plGrads.square().sum(2).mean([1]).sqrt(); // [N]
                var plMean = _plMean.lerp(plLengths.mean(), PlDecay);
                using (no_grad())
                    _plMean.copy_(plMean.detach());
                var plPenalty = (plLengths - plMean).square();
                _stats.Report("Loss/pl_penalty", plPenalty);
                var loss = plPenalty * PlWeight;
                _stats.Report("Loss/G/reg", loss);
                AddStepLoss(loss);
                // The zero term keeps every synthesis parameter in the graph.
                (genImg[.., 0, 0, 0] * 0 + loss).mean().mul(gain).backward();
                break;
            }
            case LossPhase.Dmain:
            {
                // Minimise D's logits for generated images.
                var (genImg, _) = RunG(genZ, genC);
                var genLogits = RunD(genImg, genC);
                _stats.Report("Loss/scores/fake", genLogits);
                _stats.Report("Loss/signs/fake", genLogits.sign());
                var lossGen = F.softplus(genLogits); // −log(1 − sigmoid(D(G(z))))
                AddStepLoss(lossGen);
                lossGen.mean().mul(gain).backward();

                // Maximise D's logits for real images.
                var realLogits = RunReal(realImg, realC);
                var lossReal = F.softplus(-realLogits); // −log sigmoid(D(x))
                _stats.Report("Loss/D/loss", lossGen.detach() + lossReal);
                AddStepLoss(lossReal);
                (realLogits * 0 + lossReal).mean().mul(gain).backward();
                break;
            }
            case LossPhase.Dreg when R1Gamma != 0:
            {
                // R1: the gradient of D(aug(x)) with respect to the un-augmented reals x.
                var realTmp = realImg.detach().requires_grad_(true);
                var realLogits = RunReal(realTmp, realC);
                var r1Grads = autograd.grad([realLogits.sum()], [realTmp], retain_graph: true, create_graph: true)[0];
                var r1Penalty = r1Grads.square().sum([1, 2, 3]); // [N]
                var loss = r1Penalty * (R1Gamma / 2);
                _stats.Report("Loss/r1_penalty", r1Penalty);
                _stats.Report("Loss/D/reg", loss);
                AddStepLoss(loss);
                (realLogits * 0 + loss.unsqueeze(1)).mean().mul(gain).backward();
                break;
            }
        }
    }

    private Tensor RunReal(Tensor realImg, Tensor? realC)
    {
        var realLogits = RunD(realImg, realC);
        _stats.Report("Loss/scores/real", realLogits);
        _stats.Report("Loss/signs/real", realLogits.sign());
        OnRealLogits?.Invoke(realLogits);
        return realLogits;
    }

    private void AddStepLoss(Tensor loss)
    {
        using var noGrad = no_grad();
        _stepLoss.add_(loss.detach().sum());
    }

    /// <summary>Restores the running mean of path lengths.</summary>
    public void SetPlMean(float value)
    {
        using var noGrad = no_grad();
        _plMean.fill_(value);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _plMean.Dispose();
        _stepLoss.Dispose();
    }
}
