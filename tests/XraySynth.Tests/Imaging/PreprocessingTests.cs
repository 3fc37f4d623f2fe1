using XraySynth.Imaging;

namespace XraySynth.Tests.Imaging;

public class PreprocessingTests
{
    private static RasterImage Make(int w, int h, Func<int, int, int> f)
    {
        var px = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) px[y * w + x] = (byte)f(x, y);
        return new RasterImage(w, h, 1, px);
    }

    [Fact]
    public void Resize_ConstantImage_StaysConstant()
    {
        var img = Resampler.Resize(RasterImage.Blank(37, 53, 1, 140), 16, 16);
        Assert.Equal((16, 16), (img.Width, img.Height));
        Assert.All(img.Pixels, p => Assert.Equal(140, p));
        var up = Resampler.Resize(RasterImage.Blank(5, 3, 3, 77), 20, 11);
        Assert.All(up.Pixels, p => Assert.Equal(77, p));
    }

    [Fact]
    public void Resize_Downscale_AntialiasesFineDetail()
    {
        // A one-pixel checkerboard shrunk 8× must become flat mid-grey; point sampling would keep 0/255.
        var checker = Make(256, 256, (x, y) => (x + y) % 2 == 0 ? 0 : 255);
        var small = Resampler.Resize(checker, 32, 32);
        Assert.All(small.Pixels, p => Assert.InRange(p, 120, 135));
    }

    [Fact]
    public void Resize_Downscale_PreservesLowFrequencyContent()
    {
        // Left half dark, right half bright: the edge survives, far from it values are exact.
        var img = Resampler.Resize(Make(128, 128, (x, _) => x < 64 ? 20 : 220), 16, 16);
        Assert.Equal(20, img.Pixels[8 * 16 + 1]);
        Assert.Equal(220, img.Pixels[8 * 16 + 14]);
        Assert.True(img.Pixels[8 * 16 + 7] < img.Pixels[8 * 16 + 8]);
    }

    [Fact]
    public void ToSquare_Pad_CentresAndFillsWithBorderMedian()
    {
        var img = Make(4, 2, (x, y) => 30 + x);   // border values 30..33, median 31 or 32
        var sq = Preprocessing.ToSquare(img, FitMode.Pad);
        Assert.Equal((4, 4), (sq.Width, sq.Height));
        Assert.InRange(sq.Pixels[0], 31, 32);              // padding row
        Assert.Equal(img.Pixels[..4], sq.Pixels[4..8]);    // original rows start at row 1
        Assert.Equal(img.Pixels[4..8], sq.Pixels[8..12]);
    }

    [Fact]
    public void ToSquare_Crop_KeepsTheCentre()
    {
        var img = Make(6, 2, (x, y) => x * 10 + y);
        var sq = Preprocessing.ToSquare(img, FitMode.Crop);
        Assert.Equal((2, 2), (sq.Width, sq.Height));
        Assert.Equal(new byte[] { 20, 30, 21, 31 }, sq.Pixels);
    }

    [Fact]
    public void Autocontrast_StretchesToFullRange()
    {
        var img = Make(100, 10, (x, _) => 100 + x / 2);   // 100..149
        var out_ = Contrast.Autocontrast(img);
        Assert.Equal(0, out_.Pixels.Min());
        Assert.Equal(255, out_.Pixels.Max());
        Assert.True(out_.Pixels[10] < out_.Pixels[60]);   // order kept
    }

    [Fact]
    public void Autocontrast_FlatImage_IsUnchanged()
    {
        var flat = RasterImage.Blank(5, 5, 1, 90);
        Assert.All(Contrast.Autocontrast(flat).Pixels, p => Assert.Equal(90, p));
    }

    [Fact]
    public void Clahe_RaisesLocalContrastAndKeepsOrder()
    {
        var rnd = new Random(3);
        var img = Make(64, 64, (x, y) => 100 + (x + y) / 16 + rnd.Next(3));   // low contrast: 100..109
        var eq = Contrast.Clahe(img, clipLimit: 100);   // a high clip limit: close to plain equalisation per tile
        var clipped = Contrast.Clahe(img);                // the default limit 2 bounds the amplification
        double Spread(RasterImage im) => im.Pixels.Max() - im.Pixels.Min();
        Assert.True(Spread(eq) > 3 * Spread(img), $"spread {Spread(img)} -> {Spread(eq)}");
        Assert.InRange(Spread(clipped), Spread(img), Spread(eq));
        // Within one tile the mapping is monotonic: a brighter input pixel never becomes darker.
        for (int i = 1; i < 8; i++)
            if (img.Pixels[i] > img.Pixels[i - 1]) Assert.True(eq.Pixels[i] >= eq.Pixels[i - 1]);
    }

    [Fact]
    public void Apply_ProducesRequestedSizeAndChannels()
    {
        var img = Make(90, 60, (x, y) => x + y);
        var grey = Preprocessing.Apply(img, new PreprocessSettings(32, 1, FitMode.Pad, ContrastMode.Clahe));
        Assert.Equal((32, 32, 1), (grey.Width, grey.Height, grey.Channels));
        var rgb = Preprocessing.Apply(img, new PreprocessSettings(16, 3, FitMode.Crop, ContrastMode.Autocontrast));
        Assert.Equal((16, 16, 3), (rgb.Width, rgb.Height, rgb.Channels));
        Assert.Equal(rgb.Pixels[0], rgb.Pixels[1]);
    }
}
