using System.Text;
using TorchSharp;
using XraySynth.Runtime;
using static TorchSharp.torch;

namespace XraySynth.Tests.Runtime;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xraysynth-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A safetensors file from a raw header and data section.</summary>
    internal static byte[] Build(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BitConverter.GetBytes((ulong)h.Length).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    private string Write(byte[] bytes, string name = "w.safetensors")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Load_FileWrittenByPyBridge_GivesExactDtypesShapesAndValues()
    {
        var path = Path.Combine(_dir, "ok.safetensors");
        var state = new Dictionary<string, Tensor>
        {
            ["w"] = arange(12, dtype: float32).reshape(3, 4),
            ["n"] = tensor(new long[] { 7 }),
            ["empty"] = zeros(0, 5),
        };
        using (var stream = File.Create(path))
            TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, state, leaveOpen: false);
        var back = SafetensorsFile.Load(path);
        Assert.Equal(new long[] { 3, 4 }, back["w"].shape);
        Assert.Equal(ScalarType.Float32, back["w"].dtype);
        Assert.Equal(11f, back["w"][2, 3].item<float>());
        Assert.Equal(ScalarType.Int64, back["n"].dtype);
        Assert.Equal(7L, back["n"].item<long>());
        Assert.Equal(new long[] { 0, 5 }, back["empty"].shape);
    }

    public static TheoryData<string, string> HostileHeaders() => new()
    {
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", "not well-formed JSON" },
        { """[1, 2]""", "not a JSON object" },
        { """{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}""", "dtype 'F99'" },
        { """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "not a size" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "= 12 bytes, but its data range holds 8" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800000000]}}""", "truncated or damaged" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "truncated or damaged" },
        { """{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", "overflows 64 bits" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "overlap" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "twice" },
        { """{"a":{"dtype":"F32","shape":[2]}}""", "two data_offsets" },
        { """{"__metadata__":"x"}""", "__metadata__" },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void Load_HostileHeader_IsRefusedNamingTheFile(string header, string reason)
    {
        var path = Write(Build(header, new byte[16]));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 40)]
    [InlineData(200_000_000UL)]
    [InlineData(1UL)]
    public void Load_HeaderLengthInsane_IsRefusedWithoutAllocating(ulong claimed)
    {
        var bytes = Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        BitConverter.GetBytes(claimed).CopyTo(bytes, 0);
        var path = Write(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Load(path));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
        Assert.Contains("header claims", e.Message);
    }

    [Fact]
    public void Load_TensorOfHugeDeclaredShape_IsRefusedBeforeAllocating()
    {
        // 2^31 float32 elements (8 GiB) claimed by a 100-byte file: refused from the header, no tensor allocated.
        var path = Write(Build("""{"a":{"dtype":"F32","shape":[2147483648],"data_offsets":[0,8589934592]}}""", new byte[8]));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Load(path));
        Assert.Contains("'a'", e.Message);
    }

    [Fact]
    public void LoadBest_ClassifierRunWithHostileWeightsHeader_IsACheckpointFormatError()
    {
        // classifier evaluate reads best.safetensors through the same checked reader.
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        Json.WriteFile(Path.Combine(run, XraySynth.Classifier.Models.ClassifierModelInfo.FileName),
            new XraySynth.Classifier.Models.ClassifierModelInfo { Arch = "densenet-smoke", Size = 32, Epoch = 1, ValAuroc = 0.5, ValKappa = 0, ValLoss = 1 });
        var weights = Path.Combine(run, XraySynth.Classifier.Models.ClassifierModelInfo.BestWeights);
        File.WriteAllBytes(weights, Build("""{"features.conv0.weight":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}""", new byte[8]));
        var e = Assert.Throws<XraySynth.Classifier.Models.CheckpointFormatException>(() => XraySynth.Classifier.Models.ClassifierModelInfo.LoadBest(run, out _));
        Assert.Contains(weights, e.Message);
        Assert.Contains("features.conv0.weight", e.Message);
    }
}
