/*
 * check_dropout.c - inverted dropout: unbiased in expectation, drops about
 * a fraction p, reproducible from a seed, the identity in eval mode, and a
 * backward that routes the gradient through the saved mask.
 */
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

enum { DRAWS = 100000 };

static const double probabilities[] = { 0.1, 0.3, 0.5, 0.8 };

START_TEST(dropout_keeps_the_expected_activation_in_training)
{
    /* For a constant input c each output is c / (1 - p) with probability
     * 1 - p and 0 otherwise: mean c, variance c^2 p / (1 - p). The mean
     * over DRAWS values must be within 5 standard errors of c. */
    const double p = probabilities[_i], c = 1.5;
    nn_real *x = malloc(DRAWS * sizeof *x), *out = malloc(DRAWS * sizeof *out);
    nn_real *mask = malloc(DRAWS * sizeof *mask);
    for (size_t i = 0; i < DRAWS; i++)
        x[i] = (nn_real)c;
    nn_rng rng;
    nn_rng_seed(&rng, 21 + (uint64_t)_i);
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, DRAWS, (nn_real)p, true, &rng), NN_OK);
    double sum = 0;
    for (size_t i = 0; i < DRAWS; i++)
        sum += out[i];
    double mean = sum / DRAWS;
    double standard_error = c * sqrt(p / (1 - p) / DRAWS);
    ck_assert_msg(fabs(mean - c) < 5 * standard_error,
                  "p = %g: mean output %.6f, input %.6f (standard error %.2e)", p, mean, c,
                  standard_error);
    free(x), free(out), free(mask);
}
END_TEST

START_TEST(dropout_zeroes_about_a_fraction_p)
{
    const double p = probabilities[_i];
    nn_real *x = malloc(DRAWS * sizeof *x), *out = malloc(DRAWS * sizeof *out);
    nn_real *mask = malloc(DRAWS * sizeof *mask);
    nn_rng rng;
    nn_rng_seed(&rng, 31 + (uint64_t)_i);
    /* Non-zero inputs, so that a zero in out can only come from the mask. */
    test_fill_uniform(x, DRAWS, &rng, 0.5, 2.0);
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, DRAWS, (nn_real)p, true, &rng), NN_OK);
    size_t zeros = 0;
    for (size_t i = 0; i < DRAWS; i++)
        zeros += out[i] == 0;
    double fraction = (double)zeros / DRAWS;
    double standard_error = sqrt(p * (1 - p) / DRAWS);
    ck_assert_msg(fabs(fraction - p) < 5 * standard_error,
                  "p = %g: %.4f of the outputs are zero", p, fraction);
    free(x), free(out), free(mask);
}
END_TEST

START_TEST(dropout_mask_is_zero_or_the_inverse_keep_probability)
{
    enum { COUNT = 1000 };
    const nn_real p = (nn_real)0.25;
    nn_real x[COUNT], out[COUNT], mask[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 41);
    test_fill_uniform(x, COUNT, &rng, -2, 2);
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, COUNT, p, true, &rng), NN_OK);
    const double scale = 1.0 / (1.0 - (double)p);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert_msg(mask[i] == 0 || fabs((double)mask[i] - scale) <= TEST_TOLERANCE,
                      "mask[%zu] = %g, expected 0 or %g", i, (double)mask[i], scale);
        ck_assert_real_near(out[i], (double)x[i] * mask[i], TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(dropout_same_seed_gives_same_mask)
{
    enum { COUNT = 2000 };
    nn_real x[COUNT], out_a[COUNT], out_b[COUNT], mask_a[COUNT], mask_b[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        x[i] = 1;
    nn_rng a, b;
    nn_rng_seed(&a, 51);
    nn_rng_seed(&b, 51);
    ck_assert_int_eq(nn_dropout_forward(out_a, mask_a, x, COUNT, (nn_real)0.5, true, &a), NN_OK);
    ck_assert_int_eq(nn_dropout_forward(out_b, mask_b, x, COUNT, (nn_real)0.5, true, &b), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert(mask_a[i] == mask_b[i]);

    /* A different seed gives a different mask: with p = 0.5 about half of
     * the 2000 positions differ; a generator that is ignored gives none. */
    nn_rng_seed(&b, 52);
    ck_assert_int_eq(nn_dropout_forward(out_b, mask_b, x, COUNT, (nn_real)0.5, true, &b), NN_OK);
    int differ = 0;
    for (size_t i = 0; i < COUNT; i++)
        differ += mask_a[i] != mask_b[i];
    ck_assert_int_gt(differ, COUNT / 4);
}
END_TEST

START_TEST(dropout_is_identity_in_eval_mode)
{
    enum { COUNT = 500 };
    nn_real x[COUNT], out[COUNT], mask[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 61);
    test_fill_uniform(x, COUNT, &rng, -3, 3);
    /* No generator: eval mode must not draw (the header allows NULL). */
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, COUNT, (nn_real)0.5, false, NULL), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert(out[i] == x[i]);
        ck_assert(mask[i] == 1);
    }
    /* With a generator at hand, still the identity, at any p. */
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, COUNT, (nn_real)0.9, false, &rng), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert(out[i] == x[i]);
        ck_assert(mask[i] == 1);
    }
}
END_TEST

START_TEST(dropout_with_zero_probability_is_identity_in_training)
{
    enum { COUNT = 500 };
    nn_real x[COUNT], out[COUNT], mask[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 62);
    test_fill_uniform(x, COUNT, &rng, -3, 3);
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, COUNT, 0, true, &rng), NN_OK);
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert(out[i] == x[i]);
        ck_assert(mask[i] == 1);
    }
}
END_TEST

START_TEST(dropout_backward_multiplies_by_the_mask_and_accumulates)
{
    enum { COUNT = 300 };
    nn_real x[COUNT], out[COUNT], mask[COUNT], dout[COUNT], dx[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 71);
    test_fill_uniform(x, COUNT, &rng, -1, 1);
    test_fill_uniform(dout, COUNT, &rng, -1, 1);
    ck_assert_int_eq(nn_dropout_forward(out, mask, x, COUNT, (nn_real)0.4, true, &rng), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        dx[i] = (nn_real)(0.01 * (double)i);
    ck_assert_int_eq(nn_dropout_backward(dx, dout, mask, COUNT), NN_OK);
    int dropped = 0;
    for (size_t i = 0; i < COUNT; i++) {
        ck_assert_real_near(dx[i], 0.01 * (double)i + (double)dout[i] * mask[i], TEST_TOLERANCE);
        dropped += mask[i] == 0;
    }
    /* The check means something only if some units were dropped and some kept. */
    ck_assert_int_gt(dropped, 0);
    ck_assert_int_lt(dropped, COUNT);
    ck_assert_int_eq(nn_dropout_backward(NULL, dout, mask, COUNT), NN_OK);
}
END_TEST

/* The loss re-seeds the generator before every forward, so each evaluation
 * draws the same mask and the loss is a fixed linear function of x. */
typedef struct dropout_problem {
    size_t count;
    nn_real p;
    uint64_t seed;
    nn_real *x, *r, *out, *mask;
} dropout_problem;

static double dropout_loss(void *context)
{
    dropout_problem *d = context;
    nn_rng rng;
    nn_rng_seed(&rng, d->seed);
    nn_dropout_forward(d->out, d->mask, d->x, d->count, d->p, true, &rng);
    double loss = 0;
    for (size_t i = 0; i < d->count; i++)
        loss += (double)d->out[i] * d->r[i];
    return loss;
}

START_TEST(dropout_gradient_passes_gradcheck)
{
    enum { COUNT = 40 };
    nn_real x[COUNT], r[COUNT], out[COUNT], mask[COUNT], dx[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 81);
    test_fill_uniform(x, COUNT, &rng, -1, 1);
    test_fill_uniform(r, COUNT, &rng, -1, 1);
    dropout_problem d = { COUNT, (nn_real)0.3, 82, x, r, out, mask };
    dropout_loss(&d); /* fills mask with the fixed draw */
    ck_assert_int_eq(nn_dropout_backward(dx, r, mask, COUNT), NN_OK);

    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, COUNT, dropout_loss, &d, &config, &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
}
END_TEST

Suite *dropout_suite(void);
Suite *dropout_suite(void)
{
    Suite *suite = suite_create("dropout");
    TCase *tc = tcase_create("core");
    int np = (int)(sizeof probabilities / sizeof probabilities[0]);
    tcase_add_loop_test(tc, dropout_keeps_the_expected_activation_in_training, 0, np);
    tcase_add_loop_test(tc, dropout_zeroes_about_a_fraction_p, 0, np);
    tcase_add_test(tc, dropout_mask_is_zero_or_the_inverse_keep_probability);
    tcase_add_test(tc, dropout_same_seed_gives_same_mask);
    tcase_add_test(tc, dropout_is_identity_in_eval_mode);
    tcase_add_test(tc, dropout_with_zero_probability_is_identity_in_training);
    tcase_add_test(tc, dropout_backward_multiplies_by_the_mask_and_accumulates);
    tcase_add_test(tc, dropout_gradient_passes_gradcheck);
    suite_add_tcase(suite, tc);
    return suite;
}
