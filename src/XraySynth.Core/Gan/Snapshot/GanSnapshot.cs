using TorchSharp;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Gan.Snapshot;

/// <summary>The architecture section of a GAN snapshot: every constructor argument of G and D.</summary>
/// <param name="G">Generator config (G and G_ema share it).</param>
/// <param name="D">Discriminator config.</param>
public sealed record GanArchitecture(GeneratorConfig G, DiscriminatorConfig D);

/// <summary>The three networks of a GAN snapshot.</summary>
public sealed record GanNetworks(Generator G, Discriminator D, Generator GEma) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        G.Dispose();
        D.Dispose();
        GEma.Dispose();
    }
}

/// <summary>
/// GAN snapshots: a folder with G.safetensors, D.safetensors, G_ema.safetensors and snapshot.json, whose section
/// "networks" holds the architecture so the networks are rebuilt from the snapshot alone. The training loop adds
/// its own parts (optimizer state, counters, RNG) to the same <see cref="SnapshotWriter"/> through <c>extra</c>.
/// </summary>
public static class GanSnapshot
{
    /// <summary>Name of the architecture section.</summary>
    public const string NetworksSection = "networks";

    /// <summary>Name of the section that holds the training options of a snapshot written by <c>gan train</c>
    /// (whose <c>label</c> names the class an unconditional model was trained on). Declared here, with the snapshot
    /// format, so that readers (generation) need not know the training loop.</summary>
    public const string TrainingOptionsSection = "options";

    /// <summary>Tensor file names of the networks.</summary>
    public const string G = "G", D = "D", GEma = "G_ema";

    /// <summary>Writes G, D and G_ema (plus whatever <paramref name="extra"/> adds) atomically to <paramref name="snapshotDir"/>.</summary>
    public static void Save(string snapshotDir, Generator g, Discriminator d, Generator gEma,
        Action<SnapshotWriter>? extra = null)
    {
        if (g.Config != gEma.Config)
            throw new ArgumentException("G and G_ema must share one architecture.", nameof(gEma));
        var writer = new SnapshotWriter()
            .AddSection(NetworksSection, new GanArchitecture(g.Config, d.Config), NetworkJson.Options)
            .AddModule(G, g)
            .AddModule(D, d)
            .AddModule(GEma, gEma);
        extra?.Invoke(writer);
        writer.Commit(snapshotDir);
    }

    /// <summary>Reads the architecture stored in a snapshot.</summary>
    public static GanArchitecture ReadArchitecture(SnapshotReader reader) =>
        reader.GetSection<GanArchitecture>(NetworksSection, NetworkJson.Options);

    /// <summary>Rebuilds G, D and G_ema from <paramref name="snapshotDir"/> and moves them to <paramref name="device"/>.</summary>
    public static GanNetworks Load(string snapshotDir, Device? device = null)
    {
        var reader = SnapshotReader.Open(snapshotDir);
        var arch = ReadArchitecture(reader);
        var g = LoadGenerator(reader, G, arch, device);
        var gEma = LoadGenerator(reader, GEma, arch, device);
        var d = Build(() => new Discriminator(arch.D), reader);
        reader.LoadInto(D, d);
        if (device is not null)
            d.to(device);
        return new GanNetworks(g, d, gEma);
    }

    /// <summary>Rebuilds one generator ("G_ema" by default) from <paramref name="snapshotDir"/>, in eval mode.</summary>
    public static Generator LoadGenerator(string snapshotDir, string which = GEma, Device? device = null)
    {
        var reader = SnapshotReader.Open(snapshotDir);
        var g = LoadGenerator(reader, which, ReadArchitecture(reader), device);
        g.eval();
        return g;
    }

    private static Generator LoadGenerator(SnapshotReader reader, string which, GanArchitecture arch, Device? device)
    {
        var g = Build(() => new Generator(arch.G), reader);
        reader.LoadInto(which, g);
        if (device is not null)
            g.to(device);
        return g;
    }

    private static T Build<T>(Func<T> build, SnapshotReader reader)
    {
        try
        {
            return build();
        }
        catch (ArgumentException ex)
        {
            var manifestPath = Path.Combine(reader.Directory, SnapshotWriter.ManifestFileName);
            throw new SnapshotException(manifestPath,
                $"The architecture in '{manifestPath}' is invalid: {ex.Message}", ex);
        }
    }
}
