using XraySynth.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace XraySynth.Classifier.Models;

/// <summary>
/// DenseNet-BC (Huang et al. 2017) with torchvision's exact module tree, so its state_dict keys are torchvision's
/// (<c>features.conv0.weight</c>, <c>features.denseblock1.denselayer1.norm1.weight</c>, ...,
/// <c>classifier.weight</c>) and ImageNet checkpoints load as they are (see <see cref="ImageNetWeights"/>).
/// No memory-efficient (checkpointed) variant: the outputs are the same, only the memory differs.
/// </summary>
public sealed class DenseNet : Module<Tensor, Tensor>
{
    // Field names are the state_dict keys.
    private readonly Sequential features;
    private readonly Linear classifier;

    /// <summary>Builds an untrained DenseNet initialised as torchvision does.</summary>
    /// <param name="growthRate">k: channels each dense layer adds (32 for 121/169/201).</param>
    /// <param name="blockConfig">Dense layers per block, e.g. (6, 12, 32, 32) for DenseNet-169.</param>
    /// <param name="numInitFeatures">Channels of the 7×7 stem convolution (64).</param>
    /// <param name="bnSize">Bottleneck width factor: each 1×1 conv outputs bnSize·k channels (4).</param>
    /// <param name="dropRate">Dropout after each dense layer, applied in training mode only (0 = none).</param>
    /// <param name="numClasses">Outputs of the final linear layer (1000 for ImageNet, 1 for MURA).</param>
    public DenseNet(
        int growthRate = 32,
        IReadOnlyList<int>? blockConfig = null,
        int numInitFeatures = 64,
        int bnSize = 4,
        double dropRate = 0,
        int numClasses = 1000)
        : base(nameof(DenseNet))
    {
        blockConfig ??= [6, 12, 24, 16];
        ArgumentOutOfRangeException.ThrowIfLessThan(growthRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numInitFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bnSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        if (blockConfig.Count == 0 || blockConfig.Any(n => n < 1))
            throw new ArgumentException("Every dense block needs at least one layer.", nameof(blockConfig));
        if (dropRate is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(dropRate), dropRate, "Dropout rate must be in [0, 1).");

        GrowthRate = growthRate;
        BlockConfig = [.. blockConfig];
        NumClasses = numClasses;

        // Stem: 7×7/2 conv, BN, ReLU, 3×3/2 max pool: spatial size / 4.
        var stages = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv0", Conv2d(3, numInitFeatures, kernel_size: 7, stride: 2, padding: 3, bias: false)),
            ("norm0", BatchNorm2d(numInitFeatures)),
            ("relu0", ReLU(inplace: true)),
            ("pool0", MaxPool2d(kernel_size: 3, stride: 2, padding: 1)),
        };

        // Dense blocks, each but the last followed by a transition that halves channels and spatial size.
        long numFeatures = numInitFeatures;
        for (var i = 0; i < blockConfig.Count; i++)
        {
            stages.Add(($"denseblock{i + 1}",
                new DenseBlock(blockConfig[i], numFeatures, bnSize, growthRate, dropRate)));
            numFeatures += blockConfig[i] * growthRate;
            if (i != blockConfig.Count - 1)
            {
                stages.Add(($"transition{i + 1}", Transition(numFeatures, numFeatures / 2)));
                numFeatures /= 2;
            }
        }
        stages.Add(("norm5", BatchNorm2d(numFeatures)));

        features = Sequential(stages);
        classifier = Linear(numFeatures, numClasses);
        NumFeatures = (int)numFeatures;
        RegisterComponents();

        // torchvision's init: Kaiming-normal convs (fan-in, gain √2), BN weight 1 / bias 0, linear bias 0
        // (linear weight keeps PyTorch's default Kaiming-uniform).
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight!);
                    break;
                case BatchNorm2d norm:
                    init.constant_(norm.weight!, 1);
                    init.constant_(norm.bias!, 0);
                    break;
                case Linear linear when linear.bias is not null:
                    init.constant_(linear.bias, 0);
                    break;
            }
        }
    }

    /// <summary>k, the growth rate.</summary>
    public int GrowthRate { get; }

    /// <summary>Dense layers per block.</summary>
    public IReadOnlyList<int> BlockConfig { get; }

    /// <summary>Size of the pooled feature vector fed to the classifier (1024/1664/1920 for 121/169/201).</summary>
    public int NumFeatures { get; }

    /// <summary>Outputs of the classifier.</summary>
    public int NumClasses { get; }

    /// <summary>DenseNet-121: k = 32, blocks (6, 12, 24, 16); 7,978,856 parameters with 1000 classes.</summary>
    public static DenseNet DenseNet121(int numClasses = 1000) => new(32, [6, 12, 24, 16], 64, numClasses: numClasses);

    /// <summary>DenseNet-169: k = 32, blocks (6, 12, 32, 32); 14,149,480 parameters with 1000 classes.</summary>
    public static DenseNet DenseNet169(int numClasses = 1000) => new(32, [6, 12, 32, 32], 64, numClasses: numClasses);

    /// <summary>DenseNet-201: k = 32, blocks (6, 12, 48, 32); 20,013,928 parameters with 1000 classes.</summary>
    public static DenseNet DenseNet201(int numClasses = 1000) => new(32, [6, 12, 48, 32], 64, numClasses: numClasses);

    /// <summary>Class logits: [N, 3, H, W] → [N, NumClasses].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return classifier.forward(PooledFeatures(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The penultimate features, as the classifier sees them: [N, 3, H, W] → [N, NumFeatures]
    /// (features → ReLU → global average pool → flatten). For use as a feature extractor.
    /// </summary>
    public Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        return PooledFeatures(x).MoveToOuterDisposeScope();
    }

    private Tensor PooledFeatures(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != 3)
            throw new ArgumentException($"Expected [N, 3, H, W], got [{string.Join(", ", x.shape)}].", nameof(x));
        var h = features.forward(x);                                 // [N, NumFeatures, H/32, W/32]
        h = functional.relu(h, inplace: true);
        h = functional.adaptive_avg_pool2d(h, 1);                   // [N, NumFeatures, 1, 1]
        return h.flatten(1);                                         // [N, NumFeatures]
    }

    // torchvision's _Transition: BN, ReLU, 1×1 conv (compression), 2×2 average pool.
    private static Sequential Transition(long inChannels, long outChannels) => Sequential(
        ("norm", BatchNorm2d(inChannels)),
        ("relu", ReLU(inplace: true)),
        ("conv", Conv2d(inChannels, outChannels, kernel_size: 1, stride: 1, bias: false)),
        ("pool", AvgPool2d(kernel_size: 2, stride: 2)));
}

/// <summary>
/// torchvision's _DenseBlock: layer i sees the concatenation of the block input and all earlier layers' outputs;
/// the block returns all of them concatenated ([N, C_in + L·k, H, W]).
/// </summary>
internal sealed class DenseBlock : Module<Tensor, Tensor>
{
    private readonly DenseLayer[] _layers;

    public DenseBlock(int numLayers, long numInputFeatures, int bnSize, int growthRate, double dropRate)
        : base(nameof(DenseBlock))
    {
        _layers = new DenseLayer[numLayers];
        for (var i = 0; i < numLayers; i++)
        {
            _layers[i] = new DenseLayer(numInputFeatures + i * growthRate, growthRate, bnSize, dropRate);
            register_module($"denselayer{i + 1}", _layers[i]);
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var all = new List<Tensor>(_layers.Length + 1) { x };
        foreach (var layer in _layers)
            all.Add(layer.forward(torch.cat(all, 1)));               // [N, k, H, W]
        return torch.cat(all, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision's _DenseLayer: BN-ReLU-conv1×1 (bnSize·k), BN-ReLU-conv3×3 (k), dropout.</summary>
internal sealed class DenseLayer : Module<Tensor, Tensor>
{
    // Field names are the state_dict keys.
    private readonly BatchNorm2d norm1;
    private readonly ReLU relu1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d norm2;
    private readonly ReLU relu2;
    private readonly Conv2d conv2;
    private readonly double _dropRate;

    public DenseLayer(long numInputFeatures, int growthRate, int bnSize, double dropRate)
        : base(nameof(DenseLayer))
    {
        norm1 = BatchNorm2d(numInputFeatures);
        relu1 = ReLU(inplace: true);
        conv1 = Conv2d(numInputFeatures, bnSize * growthRate, kernel_size: 1, stride: 1, bias: false);
        norm2 = BatchNorm2d(bnSize * growthRate);
        relu2 = ReLU(inplace: true);
        conv2 = Conv2d(bnSize * growthRate, growthRate, kernel_size: 3, stride: 1, padding: 1, bias: false);
        _dropRate = dropRate;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var bottleneck = conv1.forward(relu1.forward(norm1.forward(x)));           // [N, bnSize·k, H, W]
        var h = conv2.forward(relu2.forward(norm2.forward(bottleneck)));          // [N, k, H, W]
        if (_dropRate > 0)
            h = functional.dropout(h, _dropRate, training);
        return h.MoveToOuterDisposeScope();
    }
}
