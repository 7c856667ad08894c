/*
 * tanh.c - the hyperbolic tangent, elementwise.
 *
 * tanh(x) = 2 sigmoid(2x) - 1: a zero-centred sigmoid with range (-1, 1).
 * libm's tanh() is accurate and saturates to +-1 without overflow, so the
 * forward pass calls it directly. Backward uses the saved output y:
 * d tanh / dx = 1 - y^2.
 */
#include "nn/layers.h"

#include <math.h>

/* out, x: (count) */
nn_status nn_tanh_forward(nn_real *out, const nn_real *x, size_t count)
{
    /* BEGIN SOLUTION */
    for (size_t i = 0; i < count; i++)
        out[i] = (nn_real)tanh((double)x[i]);
    return NN_OK;
    /* END SOLUTION */
}

/* dx, dout, out: (count); dx += dout * (1 - y^2) with y the saved output */
nn_status nn_tanh_backward(nn_real *dx, const nn_real *dout, const nn_real *out, size_t count)
{
    /* BEGIN SOLUTION */
    if (dx == NULL)
        return NN_OK;
    for (size_t i = 0; i < count; i++) {
        nn_real y = out[i];
        dx[i] += dout[i] * (1 - y * y);
    }
    return NN_OK;
    /* END SOLUTION */
}
