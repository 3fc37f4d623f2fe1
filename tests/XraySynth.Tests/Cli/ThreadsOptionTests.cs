using System.CommandLine;
using TorchSharp;
using XraySynth.Cli;
using XraySynth.Cli.Commands;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

/// <summary>--threads sets libtorch's global pool size: these tests run alone so no other test changes it meanwhile.</summary>
[Collection(SerialTorch.Name)]
public class ThreadsOptionTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Threads_ReachesTorchBeforeTheVerbRuns()
    {
        try
        {
            var (code, output, _) = Run("env", "--device", "cpu", "--threads", "1");
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Equal(1, torch.get_num_threads());
            Assert.Contains("(1 threads", output);   // the verb itself ran with it

            Assert.Equal(ExitCodes.Ok, Run("env", "--device", "cpu", "--threads", "3").Code);
            Assert.Equal(3, torch.get_num_threads());

            // No --threads: the default (OMP_NUM_THREADS when set, else the CPUs this process may use).
            Assert.Equal(ExitCodes.Ok, Run("env", "--device", "cpu").Code);
            Assert.Equal(TorchRuntime.DefaultThreads, torch.get_num_threads());
        }
        finally
        {
            TorchRuntime.SetThreads(TorchRuntime.DefaultThreads);
        }
    }

    [Fact]
    public void Threads_BelowOne_IsAUsageErrorAndLeavesTorchAlone()
    {
        TorchRuntime.SetThreads(2);
        try
        {
            var (code, _, err) = Run("env", "--threads", "0");
            Assert.NotEqual(ExitCodes.Ok, code);
            Assert.Contains("--threads 0: must be at least 1", err);
            Assert.Equal(2, torch.get_num_threads());
        }
        finally
        {
            TorchRuntime.SetThreads(TorchRuntime.DefaultThreads);
        }
    }

    [Fact]
    public void EveryVerbWithADevice_TakesThreads()
    {
        var verbs = new List<Command>();
        void Walk(Command c)
        {
            if (c.Subcommands.Count == 0) verbs.Add(c);
            foreach (var s in c.Subcommands) Walk(s);
        }
        Walk(XraySynth.Cli.Cli.BuildRoot());
        var torchVerbs = verbs.Where(v => v.Options.Any(o => o.Name == "--device")).ToList();
        Assert.Contains(torchVerbs, v => v.Name == "demo");
        Assert.Contains(torchVerbs, v => v.Name == "experiment");
        Assert.All(torchVerbs, v => Assert.Contains(v.Options, o => o.Name == CommonOptions.ThreadsName));
        // Verbs without torch do not take it (and so never load libtorch to set it).
        Assert.DoesNotContain(verbs.Single(v => v.Name == "phantoms").Options, o => o.Name == CommonOptions.ThreadsName);
    }
}
