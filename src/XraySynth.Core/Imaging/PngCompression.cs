using SkiaSharp;

namespace XraySynth.Imaging;

/// <summary>How hard a PNG is compressed: the pixels are identical, only file size and encoding time differ.</summary>
public enum PngCompression
{
    /// <summary>No deflate and no row filters (as the official dataset_tool's <c>compress_level=0</c>): the largest
    /// files, the cheapest encoding.</summary>
    None,
    /// <summary>Fastest deflate (zlib-ng level 1) with the Sub filter only: about half the size of <see cref="None"/>
    /// on radiographs, at a fraction of <see cref="Small"/>'s cost.</summary>
    Fast,
    /// <summary>zlib level 6 with every row filter tried (Skia's default): the smallest files, the slowest.</summary>
    Small,
}

public static class PngCompressionExtensions
{
    /// <summary>Skia's encoder settings for a compression choice (<see cref="PngCompression.Small"/> is encoded by Skia,
    /// the other two by <see cref="PngWriter"/> with the same settings).</summary>
    public static SKPngEncoderOptions EncoderOptions(this PngCompression compression) => compression switch
    {
        PngCompression.None => new SKPngEncoderOptions(SKPngEncoderFilterFlags.NoFilters, 0),
        PngCompression.Fast => new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub, 1),
        _ => new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6),
    };
}
