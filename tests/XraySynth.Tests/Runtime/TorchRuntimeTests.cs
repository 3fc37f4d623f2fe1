using XraySynth.Runtime;

namespace XraySynth.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Select_CpuAndAuto_WorkWithoutCuda()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.Select(DeviceChoice.Cpu).type);
        if (!TorchRuntime.CudaAvailable())
            Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.Select(DeviceChoice.Auto).type);
    }

    [Fact]
    public void Select_CudaWhenAbsent_SaysHowToGetIt()
    {
        if (TorchRuntime.CudaAvailable()) return;   // only meaningful on a machine without CUDA (CI)
        var e = Assert.Throws<DeviceException>(() => TorchRuntime.Select(DeviceChoice.Cuda));
        Assert.Contains("--libtorch", e.Message);
        Assert.Contains(TorchRuntime.LibTorchVariable, e.Message);
        Assert.Contains("--device cpu", e.Message);
    }

    [Fact]
    public void UseLibTorch_BadFolder_IsAClearError()
    {
        Assert.Contains("folder not found", Assert.Throws<DeviceException>(() => TorchRuntime.UseLibTorch("/nonexistent/torch/lib")).Message);
        var empty = Directory.CreateTempSubdirectory().FullName;
        try
        {
            Assert.Contains("libtorch_cpu.so", Assert.Throws<DeviceException>(() => TorchRuntime.UseLibTorch(empty)).Message);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void AtomicFile_ReplacesWholeFileAndLeavesNoTemporary()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var path = Path.Combine(dir, "a.json");
            AtomicFile.WriteAllText(path, "first");
            AtomicFile.WriteAllText(path, "second");
            Assert.Equal("second", File.ReadAllText(path));
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException(); }));
            Assert.Equal("second", File.ReadAllText(path));
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
