/*
 * kernels.c - the table of student-implemented functions (see kernels.h).
 * Each entry is a function's signature told as data, plus two adaptors:
 * `sizes` (buffer lengths from the case's sizes) and `call`.
 *
 * Cases: small ones first (a student's bug shows on a readable tensor),
 * then one of a realistic size.
 */
#include "kernels.h"

#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/optim.h"

#include <string.h>

#define R(i) ((nn_real *)buffers[i])
#define CR(i) ((const nn_real *)buffers[i])

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

static const dg_kernel_case linear_cases[] = {
    { .dims = { 2, 3, 4 } },
    { .dims = { 5, 7, 3 } },
    { .dims = { 64, 100, 33 } },
};

/* ---- the table --------------------------------------------------------------- */

#define CASES(array) .case_count = (int)(sizeof array / sizeof array[0]), .cases = array

const dg_kernel dg_kernels[] = {
    {
        .unit = "linear", .function = "nn_linear_forward",
        .dim_count = 3, .dim_names = { "N", "I", "O" },
        .buffer_count = 4,
        .buffers = {
            { "out", DG_BUFFER_OUTPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(N, O)" },
            { "x", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(N, I)" },
            { "weight", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(O, I)" },
            { "bias", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(O)" },
        },
        .sizes = linear_forward_sizes, .call = linear_forward_call, CASES(linear_cases),
    },
    {
        .unit = "linear", .function = "nn_linear_backward",
        .dim_count = 3, .dim_names = { "N", "I", "O" },
        .buffer_count = 6,
        .buffers = {
            { "dx", DG_BUFFER_ACCUMULATE, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(N, I)" },
            { "dweight", DG_BUFFER_ACCUMULATE, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(O, I)" },
            { "dbias", DG_BUFFER_ACCUMULATE, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(O)" },
            { "dout", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(N, O)" },
            { "x", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(N, I)" },
            { "weight", DG_BUFFER_INPUT, DG_BUFFER_REAL, DG_FILL_NORMAL, 0, "(O, I)" },
        },
        .sizes = linear_backward_sizes, .call = linear_backward_call, CASES(linear_cases),
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

const dg_gradient_pair dg_gradient_pairs[] = {
    {
        .forward = "nn_linear_forward", .backward = "nn_linear_backward",
        .forward_output = 0, .backward_upstream = 3,
        .link_count = 3, .links = { { 0, 1 }, { 1, 2 }, { 2, 3 } },   /* dx-x, dW-W, db-b */
        .share_count = 2, .shares = { { 4, 1 }, { 5, 2 } },          /* x, weight */
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
