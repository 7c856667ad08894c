/*
 * check_fashion_mnist.c - the Fashion-MNIST loader on the installed data
 * (sizes, balanced classes, pixel range, the checksums in
 * datasets/fashion-mnist.crc32) and on small generated files (consistency
 * errors name the file; DLGRADE_DATA is honoured).
 *
 * The real data is required: without it the tests fail and say to install
 * the Debian package dataset-fashion-mnist; they never skip.
 */
#include "nn/fashion_mnist.h"
#include "nn/idx.h"
#include "testutil.h"

#include <sys/stat.h>

#ifndef DATASETS_DIR
#define DATASETS_DIR "datasets"
#endif
#define CHECKSUM_LIST DATASETS_DIR "/fashion-mnist.crc32"

/* Writes <dir>/<prefix>-images-idx3-ubyte.gz with `images` images of
 * height x width pixels (pixel p of image i is (i * 31 + p) mod 256) and
 * <dir>/<prefix>-labels-idx1-ubyte.gz with `labels` labels (i mod 10, or
 * bad_label at index 1 when bad_label >= 0). */
static void write_split(const char *dir, const char *prefix, size_t images, size_t height,
                        size_t width, size_t labels, int bad_label)
{
    char path[512];
    size_t pixels = images * height * width;
    unsigned char *data = malloc(pixels > labels ? pixels : labels);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < images; i++)
        for (size_t p = 0; p < height * width; p++)
            data[i * height * width + p] = (unsigned char)((i * 31 + p) % 256);
    const size_t image_dims[3] = { images, height, width };
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    ck_assert_int_eq(nn_idx_save_gz(path, 3, image_dims, data, NULL), NN_OK);
    for (size_t i = 0; i < labels; i++)
        data[i] = (unsigned char)(i % 10);
    if (bad_label >= 0)
        data[1] = (unsigned char)bad_label;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    ck_assert_int_eq(nn_idx_save_gz(path, 1, &labels, data, NULL), NN_OK);
    free(data);
}

/* A directory with a consistent small Fashion-MNIST look-alike. */
static void write_small_set(const char *dir, size_t train, size_t test)
{
    write_split(dir, "train", train, 28, 28, train, -1);
    write_split(dir, "t10k", test, 28, 28, test, -1);
}

static void assert_message_has(const nn_error *err, const char *phrase)
{
    ck_assert_msg(strstr(err->message, phrase) != NULL, "message lacks '%s': %s", phrase,
                  err->message);
}

/* Loading from dir must fail with status, leave both outputs NULL, and
 * mention phrase. */
static void assert_load_fails(const char *dir, nn_status status, const char *phrase)
{
    nn_dataset *train = NULL, *test = NULL;
    nn_error err;
    nn_status got = nn_fashion_mnist_load(&train, &test, dir, &err);
    ck_assert_msg(got == status, "got %s (%s), expected %s", nn_status_name(got), err.message,
                  nn_status_name(status));
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
    assert_message_has(&err, phrase);
}

/* Sets or unsets DLGRADE_DATA; returns the old value (malloc'd or NULL) for
 * restore_env, so that a run without CK_FORK is not affected. */
static char *set_env(const char *value)
{
    const char *old = getenv(NN_FASHION_MNIST_ENV);
    char *saved = old != NULL ? strdup(old) : NULL;
    if (value != NULL)
        ck_assert_int_eq(setenv(NN_FASHION_MNIST_ENV, value, 1), 0);
    else
        ck_assert_int_eq(unsetenv(NN_FASHION_MNIST_ENV), 0);
    return saved;
}

static void restore_env(char *saved)
{
    if (saved != NULL)
        setenv(NN_FASHION_MNIST_ENV, saved, 1);
    else
        unsetenv(NN_FASHION_MNIST_ENV);
    free(saved);
}

/* Per-class counts, and every pixel in [0, 1] and a multiple of 1/255. */
static void check_real_split(const nn_dataset *set, size_t count, int per_class)
{
    ck_assert_uint_eq(set->count, count);
    ck_assert_int_eq(set->sample_shape.rank, 3);
    ck_assert_uint_eq(set->sample_shape.dims[0], 1);
    ck_assert_uint_eq(set->sample_shape.dims[1], 28);
    ck_assert_uint_eq(set->sample_shape.dims[2], 28);
    ck_assert_uint_eq(set->sample_size, 784);
    ck_assert_int_eq(set->target_kind, NN_TARGET_CLASS);
    ck_assert_uint_eq(set->target_size, 1);
    ck_assert_int_eq(set->class_count, 10);
    int classes[10] = { 0 };
    for (size_t i = 0; i < set->count; i++) {
        ck_assert_int_ge(set->labels[i], 0);
        ck_assert_int_lt(set->labels[i], 10);
        classes[set->labels[i]]++;
    }
    for (int c = 0; c < 10; c++)
        ck_assert_msg(classes[c] == per_class, "%s: class %d has %d samples, expected %d",
                      set->name, c, classes[c], per_class);
    nn_real low = 1, high = 0;
    double sum = 0;
    for (size_t i = 0; i < set->count * set->sample_size; i++) {
        nn_real v = set->inputs[i];
        low = v < low ? v : low;
        high = v > high ? v : high;
        sum += v;
        double level = (double)v * 255.0;
        if (fabs(level - round(level)) > 1e-3)
            ck_abort_msg("%s: input %zu is %g, not a multiple of 1/255", set->name, i,
                         (double)v);
    }
    ck_assert(low == 0);
    ck_assert(high == 1);
    /* Fashion-MNIST's mean pixel is about 0.286: far from 0 and 1, so a
     * wrong scale or an offset image would show. */
    double mean = sum / (double)(set->count * set->sample_size);
    ck_assert_double_gt(mean, 0.25);
    ck_assert_double_lt(mean, 0.32);
}

START_TEST(installed_data_has_the_published_sizes_and_balanced_classes)
{
    nn_dataset *train = NULL, *test = NULL;
    nn_error err;
    nn_status status = nn_fashion_mnist_load(&train, &test, NULL, &err);
    ck_assert_msg(status == NN_OK, "the real Fashion-MNIST is needed: %s", err.message);
    check_real_split(train, 60000, 6000);
    check_real_split(test, 10000, 1000);
    /* The first labels of each file, read from the release with zcat | od. */
    const int train_first[8] = { 9, 0, 0, 3, 0, 2, 7, 2 };
    const int test_first[8] = { 9, 2, 1, 1, 6, 1, 4, 6 };
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(train->labels[i], train_first[i]);
        ck_assert_int_eq(test->labels[i], test_first[i]);
    }
    ck_assert_str_eq(train->name, "fashion-mnist-train");
    ck_assert_str_eq(test->name, "fashion-mnist-test");
    nn_dataset_free(train);
    nn_dataset_free(test);
}
END_TEST

START_TEST(installed_data_matches_the_checksum_list)
{
    nn_error err;
    nn_status status = nn_fashion_mnist_verify(NULL, CHECKSUM_LIST, &err);
    ck_assert_msg(status == NN_OK, "%s", err.message);
}
END_TEST

START_TEST(modified_data_fails_the_checksum_list)
{
    char dir[256], list[512];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 3, 2);
    /* The real list names files of the real sizes: the small ones differ. */
    nn_error err;
    ck_assert_int_eq(nn_fashion_mnist_verify(dir, CHECKSUM_LIST, &err), NN_ERR_FORMAT);
    assert_message_has(&err, "train-images-idx3-ubyte.gz: decompressed content has CRC-32");
    assert_message_has(&err, "expects b4f29f28 and 47040016 bytes");
    assert_message_has(&err, "reinstall dataset-fashion-mnist");
    /* A list pointing at a directory without the files says how to get them. */
    snprintf(list, sizeof list, "%s/empty", dir);
    ck_assert_int_eq(mkdir(list, 0700), 0);
    ck_assert_int_eq(nn_fashion_mnist_verify(list, CHECKSUM_LIST, &err), NN_ERR_IO);
    assert_message_has(&err, "install the Debian package dataset-fashion-mnist");
    /* A missing list is not blamed on the data. */
    snprintf(list, sizeof list, "%s/none.crc32", dir);
    ck_assert_int_eq(nn_fashion_mnist_verify(dir, list, &err), NN_ERR_IO);
    assert_message_has(&err, "none.crc32: cannot open the checksum list");
    test_remove_dir(dir);
}
END_TEST

START_TEST(small_generated_set_loads_with_scaled_pixels_and_labels)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 12, 5);
    nn_dataset *train = NULL, *test = NULL;
    nn_error err;
    ck_assert_msg(nn_fashion_mnist_load(&train, &test, dir, &err) == NN_OK, "%s", err.message);
    ck_assert_uint_eq(train->count, 12);
    ck_assert_uint_eq(test->count, 5);
    for (size_t i = 0; i < train->count; i++) {
        ck_assert_int_eq(train->labels[i], (int)(i % 10));
        for (size_t p = 0; p < 784; p++)
            ck_assert_real_near(train->inputs[i * 784 + p],
                                (double)((i * 31 + p) % 256) / 255.0, TEST_TOLERANCE);
    }
    nn_dataset_free(train);
    nn_dataset_free(test);
    /* Either set alone. */
    ck_assert_int_eq(nn_fashion_mnist_load(NULL, &test, dir, &err), NN_OK);
    ck_assert_uint_eq(test->count, 5);
    nn_dataset_free(test);
    ck_assert_int_eq(nn_fashion_mnist_load(&train, NULL, dir, &err), NN_OK);
    ck_assert_uint_eq(train->count, 12);
    nn_dataset_free(train);
    ck_assert_int_eq(nn_fashion_mnist_load(NULL, NULL, dir, &err), NN_ERR_ARGUMENT);
    test_remove_dir(dir);
}
END_TEST

START_TEST(image_and_label_counts_must_agree)
{
    char dir[256], phrase[600];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 4, 2);
    write_split(dir, "t10k", 3, 28, 28, 2, -1);
    snprintf(phrase, sizeof phrase,
             "%s/t10k-images-idx3-ubyte.gz holds 3 images but "
             "%s/t10k-labels-idx1-ubyte.gz holds 2 labels",
             dir, dir);
    assert_load_fails(dir, NN_ERR_FORMAT, phrase);
    test_remove_dir(dir);
}
END_TEST

START_TEST(images_must_be_28_by_28)
{
    char dir[256], phrase[600];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 4, 2);
    write_split(dir, "train", 2, 27, 28, 2, -1);
    snprintf(phrase, sizeof phrase,
             "%s/train-images-idx3-ubyte.gz: expected images of shape (N, 28, 28), "
             "found (2, 27, 28)",
             dir);
    assert_load_fails(dir, NN_ERR_FORMAT, phrase);
    test_remove_dir(dir);
}
END_TEST

START_TEST(labels_must_be_classes_0_to_9)
{
    char dir[256], phrase[600];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 4, 2);
    write_split(dir, "t10k", 3, 28, 28, 3, 10);
    snprintf(phrase, sizeof phrase,
             "%s/t10k-labels-idx1-ubyte.gz: label 10 of sample 1 (byte 9) is not a class 0..9",
             dir);
    assert_load_fails(dir, NN_ERR_FORMAT, phrase);
    test_remove_dir(dir);
}
END_TEST

START_TEST(damaged_file_is_named)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 4, 2);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    fputs("not gzip, not idx", file);
    fclose(file);
    assert_load_fails(dir, NN_ERR_FORMAT, path);
    test_remove_dir(dir);
}
END_TEST

START_TEST(missing_directory_says_to_install_the_package)
{
    char dir[256], missing[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(missing, sizeof missing, "%s/nothing-here", dir);
    assert_load_fails(missing, NN_ERR_IO, "install the Debian package dataset-fashion-mnist");
    assert_load_fails(missing, NN_ERR_IO, "DLGRADE_DATA");
    assert_load_fails(missing, NN_ERR_IO, "nothing-here/train-images-idx3-ubyte.gz: cannot open");
    /* Training files present, test files missing: the training set is not
     * leaked and the missing file is named. */
    write_split(dir, "train", 2, 28, 28, 2, -1);
    assert_load_fails(dir, NN_ERR_IO, "t10k-images-idx3-ubyte.gz: cannot open");
    test_remove_dir(dir);
}
END_TEST

START_TEST(dlgrade_data_directory_is_honoured)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    write_small_set(dir, 7, 3);
    char *saved = set_env(dir);
    ck_assert_str_eq(nn_fashion_mnist_default_directory(), dir);
    nn_dataset *train = NULL, *test = NULL;
    nn_error err;
    nn_status status = nn_fashion_mnist_load(&train, &test, NULL, &err);
    restore_env(saved);
    ck_assert_msg(status == NN_OK, "%s", err.message);
    ck_assert_uint_eq(train->count, 7);
    ck_assert_uint_eq(test->count, 3);
    nn_dataset_free(train);
    nn_dataset_free(test);
    test_remove_dir(dir);
}
END_TEST

START_TEST(default_directory_is_the_debian_one_without_dlgrade_data)
{
    char *saved = set_env(NULL);
    ck_assert_str_eq(nn_fashion_mnist_default_directory(), "/usr/share/datasets/fashion-mnist");
    setenv(NN_FASHION_MNIST_ENV, "", 1);
    ck_assert_str_eq(nn_fashion_mnist_default_directory(), "/usr/share/datasets/fashion-mnist");
    restore_env(saved);
}
END_TEST

START_TEST(class_names_follow_the_release)
{
    static const char *const expected[10] = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
    };
    for (int c = 0; c < 10; c++)
        ck_assert_str_eq(nn_fashion_mnist_class_name(c), expected[c]);
    ck_assert_ptr_null(nn_fashion_mnist_class_name(-1));
    ck_assert_ptr_null(nn_fashion_mnist_class_name(10));
}
END_TEST

Suite *fashion_mnist_suite(void);
Suite *fashion_mnist_suite(void)
{
    Suite *suite = suite_create("fashion_mnist");
    TCase *real = tcase_create("installed data");
    /* Two full passes over 30 MB of gzip, also under ASan on a shared machine. */
    tcase_set_timeout(real, 60);
    tcase_add_test(real, installed_data_has_the_published_sizes_and_balanced_classes);
    tcase_add_test(real, installed_data_matches_the_checksum_list);
    suite_add_tcase(suite, real);
    TCase *small = tcase_create("generated files");
    tcase_add_test(small, modified_data_fails_the_checksum_list);
    tcase_add_test(small, small_generated_set_loads_with_scaled_pixels_and_labels);
    tcase_add_test(small, image_and_label_counts_must_agree);
    tcase_add_test(small, images_must_be_28_by_28);
    tcase_add_test(small, labels_must_be_classes_0_to_9);
    tcase_add_test(small, damaged_file_is_named);
    tcase_add_test(small, missing_directory_says_to_install_the_package);
    tcase_add_test(small, dlgrade_data_directory_is_honoured);
    tcase_add_test(small, default_directory_is_the_debian_one_without_dlgrade_data);
    tcase_add_test(small, class_names_follow_the_release);
    suite_add_tcase(suite, small);
    return suite;
}
