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
    /* BEGIN SOLUTION */
    /* out (N, O); x (N, I); weight (O, I); bias (O) or NULL.
     * Writing the bias into every row first lets the GEMM add onto it
     * (beta = 1); without a bias, beta = 0 overwrites whatever out held. */
    nn_real beta = 0;
    if (bias != NULL) {
        for (int n = 0; n < batch; n++) {
            nn_real *row = out + (size_t)n * (size_t)out_features;
            for (int o = 0; o < out_features; o++)
                row[o] = bias[o];
        }
        beta = 1;
    }
    nn_matmul(false, true, batch, out_features, in_features, 1, x, weight, beta, out);
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    /* BEGIN SOLUTION */
    /* beta = 1 in every product: gradients accumulate into what the caller
     * already holds. */
    if (dx != NULL) /* (N, I) += (N, O)(O, I) */
        nn_matmul(false, false, batch, in_features, out_features, 1, dout, weight, 1, dx);
    if (dweight != NULL) /* (O, I) += (N, O)^T (N, I) */
        nn_matmul(true, false, out_features, in_features, batch, 1, dout, x, 1, dweight);
    if (dbias != NULL) {
        for (int n = 0; n < batch; n++) {
            const nn_real *row = dout + (size_t)n * (size_t)out_features;
            for (int o = 0; o < out_features; o++)
                dbias[o] += row[o];
        }
    }
    return NN_OK;
    /* END SOLUTION */
}
