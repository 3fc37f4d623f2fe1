using TorchSharp;
using XraySynth.Classifier.Models;
using static TorchSharp.torch;

namespace XraySynth.Tests.Classifier;

public class DenseNetTests
{
    internal static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());

    // Tiny config: stem 8 ch → block1 (1 layer) 12 → transition 6 → block2 (2 layers) 14 features.
    internal static DenseNet Tiny(int numClasses) =>
        new(growthRate: 4, blockConfig: [1, 2], numInitFeatures: 8, numClasses: numClasses);

    [Fact]
    public void DenseNet169_OneOutput_Has12486145Parameters()
    {
        using var model = DenseNet.DenseNet169(numClasses: 1);
        Assert.Equal(12_486_145, ParameterCount(model));
        Assert.Equal(1664, model.NumFeatures);
    }

    [Fact]
    public void DenseNet169_1000Classes_Has14149480Parameters()
    {
        using var model = DenseNet.DenseNet169();
        Assert.Equal(14_149_480, ParameterCount(model));
    }

    [Fact]
    public void DenseNet121_1000Classes_Has7978856Parameters()
    {
        using var model = DenseNet.DenseNet121();
        Assert.Equal(7_978_856, ParameterCount(model));
        Assert.Equal(1024, model.NumFeatures);
    }

    [Fact]
    public void DenseNet201_1000Classes_Has20013928Parameters()
    {
        using var model = DenseNet.DenseNet201();
        Assert.Equal(20_013_928, ParameterCount(model));
        Assert.Equal(1920, model.NumFeatures);
    }

    [Fact]
    public void DenseNet169_StateDict_HasTorchvisionKeysAndShapes()
    {
        using var model = DenseNet.DenseNet169(numClasses: 1);
        var state = model.state_dict();

        // torchvision's densenet169().state_dict() has 1015 entries:
        //   conv0 1 + norm0 5 (weight, bias, running_mean, running_var, num_batches_tracked)
        //   + 82 dense layers (6 + 12 + 32 + 32) × (norm1 5 + conv1 1 + norm2 5 + conv2 1 = 12) = 984
        //   + 3 transitions × (norm 5 + conv 1) = 18 + norm5 5 + classifier 2  = 1015.
        Assert.Equal(1015, state.Count);

        void AssertShape(string key, params long[] shape) => Assert.Equal(shape, state[key].shape);
        AssertShape("features.conv0.weight", 64, 3, 7, 7);
        AssertShape("features.norm0.running_var", 64);
        AssertShape("features.denseblock1.denselayer1.norm1.weight", 64);
        AssertShape("features.denseblock1.denselayer1.conv1.weight", 128, 64, 1, 1);
        AssertShape("features.denseblock1.denselayer1.norm2.running_mean", 128);
        AssertShape("features.denseblock1.denselayer1.conv2.weight", 32, 128, 3, 3);
        AssertShape("features.denseblock1.denselayer6.norm1.bias", 64 + 5 * 32);
        AssertShape("features.transition1.norm.weight", 256);
        AssertShape("features.transition1.conv.weight", 128, 256, 1, 1);
        AssertShape("features.denseblock3.denselayer32.conv2.weight", 32, 128, 3, 3);
        AssertShape("features.transition3.conv.weight", 640, 1280, 1, 1);
        AssertShape("features.denseblock4.denselayer32.norm1.weight", 640 + 31 * 32);
        AssertShape("features.norm5.weight", 1664);
        AssertShape("classifier.weight", 1, 1664);
        AssertShape("classifier.bias", 1);
        Assert.Contains("features.denseblock4.denselayer32.norm2.num_batches_tracked", state.Keys);
        Assert.DoesNotContain("features.denseblock4.denselayer33.norm1.weight", state.Keys);
        Assert.DoesNotContain("features.transition4.norm.weight", state.Keys);
        Assert.DoesNotContain(state.Keys, k => k.Contains("relu") || k.Contains("pool"));
    }

    [Fact]
    public void DenseNet169_Forward64x64_GivesOneLogitPerImageAnd1664Features()
    {
        using var model = DenseNet.DenseNet169(numClasses: 1);
        model.eval();
        using var x = randn(2, 3, 64, 64);
        using var logits = model.forward(x);
        using var features = model.ForwardFeatures(x);

        Assert.Equal(new long[] { 2, 1 }, logits.shape);
        Assert.Equal(new long[] { 2, 1664 }, features.shape);
        // Features are post-ReLU averages, and the logit is exactly the classifier applied to them.
        Assert.True(features.min().item<float>() >= 0);
        var state = model.state_dict();
        using var expected = nn.functional.linear(features, state["classifier.weight"], state["classifier.bias"]);
        Assert.True(logits.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void DenseNet_RejectsInputThatIsNotNBy3ByHByW()
    {
        using var model = Tiny(numClasses: 1);
        using var grey = zeros(1, 1, 32, 32);
        Assert.Throws<ArgumentException>(() => model.forward(grey));
    }

    [Fact]
    public void DenseNet_Init_IsTorchvisions()
    {
        torch.manual_seed(1);
        using var model = DenseNet.DenseNet121();
        var state = model.state_dict();

        // Kaiming normal, fan-in, gain √2: std = √(2 / fan_in).
        AssertStd(state["features.conv0.weight"], Math.Sqrt(2.0 / (3 * 7 * 7)));
        AssertStd(state["features.denseblock3.denselayer24.conv2.weight"], Math.Sqrt(2.0 / (128 * 3 * 3)));
        AssertStd(state["features.transition2.conv.weight"], Math.Sqrt(2.0 / 512));
        Assert.True(state["features.norm5.weight"].eq(1).all().item<bool>());
        Assert.True(state["features.denseblock2.denselayer3.norm2.bias"].eq(0).all().item<bool>());
        Assert.True(state["classifier.bias"].eq(0).all().item<bool>());
        // The linear weight keeps PyTorch's default: uniform in ±1/√fan_in.
        Assert.True(state["classifier.weight"].abs().max().item<float>() <= 1 / Math.Sqrt(1024) + 1e-6);

        static void AssertStd(Tensor weight, double expected)
        {
            var std = weight.std().item<float>();
            Assert.InRange(std, 0.95 * expected, 1.05 * expected);
            Assert.InRange(weight.mean().item<float>(), -0.05 * expected, 0.05 * expected);
        }
    }

    [Fact]
    public void TinyDenseNet_Channels_FollowGrowthBottleneckAndCompression()
    {
        using var model = Tiny(numClasses: 3);
        var state = model.state_dict();

        Assert.Equal(14, model.NumFeatures);
        Assert.Equal(new long[] { 16, 8, 1, 1 }, state["features.denseblock1.denselayer1.conv1.weight"].shape);
        Assert.Equal(new long[] { 4, 16, 3, 3 }, state["features.denseblock1.denselayer1.conv2.weight"].shape);
        Assert.Equal(new long[] { 6, 12, 1, 1 }, state["features.transition1.conv.weight"].shape);
        Assert.Equal(new long[] { 16, 10, 1, 1 }, state["features.denseblock2.denselayer2.conv1.weight"].shape);
        Assert.Equal(new long[] { 3, 14 }, state["classifier.weight"].shape);
        // 1 + 5 + 3 layers × 12 + transition 6 + norm5 5 + classifier 2.
        Assert.Equal(55, state.Count);
    }

    [Fact]
    public void TinyDenseNet_Backward_ReachesEveryParameter()
    {
        // The in-place ReLUs (as in torchvision) must not break autograd.
        torch.manual_seed(9);
        using var model = Tiny(numClasses: 1);
        model.train();
        using var x = randn(4, 3, 32, 32);
        using var loss = model.forward(x).square().mean();
        loss.backward();

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has a zero gradient");
        }
    }

    [Fact]
    public void DenseNet_DropRate_DropsInTrainingOnly()
    {
        torch.manual_seed(2);
        using var model = new DenseNet(growthRate: 4, blockConfig: [1, 2], numInitFeatures: 8, dropRate: 0.5,
            numClasses: 2);
        using var x = randn(2, 3, 32, 32);

        model.train();
        using (var a = model.ForwardFeatures(x))
        using (var b = model.ForwardFeatures(x))
            Assert.False(a.allclose(b));

        model.eval();
        using (var a = model.ForwardFeatures(x))
        using (var b = model.ForwardFeatures(x))
            Assert.True(a.allclose(b));
    }
}
