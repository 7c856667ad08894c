/*
 * linear.c - the fully-connected (affine) layer, out = x W^T + b.
 *
 * The weight is stored (O, I) as PyTorch stores it, so row o holds the
 * weights into output unit o. All three products of the layer go through
 * GEMM; only the bias gradient, a column sum, is a plain loop (a GEMM with a
 * vector of ones would need a buffer, and kernels never allocate).
 *
 * With L the loss and dout = dL/dout (N, O), the chain rule through
 * out[n,o] = sum_i x[n,i] W[o,i] + b[o] gives
 *     dx = dout W        (N, O)(O, I)
 *     dW = dout^T x      (O, N)(N, I)
 *     db = sum_n dout[n, :]
 */
#include "nn/layers.h"

#include "nn/gemm.h"

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)weight;
    (void)bias;
    (void)batch;
    (void)in_features;
    (void)out_features;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dweight;
    (void)dbias;
    (void)dout;
    (void)x;
    (void)weight;
    (void)batch;
    (void)in_features;
    (void)out_features;
    return NN_ERR_NOT_IMPLEMENTED;
}
