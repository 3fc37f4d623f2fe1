using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Networks;

/// <summary>
/// The one rule for a block's compute dtype (official <c>use_fp16 and not force_fp32 and device.type == 'cuda'</c>):
/// fp16 only where the config asks for it, never when forced to fp32, and on a CPU only when explicitly allowed
/// (the official code never runs fp16 on a CPU; XraySynth allows it so the fp16 path can be tested without a GPU).
/// </summary>
public static class BlockPrecision
{
    public static ScalarType Dtype(bool useFp16, bool forceFp32, bool fp16OnCpu, Device device) =>
        useFp16 && !forceFp32 && (device.type == DeviceType.CUDA || fp16OnCpu) ? ScalarType.Float16 : ScalarType.Float32;
}
