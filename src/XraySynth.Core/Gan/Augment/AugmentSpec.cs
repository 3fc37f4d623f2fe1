namespace XraySynth.Gan.Augment;

/// <summary>
/// What the ADA pipeline may do: a probability multiplier per op (each op fires per sample with probability
/// multiplier · p; 0 = never) and the strength of each op. Defaults are the official AugmentPipe arguments (every op
/// off, official strengths). A preset is a table of multipliers, see <see cref="AugmentPresets"/>.
/// </summary>
public sealed record AugmentSpec
{
    // Pixel blitting.

    /// <summary>Probability multiplier of the x-flip.</summary>
    public double XFlip { get; init; }

    /// <summary>Probability multiplier of rotations by a multiple of 90°.</summary>
    public double Rotate90 { get; init; }

    /// <summary>Probability multiplier of the integer translation.</summary>
    public double XInt { get; init; }

    /// <summary>Range of the integer translation, relative to the image size (0.125 = ±1/8 of the side).</summary>
    public double XIntMax { get; init; } = 0.125;

    // General geometric transformations.

    /// <summary>Probability multiplier of the isotropic scaling.</summary>
    public double Scale { get; init; }

    /// <summary>Probability multiplier of the arbitrary rotation (applied before and after the anisotropic scaling).</summary>
    public double Rotate { get; init; }

    /// <summary>Probability multiplier of the anisotropic scaling.</summary>
    public double Aniso { get; init; }

    /// <summary>Probability multiplier of the fractional translation.</summary>
    public double XFrac { get; init; }

    /// <summary>Log2 standard deviation of the isotropic scaling.</summary>
    public double ScaleStd { get; init; } = 0.2;

    /// <summary>Range of the arbitrary rotation; 1 = the full circle (uniform in ±π).</summary>
    public double RotateMax { get; init; } = 1;

    /// <summary>Log2 standard deviation of the anisotropic scaling.</summary>
    public double AnisoStd { get; init; } = 0.2;

    /// <summary>Standard deviation of the fractional translation, relative to the image size.</summary>
    public double XFracStd { get; init; } = 0.125;

    // Colour transformations.

    /// <summary>Probability multiplier of the brightness offset.</summary>
    public double Brightness { get; init; }

    /// <summary>Probability multiplier of the contrast gain.</summary>
    public double Contrast { get; init; }

    /// <summary>Probability multiplier of the luma flip (a grey image is negated).</summary>
    public double LumaFlip { get; init; }

    /// <summary>Probability multiplier of the hue rotation (RGB only: a grey image has no hue).</summary>
    public double Hue { get; init; }

    /// <summary>Probability multiplier of the saturation gain (RGB only).</summary>
    public double Saturation { get; init; }

    /// <summary>Standard deviation of the additive brightness offset (images in [−1, 1]).</summary>
    public double BrightnessStd { get; init; } = 0.2;

    /// <summary>Log2 standard deviation of the contrast gain.</summary>
    public double ContrastStd { get; init; } = 0.5;

    /// <summary>Range of the hue rotation; 1 = the full circle.</summary>
    public double HueMax { get; init; } = 1;

    /// <summary>Log2 standard deviation of the saturation gain.</summary>
    public double SaturationStd { get; init; } = 1;

    // Image-space filtering.

    /// <summary>Probability multiplier of the image-space filter (amplifies or attenuates 4 frequency bands).</summary>
    public double ImgFilter { get; init; }

    /// <summary>Probability multiplier of each of the 4 frequency bands (low to high).</summary>
    public IReadOnlyList<double> ImgFilterBands { get; init; } = [1, 1, 1, 1];

    /// <summary>Log2 standard deviation of the band amplification.</summary>
    public double ImgFilterStd { get; init; } = 1;

    // Image-space corruptions.

    /// <summary>Probability multiplier of the additive Gaussian noise.</summary>
    public double Noise { get; init; }

    /// <summary>Probability multiplier of the cutout (a rectangle set to 0).</summary>
    public double Cutout { get; init; }

    /// <summary>The noise standard deviation is |N(0,1)| times this.</summary>
    public double NoiseStd { get; init; } = 0.1;

    /// <summary>Side of the cutout square, relative to the image size.</summary>
    public double CutoutSize { get; init; } = 0.5;

    /// <summary>Whether any geometric op (blit or general) can fire.</summary>
    public bool HasGeometry => XFlip > 0 || Rotate90 > 0 || XInt > 0 || Scale > 0 || Rotate > 0 || Aniso > 0 || XFrac > 0;

    /// <summary>Whether any colour op can fire.</summary>
    public bool HasColor => Brightness > 0 || Contrast > 0 || LumaFlip > 0 || Hue > 0 || Saturation > 0;

    /// <summary>Whether equality holds member by member (the band list by value).</summary>
    public bool Equals(AugmentSpec? other) =>
        other is not null && ToArray().AsSpan().SequenceEqual(other.ToArray());

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var value in ToArray())
            hash.Add(value);
        return hash.ToHashCode();
    }

    private double[] ToArray() =>
    [
        XFlip, Rotate90, XInt, XIntMax, Scale, Rotate, Aniso, XFrac, ScaleStd, RotateMax, AnisoStd, XFracStd,
        Brightness, Contrast, LumaFlip, Hue, Saturation, BrightnessStd, ContrastStd, HueMax, SaturationStd,
        ImgFilter, ImgFilterStd, Noise, Cutout, NoiseStd, CutoutSize, .. ImgFilterBands,
    ];
}

/// <summary>The official <c>--augpipe</c> presets: which ops a pipeline uses (multiplier 1) and which it does not.</summary>
public static class AugmentPresets
{
    /// <summary>Preset names accepted by <see cref="Get"/>; bgc is the default.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["blit", "geom", "color", "filter", "noise", "cutout", "bg", "bgc", "bgcf", "bgcfn", "bgcfnc"];

    /// <summary>The default pipeline: blit + geom + color.</summary>
    public const string Default = "bgc";

    private static readonly AugmentSpec Blit = new() { XFlip = 1, Rotate90 = 1, XInt = 1 };
    private static readonly AugmentSpec Geom = new() { Scale = 1, Rotate = 1, Aniso = 1, XFrac = 1 };
    private static readonly AugmentSpec Color = new() { Brightness = 1, Contrast = 1, LumaFlip = 1, Hue = 1, Saturation = 1 };

    /// <summary>The spec of preset <paramref name="name"/>; unknown names throw <see cref="ArgumentException"/>.</summary>
    public static AugmentSpec Get(string name)
    {
        var bg = Blit with { Scale = 1, Rotate = 1, Aniso = 1, XFrac = 1 };
        var bgc = bg with { Brightness = 1, Contrast = 1, LumaFlip = 1, Hue = 1, Saturation = 1 };
        return name switch
        {
            "blit" => Blit,
            "geom" => Geom,
            "color" => Color,
            "filter" => new AugmentSpec { ImgFilter = 1 },
            "noise" => new AugmentSpec { Noise = 1 },
            "cutout" => new AugmentSpec { Cutout = 1 },
            "bg" => bg,
            "bgc" => bgc,
            "bgcf" => bgc with { ImgFilter = 1 },
            "bgcfn" => bgc with { ImgFilter = 1, Noise = 1 },
            "bgcfnc" => bgc with { ImgFilter = 1, Noise = 1, Cutout = 1 },
            _ => throw new ArgumentException(
                $"Unknown augmentation pipeline '{name}'; use one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
