using XraySynth.Imaging;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Imaging;

public class ImageCodecTests
{
    [Fact]
    public void Decode_Grey8_ReturnsExactPixels()
    {
        var png = PngFixtures.Grey8(5, 3, (x, y) => (byte)(x * 40 + y));
        var img = ImageCodec.Decode(png, "g8.png");
        Assert.Equal((5, 3, 1), (img.Width, img.Height, img.Channels));
        Assert.Equal(4 * 40 + 2, img.Pixels[2 * 5 + 4]);
        Assert.Equal(0, img.Pixels[0]);
    }

    [Fact]
    public void Decode_Grey16_ScalesToEightBits()
    {
        var png = PngFixtures.Grey16(4, 2, (x, y) => (ushort)(x == 0 ? 0 : x == 1 ? 65535 : x == 2 ? 32896 : 257 * 7));
        var img = ImageCodec.Decode(png, "g16.png");
        Assert.Equal(1, img.Channels);
        Assert.Equal(0, img.Pixels[0]);
        Assert.Equal(255, img.Pixels[1]);
        Assert.InRange(img.Pixels[2], 127, 129);
        Assert.Equal(7, img.Pixels[3]);
    }

    [Fact]
    public void Decode_Rgb_ConvertsToGreyByLuma()
    {
        // pure red, green, blue, white
        var s = new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 };
        var img = ImageCodec.Decode(PngFixtures.Encode(4, 1, PngFixtures.Rgb, 8, s), "rgb.png");
        Assert.Equal(new byte[] { 76, 150, 29, 255 }, img.Pixels);
        var rgb = ImageCodec.Decode(PngFixtures.Encode(4, 1, PngFixtures.Rgb, 8, s), "rgb.png", channels: 3);
        Assert.Equal(s, rgb.Pixels);
    }

    [Fact]
    public void Decode_RgbaWithTransparency_DropsAlphaWithoutPremultiplying()
    {
        var s = new byte[] { 200, 200, 200, 0, 100, 100, 100, 128 };
        var img = ImageCodec.Decode(PngFixtures.Encode(2, 1, PngFixtures.Rgba, 8, s), "rgba.png");
        Assert.Equal(new byte[] { 200, 100 }, img.Pixels);
    }

    [Fact]
    public void Decode_Palette_LooksUpColours()
    {
        var palette = new byte[] { 0, 0, 0, 255, 255, 255, 10, 20, 30 };
        var img = ImageCodec.Decode(PngFixtures.Encode(3, 1, PngFixtures.Palette, 8, [2, 1, 0], palette), "pal.png");
        Assert.Equal(new byte[] { RasterImageLuma(10, 20, 30), 255, 0 }, img.Pixels);
    }

    [Fact]
    public void Decode_GreyAlpha_KeepsGrey()
    {
        var img = ImageCodec.Decode(PngFixtures.Encode(2, 1, PngFixtures.GreyAlpha, 8, [90, 255, 180, 0]), "ga.png");
        Assert.Equal(new byte[] { 90, 180 }, img.Pixels);
    }

    [Fact]
    public void Decode_TruncatedPng_ThrowsNamingFile()
    {
        var png = PngFixtures.Grey8(64, 64, (x, y) => (byte)(x ^ y));
        var cut = png[..(png.Length / 2)];
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(cut, "cut.png"));
        Assert.Contains("cut.png", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Decode_GarbageOrEmptyOrMissing_ThrowsNamingFile()
    {
        Assert.Contains("junk.png", Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode("not an image"u8.ToArray(), "junk.png")).Message);
        Assert.Contains("empty", Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode([], "e.png")).Message);
        Assert.Contains("not found", Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode("/nonexistent/x.png")).Message);
    }

    [Fact]
    public void EncodePng_RoundTripsGreyAndRgbExactly()
    {
        var rnd = new Random(1);
        var grey = new RasterImage(7, 5, 1, Enumerable.Range(0, 35).Select(_ => (byte)rnd.Next(256)).ToArray());
        Assert.Equal(grey.Pixels, ImageCodec.Decode(ImageCodec.EncodePng(grey), "g").Pixels);
        var rgb = new RasterImage(3, 2, 3, Enumerable.Range(0, 18).Select(_ => (byte)rnd.Next(256)).ToArray());
        var back = ImageCodec.Decode(ImageCodec.EncodePng(rgb), "rgb", channels: 3);
        Assert.Equal(rgb.Pixels, back.Pixels);
    }

    [Fact]
    public void EncodePng_WritesGreyAsOneChannelAndRgbWithoutAlpha()
    {
        // IHDR colour type byte at offset 25: 0 = grey, 2 = RGB. The official dataset loader accepts only 1 or 3 channels.
        Assert.Equal(0, ImageCodec.EncodePng(RasterImage.Blank(4, 4, 1))[25]);
        Assert.Equal(2, ImageCodec.EncodePng(RasterImage.Blank(4, 4, 3, 9))[25]);
    }

    [Theory]
    [InlineData(65536, 16385, PngFixtures.Rgb)]      // RGBA buffer 65536*16385*4 bytes wraps 32 bits to 262144
    [InlineData(65536, 65536, PngFixtures.Grey)]     // 2^32 grey bytes wrap to 0
    [InlineData(46341, 46341, PngFixtures.Rgba)]     // width*height itself overflows int
    public void Decode_HeaderWithHugeSize_IsRefusedBeforeAllocating(int width, int height, byte colorType)
    {
        var png = PngFixtures.Declared(width, height, colorType);
        Assert.True(png.Length < 2000, $"fixture is {png.Length} bytes");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(png, "huge.png"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("huge.png", e.Path);
        Assert.Contains("exceeds the cap", e.Reason);
        Assert.Contains(ImageCodec.MaxPixelsVariable, e.Reason);
        Assert.InRange(allocated, 0, 1 << 20);
    }

    [Fact]
    public void Decode_DecompressionBombOverTheCap_IsRefusedFromTheHeader()
    {
        // 9000x9000 grey: 81 Mpx (over the 64 Mpx default), all its rows present as a tiny deflate stream.
        var png = PngFixtures.Declared(9000, 9000, PngFixtures.Grey, rows: 9000);
        Assert.True(png.Length < 200_000, $"fixture is {png.Length} bytes");
        Assert.Equal(64L * 1024 * 1024, ImageCodec.DefaultMaxPixels);
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(png, "bomb.png"));
        Assert.Contains("81000000 pixels", e.Reason);
    }

    [Fact]
    public void Decode_LargeImageUnderTheCap_Decodes()
    {
        // A small file that expands to 16 Mpx is legitimate (under the cap): decoded, not refused.
        var png = PngFixtures.Declared(4096, 4096, PngFixtures.Grey, rows: 4096);
        var img = ImageCodec.Decode(png, "big.png");
        Assert.Equal((4096, 4096, 1), (img.Width, img.Height, img.Channels));
        Assert.Equal(0, img.Pixels[^1]);
    }

    [Fact]
    public void Decode_TruncatedRowsOfALargeHeader_IsCorruptNotPartial()
    {
        var png = PngFixtures.Declared(3000, 2000, PngFixtures.Rgb, rows: 3);
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(png, "short.png"));
        Assert.Contains("corrupt or truncated", e.Reason);
    }

    private static byte RasterImageLuma(byte r, byte g, byte b) => (byte)((r * 299 + g * 587 + b * 114 + 500) / 1000);
}
