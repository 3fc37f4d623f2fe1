using XraySynth.Data;

namespace XraySynth.Tests.Data;

public class PatientSplitTests
{
    private static List<MuraImage> Images(int patients)
    {
        var rnd = new Random(5);
        var list = new List<MuraImage>();
        for (int p = 0; p < patients; p++)
        {
            int label = p % 2;
            for (int v = 0; v < 1 + rnd.Next(4); v++)
            {
                var study = $"train/XR_SHOULDER/patient{p:D5}/study1_{(label == 1 ? "positive" : "negative")}";
                list.Add(new MuraImage($"{study}/image{v}.png", "", MuraSplit.Train, "shoulder", $"patient{p:D5}", study, label));
            }
        }
        return list;
    }

    [Fact]
    public void ValidationPatients_AreDisjointFromTrainAndKeepBothLabels()
    {
        var images = Images(200);
        var val = PatientSplit.ValidationPatients(images, 0.1, seed: 7);
        Assert.Equal(20, val.Count);
        var valImages = images.Where(i => PatientSplit.SplitOf(i, val) == DataSplit.Val).ToList();
        var trainImages = images.Where(i => PatientSplit.SplitOf(i, val) == DataSplit.Train).ToList();
        Assert.Empty(valImages.Select(i => i.Patient).Intersect(trainImages.Select(i => i.Patient)));
        Assert.Equal(10, valImages.Where(i => i.Label == 1).Select(i => i.Patient).Distinct().Count());
        Assert.Equal(10, valImages.Where(i => i.Label == 0).Select(i => i.Patient).Distinct().Count());
    }

    [Fact]
    public void ValidationPatients_DeterministicForSeedAndIndependentOfOrder()
    {
        var images = Images(100);
        var a = PatientSplit.ValidationPatients(images, 0.2, seed: 1);
        var b = PatientSplit.ValidationPatients(Enumerable.Reverse(images), 0.2, seed: 1);
        var c = PatientSplit.ValidationPatients(images, 0.2, seed: 2);
        Assert.Equal(a.Order(), b.Order());
        Assert.NotEqual(a.Order(), c.Order());
    }

    [Fact]
    public void SplitOf_MuraValidIsTest()
    {
        var img = new MuraImage("valid/x", "", MuraSplit.Valid, "shoulder", "patient1", "s", 1);
        Assert.Equal(DataSplit.Test, PatientSplit.SplitOf(img, ["patient1"]));
    }
}
