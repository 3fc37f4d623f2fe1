using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace XraySynth.Gan.Augment;

/// <summary>
/// Bilinear grid_sample (zeros padding, align_corners = false) with gradients of every order with respect to the
/// input: libtorch has no derivative for grid_sample's backward, which R1 through the augmentation needs. As the
/// official grid_sample_gradfix: the backward of grid_sample is a second custom function whose own backward is
/// grid_sample again (the input gradient is linear in the output gradient: its adjoint is the sampling itself).
/// The grid must not require gradients (ADA's grid comes from random numbers).
/// <para>On CUDA the backward functions run on autograd worker threads, outside any dispose scope of the caller: they
/// open their own, and release the gradient tensors handed to them once used, so GPU memory does not wait for the
/// garbage collector (only the wrapper of each returned gradient does; libtorch has copied it by then).</para>
/// </summary>
public static class GridSampleGradfix
{
    /// <summary>input [N, C, H, W], grid [N, Ho, Wo, 2] in [−1, 1] → output [N, C, Ho, Wo].</summary>
    public static Tensor GridSample(Tensor input, Tensor grid)
    {
        if (input.ndim != 4 || grid.ndim != 4)
            throw new ArgumentException("grid_sample needs input [N, C, H, W] and grid [N, Ho, Wo, 2].");
        if (grid.requires_grad)
            throw new ArgumentException("GridSampleGradfix does not differentiate with respect to the grid.", nameof(grid));
        return GridSample2dForward.apply(input, grid);
    }

    /// <summary>The plain sampling: bilinear, zeros outside, pixel centres at (i + 0.5) / size.</summary>
    internal static Tensor Sample(Tensor input, Tensor grid) =>
        F.grid_sample(input, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);

    /// <summary>y = grid_sample(x, grid); its backward is <see cref="GridSample2dBackward"/>.</summary>
    private sealed class GridSample2dForward : autograd.SingleTensorFunction<GridSample2dForward>
    {
        public override string Name => nameof(GridSample2dForward);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            var grid = (Tensor)vars[1];
            ctx.save_for_backward([input, grid]);
            return Sample(input, grid);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            Tensor gradInput;
            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables(); // [input, grid]
                gradInput = GridSample2dBackward.apply(gradOutput, saved[0], saved[1]).DetachFromDisposeScope();
            }
            gradOutput.Dispose(); // handed to us by the engine; libtorch keeps its own reference where it needs one
            return [gradInput, null!];
        }
    }

    /// <summary>dL/dx = grid_sampleᵀ(dL/dy); its backward is grid_sample applied to the incoming gradient.</summary>
    private sealed class GridSample2dBackward : autograd.SingleTensorFunction<GridSample2dBackward>
    {
        public override string Name => nameof(GridSample2dBackward);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var gradOutput = (Tensor)vars[0];
            var input = (Tensor)vars[1];
            var grid = (Tensor)vars[2];
            ctx.save_for_backward([grid]);
            // The adjoint of the sampling, from libtorch's own grid_sample backward (a nested, first-order pass).
            using var grad = enable_grad();
            using var scope = NewDisposeScope();
            var x = input.detach().requires_grad_(true);
            var y = Sample(x, grid.detach());
            return autograd.grad([y], [x], [gradOutput])[0].MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradGradInput)
        {
            Tensor gradGradOutput;
            using (var scope = NewDisposeScope())
            {
                var grid = ctx.get_saved_variables()[0];
                // d(gradInput)/d(gradOutput) is the adjoint of the adjoint: the sampling itself.
                gradGradOutput = GridSample2dForward.apply(gradGradInput, grid).DetachFromDisposeScope();
            }
            gradGradInput.Dispose();
            return [gradGradOutput, null!, null!];
        }
    }
}
