using XraySynth.Gan.Augment;
using static TorchSharp.torch;

namespace XraySynth.Tests.Gan.Augment;

public class AdaControllerTests
{
    [Fact]
    public void Update_MovesPBySignOfRtMinusTarget_TimesBatchIntervalOverAdaKimg()
    {
        var ada = new AdaController(target: 0.6, batchSize: 32, interval: 4, adaKimg: 500, initialP: 0.1);
        var step = 32 * 4 / (500 * 1000.0);
        Assert.Equal(step, ada.Step, 15);

        ada.Update(signSum: 70, signCount: 100); // r_t = 0.7 > 0.6: D overfits, augment more
        Assert.Equal(0.1 + step, ada.P, 15);
        Assert.Equal(0.7, ada.LastRt!.Value, 15);

        ada.Update(signSum: -20, signCount: 100); // r_t = −0.2 < 0.6
        ada.Update(signSum: 10, signCount: 100);
        Assert.Equal(0.1 - step, ada.P, 15);

        ada.Update(signSum: 60, signCount: 100); // r_t = target exactly: sign 0, p stays
        Assert.Equal(0.1 - step, ada.P, 15);
    }

    [Fact]
    public void Update_NeverTakesPBelowZero()
    {
        var ada = new AdaController(0.6, batchSize: 64, adaKimg: 100, initialP: 0.001);
        ada.Update(-64, 64);
        Assert.Equal(0, ada.P);
    }

    [Fact]
    public void Accumulate_UpdatesOnlyEveryIntervalMinibatches_FromTheSignsOfRealLogits()
    {
        using var scope = NewDisposeScope();
        using var ada = new AdaController(0.6, batchSize: 4, interval: 4, adaKimg: 1);
        var logits = tensor(new float[] { 2.5f, 0.1f, -1, 3 }).reshape(4, 1); // signs 1, 1, −1, 1: mean 0.5
        for (var batch = 1; batch <= 3; batch++)
        {
            ada.Accumulate(logits);
            Assert.False(ada.MaybeUpdate(batch));
        }
        Assert.Equal(new AdaState(0, 6, 12, null), ada.GetState());
        ada.Accumulate(tensor(new float[] { 1, 1, 1, 1 }).reshape(4, 1));
        Assert.True(ada.MaybeUpdate(4)); // r_t = 10/16 = 0.625 > 0.6
        Assert.Equal(16 / 1000.0, ada.P, 15);
        Assert.Equal(0.625, ada.LastRt!.Value, 15);
        Assert.Equal(new AdaState(ada.P, 0, 0, 0.625), ada.GetState());
    }

    [Fact]
    public void State_RoundTripsThroughSetState()
    {
        using var ada = new AdaController(0.6, 8);
        ada.SetState(new AdaState(0.25, 3, 7, 0.4));
        Assert.Equal(new AdaState(0.25, 3, 7, 0.4), ada.GetState());
    }
}
