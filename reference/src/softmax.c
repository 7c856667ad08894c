/*
 * softmax.c - softmax over the last axis of an (N, K) array:
 *
 *     y_j = exp(z_j) / sum_k exp(z_k)
 *
 * Stability: softmax does not change when a constant is added to every
 * logit of a row, so we subtract the row's maximum m first. Then every
 * exp(z_j - m) is in (0, 1], nothing overflows, and the largest term is
 * exactly 1, so the sum is at least 1 and the division is safe.
 *
 * Backward: the Jacobian is dy_i/dz_j = y_i (delta_ij - y_j). Multiplying
 * it by the upstream gradient g never needs the K x K matrix:
 *
 *     dz_j = sum_i g_i y_i (delta_ij - y_j) = y_j (g_j - sum_i g_i y_i)
 *
 * one dot product per row and O(K) work.
 */
#include "nn/layers.h"

#include <math.h>

/* out, x: (N, K) */
nn_status nn_softmax_forward(nn_real *out, const nn_real *x, int batch, int classes)
{
    /* BEGIN SOLUTION */
    if (classes <= 0)
        return NN_OK;
    size_t k_count = (size_t)classes;
    for (int n = 0; n < batch; n++) {
        const nn_real *z = x + (size_t)n * k_count;
        nn_real *y = out + (size_t)n * k_count;
        nn_real max = z[0];
        for (size_t k = 1; k < k_count; k++)
            if (z[k] > max)
                max = z[k];
        /* The sum accumulates in double so that a float row with many
         * classes does not drift away from summing to 1. */
        double sum = 0.0;
        for (size_t k = 0; k < k_count; k++) {
            double e = exp((double)z[k] - (double)max);
            y[k] = (nn_real)e;
            sum += e;
        }
        for (size_t k = 0; k < k_count; k++)
            y[k] = (nn_real)((double)y[k] / sum);
    }
    return NN_OK;
    /* END SOLUTION */
}

/* dx: (N, K), accumulated; dout, out: (N, K), out the saved softmax */
nn_status nn_softmax_backward(nn_real *dx, const nn_real *dout, const nn_real *out, int batch,
                              int classes)
{
    /* BEGIN SOLUTION */
    if (dx == NULL || classes <= 0)
        return NN_OK;
    size_t k_count = (size_t)classes;
    for (int n = 0; n < batch; n++) {
        const nn_real *g = dout + (size_t)n * k_count, *y = out + (size_t)n * k_count;
        nn_real *dz = dx + (size_t)n * k_count;
        double dot = 0.0;
        for (size_t i = 0; i < k_count; i++)
            dot += (double)g[i] * (double)y[i];
        for (size_t j = 0; j < k_count; j++)
            dz[j] += (nn_real)((double)y[j] * ((double)g[j] - dot));
    }
    return NN_OK;
    /* END SOLUTION */
}
