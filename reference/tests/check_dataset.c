/*
 * check_dataset.c - allocating datasets for each kind of target, and
 * slicing them.
 */
#include "nn/dataset.h"
#include "testutil.h"

#include <stdint.h>

START_TEST(new_class_dataset_has_one_label_per_sample)
{
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_3d(1, 28, 28);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_dataset_new(&d, "fashion", 10, &sample, NN_TARGET_CLASS, 1, 10, &err),
                     NN_OK);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->name, "fashion");
    ck_assert_uint_eq(d->count, 10);
    ck_assert(nn_shape_equal(&d->sample_shape, &sample));
    ck_assert_uint_eq(d->sample_size, 784);
    ck_assert_int_eq(d->target_kind, NN_TARGET_CLASS);
    ck_assert_uint_eq(d->target_size, 1);
    ck_assert_int_eq(d->class_count, 10);
    ck_assert_ptr_nonnull(d->inputs);
    ck_assert_ptr_nonnull(d->labels);
    ck_assert_ptr_null(d->targets);
    for (size_t i = 0; i < 10 * 784; i++)
        ck_assert(d->inputs[i] == 0);
    for (size_t i = 0; i < 10; i++)
        ck_assert_int_eq(d->labels[i], 0);
    /* The last element of each buffer is writable (ASan checks the size). */
    d->inputs[10 * 784 - 1] = 1;
    d->labels[9] = 9;
    nn_dataset_free(d);
}
END_TEST

START_TEST(new_map_dataset_has_one_label_per_pixel)
{
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_3d(3, 8, 12);
    ck_assert_int_eq(nn_dataset_new(&d, "streets", 4, &sample, NN_TARGET_MAP, 8 * 12, 5, NULL),
                     NN_OK);
    ck_assert_uint_eq(d->sample_size, 3 * 8 * 12);
    ck_assert_uint_eq(d->target_size, 96);
    ck_assert_int_eq(d->class_count, 5);
    ck_assert_ptr_nonnull(d->labels);
    ck_assert_ptr_null(d->targets);
    for (size_t i = 0; i < 4 * 96; i++)
        ck_assert_int_eq(d->labels[i], 0);
    d->labels[4 * 96 - 1] = 4;
    d->inputs[4 * 288 - 1] = 1;
    nn_dataset_free(d);
}
END_TEST

START_TEST(new_real_dataset_has_targets_and_no_classes)
{
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_2d(50, 2);
    ck_assert_int_eq(nn_dataset_new(&d, "adding", 6, &sample, NN_TARGET_REAL, 1, 0, NULL),
                     NN_OK);
    ck_assert_uint_eq(d->sample_size, 100);
    ck_assert_ptr_null(d->labels);
    ck_assert_ptr_nonnull(d->targets);
    ck_assert_int_eq(d->class_count, 0);
    for (size_t i = 0; i < 6; i++)
        ck_assert(d->targets[i] == 0);
    d->targets[5] = (nn_real)0.5;
    nn_dataset_free(d);

    /* class_count is ignored (stored as 0) for regression targets. */
    ck_assert_int_eq(nn_dataset_new(&d, "blobs", 3, &sample, NN_TARGET_REAL, 4, 7, NULL),
                     NN_OK);
    ck_assert_int_eq(d->class_count, 0);
    ck_assert_uint_eq(d->target_size, 4);
    d->targets[3 * 4 - 1] = 1;
    nn_dataset_free(d);
}
END_TEST

START_TEST(new_truncates_a_long_name)
{
    char name[200];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_1d(2);
    ck_assert_int_eq(nn_dataset_new(&d, name, 1, &sample, NN_TARGET_CLASS, 1, 2, NULL), NN_OK);
    ck_assert_uint_eq(strlen(d->name), sizeof d->name - 1);
    nn_dataset_free(d);
}
END_TEST

START_TEST(new_refuses_bad_arguments_with_a_message)
{
    nn_dataset *d = (nn_dataset *)&d; /* non-NULL, must be reset */
    nn_shape sample = nn_shape_1d(2);
    nn_shape empty = nn_shape_2d(3, 0);
    nn_error err = { 0 };

    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 0, &sample, NN_TARGET_CLASS, 1, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(err.message, "spirals"));

    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &sample, NN_TARGET_MAP, 0, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &sample, NN_TARGET_CLASS, 1, 0, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "0 classes"));
    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &sample, NN_TARGET_MAP, 4, -1, &err),
                     NN_ERR_ARGUMENT);

    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &empty, NN_TARGET_CLASS, 1, 3, &err),
                     NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "spirals"));
    ck_assert_ptr_null(d);

    /* One class label per sample is what NN_TARGET_CLASS means. */
    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &sample, NN_TARGET_CLASS, 3, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "spirals"));

    ck_assert_int_eq(nn_dataset_new(&d, "spirals", 5, &sample, (nn_target_kind)7, 1, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(new_refuses_a_size_that_overflows)
{
    /* count * sample_size wraps around size_t: it must be refused, not
     * allocated small. */
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_1d(4);
    nn_error err = { 0 };
    /* 2^62 + 1 samples of 4 inputs and 4 labels: both products wrap to 4. */
    nn_status s = nn_dataset_new(&d, "huge", SIZE_MAX / 4 + 2, &sample, NN_TARGET_MAP, 4, 2,
                                 &err);
    ck_assert_int_ne(s, NN_OK);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(err.message, "huge"));
    s = nn_dataset_new(&d, "huge", SIZE_MAX / 2 + 1, &(nn_shape){ .rank = 0 }, NN_TARGET_MAP,
                       4, 2, &err);
    ck_assert_int_ne(s, NN_OK);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(free_accepts_null)
{
    nn_dataset_free(NULL);
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_1d(1);
    ck_assert_int_eq(nn_dataset_new(&d, "one", 1, &sample, NN_TARGET_CLASS, 1, 1, NULL), NN_OK);
    nn_dataset_free(d);
}
END_TEST

/* A dataset whose every value encodes its sample and position, so that an
 * offset error shows. */
static nn_dataset *numbered_dataset(nn_target_kind kind, size_t target_size)
{
    nn_dataset *d = NULL;
    nn_shape sample = nn_shape_2d(2, 3);
    ck_assert_int_eq(nn_dataset_new(&d, "numbered", 8, &sample, kind, target_size,
                                    kind == NN_TARGET_REAL ? 0 : 100, NULL),
                     NN_OK);
    for (size_t i = 0; i < 8; i++) {
        for (size_t j = 0; j < 6; j++)
            d->inputs[i * 6 + j] = (nn_real)(10 * i + j);
        for (size_t k = 0; k < target_size; k++) {
            if (kind == NN_TARGET_REAL)
                d->targets[i * target_size + k] = (nn_real)(i + 0.25 * (double)k);
            else
                d->labels[i * target_size + k] = (int)(10 * i + k);
        }
    }
    return d;
}

START_TEST(slice_copies_the_chosen_samples_of_each_kind)
{
    static const struct {
        nn_target_kind kind;
        size_t target_size;
    } kinds[] = { { NN_TARGET_CLASS, 1 }, { NN_TARGET_MAP, 5 }, { NN_TARGET_REAL, 3 } };
    for (size_t t = 0; t < sizeof kinds / sizeof kinds[0]; t++) {
        nn_dataset *d = numbered_dataset(kinds[t].kind, kinds[t].target_size);
        nn_dataset *s = NULL;
        nn_error err = { 0 };
        ck_assert_int_eq(nn_dataset_slice(&s, d, 3, 4, &err), NN_OK);
        ck_assert_uint_eq(s->count, 4);
        ck_assert_str_eq(s->name, "numbered");
        ck_assert(nn_shape_equal(&s->sample_shape, &d->sample_shape));
        ck_assert_uint_eq(s->sample_size, 6);
        ck_assert_int_eq(s->target_kind, kinds[t].kind);
        ck_assert_uint_eq(s->target_size, kinds[t].target_size);
        ck_assert_int_eq(s->class_count, d->class_count);
        ck_assert_ptr_ne(s->inputs, d->inputs);
        const size_t ts = kinds[t].target_size;
        for (size_t i = 0; i < 4; i++) {
            for (size_t j = 0; j < 6; j++)
                ck_assert(s->inputs[i * 6 + j] == (nn_real)(10 * (i + 3) + j));
            for (size_t k = 0; k < ts; k++) {
                if (kinds[t].kind == NN_TARGET_REAL)
                    ck_assert(s->targets[i * ts + k] == (nn_real)(i + 3 + 0.25 * (double)k));
                else
                    ck_assert_int_eq(s->labels[i * ts + k], (int)(10 * (i + 3) + k));
            }
        }
        ck_assert((s->labels == NULL) == (kinds[t].kind == NN_TARGET_REAL));
        ck_assert((s->targets == NULL) == (kinds[t].kind != NN_TARGET_REAL));
        /* The slice owns its copy: changing the source leaves it alone. */
        d->inputs[3 * 6] = -1;
        ck_assert(s->inputs[0] == (nn_real)30);
        nn_dataset_free(s);
        nn_dataset_free(d);
    }
}
END_TEST

START_TEST(slice_may_take_the_whole_dataset_or_its_last_sample)
{
    nn_dataset *d = numbered_dataset(NN_TARGET_CLASS, 1);
    nn_dataset *s = NULL;
    ck_assert_int_eq(nn_dataset_slice(&s, d, 0, 8, NULL), NN_OK);
    ck_assert_uint_eq(s->count, 8);
    ck_assert(memcmp(s->inputs, d->inputs, 8 * 6 * sizeof(nn_real)) == 0);
    ck_assert(memcmp(s->labels, d->labels, 8 * sizeof(int)) == 0);
    nn_dataset_free(s);
    ck_assert_int_eq(nn_dataset_slice(&s, d, 7, 1, NULL), NN_OK);
    ck_assert(s->inputs[5] == (nn_real)75);
    ck_assert_int_eq(s->labels[0], 70);
    nn_dataset_free(s);
    nn_dataset_free(d);
}
END_TEST

START_TEST(slice_refuses_out_of_range_with_a_message)
{
    nn_dataset *d = numbered_dataset(NN_TARGET_MAP, 2);
    nn_dataset *s = (nn_dataset *)&s;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_dataset_slice(&s, d, 6, 4, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(err.status, NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "numbered"));
    ck_assert_ptr_nonnull(strstr(err.message, "[6, 10)"));
    ck_assert_ptr_nonnull(strstr(err.message, "8 samples"));
    ck_assert_int_eq(nn_dataset_slice(&s, d, 9, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_dataset_slice(&s, d, 8, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_dataset_slice(&s, d, 2, 0, &err), NN_ERR_ARGUMENT);
    /* first + count would wrap around. */
    ck_assert_int_eq(nn_dataset_slice(&s, d, 2, SIZE_MAX, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_null(s);
    nn_dataset_free(d);
}
END_TEST

Suite *dataset_suite(void);
Suite *dataset_suite(void)
{
    Suite *suite = suite_create("dataset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, new_class_dataset_has_one_label_per_sample);
    tcase_add_test(tc, new_map_dataset_has_one_label_per_pixel);
    tcase_add_test(tc, new_real_dataset_has_targets_and_no_classes);
    tcase_add_test(tc, new_truncates_a_long_name);
    tcase_add_test(tc, new_refuses_bad_arguments_with_a_message);
    tcase_add_test(tc, new_refuses_a_size_that_overflows);
    tcase_add_test(tc, free_accepts_null);
    tcase_add_test(tc, slice_copies_the_chosen_samples_of_each_kind);
    tcase_add_test(tc, slice_may_take_the_whole_dataset_or_its_last_sample);
    tcase_add_test(tc, slice_refuses_out_of_range_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
