/*
 * corpus: helpers and a table declared static, math and memory functions from the
 * C library, an assert, a debugging print and a call into another unit: all a
 * layer may use; accepted, and every check passes.
 */
#include "nn/layers.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double unit_scale[1] = { 1.0 };
static int calls;

static nn_real dot(const nn_real *a, const nn_real *b, int count)
{
    nn_real sum = 0;
    for (int i = 0; i < count; i++)
        sum += a[i] * b[i];
    return sum;
}

static void check_finite(const nn_real *values, int count)
{
    for (int i = 0; i < count; i++)
        assert(!isnan(values[i]));
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    nn_real *row = calloc((size_t)in_features, sizeof *row);
    if (row == NULL)
        return NN_ERR_MEMORY;
    nn_real probe[2] = { -1, 1 }, relu[2];
    (void)nn_relu_forward(relu, probe, 2);   /* a stub in the runner: not implemented */
    if (calls++ < 0)
        fprintf(stderr, "never printed\n");
    for (int n = 0; n < batch; n++) {
        memcpy(row, x + n * in_features, (size_t)in_features * sizeof *row);
        check_finite(row, in_features);
        for (int o = 0; o < out_features; o++)
            out[n * out_features + o] = (nn_real)(unit_scale[0] * fabs(1.0))
                                            * dot(row, weight + o * in_features, in_features)
                                        + (bias != NULL ? bias[o] : 0);
    }
    free(row);
    return NN_OK;
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_features; o++) {
            nn_real sum = bias != NULL ? bias[o] : 0;
            for (int i = 0; i < in_features; i++)
                sum += x[n * in_features + i] * weight[o * in_features + i];
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
                    dx[n * in_features + i] += g * weight[o * in_features + i];
                if (dweight != NULL)
                    dweight[o * in_features + i] += g * x[n * in_features + i];
            }
        }
    return NN_OK;
}
