/*
 * check_relu.c - ReLU against PyTorch, its gradient, accumulation, the
 * subgradient at the kink, and the exam's point that ReLU(x) - ReLU(-x) is
 * the identity and so adds no non-linearity.
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

typedef struct relu_loss_context {
    const nn_real *x;
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    size_t count;
} relu_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double relu_weighted_sum(relu_loss_context *c)
{
    ck_assert_int_eq(nn_relu_forward(c->out, c->x, c->count), NN_OK);
    long double sum = 0.0L;
    for (size_t i = 0; i < c->count; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double relu_loss(void *context)
{
    relu_loss_context *c = context;
    return (double)(relu_weighted_sum(c) - c->baseline);
}

START_TEST(relu_matches_pytorch_forward_and_backward)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_relu_forward(out, x, xt->size), NN_OK);
    fixture_assert_close(out, fixture_get(f, "relu_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_relu_backward(dx, dout, x, xt->size), NN_OK);
    fixture_assert_close(dx, fixture_get(f, "relu_dx"), TEST_TOLERANCE);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(relu_backward_adds_to_existing_dx)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x"), *want = fixture_get(f, "relu_dx");
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *dx = malloc(xt->size * sizeof *dx);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = (nn_real)(0.5 + 0.25 * (double)i);
    ck_assert_int_eq(nn_relu_backward(dx, dout, x, xt->size), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        ck_assert_real_near(dx[i], 0.5 + 0.25 * (double)i + want->values[i], TEST_TOLERANCE);
    free(x), free(dout), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(relu_backward_passes_gradient_check)
{
    /* The fixture's inputs keep at least 0.05 from the kink, farther than
     * the float build's finite-difference step. */
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_relu_backward(dx, r, x, xt->size), NN_OK);

    relu_loss_context context = { .x = x, .out = out, .weights = r, .count = xt->size };
    context.baseline = relu_weighted_sum(&context);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, dx, xt->size, relu_loss, &context, &config, &rng,
                                  &err),
                     NN_OK);
    char text[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, "relu dx", &xt->shape, &result,
                                        &config));
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(relu_takes_zero_subgradient_at_the_kink)
{
    /* PyTorch's convention: an input exactly at 0 gives 0 and passes no
     * gradient; just either side of it the gradient is 0 or 1. */
    nn_real x[3] = { 0, (nn_real)-1e-30, (nn_real)1e-30 };
    nn_real dout[3] = { 2, 2, 2 }, out[3], dx[3] = { 0, 0, 0 };
    ck_assert_int_eq(nn_relu_forward(out, x, 3), NN_OK);
    ck_assert_int_eq(nn_relu_backward(dx, dout, x, 3), NN_OK);
    ck_assert(out[0] == 0 && out[1] == 0 && out[2] == x[2]);
    ck_assert(dx[0] == 0 && dx[1] == 0 && dx[2] == 2);
}
END_TEST

START_TEST(relu_of_x_minus_relu_of_minus_x_is_the_identity)
{
    /* Exam 1.6: ReLU(x) - ReLU(-x) = x for every x, a linear map, so it
     * cannot serve as an activation. Forward exactly, and the two backward
     * calls accumulated into one dx give the identity's gradient, dout. */
    enum { COUNT = 257 };
    nn_real x[COUNT], minus_x[COUNT], pos[COUNT], neg[COUNT], dout[COUNT], dx[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 16);
    test_fill_uniform(x, COUNT, &rng, -10.0, 10.0);
    test_fill_uniform(dout, COUNT, &rng, -1.0, 1.0);
    x[0] = 0;
    for (size_t i = 0; i < COUNT; i++) {
        minus_x[i] = -x[i];
        dx[i] = 0;
    }
    ck_assert_int_eq(nn_relu_forward(pos, x, COUNT), NN_OK);
    ck_assert_int_eq(nn_relu_forward(neg, minus_x, COUNT), NN_OK);
    /* d/dx of -ReLU(-x) is ReLU'(-x) * (-1) * (-1): the same backward call
     * on -x with the same dout. */
    ck_assert_int_eq(nn_relu_backward(dx, dout, x, COUNT), NN_OK);
    ck_assert_int_eq(nn_relu_backward(dx, dout, minus_x, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert_msg(pos[i] - neg[i] == x[i], "ReLU(x) - ReLU(-x) != x at x = %g",
                      (double)x[i]);
        if (x[i] != 0)
            ck_assert_msg(dx[i] == dout[i], "gradient %g != dout %g at x = %g", (double)dx[i],
                          (double)dout[i], (double)x[i]);
    }
}
END_TEST

Suite *relu_suite(void);
Suite *relu_suite(void)
{
    Suite *suite = suite_create("relu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, relu_matches_pytorch_forward_and_backward);
    tcase_add_test(tc, relu_backward_adds_to_existing_dx);
    tcase_add_test(tc, relu_backward_passes_gradient_check);
    tcase_add_test(tc, relu_takes_zero_subgradient_at_the_kink);
    tcase_add_test(tc, relu_of_x_minus_relu_of_minus_x_is_the_identity);
    suite_add_tcase(suite, tc);
    return suite;
}
