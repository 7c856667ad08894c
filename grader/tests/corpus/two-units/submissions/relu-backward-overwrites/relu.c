/*
 * two-units: a ReLU whose backward assigns the gradient instead of adding
 * to it (the forward is right).
 */
#include "nn/layers.h"

nn_status nn_relu_forward(nn_real *out, const nn_real *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = x[i] > 0 ? x[i] : 0;
    return NN_OK;
}

nn_status nn_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        dx[i] = x[i] > 0 ? dout[i] : 0;
    return NN_OK;
}
