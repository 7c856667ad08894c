/*
 * check_gradcheck.c - the gradient checker must pass correct gradients,
 * catch wrong ones (and say where), refuse gradients that prove nothing,
 * sample reproducibly, and leave x as it found it.
 */
#include "nn/gradcheck.h"
#include "testutil.h"

/* ---- test functions -------------------------------------------------- */

/* L(x) = sum_i sin(x_i) x_{i+1 mod n}: every coordinate couples to two
 * neighbours, so a gradient written for the wrong index is caught.
 * dL/dx_k = cos(x_k) x_{k+1} + sin(x_{k-1}). */
typedef struct ring_context {
    const nn_real *x;
    size_t n;
} ring_context;

static double ring_loss(void *context)
{
    const ring_context *c = context;
    double sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += sin((double)c->x[i]) * (double)c->x[(i + 1) % c->n];
    return sum;
}

static void ring_gradient(nn_real *g, const nn_real *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        g[k] = (nn_real)(cos((double)x[k]) * (double)x[(k + 1) % n]
                         + sin((double)x[(k + n - 1) % n]));
}

/* L(x) = 1/2 x^T A x + b^T x with a non-symmetric A:
 * dL/dx = 1/2 (A + A^T) x + b. */
enum { QUAD_N = 6 };
typedef struct quadratic_context {
    const nn_real *x;
    double a[QUAD_N][QUAD_N], b[QUAD_N];
} quadratic_context;

static double quadratic_loss(void *context)
{
    const quadratic_context *q = context;
    double sum = 0;
    for (int i = 0; i < QUAD_N; i++) {
        sum += q->b[i] * (double)q->x[i];
        for (int j = 0; j < QUAD_N; j++)
            sum += 0.5 * (double)q->x[i] * q->a[i][j] * (double)q->x[j];
    }
    return sum;
}

static double constant_loss(void *context)
{
    (void)context;
    return 3.25;
}

/* sqrt(x_0): not finite as soon as x_0 goes below zero. */
static double sqrt_loss(void *context)
{
    const nn_real *x = context;
    return sqrt((double)x[0]) + (double)x[1];
}

/* L(x) = sum_i x_i: at a huge x_i the step vanishes in rounding. */
typedef struct sum_context {
    const nn_real *x;
    size_t n;
} sum_context;

static double sum_loss(void *context)
{
    const sum_context *c = context;
    double sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += (double)c->x[i];
    return sum;
}

/* A linear loss that records which coordinate each call perturbed, by
 * comparing x with a snapshot. */
enum { TRACK_N = 1000, TRACK_CALLS = 4 * TRACK_N };
typedef struct tracking_context {
    const nn_real *x;
    const nn_real *baseline;
    size_t calls;
    size_t perturbed[TRACK_CALLS];
    int other_changes; /* calls where zero or several coordinates moved */
} tracking_context;

static double tracking_loss(void *context)
{
    tracking_context *t = context;
    size_t moved = 0, which = 0;
    double sum = 0;
    for (size_t i = 0; i < TRACK_N; i++) {
        if (t->x[i] != t->baseline[i]) {
            moved++;
            which = i;
        }
        sum += (double)(i % 7) * (double)t->x[i];
    }
    if (moved != 1)
        t->other_changes++;
    if (t->calls < TRACK_CALLS)
        t->perturbed[t->calls] = which;
    t->calls++;
    return sum;
}

static void tracking_gradient(nn_real *g)
{
    for (size_t i = 0; i < TRACK_N; i++)
        g[i] = (nn_real)(i % 7);
}

/* ---- tests ----------------------------------------------------------- */

START_TEST(correct_gradient_of_a_smooth_function_passes)
{
    enum { N = 20 };
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    nn_real x[N], g[N];
    /* In [0.5, 1.5] every coordinate of the gradient is at least sin(0.5),
     * far from the denominator floor. */
    test_fill_uniform(x, N, &rng, 0.5, 1.5);
    ring_gradient(g, x, N);
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0;
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, &err), NN_OK);
    ck_assert_msg(result.passed, "worst relative error %g at %zu (analytic %g, numeric %g)",
                  result.worst_relative_error, result.worst_index, result.worst_analytic,
                  result.worst_numeric);
    ck_assert(!result.all_zero);
    ck_assert_uint_eq(result.checked, N);
    ck_assert(result.worst_relative_error >= 0);
    ck_assert(result.worst_relative_error <= config.tolerance);
    ck_assert_uint_lt(result.worst_index, N);
}
END_TEST

START_TEST(correct_gradient_of_a_quadratic_form_passes)
{
    nn_rng rng;
    nn_rng_seed(&rng, 32);
    nn_real x[QUAD_N], g[QUAD_N];
    quadratic_context q = { .x = x };
    for (int i = 0; i < QUAD_N; i++) {
        q.b[i] = nn_rng_uniform_range(&rng, -1, 1);
        for (int j = 0; j < QUAD_N; j++)
            q.a[i][j] = nn_rng_uniform_range(&rng, -2, 2);
    }
    test_fill_uniform(x, QUAD_N, &rng, -3, 3);
    for (int i = 0; i < QUAD_N; i++) {
        double gi = q.b[i];
        for (int j = 0; j < QUAD_N; j++)
            gi += 0.5 * (q.a[i][j] + q.a[j][i]) * (double)x[j];
        g[i] = (nn_real)gi;
    }
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, QUAD_N, quadratic_loss, &q, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert_msg(result.passed, "worst relative error %g at %zu", result.worst_relative_error,
                  result.worst_index);
    ck_assert_uint_eq(result.checked, QUAD_N);

    /* Forgetting the transpose (A x instead of (A + A^T) x / 2) is caught. */
    for (int i = 0; i < QUAD_N; i++) {
        double gi = q.b[i];
        for (int j = 0; j < QUAD_N; j++)
            gi += q.a[i][j] * (double)x[j];
        g[i] = (nn_real)gi;
    }
    ck_assert_int_eq(nn_gradcheck(&result, x, g, QUAD_N, quadratic_loss, &q, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

START_TEST(one_wrong_coordinate_is_caught_and_reported)
{
    enum { N = 16, WRONG = 7 };
    nn_rng rng;
    nn_rng_seed(&rng, 33);
    nn_real x[N], g[N], truth[N];
    test_fill_uniform(x, N, &rng, 0.5, 1.5);
    ring_gradient(truth, x, N);
    memcpy(g, truth, sizeof g);
    g[WRONG] += (nn_real)0.5;
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
    ck_assert(!result.all_zero);
    ck_assert_uint_eq(result.worst_index, WRONG);
    ck_assert(result.worst_analytic == (double)g[WRONG]);
    /* The numeric value is the true derivative, to the checker's accuracy. */
    ck_assert_real_near(result.worst_numeric, truth[WRONG], 10 * config.tolerance);
    double expected_relative = fabs((double)g[WRONG] - result.worst_numeric)
                               / fmax(fabs((double)g[WRONG]), fabs(result.worst_numeric));
    ck_assert_real_near(result.worst_relative_error, expected_relative, 1e-12);
    ck_assert(result.worst_relative_error > config.tolerance);
}
END_TEST

START_TEST(a_gradient_off_by_a_factor_of_two_is_caught)
{
    enum { N = 12 };
    nn_rng rng;
    nn_rng_seed(&rng, 34);
    nn_real x[N], g[N];
    test_fill_uniform(x, N, &rng, 0.5, 1.5);
    ring_gradient(g, x, N);
    for (int i = 0; i < N; i++)
        g[i] *= 2;
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
    /* |2g - g| / |2g| = 1/2 at every coordinate. */
    ck_assert_real_near(result.worst_relative_error, 0.5, 10 * config.tolerance);
    ck_assert_real_near(result.worst_analytic, 2 * result.worst_numeric,
                        20 * config.tolerance);
    ck_assert(result.worst_analytic == (double)g[result.worst_index]);
}
END_TEST

START_TEST(an_all_zero_gradient_is_rejected_when_asked)
{
    enum { N = 5 };
    nn_real x[N] = { 1, -2, 3, 0.5, 0 }, g[N] = { 0 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    ck_assert(config.reject_all_zero);
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, constant_loss, NULL, &config, NULL, NULL),
                     NN_OK);
    ck_assert(result.all_zero);
    ck_assert(!result.passed);
    ck_assert_uint_eq(result.checked, N);

    /* Without the guard, zero equals zero and the check passes. */
    config.reject_all_zero = false;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, constant_loss, NULL, &config, NULL, NULL),
                     NN_OK);
    ck_assert(result.all_zero);
    ck_assert(result.passed);
    ck_assert(result.worst_relative_error == 0);
}
END_TEST

START_TEST(a_zero_gradient_of_a_nonconstant_function_fails_as_wrong)
{
    enum { N = 8 };
    nn_rng rng;
    nn_rng_seed(&rng, 35);
    nn_real x[N], g[N] = { 0 };
    test_fill_uniform(x, N, &rng, 0.5, 1.5);
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
    ck_assert(!result.all_zero);
    ck_assert_real_near(result.worst_relative_error, 1.0, 1e-12);
}
END_TEST

START_TEST(a_nan_in_the_analytic_gradient_fails_and_is_not_called_zero)
{
    enum { N = 5 };
    nn_real x[N] = { 1, -2, 3, 0.5, 0 }, g[N] = { 0, 0, (nn_real)NAN, 0, 0 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, constant_loss, NULL, &config, NULL, NULL),
                     NN_OK);
    ck_assert(!result.passed);
    ck_assert(!result.all_zero);
    ck_assert_uint_eq(result.worst_index, 2);
    ck_assert(isnan(result.worst_analytic));
    char text[256];
    nn_gradcheck_describe(text, sizeof text, "dx", NULL, &result, &config);
    ck_assert_msg(strstr(text, "dx fails the gradient check at [2]: analytic nan") != NULL,
                  "message: %s", text);
}
END_TEST

START_TEST(sampling_checks_exactly_max_samples_distinct_coordinates)
{
    nn_real *x = malloc(TRACK_N * sizeof *x), *baseline = malloc(TRACK_N * sizeof *x);
    nn_real *g = malloc(TRACK_N * sizeof *g);
    tracking_context *t = calloc(1, sizeof *t);
    ck_assert(x && baseline && g && t);
    nn_rng rng;
    nn_rng_seed(&rng, 36);
    test_fill_uniform(x, TRACK_N, &rng, -1, 1);
    memcpy(baseline, x, TRACK_N * sizeof *x);
    tracking_gradient(g);
    t->x = x;
    t->baseline = baseline;

    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 50;
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, TRACK_N, tracking_loss, t, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert(result.passed);
    ck_assert_uint_eq(result.checked, 50);
    ck_assert_int_eq(t->other_changes, 0);
    ck_assert_uint_le(t->calls, TRACK_CALLS);
    static int seen[TRACK_N];
    memset(seen, 0, sizeof seen);
    size_t distinct = 0;
    for (size_t i = 0; i < t->calls; i++)
        if (seen[t->perturbed[i]]++ == 0)
            distinct++;
    ck_assert_uint_eq(distinct, 50);

    /* max_samples at or above the size checks everything. */
    memset(t, 0, sizeof *t);
    t->x = x;
    t->baseline = baseline;
    config.max_samples = TRACK_N;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, TRACK_N, tracking_loss, t, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert_uint_eq(result.checked, TRACK_N);
    free(x);
    free(baseline);
    free(g);
    free(t);
}
END_TEST

/* The coordinates one sampled check visits, in order. */
static void sampled_coordinates(size_t *out, size_t samples, uint64_t seed)
{
    nn_real *x = malloc(TRACK_N * sizeof *x), *baseline = malloc(TRACK_N * sizeof *x);
    nn_real *g = malloc(TRACK_N * sizeof *g);
    tracking_context *t = calloc(1, sizeof *t);
    ck_assert(x && baseline && g && t);
    for (size_t i = 0; i < TRACK_N; i++)
        x[i] = (nn_real)(0.001 * (double)i);
    memcpy(baseline, x, TRACK_N * sizeof *x);
    tracking_gradient(g);
    t->x = x;
    t->baseline = baseline;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = samples;
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, TRACK_N, tracking_loss, t, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert_uint_ge(t->calls, samples);
    /* Each coordinate is evaluated at x + h and x - h, one after the other. */
    for (size_t s = 0; s < samples; s++)
        out[s] = t->perturbed[2 * s];
    free(x);
    free(baseline);
    free(g);
    free(t);
}

START_TEST(sampling_is_reproducible_for_a_seed)
{
    enum { SAMPLES = 40 };
    size_t first[SAMPLES], again[SAMPLES], other[SAMPLES];
    sampled_coordinates(first, SAMPLES, 77);
    sampled_coordinates(again, SAMPLES, 77);
    sampled_coordinates(other, SAMPLES, 78);
    int same_as_other = 0;
    for (int i = 0; i < SAMPLES; i++) {
        ck_assert_uint_eq(first[i], again[i]);
        same_as_other += first[i] == other[i];
    }
    ck_assert_int_lt(same_as_other, SAMPLES);
}
END_TEST

START_TEST(sampling_without_an_rng_is_an_error)
{
    enum { N = 10 };
    nn_real x[N] = { 0 }, g[N] = { 0 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 3;
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, constant_loss, NULL, &config, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "rng"));
    ck_assert(!result.passed);
}
END_TEST

START_TEST(bad_arguments_are_errors)
{
    nn_real x[3] = { 0 }, g[3] = { 0 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, g, 0, constant_loss, NULL, &config, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_gradcheck(&result, x, g, 3, NULL, NULL, &config, NULL, &err),
                     NN_ERR_ARGUMENT);
    config.step = 0;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, 3, constant_loss, NULL, &config, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "step"));
    config = nn_gradcheck_default_config();
    config.tolerance = NAN;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, 3, constant_loss, NULL, &config, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert(!result.passed);
}
END_TEST

START_TEST(a_loss_that_is_not_finite_is_an_error_and_x_is_restored)
{
    nn_real x[2] = { 0, 2 }, g[2] = { 1, 1 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, g, 2, sqrt_loss, x, &config, NULL, &err),
                     NN_ERR_NUMERIC);
    ck_assert_int_eq(err.status, NN_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(err.message, "not finite"));
    ck_assert_ptr_nonnull(strstr(err.message, "coordinate 0"));
    ck_assert(!result.passed);
    ck_assert(x[0] == 0 && x[1] == 2);
}
END_TEST

START_TEST(a_step_lost_in_rounding_is_an_error_not_a_pass)
{
    /* At 1e20 neither float nor double can represent x + h: the central
     * difference divides 0 by 0. That coordinate must not be skipped. */
    enum { N = 3 };
    nn_real x[N] = { 1, (nn_real)1e20, 2 }, g[N] = { 1, 1, 1 };
    sum_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    nn_status status = nn_gradcheck(&result, x, g, N, sum_loss, &c, &config, NULL, &err);
    ck_assert_int_eq(status, NN_ERR_NUMERIC);
    ck_assert(!result.passed);
    ck_assert_ptr_nonnull(strstr(err.message, "coordinate 1"));
    ck_assert(x[1] == (nn_real)1e20);
}
END_TEST

/* L(x) = sum_i c_i x_i with small integer c_i. */
typedef struct linear_context {
    const nn_real *x;
    const double *c;
    size_t n;
} linear_context;

static double linear_loss(void *context)
{
    const linear_context *l = context;
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += l->c[i] * (double)l->x[i];
    return sum;
}

START_TEST(the_step_is_measured_after_rounding)
{
    /* Near 1000 a float is spaced 6e-5 apart, so x +- 0.01 rounds by up to
     * 3e-3 of the step. Dividing by the steps actually taken keeps the
     * difference quotient of a linear function exact (in float, the loss
     * sums exact products in double); dividing by 2h would be off by ~1e-3.
     * In double the loss's own rounding, ~1e-6 here, is the limit. */
    enum { N = 8 };
    nn_rng rng;
    nn_rng_seed(&rng, 39);
    nn_real x[N], g[N];
    double c[N];
    test_fill_uniform(x, N, &rng, 500, 1000);
    for (int i = 0; i < N; i++) {
        c[i] = 1 + i % 7;
        g[i] = (nn_real)c[i];
    }
    linear_context l = { x, c, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, linear_loss, &l, &config, &rng, NULL),
                     NN_OK);
    ck_assert(result.passed);
    ck_assert_msg(result.worst_relative_error <= 1e-5,
                  "relative error %g at %zu: the quotient does not use the rounded step",
                  result.worst_relative_error, result.worst_index);
}
END_TEST

START_TEST(x_is_restored_bit_for_bit_after_the_check)
{
    enum { N = 64 };
    nn_rng rng;
    nn_rng_seed(&rng, 37);
    nn_real x[N], before[N], g[N];
    /* Values whose +-h round asymmetrically in float. */
    test_fill_uniform(x, N, &rng, -100, 100);
    memcpy(before, x, sizeof x);
    ring_gradient(g, x, N);
    g[5] = -g[5]; /* a failing check restores x as well */
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(memcmp(x, before, sizeof x) == 0);
    config.max_samples = 10;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(memcmp(x, before, sizeof x) == 0);
}
END_TEST

START_TEST(describe_formats_a_failure_with_the_shape_index)
{
    nn_shape shape = nn_shape_4d(2, 3, 5, 7);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.tolerance = 1e-6;
    nn_gradcheck_result result = {
        .passed = false, .all_zero = false, .checked = 210,
        .worst_index = ((0 * 3 + 1) * 5 + 4) * 7 + 2,
        .worst_analytic = 0.31, .worst_numeric = 0.12,
        .worst_relative_error = (0.31 - 0.12) / 0.31,
    };
    char text[256];
    ck_assert_ptr_eq(nn_gradcheck_describe(text, sizeof text, "dx", &shape, &result, &config),
                     text);
    ck_assert_str_eq(text, "dx fails the gradient check at [0, 1, 4, 2]: analytic 0.31, "
                           "numeric 0.12 (relative error 6.1e-01 > 1.0e-06)");
    /* Without a shape, the flat index. */
    nn_gradcheck_describe(text, sizeof text, "dW", NULL, &result, &config);
    ck_assert_str_eq(text, "dW fails the gradient check at [65]: analytic 0.31, "
                           "numeric 0.12 (relative error 6.1e-01 > 1.0e-06)");
}
END_TEST

START_TEST(describe_formats_a_pass_and_an_all_zero_refusal)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result pass = {
        .passed = true, .checked = 12, .worst_index = 4,
        .worst_analytic = 1.0, .worst_numeric = 1.0, .worst_relative_error = 3.2e-9,
    };
    nn_shape shape = nn_shape_2d(3, 4);
    char text[256];
    nn_gradcheck_describe(text, sizeof text, "db", &shape, &pass, &config);
    ck_assert_ptr_nonnull(strstr(text, "db passes the gradient check"));
    ck_assert_ptr_nonnull(strstr(text, "12 coordinates"));
    ck_assert_ptr_nonnull(strstr(text, "3.2e-09"));
    ck_assert_ptr_nonnull(strstr(text, "[1, 0]"));

    nn_gradcheck_result zero = { .passed = false, .all_zero = true, .checked = 7 };
    nn_gradcheck_describe(text, sizeof text, "dx", NULL, &zero, &config);
    ck_assert_ptr_nonnull(strstr(text, "dx is zero at all 7 checked coordinates"));
    ck_assert_ptr_null(strstr(text, "fails the gradient check at"));

    /* A tiny buffer is truncated, not overrun. */
    char small[12];
    memset(small, '#', sizeof small);
    nn_gradcheck_describe(small, 8, "dx", NULL, &zero, &config);
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_int_eq(small[8], '#');
}
END_TEST

START_TEST(describe_names_the_coordinate_a_real_check_found)
{
    /* End to end: the wrong coordinate of a (2, 3, 5, 7) tensor shows up in
     * the message as its NCHW index. */
    enum { N = 2 * 3 * 5 * 7, WRONG = 65 };
    nn_rng rng;
    nn_rng_seed(&rng, 38);
    nn_real x[N], g[N];
    test_fill_uniform(x, N, &rng, 0.5, 1.5);
    ring_gradient(g, x, N);
    g[WRONG] = -g[WRONG];
    ring_context c = { x, N };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0;
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, g, N, ring_loss, &c, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
    nn_shape shape = nn_shape_4d(2, 3, 5, 7);
    char text[256];
    nn_gradcheck_describe(text, sizeof text, "dx", &shape, &result, &config);
    ck_assert_msg(strstr(text, "dx fails the gradient check at [0, 1, 4, 2]") != NULL,
                  "message: %s", text);
}
END_TEST

Suite *gradcheck_suite(void);
Suite *gradcheck_suite(void)
{
    Suite *suite = suite_create("gradcheck");
    TCase *verdicts = tcase_create("verdicts");
    tcase_add_test(verdicts, correct_gradient_of_a_smooth_function_passes);
    tcase_add_test(verdicts, correct_gradient_of_a_quadratic_form_passes);
    tcase_add_test(verdicts, one_wrong_coordinate_is_caught_and_reported);
    tcase_add_test(verdicts, a_gradient_off_by_a_factor_of_two_is_caught);
    tcase_add_test(verdicts, an_all_zero_gradient_is_rejected_when_asked);
    tcase_add_test(verdicts, a_zero_gradient_of_a_nonconstant_function_fails_as_wrong);
    tcase_add_test(verdicts, a_nan_in_the_analytic_gradient_fails_and_is_not_called_zero);
    suite_add_tcase(suite, verdicts);

    TCase *mechanics = tcase_create("mechanics");
    tcase_add_test(mechanics, sampling_checks_exactly_max_samples_distinct_coordinates);
    tcase_add_test(mechanics, sampling_is_reproducible_for_a_seed);
    tcase_add_test(mechanics, sampling_without_an_rng_is_an_error);
    tcase_add_test(mechanics, bad_arguments_are_errors);
    tcase_add_test(mechanics, a_loss_that_is_not_finite_is_an_error_and_x_is_restored);
    tcase_add_test(mechanics, a_step_lost_in_rounding_is_an_error_not_a_pass);
    tcase_add_test(mechanics, the_step_is_measured_after_rounding);
    tcase_add_test(mechanics, x_is_restored_bit_for_bit_after_the_check);
    suite_add_tcase(suite, mechanics);

    TCase *messages = tcase_create("messages");
    tcase_add_test(messages, describe_formats_a_failure_with_the_shape_index);
    tcase_add_test(messages, describe_formats_a_pass_and_an_all_zero_refusal);
    tcase_add_test(messages, describe_names_the_coordinate_a_real_check_found);
    suite_add_tcase(suite, messages);
    return suite;
}
