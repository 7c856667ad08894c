/*
 * check_report.c - the dg_report record and the helpers the writers share
 * (UTF-8 repair, markup escaping, points), and dg_report_write_all: the
 * folder is created, all four files appear, a failure names the file and
 * leaves neither temporary files nor half of the reports behind.
 */
#include "report_internal.h"
#include "report_fixture.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const report_names[] = { "results.json", "junit.xml", "report.md",
                                            "report.html" };

START_TEST(added_check_starts_hidden_and_as_a_grader_error)
{
    dg_report report = { 0 };
    dg_check_result *check = dg_report_add_check(&report);
    ck_assert_ptr_nonnull(check);
    ck_assert_uint_eq(report.check_count, 1);
    /* A check the grader never finished must neither show nor pass. */
    ck_assert_int_eq(check->visibility, DG_VISIBLE_HIDDEN);
    ck_assert_int_eq(check->outcome, DG_OUTCOME_GRADER_ERROR);
    ck_assert_ptr_null(check->output);
    ck_assert_ptr_null(check->curve);
    ck_assert_str_eq(check->id, "");
    dg_report_release(&report);
    ck_assert_uint_eq(report.check_count, 0);
    ck_assert_ptr_null(report.checks);
}
END_TEST

START_TEST(check_printf_appends_to_the_output)
{
    dg_report report = { 0 };
    dg_check_result *check = dg_report_add_check(&report);
    dg_check_printf(check, "dW differs at [%d,%d]", 2, 3);
    dg_check_printf(check, ": got %.3f, expected %.3f\n", 0.512, 0.498);
    ck_assert_str_eq(check->output, "dW differs at [2,3]: got 0.512, expected 0.498\n");
    /* Long text grows the string rather than being cut. */
    char line[1000];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    for (int i = 0; i < 20; i++)
        dg_check_printf(check, "%s", line);
    ck_assert_uint_eq(strlen(check->output), 47 + 20 * 999);
    dg_report_release(&report);
}
END_TEST

START_TEST(checks_survive_the_array_growing)
{
    dg_report report = { 0 };
    for (int i = 0; i < 100; i++) {
        dg_check_result *check = dg_report_add_check(&report);
        ck_assert_ptr_nonnull(check);
        snprintf(check->id, sizeof check->id, "check-%d", i);
        check->score = i;
        check->max_score = 2 * i;
        dg_check_printf(check, "message %d", i);
    }
    dg_report_total(&report);
    ck_assert_uint_eq(report.check_count, 100);
    ck_assert_str_eq(report.checks[37].id, "check-37");
    ck_assert_str_eq(report.checks[99].output, "message 99");
    ck_assert_double_eq(report.score, 4950.0);
    ck_assert_double_eq(report.max_score, 9900.0);
    dg_report_release(&report);
    dg_report_release(NULL);
}
END_TEST

START_TEST(outcome_and_visibility_names_are_distinct)
{
    for (int a = DG_OUTCOME_PASSED; a <= DG_OUTCOME_GRADER_ERROR; a++)
        for (int b = a + 1; b <= DG_OUTCOME_GRADER_ERROR; b++)
            ck_assert_str_ne(dg_outcome_name((dg_outcome)a), dg_outcome_name((dg_outcome)b));
    ck_assert_str_eq(dg_outcome_name(DG_OUTCOME_NOT_IMPLEMENTED), "not implemented");
    ck_assert_str_eq(dg_visibility_name(DG_VISIBLE_AFTER_DUE), "after_due");
    /* Wrong values are failures; runs that broke are errors. */
    ck_assert(!dg_outcome_is_error(DG_OUTCOME_PARTIAL));
    ck_assert(!dg_outcome_is_error(DG_OUTCOME_NOT_IMPLEMENTED));
    ck_assert(dg_outcome_is_error(DG_OUTCOME_TIMEOUT));
    ck_assert(dg_outcome_is_error(DG_OUTCOME_GRADER_ERROR));
}
END_TEST

static void assert_sanitized(const char *input, const char *expected)
{
    char *clean = dg_utf8_sanitize(input);
    ck_assert_ptr_nonnull(clean);
    ck_assert_msg(strcmp(clean, expected) == 0, "sanitize gave \"%s\", expected \"%s\"", clean,
                  expected);
    free(clean);
}

#define FFFD "\xef\xbf\xbd"

START_TEST(sanitize_replaces_each_broken_utf8_sequence)
{
    assert_sanitized("plain ascii", "plain ascii");
    assert_sanitized("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
    assert_sanitized("a\xff" "b", "a" FFFD "b");              /* never a UTF-8 byte */
    assert_sanitized("\x80", FFFD);                           /* stray continuation */
    assert_sanitized("\xc3\x28", FFFD "(");                   /* lead byte, then ASCII */
    assert_sanitized("\xc0\xaf", FFFD FFFD);                  /* overlong '/' */
    assert_sanitized("\xed\xa0\x80", FFFD FFFD FFFD);         /* a UTF-16 surrogate */
    assert_sanitized("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* beyond U+10FFFF */
    assert_sanitized("x\xe2\x82", "x" FFFD);                  /* cut short at the end */
    assert_sanitized("\xf0\x9f\x98" "a", FFFD "a");           /* cut short mid-text */
    assert_sanitized(FFFD, FFFD);
    assert_sanitized(NULL, "");
}
END_TEST

START_TEST(markup_escapes_specials_and_drops_control_characters)
{
    dg_buffer out = { 0 };
    dg_buffer_append_markup(&out, "<a href='x'>&\"</a>", false);
    ck_assert_str_eq(out.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    dg_buffer_release(&out);

    dg_buffer_append_markup(&out, "a\x01" "b\x1b[0m\x7f\r\nc\td\xc2\x85" "e\xef\xbf\xbf", false);
    ck_assert_str_eq(out.data, "ab[0m\nc\tde");
    dg_buffer_release(&out);

    dg_buffer_append_markup(&out, "one\ntwo\tthree \xff", true);
    ck_assert_str_eq(out.data, "one two three " FFFD);
    dg_buffer_release(&out);
}
END_TEST

START_TEST(first_line_is_cut_at_a_character_boundary)
{
    dg_buffer out = { 0 };
    dg_buffer_append_first_line(&out, "\nfirst line\nsecond", 100);
    ck_assert_str_eq(out.data, "first line...");
    dg_buffer_release(&out);
    dg_buffer_append_first_line(&out, "only line", 100);
    ck_assert_str_eq(out.data, "only line");
    dg_buffer_release(&out);
    /* "é" is two bytes: a cut after 2 bytes must not split the second. */
    dg_buffer_append_first_line(&out, "a\xc3\xa9z", 2);
    ck_assert_str_eq(out.data, "a...");
    dg_buffer_release(&out);
}
END_TEST

START_TEST(points_print_with_at_most_two_decimals)
{
    char text[32];
    const struct {
        double value;
        const char *expected;
    } cases[] = { { 7.5, "7.5" }, { 10.0, "10" }, { 2.0 / 3.0, "0.67" }, { 7.1, "7.1" },
                  { -0.0, "0" }, { 1e-9, "0" }, { -1e-9, "0" }, { 0.1 + 0.2, "0.3" },
                  { NAN, "nan" } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dg_format_points(text, sizeof text, cases[i].value);
        ck_assert_str_eq(text, cases[i].expected);
    }
}
END_TEST

START_TEST(summary_counts_passed_checks)
{
    dg_report report;
    fixture_report(&report);
    dg_buffer out = { 0 };
    dg_report_summary(&report, &out);
    ck_assert_str_eq(out.data, "Score 11.6 / 34: 2 of 12 checks passed.");
    dg_buffer_release(&out);
    dg_report_unbuilt_units(&report, &out);
    ck_assert_str_eq(out.data, "conv2d");
    dg_buffer_release(&out);
    dg_report_release(&report);
}
END_TEST

static char *join(const char *directory, const char *name)
{
    size_t size = strlen(directory) + strlen(name) + 2;
    char *path = malloc(size);
    ck_assert_ptr_nonnull(path);
    snprintf(path, size, "%s/%s", directory, name);
    return path;
}

static bool exists(const char *directory, const char *name)
{
    char *path = join(directory, name);
    struct stat info;
    bool found = stat(path, &info) == 0;
    free(path);
    return found;
}

START_TEST(write_all_creates_the_folder_and_four_files)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    char *target = join(temp, "out/deeper/reports");
    dg_report report;
    fixture_report(&report);
    nn_error err = { 0 };
    ck_assert_msg(dg_report_write_all(&report, target, &err) == NN_OK, "%s", err.message);
    for (size_t i = 0; i < 4; i++) {
        char *path = join(target, report_names[i]);
        struct stat info;
        ck_assert_msg(stat(path, &info) == 0, "%s missing", path);
        ck_assert(S_ISREG(info.st_mode));
        ck_assert_int_gt(info.st_size, 100);
        /* Readable by others: a web server or CI uploader. */
        ck_assert_int_eq(info.st_mode & 0777, 0644);
        free(path);
    }
    /* Exactly the four: no temporary file left behind. */
    ck_assert_uint_eq(fixture_entries(target), 4);

    /* A second run replaces the files (a trailing slash is fine too). */
    snprintf(report.assignment, sizeof report.assignment, "second-run");
    char *slashed = join(target, "");
    ck_assert_msg(dg_report_write_all(&report, slashed, &err) == NN_OK, "%s", err.message);
    char *md_path = join(target, "report.md");
    char *md = fixture_read(md_path, NULL);
    ck_assert_ptr_nonnull(strstr(md, "second-run"));
    ck_assert_uint_eq(fixture_entries(target), 4);
    free(md);
    free(md_path);
    free(slashed);
    free(target);
    dg_report_release(&report);
    test_remove_dir(temp);
}
END_TEST

START_TEST(write_all_below_a_file_fails_naming_the_path)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    char *file = join(temp, "plain-file");
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    char *target = join(file, "reports");
    dg_report report;
    fixture_report(&report);
    nn_error err = { 0 };
    ck_assert_int_eq(dg_report_write_all(&report, target, &err), NN_ERR_IO);
    ck_assert_int_eq(err.status, NN_ERR_IO);
    ck_assert_msg(strstr(err.message, file) != NULL, "message: %s", err.message);
    ck_assert_uint_eq(fixture_entries(temp), 1);
    free(target);
    free(file);
    dg_report_release(&report);
    test_remove_dir(temp);
}
END_TEST

START_TEST(write_all_into_an_unwritable_folder_fails_and_leaves_nothing)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    ck_assert_int_eq(chmod(temp, 0755), 0); /* nobody may reach the folder inside */
    char *target = join(temp, "locked");
    ck_assert_int_eq(mkdir(target, 0755), 0);
    /* Root writes through permission bits, so the writer runs in a child
     * that gives up root (as nobody) before trying; a normal user just
     * meets a read-only folder. */
    ck_assert_int_eq(chmod(target, 0555), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        dg_report report;
        fixture_report(&report);
        nn_error err = { 0 };
        nn_status status = dg_report_write_all(&report, target, &err);
        dg_report_release(&report);
        if (status != NN_ERR_IO)
            _exit(11);
        /* The message names the file it could not write, in that folder. */
        if (strstr(err.message, target) == NULL || strstr(err.message, "results.json") == NULL)
            _exit(12);
        _exit(0);
    }
    int wstatus = 0;
    ck_assert_int_eq(waitpid(child, &wstatus, 0), child);
    ck_assert(WIFEXITED(wstatus));
    ck_assert_msg(WEXITSTATUS(wstatus) == 0, "child check %d failed", WEXITSTATUS(wstatus));
    ck_assert_uint_eq(fixture_entries(target), 0);
    ck_assert_int_eq(chmod(target, 0755), 0);
    free(target);
    test_remove_dir(temp);
}
END_TEST

START_TEST(write_all_failing_midway_removes_its_temporary_files)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    dg_report report;
    fixture_report(&report);
    /* A score that is not a number is refused by the JSON writer after
     * its temporary file exists. */
    report.checks[3].score = NAN;
    nn_error err = { 0 };
    ck_assert_int_eq(dg_report_write_all(&report, temp, &err), NN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.message, "results.json") != NULL, "message: %s", err.message);
    ck_assert_msg(strstr(err.message, "softmax") != NULL, "message: %s", err.message);
    ck_assert_uint_eq(fixture_entries(temp), 0);
    dg_report_release(&report);
    test_remove_dir(temp);
}
END_TEST

START_TEST(write_all_with_a_folder_in_the_way_renames_nothing)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    char *blocker = join(temp, "report.html");
    ck_assert_int_eq(mkdir(blocker, 0755), 0);
    dg_report report;
    fixture_report(&report);
    nn_error err = { 0 };
    ck_assert_int_eq(dg_report_write_all(&report, temp, &err), NN_ERR_IO);
    ck_assert_msg(strstr(err.message, blocker) != NULL, "message: %s", err.message);
    /* All or nothing: the other three were not put in place either, and
     * no temporary file remains. */
    ck_assert(!exists(temp, "results.json"));
    ck_assert(!exists(temp, "junit.xml"));
    ck_assert(!exists(temp, "report.md"));
    ck_assert_uint_eq(fixture_entries(temp), 1);
    free(blocker);
    dg_report_release(&report);
    test_remove_dir(temp);
}
END_TEST

START_TEST(single_writers_write_to_the_given_path)
{
    char temp[256];
    test_make_temp_dir(temp, sizeof temp);
    dg_report report;
    fixture_report(&report);
    nn_error err = { 0 };
    char *path = join(temp, "custom.md");
    ck_assert_int_eq(dg_report_write_markdown(&report, path, &err), NN_OK);
    ck_assert(exists(temp, "custom.md"));
    ck_assert_uint_eq(fixture_entries(temp), 1);
    char *missing = join(temp, "no-such-folder/r.xml");
    ck_assert_int_eq(dg_report_write_junit(&report, missing, &err), NN_ERR_IO);
    ck_assert_msg(strstr(err.message, missing) != NULL, "message: %s", err.message);
    free(missing);
    free(path);
    dg_report_release(&report);
    test_remove_dir(temp);
}
END_TEST

Suite *report_suite(void);
Suite *report_suite(void)
{
    Suite *suite = suite_create("report");
    TCase *record = tcase_create("record");
    tcase_add_test(record, added_check_starts_hidden_and_as_a_grader_error);
    tcase_add_test(record, check_printf_appends_to_the_output);
    tcase_add_test(record, checks_survive_the_array_growing);
    tcase_add_test(record, outcome_and_visibility_names_are_distinct);
    suite_add_tcase(suite, record);
    TCase *text = tcase_create("text");
    tcase_add_test(text, sanitize_replaces_each_broken_utf8_sequence);
    tcase_add_test(text, markup_escapes_specials_and_drops_control_characters);
    tcase_add_test(text, first_line_is_cut_at_a_character_boundary);
    tcase_add_test(text, points_print_with_at_most_two_decimals);
    tcase_add_test(text, summary_counts_passed_checks);
    suite_add_tcase(suite, text);
    TCase *files = tcase_create("files");
    tcase_add_test(files, write_all_creates_the_folder_and_four_files);
    tcase_add_test(files, write_all_below_a_file_fails_naming_the_path);
    tcase_add_test(files, write_all_into_an_unwritable_folder_fails_and_leaves_nothing);
    tcase_add_test(files, write_all_failing_midway_removes_its_temporary_files);
    tcase_add_test(files, write_all_with_a_folder_in_the_way_renames_nothing);
    tcase_add_test(files, single_writers_write_to_the_given_path);
    suite_add_tcase(suite, files);
    return suite;
}
