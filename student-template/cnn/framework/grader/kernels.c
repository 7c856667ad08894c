/*
 * kernels.c - the table of student-implemented functions (see kernels.h).
 * Each entry is a function's signature told as data, plus two adaptors:
 * `sizes` (buffer lengths from the case's sizes) and `call`.
 *
 * Cases: small ones first (a student's bug shows on a readable tensor),
 * then one of a realistic size. Every case avoids sizes where a function
 * degenerates (batch normalisation in training needs N*S >= 3, since with
 * two values a channel xhat is +-1 whatever x is and dx vanishes).
 *
 * `call` passes the case's parameters in the kernel's own types (a flag
 * is a parameter that is 0 or 1) and calls only the declared kernel, so
 * the same file serves the grader (reference kernels) and the runner
 * (the student's). The one kernel that draws random numbers, dropout,
 * draws from a copy of the rng it is given: calling an entry twice with
 * the same rng gives the same mask, which the gradient pair relies on
 * (central differences rerun the forward many times and need one mask).
 *
 * Gradient pairs (the end of the file) are run on the forward's cases.
 * The backward's dims and params are the forward's of the same name; the
 * one backward parameter a forward lacks is a loss's `scale`, which is 1
 * there, so that the backward computes exactly dL/dprediction. Before
 * every run of the forward (the first and each perturbed one) its STATE
 * buffers get their first fill back and its ACCUMULATE buffers (the L2
 * penalty's loss) are zeroed, so reruns differ only by the perturbation.
 * A link's kink kind (kernels.h) names the branch its forward takes along
 * that input; the pairs without one are smooth on the cases' inputs.
 *
 * Mistakes (kernels.h) sit next to the cases of their kernel. Those with
 * `apply` call the kernel's own `call` on changed inputs or parameters
 * (a transposed weight, bias correction off), never a formula of their
 * own: this file ships with the student template, and the mistakes are
 * told by how they change the reference's numbers, not by a second
 * implementation. They run in the grader only.
 */
#include "kernels.h"

#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/conv.h"
#include "nn/optim.h"
#include "nn/pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define R(i) ((nn_real *)buffers[i])
#define CR(i) ((const nn_real *)buffers[i])
#define CI(i) ((const int *)buffers[i])
#define D(i) ((double *)buffers[i])

/* Buffer specs in the table's common forms; the rare ones are spelt out. */
#define OUT(name, shape) { name, DG_BUFFER_OUTPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, shape }
#define IN(name, fill, shape) { name, DG_BUFFER_INPUT, DG_BUFFER_REAL, fill, 0, shape }
#define ACC(name, shape) { name, DG_BUFFER_ACCUMULATE, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, shape }
#define STATE(name, fill, shape) { name, DG_BUFFER_STATE, DG_BUFFER_REAL, fill, 0, shape }
#define LOSS_OUT { "loss", DG_BUFFER_OUTPUT, DG_BUFFER_DOUBLE, DG_FILL_NORMAL, 0, "(1)" }

/* Most kernels take arrays of one length: every buffer is d[0] long. */
#define SAME_SIZES(name, n)                                                   \
    static void name(size_t *counts, const int *d, const double *p)           \
    {                                                                         \
        (void)p;                                                              \
        for (int i_ = 0; i_ < (n); i_++)                                      \
            counts[i_] = (size_t)d[0];                                        \
    }

SAME_SIZES(same_sizes_2, 2)
SAME_SIZES(same_sizes_3, 3)
SAME_SIZES(same_sizes_4, 4)

/* A loss forward: the scalar, then arrays of d[0]. */
static void loss_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = 1;
    counts[1] = (size_t)d[0];
    counts[2] = (size_t)d[0];
}

static bool flag(double value)
{
    return value != 0;
}

/* ---- linear ---------------------------------------------------------------- */

enum { LINEAR_N, LINEAR_I, LINEAR_O };

static void linear_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = (size_t)d[LINEAR_N] * d[LINEAR_O];  /* out */
    counts[1] = (size_t)d[LINEAR_N] * d[LINEAR_I];  /* x */
    counts[2] = (size_t)d[LINEAR_O] * d[LINEAR_I];  /* weight */
    counts[3] = (size_t)d[LINEAR_O];                /* bias */
}

static nn_status linear_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_linear_forward(R(0), CR(1), CR(2), CR(3), d[LINEAR_N], d[LINEAR_I], d[LINEAR_O]);
}

static void linear_backward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = (size_t)d[LINEAR_N] * d[LINEAR_I];  /* dx */
    counts[1] = (size_t)d[LINEAR_O] * d[LINEAR_I];  /* dweight */
    counts[2] = (size_t)d[LINEAR_O];                /* dbias */
    counts[3] = (size_t)d[LINEAR_N] * d[LINEAR_O];  /* dout */
    counts[4] = (size_t)d[LINEAR_N] * d[LINEAR_I];  /* x */
    counts[5] = (size_t)d[LINEAR_O] * d[LINEAR_I];  /* weight */
}

static nn_status linear_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_linear_backward(R(0), R(1), R(2), CR(3), CR(4), CR(5), d[LINEAR_N], d[LINEAR_I],
                              d[LINEAR_O]);
}

/* Wide and narrow layers, where a weight read as (I, O) instead of (O, I)
 * gives other numbers at the same addresses; a square one, where I = O
 * hides any mix-up of the two strides from bounds checkers (W[i*I + o] is
 * W[i*O + o]) and only the numbers show a transposed read; one of a
 * realistic size. */
static const dg_kernel_case linear_cases[] = {
    { .dims = { 2, 3, 4 } },
    { .dims = { 5, 7, 3 } },
    { .dims = { 3, 5, 5 } },
    { .dims = { 64, 100, 33 } },
};

/* The weight as a function that indexes it as (I, O) reads it: entry
 * (o, i) of the result is entry i*O + o of the weight. Freed by the
 * caller; NULL when out of memory. */
static nn_real *weight_read_as_in_out(const nn_real *weight, const int *d)
{
    int in = d[LINEAR_I], out = d[LINEAR_O];
    size_t count = (size_t)in * (size_t)out;
    nn_real *read = malloc(count * sizeof *read);
    if (read == NULL)
        return NULL;
    for (size_t k = 0; k < count; k++)   /* k = o*I + i */
        read[k] = weight[(k % (size_t)in) * (size_t)out + k / (size_t)in];
    return read;
}

static nn_status linear_forward_transposed(void **buffers, const int *d, const double *p,
                                           nn_rng *rng)
{
    nn_real *read = weight_read_as_in_out(CR(2), d);
    if (read == NULL)
        return NN_ERR_MEMORY;
    void *changed[] = { buffers[0], buffers[1], read, buffers[3] };
    nn_status status = linear_forward_call(changed, d, p, rng);
    free(read);
    return status;
}

/* The backward of the same mistake reads the weight for dx the same way
 * and writes dweight in the same wrong layout: what belongs at (o, i) is
 * added at i*O + o. */
static nn_status linear_backward_transposed(void **buffers, const int *d, const double *p,
                                            nn_rng *rng)
{
    int in = d[LINEAR_I], out = d[LINEAR_O];
    nn_real *read = weight_read_as_in_out(CR(5), d);
    nn_real *added = calloc((size_t)in * (size_t)out, sizeof *added);
    nn_status status = NN_ERR_MEMORY;
    if (read != NULL && added != NULL) {
        void *changed[] = { buffers[0], added, buffers[2], buffers[3], buffers[4], read };
        status = linear_backward_call(changed, d, p, rng);
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                R(1)[(size_t)i * out + o] += added[(size_t)o * in + i];
    }
    free(read);
    free(added);
    return status;
}

static const dg_mistake linear_forward_mistakes[] = {
    { .what = "the weight is read transposed: indexed as (I, O), where its layout is (O, I) "
              "with entry [o, i] at o*I + i",
      .apply = linear_forward_transposed },
};

static const dg_mistake linear_backward_mistakes[] = {
    { .what = "the weight is indexed transposed: as (I, O), where its layout (and dweight's) "
              "is (O, I) with entry [o, i] at o*I + i",
      .apply = linear_backward_transposed },
};

/* ---- elementwise activations: dims { count } -------------------------------- */

static nn_status relu_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_relu_forward(R(0), CR(1), (size_t)d[0]);
}

static nn_status relu_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_relu_backward(R(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status leaky_relu_forward_call(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    (void)rng;
    return nn_leaky_relu_forward(R(0), CR(1), (size_t)d[0], (nn_real)p[0]);
}

static nn_status leaky_relu_backward_call(void **buffers, const int *d, const double *p,
                                          nn_rng *rng)
{
    (void)rng;
    return nn_leaky_relu_backward(R(0), CR(1), CR(2), (size_t)d[0], (nn_real)p[0]);
}

static nn_status sigmoid_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_sigmoid_forward(R(0), CR(1), (size_t)d[0]);
}

static nn_status sigmoid_backward_call(void **buffers, const int *d, const double *p,
                                       nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_sigmoid_backward(R(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status tanh_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_tanh_forward(R(0), CR(1), (size_t)d[0]);
}

static nn_status tanh_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_tanh_backward(R(0), CR(1), CR(2), (size_t)d[0]);
}

/* Odd lengths, so that a vectorised loop's remainder is exercised. */
static const dg_kernel_case elementwise_cases[] = {
    { .dims = { 6 } },
    { .dims = { 37 } },
    { .dims = { 4099 } },
};

/* The last one holds image-like values (kernels.h), half of them exactly
 * 0: the derivative there is 0, and a gradient check skips them. Large,
 * so that a gradient check samples it and can draw other coordinates. */
static const dg_kernel_case relu_cases[] = {
    { .dims = { 6 } },
    { .dims = { 37 } },
    { .dims = { 4099 } },
    { .dims = { 1000 }, .input_fill = DG_FILL_QUANTISED },
};

static const dg_kernel_case leaky_relu_cases[] = {
    { .dims = { 6 }, .params = { 0.01 } },
    { .dims = { 37 }, .params = { 0.2 } },
    { .dims = { 4099 }, .params = { 0.1 } },
};

/* ---- prelu: dims { N, C, S } -------------------------------------------------- */

enum { PRELU_N, PRELU_C, PRELU_S };

static void prelu_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    size_t values = (size_t)d[PRELU_N] * d[PRELU_C] * d[PRELU_S];
    counts[0] = values;               /* out */
    counts[1] = values;               /* x */
    counts[2] = (size_t)d[PRELU_C];   /* slope */
}

static nn_status prelu_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_prelu_forward(R(0), CR(1), CR(2), d[PRELU_N], d[PRELU_C], d[PRELU_S]);
}

static void prelu_backward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    size_t values = (size_t)d[PRELU_N] * d[PRELU_C] * d[PRELU_S];
    counts[0] = values;               /* dx */
    counts[1] = (size_t)d[PRELU_C];   /* dslope */
    counts[2] = values;               /* dout */
    counts[3] = values;               /* x */
    counts[4] = (size_t)d[PRELU_C];   /* slope */
}

static nn_status prelu_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_prelu_backward(R(0), R(1), CR(2), CR(3), CR(4), d[PRELU_N], d[PRELU_C],
                             d[PRELU_S]);
}

/* The second case is one slope shared by every channel (C = 1). */
static const dg_kernel_case prelu_cases[] = {
    { .dims = { 2, 3, 1 } },
    { .dims = { 3, 1, 10 } },
    { .dims = { 32, 16, 49 } },
};

/* ---- softmax: dims { N, K } ------------------------------------------------- */

static void softmax_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = counts[1] = (size_t)d[0] * d[1];  /* out, x */
}

static void softmax_backward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = counts[1] = counts[2] = (size_t)d[0] * d[1];  /* dx, dout, out */
}

static nn_status softmax_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_softmax_forward(R(0), CR(1), d[0], d[1]);
}

static nn_status softmax_backward_call(void **buffers, const int *d, const double *p,
                                       nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_softmax_backward(R(0), CR(1), CR(2), d[0], d[1]);
}

static const dg_kernel_case softmax_cases[] = {
    { .dims = { 2, 3 } },
    { .dims = { 5, 7 } },
    { .dims = { 128, 10 } },
};

/* ---- dropout: dims { count }, params { drop_probability, training } --------- */

static nn_status dropout_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    /* A copy, so that every call of one case draws the same mask. */
    nn_rng draws = *rng;
    return nn_dropout_forward(R(0), R(1), CR(2), (size_t)d[0], (nn_real)p[0], flag(p[1]),
                              &draws);
}

static nn_status dropout_backward_call(void **buffers, const int *d, const double *p,
                                       nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_dropout_backward(R(0), CR(1), CR(2), (size_t)d[0]);
}

/* The middle case is eval mode (the identity, mask 1). */
static const dg_kernel_case dropout_forward_cases[] = {
    { .dims = { 6 }, .params = { 0.25, 1 } },
    { .dims = { 37 }, .params = { 0.5, 0 } },
    { .dims = { 4099 }, .params = { 0.5, 1 } },
};

static const dg_kernel_case dropout_backward_cases[] = {
    { .dims = { 6 }, .params = { 0.25 } },
    { .dims = { 37 }, .params = { 0.5 } },
    { .dims = { 4099 }, .params = { 0.1 } },
};

/* Plain instead of inverted dropout: kept values stay x (mask 1), which is
 * the reference's out and mask times 1 - p, in training only. */
static double dropout_forward_unscaled(int buffer, const int *d, const double *p)
{
    (void)d;
    return (buffer == 0 || buffer == 1) && flag(p[1]) ? 1.0 - p[0] : 1.0;
}

/* Eval mode run as training: the mask a training call draws. */
static nn_status dropout_forward_in_eval(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    if (flag(p[1]))
        return NN_ERR_ARGUMENT;   /* a training case: nothing to tell */
    double training[DG_KERNEL_MAX_PARAMS];
    memcpy(training, p, sizeof training);
    training[1] = 1;
    return dropout_forward_call(buffers, d, training, rng);
}

/* dout passed where a value was kept, unscaled: the mask's 1 / (1 - p)
 * left out, so dx gets 1 - p times what it should. */
static double dropout_backward_unscaled(int buffer, const int *d, const double *p)
{
    (void)d;
    return buffer == 0 ? 1.0 - p[0] : 1.0;
}

static const dg_mistake dropout_forward_mistakes[] = {
    { .what = "the kept values are not scaled by 1 / (1 - p): inverted dropout scales them "
              "(and the mask) in training, so that eval mode is the identity",
      .factor = dropout_forward_unscaled },
    { .what = "dropout is applied in eval mode, where it must be the identity (out = x, "
              "mask 1)",
      .apply = dropout_forward_in_eval },
};

static const dg_mistake dropout_backward_mistakes[] = {
    { .what = "dx is not scaled by 1 / (1 - p) where a value was kept: dx = dout * mask, and "
              "the mask holds 0 or 1 / (1 - p)",
      .factor = dropout_backward_unscaled },
};

/* ---- batchnorm: dims { N, C, S }, params { momentum, epsilon, training } ------ */

enum { BN_N, BN_C, BN_S };

static nn_batchnorm_config batchnorm_config(const double *p)
{
    nn_batchnorm_config config = {
        .momentum = (nn_real)p[0], .epsilon = (nn_real)p[1], .training = flag(p[2]),
    };
    return config;
}

static void batchnorm_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    size_t values = (size_t)d[BN_N] * d[BN_C] * d[BN_S];
    counts[0] = values;  /* out */
    counts[3] = values;  /* x */
    /* saved_mean, saved_inv_std, gamma, beta, running_mean, running_var */
    counts[1] = counts[2] = counts[4] = counts[5] = counts[6] = counts[7] = (size_t)d[BN_C];
}

static nn_status batchnorm_forward_call(void **buffers, const int *d, const double *p,
                                        nn_rng *rng)
{
    (void)rng;
    nn_batchnorm_config config = batchnorm_config(p);
    return nn_batchnorm_forward(R(0), R(1), R(2), CR(3), CR(4), CR(5), R(6), R(7), d[BN_N],
                                d[BN_C], d[BN_S], &config);
}

static void batchnorm_backward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    size_t values = (size_t)d[BN_N] * d[BN_C] * d[BN_S];
    counts[0] = counts[3] = counts[4] = values;  /* dx, dout, x */
    /* dgamma, dbeta, saved_mean, saved_inv_std, gamma */
    counts[1] = counts[2] = counts[5] = counts[6] = counts[7] = (size_t)d[BN_C];
}

/* The backward reads only the mode from the config: momentum and epsilon
 * reach it through the saved statistics. */
static nn_status batchnorm_backward_call(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    (void)rng;
    nn_batchnorm_config config = { .momentum = 0, .epsilon = 0, .training = flag(p[0]) };
    return nn_batchnorm_backward(R(0), R(1), R(2), CR(3), CR(4), CR(5), CR(6), CR(7), d[BN_N],
                                 d[BN_C], d[BN_S], &config);
}

/* Fully-connected training, convolutional eval, fully-connected training
 * at a realistic size, convolutional training. */
static const dg_kernel_case batchnorm_cases[] = {
    { .dims = { 4, 3, 1 }, .params = { 0.1, 1e-5, 1 } },
    { .dims = { 3, 2, 6 }, .params = { 0.1, 1e-5, 0 } },
    { .dims = { 64, 32, 1 }, .params = { 0.2, 1e-3, 1 } },
    { .dims = { 8, 4, 49 }, .params = { 0.1, 1e-5, 1 } },
};

/* params: training */
static const dg_kernel_case batchnorm_backward_cases[] = {
    { .dims = { 4, 3, 1 }, .params = { 1 } },
    { .dims = { 3, 2, 6 }, .params = { 0 } },
    { .dims = { 64, 32, 1 }, .params = { 1 } },
    { .dims = { 8, 4, 49 }, .params = { 1 } },
};

/* An eval case computed as in training: the batch's statistics normalise x
 * (and the running ones move). */
static nn_status batchnorm_forward_in_eval(void **buffers, const int *d, const double *p,
                                           nn_rng *rng)
{
    if (flag(p[2]))
        return NN_ERR_ARGUMENT;
    double training[DG_KERNEL_MAX_PARAMS];
    memcpy(training, p, sizeof training);
    training[2] = 1;
    return batchnorm_forward_call(buffers, d, training, rng);
}

/* An eval case differentiated as in training, through statistics that are
 * constants there. */
static nn_status batchnorm_backward_in_eval(void **buffers, const int *d, const double *p,
                                            nn_rng *rng)
{
    if (flag(p[0]))
        return NN_ERR_ARGUMENT;
    double training[DG_KERNEL_MAX_PARAMS];
    memcpy(training, p, sizeof training);
    training[0] = 1;
    return batchnorm_backward_call(buffers, d, training, rng);
}

static const dg_mistake batchnorm_forward_mistakes[] = {
    { .what = "eval mode normalises with the batch's statistics: there the running mean and "
              "variance are used, so that an example's output does not depend on the rest of "
              "the batch",
      .apply = batchnorm_forward_in_eval },
};

static const dg_mistake batchnorm_backward_mistakes[] = {
    { .what = "eval mode differentiates through the batch's statistics: there they are "
              "constants and dx = dout * gamma * inv_std",
      .apply = batchnorm_backward_in_eval },
};

/* ---- flatten: dims { N, C, H, W } ------------------------------------------- */

static void flatten_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = counts[1] = (size_t)d[0] * d[1] * d[2] * d[3];
}

static nn_status flatten_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_flatten_forward(R(0), CR(1), (size_t)d[0] * d[1] * d[2] * d[3]);
}

static nn_status flatten_backward_call(void **buffers, const int *d, const double *p,
                                       nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_flatten_backward(R(0), CR(1), (size_t)d[0] * d[1] * d[2] * d[3]);
}

static const dg_kernel_case flatten_cases[] = {
    { .dims = { 2, 3, 2, 2 } },
    { .dims = { 3, 1, 5, 4 } },
    { .dims = { 64, 16, 7, 7 } },
};

/* ---- elementwise losses: dims { count }; backward params { scale } ---------- */

static nn_status l1_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_l1_loss_forward(D(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status l1_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    return nn_l1_loss_backward(R(0), CR(1), CR(2), (size_t)d[0], (nn_real)p[0]);
}

static nn_status mse_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_mse_loss_forward(D(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status mse_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    return nn_mse_loss_backward(R(0), CR(1), CR(2), (size_t)d[0], (nn_real)p[0]);
}

static nn_status bce_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_bce_loss_forward(D(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status bce_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    return nn_bce_loss_backward(R(0), CR(1), CR(2), (size_t)d[0], (nn_real)p[0]);
}

static nn_status bce_logits_forward_call(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_bce_with_logits_loss_forward(D(0), CR(1), CR(2), (size_t)d[0]);
}

static nn_status bce_logits_backward_call(void **buffers, const int *d, const double *p,
                                          nn_rng *rng)
{
    (void)rng;
    return nn_bce_with_logits_loss_backward(R(0), CR(1), CR(2), (size_t)d[0], (nn_real)p[0]);
}

static const dg_kernel_case loss_forward_cases[] = {
    { .dims = { 6 } },
    { .dims = { 37 } },
    { .dims = { 4099 } },
};

/* A scale other than 1 catches a backward that ignores it. */
static const dg_kernel_case loss_backward_cases[] = {
    { .dims = { 6 }, .params = { 1 } },
    { .dims = { 37 }, .params = { 0.5 } },
    { .dims = { 4099 }, .params = { 3 } },
};

/* A mean's 1/count left out: the loss (or its gradient, buffer 0) is count
 * times too large. */
static double loss_not_averaged(int buffer, const int *d, const double *p)
{
    (void)p;
    return buffer == 0 ? (double)d[0] : 1.0;
}

/* A backward that never multiplies by its scale (params[0]). */
static double scale_ignored(int buffer, const int *d, const double *p)
{
    (void)d;
    return buffer == 0 && p[0] != 0 ? 1.0 / p[0] : 1.0;
}

static const dg_mistake loss_forward_mistakes[] = {
    { .what = "the loss is summed instead of averaged: it is the mean over the count values",
      .factor = loss_not_averaged },
};

static const dg_mistake loss_backward_mistakes[] = {
    { .what = "the 1/count of the mean is missing: the loss averages over the count values, "
              "and so does its gradient",
      .factor = loss_not_averaged },
    { .what = "the scale argument is ignored: the gradient must be multiplied by it",
      .factor = scale_ignored },
};

/* ---- softmax cross-entropy: dims { N, C, S } --------------------------------- */

enum { SCE_N, SCE_C, SCE_S };

static void sce_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = 1;                                            /* loss */
    counts[1] = counts[2] = (size_t)d[SCE_N] * d[SCE_C] * d[SCE_S];  /* probabilities, logits */
    counts[3] = (size_t)d[SCE_N] * d[SCE_S];                  /* labels */
}

static nn_status sce_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    return nn_softmax_cross_entropy_forward(D(0), R(1), CR(2), CI(3), d[SCE_N], d[SCE_C],
                                            d[SCE_S], NULL);
}

static void sce_backward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = counts[1] = (size_t)d[SCE_N] * d[SCE_C] * d[SCE_S];  /* dlogits, probabilities */
    counts[2] = (size_t)d[SCE_N] * d[SCE_S];                         /* labels */
}

static nn_status sce_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    return nn_softmax_cross_entropy_backward(R(0), CR(1), CI(2), d[SCE_N], d[SCE_C], d[SCE_S],
                                             (nn_real)p[0]);
}

/* Classification, per-pixel segmentation (S > 1), a realistic batch. */
static const dg_kernel_case sce_forward_cases[] = {
    { .dims = { 2, 3, 1 } },
    { .dims = { 3, 5, 6 } },
    { .dims = { 64, 10, 1 } },
};

static const dg_kernel_case sce_backward_cases[] = {
    { .dims = { 2, 3, 1 }, .params = { 1 } },
    { .dims = { 3, 5, 6 }, .params = { 0.5 } },
    { .dims = { 64, 10, 1 }, .params = { 2 } },
};

/* The mean over the N*S labelled positions taken as a sum: the loss (or
 * dlogits, buffer 0 either way) N*S times too large. */
static double sce_not_averaged(int buffer, const int *d, const double *p)
{
    (void)p;
    return buffer == 0 ? (double)d[SCE_N] * d[SCE_S] : 1.0;
}

static const dg_mistake sce_forward_mistakes[] = {
    { .what = "the loss is summed instead of averaged: it is the mean over the N*S labelled "
              "positions",
      .factor = sce_not_averaged },
};

static const dg_mistake sce_backward_mistakes[] = {
    { .what = "the 1/(N*S) of the mean is missing: the loss averages over the N*S labelled "
              "positions, and so does its gradient",
      .factor = sce_not_averaged },
    { .what = "the scale argument is ignored: the gradient must be multiplied by it",
      .factor = scale_ignored },
};

/* ---- optimizers: dims { count } (Adam: { count, step }) ---------------------- */

static nn_status sgd_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    nn_sgd_config config = {
        .learning_rate = p[0], .momentum = p[1], .nesterov = flag(p[2]), .weight_decay = p[3],
    };
    return nn_sgd_step(R(0), R(1), CR(2), (size_t)d[0], &config);
}

/* params: learning_rate, momentum, nesterov, weight_decay */
static const dg_kernel_case sgd_cases[] = {
    { .dims = { 6 }, .params = { 0.1, 0, 0, 0.01 } },
    { .dims = { 37 }, .params = { 0.05, 0.9, 0, 0 } },
    { .dims = { 10007 }, .params = { 0.01, 0.9, 1, 5e-4 } },
};

static nn_status rmsprop_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    nn_rmsprop_config config = {
        .learning_rate = p[0], .decay = p[1], .epsilon = p[2], .weight_decay = p[3],
    };
    return nn_rmsprop_step(R(0), R(1), CR(2), (size_t)d[0], &config);
}

/* params: learning_rate, decay, epsilon, weight_decay */
static const dg_kernel_case rmsprop_cases[] = {
    { .dims = { 6 }, .params = { 0.01, 0.99, 1e-8, 0 } },
    { .dims = { 37 }, .params = { 1e-3, 0.9, 1e-2, 0.01 } },
    { .dims = { 10007 }, .params = { 1e-3, 0.99, 1e-8, 1e-4 } },
};

static nn_status adam_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)rng;
    nn_adam_config config = {
        .learning_rate = p[0], .beta1 = p[1], .beta2 = p[2], .epsilon = p[3],
        .weight_decay = p[4], .decoupled = flag(p[5]), .bias_correction = flag(p[6]),
    };
    return nn_adam_step(R(0), R(1), R(2), CR(3), (size_t)d[0], (long)d[1], &config);
}

/* params: learning_rate, beta1, beta2, epsilon, weight_decay, decoupled,
 * bias_correction. Plain Adam at its first step; coupled decay without bias
 * correction; AdamW late in training. */
static const dg_kernel_case adam_cases[] = {
    { .dims = { 6, 1 }, .params = { 1e-3, 0.9, 0.999, 1e-8, 0, 0, 1 } },
    { .dims = { 37, 10 }, .params = { 1e-2, 0.8, 0.99, 1e-6, 0.01, 0, 0 } },
    { .dims = { 10007, 1000 }, .params = { 1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 1 } },
};

enum { ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, ADAM_DECAY, ADAM_DECOUPLED,
       ADAM_CORRECTION };

/* Adam as if bias_correction were off. */
static nn_status adam_uncorrected(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    double changed[DG_KERNEL_MAX_PARAMS];
    memcpy(changed, p, sizeof changed);
    changed[ADAM_CORRECTION] = 0;
    return adam_call(buffers, d, changed, rng);
}

/* One of the two corrections left out, told through the uncorrected step
 * with other parameters. With c1 = 1 - b1^t and c2 = 1 - b2^t the step is
 *   lr/c1 * m / (sqrt(v)/sqrt(c2) + eps).
 * Without c2 it is lr' m / (sqrt(v) + eps) with lr' = lr/c1; without c1 it
 * is lr' m / (sqrt(v) + eps') with lr' = lr sqrt(c2), eps' = eps sqrt(c2).
 * Decoupled decay shrinks w by lr wd, so wd' = wd lr / lr' keeps it. */
static nn_status adam_half_corrected(void **buffers, const int *d, const double *p, nn_rng *rng,
                                     bool first_left_out)
{
    if (!flag(p[ADAM_CORRECTION]))
        return NN_ERR_ARGUMENT;
    double c1 = 1.0 - pow(p[ADAM_BETA1], d[1]), c2 = 1.0 - pow(p[ADAM_BETA2], d[1]);
    double changed[DG_KERNEL_MAX_PARAMS];
    memcpy(changed, p, sizeof changed);
    changed[ADAM_CORRECTION] = 0;
    if (first_left_out) {
        changed[ADAM_LR] = p[ADAM_LR] * sqrt(c2);
        changed[ADAM_EPSILON] = p[ADAM_EPSILON] * sqrt(c2);
    } else {
        changed[ADAM_LR] = p[ADAM_LR] / c1;
    }
    if (flag(p[ADAM_DECOUPLED]))
        changed[ADAM_DECAY] = p[ADAM_DECAY] * p[ADAM_LR] / changed[ADAM_LR];
    return adam_call(buffers, d, changed, rng);
}

static nn_status adam_first_uncorrected(void **buffers, const int *d, const double *p,
                                        nn_rng *rng)
{
    return adam_half_corrected(buffers, d, p, rng, true);
}

static nn_status adam_second_uncorrected(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    return adam_half_corrected(buffers, d, p, rng, false);
}

static const dg_mistake adam_mistakes[] = {
    { .what = "the bias correction is left out: the step uses m and v where m / (1 - beta1^t) "
              "and v / (1 - beta2^t) belong",
      .apply = adam_uncorrected },
    { .what = "the second moment's bias correction is left out: sqrt(v) is used where "
              "sqrt(v / (1 - beta2^t)) belongs",
      .apply = adam_second_uncorrected },
    { .what = "the first moment's bias correction is left out: m is used where "
              "m / (1 - beta1^t) belongs",
      .apply = adam_first_uncorrected },
};

/* ---- L2 penalty: dims { count }, params { lambda } --------------------------- */

static void l2_penalty_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    counts[0] = 1;             /* loss */
    counts[1] = (size_t)d[0];  /* weights */
}

static nn_status l2_penalty_forward_call(void **buffers, const int *d, const double *p,
                                         nn_rng *rng)
{
    (void)rng;
    return nn_l2_penalty_forward(D(0), CR(1), (size_t)d[0], p[0]);
}

static nn_status l2_penalty_backward_call(void **buffers, const int *d, const double *p,
                                          nn_rng *rng)
{
    (void)rng;
    return nn_l2_penalty_backward(R(0), CR(1), (size_t)d[0], p[0]);
}

static const dg_kernel_case l2_penalty_cases[] = {
    { .dims = { 6 }, .params = { 0.1 } },
    { .dims = { 37 }, .params = { 1e-2 } },
    { .dims = { 10007 }, .params = { 5e-4 } },
};


/* ---- convolution and max pooling -------------------------------------------- */

enum { CONV_N, CONV_C, CONV_H, CONV_W, CONV_F, CONV_K, CONV_S, CONV_P };

/* Square kernels, equal strides and paddings, no dilation: the course's
 * convolutions. */
static nn_conv_geometry conv_geometry(const int *d)
{
    nn_conv_geometry g;
    if (nn_conv_geometry_init(&g, d[CONV_C], d[CONV_H], d[CONV_W], d[CONV_K], d[CONV_K],
                              d[CONV_S], d[CONV_S], d[CONV_P], d[CONV_P], 1, 1, NULL) != NN_OK)
        memset(&g, 0, sizeof g);
    return g;
}

static void conv_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    nn_conv_geometry g = conv_geometry(d);
    counts[0] = (size_t)d[CONV_N] * d[CONV_F] * g.output_height * g.output_width; /* out */
    counts[1] = nn_conv2d_workspace_size(d[CONV_N], d[CONV_F], &g);             /* columns */
    counts[2] = (size_t)d[CONV_N] * d[CONV_C] * d[CONV_H] * d[CONV_W];            /* x */
    counts[3] = (size_t)d[CONV_F] * d[CONV_C] * d[CONV_K] * d[CONV_K];            /* weight */
    counts[4] = (size_t)d[CONV_F];                                                /* bias */
}

static nn_status conv_forward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    nn_conv_geometry g = conv_geometry(d);
    return nn_conv2d_forward(R(0), R(1), CR(2), CR(3), CR(4), d[CONV_N], d[CONV_F], &g);
}

static void conv_backward_sizes(size_t *counts, const int *d, const double *p)
{
    size_t forward[5];
    conv_forward_sizes(forward, d, p);
    counts[0] = forward[2]; /* dx */
    counts[1] = forward[3]; /* dweight */
    counts[2] = forward[4]; /* dbias */
    counts[3] = forward[1]; /* columns */
    counts[4] = forward[0]; /* dout */
    counts[5] = forward[2]; /* x */
    counts[6] = forward[3]; /* weight */
}

static nn_status conv_backward_call(void **buffers, const int *d, const double *p, nn_rng *rng)
{
    (void)p, (void)rng;
    nn_conv_geometry g = conv_geometry(d);
    return nn_conv2d_backward(R(0), R(1), R(2), R(3), CR(4), CR(5), CR(6), d[CONV_N], d[CONV_F],
                              &g);
}

/* Small and readable, strided, padded 5x5, and channels enough for the
 * fast paths of the reference (8 or more). */
static const dg_kernel_case conv_cases[] = {
    { .dims = { 2, 2, 5, 5, 3, 3, 1, 1 } },
    { .dims = { 2, 3, 7, 6, 2, 3, 2, 1 } },
    { .dims = { 3, 2, 8, 8, 4, 5, 1, 2 } },
    { .dims = { 4, 8, 6, 6, 8, 3, 1, 1 } },
    { .dims = { 2, 3, 8, 8, 5, 4, 2, 1 } },
};

enum { POOL_N, POOL_C, POOL_H, POOL_W, POOL_K, POOL_S };

static nn_pool_geometry pool_geometry(const int *d)
{
    nn_pool_geometry g;
    if (nn_pool_geometry_init(&g, d[POOL_C], d[POOL_H], d[POOL_W], d[POOL_K], d[POOL_K],
                              d[POOL_S], d[POOL_S], 0, 0, NULL) != NN_OK)
        memset(&g, 0, sizeof g);
    return g;
}

static void max_pool_forward_sizes(size_t *counts, const int *d, const double *p)
{
    (void)p;
    nn_pool_geometry g = pool_geometry(d);
    counts[0] = (size_t)d[POOL_N] * d[POOL_C] * g.output_height * g.output_width; /* out */
    counts[1] = counts[0];                                                        /* argmax */
    counts[2] = (size_t)d[POOL_N] * d[POOL_C] * d[POOL_H] * d[POOL_W];            /* x */
}

static nn_status max_pool_forward_call(void **buffers, const int *d, const double *p,
                                       nn_rng *rng)
{
    (void)p, (void)rng;
    nn_pool_geometry g = pool_geometry(d);
    return nn_max_pool2d_forward(R(0), (int *)buffers[1], CR(2), d[POOL_N], &g);
}

static void max_pool_backward_sizes(size_t *counts, const int *d, const double *p)
{
    size_t forward[3];
    max_pool_forward_sizes(forward, d, p);
    counts[0] = forward[2]; /* dx */
    counts[1] = forward[0]; /* dout */
    counts[2] = forward[1]; /* argmax */
}

static nn_status max_pool_backward_call(void **buffers, const int *d, const double *p,
                                        nn_rng *rng)
{
    (void)p, (void)rng;
    nn_pool_geometry g = pool_geometry(d);
    return nn_max_pool2d_backward(R(0), CR(1), CI(2), d[POOL_N], &g);
}

/* The last one pools image-like values (kernels.h: exact zeros and
 * ties), as after a ReLU on Fashion-MNIST: ties take the first maximum,
 * and the gradient check meets its kinks. */
static const dg_kernel_case max_pool_cases[] = {
    { .dims = { 2, 2, 4, 4, 2, 2 } },
    { .dims = { 2, 3, 7, 7, 3, 2 } },
    { .dims = { 8, 16, 14, 14, 2, 2 } },
    { .dims = { 4, 8, 14, 14, 2, 2 }, .input_fill = DG_FILL_QUANTISED },
};

/* ---- the table --------------------------------------------------------------- */

#define CASES(array) .case_count = (int)(sizeof array / sizeof array[0]), .cases = array
#define MISTAKES(array) .mistake_count = (int)(sizeof array / sizeof array[0]), .mistakes = array

#define COUNT_DIMS .dim_count = 1, .dim_names = { "count" }

/* An elementwise activation: forward (out, x), backward (dx, dout, saved)
 * where saved is x or the forward's out. */
#define ACTIVATION(stem, saved, saved_fill, params_, cases_)                          \
    {                                                                                 \
        .unit = #stem, .function = "nn_" #stem "_forward",                            \
        COUNT_DIMS, params_,                                                          \
        .buffer_count = 2,                                                            \
        .buffers = { OUT("out", "(count)"), IN("x", DG_FILL_NORMAL, "(count)") },     \
        .sizes = same_sizes_2, .call = stem##_forward_call, CASES(cases_),            \
    },                                                                                \
    {                                                                                 \
        .unit = #stem, .function = "nn_" #stem "_backward",                           \
        COUNT_DIMS, params_,                                                          \
        .buffer_count = 3,                                                            \
        .buffers = { ACC("dx", "(count)"), IN("dout", DG_FILL_NORMAL, "(count)"),     \
                     IN(saved, saved_fill, "(count)") },                              \
        .sizes = same_sizes_3, .call = stem##_backward_call, CASES(cases_),           \
    }

#define NO_PARAMS .param_count = 0
#define SLOPE_PARAM .param_count = 1, .param_names = { "slope" }

/* An elementwise loss: forward (loss, prediction, target), backward
 * (dprediction, prediction, target) with a scale. */
#define LOSS(unit_, stem, pred, pred_fill, target_fill)                               \
    {                                                                                 \
        .unit = unit_, .function = "nn_" unit_ "_forward",                            \
        COUNT_DIMS,                                                                   \
        .buffer_count = 3,                                                            \
        .buffers = { LOSS_OUT, IN(pred, pred_fill, "(count)"),                        \
                     IN("target", target_fill, "(count)") },                          \
        .sizes = loss_forward_sizes, .call = stem##_forward_call,                     \
        CASES(loss_forward_cases), MISTAKES(loss_forward_mistakes),                   \
    },                                                                                \
    {                                                                                 \
        .unit = unit_, .function = "nn_" unit_ "_backward",                           \
        COUNT_DIMS, .param_count = 1, .param_names = { "scale" },                     \
        .buffer_count = 3,                                                            \
        .buffers = { ACC("d" pred, "(count)"), IN(pred, pred_fill, "(count)"),        \
                     IN("target", target_fill, "(count)") },                          \
        .sizes = same_sizes_3, .call = stem##_backward_call,                          \
        CASES(loss_backward_cases), MISTAKES(loss_backward_mistakes),                 \
    }

const dg_kernel dg_kernels[] = {
    {
        .unit = "linear", .function = "nn_linear_forward",
        .dim_count = 3, .dim_names = { "N", "I", "O" },
        .buffer_count = 4,
        .buffers = {
            OUT("out", "(N, O)"),
            IN("x", DG_FILL_NORMAL, "(N, I)"),
            IN("weight", DG_FILL_NORMAL, "(O, I)"),
            IN("bias", DG_FILL_NORMAL, "(O)"),
        },
        .sizes = linear_forward_sizes, .call = linear_forward_call, CASES(linear_cases),
        MISTAKES(linear_forward_mistakes),
    },
    {
        .unit = "linear", .function = "nn_linear_backward",
        .dim_count = 3, .dim_names = { "N", "I", "O" },
        .buffer_count = 6,
        .buffers = {
            ACC("dx", "(N, I)"),
            ACC("dweight", "(O, I)"),
            ACC("dbias", "(O)"),
            IN("dout", DG_FILL_NORMAL, "(N, O)"),
            IN("x", DG_FILL_NORMAL, "(N, I)"),
            IN("weight", DG_FILL_NORMAL, "(O, I)"),
        },
        .sizes = linear_backward_sizes, .call = linear_backward_call, CASES(linear_cases),
        MISTAKES(linear_backward_mistakes),
    },

    ACTIVATION(relu, "x", DG_FILL_NORMAL, NO_PARAMS, relu_cases),
    ACTIVATION(leaky_relu, "x", DG_FILL_NORMAL, SLOPE_PARAM, leaky_relu_cases),
    /* sigmoid and tanh differentiate through their output y: sigmoid's lies
     * in (0, 1), tanh's in (-1, 1). */
    ACTIVATION(sigmoid, "out", DG_FILL_PROBABILITY, NO_PARAMS, elementwise_cases),
    ACTIVATION(tanh, "out", DG_FILL_UNIFORM, NO_PARAMS, elementwise_cases),

    {
        .unit = "prelu", .function = "nn_prelu_forward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .buffer_count = 3,
        .buffers = {
            OUT("out", "(N, C, S)"),
            IN("x", DG_FILL_NORMAL, "(N, C, S)"),
            IN("slope", DG_FILL_UNIFORM, "(C)"),
        },
        .sizes = prelu_forward_sizes, .call = prelu_forward_call, CASES(prelu_cases),
    },
    {
        .unit = "prelu", .function = "nn_prelu_backward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .buffer_count = 5,
        .buffers = {
            ACC("dx", "(N, C, S)"),
            ACC("dslope", "(C)"),
            IN("dout", DG_FILL_NORMAL, "(N, C, S)"),
            IN("x", DG_FILL_NORMAL, "(N, C, S)"),
            IN("slope", DG_FILL_UNIFORM, "(C)"),
        },
        .sizes = prelu_backward_sizes, .call = prelu_backward_call, CASES(prelu_cases),
    },

    {
        .unit = "softmax", .function = "nn_softmax_forward",
        .dim_count = 2, .dim_names = { "N", "K" },
        .buffer_count = 2,
        .buffers = { OUT("out", "(N, K)"), IN("x", DG_FILL_NORMAL, "(N, K)") },
        .sizes = softmax_forward_sizes, .call = softmax_forward_call, CASES(softmax_cases),
    },
    {
        .unit = "softmax", .function = "nn_softmax_backward",
        .dim_count = 2, .dim_names = { "N", "K" },
        .buffer_count = 3,
        .buffers = {
            ACC("dx", "(N, K)"),
            IN("dout", DG_FILL_NORMAL, "(N, K)"),
            IN("out", DG_FILL_PROBABILITY, "(N, K)"),
        },
        .sizes = softmax_backward_sizes, .call = softmax_backward_call, CASES(softmax_cases),
    },

    {
        .unit = "dropout", .function = "nn_dropout_forward",
        COUNT_DIMS,
        .param_count = 2, .param_names = { "drop_probability", "training" },
        .buffer_count = 3,
        .buffers = {
            OUT("out", "(count)"),
            OUT("mask", "(count)"),
            IN("x", DG_FILL_NORMAL, "(count)"),
        },
        .sizes = same_sizes_3, .call = dropout_forward_call, CASES(dropout_forward_cases),
        MISTAKES(dropout_forward_mistakes),
    },
    {
        .unit = "dropout", .function = "nn_dropout_backward",
        COUNT_DIMS,
        /* The kernel takes no p; the mask's fill needs it. */
        .param_count = 1, .param_names = { "drop_probability" },
        .buffer_count = 3,
        .buffers = {
            ACC("dx", "(count)"),
            IN("dout", DG_FILL_NORMAL, "(count)"),
            { "mask", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_DROPOUT_MASK, 0, "(count)" },
        },
        .sizes = same_sizes_3, .call = dropout_backward_call, CASES(dropout_backward_cases),
        MISTAKES(dropout_backward_mistakes),
    },

    {
        .unit = "batchnorm", .function = "nn_batchnorm_forward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .param_count = 3, .param_names = { "momentum", "epsilon", "training" },
        .buffer_count = 8,
        .buffers = {
            OUT("out", "(N, C, S)"),
            OUT("saved_mean", "(C)"),
            OUT("saved_inv_std", "(C)"),
            IN("x", DG_FILL_NORMAL, "(N, C, S)"),
            IN("gamma", DG_FILL_POSITIVE, "(C)"),
            IN("beta", DG_FILL_NORMAL, "(C)"),
            STATE("running_mean", DG_FILL_NORMAL, "(C)"),
            STATE("running_var", DG_FILL_POSITIVE, "(C)"),
        },
        .sizes = batchnorm_forward_sizes, .call = batchnorm_forward_call,
        CASES(batchnorm_cases), MISTAKES(batchnorm_forward_mistakes),
    },
    {
        .unit = "batchnorm", .function = "nn_batchnorm_backward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .param_count = 1, .param_names = { "training" },
        .buffer_count = 8,
        .buffers = {
            ACC("dx", "(N, C, S)"),
            ACC("dgamma", "(C)"),
            ACC("dbeta", "(C)"),
            IN("dout", DG_FILL_NORMAL, "(N, C, S)"),
            IN("x", DG_FILL_NORMAL, "(N, C, S)"),
            IN("saved_mean", DG_FILL_NORMAL, "(C)"),
            IN("saved_inv_std", DG_FILL_POSITIVE, "(C)"),
            IN("gamma", DG_FILL_POSITIVE, "(C)"),
        },
        .sizes = batchnorm_backward_sizes, .call = batchnorm_backward_call,
        CASES(batchnorm_backward_cases), MISTAKES(batchnorm_backward_mistakes),
    },

    {
        .unit = "flatten", .function = "nn_flatten_forward",
        .dim_count = 4, .dim_names = { "N", "C", "H", "W" },
        .buffer_count = 2,
        .buffers = { OUT("out", "(N, C*H*W)"), IN("x", DG_FILL_NORMAL, "(N, C, H, W)") },
        .sizes = flatten_sizes, .call = flatten_forward_call, CASES(flatten_cases),
    },
    {
        .unit = "flatten", .function = "nn_flatten_backward",
        .dim_count = 4, .dim_names = { "N", "C", "H", "W" },
        .buffer_count = 2,
        .buffers = { ACC("dx", "(N, C, H, W)"), IN("dout", DG_FILL_NORMAL, "(N, C*H*W)") },
        .sizes = flatten_sizes, .call = flatten_backward_call, CASES(flatten_cases),
    },

    LOSS("l1_loss", l1, "prediction", DG_FILL_NORMAL, DG_FILL_NORMAL),
    LOSS("mse_loss", mse, "prediction", DG_FILL_NORMAL, DG_FILL_NORMAL),
    LOSS("bce_loss", bce, "probability", DG_FILL_PROBABILITY, DG_FILL_BINARY),
    /* Soft targets: the logits form accepts any t in [0, 1]. */
    LOSS("bce_with_logits_loss", bce_logits, "logits", DG_FILL_NORMAL, DG_FILL_PROBABILITY),

    {
        .unit = "softmax_cross_entropy", .function = "nn_softmax_cross_entropy_forward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .buffer_count = 4,
        .buffers = {
            LOSS_OUT,
            OUT("probabilities", "(N, C, S)"),
            IN("logits", DG_FILL_NORMAL, "(N, C, S)"),
            { "labels", DG_BUFFER_INPUT, DG_BUFFER_INT, DG_FILL_LABELS, SCE_C, "(N, S)" },
        },
        .sizes = sce_forward_sizes, .call = sce_forward_call, CASES(sce_forward_cases),
        MISTAKES(sce_forward_mistakes),
    },
    {
        .unit = "softmax_cross_entropy", .function = "nn_softmax_cross_entropy_backward",
        .dim_count = 3, .dim_names = { "N", "C", "S" },
        .param_count = 1, .param_names = { "scale" },
        .buffer_count = 3,
        .buffers = {
            ACC("dlogits", "(N, C, S)"),
            IN("probabilities", DG_FILL_PROBABILITY, "(N, C, S)"),
            { "labels", DG_BUFFER_INPUT, DG_BUFFER_INT, DG_FILL_LABELS, SCE_C, "(N, S)" },
        },
        .sizes = sce_backward_sizes, .call = sce_backward_call, CASES(sce_backward_cases),
        MISTAKES(sce_backward_mistakes),
    },

    {
        .unit = "sgd", .function = "nn_sgd_step",
        COUNT_DIMS,
        .param_count = 4,
        .param_names = { "learning_rate", "momentum", "nesterov", "weight_decay" },
        .buffer_count = 3,
        .buffers = {
            STATE("weights", DG_FILL_NORMAL, "(count)"),
            STATE("velocity", DG_FILL_NORMAL, "(count)"),
            IN("grad", DG_FILL_NORMAL, "(count)"),
        },
        .sizes = same_sizes_3, .call = sgd_call, CASES(sgd_cases),
    },
    {
        .unit = "rmsprop", .function = "nn_rmsprop_step",
        COUNT_DIMS,
        .param_count = 4,
        .param_names = { "learning_rate", "decay", "epsilon", "weight_decay" },
        .buffer_count = 3,
        .buffers = {
            STATE("weights", DG_FILL_NORMAL, "(count)"),
            STATE("square_average", DG_FILL_POSITIVE, "(count)"),
            IN("grad", DG_FILL_NORMAL, "(count)"),
        },
        .sizes = same_sizes_3, .call = rmsprop_call, CASES(rmsprop_cases),
    },
    {
        .unit = "adam", .function = "nn_adam_step",
        /* The step number t is an integer: a dim, not a parameter. */
        .dim_count = 2, .dim_names = { "count", "step" },
        .param_count = 7,
        .param_names = { "learning_rate", "beta1", "beta2", "epsilon", "weight_decay",
                         "decoupled", "bias_correction" },
        .buffer_count = 4,
        .buffers = {
            STATE("weights", DG_FILL_NORMAL, "(count)"),
            STATE("first_moment", DG_FILL_NORMAL, "(count)"),
            STATE("second_moment", DG_FILL_POSITIVE, "(count)"),
            IN("grad", DG_FILL_NORMAL, "(count)"),
        },
        .sizes = same_sizes_4, .call = adam_call, CASES(adam_cases), MISTAKES(adam_mistakes),
    },

    {
        .unit = "l2_penalty", .function = "nn_l2_penalty_forward",
        COUNT_DIMS, .param_count = 1, .param_names = { "lambda" },
        .buffer_count = 2,
        .buffers = {
            /* The penalty is added to a loss already summed. */
            { "loss", DG_BUFFER_ACCUMULATE, DG_BUFFER_DOUBLE, DG_FILL_NORMAL, 0, "(1)" },
            IN("weights", DG_FILL_NORMAL, "(count)"),
        },
        .sizes = l2_penalty_forward_sizes, .call = l2_penalty_forward_call,
        CASES(l2_penalty_cases),
    },
    {
        .unit = "l2_penalty", .function = "nn_l2_penalty_backward",
        COUNT_DIMS, .param_count = 1, .param_names = { "lambda" },
        .buffer_count = 2,
        .buffers = { ACC("dweights", "(count)"), IN("weights", DG_FILL_NORMAL, "(count)") },
        .sizes = same_sizes_2, .call = l2_penalty_backward_call, CASES(l2_penalty_cases),
    },
    {
        .unit = "conv2d", .function = "nn_conv2d_forward",
        .dim_count = 8, .dim_names = { "N", "C", "H", "W", "F", "K", "S", "P" },
        .buffer_count = 5,
        .buffers = {
            OUT("out", "(N, F, OH, OW)"),
            { "columns", DG_BUFFER_WORKSPACE, DG_BUFFER_REAL, DG_FILL_ZERO, 0, "(workspace)" },
            IN("x", DG_FILL_NORMAL, "(N, C, H, W)"),
            IN("weight", DG_FILL_NORMAL, "(F, C, K, K)"),
            IN("bias", DG_FILL_NORMAL, "(F)"),
        },
        .sizes = conv_forward_sizes, .call = conv_forward_call, CASES(conv_cases),
    },
    {
        .unit = "conv2d", .function = "nn_conv2d_backward",
        .dim_count = 8, .dim_names = { "N", "C", "H", "W", "F", "K", "S", "P" },
        .buffer_count = 7,
        .buffers = {
            ACC("dx", "(N, C, H, W)"),
            ACC("dweight", "(F, C, K, K)"),
            ACC("dbias", "(F)"),
            { "columns", DG_BUFFER_WORKSPACE, DG_BUFFER_REAL, DG_FILL_ZERO, 0, "(workspace)" },
            IN("dout", DG_FILL_NORMAL, "(N, F, OH, OW)"),
            IN("x", DG_FILL_NORMAL, "(N, C, H, W)"),
            IN("weight", DG_FILL_NORMAL, "(F, C, K, K)"),
        },
        .sizes = conv_backward_sizes, .call = conv_backward_call, CASES(conv_cases),
    },
    {
        .unit = "max_pool2d", .function = "nn_max_pool2d_forward",
        .dim_count = 6, .dim_names = { "N", "C", "H", "W", "K", "S" },
        .buffer_count = 3,
        .buffers = {
            OUT("out", "(N, C, OH, OW)"),
            { "argmax", DG_BUFFER_OUTPUT, DG_BUFFER_INT, DG_FILL_ZERO, 0, "(N, C, OH, OW)" },
            IN("x", DG_FILL_NORMAL, "(N, C, H, W)"),
        },
        .sizes = max_pool_forward_sizes, .call = max_pool_forward_call, CASES(max_pool_cases),
    },
    {
        .unit = "max_pool2d", .function = "nn_max_pool2d_backward",
        .dim_count = 6, .dim_names = { "N", "C", "H", "W", "K", "S" },
        .buffer_count = 3,
        .buffers = {
            ACC("dx", "(N, C, H, W)"),
            IN("dout", DG_FILL_NORMAL, "(N, C, OH, OW)"),
            /* Positions within each (H, W) plane; a backward compared on
             * its own gets arbitrary ones in the first row. */
            { "argmax", DG_BUFFER_INPUT, DG_BUFFER_INT, DG_FILL_LABELS, 3, "(N, C, OH, OW)" },
        },
        .sizes = max_pool_backward_sizes, .call = max_pool_backward_call, CASES(max_pool_cases),
    },
};

const size_t dg_kernel_count = sizeof dg_kernels / sizeof dg_kernels[0];

const dg_kernel *dg_kernel_find(const char *function)
{
    for (size_t i = 0; i < dg_kernel_count; i++)
        if (strcmp(dg_kernels[i].function, function) == 0)
            return &dg_kernels[i];
    return NULL;
}

/* ---- gradient pairs ------------------------------------------------------------
 * Comments name the links as backward-forward buffers. Every gradient a
 * backward produces is linked, and every input a backward reads is either
 * the upstream gradient r or shared from the forward, so no backward input
 * is random noise unrelated to the forward that defines L. */

/* Elementwise activation: dx-x; the backward's third buffer (x, or the
 * forward's out for sigmoid and tanh) comes from the forward's saved. */
#define ACTIVATION_PAIR(stem, saved, kink_)                                           \
    {                                                                                 \
        .forward = "nn_" #stem "_forward", .backward = "nn_" #stem "_backward",       \
        .forward_output = 0, .backward_upstream = 1,                                  \
        .link_count = 1, .links = { { 0, 1 } }, .kinks = { kink_ },                   \
        .share_count = 1, .shares = { { 2, saved } },                                 \
    }

/* Elementwise loss: dprediction-prediction; prediction and target shared. */
#define LOSS_PAIR(unit_, kink_)                                                       \
    {                                                                                 \
        .forward = "nn_" unit_ "_forward", .backward = "nn_" unit_ "_backward",       \
        .forward_output = 0, .backward_upstream = -1,                                 \
        .link_count = 1, .links = { { 0, 1 } }, .kinks = { kink_ },                   \
        .share_count = 2, .shares = { { 1, 1 }, { 2, 2 } },                           \
    }

const dg_gradient_pair dg_gradient_pairs[] = {
    {
        .forward = "nn_linear_forward", .backward = "nn_linear_backward",
        .forward_output = 0, .backward_upstream = 3,
        .link_count = 3, .links = { { 0, 1 }, { 1, 2 }, { 2, 3 } },   /* dx-x, dW-W, db-b */
        .share_count = 2, .shares = { { 4, 1 }, { 5, 2 } },          /* x, weight */
    },
    ACTIVATION_PAIR(relu, 1, DG_KINK_SIGN),        /* x */
    ACTIVATION_PAIR(leaky_relu, 1, DG_KINK_SIGN),  /* x */
    ACTIVATION_PAIR(sigmoid, 0, DG_KINK_NONE),     /* out */
    ACTIVATION_PAIR(tanh, 0, DG_KINK_NONE),        /* out */
    ACTIVATION_PAIR(softmax, 0, DG_KINK_NONE),     /* out */
    {
        .forward = "nn_prelu_forward", .backward = "nn_prelu_backward",
        .forward_output = 0, .backward_upstream = 2,
        /* dx-x, dslope-slope; L is linear in the slope, so only x has kinks */
        .link_count = 2, .links = { { 0, 1 }, { 1, 2 } }, .kinks = { DG_KINK_SIGN },
        .share_count = 2, .shares = { { 3, 1 }, { 4, 2 } },          /* x, slope */
    },
    {
        /* The forward runs in its own cases' mode; in training its mask is
         * the same at every rerun (the call draws from a copy of the rng),
         * so L is a linear function of x and the check is exact. */
        .forward = "nn_dropout_forward", .backward = "nn_dropout_backward",
        .forward_output = 0, .backward_upstream = 1,
        .link_count = 1, .links = { { 0, 2 } },                       /* dx-x */
        .share_count = 1, .shares = { { 2, 1 } },                    /* mask */
    },
    {
        /* In training the saved mean and 1/std are the batch's, in eval the
         * running ones: either way the backward gets what the forward saved. */
        .forward = "nn_batchnorm_forward", .backward = "nn_batchnorm_backward",
        .forward_output = 0, .backward_upstream = 3,
        /* dx-x, dgamma-gamma, dbeta-beta */
        .link_count = 3, .links = { { 0, 3 }, { 1, 4 }, { 2, 5 } },
        /* x, saved_mean, saved_inv_std, gamma */
        .share_count = 4, .shares = { { 4, 3 }, { 5, 1 }, { 6, 2 }, { 7, 4 } },
    },
    {
        .forward = "nn_flatten_forward", .backward = "nn_flatten_backward",
        .forward_output = 0, .backward_upstream = 1,
        .link_count = 1, .links = { { 0, 1 } },                       /* dx-x */
        .share_count = 0,
    },
    LOSS_PAIR("l1_loss", DG_KINK_DIFFERENCE),   /* |p - t| */
    LOSS_PAIR("mse_loss", DG_KINK_NONE),
    LOSS_PAIR("bce_loss", DG_KINK_NONE),
    LOSS_PAIR("bce_with_logits_loss", DG_KINK_NONE),
    {
        .forward = "nn_softmax_cross_entropy_forward",
        .backward = "nn_softmax_cross_entropy_backward",
        .forward_output = 0, .backward_upstream = -1,
        .link_count = 1, .links = { { 0, 2 } },                       /* dlogits-logits */
        .share_count = 2, .shares = { { 1, 1 }, { 2, 3 } },          /* probabilities, labels */
    },
    {
        /* L is the loss buffer after the forward added the penalty; the
         * gradient engine starts it at zero. */
        .forward = "nn_l2_penalty_forward", .backward = "nn_l2_penalty_backward",
        .forward_output = 0, .backward_upstream = -1,
        .link_count = 1, .links = { { 0, 1 } },                       /* dweights-weights */
        .share_count = 1, .shares = { { 1, 1 } },                    /* weights */
    },
    {
        .forward = "nn_conv2d_forward", .backward = "nn_conv2d_backward",
        .forward_output = 0, .backward_upstream = 4,
        .link_count = 3, .links = { { 0, 2 }, { 1, 3 }, { 2, 4 } },   /* dx-x, dW-W, db-b */
        .share_count = 2, .shares = { { 5, 2 }, { 6, 3 } },          /* x, weight */
    },
    {
        .forward = "nn_max_pool2d_forward", .backward = "nn_max_pool2d_backward",
        .forward_output = 0, .backward_upstream = 1,
        .link_count = 1, .links = { { 0, 2 } },                       /* dx-x */
        .kinks = { DG_KINK_WINDOW_MAX },
        .share_count = 1, .shares = { { 2, 1 } },                    /* argmax */
    },
};

const size_t dg_gradient_pair_count = sizeof dg_gradient_pairs / sizeof dg_gradient_pairs[0];

const dg_gradient_pair *dg_gradient_pair_find(const char *function)
{
    for (size_t i = 0; i < dg_gradient_pair_count; i++)
        if (strcmp(dg_gradient_pairs[i].backward, function) == 0
            || strcmp(dg_gradient_pairs[i].forward, function) == 0)
            return &dg_gradient_pairs[i];
    return NULL;
}

static int name_index(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

dg_kernel_case dg_gradient_pair_backward_case(const dg_gradient_pair *pair,
                                              const dg_kernel_case *forward_case)
{
    const dg_kernel *forward = dg_kernel_find(pair->forward);
    const dg_kernel *backward = dg_kernel_find(pair->backward);
    dg_kernel_case result = { .input_fill = DG_FILL_NORMAL };
    for (int d = 0; d < backward->dim_count; d++) {
        int from = name_index(forward->dim_names, forward->dim_count, backward->dim_names[d]);
        result.dims[d] = from >= 0 ? forward_case->dims[from] : 1;
    }
    for (int p = 0; p < backward->param_count; p++) {
        int from = name_index(forward->param_names, forward->param_count,
                              backward->param_names[p]);
        result.params[p] = from >= 0 ? forward_case->params[from] : 1.0;
    }
    return result;
}
