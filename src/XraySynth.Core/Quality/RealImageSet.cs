using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Quality;

/// <summary>One real image of a metrics dataset: its name there (zip entry or manifest path), label (null when the
/// dataset has none) and patient (null when unknown).</summary>
public sealed record RealImage(string Name, int? Label, string? Patient);

/// <summary>
/// The real images the metrics compare against — what the GAN was trained on:
/// <list type="bullet">
/// <item>a StyleGAN2-ADA dataset zip (<c>gan-256.zip</c>, ours or the official dataset_tool's); patients come from
/// <c>gan-256-sources.csv</c> beside it when <c>prepare</c> wrote one;</item>
/// <item>a prepared folder: its GAN zip (the one matching the synthetic images' resolution when there are several);</item>
/// <item>a classifier manifest (<c>train.csv</c>, <c>val.csv</c>, <c>test.csv</c>; paths relative to its folder).</item>
/// </list>
/// Every image is decoded by <see cref="ImageCodec"/> and brought to the set's size and channels (those of its first
/// image, grey unless the first image has colour) by <see cref="Preprocessing"/> when it differs. Thread-safe.
/// </summary>
public sealed class RealImageSet : IDisposable
{
    private readonly DatasetZipReader? _zip;
    private readonly string? _root;                   // folder of a manifest's images
    private readonly Lock _gate = new();
    private string? _contentHash;

    private RealImageSet(string source, string tag, DatasetZipReader? zip, string? root, List<RealImage> images)
    {
        Source = source;
        Tag = tag;
        _zip = zip;
        _root = root;
        Images = images;
        var first = ImageCodec.Decode(ReadEncoded(0), Describe(0), channels: 3);
        Channels = IsGrey(first) ? 1 : 3;
        Resolution = Math.Max(first.Width, first.Height);
    }

    /// <summary>The zip or manifest file.</summary>
    public string Source { get; }

    /// <summary>Short name for cache files: the file name without extension, plus the class when filtered.</summary>
    public string Tag { get; }

    public IReadOnlyList<RealImage> Images { get; }

    public int Count => Images.Count;

    /// <summary>Side of the square every image is brought to.</summary>
    public int Resolution { get; }

    /// <summary>1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Opens <paramref name="data"/> (zip, prepared folder or manifest), keeping only images of
    /// <paramref name="className"/> (positive|negative) when given. <paramref name="preferResolution"/> picks the GAN zip
    /// of a prepared folder that holds several.</summary>
    /// <exception cref="DataException">Missing, unreadable or empty data, or no labels to filter by.</exception>
    public static RealImageSet Open(string data, string? className = null, int? preferResolution = null)
    {
        int? label = className is null ? null
            : SyntheticManifest.Label(className) ?? throw new DataException($"--class {className}: expected positive or negative.");
        var full = Path.GetFullPath(data);
        if (Directory.Exists(full)) full = PreparedZip(full, preferResolution);
        else if (!File.Exists(full))
            throw new DataException($"--data {data}: not found. fix: pass the GAN training zip (gan-256.zip), the folder 'xraysynth prepare' wrote, or a manifest (train.csv).");

        List<RealImage> images;
        DatasetZipReader? zip = null;
        string? root = null;
        if (full.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            root = Path.GetDirectoryName(full)!;
            images = Manifest.Read(full).Select(r => new RealImage(r.Path, r.Label, r.Patient.Length > 0 ? r.Patient : null)).ToList();
        }
        else
        {
            zip = new DatasetZipReader(full);
            var patients = ReadSources(full);
            images = zip.ImageNames.Select(n => new RealImage(n, zip.Labels is { } l && l.ByName.TryGetValue(n, out var v) ? v : null, patients?.GetValueOrDefault(n))).ToList();
        }
        var tag = Path.GetFileNameWithoutExtension(full);
        if (label is { } wanted)
        {
            if (images.Any(i => i.Label is null))
            {
                zip?.Dispose();
                throw new DataException($"{full}: has no labels for every image, so --class {className} cannot select images. fix: drop --class, or use data written by 'xraysynth prepare'.");
            }
            images = images.Where(i => i.Label == wanted).ToList();
            tag += "-" + className;
        }
        if (images.Count == 0)
        {
            zip?.Dispose();
            throw new DataException($"{full}: no {(className is null ? "" : className + " ")}images. fix: check --data{(className is null ? "" : " and --class")}.");
        }
        try
        {
            return new RealImageSet(full, tag, zip, root, images);
        }
        catch
        {
            zip?.Dispose();
            throw;
        }
    }

    /// <summary>The encoded bytes of image <paramref name="index"/>.</summary>
    public byte[] ReadEncoded(int index)
    {
        var name = Images[index].Name;
        if (_zip is not null)
        {
            lock (_gate) return _zip.ReadEntry(name);
        }
        var path = Path.GetFullPath(Path.Combine(_root!, name));
        if (!(path + "/").StartsWith(_root!.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new DataException($"{Source}: '{name}' lies outside the manifest's folder.");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot be read ({e.Message})");
        }
    }

    /// <summary>Image <paramref name="index"/>, decoded and brought to <see cref="Resolution"/>² × <see cref="Channels"/>.</summary>
    public RasterImage Load(int index) => Conform(ImageCodec.Decode(ReadEncoded(index), Describe(index), Channels), Resolution, Channels);

    /// <summary>An image brought to size² × channels by <see cref="Preprocessing"/> (unchanged when it already is).</summary>
    public static RasterImage Conform(RasterImage image, int size, int channels)
    {
        var img = image.WithChannels(channels);
        return img.Width == size && img.Height == size ? img : Preprocessing.Apply(img, new PreprocessSettings(size, channels));
    }

    /// <summary>A SHA-256 over every image's name and content (a zip's CRC-32 and size per entry; a manifest's files
    /// hashed), and the class filter: the dataset part of the feature cache key. Computed once.</summary>
    public string ContentHash()
    {
        if (_contentHash is not null) return _contentHash;
        var digests = new string[Count];
        if (_zip is not null)
        {
            for (int i = 0; i < Count; i++)
            {
                var (crc, length) = _zip.EntryDigest(Images[i].Name);
                digests[i] = $"{crc:x8}:{length}";
            }
        }
        else
        {
            Parallel.For(0, Count, i => digests[i] = Convert.ToHexStringLower(SHA256.HashData(ReadEncoded(i))));
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{Tag}\n{Resolution}x{Channels}\n"));
        for (int i = 0; i < Count; i++)
            hash.AppendData(Encoding.UTF8.GetBytes($"{Images[i].Name}\t{Images[i].Label}\t{digests[i]}\n"));
        return _contentHash = Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A group per image for the audit's real-vs-real calibration: images of one patient share a group, an
    /// image of unknown patient is a group of its own.</summary>
    public long[] PatientGroups()
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var groups = new long[Count];
        for (int i = 0; i < Count; i++)
        {
            var p = Images[i].Patient;
            groups[i] = p is null ? Count + i : ids.TryGetValue(p, out var g) ? g : ids[p] = ids.Count;
        }
        return groups;
    }

    private string Describe(int index) => _zip is not null ? $"{Source}:{Images[index].Name}" : Path.Combine(_root!, Images[index].Name);

    /// <summary>True when an RGB image has equal channels everywhere.</summary>
    internal static bool IsGrey(RasterImage rgb)
    {
        var p = rgb.Pixels;
        for (int i = 0; i < p.Length; i += 3)
            if (p[i] != p[i + 1] || p[i] != p[i + 2]) return false;
        return true;
    }

    /// <summary>The GAN zip of a prepared folder.</summary>
    private static string PreparedZip(string dir, int? preferResolution)
    {
        var zips = Directory.EnumerateFiles(dir, "gan-*.zip").Order(StringComparer.Ordinal).ToList();
        if (zips.Count == 1) return zips[0];
        if (zips.Count > 1 && preferResolution is { } res)
        {
            var match = zips.Where(z => Path.GetFileName(z) is var n && (n == $"gan-{res}.zip" || n == $"gan-{res}-rgb.zip")).ToList();
            if (match.Count == 1) return match[0];
        }
        if (zips.Count == 0)
            throw new DataException($"--data {dir}: no GAN training zip (gan-*.zip) in this folder. fix: pass the folder 'xraysynth prepare' wrote, or the zip itself.");
        throw new DataException($"--data {dir}: several GAN zips ({string.Join(", ", zips.Select(Path.GetFileName))}). fix: pass the one the network was trained on.");
    }

    /// <summary>entry → patient from <c>&lt;zip&gt;-sources.csv</c> (entry,source,patient,label), or null.</summary>
    private static Dictionary<string, string>? ReadSources(string zipPath)
    {
        var path = Path.ChangeExtension(zipPath, null) + "-sources.csv";
        if (!File.Exists(path)) return null;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        using var csv = Csv.Open(path);
        if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("entry") || !header.Contains("patient"))
            throw new DataException($"{path}: expected the header 'entry,source,patient,label' written by 'xraysynth prepare'.");
        while (csv.Read())
        {
            var entry = csv.GetField("entry");
            var patient = csv.GetField("patient");
            if (!string.IsNullOrEmpty(entry) && !string.IsNullOrEmpty(patient)) map[entry] = patient;
        }
        return map;
    }

    public void Dispose() => _zip?.Dispose();
}
