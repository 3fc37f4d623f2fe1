using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Runtime;

/// <summary>Which device a verb runs on: <c>auto</c> takes CUDA when it is there, else the CPU.</summary>
public enum DeviceChoice
{
    Auto,
    Cpu,
    Cuda,
}

/// <summary>The requested device cannot be used; the message says why and what to do.</summary>
public sealed class DeviceException(string message) : EnvironmentException(message);

/// <summary>Device selection and, for CUDA without TorchSharp's CUDA packages, loading the CUDA-enabled libtorch of
/// an existing PyTorch install (its <c>torch/lib</c> folder) before the first torch call.</summary>
public static class TorchRuntime
{
    /// <summary>Environment variable naming a libtorch folder, as <c>--libtorch</c> does.</summary>
    public const string LibTorchVariable = "XRAYSYNTH_LIBTORCH";

    // Load order matters: each library's dependencies first.
    private static readonly string[] LibTorchFiles = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>The libtorch folder loaded by <see cref="UseLibTorch"/>, or null (the packaged libtorch).</summary>
    public static string? LibTorchDir { get; private set; }

    /// <summary>Loads libtorch from <paramref name="dir"/> (e.g. the <c>lib/</c> folder of a PyTorch install:
    /// <c>python3 -c "import torch,os;print(os.path.dirname(torch.__file__))"</c> + <c>/lib</c>). Must run before any
    /// other torch call, and the folder must also be on LD_LIBRARY_PATH (the <c>./xraysynth</c> launcher does that).</summary>
    public static void UseLibTorch(string dir)
    {
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full))
            throw new DeviceException($"--libtorch {dir}: folder not found. fix: pass the lib/ folder of a PyTorch install (it holds libtorch_cuda.so).");
        if (!File.Exists(Path.Combine(full, "libtorch_cpu.so")))
            throw new DeviceException($"--libtorch {dir}: no libtorch_cpu.so there. fix: pass the lib/ folder inside the torch package (…/site-packages/torch/lib).");
        foreach (var file in LibTorchFiles)
        {
            var path = Path.Combine(full, file);
            if (!File.Exists(path)) continue;
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new DeviceException($"--libtorch {dir}: cannot load {file} ({e.Message}). fix: put {full} on LD_LIBRARY_PATH before starting (the ./xraysynth launcher does) and check its CUDA driver.");
            }
        }
        LibTorchDir = full;
        if (File.Exists(Path.Combine(full, "libtorch_cuda.so")))
            torch.InitializeDeviceType(DeviceType.CUDA);
    }

    /// <summary>Resolves the device; CUDA asked for and absent is an error that says how to get it.</summary>
    public static Device Select(DeviceChoice choice)
    {
        bool cuda = CudaAvailable();
        return choice switch
        {
            DeviceChoice.Cpu => CPU,
            DeviceChoice.Auto => cuda ? CUDA : CPU,
            _ when cuda => CUDA,
            _ => throw new DeviceException(
                "--device cuda: no CUDA device is available to TorchSharp" + (LibTorchDir is null ? " (this build carries the CPU libtorch)" : $" (libtorch from {LibTorchDir})") +
                $". fix: pass --libtorch DIR or set {LibTorchVariable} to the lib/ folder of a CUDA PyTorch install " +
                "(python3 -c \"import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib'))\"), or use --device cpu."),
        };
    }

    public static bool CudaAvailable()
    {
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The thread count a verb uses unless told otherwise: <c>OMP_NUM_THREADS</c> when it is set to a
    /// positive number, else the CPUs this process may run on (<see cref="Environment.ProcessorCount"/> honours
    /// the process's CPU affinity and its cgroup CPU quota).</summary>
    public static int DefaultThreads =>
        int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var n) && n > 0 ? n : Environment.ProcessorCount;

    private static int _interopThreadsSet;

    /// <summary>Sizes libtorch's CPU thread pools: the intra-op pool (OpenMP; <c>torch.set_num_threads</c>) to
    /// <paramref name="threads"/>, and the inter-op pool to the same number. libtorch accepts the inter-op size only
    /// once per process and only before its first parallel work, so a second call leaves that pool as it is.</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1)
            throw new DataException($"--threads {threads}: must be at least 1.");
        torch.set_num_threads(threads);
        if (Interlocked.Exchange(ref _interopThreadsSet, 1) == 0)
        {
            try
            {
                torch.set_num_interop_threads(threads);
            }
            catch (ExternalException)
            {
                // Parallel work already started in this process (only possible when a host calls this late).
            }
        }
    }

    /// <summary>A one-line description for logs: versions, device, threads.</summary>
    public static string Describe(Device device) =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {LibTorchDir ?? "packaged (CPU)"}, device {device.type}" +
        (device.type == DeviceType.CUDA ? $" ({torch.cuda.device_count()} GPU)" : $" ({torch.get_num_threads()} threads, {torch.get_num_interop_threads()} inter-op)");
}
