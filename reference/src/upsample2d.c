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
    /* BEGIN SOLUTION */
    const int H = g->height, W = g->width, OH = g->output_height, OW = g->output_width;
    const int s = g->scale;
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;

    for (size_t p = 0; p < planes; p++) {
        const nn_real *plane = x + p * in_plane;
        nn_real *o = out + p * out_plane;
        for (int i = 0; i < OH; i++) {
            nn_real *row = o + (size_t)i * OW;
            if (g->mode == NN_UPSAMPLE_NEAREST) {
                const nn_real *source = plane + (size_t)(i / s) * W;
                for (int j = 0; j < OW; j++)
                    row[j] = source[j / s];
                continue;
            }
            double u = (i + 0.5) / s - 0.5;
            if (u < 0)
                u = 0;
            const int i0 = (int)u, i1 = i0 < H - 1 ? i0 + 1 : i0;
            const double lh = u - i0;
            const nn_real *r0 = plane + (size_t)i0 * W, *r1 = plane + (size_t)i1 * W;
            for (int j = 0; j < OW; j++) {
                double v = (j + 0.5) / s - 0.5;
                if (v < 0)
                    v = 0;
                const int j0 = (int)v, j1 = j0 < W - 1 ? j0 + 1 : j0;
                const double lw = v - j0;
                row[j] = (nn_real)((1 - lh) * ((1 - lw) * r0[j0] + lw * r0[j1])
                                   + lh * ((1 - lw) * r1[j0] + lw * r1[j1]));
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_upsample2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_upsample_geometry *g)
{
    /* BEGIN SOLUTION */
    const int H = g->height, W = g->width, OH = g->output_height, OW = g->output_width;
    const int s = g->scale;
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;

    for (size_t p = 0; p < planes; p++) {
        nn_real *plane = dx + p * in_plane;
        const nn_real *grad = dout + p * out_plane;
        for (int i = 0; i < OH; i++) {
            const nn_real *row = grad + (size_t)i * OW;
            if (g->mode == NN_UPSAMPLE_NEAREST) {
                nn_real *target = plane + (size_t)(i / s) * W;
                for (int j = 0; j < OW; j++)
                    target[j / s] += row[j];
                continue;
            }
            double u = (i + 0.5) / s - 0.5;
            if (u < 0)
                u = 0;
            const int i0 = (int)u, i1 = i0 < H - 1 ? i0 + 1 : i0;
            const double lh = u - i0;
            nn_real *r0 = plane + (size_t)i0 * W, *r1 = plane + (size_t)i1 * W;
            for (int j = 0; j < OW; j++) {
                double v = (j + 0.5) / s - 0.5;
                if (v < 0)
                    v = 0;
                const int j0 = (int)v, j1 = j0 < W - 1 ? j0 + 1 : j0;
                const double lw = v - j0;
                /* When i1 == i0 or j1 == j0 two terms land on the same
                 * input and add up to its full weight, as they should. */
                const double gr = row[j];
                r0[j0] += (nn_real)((1 - lh) * (1 - lw) * gr);
                r0[j1] += (nn_real)((1 - lh) * lw * gr);
                r1[j0] += (nn_real)(lh * (1 - lw) * gr);
                r1[j1] += (nn_real)(lh * lw * gr);
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}
