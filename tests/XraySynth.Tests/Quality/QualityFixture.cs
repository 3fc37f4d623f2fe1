using XraySynth.Data;
using XraySynth.Imaging;

namespace XraySynth.Tests.Quality;

/// <summary>Phantom radiographs at GAN resolution for the metrics tests: a training zip (with patients in its
/// sources CSV, as 'prepare' writes it) and folders of "synthetic" images with a generation manifest.</summary>
internal static class QualityFixture
{
    /// <summary>A phantom shoulder radiograph, preprocessed to size² grey as 'prepare' does.</summary>
    public static RasterImage Phantom(int seed, int label, int size = 64) =>
        Preprocessing.Apply(Phantoms.Render("shoulder", label, new Random(seed), 96), new PreprocessSettings(size));

    /// <summary>Writes dir/gan-64.zip (labels alternate) and gan-64-sources.csv (two images per patient); returns the
    /// zip path and the images in zip order.</summary>
    public static (string Zip, List<RasterImage> Images) TrainingZip(string dir, int count, int seed = 1000, int size = 64)
    {
        Directory.CreateDirectory(dir);
        var zipPath = Path.Combine(dir, $"gan-{size}.zip");
        var images = new List<RasterImage>();
        var sources = new List<string> { "entry,source,patient,label" };
        using (var zip = new DatasetZipWriter(zipPath))
        {
            for (int i = 0; i < count; i++)
            {
                int label = i % 2;
                var img = Phantom(seed + i, label, size);
                var entry = zip.Add(ImageCodec.EncodePng(img), label);
                sources.Add($"{entry},MURA-v1.1/train/XR_SHOULDER/patient{i / 2:D5}/study1/image{i % 2 + 1}.png,patient{i / 2:D5},{label}");
                images.Add(img);
            }
            zip.Complete();
        }
        File.WriteAllLines(Path.Combine(dir, $"gan-{size}-sources.csv"), sources);
        return (zipPath, images);
    }

    /// <summary>A 'gan generate'-shaped folder: seedNNNNNN.png per image and manifest.csv; returns the file names.</summary>
    public static List<string> Folder(string dir, IReadOnlyList<RasterImage> images, string cls = "positive")
    {
        Directory.CreateDirectory(dir);
        var rows = new List<SyntheticRow>();
        for (int i = 0; i < images.Count; i++)
        {
            var file = $"seed{i:D6}.png";
            ImageCodec.WritePng(Path.Combine(dir, file), images[i]);
            rows.Add(new SyntheticRow(file, i, cls, 1.0));
        }
        SyntheticManifest.Write(Path.Combine(dir, SyntheticManifest.FileName), rows);
        return rows.Select(r => r.File).ToList();
    }

    public static RasterImage FlipX(RasterImage img)
    {
        var p = new byte[img.Pixels.Length];
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
                p[y * img.Width + x] = img.Pixels[y * img.Width + img.Width - 1 - x];
        return new RasterImage(img.Width, img.Height, 1, p);
    }

    /// <summary>Adds Gaussian noise of <paramref name="sigma"/> grey levels (seeded), clamped to bytes.</summary>
    public static RasterImage Noised(RasterImage img, double sigma, int seed)
    {
        var rng = new Random(seed);
        var p = img.Pixels.Select(v =>
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            return (byte)Math.Clamp(Math.Round(v + sigma * g), 0, 255);
        }).ToArray();
        return new RasterImage(img.Width, img.Height, img.Channels, p);
    }
}
