/*
 * global_avg_pool2d.c - global average pooling, (N, C, H, W) -> (N, C).
 *
 * Each channel's feature map collapses to its mean,
 *     out[n,c] = (1 / S) sum_s x[n,c,s],   S = H W,
 * so the layer's output size is C whatever the input's height and width:
 * a fully-convolutional trunk followed by it (and a linear classifier)
 * accepts images of any size, where flattening would tie the first linear
 * layer to one H x W. Each input contributes 1 / S of its channel's mean:
 *     dx[n,c,s] += dout[n,c] / S.
 * The sum is accumulated in double: S may be thousands of values.
 */
#include "nn/pool.h"

nn_status nn_global_avg_pool2d_forward(nn_real *out, const nn_real *x, int batch, int channels,
                                       int spatial)
{
    /* BEGIN SOLUTION */
    const size_t planes = (size_t)batch * (size_t)channels;
    for (size_t p = 0; p < planes; p++) {
        const nn_real *plane = x + p * (size_t)spatial;
        double sum = 0;
        for (int s = 0; s < spatial; s++)
            sum += plane[s];
        out[p] = (nn_real)(sum / spatial);
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_global_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch, int channels,
                                        int spatial)
{
    /* BEGIN SOLUTION */
    const size_t planes = (size_t)batch * (size_t)channels;
    for (size_t p = 0; p < planes; p++) {
        nn_real *plane = dx + p * (size_t)spatial;
        const nn_real share = (nn_real)((double)dout[p] / spatial);
        for (int s = 0; s < spatial; s++)
            plane[s] += share;
    }
    return NN_OK;
    /* END SOLUTION */
}
