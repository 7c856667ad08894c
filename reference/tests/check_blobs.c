/*
 * check_blobs.c - Gaussian blobs: reproducible from a seed, balanced, each
 * class gathered around its published center, bad arguments refused.
 */
#include "nn/synthetic.h"
#include "testutil.h"

static nn_dataset *make_blobs(uint64_t seed, size_t count, int classes, double spread)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_dataset *set = NULL;
    nn_error err = { 0 };
    nn_status status = nn_synthetic_blobs(&set, &rng, count, classes, spread, &err);
    ck_assert_msg(status == NN_OK, "blobs failed: %s", err.message);
    return set;
}

START_TEST(blobs_same_seed_gives_identical_bytes)
{
    nn_dataset *a = make_blobs(11, 300, 4, 0.5), *b = make_blobs(11, 300, 4, 0.5);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 300 * 2 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 300 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(blobs_different_seeds_give_different_points)
{
    nn_dataset *a = make_blobs(11, 300, 4, 0.5), *b = make_blobs(12, 300, 4, 0.5);
    size_t equal = 0;
    for (size_t i = 0; i < 600; i++)
        equal += a->inputs[i] == b->inputs[i];
    ck_assert_uint_eq(equal, 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(blobs_shorter_set_is_a_prefix_of_a_longer_one)
{
    nn_dataset *a = make_blobs(5, 40, 3, 0.5), *b = make_blobs(5, 400, 3, 0.5);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 40 * 2 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 40 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(blobs_have_two_features_and_one_label_each)
{
    nn_dataset *set = make_blobs(1, 101, 5, 0.3);
    ck_assert_uint_eq(set->count, 101);
    ck_assert_int_eq(set->sample_shape.rank, 1);
    ck_assert_uint_eq(set->sample_shape.dims[0], 2);
    ck_assert_uint_eq(set->sample_size, 2);
    ck_assert_int_eq(set->target_kind, NN_TARGET_CLASS);
    ck_assert_uint_eq(set->target_size, 1);
    ck_assert_int_eq(set->class_count, 5);
    ck_assert_ptr_null(set->targets);
    ck_assert_str_eq(set->name, "blobs");
    nn_dataset_free(set);
}
END_TEST

START_TEST(blobs_classes_are_balanced_and_in_range)
{
    /* 103 points over 5 classes: 21, 21, 21, 20, 20. */
    nn_dataset *set = make_blobs(2, 103, 5, 0.3);
    int counts[5] = { 0 };
    for (size_t i = 0; i < set->count; i++) {
        ck_assert_int_ge(set->labels[i], 0);
        ck_assert_int_lt(set->labels[i], 5);
        counts[set->labels[i]]++;
    }
    for (int c = 0; c < 5; c++) {
        ck_assert_int_ge(counts[c], 20);
        ck_assert_int_le(counts[c], 21);
    }
    nn_dataset_free(set);
}
END_TEST

START_TEST(blobs_class_means_sit_on_their_centers)
{
    const int classes = 6;
    const size_t count = 6000;
    const double spread = 0.5;
    nn_dataset *set = make_blobs(3, count, classes, spread);
    double sum[6][2] = { { 0 } }, sum_sq[6] = { 0 };
    int counts[6] = { 0 };
    for (size_t i = 0; i < count; i++) {
        int c = set->labels[i];
        double center[2];
        nn_synthetic_blob_center(center, c, classes);
        double dx = set->inputs[2 * i] - center[0], dy = set->inputs[2 * i + 1] - center[1];
        sum[c][0] += set->inputs[2 * i];
        sum[c][1] += set->inputs[2 * i + 1];
        sum_sq[c] += dx * dx + dy * dy;
        counts[c]++;
    }
    for (int c = 0; c < classes; c++) {
        double center[2];
        nn_synthetic_blob_center(center, c, classes);
        /* 1000 points a class: the mean's standard error is 0.5 / sqrt(1000)
         * ~ 0.016 per coordinate; 0.08 is five of them. */
        ck_assert_double_eq_tol(sum[c][0] / counts[c], center[0], 0.08);
        ck_assert_double_eq_tol(sum[c][1] / counts[c], center[1], 0.08);
        /* E|x - mu|^2 = 2 spread^2 = 0.5 */
        ck_assert_double_eq_tol(sum_sq[c] / counts[c], 2 * spread * spread, 0.06);
    }
    nn_dataset_free(set);
}
END_TEST

START_TEST(blob_centers_are_distinct_and_at_least_two_apart)
{
    static const int class_counts[] = { 2, 3, 4, 7, 10, 25 };
    for (size_t t = 0; t < sizeof class_counts / sizeof class_counts[0]; t++) {
        int k = class_counts[t];
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++) {
                double a[2], b[2];
                nn_synthetic_blob_center(a, i, k);
                nn_synthetic_blob_center(b, j, k);
                double distance = hypot(a[0] - b[0], a[1] - b[1]);
                ck_assert_msg(distance >= 2.0 - 1e-9, "k=%d: centers %d and %d are %g apart",
                              k, i, j, distance);
            }
    }
}
END_TEST

START_TEST(blobs_refuse_bad_arguments_with_a_message)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset sentinel;
    nn_dataset *set = &sentinel; /* must be reset to NULL on failure */
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 0, 3, 0.5, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err.message, "0 points"));
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 10, 1, 0.5, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "1 classes, need at least 2"));
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 2, 3, 0.5, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "one per class"));
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 10, 2, 0.0, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "spread 0"));
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 10, 2, NAN, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 10, 2, INFINITY, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_blobs(&set, NULL, 10, 2, 0.5, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "generator is NULL"));
    ck_assert_ptr_null(set);
}
END_TEST

Suite *blobs_suite(void);
Suite *blobs_suite(void)
{
    Suite *suite = suite_create("blobs");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, blobs_same_seed_gives_identical_bytes);
    tcase_add_test(tc, blobs_different_seeds_give_different_points);
    tcase_add_test(tc, blobs_shorter_set_is_a_prefix_of_a_longer_one);
    tcase_add_test(tc, blobs_have_two_features_and_one_label_each);
    tcase_add_test(tc, blobs_classes_are_balanced_and_in_range);
    tcase_add_test(tc, blobs_class_means_sit_on_their_centers);
    tcase_add_test(tc, blob_centers_are_distinct_and_at_least_two_apart);
    tcase_add_test(tc, blobs_refuse_bad_arguments_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
