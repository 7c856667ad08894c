/*
 * check_softmax.c - softmax over the last axis against PyTorch; its
 * backward as a Jacobian-vector product (gradient check, accumulation, and
 * the full Jacobian recovered column by column against y_i (delta_ij - y_j));
 * rows summing to 1, shift invariance, and huge logits.
 */
#include "fixture.h"
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

#include <fenv.h>
#include <float.h>

static nn_real *copy_of(const fixture_tensor *t)
{
    nn_real *data = malloc(t->size * sizeof *data);
    ck_assert_ptr_nonnull(data);
    fixture_copy(data, t);
    return data;
}

typedef struct softmax_loss_context {
    const nn_real *x; /* (N, K) */
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    int batch, classes;
} softmax_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double softmax_weighted_sum(softmax_loss_context *c)
{
    ck_assert_int_eq(nn_softmax_forward(c->out, c->x, c->batch, c->classes), NN_OK);
    long double sum = 0.0L;
    for (size_t i = 0; i < (size_t)c->batch * (size_t)c->classes; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double softmax_loss(void *context)
{
    softmax_loss_context *c = context;
    return (double)(softmax_weighted_sum(c) - c->baseline);
}

/*
 * The default configuration, with one change in the double build. Moving
 * one logit by h moves every output of its row, and each output is rounded
 * to about eps, so the central difference carries an absolute noise near
 * eps / h (~1e-10) that no loss trick removes. The default floor (1e-10)
 * then asks an entry y_j (g_j - g.y) of 1e-5, which a logit far below its
 * row's maximum or a g_j close to g.y gives, to be right to 1e-11, and a
 * correct backward fails. A floor of noise / tolerance (~1e-4, the float
 * build's floor too) checks such entries to the noise instead.
 */
static nn_gradcheck_config softmax_gradcheck_config(void)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
#if NN_REAL_IS_DOUBLE
    config.denominator_floor = 0.5 * DBL_EPSILON / config.step / config.tolerance;
#endif
    return config;
}

static nn_gradcheck_result run_gradcheck(nn_real *x, const nn_real *analytic,
                                         softmax_loss_context *context)
{
    nn_gradcheck_config config = softmax_gradcheck_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 16);
    nn_error err = { 0 };
    size_t count = (size_t)context->batch * (size_t)context->classes;
    ck_assert_msg(nn_gradcheck(&result, x, analytic, count, softmax_loss, context, &config,
                               &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    return result;
}

START_TEST(softmax_matches_pytorch_forward_and_backward)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "softmax_x");
    int batch = (int)xt->shape.dims[0], classes = (int)xt->shape.dims[1];
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "softmax_dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_softmax_forward(out, x, batch, classes), NN_OK);
    fixture_assert_close(out, fixture_get(f, "softmax_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_softmax_backward(dx, dout, out, batch, classes), NN_OK);
    fixture_assert_close(dx, fixture_get(f, "softmax_dx"), TEST_TOLERANCE);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(softmax_backward_adds_to_existing_dx)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "softmax_x"), *want = fixture_get(f, "softmax_dx");
    int batch = (int)xt->shape.dims[0], classes = (int)xt->shape.dims[1];
    nn_real *dout = copy_of(fixture_get(f, "softmax_dout"));
    nn_real *out = copy_of(fixture_get(f, "softmax_out"));
    nn_real *dx = malloc(xt->size * sizeof *dx);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = (nn_real)(1.5 - 0.125 * (double)i);
    ck_assert_int_eq(nn_softmax_backward(dx, dout, out, batch, classes), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        ck_assert_real_near(dx[i], 1.5 - 0.125 * (double)i + want->values[i], TEST_TOLERANCE);
    free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(softmax_backward_passes_gradient_check)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "softmax_x");
    int batch = (int)xt->shape.dims[0], classes = (int)xt->shape.dims[1];
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "softmax_dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_softmax_forward(out, x, batch, classes), NN_OK);
    ck_assert_int_eq(nn_softmax_backward(dx, r, out, batch, classes), NN_OK);
    softmax_loss_context context = { .x = x, .out = out, .weights = r, .batch = batch,
                                      .classes = classes };
    context.baseline = softmax_weighted_sum(&context);
    nn_gradcheck_result result = run_gradcheck(x, dx, &context);
    nn_gradcheck_config config = softmax_gradcheck_config();
    char text[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, "softmax dx", &xt->shape, &result,
                                        &config));
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(gradient_check_catches_softmax_backward_without_cross_terms)
{
    /* Treating softmax as elementwise, dz_j = g_j y_j (1 - y_j), keeps only
     * the Jacobian's diagonal; the check must reject it. */
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "softmax_x");
    int batch = (int)xt->shape.dims[0], classes = (int)xt->shape.dims[1];
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "softmax_dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_softmax_forward(out, x, batch, classes), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = r[i] * out[i] * (1 - out[i]);
    softmax_loss_context context = { .x = x, .out = out, .weights = r, .batch = batch,
                                      .classes = classes };
    context.baseline = softmax_weighted_sum(&context);
    ck_assert(!run_gradcheck(x, dx, &context).passed);
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(softmax_jacobian_from_backward_is_y_i_times_delta_ij_minus_y_j)
{
    /* Backward with dout = e_i returns row i of the Jacobian,
     * dy_i/dz_j for every j (the matrix is symmetric, so it is also column
     * i); compare it entry by entry with y_i (delta_ij - y_j). */
    enum { K = 6 };
    nn_real z[K] = { (nn_real)0.3, (nn_real)-1.2, (nn_real)2.0, 0, (nn_real)0.7, (nn_real)-0.4 };
    nn_real y[K], jacobian[K][K];
    ck_assert_int_eq(nn_softmax_forward(y, z, 1, K), NN_OK);
    for (int i = 0; i < K; i++) {
        nn_real unit[K] = { 0 };
        unit[i] = 1;
        for (int j = 0; j < K; j++)
            jacobian[i][j] = 0;
        ck_assert_int_eq(nn_softmax_backward(jacobian[i], unit, y, 1, K), NN_OK);
    }
    for (int i = 0; i < K; i++) {
        double row_sum = 0.0;
        for (int j = 0; j < K; j++) {
            double expected = (double)y[i] * ((i == j ? 1.0 : 0.0) - (double)y[j]);
            ck_assert_real_near(jacobian[i][j], expected, TEST_TOLERANCE);
            row_sum += (double)jacobian[i][j];
        }
        /* Outputs sum to 1 whatever z is, so each y_i's gradient, summed
         * over the logits, is 0. */
        ck_assert_real_near(row_sum, 0.0, TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(softmax_rows_sum_to_one)
{
    enum { N = 8, K = 10 };
    nn_real x[N * K], y[N * K];
    nn_rng rng;
    nn_rng_seed(&rng, 23);
    test_fill_uniform(x, N * K, &rng, -15.0, 15.0);
    ck_assert_int_eq(nn_softmax_forward(y, x, N, K), NN_OK);
    for (int n = 0; n < N; n++) {
        double sum = 0.0;
        for (int k = 0; k < K; k++) {
            ck_assert(y[n * K + k] > 0 && y[n * K + k] <= 1);
            sum += (double)y[n * K + k];
        }
        ck_assert_real_near(sum, 1.0, TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(softmax_does_not_change_when_a_constant_is_added_to_the_logits)
{
    /* Logits on a grid of 1/64 keep x + 1000 and x - 300 exact even in
     * float, so any difference would be the kernel's, not the input's. */
    enum { N = 3, K = 5 };
    nn_real x[N * K], shifted_up[N * K], shifted_down[N * K];
    nn_real y[N * K], y_up[N * K], y_down[N * K];
    nn_rng rng;
    nn_rng_seed(&rng, 24);
    for (size_t i = 0; i < N * K; i++) {
        x[i] = (nn_real)((double)((int)nn_rng_below(&rng, 512) - 256) / 64.0);
        shifted_up[i] = x[i] + 1000;
        shifted_down[i] = x[i] - 300;
    }
    ck_assert_int_eq(nn_softmax_forward(y, x, N, K), NN_OK);
    ck_assert_int_eq(nn_softmax_forward(y_up, shifted_up, N, K), NN_OK);
    ck_assert_int_eq(nn_softmax_forward(y_down, shifted_down, N, K), NN_OK);
    for (size_t i = 0; i < N * K; i++) {
        ck_assert_real_near(y_up[i], y[i], TEST_TOLERANCE);
        ck_assert_real_near(y_down[i], y[i], TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(softmax_of_huge_logits_stays_finite)
{
    /* exp(1000) overflows (inf / inf = NaN); after subtracting the row
     * maximum no exp overflows, which the floating-point flag confirms.
     * Row 0: the first logit dominates; row 1: the last one does (a scan
     * for the maximum must reach the end); row 2: two tie at the top;
     * row 3: all hugely negative and equal, so uniform. */
    enum { N = 4, K = 4 };
    nn_real x[N * K] = { 1000, 0, -1000, 10,
                         -1000, 10, 0, 1000,
                         1000, 1000, -1000, 0,
                         -1000, -1000, -1000, -1000 };
    nn_real y[N * K], dout[N * K], dx[N * K] = { 0 };
    for (int i = 0; i < N * K; i++)
        dout[i] = (nn_real)(0.25 * (i % 4) - 0.5);
    feclearexcept(FE_OVERFLOW);
    ck_assert_int_eq(nn_softmax_forward(y, x, N, K), NN_OK);
    ck_assert_msg(!fetestexcept(FE_OVERFLOW), "softmax forward overflowed exp");
    ck_assert_int_eq(nn_softmax_backward(dx, dout, y, N, K), NN_OK);
    for (int i = 0; i < N * K; i++) {
        ck_assert_msg(isfinite(y[i]), "y[%d] = %g", i, (double)y[i]);
        ck_assert_msg(isfinite(dx[i]), "dx[%d] = %g", i, (double)dx[i]);
    }
    const double expected[N * K] = { 1, 0, 0, 0, 0, 0, 0, 1, 0.5, 0.5, 0, 0,
                                     0.25, 0.25, 0.25, 0.25 };
    for (int i = 0; i < N * K; i++)
        ck_assert_real_near(y[i], expected[i], TEST_TOLERANCE);
}
END_TEST

Suite *softmax_suite(void);
Suite *softmax_suite(void)
{
    Suite *suite = suite_create("softmax");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, softmax_matches_pytorch_forward_and_backward);
    tcase_add_test(tc, softmax_backward_adds_to_existing_dx);
    tcase_add_test(tc, softmax_backward_passes_gradient_check);
    tcase_add_test(tc, gradient_check_catches_softmax_backward_without_cross_terms);
    tcase_add_test(tc, softmax_jacobian_from_backward_is_y_i_times_delta_ij_minus_y_j);
    tcase_add_test(tc, softmax_rows_sum_to_one);
    tcase_add_test(tc, softmax_does_not_change_when_a_constant_is_added_to_the_logits);
    tcase_add_test(tc, softmax_of_huge_logits_stays_finite);
    suite_add_tcase(suite, tc);
    return suite;
}
