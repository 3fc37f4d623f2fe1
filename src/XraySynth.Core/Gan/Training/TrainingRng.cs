using XraySynth.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// Every random number of training: a torch generator for the training device (latents, noise images, augmentation)
/// and a host generator (real-image order, label draws, style-mixing cutoffs). Both are reseeded at the start of
/// every tick from (seed, tick), so a run resumed at a tick boundary draws exactly what the uninterrupted run drew.
/// On the CPU the torch generator is our own (nothing else in the process can disturb it). On CUDA it is the device's
/// default generator, reseeded with torch.cuda.manual_seed: TorchSharp 0.107 cannot create a CUDA generator
/// (THSGenerator_new always makes a CPU one), and training draws nothing else from it (noise images are passed in).
/// </summary>
public sealed class TrainingRng : IDisposable
{
    private int[]? _order;
    private int _position;

    /// <summary>Generator for tensors on the training device; null on CUDA (the device's default generator).</summary>
    public torch.Generator? Device { get; }

    /// <summary>Generator for host-side draws.</summary>
    public Random Host { get; private set; } = new(0);

    /// <summary>The run's seed.</summary>
    public int Seed { get; }

    /// <summary>Creates the generators for <paramref name="seed"/> on <paramref name="device"/>.</summary>
    public TrainingRng(int seed, Device device)
    {
        Seed = seed;
        Device = device.type == DeviceType.CPU ? new torch.Generator((ulong)seed) : null;
        if (Device is null && device.type != DeviceType.CUDA)
            throw new ArgumentException($"Training random streams support cpu and cuda, not {device.type}.", nameof(device));
    }

    /// <summary>The seed of tick <paramref name="tick"/>: a SplitMix64 hash of (seed, tick).</summary>
    public static ulong TickSeed(int seed, long tick)
    {
        var z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)tick * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Reseeds both generators for tick <paramref name="tick"/> and restarts the real-image order.</summary>
    public void StartTick(long tick)
    {
        var s = TickSeed(Seed, tick);
        if (Device is not null)
            Device.manual_seed((long)(s >> 1));
        else
            torch.cuda.manual_seed((long)(s >> 1));
        Host = new Random((int)(s & 0x7FFFFFFF));
        _order = null;
        _position = 0;
    }

    /// <summary>
    /// The next <paramref name="count"/> real-image indices in [0, <paramref name="length"/>): shuffled passes over
    /// the dataset (every image once per pass), a fresh shuffle when a pass ends.
    /// </summary>
    public int[] NextIndices(int count, int length)
    {
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (_order is null || _order.Length != length || _position >= length)
            {
                _order = Enumerable.Range(0, length).ToArray();
                Host.Shuffle(_order);
                _position = 0;
            }
            result[i] = _order[_position++];
        }
        return result;
    }

    /// <summary><paramref name="count"/> uniform draws from [0, <paramref name="length"/>) (labels of generated images).</summary>
    public int[] Uniform(int count, int length)
    {
        var result = new int[count];
        for (var i = 0; i < count; i++)
            result[i] = Host.Next(length);
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => Device?.Dispose();
}
