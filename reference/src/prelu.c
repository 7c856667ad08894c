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
    /* BEGIN SOLUTION */
    for (int n = 0; n < batch; n++) {
        for (int c = 0; c < channels; c++) {
            size_t base = ((size_t)n * (size_t)channels + (size_t)c) * (size_t)spatial;
            nn_real a = slope[c];
            for (int s = 0; s < spatial; s++) {
                nn_real v = x[base + s];
                out[base + s] = v > 0 ? v : a * v;
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}

/* dx: (N, C, S) or NULL; dslope: (C) or NULL, both accumulated;
 * dout, x: (N, C, S); slope: (C) */
nn_status nn_prelu_backward(nn_real *dx, nn_real *dslope, const nn_real *dout, const nn_real *x,
                            const nn_real *slope, int batch, int channels, int spatial)
{
    /* BEGIN SOLUTION */
    for (int c = 0; c < channels; c++) {
        nn_real a = slope[c];
        /* The slope's gradient sums N * S terms: a double accumulator keeps
         * the float build from losing the small ones. */
        double slope_sum = 0.0;
        for (int n = 0; n < batch; n++) {
            size_t base = ((size_t)n * (size_t)channels + (size_t)c) * (size_t)spatial;
            for (int s = 0; s < spatial; s++) {
                nn_real v = x[base + s], g = dout[base + s];
                if (v > 0) {
                    if (dx != NULL)
                        dx[base + s] += g;
                } else {
                    if (dx != NULL)
                        dx[base + s] += a * g;
                    slope_sum += (double)g * (double)v;
                }
            }
        }
        if (dslope != NULL)
            dslope[c] += (nn_real)slope_sum;
    }
    return NN_OK;
    /* END SOLUTION */
}
