/*
 * upsample2d.c - nearest and bilinear upsampling by an integer factor s,
 * (N, C, H, W) -> (N, C, sH, sW), and the backward of each.
 *
 * Nearest copies each input into an s x s block:
 *     out[i, j] = x[i / s, j / s]           (integer division)
 * Bilinear with align_corners = false (PyTorch's default) places output
 * index o at input coordinate u = (o + 0.5) / s - 0.5, the centre of its
 * pixel measured in input pixels, clamps u below at 0, and interpolates
 * between rows i0 = floor(u) and i1 = min(i0 + 1, H - 1) with weights
 * (1 - l, l), l = u - i0; likewise along columns, then
 *     out[i, j] = (1 - lh) ((1 - lw) x[i0, j0] + lw x[i0, j1])
 *               +      lh  ((1 - lw) x[i1, j0] + lw x[i1, j1]).
 * At the borders the clamp makes i1 = i0 (or u = 0), so edge values repeat
 * rather than fading towards a zero padding.
 *
 * Both maps are linear, out = U x, and backward computes dx += U^T dout:
 * every output's gradient goes back to the inputs it was read from, with
 * the weights it was read with (for nearest, each input sums the s^2
 * gradients of its block). Weights are computed in double.
 */
#include "nn/pool.h"

nn_status nn_upsample2d_forward(nn_real *out, const nn_real *x, int batch,
                                const nn_upsample_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_upsample2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_upsample_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}
