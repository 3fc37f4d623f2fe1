using FsCheck.Xunit;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using static TorchSharp.torch;

namespace XraySynth.Tests.Runtime;

/// <summary>
/// Random byte mutations and truncations of valid files, fed to the readers: the only exceptions allowed are the
/// tool's own input errors (which the CLI reports with exit 2), and no reader allocates past its cap.
/// </summary>
public sealed class HostileInputPropertyTests : IDisposable
{
    private static readonly byte[] ValidPng = PngFixtures.Grey8(32, 24, (x, y) => (byte)(x * 7 + y * 3));
    private static readonly byte[] ValidRgbPng = PngFixtures.Encode(8, 8, PngFixtures.Rgb, 8, Enumerable.Range(0, 192).Select(i => (byte)i).ToArray());
    private static readonly byte[] ValidZip = ZipFixtures.Dataset(3);
    private static readonly byte[] ValidSafetensors = MakeSafetensors();

    /// <summary>The pixel cap in these properties (1 Mpx): a mutated header may declare anything up to it.</summary>
    private const long PixelCap = 1L << 20;

    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static byte[] MakeSafetensors()
    {
        using var scope = NewDisposeScope();
        var ms = new MemoryStream();
        TorchSharp.PyBridge.Safetensors.SaveStateDict(ms, new Dictionary<string, Tensor>
        {
            ["conv.weight"] = randn(4, 2, 3, 3), ["bn.num_batches_tracked"] = tensor(5L), ["head"] = ones(3, dtype: float16),
        }, leaveOpen: true);
        return ms.ToArray();
    }

    /// <summary>Sets up to 8 bytes at the given positions, then (for a third of the cases) cuts the file.</summary>
    private static byte[] Mutate(byte[] valid, int[] positions, byte[] values, int cut)
    {
        var bytes = (byte[])valid.Clone();
        int n = Math.Min(8, Math.Min(positions.Length, values.Length));
        for (int i = 0; i < n; i++)
            bytes[(int)((uint)positions[i] % (uint)bytes.Length)] = values[i];
        if (cut % 3 == 0 && cut != 0)
            bytes = bytes[..(int)((uint)cut % (uint)bytes.Length)];
        return bytes;
    }

    private static void AllocatesAtMost(long bytes, Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        read();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= bytes, $"allocated {allocated} bytes, the bound is {bytes}");
    }

    private static void OnlyInputErrors(Action read)
    {
        try
        {
            read();
        }
        catch (Exception e) when (e is ImageDecodeException or DataException or SafetensorsFormatException or PickleRefusedException)
        {
        }
    }

    [Property(MaxTest = 150, QuietOnSuccess = true)]
    public void MutatedPng_DecodesOrIsAnImageError_WithinThePixelCap(int[] positions, byte[] values, int cut, bool rgb)
    {
        var png = Mutate(rgb ? ValidRgbPng : ValidPng, positions, values, cut);
        // RGBA buffer plus the grey or RGB copy, for the largest image the cap lets through.
        AllocatesAtMost(PixelCap * 7 + (1 << 20), () => OnlyInputErrors(() =>
            ImageCodec.Decode(png, "mutated.png", rgb ? 3 : 1, maxPixels: PixelCap)));
    }

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public void MutatedDatasetZip_ReadsOrIsADataError_WithoutHugeAllocations(int[] positions, byte[] values, int cut)
    {
        var path = _tmp.Combine($"{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, Mutate(ValidZip, positions, values, cut));
        AllocatesAtMost(16 << 20, () => OnlyInputErrors(() =>
        {
            using var zip = new DatasetZipReader(path);
            foreach (var name in zip.ImageNames)
                ImageCodec.Decode(zip.ReadEntry(name), name, maxPixels: PixelCap);
        }));
        File.Delete(path);
    }

    [Property(MaxTest = 150, QuietOnSuccess = true)]
    public void MutatedSafetensors_LoadsOrIsAFormatError(int[] positions, byte[] values, int cut)
    {
        var bytes = Mutate(ValidSafetensors, positions, values, cut);
        using var scope = NewDisposeScope();
        AllocatesAtMost(1 << 20, () => OnlyInputErrors(() =>
        {
            var state = SafetensorsFile.Load(new MemoryStream(bytes), "mutated.safetensors");
            // What loads is exactly what the header says, inside the file.
            Assert.All(state.Values, t => Assert.True(t.NumberOfElements * t.ElementSize <= bytes.Length));
        }));
    }

    [Property(MaxTest = 150, QuietOnSuccess = true)]
    public void MutatedPickle_IsScannedOrRefused(int[] positions, byte[] values, int cut)
    {
        byte[] valid = [0x80, 2, .. "ccollections\nOrderedDict\n"u8, (byte)'q', 0, (byte)')', (byte)'R', (byte)'q', 1, (byte)'X', 1, 0, 0, 0, (byte)'w', (byte)'h', 0, (byte)'s', (byte)'.'];
        var bytes = Mutate(valid, positions, values, cut);
        OnlyInputErrors(() => PickleScanner.CheckGlobals(bytes, PickleScanner.StateDictGlobals, "mutated.pkl"));
    }
}
