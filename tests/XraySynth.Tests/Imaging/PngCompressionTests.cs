using XraySynth.Imaging;

namespace XraySynth.Tests.Imaging;

public class PngCompressionTests
{
    [Fact]
    public void EncodePng_EveryCompression_SamePixels_SizesInOrder()
    {
        var rnd = new Random(3);
        var px = new byte[128 * 96 * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)((i / 3 % 128) + (rnd.Next(16) == 0 ? 1 : 0));   // ramps + sparse noise: compressible
        foreach (var channels in new[] { 1, 3 })
        {
            var image = new RasterImage(128, 96, 3, px).WithChannels(channels);
            var sizes = new Dictionary<PngCompression, int>();
            foreach (var compression in Enum.GetValues<PngCompression>())
            {
                var png = ImageCodec.EncodePng(image, compression);
                var back = ImageCodec.Decode(png, "test.png", channels);
                Assert.Equal(image.Pixels, back.Pixels);
                sizes[compression] = png.Length;
            }
            Assert.True(sizes[PngCompression.None] >= image.Pixels.Length, "none stores the raw rows");
            Assert.True(sizes[PngCompression.Fast] < sizes[PngCompression.None] * 0.8, $"fast {sizes[PngCompression.Fast]} vs none {sizes[PngCompression.None]}");
            Assert.True(sizes[PngCompression.Small] <= sizes[PngCompression.Fast], $"small {sizes[PngCompression.Small]} vs fast {sizes[PngCompression.Fast]}");
            Assert.Equal(ImageCodec.EncodePng(image), ImageCodec.EncodePng(image, PngCompression.Small));
        }
    }
}
