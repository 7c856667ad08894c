/*
 * check_init.c - weight initialisation: the variances Xavier and He
 * promise, the reason for Xavier's (a linear map keeps its input's
 * variance), the constant fill, reproducibility and bad arguments.
 */
#include "nn/optim.h"
#include "testutil.h"

#include <stdlib.h>

enum { FAN_IN = 300, FAN_OUT = 200, SAMPLE = 200000 };

static const struct {
    nn_init_kind kind;
    double variance; /* what the scheme promises for FAN_IN, FAN_OUT */
    double bound;    /* largest |w| for the uniform kinds, 0 for normal */
} moment_cases[] = {
    { NN_INIT_XAVIER_UNIFORM, 2.0 / (FAN_IN + FAN_OUT), 0.10954451150103323 /* sqrt(6/500) */ },
    { NN_INIT_XAVIER_NORMAL, 2.0 / (FAN_IN + FAN_OUT), 0.0 },
    { NN_INIT_HE_UNIFORM, 2.0 / FAN_IN, 0.1414213562373095 /* sqrt(6/300) */ },
    { NN_INIT_HE_NORMAL, 2.0 / FAN_IN, 0.0 },
};

START_TEST(weights_have_zero_mean_and_the_promised_variance)
{
    nn_real *w = malloc(SAMPLE * sizeof *w);
    ck_assert_ptr_nonnull(w);
    nn_rng rng;
    nn_rng_seed(&rng, 41 + (uint64_t)_i);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_init_weights(w, SAMPLE, FAN_IN, FAN_OUT, moment_cases[_i].kind, 0, &rng,
                                     &err),
                     NN_OK);
    double sum = 0.0, sum_sq = 0.0, largest = 0.0;
    for (size_t i = 0; i < SAMPLE; i++) {
        sum += w[i];
        sum_sq += (double)w[i] * w[i];
        largest = fmax(largest, fabs((double)w[i]));
    }
    const double variance = moment_cases[_i].variance;
    double mean = sum / SAMPLE, got = sum_sq / SAMPLE - mean * mean;
    /* Standard error of the mean: sqrt(variance / SAMPLE); allow 5 of
     * them. The variance estimate is good to about 0.3% here; allow 2%. */
    ck_assert_double_eq_tol(mean, 0.0, 5.0 * sqrt(variance / SAMPLE));
    ck_assert_double_eq_tol(got / variance, 1.0, 0.02);
    if (moment_cases[_i].bound > 0.0) {
        ck_assert_double_le(largest, moment_cases[_i].bound);
        ck_assert_double_gt(largest, 0.99 * moment_cases[_i].bound);
    } else {
        /* a normal reaches beyond 3 standard deviations in a sample this big */
        ck_assert_double_gt(largest, 3.0 * sqrt(variance));
    }
    free(w);
}
END_TEST

/* Variance of y = W x over a batch of unit-variance inputs, computed with a
 * plain triple loop; W is (n, n) from the given init. */
static double output_variance(nn_init_kind kind, uint64_t seed)
{
    enum { N = 256, BATCH = 128 };
    nn_real *w = malloc((size_t)N * N * sizeof *w);
    nn_real *x = malloc((size_t)BATCH * N * sizeof *x);
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(x);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    ck_assert_int_eq(nn_init_weights(w, (size_t)N * N, N, N, kind, 0, &rng, NULL), NN_OK);
    for (size_t i = 0; i < (size_t)BATCH * N; i++)
        x[i] = (nn_real)nn_rng_normal(&rng);
    double sum = 0.0, sum_sq = 0.0;
    for (int b = 0; b < BATCH; b++) {
        for (int o = 0; o < N; o++) {
            double y = 0.0;
            for (int i = 0; i < N; i++)
                y += (double)w[(size_t)o * N + i] * x[(size_t)b * N + i];
            sum += y;
            sum_sq += y * y;
        }
    }
    free(w);
    free(x);
    double count = (double)BATCH * N, mean = sum / count;
    return sum_sq / count - mean * mean;
}

START_TEST(xavier_keeps_the_variance_of_a_linear_map)
{
    /* fan_in = fan_out = n: Var(W) = 1/n and Var(y) = n Var(W) Var(x) = 1.
     * He's doubled variance doubles the output's, the ReLU correction. */
    ck_assert_double_eq_tol(output_variance(NN_INIT_XAVIER_NORMAL, 51), 1.0, 0.1);
    ck_assert_double_eq_tol(output_variance(NN_INIT_XAVIER_UNIFORM, 52), 1.0, 0.1);
    ck_assert_double_eq_tol(output_variance(NN_INIT_HE_NORMAL, 53), 2.0, 0.2);
}
END_TEST

START_TEST(constant_fills_every_value_with_it)
{
    nn_real w[100];
    ck_assert_int_eq(nn_init_weights(w, 100, 10, 10, NN_INIT_CONSTANT, (nn_real)0.125, NULL,
                                     NULL),
                     NN_OK);
    for (int i = 0; i < 100; i++)
        ck_assert_real_near(w[i], 0.125, 0.0);
}
END_TEST

START_TEST(same_seed_gives_same_weights)
{
    enum { N = 1000 };
    nn_real a[N], b[N], c[N];
    nn_rng rng_a, rng_b, rng_c;
    nn_rng_seed(&rng_a, 7);
    nn_rng_seed(&rng_b, 7);
    nn_rng_seed(&rng_c, 8);
    ck_assert_int_eq(nn_init_weights(a, N, 20, 50, NN_INIT_HE_NORMAL, 0, &rng_a, NULL), NN_OK);
    ck_assert_int_eq(nn_init_weights(b, N, 20, 50, NN_INIT_HE_NORMAL, 0, &rng_b, NULL), NN_OK);
    ck_assert_int_eq(nn_init_weights(c, N, 20, 50, NN_INIT_HE_NORMAL, 0, &rng_c, NULL), NN_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    int equal = 0;
    for (int i = 0; i < N; i++)
        equal += a[i] == c[i];
    ck_assert_int_lt(equal, 5);
}
END_TEST

START_TEST(kind_names_round_trip)
{
    const nn_init_kind kinds[] = { NN_INIT_XAVIER_UNIFORM, NN_INIT_XAVIER_NORMAL,
                                   NN_INIT_HE_UNIFORM, NN_INIT_HE_NORMAL, NN_INIT_CONSTANT };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        nn_init_kind parsed = (nn_init_kind)-1;
        ck_assert_int_eq(nn_init_kind_parse(&parsed, nn_init_kind_name(kinds[i]), NULL), NN_OK);
        ck_assert_int_eq(parsed, kinds[i]);
    }
    ck_assert_str_eq(nn_init_kind_name(NN_INIT_HE_UNIFORM), "he_uniform");
    nn_init_kind parsed;
    ck_assert_int_eq(nn_init_kind_parse(&parsed, "kaiming_normal", NULL), NN_OK);
    ck_assert_int_eq(parsed, NN_INIT_HE_NORMAL);
    ck_assert_int_eq(nn_init_kind_parse(&parsed, "glorot_uniform", NULL), NN_OK);
    ck_assert_int_eq(parsed, NN_INIT_XAVIER_UNIFORM);

    nn_error err = { 0 };
    ck_assert_int_eq(nn_init_kind_parse(&parsed, "Xavier", &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "'Xavier'"));
    ck_assert_int_eq(nn_init_kind_parse(&parsed, NULL, &err), NN_ERR_ARGUMENT);
}
END_TEST

START_TEST(bad_arguments_are_refused_with_a_reason)
{
    nn_real w[4] = { 9, 9, 9, 9 };
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_init_weights(w, 4, 0, 4, NN_INIT_HE_NORMAL, 0, &rng, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "fan_in 0"));
    ck_assert_int_eq(nn_init_weights(w, 4, 4, 0, NN_INIT_XAVIER_UNIFORM, 0, &rng, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "fan_out 0"));
    ck_assert_int_eq(nn_init_weights(w, 4, 4, 4, NN_INIT_XAVIER_NORMAL, 0, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_init_weights(NULL, 4, 4, 4, NN_INIT_CONSTANT, 0, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_init_weights(w, 4, 4, 4, NN_INIT_CONSTANT, (nn_real)NAN, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_init_weights(w, 4, 4, 4, (nn_init_kind)99, 0, &rng, &err),
                     NN_ERR_ARGUMENT);
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(w[i], 9.0, 0.0);
}
END_TEST

Suite *init_suite(void);
Suite *init_suite(void)
{
    Suite *suite = suite_create("init");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, weights_have_zero_mean_and_the_promised_variance, 0,
                        (int)(sizeof moment_cases / sizeof moment_cases[0]));
    tcase_add_test(tc, xavier_keeps_the_variance_of_a_linear_map);
    tcase_add_test(tc, constant_fills_every_value_with_it);
    tcase_add_test(tc, same_seed_gives_same_weights);
    tcase_add_test(tc, kind_names_round_trip);
    tcase_add_test(tc, bad_arguments_are_refused_with_a_reason);
    suite_add_tcase(suite, tc);
    return suite;
}
