/*
 * check_report_replay.c - every report records what reproduces it: the
 * grader's version, the CRC-32s of the config and the graded files, and
 * the command that replays the grading.
 */
#include "report.h"

#include "../../reference/tests/testutil.h"

#include <jansson.h>

static char *slurp(const char *path)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    static char text[1 << 16];
    size_t got = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[got] = '\0';
    return text;
}

START_TEST(reports_carry_the_replay_command_and_hashes)
{
    dg_report report = { 0 };
    snprintf(report.assignment, sizeof report.assignment, "fc-networks");
    snprintf(report.submission, sizeof report.submission, "sub");
    report.seed = 7;
    snprintf(report.grader_version, sizeof report.grader_version, "abc1234");
    snprintf(report.config_hash, sizeof report.config_hash, "0badcafe");
    snprintf(report.submission_hash, sizeof report.submission_hash, "12345678");
    snprintf(report.replay, sizeof report.replay,
             "dlgrade grade sub -a fc-networks -o OUTDIR --seed 7");
    dg_check_result *check = dg_report_add_check(&report);
    ck_assert_ptr_nonnull(check);
    snprintf(check->id, sizeof check->id, "c1");
    check->max_score = 1;
    check->outcome = DG_OUTCOME_PASSED;
    check->visibility = DG_VISIBLE_PUBLIC;
    dg_report_total(&report);

    char folder[256], path[512];
    test_make_temp_dir(folder, sizeof folder);
    nn_error err;
    ck_assert_int_eq(dg_report_write_all(&report, folder, &err), NN_OK);

    snprintf(path, sizeof path, "%s/report.md", folder);
    const char *md = slurp(path);
    ck_assert_ptr_nonnull(strstr(md, "dlgrade grade sub -a fc-networks -o OUTDIR --seed 7"));
    ck_assert_ptr_nonnull(strstr(md, "dlgrade abc1234"));
    ck_assert_ptr_nonnull(strstr(md, "0badcafe"));
    ck_assert_ptr_nonnull(strstr(md, "12345678"));

    snprintf(path, sizeof path, "%s/report.html", folder);
    ck_assert_ptr_nonnull(strstr(slurp(path), "Reproduce"));

    snprintf(path, sizeof path, "%s/results.json", folder);
    json_error_t json_err;
    json_t *root = json_load_file(path, 0, &json_err);
    ck_assert_ptr_nonnull(root);
    json_t *extra = json_object_get(root, "extra_data");
    ck_assert_str_eq(json_string_value(json_object_get(extra, "replay")), report.replay);
    ck_assert_str_eq(json_string_value(json_object_get(extra, "config_crc32")), "0badcafe");
    ck_assert_str_eq(json_string_value(json_object_get(extra, "submission_crc32")), "12345678");
    ck_assert_str_eq(json_string_value(json_object_get(extra, "grader_version")), "abc1234");
    json_decref(root);
    dg_report_release(&report);
    test_remove_dir(folder);
}
END_TEST

Suite *report_replay_suite(void);
Suite *report_replay_suite(void)
{
    Suite *suite = suite_create("report_replay");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reports_carry_the_replay_command_and_hashes);
    suite_add_tcase(suite, tc);
    return suite;
}
