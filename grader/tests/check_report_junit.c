/*
 * check_report_junit.c - junit.xml: the counts CI reads, failure versus
 * error per outcome, XML escaping of everything a submission printed (no
 * raw '<' or '&' from user text, no control bytes), and hidden checks
 * listed without their message.
 */
#include "report_internal.h"
#include "report_fixture.h"

static char *junit_of(const dg_report *report, size_t *size)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    char path[512];
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    nn_error err = { 0 };
    ck_assert_msg(dg_report_write_junit(report, path, &err) == NN_OK, "%s", err.message);
    char *text = fixture_read(path, size);
    remove(path);
    test_remove_dir(dir);
    return text;
}

/* The text of one <testcase ...>...</testcase> (or self-closed), found by
 * its name attribute; owned by the caller. */
static char *testcase(const char *xml, const char *id)
{
    char needle[128];
    snprintf(needle, sizeof needle, "name=\"%s\"", id);
    const char *at = strstr(xml, needle);
    ck_assert_msg(at != NULL, "no testcase %s", id);
    while (at > xml && strncmp(at, "<testcase", 9) != 0)
        at--;
    const char *tag_end = strchr(at, '>');
    ck_assert_ptr_nonnull(tag_end);
    if (tag_end[-1] == '/')
        return strndup(at, (size_t)(tag_end - at) + 1);
    const char *end = strstr(at, "</testcase>");
    ck_assert_ptr_nonnull(end);
    return strndup(at, (size_t)(end - at) + strlen("</testcase>"));
}

START_TEST(junit_counts_tests_failures_and_errors)
{
    dg_report report;
    fixture_report(&report);
    char *xml = junit_of(&report, NULL);
    char expected[160];
    snprintf(expected, sizeof expected, "tests=\"%d\" failures=\"%d\" errors=\"%d\"",
             FIXTURE_CHECKS, FIXTURE_FAILURES, FIXTURE_ERRORS);
    /* Both <testsuites> and the one <testsuite> carry the counts. */
    ck_assert_uint_eq(fixture_count(xml, expected), 2);
    ck_assert_uint_eq(fixture_count(xml, "<testcase "), FIXTURE_CHECKS);
    ck_assert_uint_eq(fixture_count(xml, "<failure "), FIXTURE_FAILURES);
    ck_assert_uint_eq(fixture_count(xml, "<error "), FIXTURE_ERRORS);
    ck_assert_uint_eq(fixture_count(xml, "<testsuite "), 1);
    ck_assert_ptr_nonnull(strstr(xml, "timestamp=\"" FIXTURE_STARTED_AT "\""));
    free(xml);
    dg_report_release(&report);
}
END_TEST

START_TEST(junit_uses_unit_as_class_and_id_as_name)
{
    dg_report report;
    fixture_report(&report);
    char *xml = junit_of(&report, NULL);
    char *passed = testcase(xml, "linear-forward");
    ck_assert_ptr_nonnull(strstr(passed, "classname=\"linear\""));
    ck_assert_ptr_nonnull(strstr(passed, "time=\"0.250\""));
    ck_assert_ptr_null(strstr(passed, "<failure"));
    ck_assert_ptr_null(strstr(passed, "<error"));
    char *partial = testcase(xml, "train-mlp");
    ck_assert_ptr_nonnull(strstr(partial, "<failure message=\"partial (7.1 of 10 points): test "
                                          "accuracy 0.81, needed 0.85 for full points\""));
    char *crashed = testcase(xml, "pool-forward");
    ck_assert_ptr_nonnull(strstr(crashed, "<error message=\"crashed"));
    ck_assert_ptr_nonnull(strstr(crashed, "killed by signal 11"));
    char *missing = testcase(xml, "softmax");
    ck_assert_ptr_nonnull(strstr(missing, "<failure message=\"not implemented (0 of 1 point)\" "
                                          "type=\"not implemented\">not implemented</failure>"));
    free(passed);
    free(partial);
    free(crashed);
    free(missing);
    free(xml);
    dg_report_release(&report);
}
END_TEST

/* Every '<' starts one of the writer's own tags, every '&' a reference. */
static void assert_only_own_markup(const char *xml)
{
    static const char *const tags[] = { "?xml ", "testsuites ", "/testsuites>", "testsuite ",
                                        "/testsuite>", "properties>", "/properties>",
                                        "property ", "testcase ", "/testcase>", "failure ",
                                        "/failure>", "error ", "/error>" };
    for (const char *at = strchr(xml, '<'); at != NULL; at = strchr(at + 1, '<')) {
        bool known = false;
        for (size_t i = 0; i < sizeof tags / sizeof tags[0] && !known; i++)
            known = strncmp(at + 1, tags[i], strlen(tags[i])) == 0;
        ck_assert_msg(known, "raw '<' at offset %td: %.30s", at - xml, at);
    }
    static const char *const references[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
    for (const char *at = strchr(xml, '&'); at != NULL; at = strchr(at + 1, '&')) {
        bool known = false;
        for (size_t i = 0; i < sizeof references / sizeof references[0] && !known; i++)
            known = strncmp(at, references[i], strlen(references[i])) == 0;
        ck_assert_msg(known, "raw '&' at offset %td: %.30s", at - xml, at);
    }
}

START_TEST(junit_escapes_everything_a_submission_printed)
{
    dg_report report;
    fixture_report(&report);
    size_t size = 0;
    char *xml = junit_of(&report, &size);
    assert_only_own_markup(xml);
    fixture_assert_no_control_bytes(xml, size, "junit.xml");
    ck_assert_msg(strchr(xml, '\r') == NULL, "raw CR");
    ck_assert(fixture_valid_utf8(xml, size));
    ck_assert_ptr_nonnull(strstr(xml, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(xml, "got &quot;0.512&quot; &lt; expected 0.498 &amp; "
                                      "&#39;rel&#39; &gt; 1e-5\n"));
    ck_assert_ptr_nonnull(strstr(xml, "control:[31mred\n"));
    ck_assert_ptr_nonnull(strstr(xml, "broken utf-8: \xef\xbf\xbd|"));
    ck_assert_ptr_nonnull(strstr(xml, "name=\"mlp-basics &lt;1&gt; &amp; &quot;co&quot;\""));
    free(xml);
    dg_report_release(&report);
}
END_TEST

START_TEST(junit_withholds_hidden_check_details)
{
    dg_report report;
    fixture_report(&report);
    char *xml = junit_of(&report, NULL);
    ck_assert_msg(strstr(xml, "SECRET") == NULL, "hidden output leaked into junit.xml");
    char *hidden = testcase(xml, "hidden-gradcheck");
    ck_assert_ptr_nonnull(strstr(hidden, "<failure message=\"failed (0 of 4 points): "
                                         DG_HIDDEN_DETAILS "\""));
    ck_assert_ptr_nonnull(strstr(hidden, ">" DG_HIDDEN_DETAILS "</failure>"));
    char *broken = testcase(xml, "hidden-broken");
    ck_assert_ptr_nonnull(strstr(broken, "<error "));
    ck_assert_ptr_nonnull(strstr(broken, DG_HIDDEN_DETAILS));
    /* A hidden check is still counted and named. */
    ck_assert_ptr_nonnull(strstr(xml, "name=\"hidden-passed\""));
    free(hidden);
    free(broken);
    free(xml);
    dg_report_release(&report);
}
END_TEST

START_TEST(junit_of_an_empty_report_has_zero_counts)
{
    dg_report report = { 0 };
    char *xml = junit_of(&report, NULL);
    ck_assert_uint_eq(fixture_count(xml, "tests=\"0\" failures=\"0\" errors=\"0\""), 2);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"dlgrade\""));
    ck_assert_ptr_null(strstr(xml, "<testcase"));
    free(xml);
}
END_TEST

Suite *report_junit_suite(void);
Suite *report_junit_suite(void)
{
    Suite *suite = suite_create("report_junit");
    TCase *tc = tcase_create("junit.xml");
    tcase_add_test(tc, junit_counts_tests_failures_and_errors);
    tcase_add_test(tc, junit_uses_unit_as_class_and_id_as_name);
    tcase_add_test(tc, junit_escapes_everything_a_submission_printed);
    tcase_add_test(tc, junit_withholds_hidden_check_details);
    tcase_add_test(tc, junit_of_an_empty_report_has_zero_counts);
    suite_add_tcase(suite, tc);
    return suite;
}
