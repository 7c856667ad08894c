/*
 * max_pool2d.c - max pooling over KH x KW windows, with stride and padding.
 *
 * Forward keeps, for every output, where its maximum came from:
 *     out[n,c,i,j] = x[n,c,argmax[n,c,i,j]],
 * argmax an index h * W + w inside the (H, W) plane. The output is a
 * selection, so its derivative is 1 for the selected input and 0 for the
 * others, and backward is a scatter:
 *     dx[n,c,argmax[n,c,i,j]] += dout[n,c,i,j].
 * Overlapping windows (stride < kernel) may select the same input twice;
 * its gradients then add up, which the += does.
 *
 * Padding is -infinity and is never selected; the geometry guarantees that
 * every window holds at least one real value, so the scan can start from
 * that value. "v > best" keeps the first of equal maxima in row-major scan
 * order (PyTorch's rule); "v != v" lets a NaN win, so it propagates.
 *
 * The 2x2, stride 2, unpadded window of nearly every CNN gets its own loop:
 * the two input rows are read once, in order, every window is the same
 * three comparisons, and no bounds need testing.
 */
#include "nn/pool.h"

#include <math.h>

nn_status nn_max_pool2d_forward(nn_real *out, int *argmax, const nn_real *x, int batch,
                                const nn_pool_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)argmax;
    (void)x;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_max_pool2d_backward(nn_real *dx, const nn_real *dout, const int *argmax, int batch,
                                 const nn_pool_geometry *g)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)argmax;
    (void)batch;
    (void)g;
    return NN_ERR_NOT_IMPLEMENTED;
}
