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
    /* BEGIN SOLUTION */
    /* Value (n, c, s) sits at n*C*S + c*S + s. */
    const size_t sample_stride = (size_t)channels * (size_t)spatial;
    const size_t values = (size_t)batch * (size_t)spatial; /* M */
    const double momentum = config->momentum;

    for (int c = 0; c < channels; c++) {
        const size_t offset = (size_t)c * (size_t)spatial;
        double mean, inv_std;
        if (config->training) {
            double sum = 0;
            for (int n = 0; n < batch; n++) {
                const nn_real *row = x + (size_t)n * sample_stride + offset;
                for (int s = 0; s < spatial; s++)
                    sum += row[s];
            }
            mean = sum / (double)values;
            double squares = 0;
            for (int n = 0; n < batch; n++) {
                const nn_real *row = x + (size_t)n * sample_stride + offset;
                for (int s = 0; s < spatial; s++) {
                    double d = row[s] - mean;
                    squares += d * d;
                }
            }
            double variance = squares / (double)values;
            double unbiased = values > 1 ? squares / (double)(values - 1) : variance;
            inv_std = 1.0 / sqrt(variance + (double)config->epsilon);
            running_mean[c] = (nn_real)((1.0 - momentum) * running_mean[c] + momentum * mean);
            running_var[c] = (nn_real)((1.0 - momentum) * running_var[c] + momentum * unbiased);
        } else {
            mean = running_mean[c];
            inv_std = 1.0 / sqrt((double)running_var[c] + (double)config->epsilon);
        }
        saved_mean[c] = (nn_real)mean;
        saved_inv_std[c] = (nn_real)inv_std;

        const double scale = (double)gamma[c] * inv_std;
        for (int n = 0; n < batch; n++) {
            const size_t base = (size_t)n * sample_stride + offset;
            for (int s = 0; s < spatial; s++)
                out[base + s] = (nn_real)((x[base + s] - mean) * scale + beta[c]);
        }
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_batchnorm_backward(nn_real *dx, nn_real *dgamma, nn_real *dbeta, const nn_real *dout,
                                const nn_real *x, const nn_real *saved_mean,
                                const nn_real *saved_inv_std, const nn_real *gamma, int batch,
                                int channels, int spatial, const nn_batchnorm_config *config)
{
    /* BEGIN SOLUTION */
    const size_t sample_stride = (size_t)channels * (size_t)spatial;
    const size_t values = (size_t)batch * (size_t)spatial; /* M */

    for (int c = 0; c < channels; c++) {
        const size_t offset = (size_t)c * (size_t)spatial;
        const double mean = saved_mean[c], inv_std = saved_inv_std[c];

        /* Both parameter gradients and the training dx need the same two
         * sums: sum dout and sum dout * xhat over the channel's M values. */
        double sum_dout = 0, sum_dout_xhat = 0;
        for (int n = 0; n < batch; n++) {
            const size_t base = (size_t)n * sample_stride + offset;
            for (int s = 0; s < spatial; s++) {
                double xhat = (x[base + s] - mean) * inv_std;
                sum_dout += dout[base + s];
                sum_dout_xhat += dout[base + s] * xhat;
            }
        }
        if (dgamma != NULL)
            dgamma[c] += (nn_real)sum_dout_xhat;
        if (dbeta != NULL)
            dbeta[c] += (nn_real)sum_dout;
        if (dx == NULL)
            continue;

        const double scale = (double)gamma[c] * inv_std;
        if (!config->training) {
            /* The running statistics are constants: out is affine in x. */
            for (int n = 0; n < batch; n++) {
                const size_t base = (size_t)n * sample_stride + offset;
                for (int s = 0; s < spatial; s++)
                    dx[base + s] += (nn_real)(dout[base + s] * scale);
            }
            continue;
        }
        /* In training every x also moves the batch mean and variance. The
         * chain rule through both (Ioffe and Szegedy 2015, section 3),
         * collected into one expression:
         *   dx_i = gamma inv_std / M * (M dout_i - sum_j dout_j
         *                               - xhat_i sum_j dout_j xhat_j)
         * The first term is the eval-mode gradient; the second comes from
         * the mean, the third from the variance. */
        const double m = (double)values;
        for (int n = 0; n < batch; n++) {
            const size_t base = (size_t)n * sample_stride + offset;
            for (int s = 0; s < spatial; s++) {
                double xhat = (x[base + s] - mean) * inv_std;
                double g = m * dout[base + s] - sum_dout - xhat * sum_dout_xhat;
                dx[base + s] += (nn_real)(scale / m * g);
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}
