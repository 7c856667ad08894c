/*
 * layers.h - forward/backward kernels of the fully-connected course units.
 * Each unit lives in its own file, reference/src/<unit>.c.
 *
 * Conventions (the same in every kernel of libnnref):
 *   - argument order: outputs, then saved-for-backward buffers, then inputs
 *     (const), then parameters, then sizes and a small config;
 *   - shapes are given in comments, row-major; "S" is the spatial size
 *     H*W of a feature map, 1 for fully-connected inputs;
 *   - kernels never allocate; the caller owns every buffer;
 *   - backward ADDS into every gradient buffer (dx, dweight, ...): the caller
 *     zeroes them first. This is what lets a residual connection sum two
 *     gradients into one buffer. A NULL gradient pointer is skipped (the
 *     first layer needs no dx);
 *   - every kernel returns NN_OK; the student template's stubs return
 *     NN_ERR_NOT_IMPLEMENTED in their place.
 */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include "nn/core.h"
#include "nn/rng.h"

#include <stdbool.h>

/* ---- linear (affine) layer: out = x W^T + b ---------------------------- */

/* out: (N, O); x: (N, I); weight: (O, I) as in PyTorch; bias: (O) or NULL */
nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features);
/* dx: (N, I) or NULL; dweight: (O, I); dbias: (O) or NULL; dout: (N, O) */
nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features);
/* Learnable values: O*I weights, plus O biases when the layer has them. */
size_t nn_linear_parameter_count(int in_features, int out_features, bool bias);

/* ---- elementwise activations: count values each ------------------------ */

/* out = x for x > 0, 0 otherwise; backward adds dout where x > 0 only (at
 * x = 0 exactly, as in real images, the derivative is taken as 0, as
 * PyTorch does) */
nn_status nn_relu_forward(nn_real *out, const nn_real *x, size_t count);
nn_status nn_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x, size_t count);

/* out = x for x > 0, slope * x otherwise */
nn_status nn_leaky_relu_forward(nn_real *out, const nn_real *x, size_t count, nn_real slope);
nn_status nn_leaky_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x,
                                 size_t count, nn_real slope);

/* PReLU: a learnable slope per channel. x, out: (N, C, S); slope: (C), or
 * (1) shared by every channel when channels == 1. */
nn_status nn_prelu_forward(nn_real *out, const nn_real *x, const nn_real *slope, int batch,
                           int channels, int spatial);
/* dslope: (C), accumulated */
nn_status nn_prelu_backward(nn_real *dx, nn_real *dslope, const nn_real *dout, const nn_real *x,
                            const nn_real *slope, int batch, int channels, int spatial);

/* sigmoid and tanh differentiate through their saved output y:
 * sigmoid' = y (1 - y), tanh' = 1 - y^2 */
nn_status nn_sigmoid_forward(nn_real *out, const nn_real *x, size_t count);
nn_status nn_sigmoid_backward(nn_real *dx, const nn_real *dout, const nn_real *out, size_t count);
nn_status nn_tanh_forward(nn_real *out, const nn_real *x, size_t count);
nn_status nn_tanh_backward(nn_real *dx, const nn_real *dout, const nn_real *out, size_t count);

/* softmax over the last axis. out, x: (N, K). Backward uses the Jacobian
 * dy_i/dz_j = y_i (delta_ij - y_j): dx_j = y_j (dout_j - sum_i dout_i y_i). */
nn_status nn_softmax_forward(nn_real *out, const nn_real *x, int batch, int classes);
nn_status nn_softmax_backward(nn_real *dx, const nn_real *dout, const nn_real *out, int batch,
                              int classes);

/* ---- dropout (inverted): training keeps a unit with probability 1 - p and
 * scales it by 1 / (1 - p), so eval mode is the identity ------------------ */

/* mask: (count), saved for backward: 0 or 1 / (1 - p) in training, 1 in eval.
 * drop_probability p must be in [0, 1): the caller validates it, the kernel
 * cannot fail. Eval mode and p = 0 draw nothing from rng (it may be NULL). */
nn_status nn_dropout_forward(nn_real *out, nn_real *mask, const nn_real *x, size_t count,
                             nn_real drop_probability, bool training, nn_rng *rng);
nn_status nn_dropout_backward(nn_real *dx, const nn_real *dout, const nn_real *mask,
                              size_t count);

/* ---- batch normalisation over (N, S) per channel ------------------------
 * Fully-connected inputs are (N, C, 1); convolutional ones (N, C, H*W). In
 * training, statistics come from the batch and update the running ones
 *   running = (1 - momentum) running + momentum batch_statistic
 * (variance unbiased, as PyTorch does); in eval, the running ones are used. */

typedef struct nn_batchnorm_config {
    nn_real momentum;  /* 0.1 in PyTorch */
    nn_real epsilon;   /* 1e-5 */
    bool training;
} nn_batchnorm_config;

/* out, x: (N, C, S); saved_mean, saved_inv_std: (C), written for backward;
 * gamma, beta: (C); running_mean, running_var: (C), updated in training */
nn_status nn_batchnorm_forward(nn_real *out, nn_real *saved_mean, nn_real *saved_inv_std,
                               const nn_real *x, const nn_real *gamma, const nn_real *beta,
                               nn_real *running_mean, nn_real *running_var, int batch,
                               int channels, int spatial, const nn_batchnorm_config *config);
/* dgamma, dbeta: (C), accumulated. In eval mode the statistics are
 * constants and dx = dout * gamma * inv_std. */
nn_status nn_batchnorm_backward(nn_real *dx, nn_real *dgamma, nn_real *dbeta, const nn_real *dout,
                                const nn_real *x, const nn_real *saved_mean,
                                const nn_real *saved_inv_std, const nn_real *gamma, int batch,
                                int channels, int spatial, const nn_batchnorm_config *config);
/* Learnable values: gamma and beta, one of each per channel (2 C). The
 * running statistics are state, not parameters. */
size_t nn_batchnorm_parameter_count(int channels);

/* ---- flatten: (N, C, H, W) to (N, C*H*W); the data does not move ---------- */

nn_status nn_flatten_forward(nn_real *out, const nn_real *x, size_t count);
nn_status nn_flatten_backward(nn_real *dx, const nn_real *dout, size_t count);

#endif
