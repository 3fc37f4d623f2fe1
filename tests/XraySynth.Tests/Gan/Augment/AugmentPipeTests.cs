using TorchSharp;
using XraySynth.Gan.Augment;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan.Augment;

public class AugmentPipeTests
{
    /// <summary>Every op of the official pipelines, with the channel count it applies to.</summary>
    public static TheoryData<string, int> Ops => new()
    {
        { "xflip", 1 }, { "rotate90", 1 }, { "xint", 1 }, { "scale", 1 }, { "rotate", 1 }, { "aniso", 1 },
        { "xfrac", 1 }, { "brightness", 1 }, { "contrast", 1 }, { "lumaflip", 1 }, { "lumaflip", 3 }, { "hue", 3 },
        { "saturation", 3 }, { "imgfilter", 1 }, { "noise", 1 }, { "cutout", 1 },
    };

    public static TheoryData<string> GeometricOps => new() { "xflip", "rotate90", "scale", "rotate", "aniso" };

    internal static AugmentSpec Only(string op) => op switch
    {
        "xflip" => new AugmentSpec { XFlip = 1 },
        "rotate90" => new AugmentSpec { Rotate90 = 1 },
        "xint" => new AugmentSpec { XInt = 1 },
        "scale" => new AugmentSpec { Scale = 1 },
        "rotate" => new AugmentSpec { Rotate = 1 },
        "aniso" => new AugmentSpec { Aniso = 1 },
        "xfrac" => new AugmentSpec { XFrac = 1 },
        "brightness" => new AugmentSpec { Brightness = 1 },
        "contrast" => new AugmentSpec { Contrast = 1 },
        "lumaflip" => new AugmentSpec { LumaFlip = 1 },
        "hue" => new AugmentSpec { Hue = 1 },
        "saturation" => new AugmentSpec { Saturation = 1 },
        "imgfilter" => new AugmentSpec { ImgFilter = 1 },
        "noise" => new AugmentSpec { Noise = 1 },
        "cutout" => new AugmentSpec { Cutout = 1 },
        _ => throw new ArgumentException(op),
    };

    /// <summary>Smooth random images in [−1, 1]: a blurred noise field, so resampling is near-lossless.</summary>
    private static Tensor SmoothImages(int n, int channels, int size, long seed)
    {
        using var gen = new torch.Generator((ulong)seed);
        var coarse = rand([n, channels, size / 4, size / 4], generator: gen) * 2 - 1;
        return nn.functional.interpolate(coarse, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
    }

    /// <summary>A Gaussian blob at the centre of a black (−1) square.</summary>
    private static Tensor CentredBlob(int n, int size, double sigma)
    {
        var c = (size - 1) / 2.0;
        var coords = arange(size, dtype: ScalarType.Float32) - c;
        var r2 = coords.reshape(1, -1).square() + coords.reshape(-1, 1).square();
        var blob = (-r2 / (2 * sigma * sigma)).exp() * 2 - 1;
        return blob.expand(n, 1, size, size).contiguous();
    }

    /// <summary>Centroid (x, y) per sample of the brightness above the background, in pixels from the top-left.</summary>
    private static float[,] Centroids(Tensor images)
    {
        var size = images.shape[3];
        var weight = (images[.., 0] + 1).clamp_min(0); // [N, H, W]
        var idx = arange(size, dtype: ScalarType.Float32);
        var total = weight.sum([1, 2]);
        var cx = (weight * idx.reshape(1, 1, -1)).sum([1, 2]) / total;
        var cy = (weight * idx.reshape(1, -1, 1)).sum([1, 2]) / total;
        var n = images.shape[0];
        var result = new float[n, 2];
        for (var i = 0; i < n; i++)
        {
            result[i, 0] = cx[i].item<float>();
            result[i, 1] = cy[i].item<float>();
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Op_AtPZero_IsTheIdentity(string op, int channels)
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(Only(op));
        using var gen = new torch.Generator(1);
        var x = SmoothImages(6, channels, 32, seed: 2);
        var y = pipe.Apply(x, p: 0, gen);
        Assert.Equal(x.shape, y.shape);
        // The geometric path still pads, upsamples, resamples and downsamples: the wavelet makes it near-lossless.
        var maxError = (y - x).abs().max().item<float>();
        Assert.True(maxError < 2e-4, $"{op}: p = 0 changed the image by up to {maxError}");
    }

    [Fact]
    public void FullPipeline_AtPZero_IsTheIdentity()
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(AugmentPresets.Get("bgcfnc"));
        var x = SmoothImages(4, 1, 32, seed: 3);
        var maxError = (pipe.Apply(x, 0, new torch.Generator(5)) - x).abs().max().item<float>();
        Assert.True(maxError < 2e-4, $"bgcfnc at p = 0 changed the image by up to {maxError}");
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Op_AtPOne_KeepsShapeAndRangeAndChangesTheImage(string op, int channels)
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(Only(op));
        var x = SmoothImages(16, channels, 32, seed: 4);
        var y = pipe.Apply(x, p: 1, new torch.Generator(7));
        Assert.Equal(x.shape, y.shape);
        Assert.True(y.isfinite().all().item<bool>(), $"{op} produced non-finite values");
        var changed = (y - x).abs().amax([1, 2, 3]) > 1e-3; // [N]
        Assert.True(changed.any().item<bool>(), $"{op} at p = 1 left every image unchanged");

        // Range: geometry only moves pixels (the wavelet filters ring a little); colour stays within a few
        // standard deviations of its gain and offset; cutout writes zeros; noise adds |N(0,1)|·0.1·N(0,1).
        var (lo, hi) = (y.min().item<float>(), y.max().item<float>());
        var bound = op switch
        {
            "xflip" or "rotate90" or "xint" or "scale" or "rotate" or "aniso" or "xfrac" or "cutout" => 1.1f,
            "imgfilter" => 6f,
            "noise" => 3f,
            _ => 20f,
        };
        Assert.True(lo >= -bound && hi <= bound, $"{op}: output range [{lo}, {hi}] exceeds ±{bound}");
        if (op == "cutout")
            Assert.True(((y == 0) | ((y - x).abs() < 1e-6)).all().item<bool>(), "cutout must keep or zero each pixel");
    }

    [Fact]
    public void Blits_ReturnEachImageFlippedOrRotatedByQuarterTurns()
    {
        // sym6 is only nearly symmetric, so a flip through the upsample/sample/downsample chain blurs a little
        // (as in the official pipeline); the identity passes losslessly.
        using var scope = NewDisposeScope();
        var x = SmoothImages(16, 1, 32, seed: 8);
        using var flip = new AugmentPipe(Only("xflip"));
        var y = flip.Apply(x, 1, new torch.Generator(21));
        var same = (y - x).abs().amax([1, 2, 3]) < 2e-4;
        var flipped = (y - x.flip(3)).abs().amax([1, 2, 3]) < 0.08;
        Assert.True((same | flipped).all().item<bool>(), "an x-flip output is neither the image nor its mirror");
        Assert.True(flipped.any().item<bool>() && same.any().item<bool>());

        using var rot = new AugmentPipe(Only("rotate90"));
        y = rot.Apply(x, 1, new torch.Generator(22));
        var turns = new HashSet<int>();
        for (var i = 0; i < 16; i++)
        {
            var k = Enumerable.Range(0, 4).MinBy(k => (y[i] - x[i].rot90(k, (1, 2))).abs().max().item<float>());
            Assert.True((y[i] - x[i].rot90(k, (1, 2))).abs().max().item<float>() < 0.08, $"image {i} is not a quarter turn");
            turns.Add(k);
        }
        Assert.True(turns.Count >= 3, $"rotate90 at p = 1 used only {turns.Count} of the 4 turns");
    }

    [Theory]
    [MemberData(nameof(GeometricOps))]
    public void GeometricOp_KeepsACentredBlobCentred(string op)
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(Only(op));
        var x = CentredBlob(12, 32, sigma: 3);
        var y = pipe.Apply(x, p: 1, new torch.Generator(11));
        var centroids = Centroids(y);
        for (var i = 0; i < 12; i++)
        {
            Assert.InRange(centroids[i, 0], 15.5f - 0.25f, 15.5f + 0.25f);
            Assert.InRange(centroids[i, 1], 15.5f - 0.25f, 15.5f + 0.25f);
        }
    }

    [Fact]
    public void IntegerTranslation_MovesTheBlobByWholePixels()
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(Only("xint"));
        var x = CentredBlob(12, 32, sigma: 2);
        var centroids = Centroids(pipe.Apply(x, p: 1, new torch.Generator(13)));
        var moved = 0;
        for (var i = 0; i < 12; i++)
        {
            for (var axis = 0; axis < 2; axis++)
            {
                var shift = centroids[i, axis] - 15.5f;
                Assert.InRange(Math.Abs(shift), 0, 0.125f * 32 + 0.5f);
                Assert.True(Math.Abs(shift - MathF.Round(shift)) < 0.05f, $"shift {shift} is not a whole pixel");
                moved += Math.Abs(shift) > 0.5f ? 1 : 0;
            }
        }
        Assert.True(moved > 0, "xint at p = 1 moved no blob");
    }

    [Fact]
    public void LumaFlip_OnGrey_NegatesWholeImages()
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(Only("lumaflip"));
        var x = SmoothImages(16, 1, 16, seed: 5);
        var y = pipe.Apply(x, p: 1, new torch.Generator(17));
        var kept = ((y - x).abs().amax([1, 2, 3]) < 1e-5).to(ScalarType.Int32);
        var negated = ((y + x).abs().amax([1, 2, 3]) < 1e-5).to(ScalarType.Int32);
        Assert.True((kept + negated == 1).all().item<bool>(), "each grey image must be kept or negated");
        Assert.True(negated.sum().item<long>() > 0, "no image was negated");
    }

    [Fact]
    public void ColorOnGrey_MatchesTheMeanOfTheRgbPath()
    {
        // A grey image put through the RGB path and averaged equals the one-channel path (same random draws).
        using var scope = NewDisposeScope();
        var spec = new AugmentSpec { Brightness = 1, Contrast = 1, LumaFlip = 1 };
        using var pipe = new AugmentPipe(spec);
        var grey = SmoothImages(8, 1, 16, seed: 6);
        var one = pipe.Apply(grey, 1, new torch.Generator(19));
        var three = pipe.Apply(grey.expand(-1, 3, -1, -1).contiguous(), 1, new torch.Generator(19)).mean([1], keepdim: true);
        Assert.True((one - three).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void FilterBank_BandsSumToAUnitImpulse()
    {
        var bank = AugmentPipe.FilterBank();
        Assert.Equal(4, bank.GetLength(0));
        Assert.Equal(43, bank.GetLength(1));
        for (var k = 0; k < 43; k++)
        {
            var sum = bank[0, k] + bank[1, k] + bank[2, k] + bank[3, k];
            Assert.Equal(k == 21 ? 1.0 : 0.0, sum, 5);
            for (var b = 0; b < 4; b++)
                Assert.Equal(bank[b, k], bank[b, 42 - k], 6); // symmetric: correlation = convolution
        }
    }

    [Fact]
    public void ImageFilter_OnImagesTooSmallForItsTaps_SaysWhichPipelineToUse()
    {
        using var scope = NewDisposeScope();
        using var pipe = new AugmentPipe(AugmentPresets.Get("bgcf"));
        var ex = Assert.Throws<ArgumentException>(() => pipe.Apply(SmoothImages(2, 1, 16, 1), 0.5));
        Assert.Contains("without 'f'", ex.Message);
    }

    [Fact]
    public void Presets_AreTheOfficialTables()
    {
        var bgc = AugmentPresets.Get(AugmentPresets.Default);
        Assert.Equal("bgc", AugmentPresets.Default);
        Assert.Equal(new AugmentSpec
        {
            XFlip = 1, Rotate90 = 1, XInt = 1, Scale = 1, Rotate = 1, Aniso = 1, XFrac = 1,
            Brightness = 1, Contrast = 1, LumaFlip = 1, Hue = 1, Saturation = 1,
        }, bgc);
        Assert.Equal(bgc with { ImgFilter = 1, Noise = 1, Cutout = 1 }, AugmentPresets.Get("bgcfnc"));
        Assert.False(AugmentPresets.Get("bg").HasColor);
        Assert.Throws<ArgumentException>(() => AugmentPresets.Get("bgx"));
    }
}
