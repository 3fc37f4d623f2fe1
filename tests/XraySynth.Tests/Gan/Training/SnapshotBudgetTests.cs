using XraySynth.Gan.Training;

namespace XraySynth.Tests.Gan.Training;

/// <summary>How a snapshot's FD8 sample and fakes-grid rows are sized to the 8% budget (issue 15).</summary>
public class SnapshotBudgetTests
{
    [Fact]
    public void AmpleBudget_FullFd8AndGrid()
    {
        // 10,000 s trained, 1 ms per image: budget 800 s, 400 s each = 400,000 images, capped at 1,024 and 32 rows.
        var (fd8, columns, rows, budget) = SnapshotPolicy.Size(10_000, 0, 1e-3, 1024, 32, 32);
        Assert.Equal(1024, fd8);
        Assert.Equal((32, 32), (columns, rows));
        Assert.Equal(800, budget, 9);
    }

    [Fact]
    public void PartialBudget_Fd8InStepsOf64_RowsFromTheOtherHalf()
    {
        // 100 s trained, 2 s of file writing last time: budget 8 − 2 = 6 s, 3 s each; at 10 ms per image 300 images:
        // FD8 on 256 (a multiple of 64), the grid 300 / 32 = 9 rows.
        var (fd8, columns, rows, budget) = SnapshotPolicy.Size(100, 2, 0.01, 1024, 32, 32);
        Assert.Equal(256, fd8);
        Assert.Equal((32, 9), (columns, rows));
        Assert.Equal(6, budget, 9);
    }

    [Fact]
    public void FloorDoesNotFit_Fd8Skipped_GridGetsTheWholeBudget()
    {
        // The 64 px cfg-auto case on a CPU: 525 s trained, 2.9 s of files, 0.4 s per image. Budget 39.1 s; half
        // affords 48 images < the 128-image floor, so FD8 is skipped and the grid gets 97 images = 3 rows of 32.
        var (fd8, columns, rows, _) = SnapshotPolicy.Size(525, 2.9, 0.4, 1024, 32, 32);
        Assert.Null(fd8);
        Assert.Equal((32, 3), (columns, rows));
    }

    [Fact]
    public void LessThanARow_APartialFirstRow()
    {
        // 160 s trained (two ticks at 64 px), 3 s of files: budget 9.8 s = 24 images at 0.4 s, no FD8: a 24 x 1 strip.
        var (fd8, columns, rows, _) = SnapshotPolicy.Size(160, 3, 0.4, 1024, 32, 32);
        Assert.Null(fd8);
        Assert.Equal((24, 1), (columns, rows));
    }

    [Fact]
    public void NothingAffordable_TheSmallestGrid_NoFd8()
    {
        var (fd8, columns, rows, budget) = SnapshotPolicy.Size(1, 5, 0.4, 1024, 32, 32);
        Assert.Null(fd8);
        Assert.Equal((SnapshotPolicy.MinGridImages, 1), (columns, rows));
        Assert.Equal(0, budget);
    }

    [Fact]
    public void FewerQualitySamplesThanTheFloor_FloorIsTheSampleCount()
    {
        // --quality-samples below 128: FD8 runs on all of them as soon as they fit.
        var (fd8, _, _, _) = SnapshotPolicy.Size(1000, 0, 0.01, 64, 8, 8);
        Assert.Equal(64, fd8);
    }
}
