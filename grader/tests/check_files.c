/*
 * check_files.c - dg_read_file reads whole files and refuses ones over
 * their bound.
 */
#include "files.h"

#include "../../reference/tests/testutil.h"

START_TEST(a_file_is_read_whole_and_bounded)
{
    char folder[256], path[320];
    test_make_temp_dir(folder, sizeof folder);
    snprintf(path, sizeof path, "%s/spec.yaml", folder);
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    for (int i = 0; i < 3000; i++)
        fputs("ab", file);   /* 6000 bytes: more than one 4096-byte read */
    fclose(file);
    nn_error err;
    size_t size = 0;
    char *text = dg_read_file(path, 6000, &size, &err);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(size, 6000);
    ck_assert_uint_eq(strlen(text), 6000);
    ck_assert_int_eq(text[5999], 'b');
    free(text);
    ck_assert_ptr_null(dg_read_file(path, 5999, NULL, &err));
    ck_assert_int_eq(err.status, NN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "longer than 5999 bytes"));
    snprintf(path, sizeof path, "%s/missing.yaml", folder);
    ck_assert_ptr_null(dg_read_file(path, 100, NULL, &err));
    ck_assert_int_eq(err.status, NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "missing.yaml"));
    test_remove_dir(folder);
}
END_TEST

Suite *files_suite(void);
Suite *files_suite(void)
{
    Suite *suite = suite_create("files");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_file_is_read_whole_and_bounded);
    suite_add_tcase(suite, tc);
    return suite;
}
