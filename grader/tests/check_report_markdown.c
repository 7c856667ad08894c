/*
 * check_report_markdown.c - report.md: the table rows, the messages of
 * checks that did not pass in fences nothing inside can close, the build
 * log and sandbox notes, escaping, and hidden checks without details.
 */
#include "report_internal.h"
#include "report_fixture.h"

static char *markdown_of(const dg_report *report, size_t *size)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    char path[512];
    snprintf(path, sizeof path, "%s/report.md", dir);
    nn_error err = { 0 };
    ck_assert_msg(dg_report_write_markdown(report, path, &err) == NN_OK, "%s", err.message);
    char *text = fixture_read(path, size);
    remove(path);
    test_remove_dir(dir);
    return text;
}

START_TEST(markdown_has_the_total_and_a_table_row_per_check)
{
    dg_report report;
    fixture_report(&report);
    char *md = markdown_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(md, "**Score 11.6 / 34: 2 of 12 checks passed.**"));
    ck_assert_ptr_nonnull(strstr(md, "| Check | Name | Points | Outcome |\n|---|---|--:|---|\n"));
    ck_assert_ptr_nonnull(strstr(md, "| linear-forward | linear\\_forward: values | 2 / 2 | passed |\n"));
    ck_assert_ptr_nonnull(strstr(md, "| linear-backward | linear\\_backward: gradients \\| &lt;dx&gt; "
                                     "| 1.5 / 3 | partial |\n"));
    ck_assert_ptr_nonnull(strstr(md, "| train-mlp | MLP on blobs | 7.1 / 10 | partial |\n"));
    ck_assert_ptr_nonnull(strstr(md, "| hidden-gradcheck | conv2d\\_backward gradients (hidden) "
                                     "| 0 / 4 | failed |\n"));
    ck_assert_ptr_nonnull(strstr(md, "| late-memory | batchnorm memory | 0 / 1 | memory limit |\n"));
    /* One row per check: the rows are the lines starting "| " after the
     * header's two lines. */
    ck_assert_uint_eq(fixture_count(md, "\n| "), FIXTURE_CHECKS + 1);
    ck_assert_ptr_nonnull(strstr(md, "- Seed: 12345678901234567890\n"));
    free(md);
    dg_report_release(&report);
}
END_TEST

START_TEST(markdown_fences_cannot_be_closed_by_the_output)
{
    dg_report report;
    fixture_report(&report);
    size_t size = 0;
    char *md = markdown_of(&report, &size);
    /* The tricky output holds a run of four backticks: its fence has five,
     * and the text inside is intact up to the closing fence. */
    const char *open = strstr(md, "\n`````text\ndW differs");
    ck_assert_ptr_nonnull(open);
    const char *close = strstr(open + 1, "\n`````\n");
    ck_assert_ptr_nonnull(close);
    const char *inner = strstr(open, "```\nnot the end of the block\n````\n");
    ck_assert(inner != NULL && inner < close);
    /* Inside a fence, text is literal: no entities, no backslashes. */
    ck_assert(strstr(open, "<script>alert(1)</script> | pipes | and *stars*") < close);
    /* An ordinary message gets the ordinary three-backtick fence. */
    ck_assert_ptr_nonnull(strstr(md, "```text\ndx fails the gradient check at [0,1]\n```\n"));
    fixture_assert_no_control_bytes(md, size, "report.md");
    ck_assert(fixture_valid_utf8(md, size));
    ck_assert_ptr_nonnull(strstr(md, "control:[31mred\n"));
    free(md);
    dg_report_release(&report);
}
END_TEST

START_TEST(markdown_lists_failing_checks_build_log_and_sandbox_last)
{
    dg_report report;
    fixture_report(&report);
    char *md = markdown_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(md, "### softmax: softmax\\_forward (0 / 1, not implemented)\n\n"
                                     "No message.\n"));
    ck_assert_ptr_nonnull(strstr(md, "### slow-train: CNN training budget (0 / 5, timeout)\n"));
    /* Passed checks have no details section. */
    ck_assert_ptr_null(strstr(md, "### linear-forward"));
    ck_assert_ptr_nonnull(strstr(md, "## Build log\n\nUnits that did not build: conv2d.\n\n"
                                     "```text\nconv2d.c:12:5: error: expected ';' before '}' token\n"));
    const char *sandbox = strstr(md, "## Sandbox\n\n```text\nbubblewrap: in force\n");
    ck_assert_ptr_nonnull(sandbox);
    ck_assert_ptr_null(strstr(sandbox + 1, "\n## "));
    ck_assert(strstr(md, "## Build log") < sandbox);
    free(md);
    dg_report_release(&report);
}
END_TEST

START_TEST(markdown_withholds_hidden_check_details)
{
    dg_report report;
    fixture_report(&report);
    char *md = markdown_of(&report, NULL);
    ck_assert_msg(strstr(md, "SECRET") == NULL, "hidden output leaked into report.md");
    ck_assert_ptr_nonnull(strstr(md, "### hidden-gradcheck: conv2d\\_backward gradients (0 / 4, "
                                     "failed)\n\n" DG_HIDDEN_DETAILS "\n"));
    ck_assert_ptr_nonnull(strstr(md, "### hidden-broken: grader self-test (0 / 1, grader error)\n\n"
                                     DG_HIDDEN_DETAILS "\n"));
    free(md);
    dg_report_release(&report);
}
END_TEST

START_TEST(markdown_escapes_header_text)
{
    dg_report report;
    fixture_report(&report);
    char *md = markdown_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(md, "# dlgrade report: mlp-basics &lt;1&gt; &amp; \"co\"\n"));
    ck_assert_ptr_nonnull(strstr(md, "- Submission: /tmp/student's \"sub\" &lt;dir&gt;\n"));
    /* No raw '<' outside code fences (inside, text is literal). The
     * fences are found line by line as CommonMark does: a run of n >= 3
     * backticks opens, a line of at least n backticks closes. */
    size_t fence = 0;
    for (const char *line = md; *line != '\0';) {
        const char *next = strchr(line, '\n');
        size_t length = next != NULL ? (size_t)(next - line) : strlen(line);
        size_t ticks = strspn(line, "`");
        if (fence == 0 && ticks >= 3)
            fence = ticks;
        else if (fence != 0 && ticks >= fence && ticks == length)
            fence = 0;
        else if (fence == 0)
            ck_assert_msg(memchr(line, '<', length) == NULL, "raw '<' in: %.*s", (int)length,
                          line);
        line += length + (next != NULL);
    }
    ck_assert_uint_eq(fence, 0);
    free(md);
    dg_report_release(&report);
}
END_TEST

START_TEST(markdown_of_a_clean_run_has_no_failure_section)
{
    dg_report report = { 0 };
    dg_check_result *check = dg_report_add_check(&report);
    snprintf(check->id, sizeof check->id, "only");
    check->outcome = DG_OUTCOME_PASSED;
    check->visibility = DG_VISIBLE_PUBLIC;
    check->score = check->max_score = 1;
    dg_report_total(&report);
    char *md = markdown_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(md, "**Score 1 / 1: 1 of 1 check passed.**"));
    ck_assert_ptr_null(strstr(md, "Checks not passed"));
    ck_assert_ptr_null(strstr(md, "Build log"));
    /* An empty name falls back to the id. */
    ck_assert_ptr_nonnull(strstr(md, "| only | only | 1 / 1 | passed |\n"));
    free(md);
    dg_report_release(&report);
}
END_TEST

Suite *report_markdown_suite(void);
Suite *report_markdown_suite(void)
{
    Suite *suite = suite_create("report_markdown");
    TCase *tc = tcase_create("report.md");
    tcase_add_test(tc, markdown_has_the_total_and_a_table_row_per_check);
    tcase_add_test(tc, markdown_fences_cannot_be_closed_by_the_output);
    tcase_add_test(tc, markdown_lists_failing_checks_build_log_and_sandbox_last);
    tcase_add_test(tc, markdown_withholds_hidden_check_details);
    tcase_add_test(tc, markdown_escapes_header_text);
    tcase_add_test(tc, markdown_of_a_clean_run_has_no_failure_section);
    suite_add_tcase(suite, tc);
    return suite;
}
