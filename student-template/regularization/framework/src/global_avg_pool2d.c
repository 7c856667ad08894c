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
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)batch;
    (void)channels;
    (void)spatial;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_global_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch, int channels,
                                        int spatial)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)batch;
    (void)channels;
    (void)spatial;
    return NN_ERR_NOT_IMPLEMENTED;
}
