using TorchSharp;
using XraySynth.Imaging;
using static TorchSharp.torch;

namespace XraySynth.Tests.Imaging;

public class ImageGridTests
{
    [Fact]
    public void Compose_LaysOutImagesRowByRow_MappingMinusOneToOneOntoBytes()
    {
        using var scope = NewDisposeScope();
        // 6 images of 2x3 pixels, image i filled with −1 + 0.4·i: 0, 51, 102, 153, 204, 255.
        var images = stack(Enumerable.Range(0, 6).Select(i => full([1, 2, 3], -1 + 0.4 * i)).ToArray());
        var grid = ImageGrid.Compose(images, columns: 3, rows: 2);
        Assert.Equal((9, 4, 1), (grid.Width, grid.Height, grid.Channels));
        byte At(int x, int y) => grid.Pixels[y * grid.Width + x];
        Assert.Equal(0, At(0, 0));
        Assert.Equal(51, At(3, 1));   // second image of the first row
        Assert.Equal(102, At(8, 0));  // third image of the first row
        Assert.Equal(153, At(0, 2));  // first image of the second row
        Assert.Equal(255, At(8, 3));
    }

    [Fact]
    public void Compose_Rgb_InterleavesChannels_AndUint8PassesThrough()
    {
        using var scope = NewDisposeScope();
        var images = zeros([2, 3, 1, 1], ScalarType.Byte);
        images[0, 0] = 10;
        images[1, 2] = 200;
        var grid = ImageGrid.Compose(images, 2, 1);
        Assert.Equal(new byte[] { 10, 0, 0, 0, 0, 200 }, grid.Pixels);
        Assert.Throws<ArgumentException>(() => ImageGrid.Compose(images, 3, 1));
    }

    [Fact]
    public void OfficialSize_FitsAbout7680By4320Pixels()
    {
        Assert.Equal((30, 16), ImageGrid.OfficialSize(256));
        Assert.Equal((32, 32), ImageGrid.OfficialSize(32));
        Assert.Equal((7, 4), ImageGrid.OfficialSize(1024));
    }
}
