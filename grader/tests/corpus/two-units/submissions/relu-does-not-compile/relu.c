/*
 * two-units: a ReLU with a syntax error (a missing semicolon); its linear.c
 * is correct but draws a warning, so that both units write to the build log.
 */
#include "nn/layers.h"

nn_status nn_relu_forward(nn_real *out, const nn_real *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = x[i] > 0 ? x[i] : 0
    return NN_OK;
}

nn_status nn_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (x[i] > 0)
            dx[i] += dout[i];
    return NN_OK;
}
