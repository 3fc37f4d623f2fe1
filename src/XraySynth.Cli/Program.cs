using System.CommandLine;
using XraySynth.Cli.Commands;
using XraySynth.Cli;
using XraySynth.Runtime;

// A CUDA libtorch from a PyTorch install must be loaded before anything touches torch.
var libtorch = Cli.LibTorchFromArgs(args) ?? Environment.GetEnvironmentVariable(TorchRuntime.LibTorchVariable);
if (!string.IsNullOrEmpty(libtorch))
{
    try
    {
        TorchRuntime.UseLibTorch(libtorch);
    }
    catch (EnvironmentException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return ExitCodes.BadInput;
    }
}
return Cli.Run(args, Console.Out, Console.Error);
