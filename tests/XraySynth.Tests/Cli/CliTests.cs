using XraySynth.Cli.Commands;
using XraySynth.Cli;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Help_ListsTheVerbs()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var verb in new[] { "demo", "phantoms", "prepare", "bench", "env" }) Assert.Contains(verb, output);
        var prepare = Run("prepare", "--help").Out;
        Assert.Contains("--val-fraction", prepare);
        Assert.Contains("--contrast", prepare);
    }

    [Fact]
    public void Prepare_MissingRoot_ExitsTwoWithMessageNamingIt()
    {
        using var tmp = new TempDir();
        var (code, _, err) = Run("prepare", "--mura", "/nonexistent/MURA", "--out", tmp.Combine("out"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("error: /nonexistent/MURA", err);
        Assert.Contains("fix:", err);
    }

    [Fact]
    public void Prepare_UnknownOptionValue_IsAUsageError()
    {
        var (code, _, err) = Run("prepare", "--mura", "x", "--out", "y", "--fit", "stretch");
        Assert.NotEqual(0, code);
        Assert.Contains("stretch", err);
    }

    [Fact]
    public void PhantomsThenPrepare_EndToEnd_PrintsSummary()
    {
        using var tmp = new TempDir();
        var gen = Run("phantoms", "--out", tmp.Combine("mura"), "--patients", "12", "--max-side", "64", "--parts", "shoulder,elbow", "--seed", "4");
        Assert.Equal(0, gen.Code);
        Assert.Contains("phantoms:", gen.Out);
        var (code, output, err) = Run("prepare", "--mura", tmp.Combine("mura"), "--out", tmp.Combine("out"), "--parts", "shoulder,elbow",
            "--resolution", "16", "--classifier-size", "24", "--val-fraction", "0", "--contrast", "autocontrast");
        Assert.True(code == 0, err);
        Assert.Contains("GAN training set: gan-16.zip", output);
        Assert.Contains("elbow", output);
        Assert.Contains("images/s", output);
        Assert.True(File.Exists(tmp.Combine("out", "gan-16.zip")));
    }

    [Fact]
    public void Parts_AllAndCommaLists_Resolve()
    {
        Assert.Equal(7, XraySynth.Cli.Commands.CommonOptions.ResolveParts(["all"]).Count);
        Assert.Equal(["shoulder", "hand"], XraySynth.Cli.Commands.CommonOptions.ResolveParts(["Shoulder, hand", "hand"]));
    }

    [Fact]
    public void LibTorchFromArgs_ReadsBothForms()
    {
        Assert.Equal("/a", XraySynth.Cli.Cli.LibTorchFromArgs(["env", "--libtorch", "/a"]));
        Assert.Equal("/b", XraySynth.Cli.Cli.LibTorchFromArgs(["env", "--libtorch=/b"]));
        Assert.Null(XraySynth.Cli.Cli.LibTorchFromArgs(["env"]));
    }

    [Fact]
    public void Env_CudaOnCpuMachine_ExitsTwoWithFix()
    {
        if (TorchRuntime.CudaAvailable()) return;
        var (code, _, err) = Run("env", "--device", "cuda");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--libtorch", err);
    }

    [Fact]
    public void GanMetrics_DetectorWhosePickleReferencesCode_ExitsTwoBeforeLibtorchSeesIt()
    {
        using var tmp = new TempDir();
        byte[] osSystem = [0x80, 2, .. "cos\nsystem\n"u8, (byte)'X', 4, 0, 0, 0, .. "true"u8, 0x85, (byte)'R', (byte)'.'];
        var pt = tmp.Combine("hostile.pt");
        File.WriteAllBytes(pt, ZipFixtures.Build([("m/data.pkl", osSystem), ("m/code/__torch__.py", "class M(Module):\n  pass\n"u8.ToArray()),
            ("m/constants.pkl", [0x80, 2, (byte)')', (byte)'.']), ("m/version", "3\n"u8.ToArray())]));
        Directory.CreateDirectory(tmp.Combine("images"));
        var (code, _, err) = Run("gan", "metrics", "--images", tmp.Combine("images"), "--data", tmp.Combine("gan.zip"), "--detector", pt, "--device", "cpu");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(pt, err);
        Assert.Contains("references code", err);
        Assert.Contains("os.system", err);
    }
}
