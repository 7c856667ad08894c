/*
 * check_leaky_relu.c - LeakyReLU against PyTorch, its gradient and
 * accumulation, and its two limits: slope 0 is ReLU (exam 1.7: still a
 * non-linearity) and slope 1 is the identity.
 */
#include "fixture.h"
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

static nn_real *copy_of(const fixture_tensor *t)
{
    nn_real *data = malloc(t->size * sizeof *data);
    ck_assert_ptr_nonnull(data);
    fixture_copy(data, t);
    return data;
}

typedef struct leaky_loss_context {
    const nn_real *x;
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    size_t count;
    nn_real slope;
} leaky_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double leaky_weighted_sum(leaky_loss_context *c)
{
    ck_assert_int_eq(nn_leaky_relu_forward(c->out, c->x, c->count, c->slope), NN_OK);
    long double sum = 0.0L;
    for (size_t i = 0; i < c->count; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double leaky_loss(void *context)
{
    leaky_loss_context *c = context;
    return (double)(leaky_weighted_sum(c) - c->baseline);
}

START_TEST(leaky_relu_matches_pytorch_forward_and_backward)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real slope = (nn_real)fixture_get(f, "leaky_slope")->values[0];
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_leaky_relu_forward(out, x, xt->size, slope), NN_OK);
    fixture_assert_close(out, fixture_get(f, "leaky_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_leaky_relu_backward(dx, dout, x, xt->size, slope), NN_OK);
    fixture_assert_close(dx, fixture_get(f, "leaky_dx"), TEST_TOLERANCE);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(leaky_relu_backward_adds_to_existing_dx)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x"), *want = fixture_get(f, "leaky_dx");
    nn_real slope = (nn_real)fixture_get(f, "leaky_slope")->values[0];
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *dx = malloc(xt->size * sizeof *dx);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = (nn_real)(1.0 - 0.125 * (double)i);
    ck_assert_int_eq(nn_leaky_relu_backward(dx, dout, x, xt->size, slope), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        ck_assert_real_near(dx[i], 1.0 - 0.125 * (double)i + want->values[i], TEST_TOLERANCE);
    free(x), free(dout), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(leaky_relu_backward_passes_gradient_check)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    const nn_real slope = (nn_real)0.1;
    ck_assert_int_eq(nn_leaky_relu_backward(dx, r, x, xt->size, slope), NN_OK);

    leaky_loss_context context = { .x = x, .out = out, .weights = r, .count = xt->size,
                                    .slope = slope };
    context.baseline = leaky_weighted_sum(&context);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, dx, xt->size, leaky_loss, &context, &config, &rng,
                                  &err),
                     NN_OK);
    char text[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, "leaky_relu dx", &xt->shape, &result,
                                        &config));
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(leaky_relu_with_zero_slope_is_relu_and_still_nonlinear)
{
    /* Exam 1.7: LeakyReLU with slope 0 is ReLU, value and gradient, the
     * kink at 0 included. It is a non-linearity: a linear map is odd,
     * f(-x) = -f(x), and this one gives f(x) + f(-x) = |x| instead. */
    enum { COUNT = 200 };
    nn_real x[COUNT], minus_x[COUNT], dout[COUNT];
    nn_real leaky[COUNT], relu[COUNT], leaky_mirror[COUNT];
    nn_real leaky_dx[COUNT] = { 0 }, relu_dx[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 17);
    test_fill_uniform(x, COUNT, &rng, -5.0, 5.0);
    test_fill_uniform(dout, COUNT, &rng, -1.0, 1.0);
    x[0] = 0;
    for (size_t i = 0; i < COUNT; i++)
        minus_x[i] = -x[i];
    ck_assert_int_eq(nn_leaky_relu_forward(leaky, x, COUNT, 0), NN_OK);
    ck_assert_int_eq(nn_leaky_relu_forward(leaky_mirror, minus_x, COUNT, 0), NN_OK);
    ck_assert_int_eq(nn_relu_forward(relu, x, COUNT), NN_OK);
    ck_assert_int_eq(nn_leaky_relu_backward(leaky_dx, dout, x, COUNT, 0), NN_OK);
    ck_assert_int_eq(nn_relu_backward(relu_dx, dout, x, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert_msg(leaky[i] == relu[i], "forward differs from ReLU at x = %g", (double)x[i]);
        ck_assert_msg(leaky_dx[i] == relu_dx[i], "backward differs from ReLU at x = %g",
                      (double)x[i]);
        ck_assert_msg(leaky[i] + leaky_mirror[i] == fabs(x[i]),
                      "f(x) + f(-x) != |x| at x = %g", (double)x[i]);
    }
}
END_TEST

START_TEST(leaky_relu_with_unit_slope_is_the_identity)
{
    enum { COUNT = 64 };
    nn_real x[COUNT], out[COUNT], dout[COUNT], dx[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 18);
    test_fill_uniform(x, COUNT, &rng, -5.0, 5.0);
    test_fill_uniform(dout, COUNT, &rng, -1.0, 1.0);
    ck_assert_int_eq(nn_leaky_relu_forward(out, x, COUNT, 1), NN_OK);
    ck_assert_int_eq(nn_leaky_relu_backward(dx, dout, x, COUNT, 1), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert(out[i] == x[i]);
        ck_assert(dx[i] == dout[i]);
    }
}
END_TEST

Suite *leaky_relu_suite(void);
Suite *leaky_relu_suite(void)
{
    Suite *suite = suite_create("leaky_relu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, leaky_relu_matches_pytorch_forward_and_backward);
    tcase_add_test(tc, leaky_relu_backward_adds_to_existing_dx);
    tcase_add_test(tc, leaky_relu_backward_passes_gradient_check);
    tcase_add_test(tc, leaky_relu_with_zero_slope_is_relu_and_still_nonlinear);
    tcase_add_test(tc, leaky_relu_with_unit_slope_is_the_identity);
    suite_add_tcase(suite, tc);
    return suite;
}
