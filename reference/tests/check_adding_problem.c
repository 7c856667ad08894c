/*
 * check_adding_problem.c - the adding problem: two markers, one in each
 * half, and a target that is the sum of the two marked values.
 */
#include "nn/synthetic.h"
#include "testutil.h"

static nn_dataset *make_adding(uint64_t seed, size_t count, size_t length)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_dataset *set = NULL;
    nn_error err = { 0 };
    nn_status status = nn_synthetic_adding_problem(&set, &rng, count, length, &err);
    ck_assert_msg(status == NN_OK, "adding problem failed: %s", err.message);
    return set;
}

START_TEST(adding_same_seed_gives_identical_bytes)
{
    nn_dataset *a = make_adding(41, 50, 30), *b = make_adding(41, 50, 30);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 50 * 60 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->targets, b->targets, 50 * sizeof(nn_real)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(adding_different_seeds_give_different_sequences)
{
    nn_dataset *a = make_adding(41, 50, 30), *b = make_adding(42, 50, 30);
    size_t equal = 0;
    for (size_t i = 0; i < 50; i++)
        equal += a->targets[i] == b->targets[i];
    ck_assert_uint_eq(equal, 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(adding_has_shape_length_by_two_and_one_real_target)
{
    nn_dataset *set = make_adding(1, 7, 25);
    ck_assert_uint_eq(set->count, 7);
    ck_assert_int_eq(set->sample_shape.rank, 2);
    ck_assert_uint_eq(set->sample_shape.dims[0], 25);
    ck_assert_uint_eq(set->sample_shape.dims[1], 2);
    ck_assert_uint_eq(set->sample_size, 50);
    ck_assert_int_eq(set->target_kind, NN_TARGET_REAL);
    ck_assert_uint_eq(set->target_size, 1);
    ck_assert_ptr_null(set->labels);
    ck_assert_ptr_nonnull(set->targets);
    ck_assert_int_eq(set->class_count, 0);
    nn_dataset_free(set);
}
END_TEST

/* Over even and odd lengths, down to the shortest (2): exactly two markers,
 * the first in [0, T/2), the second in [T/2, T), values in [0, 1), and the
 * target is the sum of the two marked values. */
START_TEST(adding_marks_one_value_in_each_half_and_targets_their_sum)
{
    static const size_t lengths[] = { 2, 3, 10, 11, 100 };
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t length = lengths[l], half = length / 2;
        nn_dataset *set = make_adding(43 + l, 200, length);
        for (size_t i = 0; i < set->count; i++) {
            const nn_real *steps = set->inputs + i * 2 * length;
            size_t markers = 0, first_half = 0, second_half = 0;
            double sum = 0.0;
            for (size_t t = 0; t < length; t++) {
                ck_assert(steps[2 * t] >= 0 && steps[2 * t] < 1);
                nn_real marker = steps[2 * t + 1];
                ck_assert(marker == 0 || marker == 1);
                if (marker == 1) {
                    markers++;
                    first_half += t < half;
                    second_half += t >= half;
                    sum += steps[2 * t];
                }
            }
            ck_assert_uint_eq(markers, 2);
            ck_assert_uint_eq(first_half, 1);
            ck_assert_uint_eq(second_half, 1);
            ck_assert_real_near(set->targets[i], sum, TEST_TOLERANCE);
        }
        nn_dataset_free(set);
    }
}
END_TEST

/* The markers move: every position of a length-8 sequence is marked in some
 * of 400 samples (each half position has chance 1/4 per sample). */
START_TEST(adding_markers_visit_every_position)
{
    nn_dataset *set = make_adding(50, 400, 8);
    int marked[8] = { 0 };
    for (size_t i = 0; i < set->count; i++)
        for (size_t t = 0; t < 8; t++)
            marked[t] += set->inputs[i * 16 + 2 * t + 1] == 1;
    for (size_t t = 0; t < 8; t++)
        ck_assert_int_gt(marked[t], 50);
    nn_dataset_free(set);
}
END_TEST

/* The sum of two U(0, 1) values has mean 1 and variance 1/6: the mean
 * squared error of always answering 1, quoted in the header. */
START_TEST(adding_targets_have_mean_one_and_variance_one_sixth)
{
    const size_t count = 20000;
    nn_dataset *set = make_adding(51, count, 4);
    double sum = 0, sum_sq = 0;
    for (size_t i = 0; i < count; i++) {
        sum += set->targets[i];
        sum_sq += (set->targets[i] - 1.0) * (set->targets[i] - 1.0);
    }
    ck_assert_double_eq_tol(sum / count, 1.0, 0.015);
    ck_assert_double_eq_tol(sum_sq / count, 1.0 / 6.0, 0.01);
    nn_dataset_free(set);
}
END_TEST

START_TEST(adding_refuses_bad_arguments_with_a_message)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset sentinel;
    nn_dataset *set = &sentinel;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, &rng, 10, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err.message, "length 1, need at least 2"));
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, &rng, 10, 0, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, &rng, 0, 10, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "0 sequences"));
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, &rng, 10, SIZE_MAX / 2, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, NULL, 10, 10, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "generator is NULL"));
    ck_assert_ptr_null(set);
}
END_TEST

Suite *adding_problem_suite(void);
Suite *adding_problem_suite(void)
{
    Suite *suite = suite_create("adding_problem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, adding_same_seed_gives_identical_bytes);
    tcase_add_test(tc, adding_different_seeds_give_different_sequences);
    tcase_add_test(tc, adding_has_shape_length_by_two_and_one_real_target);
    tcase_add_test(tc, adding_marks_one_value_in_each_half_and_targets_their_sum);
    tcase_add_test(tc, adding_markers_visit_every_position);
    tcase_add_test(tc, adding_targets_have_mean_one_and_variance_one_sixth);
    tcase_add_test(tc, adding_refuses_bad_arguments_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
