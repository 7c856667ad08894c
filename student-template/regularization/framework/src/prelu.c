/*
 * prelu.c - parametric ReLU (He et al., 2015): LeakyReLU whose negative
 * slope a_c is a parameter learnt per channel,
 *
 *     out[n, c, s] = x[n, c, s]          if x[n, c, s] > 0
 *                    a_c * x[n, c, s]    otherwise.
 *
 * Gradients of a loss L with upstream gradient g = dL/dout:
 *
 *     dL/dx[n, c, s] = g  if x > 0,  a_c * g  otherwise
 *     dL/da_c        = sum over n, s with x[n, c, s] <= 0 of g * x[n, c, s]
 *
 * The slope is shared across the batch and the spatial positions, so its
 * gradient sums over both. One slope for every channel (PyTorch's default
 * nn.PReLU()) is the case channels == 1: the caller views (N, C, S) as
 * (N, 1, C*S), which is the same memory.
 */
#include "nn/layers.h"

/* out, x: (N, C, S); slope: (C) */
nn_status nn_prelu_forward(nn_real *out, const nn_real *x, const nn_real *slope, int batch,
                           int channels, int spatial)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)slope;
    (void)batch;
    (void)channels;
    (void)spatial;
    return NN_ERR_NOT_IMPLEMENTED;
}

/* dx: (N, C, S) or NULL; dslope: (C) or NULL, both accumulated;
 * dout, x: (N, C, S); slope: (C) */
nn_status nn_prelu_backward(nn_real *dx, nn_real *dslope, const nn_real *dout, const nn_real *x,
                            const nn_real *slope, int batch, int channels, int spatial)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dslope;
    (void)dout;
    (void)x;
    (void)slope;
    (void)batch;
    (void)channels;
    (void)spatial;
    return NN_ERR_NOT_IMPLEMENTED;
}
