/*
 * corpus: a linear layer that indexes the weight as (I, O) instead of its
 * layout (O, I), in the forward and in the backward (dweight is written in
 * the same wrong layout). It never reads out of bounds, so only the numbers
 * show it; the grader must say what it looks like.
 */
#include "nn/layers.h"

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_features; o++) {
            nn_real sum = bias != NULL ? bias[o] : 0;
            for (int i = 0; i < in_features; i++)
                sum += x[n * in_features + i] * weight[i * out_features + o];
            out[n * out_features + o] = sum;
        }
    return NN_OK;
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_features; o++) {
            nn_real g = dout[n * out_features + o];
            if (dbias != NULL)
                dbias[o] += g;
            for (int i = 0; i < in_features; i++) {
                if (dx != NULL)
                    dx[n * in_features + i] += g * weight[i * out_features + o];
                if (dweight != NULL)
                    dweight[i * out_features + o] += g * x[n * in_features + i];
            }
        }
    return NN_OK;
}
