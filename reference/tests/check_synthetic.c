/*
 * check_synthetic.c - the helpers shared by the generated sets: class
 * fractions, the majority-class baseline of any labelled dataset.
 */
#include "nn/synthetic.h"
#include "testutil.h"

START_TEST(class_fractions_count_every_label_once)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset *set;
    nn_error err = { 0 };
    /* 10 points, 4 classes, labels i % 4: 3, 3, 2, 2. */
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 10, 4, 0.5, &err), NN_OK);
    double fractions[4];
    ck_assert_int_eq(nn_synthetic_class_fractions(fractions, set, &err), NN_OK);
    ck_assert_double_eq_tol(fractions[0], 0.3, 1e-12);
    ck_assert_double_eq_tol(fractions[1], 0.3, 1e-12);
    ck_assert_double_eq_tol(fractions[2], 0.2, 1e-12);
    ck_assert_double_eq_tol(fractions[3], 0.2, 1e-12);
    nn_dataset_free(set);
}
END_TEST

START_TEST(class_fractions_cover_every_pixel_of_a_map)
{
    nn_rng rng;
    nn_rng_seed(&rng, 2);
    nn_dataset *set;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_city_streets(&set, &rng, 3, 16, &err), NN_OK);
    /* Make every label of the first image "sky" and count by hand. */
    for (size_t p = 0; p < 256; p++)
        set->labels[p] = NN_CITY_SKY;
    size_t sky = 0;
    for (size_t p = 0; p < 3 * 256; p++)
        sky += set->labels[p] == NN_CITY_SKY;
    double fractions[NN_CITY_CLASS_COUNT], total = 0.0;
    ck_assert_int_eq(nn_synthetic_class_fractions(fractions, set, &err), NN_OK);
    ck_assert_double_eq_tol(fractions[NN_CITY_SKY], sky / 768.0, 1e-12);
    for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
        total += fractions[c];
    ck_assert_double_eq_tol(total, 1.0, 1e-12);
    nn_dataset_free(set);
}
END_TEST

START_TEST(class_fractions_refuse_real_targets_and_bad_labels)
{
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    nn_dataset *set;
    nn_error err = { 0 };
    double fractions[4];
    ck_assert_int_eq(nn_synthetic_adding_problem(&set, &rng, 4, 6, &err), NN_OK);
    ck_assert_int_eq(nn_synthetic_class_fractions(fractions, set, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "class labels"));
    nn_dataset_free(set);
    ck_assert_int_eq(nn_synthetic_blobs(&set, &rng, 8, 4, 0.5, &err), NN_OK);
    set->labels[6] = 4;
    ck_assert_int_eq(nn_synthetic_class_fractions(fractions, set, &err), NN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "label 4 at 6"));
    nn_dataset_free(set);
}
END_TEST

Suite *synthetic_suite(void);
Suite *synthetic_suite(void)
{
    Suite *suite = suite_create("synthetic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, class_fractions_count_every_label_once);
    tcase_add_test(tc, class_fractions_cover_every_pixel_of_a_map);
    tcase_add_test(tc, class_fractions_refuse_real_targets_and_bad_labels);
    suite_add_tcase(suite, tc);
    return suite;
}
