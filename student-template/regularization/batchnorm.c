/*
 * batchnorm.c - batch normalisation (Ioffe and Szegedy, ICML 2015) over
 * (N, C, S) inputs, one set of statistics per channel c.
 *
 * A fully-connected layer's output is (N, C, 1): every feature is its own
 * channel and its statistics run over the N examples. A convolutional
 * layer's output is (N, C, H*W): a channel shares one mean, one variance and
 * one (gamma, beta) across all positions, so its statistics run over N*H*W
 * values. Either way the learnable values are gamma and beta, two a channel.
 *
 * Training, with M = N*S values per channel:
 *     mean = (1/M) sum x,  var = (1/M) sum (x - mean)^2   (biased)
 *     xhat = (x - mean) / sqrt(var + eps),  out = gamma xhat + beta
 *     running_mean = (1 - m) running_mean + m mean
 *     running_var  = (1 - m) running_var  + m var M / (M - 1)   (unbiased)
 * which is PyTorch's convention for the momentum m and for the variances.
 * Eval: the same affine map with the running statistics in place of the
 * batch ones, so one example's output does not depend on the others.
 *
 * Mean and variance are accumulated in double and in two passes (mean
 * first, then squared deviations): the one-pass E[x^2] - E[x]^2 cancels
 * catastrophically when the mean is large next to the spread.
 *
 * Contract: in training M must be at least 2 (one value has no unbiased
 * variance; PyTorch refuses it). The caller checks this when it sets up the
 * layer; should M = 1 reach the kernel, the biased variance (0) is used for
 * the running update rather than dividing by zero.
 */
#include "nn/layers.h"

#include <math.h>

size_t nn_batchnorm_parameter_count(int channels)
{
    /* gamma (C) and beta (C); the running statistics are not learned. */
    return 2 * (size_t)channels;
}

nn_status nn_batchnorm_forward(nn_real *out, nn_real *saved_mean, nn_real *saved_inv_std,
                               const nn_real *x, const nn_real *gamma, const nn_real *beta,
                               nn_real *running_mean, nn_real *running_var, int batch,
                               int channels, int spatial, const nn_batchnorm_config *config)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)saved_mean;
    (void)saved_inv_std;
    (void)x;
    (void)gamma;
    (void)beta;
    (void)running_mean;
    (void)running_var;
    (void)batch;
    (void)channels;
    (void)spatial;
    (void)config;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_batchnorm_backward(nn_real *dx, nn_real *dgamma, nn_real *dbeta, const nn_real *dout,
                                const nn_real *x, const nn_real *saved_mean,
                                const nn_real *saved_inv_std, const nn_real *gamma, int batch,
                                int channels, int spatial, const nn_batchnorm_config *config)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dgamma;
    (void)dbeta;
    (void)dout;
    (void)x;
    (void)saved_mean;
    (void)saved_inv_std;
    (void)gamma;
    (void)batch;
    (void)channels;
    (void)spatial;
    (void)config;
    return NN_ERR_NOT_IMPLEMENTED;
}
