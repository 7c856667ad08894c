/*
 * check_prelu.c - PReLU against PyTorch with one slope per channel and with
 * one shared slope, the gradients in x and in the slope (the slope is
 * learnt: its gradient sums dout * x over the negative inputs),
 * accumulation, and NULL gradients being skipped.
 */
#include "fixture.h"
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

/* The fixture's layout, (N, C, S). */
enum { BATCH = 4, CHANNELS = 3, SPATIAL = 5, COUNT = BATCH * CHANNELS * SPATIAL };

static nn_real *copy_of(const fixture_tensor *t)
{
    nn_real *data = malloc(t->size * sizeof *data);
    ck_assert_ptr_nonnull(data);
    fixture_copy(data, t);
    return data;
}

static void assert_passes(const char *name, nn_real *point, const nn_real *analytic,
                          size_t count, nn_gradcheck_loss_fn loss, void *context)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, point, analytic, count, loss, context, &config, &rng,
                               &err)
                      == NN_OK,
                  "%s", err.message);
    char text[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(text, sizeof text, name, NULL, &result, &config));
}

typedef struct prelu_loss_context {
    nn_real *x;     /* (N, C, S) */
    nn_real *slope; /* (C) */
    nn_real *out;
    const nn_real *weights; /* r in the loss sum(out * r) */
    long double baseline;   /* the loss at the unperturbed point */
    int batch, channels, spatial;
} prelu_loss_context;

/* sum(out * r) at the current x, in long double. */
static long double prelu_weighted_sum(prelu_loss_context *c)
{
    ck_assert_int_eq(nn_prelu_forward(c->out, c->x, c->slope, c->batch, c->channels,
                                      c->spatial),
                     NN_OK);
    long double sum = 0.0L;
    size_t count = (size_t)c->batch * (size_t)c->channels * (size_t)c->spatial;
    for (size_t i = 0; i < count; i++)
        sum += (long double)c->out[i] * (long double)c->weights[i];
    return sum;
}

/* The loss minus its value at the unperturbed point: the same
 * derivatives, but a small double, so rounding it (eps |L|) does not
 * swamp differences of order h |dL/dx| in the central difference. */
static double prelu_loss(void *context)
{
    prelu_loss_context *c = context;
    return (double)(prelu_weighted_sum(c) - c->baseline);
}

START_TEST(prelu_matches_pytorch_with_a_slope_per_channel)
{
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_slope"));
    nn_real out[COUNT], dx[COUNT] = { 0 }, dslope[CHANNELS] = { 0 };
    ck_assert_int_eq(nn_prelu_forward(out, x, slope, BATCH, CHANNELS, SPATIAL), NN_OK);
    fixture_assert_close(out, fixture_get(f, "prelu_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_prelu_backward(dx, dslope, dout, x, slope, BATCH, CHANNELS, SPATIAL),
                     NN_OK);
    fixture_assert_close(dx, fixture_get(f, "prelu_dx"), TEST_TOLERANCE);
    fixture_assert_close(dslope, fixture_get(f, "prelu_dslope"), TEST_TOLERANCE);
    free(x), free(dout), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_with_one_channel_shares_its_slope_as_pytorch_does)
{
    /* nn.PReLU() with one parameter on a (N, C, S) input: the same memory
     * seen as (N, 1, C*S). */
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_shared_slope"));
    nn_real out[COUNT], dx[COUNT] = { 0 }, dslope[1] = { 0 };
    ck_assert_int_eq(nn_prelu_forward(out, x, slope, BATCH, 1, CHANNELS * SPATIAL), NN_OK);
    fixture_assert_close(out, fixture_get(f, "prelu_shared_out"), TEST_TOLERANCE);
    ck_assert_int_eq(nn_prelu_backward(dx, dslope, dout, x, slope, BATCH, 1,
                                       CHANNELS * SPATIAL),
                     NN_OK);
    fixture_assert_close(dx, fixture_get(f, "prelu_shared_dx"), TEST_TOLERANCE);
    fixture_assert_close(dslope, fixture_get(f, "prelu_shared_dslope"), TEST_TOLERANCE);
    free(x), free(dout), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_backward_adds_to_existing_dx_and_dslope)
{
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_slope"));
    const fixture_tensor *want_dx = fixture_get(f, "prelu_dx");
    const fixture_tensor *want_dslope = fixture_get(f, "prelu_dslope");
    nn_real dx[COUNT], dslope[CHANNELS];
    for (size_t i = 0; i < COUNT; i++)
        dx[i] = (nn_real)(0.75 - 0.03125 * (double)i);
    for (size_t c = 0; c < CHANNELS; c++)
        dslope[c] = (nn_real)(2.0 + (double)c);
    ck_assert_int_eq(nn_prelu_backward(dx, dslope, dout, x, slope, BATCH, CHANNELS, SPATIAL),
                     NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_real_near(dx[i], 0.75 - 0.03125 * (double)i + want_dx->values[i],
                            TEST_TOLERANCE);
    for (size_t c = 0; c < CHANNELS; c++)
        ck_assert_real_near(dslope[c], 2.0 + (double)c + want_dslope->values[c],
                            TEST_TOLERANCE);
    free(x), free(dout), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_slope_gradient_sums_dout_times_negative_inputs)
{
    /* What makes the slope learnable: dL/da_c = sum over the inputs of
     * channel c that are not positive of dout * x, computed here directly
     * from the definition on random data. */
    enum { N = 5, C = 4, S = 9, TOTAL = N * C * S };
    nn_real x[TOTAL], dout[TOTAL], slope[C] = { (nn_real)0.1, (nn_real)-0.2, 0, (nn_real)1.5 };
    nn_real dslope[C] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 19);
    test_fill_uniform(x, TOTAL, &rng, -3.0, 3.0);
    test_fill_uniform(dout, TOTAL, &rng, -1.0, 1.0);
    ck_assert_int_eq(nn_prelu_backward(NULL, dslope, dout, x, slope, N, C, S), NN_OK);
    for (int c = 0; c < C; c++) {
        double expected = 0.0;
        int negatives = 0;
        for (int n = 0; n < N; n++)
            for (int s = 0; s < S; s++) {
                size_t i = ((size_t)n * C + (size_t)c) * S + (size_t)s;
                if (x[i] < 0) {
                    expected += (double)dout[i] * (double)x[i];
                    negatives++;
                }
            }
        ck_assert_int_gt(negatives, 0);
        ck_assert_real_near(dslope[c], expected, TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(prelu_backward_passes_gradient_check_in_x)
{
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *r = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_slope"));
    nn_real out[COUNT], dx[COUNT] = { 0 };
    ck_assert_int_eq(nn_prelu_backward(dx, NULL, r, x, slope, BATCH, CHANNELS, SPATIAL), NN_OK);
    prelu_loss_context context = { .x = x, .slope = slope, .out = out, .weights = r,
                                    .batch = BATCH, .channels = CHANNELS,
                                    .spatial = SPATIAL };
    context.baseline = prelu_weighted_sum(&context);
    assert_passes("prelu dx", x, dx, COUNT, prelu_loss, &context);
    free(x), free(r), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_backward_passes_gradient_check_in_slope)
{
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *r = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_slope"));
    nn_real out[COUNT], dslope[CHANNELS] = { 0 };
    ck_assert_int_eq(nn_prelu_backward(NULL, dslope, r, x, slope, BATCH, CHANNELS, SPATIAL),
                     NN_OK);
    prelu_loss_context context = { .x = x, .slope = slope, .out = out, .weights = r,
                                    .batch = BATCH, .channels = CHANNELS,
                                    .spatial = SPATIAL };
    context.baseline = prelu_weighted_sum(&context);
    assert_passes("prelu dslope", slope, dslope, CHANNELS, prelu_loss, &context);
    free(x), free(r), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_backward_skips_null_gradients)
{
    /* Each gradient is the same whether or not the other is asked for. */
    fixture_file *f = fixture_load("activations");
    nn_real *x = copy_of(fixture_get(f, "x")), *dout = copy_of(fixture_get(f, "dout"));
    nn_real *slope = copy_of(fixture_get(f, "prelu_slope"));
    nn_real dx[COUNT] = { 0 }, dslope[CHANNELS] = { 0 };
    ck_assert_int_eq(nn_prelu_backward(dx, NULL, dout, x, slope, BATCH, CHANNELS, SPATIAL),
                     NN_OK);
    ck_assert_int_eq(nn_prelu_backward(NULL, dslope, dout, x, slope, BATCH, CHANNELS, SPATIAL),
                     NN_OK);
    fixture_assert_close(dx, fixture_get(f, "prelu_dx"), TEST_TOLERANCE);
    fixture_assert_close(dslope, fixture_get(f, "prelu_dslope"), TEST_TOLERANCE);
    free(x), free(dout), free(slope);
    fixture_free(f);
}
END_TEST

START_TEST(prelu_with_a_fixed_slope_is_leaky_relu)
{
    /* Exam 2.3: the two differ only in whether the slope is learnt. */
    enum { TOTAL = 2 * 3 * 7 };
    const nn_real a = (nn_real)0.3;
    nn_real x[TOTAL], dout[TOTAL], slope[3] = { a, a, a };
    nn_real prelu[TOTAL], leaky[TOTAL], prelu_dx[TOTAL] = { 0 }, leaky_dx[TOTAL] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 20);
    test_fill_uniform(x, TOTAL, &rng, -4.0, 4.0);
    test_fill_uniform(dout, TOTAL, &rng, -1.0, 1.0);
    ck_assert_int_eq(nn_prelu_forward(prelu, x, slope, 2, 3, 7), NN_OK);
    ck_assert_int_eq(nn_leaky_relu_forward(leaky, x, TOTAL, a), NN_OK);
    ck_assert_int_eq(nn_prelu_backward(prelu_dx, NULL, dout, x, slope, 2, 3, 7), NN_OK);
    ck_assert_int_eq(nn_leaky_relu_backward(leaky_dx, dout, x, TOTAL, a), NN_OK);
    for (size_t i = 0; i < TOTAL; i++) {
        ck_assert(prelu[i] == leaky[i]);
        ck_assert(prelu_dx[i] == leaky_dx[i]);
    }
}
END_TEST

Suite *prelu_suite(void);
Suite *prelu_suite(void)
{
    Suite *suite = suite_create("prelu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, prelu_matches_pytorch_with_a_slope_per_channel);
    tcase_add_test(tc, prelu_with_one_channel_shares_its_slope_as_pytorch_does);
    tcase_add_test(tc, prelu_backward_adds_to_existing_dx_and_dslope);
    tcase_add_test(tc, prelu_slope_gradient_sums_dout_times_negative_inputs);
    tcase_add_test(tc, prelu_backward_passes_gradient_check_in_x);
    tcase_add_test(tc, prelu_backward_passes_gradient_check_in_slope);
    tcase_add_test(tc, prelu_backward_skips_null_gradients);
    tcase_add_test(tc, prelu_with_a_fixed_slope_is_leaky_relu);
    suite_add_tcase(suite, tc);
    return suite;
}
