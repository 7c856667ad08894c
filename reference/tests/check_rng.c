/*
 * check_rng.c - the seeded generator: reproducible, independent streams,
 * and distributions with the right moments.
 */
#include "nn/rng.h"
#include "testutil.h"

START_TEST(same_seed_gives_same_stream)
{
    nn_rng a, b;
    nn_rng_seed(&a, 42);
    nn_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(nn_rng_next(&a), nn_rng_next(&b));
}
END_TEST

START_TEST(different_seeds_give_different_streams)
{
    nn_rng a, b;
    nn_rng_seed(&a, 1);
    nn_rng_seed(&b, 2);
    int equal = 0;
    for (int i = 0; i < 1000; i++)
        equal += nn_rng_next(&a) == nn_rng_next(&b);
    ck_assert_int_eq(equal, 0);
}
END_TEST

START_TEST(split_streams_differ_from_parent_and_each_other)
{
    nn_rng parent;
    nn_rng_seed(&parent, 7);
    nn_rng one = nn_rng_split(&parent, 1);
    nn_rng two = nn_rng_split(&parent, 2);
    ck_assert_uint_ne(nn_rng_next(&one), nn_rng_next(&two));
    nn_rng again;
    nn_rng_seed(&again, 7);
    nn_rng one_again = nn_rng_split(&again, 1);
    nn_rng_seed(&one, 0);
    nn_rng_seed(&one, 7);
    one = nn_rng_split(&one, 1);
    ck_assert_uint_eq(nn_rng_next(&one), nn_rng_next(&one_again));
}
END_TEST

START_TEST(uniform_has_mean_one_half_and_stays_in_range)
{
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    double sum = 0, sum_sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = nn_rng_uniform(&rng);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
        sum_sq += u * u;
    }
    double mean = sum / n, variance = sum_sq / n - mean * mean;
    /* Standard error of the mean is sqrt(1/12/n) ~ 6.5e-4: 5 sigma. */
    ck_assert_double_eq_tol(mean, 0.5, 3.3e-3);
    ck_assert_double_eq_tol(variance, 1.0 / 12.0, 2e-3);
}
END_TEST

START_TEST(normal_has_zero_mean_unit_variance)
{
    nn_rng rng;
    nn_rng_seed(&rng, 4);
    double sum = 0, sum_sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = nn_rng_normal(&rng);
        ck_assert(isfinite(z));
        sum += z;
        sum_sq += z * z;
    }
    double mean = sum / n, variance = sum_sq / n - mean * mean;
    ck_assert_double_eq_tol(mean, 0.0, 0.012);
    ck_assert_double_eq_tol(variance, 1.0, 0.02);
}
END_TEST

START_TEST(below_covers_every_value_evenly)
{
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    int counts[7] = { 0 };
    const int n = 70000;
    for (int i = 0; i < n; i++) {
        uint64_t v = nn_rng_below(&rng, 7);
        ck_assert_uint_lt(v, 7);
        counts[v]++;
    }
    for (int v = 0; v < 7; v++) {
        ck_assert_int_gt(counts[v], 9500);
        ck_assert_int_lt(counts[v], 10500);
    }
    ck_assert_uint_eq(nn_rng_below(&rng, 1), 0);
}
END_TEST

START_TEST(shuffle_is_a_permutation)
{
    nn_rng rng;
    nn_rng_seed(&rng, 6);
    size_t indices[100];
    for (size_t i = 0; i < 100; i++)
        indices[i] = i;
    nn_rng_shuffle(&rng, indices, 100);
    int seen[100] = { 0 }, moved = 0;
    for (size_t i = 0; i < 100; i++) {
        ck_assert_uint_lt(indices[i], 100);
        seen[indices[i]]++;
        moved += indices[i] != i;
    }
    for (size_t i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 50);
}
END_TEST

Suite *rng_suite(void);
Suite *rng_suite(void)
{
    Suite *suite = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, same_seed_gives_same_stream);
    tcase_add_test(tc, different_seeds_give_different_streams);
    tcase_add_test(tc, split_streams_differ_from_parent_and_each_other);
    tcase_add_test(tc, uniform_has_mean_one_half_and_stays_in_range);
    tcase_add_test(tc, normal_has_zero_mean_unit_variance);
    tcase_add_test(tc, below_covers_every_value_evenly);
    tcase_add_test(tc, shuffle_is_a_permutation);
    suite_add_tcase(suite, tc);
    return suite;
}
