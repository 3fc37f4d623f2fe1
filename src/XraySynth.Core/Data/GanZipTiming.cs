using System.Diagnostics;
using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>CPU seconds of the working thread in each phase of writing a GAN zip, one image after another (thread CPU
/// time, so the figures hold on a loaded machine; waits for the disk are not in them), and the wall time of it all.</summary>
/// <param name="Images">Images written.</param>
/// <param name="Read">Reading the files' bytes.</param>
/// <param name="Decode">PNG decoding to grey/RGB pixels.</param>
/// <param name="Preprocess">Contrast, square fit and the antialiased resize.</param>
/// <param name="Encode">PNG encoding of the resized image.</param>
/// <param name="ZipWrite">Adding the encoded PNG to the zip, dataset.json, flush and rename.</param>
/// <param name="ZipBytes">Size of the finished zip.</param>
/// <param name="Wall">Wall seconds of the whole run.</param>
public sealed record GanZipPhases(int Images, double Read, double Decode, double Preprocess, double Encode, double ZipWrite, long ZipBytes, double Wall)
{
    public double Total => Read + Decode + Preprocess + Encode + ZipWrite;
}

/// <summary>The GAN-zip half of <c>prepare</c> alone (no catalogue, no split, no classifier images), timed per
/// phase with the same decode, preprocessing, encoder and zip writer. It is what the official
/// <c>dataset_tool.py</c> does with a folder of images, so the two can be compared on the same files.</summary>
public static class GanZipTiming
{
    public static GanZipPhases Run(IReadOnlyList<string> files, string zipPath, PreprocessSettings settings, PngCompression compression,
        CancellationToken cancel = default)
    {
        double read = 0, decode = 0, preprocess = 0, encode = 0, write = 0;
        var wall = Stopwatch.StartNew();
        double last = CpuTime.Thread();
        double Lap() { var now = CpuTime.Thread(); var s = now - last; last = now; return s; }
        using (var zip = new DatasetZipWriter(zipPath))
        {
            foreach (var file in files)
            {
                cancel.ThrowIfCancellationRequested();
                var bytes = File.ReadAllBytes(file);
                read += Lap();
                var image = ImageCodec.Decode(bytes, file, settings.Channels);
                decode += Lap();
                var resized = Preprocessing.Apply(image, settings);
                preprocess += Lap();
                var png = ImageCodec.EncodePng(resized, compression);
                encode += Lap();
                zip.Add(png, null);
                write += Lap();
            }
            zip.Complete();
            write += Lap();
        }
        return new GanZipPhases(files.Count, read, decode, preprocess, encode, write, new FileInfo(zipPath).Length, wall.Elapsed.TotalSeconds);
    }
}
