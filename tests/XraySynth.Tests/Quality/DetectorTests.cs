using System.IO.Compression;
using System.Security.Cryptography;
using TorchSharp;
using TorchSharp.PyBridge;
using XraySynth.Classifier.Models;
using XraySynth.Classifier.Training;
using XraySynth.Quality;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Tests.Quality;

public class DetectorTests
{
    private static Tensor RandomImages(int n, int channels, int size, ulong seed)
    {
        using var g = new torch.Generator(seed);
        return randint(0, 256, [n, channels, size, size], dtype: ScalarType.Byte, generator: g);
    }

    [Fact]
    public void TorchScriptFixture_IsWhatItsGeneratorWrites()
    {
        // The committed file is reproducible from TorchScriptFixture (set XRAYSYNTH_WRITE_FIXTURES=1 to rewrite it).
        var path = TorchScriptFixture.FixturePath();
        if (Environment.GetEnvironmentVariable("XRAYSYNTH_WRITE_FIXTURES") == "1") TorchScriptFixture.Write(path);
        using var zip = ZipFile.OpenRead(path);
        var expected = TorchScriptFixture.Entries();
        Assert.Equal(expected.Select(e => e.Name), zip.Entries.Select(e => e.FullName));
        foreach (var (name, bytes) in expected)
        {
            using var s = zip.GetEntry(name)!.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            Assert.True(bytes.AsSpan().SequenceEqual(ms.ToArray()), $"{name} differs from the generator's output");
        }
    }

    [Fact]
    public void TorchScript_TinyFixture_LoadsWithJitAndReturnsItsFeatures()
    {
        var path = TorchScriptFixture.FixturePath();
        using var detector = TorchScriptDetector.Load(path);
        Assert.Equal(2, detector.Inputs);                       // img, return_features
        Assert.Equal("tiny-detector", detector.Name);
        Assert.False(detector.ComparableToPublished);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), detector.Identity);

        using var images = RandomImages(5, 3, 16, 1);
        using var features = detector.Extract(images);
        // Recompute: mean-pool(img / 255, 4×4) flattened @ weight — return_features=True was passed (not the 2 logits).
        using var weight = tensor(TorchScriptFixture.Weight(), [48, 8]);
        using var expected = F.adaptive_avg_pool2d(images.to(ScalarType.Float32) / 255f, [4, 4]).flatten(1).matmul(weight);
        Assert.Equal([5L, TorchScriptFixture.Features], features.shape);
        Assert.Equal(ScalarType.Float32, features.dtype);
        Assert.True(features.allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void TorchScript_GreyImages_AreFedAsUint8RepeatedToThreeChannels()
    {
        // The fixture raises unless it gets uint8 [N, 3, H, W]: a grey batch must arrive repeated, as the official metrics do.
        using var detector = TorchScriptDetector.Load(TorchScriptFixture.FixturePath());
        using var grey = RandomImages(3, 1, 12, 2);
        using var fromGrey = detector.Extract(grey);
        using var fromRgb = detector.Extract(grey.repeat(1, 3, 1, 1));
        Assert.True(fromGrey.allclose(fromRgb, rtol: 0, atol: 0));
        using var raw = jit.load(TorchScriptFixture.FixturePath());
        Assert.Contains("expects uint8", Assert.ThrowsAny<Exception>(() => raw.call(grey.to(ScalarType.Float32).repeat(1, 3, 1, 1), true)).Message);
    }

    [Fact]
    public void TorchScript_NotATorchScriptFile_IsADataErrorNamingTheFile()
    {
        using var tmp = new TempDir();
        var bogus = tmp.Combine("bogus.pt");
        File.WriteAllText(bogus, "not a zip");
        var e = Assert.Throws<DataException>(() => TorchScriptDetector.Load(bogus));
        Assert.Contains(bogus, e.Message);
        Assert.Contains("torch.jit.save", e.Message);
        Assert.Contains("not found", Assert.Throws<DataException>(() => FeatureDetectors.Open(tmp.Combine("missing.pt"))).Message);
        Assert.Contains("expected inception, builtin", Assert.Throws<DataException>(() => FeatureDetectors.Open("vgg")).Message);
    }

    [Fact]
    public void Builtin_WeightsAreFixedByItsDefinition()
    {
        using var detector = new BuiltinDetector();
        Assert.Equal([8L, 1, 3, 3], detector.Weight(0).shape);
        Assert.Equal([64L, 32, 3, 3], detector.Weight(3).shape);
        // Pinned values of the splitmix64/Box–Muller weights: a change here changes every builtin number ever reported.
        Assert.Equal(BuiltinFirstWeight, detector.Weight(0)[0, 0, 0, 0].item<float>(), 6);
        Assert.Equal(BuiltinLastStageSum, detector.Weight(3).sum().item<float>(), 3);
    }

    private const float BuiltinFirstWeight = 1.036336f;
    private const float BuiltinLastStageSum = 16.890522f;

    [Fact]
    public void Builtin_IsDeterministic_SeesStructure_AndTreatsGreyAsRgbGrey()
    {
        using var detector = new BuiltinDetector();
        using var a = RandomImages(4, 1, 64, 3);
        using var b = RandomImages(4, 1, 64, 4);
        using var fa = detector.Extract(a);
        using var fa2 = detector.Extract(a);
        using var fb = detector.Extract(b);
        using var fRgb = detector.Extract(a.repeat(1, 3, 1, 1));
        Assert.Equal([4L, BuiltinDetector.Dimension], fa.shape);
        Assert.True(fa.allclose(fa2, rtol: 0, atol: 0));
        Assert.True(fa.allclose(fRgb, rtol: 1e-5, atol: 1e-5));
        Assert.False(fa.allclose(fb, rtol: 1e-3, atol: 1e-3));
        // A mirrored image is a different point (the audit searches mirrored training images explicitly).
        using var mirrored = detector.Extract(a.flip(3));
        Assert.False(fa.allclose(mirrored, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Classifier_RunFolder_GivesThePenultimateFeaturesOfItsBestWeights()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("00001-classifier-smoke");
        Directory.CreateDirectory(run);
        using var model = (DenseNet)ClassifierModels.Create(ClassifierArchitecture.DenseNetSmoke, 1);
        model.save_safetensors(Path.Combine(run, ClassifierModelInfo.BestWeights));
        Json.WriteFile(Path.Combine(run, ClassifierModelInfo.FileName), new ClassifierModelInfo
        {
            Arch = ClassifierModels.Name(ClassifierArchitecture.DenseNetSmoke), Size = 32, Epoch = 1, ValAuroc = 0.5, ValKappa = 0, ValLoss = 1,
        });
        using var detector = FeatureDetectors.Open("classifier:" + run);
        Assert.Equal("classifier-00001-classifier-smoke", detector.Name);
        using var images = RandomImages(3, 1, 48, 5);
        using var features = detector.Extract(images);
        model.eval();
        using var x = ClassifierAugment.Normalize(F.interpolate(images.to(ScalarType.Float32) / 255f, [32, 32],
            mode: InterpolationMode.Bilinear, align_corners: false, antialias: true));
        using var noGrad = no_grad();
        using var expected = model.ForwardFeatures(x);
        Assert.Equal([3L, model.NumFeatures], features.shape);
        Assert.True(features.allclose(expected, rtol: 1e-4, atol: 1e-5));
        Assert.Contains("model.json", Assert.Throws<DataException>(() => FeatureDetectors.Open("classifier:" + tmp.Combine("nope"))).Message);
    }
}
