using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.PyBridge;
using XraySynth.Classifier.Models;
using static TorchSharp.torch;

namespace XraySynth.Tests.Classifier;

public sealed class ImageNetWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xraysynth-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The inverse of torchvision's renaming: 'denselayer1.norm1.weight' → 'denselayer1.norm.1.weight'.
    private static readonly Regex CurrentDenseLayerKey =
        new(@"^(.*denselayer\d+\.(?:norm|relu|conv))([12]\.(?:weight|bias|running_mean|running_var))$");

    /// <summary>
    /// A state_dict as the released torchvision DenseNet checkpoints hold it: legacy layer names and no BN
    /// num_batches_tracked counters (they predate them). Tensors are detached copies.
    /// </summary>
    private static Dictionary<string, Tensor> LegacyState(nn.Module model) => model.state_dict()
        .Where(kv => !kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
        .ToDictionary(kv => CurrentDenseLayerKey.Replace(kv.Key, "$1.$2"), kv => kv.Value.detach().clone());

    private string WritePyTorch(string name, Dictionary<string, Tensor> state)
    {
        var path = Path.Combine(_dir, name);
        using var stream = File.Create(path);
        PyTorchPickler.PickleStateDict(stream, state);
        return path;
    }

    private static void AssertSameValues(nn.Module expected, nn.Module actual, Func<string, bool> which)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        foreach (var key in a.Keys.Where(which))
            Assert.True(a[key].allclose(b[key]), $"{key} differs");
    }

    [Theory]
    [InlineData("features.denseblock1.denselayer1.norm.1.weight", "features.denseblock1.denselayer1.norm1.weight")]
    [InlineData("features.denseblock4.denselayer32.norm.2.running_var",
        "features.denseblock4.denselayer32.norm2.running_var")]
    [InlineData("features.denseblock2.denselayer12.conv.1.weight", "features.denseblock2.denselayer12.conv1.weight")]
    [InlineData("features.denseblock3.denselayer5.conv.2.weight", "features.denseblock3.denselayer5.conv2.weight")]
    [InlineData("features.denseblock3.denselayer5.norm.1.bias", "features.denseblock3.denselayer5.norm1.bias")]
    [InlineData("features.transition1.norm.weight", "features.transition1.norm.weight")]
    [InlineData("features.norm0.running_mean", "features.norm0.running_mean")]
    [InlineData("features.denseblock1.denselayer1.norm1.weight", "features.denseblock1.denselayer1.norm1.weight")]
    [InlineData("features.denseblock1.denselayer1.norm.3.weight", "features.denseblock1.denselayer1.norm.3.weight")]
    [InlineData("classifier.weight", "classifier.weight")]
    public void TorchvisionKey_RenamesOnlyLegacyDenseLayerKeys(string fileKey, string expected) =>
        Assert.Equal(expected, ImageNetWeights.TorchvisionKey(fileKey));

    [Fact]
    public void Load_LegacyKeyPyTorchZip_CopiesEverythingButTheHead()
    {
        torch.manual_seed(3);
        using var source = DenseNetTests.Tiny(numClasses: 10);     // an "ImageNet" net with its own head
        using var target = DenseNetTests.Tiny(numClasses: 1);
        using var headBefore = target.state_dict()["classifier.weight"].clone();
        var file = WritePyTorch("tiny-legacy.pth", LegacyState(source));

        var result = ImageNetWeights.Load(target, file);

        // 3 dense layers × (norm.1 ×4, conv.1, norm.2 ×4, conv.2) legacy keys; 55 keys − 2 head − 9 BN counters.
        Assert.Equal("pytorch-zip", result.Format);
        Assert.Equal(30, result.RenamedLegacyKeys.Count);
        Assert.Contains("features.denseblock2.denselayer2.norm.1.running_mean", result.RenamedLegacyKeys);
        Assert.Equal(["classifier.weight", "classifier.bias"], result.SkippedHeadKeys.Order().Reverse());
        Assert.Equal(44, result.LoadedKeys.Count);
        Assert.Equal(11, result.KeptKeys.Count);
        AssertSameValues(source, target, k => !k.StartsWith("classifier") && !k.EndsWith("num_batches_tracked"));
        Assert.True(target.state_dict()["classifier.weight"].equal(headBefore).all().item<bool>());

        // End to end: same pooled features as the source network.
        source.eval();
        target.eval();
        using var x = randn(2, 3, 32, 32);
        using var expected = source.ForwardFeatures(x);
        using var actual = target.ForwardFeatures(x);
        Assert.True(expected.allclose(actual, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Load_SafetensorsRoundTrip_CopiesEverythingButTheHead()
    {
        torch.manual_seed(4);
        using var source = DenseNetTests.Tiny(numClasses: 10);
        using (no_grad())
            source.state_dict()["features.norm5.num_batches_tracked"].fill_(7);
        using var target = DenseNetTests.Tiny(numClasses: 1);
        var file = Path.Combine(_dir, "tiny.safetensors");
        source.save_safetensors(file);

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal("safetensors", result.Format);
        Assert.Empty(result.RenamedLegacyKeys);
        Assert.Equal(53, result.LoadedKeys.Count);
        Assert.Equal(["classifier.bias", "classifier.weight"], result.KeptKeys.Order());
        AssertSameValues(source, target, k => !k.StartsWith("classifier"));
        Assert.Equal(7, target.state_dict()["features.norm5.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Load_CurrentKeyPyTorchZipFromSavePy_Loads()
    {
        torch.manual_seed(5);
        using var source = DenseNetTests.Tiny(numClasses: 1);
        using var target = DenseNetTests.Tiny(numClasses: 1);
        var file = Path.Combine(_dir, "tiny-current.pth");
        source.save_py(file);

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal(53, result.LoadedKeys.Count);
        AssertSameValues(source, target, k => !k.StartsWith("classifier"));
    }

    [Fact]
    public void Load_MissingUnexpectedAndMisshapenKeys_NamesThemAllAndLoadsNothing()
    {
        torch.manual_seed(6);
        using var source = DenseNetTests.Tiny(numClasses: 10);
        using var target = DenseNetTests.Tiny(numClasses: 1);
        using var before = target.state_dict()["features.conv0.weight"].clone();
        var state = LegacyState(source);
        Assert.True(state.Remove("features.denseblock2.denselayer1.conv.2.weight"));
        state["features.norm5.weight"] = ones(13);
        state["features.denseblock1.denselayer1.conv.2.weight"] = zeros(4, 16, 1, 1);
        state["features.extra.weight"] = zeros(3);
        var file = WritePyTorch("broken.pth", state);

        var error = Assert.Throws<CheckpointMismatchException>(() => ImageNetWeights.Load(target, file));

        Assert.Equal(["features.denseblock2.denselayer1.conv2.weight"], error.MissingKeys);
        Assert.Equal(["features.extra.weight"], error.UnexpectedKeys);
        Assert.Equal(2, error.ShapeMismatches.Count);
        Assert.Contains(file, error.Message);
        Assert.Contains("features.denseblock2.denselayer1.conv2.weight", error.Message);
        Assert.Contains("features.extra.weight", error.Message);
        Assert.Contains("features.norm5.weight: network [14], file [13]", error.Message);
        Assert.Contains("features.denseblock1.denselayer1.conv2.weight: network [4, 16, 3, 3], file [4, 16, 1, 1]",
            error.Message);
        Assert.Contains("densenet169-b2777c0a.pth", error.Message);
        Assert.True(target.state_dict()["features.conv0.weight"].equal(before).all().item<bool>());
    }

    [Fact]
    public void Load_DenseNetFileIntoResNet_FailsNamingTheKeys()
    {
        using var source = DenseNetTests.Tiny(numClasses: 1);
        using var target = ClassifierModels.Create(ClassifierArchitecture.ResNet18, numOutputs: 1);
        var file = Path.Combine(_dir, "tiny.safetensors");
        source.save_safetensors(file);

        var error = Assert.Throws<CheckpointMismatchException>(() => ImageNetWeights.Load(target, file));

        Assert.Contains("conv1.weight", error.MissingKeys);
        Assert.Contains("features.conv0.weight", error.UnexpectedKeys);
        Assert.DoesNotContain(error.MissingKeys, k => k.StartsWith("fc."));
    }

    [Fact]
    public void Load_ResNet18File_SkipsFcAndLoadsTheRest()
    {
        torch.manual_seed(7);
        using var source = torchvision.models.resnet18(num_classes: 1000);
        using var target = ClassifierModels.Create(ClassifierArchitecture.ResNet18, numOutputs: 1);
        var file = Path.Combine(_dir, "resnet18.safetensors");
        source.save_safetensors(file);

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal(["fc.bias", "fc.weight"], result.SkippedHeadKeys.Order());
        Assert.Equal(target.state_dict().Count - 2, result.LoadedKeys.Count);
        AssertSameValues(source, target, k => !k.StartsWith("fc."));
    }

    [Theory]
    [InlineData(true, false, true, false)]      // as in 2017: Python 2, _rebuild_tensor, saved from a GPU
    [InlineData(false, true, false, false)]     // PyTorch 0.4-1.5 on Python 3: _rebuild_tensor_v2, _metadata
    [InlineData(false, false, false, true)]     // every tensor a view into one shared storage
    public void Load_LegacyTorchSaveFormat_CopiesEverythingButTheHead(bool python2, bool v2, bool cuda, bool shared)
    {
        torch.manual_seed(8);
        using var source = DenseNetTests.Tiny(numClasses: 10);
        using var target = DenseNetTests.Tiny(numClasses: 1);
        var file = Path.Combine(_dir, "tiny-legacy-format.pth");
        var state = LegacyState(source).Select(kv => (kv.Key, kv.Value)).ToList();
        LegacyTorchSaveWriter.Write(file, state, new LegacyFlavour(python2, v2, cuda, shared));

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal("pytorch-legacy", result.Format);
        Assert.Equal(30, result.RenamedLegacyKeys.Count);
        Assert.Equal(2, result.SkippedHeadKeys.Count);
        Assert.Equal(44, result.LoadedKeys.Count);
        AssertSameValues(source, target, k => !k.StartsWith("classifier") && !k.EndsWith("num_batches_tracked"));
    }

    [Fact]
    public void Load_DenseNet169LegacyCheckpoint_LoadsAllButHeadAndBnCounters()
    {
        // A file shaped like densenet169-b2777c0a.pth: torchvision's 1015 keys less 169 BN num_batches_tracked
        // = 846 tensors, legacy names, 1000-class classifier, pre-1.6 format (Python 2, _rebuild_tensor).
        torch.manual_seed(10);
        using var source = DenseNet.DenseNet169(numClasses: 1000);
        var file = Path.Combine(_dir, "densenet169-legacy.pth");
        var state = LegacyState(source).Select(kv => (kv.Key, kv.Value)).ToList();
        Assert.Equal(846, state.Count);
        LegacyTorchSaveWriter.Write(file, state, new LegacyFlavour(Python2: true, RebuildV2: false, Cuda: false,
            OneStorage: false));
        using var target = DenseNet.DenseNet169(numClasses: 1);

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal(82 * 10, result.RenamedLegacyKeys.Count);       // 82 dense layers × 10 legacy keys
        Assert.Equal(1015 - 169 - 2, result.LoadedKeys.Count);
        Assert.Equal(169 + 2, result.KeptKeys.Count);
        Assert.Equal(2, result.SkippedHeadKeys.Count);
        AssertSameValues(source, target,
            k => k.StartsWith("features.denseblock4.denselayer32.") || k == "features.norm5.weight");
    }

    [Fact]
    public void Load_CPythonPickledLegacyFixture_LoadsEveryValue()
    {
        // Written by Fixtures/make_legacy_fixture.py with CPython's own pickler, as torch 0.2/0.3 wrote
        // torchvision's DenseNet checkpoints; each element's value is a function of its key and index.
        var file = Path.Combine(FixtureDirectory(), "tiny_densenet_legacy.pth");
        using var target = DenseNetTests.Tiny(numClasses: 1);

        var result = ImageNetWeights.Load(target, file);

        Assert.Equal("pytorch-legacy", result.Format);
        Assert.Equal(30, result.RenamedLegacyKeys.Count);
        Assert.Equal(44, result.LoadedKeys.Count);
        var state = target.state_dict();
        foreach (var key in result.LoadedKeys)
        {
            var fileKey = CurrentDenseLayerKey.Replace(key, "$1.$2");
            var sum = fileKey.Sum(c => (int)c);
            var actual = state[key].flatten().data<float>().ToArray();
            var expected = Enumerable.Range(0, actual.Length)
                .Select(j => (float)(((sum * 31 + j * 17) % 2001 - 1000) / 1000.0)).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    private static string FixtureDirectory([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Fixtures");

    [Fact]
    public void Load_TruncatedLegacyTorchSaveFile_ThrowsFormatErrorNamingTheFile()
    {
        using var source = DenseNetTests.Tiny(numClasses: 1);
        var full = Path.Combine(_dir, "full.pth");
        LegacyTorchSaveWriter.Write(full, [.. LegacyState(source).Select(kv => (kv.Key, kv.Value))],
            new LegacyFlavour(Python2: false, RebuildV2: true, Cuda: false, OneStorage: false));
        var file = Path.Combine(_dir, "truncated-legacy.pth");
        var bytes = File.ReadAllBytes(full);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 100)]);
        using var target = DenseNetTests.Tiny(numClasses: 1);

        var error = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, file));

        Assert.Equal(file, error.File);
        Assert.Contains(file, error.Message);
        Assert.Contains("torch.save(torch.load(", error.Message);
        Assert.Contains("weights_only=True", error.Message);
    }

    [Fact]
    public void Load_TarTorchSaveFile_ThrowsFormatErrorSayingHowToConvert()
    {
        // PyTorch < 0.1.10 wrote a tar archive ("ustar" at offset 257).
        var bytes = new byte[1024];
        "ustar"u8.CopyTo(bytes.AsSpan(257));
        var file = Path.Combine(_dir, "resnet-tar.pth");
        File.WriteAllBytes(file, bytes);
        using var target = DenseNetTests.Tiny(numClasses: 1);

        var error = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, file));

        Assert.Contains("tar", error.Message);
        Assert.Contains("torch.save(torch.load(", error.Message);
        Assert.Contains("weights_only=True", error.Message);
    }

    [Fact]
    public void Load_NotACheckpoint_ThrowsFormatErrorNamingTheFile()
    {
        var file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "not a checkpoint");
        using var target = DenseNetTests.Tiny(numClasses: 1);

        var error = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, file));

        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void Load_CorruptZip_ThrowsFormatErrorNamingTheFile()
    {
        var file = Path.Combine(_dir, "truncated.pth");
        File.WriteAllBytes(file, [0x50, 0x4B, 0x03, 0x04, 0x00, 0x01, 0x02]);
        using var target = DenseNetTests.Tiny(numClasses: 1);

        var error = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, file));

        Assert.Contains(file, error.Message);
    }
}
