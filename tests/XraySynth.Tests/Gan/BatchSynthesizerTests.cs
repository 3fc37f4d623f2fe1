using TorchSharp;
using XraySynth.Gan.Generation;
using XraySynth.Gan.Networks;
using static TorchSharp.torch;
using Generator = XraySynth.Gan.Networks.Generator;

namespace XraySynth.Tests.Gan;

public class BatchSynthesizerTests
{
    private static Generator Smoke(int cDim = 0)
    {
        manual_seed(51);
        var g = new Generator(NetworkPresets.Create("smoke", 16, 1, cDim).G);
        using (no_grad())
            foreach (var (_, p) in g.named_parameters().Where(p => p.name.EndsWith("noise_strength")))
                p.fill_(0.5); // make the noise matter
        return g;
    }

    private static Dictionary<long, byte[]> Images(Generator g, long[] seeds, int batchSize, NoiseMode mode,
        int? cls = null, double psi = 1)
    {
        var result = new Dictionary<long, byte[]>();
        foreach (var batch in BatchSynthesizer.Generate(g, CPU, seeds, cls, psi, mode, batchSize))
        {
            using (batch)
            {
                Assert.Equal(ScalarType.Byte, batch.Images.dtype);
                Assert.Equal(new long[] { batch.Seeds.Count, 1, 16, 16 }, batch.Images.shape);
                for (var i = 0; i < batch.Seeds.Count; i++)
                    result[batch.Seeds[i]] = batch.GetImageBytes(i);
            }
        }
        return result;
    }

    [Theory]
    [InlineData(NoiseMode.Const)]
    [InlineData(NoiseMode.Random)]
    public void SameSeed_GivesIdenticalImage_RegardlessOfBatchSizeAndOrder(NoiseMode mode)
    {
        using var g = Smoke();
        long[] seeds = [5, 17, 3, 42, 7];
        var one = Images(g, seeds, 1, mode);
        var three = Images(g, seeds.Reverse().ToArray(), 3, mode);
        var all = Images(g, seeds, 8, mode);
        foreach (var seed in seeds)
        {
            Assert.Equal(one[seed], three[seed]);
            Assert.Equal(one[seed], all[seed]);
        }
        Assert.NotEqual(one[5], one[17]);
        Assert.Equal(16 * 16, one[5].Length);
    }

    [Fact]
    public void Psi0_GivesTheSameImageForEverySeed()
    {
        using var g = Smoke(cDim: 2);
        using (var scope = NewDisposeScope())
            g.Mapping.UpdateWAvg(randn(16, 32));
        var images = Images(g, [1, 2, 3], 3, NoiseMode.Const, cls: 1, psi: 0);
        Assert.Equal(images[1], images[2]);
        Assert.Equal(images[1], images[3]);
    }

    [Fact]
    public void ClassIndex_IsRequiredForConditionalAndRefusedForUnconditional()
    {
        using var conditional = Smoke(cDim: 2);
        using var unconditional = Smoke();
        Assert.Throws<ArgumentException>(() => BatchSynthesizer.Generate(conditional, CPU, [1], classIndex: null));
        Assert.Throws<ArgumentException>(() => BatchSynthesizer.Generate(conditional, CPU, [1], classIndex: 2));
        Assert.Throws<ArgumentException>(() => BatchSynthesizer.Generate(unconditional, CPU, [1], classIndex: 0));
        Assert.Throws<ArgumentException>(() => BatchSynthesizer.Generate(unconditional, CPU, [-1]));
        var byClass = Images(conditional, [9], 1, NoiseMode.Const, cls: 0)[9];
        Assert.NotEqual(byClass, Images(conditional, [9], 1, NoiseMode.Const, cls: 1)[9]);
    }

    [Fact]
    public void ToUint8_MapsMinusOneToZeroAndOneTo255()
    {
        using var scope = NewDisposeScope();
        var u8 = BatchSynthesizer.ToUint8(tensor(new float[] { -2, -1, 0, 1, 2 }));
        Assert.Equal(new byte[] { 0, 0, 128, 255, 255 }, u8.data<byte>().ToArray());
    }
}
