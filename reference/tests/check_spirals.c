/*
 * check_spirals.c - interleaved spirals: reproducible, balanced, points on
 * the arm formula when noise is off, bad arguments refused.
 */
#include "nn/synthetic.h"
#include "testutil.h"

static nn_dataset *make_spirals(uint64_t seed, size_t count, int arms, double noise)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_dataset *set = NULL;
    nn_error err = { 0 };
    nn_status status = nn_synthetic_spirals(&set, &rng, count, arms, noise, &err);
    ck_assert_msg(status == NN_OK, "spirals failed: %s", err.message);
    return set;
}

START_TEST(spirals_same_seed_gives_identical_bytes)
{
    nn_dataset *a = make_spirals(21, 500, 3, 0.05), *b = make_spirals(21, 500, 3, 0.05);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 500 * 2 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 500 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(spirals_different_seeds_give_different_points)
{
    nn_dataset *a = make_spirals(21, 500, 3, 0.05), *b = make_spirals(22, 500, 3, 0.05);
    size_t equal = 0;
    for (size_t i = 0; i < 1000; i++)
        equal += a->inputs[i] == b->inputs[i];
    ck_assert_uint_eq(equal, 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(spirals_have_shape_two_and_balanced_labels)
{
    nn_dataset *set = make_spirals(1, 301, 3, 0.1);
    ck_assert_uint_eq(set->count, 301);
    ck_assert_uint_eq(set->sample_size, 2);
    ck_assert_int_eq(set->target_kind, NN_TARGET_CLASS);
    ck_assert_int_eq(set->class_count, 3);
    int counts[3] = { 0 };
    for (size_t i = 0; i < set->count; i++) {
        ck_assert_int_ge(set->labels[i], 0);
        ck_assert_int_lt(set->labels[i], 3);
        counts[set->labels[i]]++;
    }
    ck_assert_int_eq(counts[0], 101);
    ck_assert_int_eq(counts[1], 100);
    ck_assert_int_eq(counts[2], 100);
    nn_dataset_free(set);
}
END_TEST

/* Without noise a point at radius t on arm c has angle 2 pi c / k + 3 pi t
 * (mod 2 pi): recover t from the radius and compare the angle. */
START_TEST(noiseless_spiral_points_lie_on_their_arm)
{
    const int arms = 4;
    nn_dataset *set = make_spirals(7, 400, arms, 0.0);
    double tolerance = NN_REAL_IS_DOUBLE ? 1e-9 : 1e-4;
    double largest_radius = 0.0;
    for (size_t i = 0; i < set->count; i++) {
        double x = set->inputs[2 * i], y = set->inputs[2 * i + 1];
        double t = hypot(x, y);
        ck_assert(t <= 1.0 + tolerance);
        largest_radius = fmax(largest_radius, t);
        if (t < 1e-3)
            continue; /* the angle is meaningless at the center */
        double expected = 2.0 * M_PI * set->labels[i] / arms + 3.0 * M_PI * t;
        double difference = remainder(atan2(y, x) - expected, 2.0 * M_PI);
        ck_assert_msg(fabs(difference) < tolerance / t * 10,
                      "point %zu (%g, %g) of arm %d is %g rad off its arm", i, x, y,
                      set->labels[i], difference);
    }
    /* 400 uniform radii: the largest is above 0.95 with near certainty. */
    ck_assert(largest_radius > 0.95);
    nn_dataset_free(set);
}
END_TEST

/* The same radius on two neighbouring arms is a rotation by 2 pi / k apart:
 * the nearest point of another arm is never at the same place, which is
 * what makes the classes separable at low noise. Check that a 1-nearest-
 * neighbour rule on noiseless spirals is almost always right. */
START_TEST(noiseless_spirals_are_separable_by_nearest_neighbour)
{
    nn_dataset *train = make_spirals(8, 900, 3, 0.0), *test = make_spirals(9, 300, 3, 0.0);
    int correct = 0;
    for (size_t i = 0; i < test->count; i++) {
        double best = INFINITY;
        int label = -1;
        for (size_t j = 0; j < train->count; j++) {
            double dx = test->inputs[2 * i] - train->inputs[2 * j];
            double dy = test->inputs[2 * i + 1] - train->inputs[2 * j + 1];
            if (dx * dx + dy * dy < best) {
                best = dx * dx + dy * dy;
                label = train->labels[j];
            }
        }
        correct += label == test->labels[i];
    }
    ck_assert_int_ge(correct, 285);
    nn_dataset_free(train);
    nn_dataset_free(test);
}
END_TEST

START_TEST(spirals_refuse_bad_arguments_with_a_message)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset sentinel;
    nn_dataset *set = &sentinel;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_spirals(&set, &rng, 0, 2, 0.1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err.message, "0 points"));
    ck_assert_int_eq(nn_synthetic_spirals(&set, &rng, 10, 1, 0.1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "1 arms, need at least 2"));
    ck_assert_int_eq(nn_synthetic_spirals(&set, &rng, 10, 2, -0.1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "noise -0.1"));
    ck_assert_int_eq(nn_synthetic_spirals(&set, &rng, 10, 2, NAN, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_spirals(&set, NULL, 10, 2, 0.1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "generator is NULL"));
    ck_assert_ptr_null(set);
}
END_TEST

Suite *spirals_suite(void);
Suite *spirals_suite(void)
{
    Suite *suite = suite_create("spirals");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, spirals_same_seed_gives_identical_bytes);
    tcase_add_test(tc, spirals_different_seeds_give_different_points);
    tcase_add_test(tc, spirals_have_shape_two_and_balanced_labels);
    tcase_add_test(tc, noiseless_spiral_points_lie_on_their_arm);
    tcase_add_test(tc, noiseless_spirals_are_separable_by_nearest_neighbour);
    tcase_add_test(tc, spirals_refuse_bad_arguments_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
