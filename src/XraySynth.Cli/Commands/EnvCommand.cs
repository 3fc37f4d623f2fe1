using System.CommandLine;
using XraySynth.Runtime;

namespace XraySynth.Cli.Commands;

/// <summary><c>xraysynth env</c>: what this installation runs on (versions, libtorch, device).</summary>
public static class EnvCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var cmd = new Command("env", "Show versions, the libtorch in use and the device a verb would run on (checks --device cuda setups).")
        {
            device, CommonOptions.LibTorch(), CommonOptions.Threads(),
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"xraysynth {typeof(EnvCommand).Assembly.GetName().Version} on .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            output.WriteLine($"CUDA available: {TorchRuntime.CudaAvailable()}");
            output.WriteLine(TorchRuntime.Describe(TorchRuntime.Select(parse.GetValue(device))));
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
