/*
 * check_error.c - the error record: set, prefix, truncation, status names.
 */
#include "nn/core.h"
#include "testutil.h"

START_TEST(error_set_returns_its_status_and_formats_the_message)
{
    nn_error err = { 0 };
    nn_status s = nn_error_set(&err, NN_ERR_FORMAT, "%s:%d:%d: expected %s", "model.yaml", 3,
                               14, "a mapping");
    ck_assert_int_eq(s, NN_ERR_FORMAT);
    ck_assert_int_eq(err.status, NN_ERR_FORMAT);
    ck_assert_str_eq(err.message, "model.yaml:3:14: expected a mapping");
    /* A second call replaces, it does not append. */
    ck_assert_int_eq(nn_error_set(&err, NN_ERR_IO, "short read"), NN_ERR_IO);
    ck_assert_int_eq(err.status, NN_ERR_IO);
    ck_assert_str_eq(err.message, "short read");
}
END_TEST

START_TEST(error_set_accepts_a_null_error)
{
    ck_assert_int_eq(nn_error_set(NULL, NN_ERR_SHAPE, "ignored %d", 1), NN_ERR_SHAPE);
    ck_assert_int_eq(nn_error_set(NULL, NN_ERR_MEMORY, "ignored"), NN_ERR_MEMORY);
    ck_assert_int_eq(nn_error_prefix(NULL, "ignored"), NN_OK);
    nn_error_clear(NULL);
}
END_TEST

START_TEST(error_set_may_quote_its_own_previous_message)
{
    /* "wrap the old message" written with nn_error_set instead of
     * nn_error_prefix: the argument aliases the destination. */
    nn_error err = { 0 };
    nn_error_set(&err, NN_ERR_IO, "cannot open weights.bin");
    ck_assert_int_eq(nn_error_set(&err, NN_ERR_FORMAT, "loading model: %s (line %d)",
                                  err.message, 7),
                     NN_ERR_FORMAT);
    ck_assert_str_eq(err.message, "loading model: cannot open weights.bin (line 7)");
}
END_TEST

START_TEST(error_prefix_composes_outer_and_inner)
{
    nn_error err = { 0 };
    nn_error_set(&err, NN_ERR_SHAPE, "expected (4, 3), got (3, 4)");
    ck_assert_int_eq(nn_error_prefix(&err, "layer %d (%s)", 2, "linear"), NN_ERR_SHAPE);
    ck_assert_int_eq(err.status, NN_ERR_SHAPE);
    ck_assert_str_eq(err.message, "layer 2 (linear): expected (4, 3), got (3, 4)");
    nn_error_prefix(&err, "loading %s", "model.bin");
    ck_assert_str_eq(err.message, "loading model.bin: layer 2 (linear): expected (4, 3), got (3, 4)");
}
END_TEST

START_TEST(error_clear_resets_status_and_message)
{
    nn_error err = { 0 };
    nn_error_set(&err, NN_ERR_NUMERIC, "loss is NaN");
    nn_error_clear(&err);
    ck_assert_int_eq(err.status, NN_OK);
    ck_assert_str_eq(err.message, "");
}
END_TEST

static void fill_text(char *text, size_t length, char c)
{
    memset(text, c, length);
    text[length] = '\0';
}

START_TEST(error_set_truncates_a_long_message)
{
    /* The record sits between two canaries that must survive. */
    struct {
        char before[32];
        nn_error err;
        char after[32];
    } guarded;
    memset(&guarded, '#', sizeof guarded);
    static char long_text[4 * NN_ERROR_MESSAGE_SIZE];
    fill_text(long_text, sizeof long_text - 1, 'x');
    ck_assert_int_eq(nn_error_set(&guarded.err, NN_ERR_FORMAT, "bad: %s", long_text),
                     NN_ERR_FORMAT);
    ck_assert_uint_eq(strlen(guarded.err.message), NN_ERROR_MESSAGE_SIZE - 1);
    ck_assert(strncmp(guarded.err.message, "bad: xxx", 8) == 0);
    for (size_t i = 0; i < sizeof guarded.before; i++)
        ck_assert_int_eq(guarded.before[i], '#');
    for (size_t i = 0; i < sizeof guarded.after; i++)
        ck_assert_int_eq(guarded.after[i], '#');
}
END_TEST

START_TEST(error_prefix_truncates_and_keeps_the_prefix)
{
    static char long_text[4 * NN_ERROR_MESSAGE_SIZE];
    nn_error err = { 0 };

    /* A full-length inner message loses its tail, never the prefix. */
    fill_text(long_text, NN_ERROR_MESSAGE_SIZE - 1, 'i');
    nn_error_set(&err, NN_ERR_IO, "%s", long_text);
    ck_assert_int_eq(nn_error_prefix(&err, "outer"), NN_ERR_IO);
    ck_assert_uint_eq(strlen(err.message), NN_ERROR_MESSAGE_SIZE - 1);
    ck_assert(strncmp(err.message, "outer: iii", 10) == 0);

    /* A prefix longer than the record is itself truncated. */
    nn_error_set(&err, NN_ERR_IO, "inner");
    fill_text(long_text, sizeof long_text - 1, 'p');
    ck_assert_int_eq(nn_error_prefix(&err, "%s", long_text), NN_ERR_IO);
    ck_assert_uint_eq(strlen(err.message), NN_ERROR_MESSAGE_SIZE - 1);
    ck_assert_int_eq(err.message[0], 'p');
    ck_assert_int_eq(err.message[NN_ERROR_MESSAGE_SIZE - 2], 'p');

    /* Prefixing many times stays bounded. */
    nn_error_set(&err, NN_ERR_IO, "inner");
    for (int i = 0; i < 200; i++)
        nn_error_prefix(&err, "level %d", i);
    ck_assert_uint_le(strlen(err.message), NN_ERROR_MESSAGE_SIZE - 1);
    ck_assert(strncmp(err.message, "level 199: level 198: ", 22) == 0);
}
END_TEST

START_TEST(status_names_are_distinct_and_nonempty)
{
    const nn_status all[] = { NN_OK, NN_ERR_ARGUMENT, NN_ERR_SHAPE, NN_ERR_MEMORY, NN_ERR_IO,
                              NN_ERR_FORMAT, NN_ERR_NOT_IMPLEMENTED, NN_ERR_NUMERIC };
    const size_t count = sizeof all / sizeof all[0];
    for (size_t i = 0; i < count; i++) {
        const char *name = nn_status_name(all[i]);
        ck_assert_ptr_nonnull(name);
        ck_assert_uint_gt(strlen(name), 0);
        ck_assert_str_ne(name, nn_status_name((nn_status)99));
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(name, nn_status_name(all[j]));
    }
    ck_assert_str_eq(nn_status_name(NN_OK), "ok");
    ck_assert_str_eq(nn_status_name(NN_ERR_SHAPE), "shape error");
    ck_assert_str_eq(nn_status_name(NN_ERR_NOT_IMPLEMENTED), "not implemented");
}
END_TEST

Suite *error_suite(void);
Suite *error_suite(void)
{
    Suite *suite = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_set_returns_its_status_and_formats_the_message);
    tcase_add_test(tc, error_set_accepts_a_null_error);
    tcase_add_test(tc, error_set_may_quote_its_own_previous_message);
    tcase_add_test(tc, error_prefix_composes_outer_and_inner);
    tcase_add_test(tc, error_clear_resets_status_and_message);
    tcase_add_test(tc, error_set_truncates_a_long_message);
    tcase_add_test(tc, error_prefix_truncates_and_keeps_the_prefix);
    tcase_add_test(tc, status_names_are_distinct_and_nonempty);
    suite_add_tcase(suite, tc);
    return suite;
}
