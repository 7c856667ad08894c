/*
 * check_tanh.c - tanh against PyTorch, its gradient through the saved
 * output, accumulation, saturation, and its relation to the sigmoid.
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

typedef struct tanh_loss_context {
    const nn_real *x;
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    size_t count;
} tanh_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double tanh_weighted_sum(tanh_loss_context *c)
{
    ck_assert_int_eq(nn_tanh_forward(c->out, c->x, c->count), NN_OK);
    long double sum = 0.0L;
    for (size_t i = 0; i < c->count; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double tanh_loss(void *context)
{
    tanh_loss_context *c = context;
    return (double)(tanh_weighted_sum(c) - c->baseline);
}

START_TEST(tanh_matches_pytorch_forward_and_backward)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_tanh_forward(out, x, xt->size), NN_OK);
    fixture_assert_close(out, fixture_get(f, "tanh_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_tanh_backward(dx, dout, out, xt->size), NN_OK);
    fixture_assert_close(dx, fixture_get(f, "tanh_dx"), TEST_TOLERANCE);
    free(x), free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(tanh_backward_adds_to_existing_dx)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x"), *want = fixture_get(f, "tanh_dx");
    nn_real *dout = copy_of(fixture_get(f, "dout"));
    nn_real *out = copy_of(fixture_get(f, "tanh_out"));
    nn_real *dx = malloc(xt->size * sizeof *dx);
    for (size_t i = 0; i < xt->size; i++)
        dx[i] = (nn_real)(3.0 - 0.1 * (double)i);
    ck_assert_int_eq(nn_tanh_backward(dx, dout, out, xt->size), NN_OK);
    for (size_t i = 0; i < xt->size; i++)
        ck_assert_real_near(dx[i], (double)(nn_real)(3.0 - 0.1 * (double)i) + want->values[i],
                            TEST_TOLERANCE);
    free(dout), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(tanh_backward_passes_gradient_check)
{
    fixture_file *f = fixture_load("activations");
    const fixture_tensor *xt = fixture_get(f, "x");
    nn_real *x = copy_of(xt), *r = copy_of(fixture_get(f, "dout"));
    nn_real *out = calloc(xt->size, sizeof *out), *dx = calloc(xt->size, sizeof *dx);
    ck_assert_int_eq(nn_tanh_forward(out, x, xt->size), NN_OK);
    ck_assert_int_eq(nn_tanh_backward(dx, r, out, xt->size), NN_OK);

    tanh_loss_context context = { .x = x, .out = out, .weights = r, .count = xt->size };
    context.baseline = tanh_weighted_sum(&context);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 15);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, x, dx, xt->size, tanh_loss, &context, &config, &rng,
                                  &err),
                     NN_OK);
    char text[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, "tanh dx", &xt->shape, &result,
                                        &config));
    free(x), free(r), free(out), free(dx);
    fixture_free(f);
}
END_TEST

START_TEST(tanh_saturates_to_plus_minus_one_for_huge_inputs)
{
    nn_real x[4] = { -1000, -40, 40, 1000 }, out[4], dout[4] = { 1, 1, 1, 1 };
    nn_real dx[4] = { 0 };
    ck_assert_int_eq(nn_tanh_forward(out, x, 4), NN_OK);
    ck_assert_int_eq(nn_tanh_backward(dx, dout, out, 4), NN_OK);
    ck_assert(out[0] == -1 && out[1] == -1 && out[2] == 1 && out[3] == 1);
    for (int i = 0; i < 4; i++)
        ck_assert(dx[i] == 0);
}
END_TEST

START_TEST(tanh_is_a_rescaled_sigmoid)
{
    /* tanh(x) = 2 sigma(2x) - 1, checked against the sigmoid unit. */
    enum { COUNT = 64 };
    nn_real x[COUNT], twice_x[COUNT], t[COUNT], s[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 22);
    test_fill_uniform(x, COUNT, &rng, -6.0, 6.0);
    for (size_t i = 0; i < COUNT; i++)
        twice_x[i] = 2 * x[i];
    ck_assert_int_eq(nn_tanh_forward(t, x, COUNT), NN_OK);
    ck_assert_int_eq(nn_sigmoid_forward(s, twice_x, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_real_near(t[i], 2.0 * (double)s[i] - 1.0, TEST_TOLERANCE);
}
END_TEST

Suite *tanh_suite(void);
Suite *tanh_suite(void)
{
    Suite *suite = suite_create("tanh");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, tanh_matches_pytorch_forward_and_backward);
    tcase_add_test(tc, tanh_backward_adds_to_existing_dx);
    tcase_add_test(tc, tanh_backward_passes_gradient_check);
    tcase_add_test(tc, tanh_saturates_to_plus_minus_one_for_huge_inputs);
    tcase_add_test(tc, tanh_is_a_rescaled_sigmoid);
    suite_add_tcase(suite, tc);
    return suite;
}
