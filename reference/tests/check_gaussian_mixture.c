/*
 * check_gaussian_mixture.c - the ring of Gaussians: reproducible samples,
 * every component used about equally, samples around their component's
 * mean, and a log-density that is a normalised density.
 */
#include "nn/synthetic.h"
#include "testutil.h"

static nn_dataset *make_mixture(uint64_t seed, size_t count, int components, double spread)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_dataset *set = NULL;
    nn_error err = { 0 };
    nn_status status = nn_synthetic_gaussian_mixture(&set, &rng, count, components, spread, &err);
    ck_assert_msg(status == NN_OK, "gaussian mixture failed: %s", err.message);
    return set;
}

START_TEST(mixture_same_seed_gives_identical_bytes)
{
    nn_dataset *a = make_mixture(31, 400, 8, 0.1), *b = make_mixture(31, 400, 8, 0.1);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 400 * 2 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 400 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(mixture_different_seeds_give_different_samples)
{
    nn_dataset *a = make_mixture(31, 400, 8, 0.1), *b = make_mixture(32, 400, 8, 0.1);
    size_t equal_points = 0, equal_labels = 0;
    for (size_t i = 0; i < 400; i++) {
        equal_points += a->inputs[2 * i] == b->inputs[2 * i];
        equal_labels += a->labels[i] == b->labels[i];
    }
    ck_assert_uint_eq(equal_points, 0);
    /* Labels agree by chance one time in eight: about 50 of 400. */
    ck_assert_uint_lt(equal_labels, 100);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(mixture_uses_every_component_about_equally)
{
    const int k = 8;
    const size_t count = 8000;
    nn_dataset *set = make_mixture(33, count, k, 0.1);
    ck_assert_uint_eq(set->sample_size, 2);
    ck_assert_int_eq(set->target_kind, NN_TARGET_CLASS);
    ck_assert_int_eq(set->class_count, k);
    int counts[8] = { 0 };
    for (size_t i = 0; i < count; i++) {
        ck_assert_int_ge(set->labels[i], 0);
        ck_assert_int_lt(set->labels[i], k);
        counts[set->labels[i]]++;
    }
    /* Binomial(8000, 1/8): mean 1000, standard deviation ~30; 5 sigma. */
    for (int c = 0; c < k; c++) {
        ck_assert_int_gt(counts[c], 850);
        ck_assert_int_lt(counts[c], 1150);
    }
    nn_dataset_free(set);
}
END_TEST

START_TEST(mixture_samples_gather_around_their_component_mean)
{
    const int k = 5;
    const size_t count = 5000;
    const double spread = 0.2;
    nn_dataset *set = make_mixture(34, count, k, spread);
    double sum[5][2] = { { 0 } }, sum_sq[5] = { 0 };
    int counts[5] = { 0 };
    for (size_t i = 0; i < count; i++) {
        int c = set->labels[i];
        double mean[2];
        nn_synthetic_mixture_mean(mean, c, k);
        double dx = set->inputs[2 * i] - mean[0], dy = set->inputs[2 * i + 1] - mean[1];
        sum[c][0] += dx;
        sum[c][1] += dy;
        sum_sq[c] += dx * dx + dy * dy;
        counts[c]++;
    }
    for (int c = 0; c < k; c++) {
        double mean[2];
        nn_synthetic_mixture_mean(mean, c, k);
        ck_assert_double_eq_tol(hypot(mean[0], mean[1]), NN_MIXTURE_RADIUS, 1e-12);
        /* ~1000 points: standard error 0.2 / sqrt(1000) ~ 0.0063; 5 sigma. */
        ck_assert_double_eq_tol(sum[c][0] / counts[c], 0.0, 0.032);
        ck_assert_double_eq_tol(sum[c][1] / counts[c], 0.0, 0.032);
        ck_assert_double_eq_tol(sum_sq[c] / counts[c], 2 * spread * spread, 0.01);
    }
    nn_dataset_free(set);
}
END_TEST

START_TEST(mixture_log_density_integrates_to_one)
{
    /* Midpoint rule over [-4, 4]^2, which holds all but a negligible tail
     * of a ring of radius 2 with spread 0.3. */
    const int k = 6, steps = 400;
    const double spread = 0.3, low = -4.0, width = 8.0 / steps;
    double total = 0.0;
    for (int i = 0; i < steps; i++)
        for (int j = 0; j < steps; j++) {
            double x = low + (i + 0.5) * width, y = low + (j + 0.5) * width;
            total += exp(nn_synthetic_mixture_log_density(x, y, k, spread)) * width * width;
        }
    ck_assert_double_eq_tol(total, 1.0, 1e-3);
}
END_TEST

START_TEST(mixture_log_density_matches_the_formula_and_stays_finite_far_away)
{
    /* At a mean of a well-separated ring, the other components contribute
     * almost nothing: log p = -log K - log(2 pi s^2). */
    double mean[2];
    nn_synthetic_mixture_mean(mean, 3, 8);
    double expected = -log(8.0) - log(2.0 * M_PI * 0.01);
    ck_assert_double_eq_tol(nn_synthetic_mixture_log_density(mean[0], mean[1], 8, 0.1),
                            expected, 1e-9);
    /* 100 units away every exponential underflows; log-sum-exp must not. */
    double far = nn_synthetic_mixture_log_density(100.0, 100.0, 8, 0.1);
    ck_assert(isfinite(far));
    ck_assert(far < -1e5);
}
END_TEST

START_TEST(mixture_refuses_bad_arguments_with_a_message)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset sentinel;
    nn_dataset *set = &sentinel;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_gaussian_mixture(&set, &rng, 0, 8, 0.1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err.message, "0 samples"));
    ck_assert_int_eq(nn_synthetic_gaussian_mixture(&set, &rng, 10, 1, 0.1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "1 components, need at least 2"));
    ck_assert_int_eq(nn_synthetic_gaussian_mixture(&set, &rng, 10, 8, 0.0, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "spread 0"));
    ck_assert_int_eq(nn_synthetic_gaussian_mixture(&set, NULL, 10, 8, 0.1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
}
END_TEST

Suite *gaussian_mixture_suite(void);
Suite *gaussian_mixture_suite(void)
{
    Suite *suite = suite_create("gaussian_mixture");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mixture_same_seed_gives_identical_bytes);
    tcase_add_test(tc, mixture_different_seeds_give_different_samples);
    tcase_add_test(tc, mixture_uses_every_component_about_equally);
    tcase_add_test(tc, mixture_samples_gather_around_their_component_mean);
    tcase_add_test(tc, mixture_log_density_integrates_to_one);
    tcase_add_test(tc, mixture_log_density_matches_the_formula_and_stays_finite_far_away);
    tcase_add_test(tc, mixture_refuses_bad_arguments_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
