using XraySynth.Data;

namespace XraySynth.Tests.Support;

/// <summary>Builds small MURA-shaped trees: from the phantom generator (small images, for speed) or by hand.</summary>
internal static class MuraFixture
{
    /// <summary>A phantom MURA tree under <paramref name="dir"/>/mura; returns that root.</summary>
    public static string Phantoms(string dir, int patients = 24, int seed = 3, int maxSide = 96, params string[] parts)
    {
        var root = Path.Combine(dir, "mura");
        XraySynth.Data.Phantoms.Generate(new PhantomOptions { OutDir = root, Patients = patients, Seed = seed, MaxSide = maxSide, Parts = parts.Length > 0 ? parts : ["shoulder"] });
        return root;
    }

    /// <summary>Writes a grey PNG at a path relative to the dataset folder.</summary>
    public static void Image(string datasetDir, string rel, byte value = 100, int w = 12, int h = 8)
    {
        var path = Path.Combine(datasetDir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, PngFixtures.Grey8(w, h, (x, y) => (byte)(value + x)));
    }

    public static void Lines(string path, params string[] lines) => File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));

    /// <summary>Relative path → file bytes for every file under <paramref name="dir"/>.</summary>
    public static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);
}
