/*
 * check_sigmoid.c - the logistic function against PyTorch, including
 * logits so large that a one-branch formula overflows exp, its gradient
 * through the saved output, accumulation, and its symmetry.
 */
#include "fixture.h"
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

#include <fenv.h>

static nn_real *copy_of(const fixture_tensor *t)
{
    nn_real *data = malloc(t->size * sizeof *data);
    ck_assert_ptr_nonnull(data);
    fixture_copy(data, t);
    return data;
}

typedef struct sigmoid_loss_context {
    const nn_real *x;
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    size_t count;
} sigmoid_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double sigmoid_weighted_sum(sigmoid_loss_context *c)
{
    ck_assert_int_eq(nn_sigmoid_forward(c->out, c->x, c->count), NN_OK);
    long double sum = 0.0L;
    for (size_t i = 0; i < c->count; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double sigmoid_loss(void *context)
{
    sigmoid_loss_context *c = context;
    return (double)(sigmoid_weighted_sum(c) - c->baseline);
}

static nn_gradcheck_result run_gradcheck(nn_real *x, const nn_real *analytic, size_t count,
                                         sigmoid_loss_context *context)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 14);
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, analytic, count, sigmoid_loss, context, &config,
                               &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    return result;
}

START_TEST(sigmoid_matches_pytorch_forward_and_backward)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_sigmoid_forward(out, x, xt->size), NN_OK);
    fixture_assert_close(out, fixture_get(f, "sigmoid_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_sigmoid_backward(dx, dout, out, xt->size), NN_OK);
    fixture_assert_close(dx, fixture_get(f, "sigmoid_dx"), TEST_TOLERANCE);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(sigmoid_of_huge_logits_is_finite_and_saturated)
{
    /* +-1000 overflows exp in either one-branch formula: 1 / (1 + exp(-x))
     * happens to round to 0 (1 / inf), but exp(x) / (1 + exp(x)) gives
     * inf / inf = NaN, and both raise the overflow flag, which the stable
     * formula never does. PyTorch's values are the limits 0 and 1, and the
     * gradient vanishes there. */
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "sigmoid_extreme_x");
    nn_real *x = copy_of(xt);
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    nn_real *dout = malloc(xt->size * sizeof *dout);
    for (size_t i = 0; i < xt->size; i++)
        dout[i] = 1;
    feclearexcept(FE_OVERFLOW);
    ck_assert_int_eq(nn_sigmoid_forward(out, x, xt->size), NN_OK);
    ck_assert_msg(!fetestexcept(FE_OVERFLOW), "sigmoid forward overflowed exp");
    ck_assert_int_eq(nn_sigmoid_backward(dx, dout, out, xt->size), NN_OK);
    for (size_t i = 0; i < xt->size; i++) {
        ck_assert_msg(isfinite(out[i]) && out[i] >= 0 && out[i] <= 1,
                      "sigmoid(%g) = %g is not in [0, 1]", (double)x[i], (double)out[i]);
        ck_assert_msg(isfinite(dx[i]), "sigmoid'(%g) = %g", (double)x[i], (double)dx[i]);
    }
    fixture_assert_close(out, fixture_get(f, "sigmoid_extreme_out"), TEST_TOLERANCE);
    fixture_assert_close(dx, fixture_get(f, "sigmoid_extreme_dx"), TEST_TOLERANCE);
    ck_assert(out[0] == 0 && out[xt->size - 1] == 1);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(sigmoid_backward_adds_to_existing_dx)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x"), *want = fixture_get(f, "sigmoid_dx");
    nn_real *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = copy_of(fixture_get(f, "sigmoid_out"));
    nn_real *dx = malloc(xt->size * sizeof *dx);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = (nn_real)(-2.0 + 0.0625 * (double)i);
    ck_assert_int_eq(nn_sigmoid_backward(dx, dout, out, xt->size), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        ck_assert_real_near(dx[i], -2.0 + 0.0625 * (double)i + want->values[i], TEST_TOLERANCE);
    free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(sigmoid_backward_passes_gradient_check)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_sigmoid_forward(out, x, xt->size), NN_OK);
    ck_assert_int_eq(nn_sigmoid_backward(dx, r, out, xt->size), NN_OK);
    sigmoid_loss_context context = { .x = x, .out = out, .weights = r, .count = xt->size };
    context.baseline = sigmoid_weighted_sum(&context);
    nn_gradcheck_result result = run_gradcheck(x, dx, xt->size, &context);
    char text[512];
    nn_gradcheck_config config = nn_gradcheck_default_config();
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, "sigmoid dx", &xt->shape, &result,
                                        &config));
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(gradient_check_catches_sigmoid_backward_fed_the_input)
{
    /* Backward takes the saved output y, not x: x (1 - x) is a classic
     * slip, and the check must see it. */
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_sigmoid_backward(dx, r, x, xt->size), NN_OK);
    sigmoid_loss_context context = { .x = x, .out = out, .weights = r, .count = xt->size };
    context.baseline = sigmoid_weighted_sum(&context);
    nn_gradcheck_result result = run_gradcheck(x, dx, xt->size, &context);
    ck_assert(!result.passed);
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(sigmoid_is_point_symmetric_about_one_half)
{
    /* sigma(-x) = 1 - sigma(x): the two branches of the stable formula
     * must join without a seam at 0. */
    enum { COUNT = 101 };
    nn_real x[COUNT], minus_x[COUNT], y[COUNT], y_mirror[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 21);
    test_fill_uniform(x, COUNT, &rng, -20.0, 20.0);
    x[0] = 0;
    x[1] = (nn_real)1e-6;
    for (size_t i = 0; i < COUNT; i++)
        minus_x[i] = -x[i];
    ck_assert_int_eq(nn_sigmoid_forward(y, x, COUNT), NN_OK);
    ck_assert_int_eq(nn_sigmoid_forward(y_mirror, minus_x, COUNT), NN_OK);
    ck_assert(y[0] == (nn_real)0.5);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_real_near(y[i] + y_mirror[i], 1.0, TEST_TOLERANCE);
}
END_TEST

Suite *sigmoid_suite(void);
Suite *sigmoid_suite(void)
{
    Suite *suite = suite_create("sigmoid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sigmoid_matches_pytorch_forward_and_backward);
    tcase_add_test(tc, sigmoid_of_huge_logits_is_finite_and_saturated);
    tcase_add_test(tc, sigmoid_backward_adds_to_existing_dx);
    tcase_add_test(tc, sigmoid_backward_passes_gradient_check);
    tcase_add_test(tc, gradient_check_catches_sigmoid_backward_fed_the_input);
    tcase_add_test(tc, sigmoid_is_point_symmetric_about_one_half);
    suite_add_tcase(suite, tc);
    return suite;
}
