/*
 * avg_pool2d.c - average pooling over KH x KW windows, with stride and
 * padding.
 *
 * Padding counts as zeros and the divisor is always KH KW, as in PyTorch's
 * default (count_include_pad = true):
 *     out[n,c,i,j] = (1 / (KH KW)) sum_{(h,w) in window, inside the image} x[n,c,h,w].
 * (With ceil_mode = false no window reaches past the padded border, so the
 * divisor PyTorch computes is KH KW for every window.) A window overlapping
 * the border therefore averages towards zero; count_include_pad = false
 * would divide by the number of real values instead.
 *
 * out is linear in x with coefficient 1 / (KH KW) for each input of each
 * window, so backward hands every input of a window that share:
 *     dx[n,c,h,w] += sum_{windows containing (h,w)} dout[n,c,i,j] / (KH KW).
 */
#include "nn/pool.h"

nn_status nn_avg_pool2d_forward(nn_real *out, const nn_real *x, int batch,
                                const nn_pool_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_pool_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}
