using System.IO.Compression;
using System.Text;
using TorchSharp;
using XraySynth.Classifier.Models;
using XraySynth.Quality;
using XraySynth.Runtime;
using XraySynth.Tests.Classifier;
using XraySynth.Tests.Quality;
using static TorchSharp.torch;

namespace XraySynth.Tests.Runtime;

public sealed class PickleScannerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xraysynth-pickle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // os.system("true") with GLOBAL (protocol 2), and eval via STACK_GLOBAL through the memo (protocol 4).
    private static readonly byte[] OsSystemGlobal = [0x80, 2, .. "cos\nsystem\n"u8, (byte)'X', 4, 0, 0, 0, .. "true"u8, 0x85, (byte)'R', (byte)'.'];
    private static readonly byte[] EvalStackGlobal =
    [
        0x80, 4, 0x8c, 8, .. "builtins"u8, 0x94, 0x8c, 4, .. "eval"u8, 0x94, (byte)'h', 0, (byte)'h', 1, 0x93,
        0x8c, 1, (byte)'1', 0x85, (byte)'R', (byte)'.',
    ];

    private static byte[] Zip(IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(bytes);
            }
        return ms.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Globals_FindsGlobalInstAndStackGlobalThroughTheMemo()
    {
        Assert.Equal(["os.system"], PickleScanner.Globals(OsSystemGlobal).Globals);
        Assert.Equal(["builtins.eval"], PickleScanner.Globals(EvalStackGlobal).Globals);
        byte[] inst = [(byte)'(', .. "isubprocess\nPopen\n"u8, (byte)'.'];
        Assert.Equal(["subprocess.Popen"], PickleScanner.Globals(inst).Globals);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, 0x82, 1, (byte)'.' })]                               // EXT1
    [InlineData(new byte[] { 0x80, 4, (byte)'N', (byte)'N', 0x93, (byte)'.' })]            // STACK_GLOBAL of non-strings
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f, (byte)'a' })]     // length past the end
    [InlineData(new byte[] { 0x80, 2, (byte)'N' })]                                        // no STOP
    [InlineData(new byte[] { 0x80, 2, 0xfe, (byte)'.' })]                                  // not an opcode
    public void Globals_UncheckablePickles_AreRefused(byte[] pickle) =>
        Assert.Throws<PickleRefusedException>(() => PickleScanner.Globals(pickle));

    [Fact]
    public void CheckGlobals_StateDictWrittenByPyBridge_IsAllowed()
    {
        var path = Path.Combine(_dir, "sd.pth");
        using (var stream = File.Create(path))
            TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(stream, new Dictionary<string, Tensor> { ["w"] = ones(2, 3), ["n"] = tensor(3L) });
        TorchArchive.Check(path, torchScript: false);
        using var zip = ZipFile.OpenRead(path);
        var pkl = zip.Entries.Single(e => e.FullName.EndsWith("data.pkl"));
        using var s = pkl.Open();
        var bytes = new byte[pkl.Length];
        s.ReadExactly(bytes);
        var globals = PickleScanner.Globals(bytes).Globals;
        Assert.Contains("torch._utils._rebuild_tensor_v2", globals);
        Assert.All(globals, g => Assert.True(PickleScanner.StateDictGlobals(g), g));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_ZipCheckpointWhosePickleNamesCode_IsRefusedBeforeUnpickling(bool stackGlobal)
    {
        var path = Write("hostile.pth", Zip([("archive/data.pkl", stackGlobal ? EvalStackGlobal : OsSystemGlobal), ("archive/version", "3\n"u8.ToArray())]));
        using var target = DenseNetTests.Tiny(numClasses: 1);
        var e = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("references code", e.Message);
        Assert.Contains(stackGlobal ? "builtins.eval" : "os.system", e.Message);
        Assert.DoesNotContain("torch.load(f)", e.Message);
    }

    [Fact]
    public void Load_LegacyCheckpointWhosePickleNamesCode_IsRefused()
    {
        using var source = DenseNetTests.Tiny(numClasses: 1);
        var clean = Path.Combine(_dir, "clean.pth");
        LegacyTorchSaveWriter.Write(clean, [.. source.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked")).Select(kv => (kv.Key, kv.Value.detach().clone()))],
            new LegacyFlavour(Python2: false, RebuildV2: true, Cuda: false, OneStorage: false));
        var bytes = File.ReadAllBytes(clean);
        var from = "ccollections\nOrderedDict\n"u8.ToArray();
        int at = bytes.AsSpan().IndexOf(from);
        Assert.True(at > 0);
        byte[] hostile = [.. bytes[..at], .. "cposix\nsystem\n"u8, .. bytes[(at + from.Length)..]];
        var path = Write("hostile-legacy.pth", hostile);
        using var target = DenseNetTests.Tiny(numClasses: 1);
        var e = Assert.Throws<CheckpointFormatException>(() => ImageNetWeights.Load(target, path));
        Assert.Contains("references code", e.Message);
        Assert.Contains("posix.system", e.Message);
    }

    private static List<(string Name, byte[] Bytes)> Detector(Func<string, byte[], (string, byte[])?> change) =>
        TorchScriptFixture.Entries().Select(e => change(e.Name, e.Bytes)).OfType<(string, byte[])>().ToList();

    [Fact]
    public void TorchScript_TheFixtureStillPassesTheCheck()
    {
        var path = Write("ok.pt", Zip(TorchScriptFixture.Entries()));
        TorchArchive.Check(path, torchScript: true);
    }

    public static TheoryData<string, string> HostileDetectors() => new()
    {
        { "code-in-data.pkl", "references code" },
        { "code-in-constants.pkl", "references code" },
        { "no-version", "version" },
        { "two-folders", "one top folder" },
        { "dotdot", "'..'" },
        { "no-data.pkl", "data.pkl" },
        { "truncated", "not a readable zip" },
        { "huge-entry", "declares" },
    };

    [Theory]
    [MemberData(nameof(HostileDetectors))]
    public void TorchScript_HostileOrMalformedArchive_IsRefusedBeforeJitLoad(string kind, string reason)
    {
        var entries = kind switch
        {
            "code-in-data.pkl" => Detector((n, b) => (n, n.EndsWith("data.pkl") ? OsSystemGlobal : b)),
            "code-in-constants.pkl" => Detector((n, b) => (n, n.EndsWith("constants.pkl") ? EvalStackGlobal : b)),
            "no-version" => Detector((n, b) => n.EndsWith("/version") ? null : (n, b)),
            "two-folders" => Detector((n, b) => (n.EndsWith("constants.pkl") ? "other/constants.pkl" : n, b)),
            "dotdot" => Detector((n, b) => (n.EndsWith("data/1") ? "tiny/../data/1" : n, b)),
            "no-data.pkl" => Detector((n, b) => n.EndsWith("/data.pkl") ? null : (n, b)),
            _ => Detector((n, b) => (n, b)),
        };
        var bytes = Zip(entries);
        if (kind == "truncated") bytes = bytes[..(bytes.Length / 2)];
        if (kind == "huge-entry") ZipFixturesPatch(bytes, "tiny/data/0");
        var path = Write($"{kind}.pt", bytes);
        var e = Assert.Throws<DataException>(() => TorchScriptDetector.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("refused before loading", e.Message);
        Assert.Contains(reason, e.Message);
    }

    private static void ZipFixturesPatch(byte[] zip, string name) => Support.ZipFixtures.PatchSizes(zip, name, 0x7fffffff);
}
