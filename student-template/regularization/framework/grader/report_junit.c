/*
 * report_junit.c - junit.xml, the test-report format CI systems (GitLab,
 * Jenkins, GitHub actions that publish test results) understand: one
 * <testsuite> for the assignment, one <testcase> per check, with
 * classname = the unit and name = the check id.
 *
 * A check that ran and gave wrong values (failed, partial, not
 * implemented) is a <failure>; one that could not run or whose run broke
 * (build error, crash, timeout, memory limit, grader error) is an
 * <error>, as JUnit distinguishes an assertion that failed from a test
 * that blew up. A hidden check is listed with its outcome, never its
 * message.
 *
 * Every string is escaped for XML 1.0 by dg_buffer_append_markup, which
 * also drops the characters XML 1.0 does not allow at all (most control
 * characters; a student's output can contain anything, and one stray
 * ESC would make the whole file unparseable).
 */
#include "report_internal.h"

#include <math.h>
#include <string.h>

static double nonnegative(double seconds)
{
    return isfinite(seconds) && seconds > 0.0 ? seconds : 0.0;
}

static void append_testcase(dg_buffer *out, const dg_check_result *check)
{
    dg_buffer_puts(out, "    <testcase classname=\"");
    dg_buffer_append_markup(out, check->unit[0] != '\0' ? check->unit : check->kind, true);
    dg_buffer_puts(out, "\" name=\"");
    dg_buffer_append_markup(out, check->id, true);
    dg_buffer_printf(out, "\" time=\"%.3f\"", nonnegative(check->seconds));
    if (check->outcome == DG_OUTCOME_PASSED) {
        dg_buffer_puts(out, "/>\n");
        return;
    }

    const char *element = dg_outcome_is_error(check->outcome) ? "error" : "failure";
    bool details = dg_check_shows_details(check);
    bool has_output = check->output != NULL && check->output[0] != '\0';
    char score[32], max_score[32];
    dg_format_points(score, sizeof score, check->score);
    dg_format_points(max_score, sizeof max_score, check->max_score);

    /* The message is what a CI summary shows on one line: the outcome,
     * the points and the first line of the check's own message. */
    dg_buffer message = { 0 };
    dg_buffer_printf(&message, "%s (%s of %s point%s)", dg_outcome_name(check->outcome), score,
                     max_score, strcmp(max_score, "1") == 0 ? "" : "s");
    if (!details) {
        dg_buffer_puts(&message, ": " DG_HIDDEN_DETAILS);
    } else if (has_output) {
        dg_buffer_puts(&message, ": ");
        dg_buffer_append_first_line(&message, check->output, 200);
    }
    dg_buffer_puts(out, ">\n      <");
    dg_buffer_puts(out, element);
    dg_buffer_puts(out, " message=\"");
    if (message.failed)
        out->failed = true;
    else
        dg_buffer_append_markup(out, message.data, true);
    dg_buffer_release(&message);
    dg_buffer_printf(out, "\" type=\"%s\">", dg_outcome_name(check->outcome));
    dg_buffer_append_markup(out, !details ? DG_HIDDEN_DETAILS
                                 : has_output ? check->output
                                              : dg_outcome_name(check->outcome),
                            false);
    dg_buffer_printf(out, "</%s>\n    </testcase>\n", element);
}

nn_status dg_report_emit_junit(const dg_report *report, FILE *out, nn_error *err)
{
    size_t failures = 0, errors = 0;
    for (size_t i = 0; i < report->check_count; i++) {
        dg_outcome outcome = report->checks[i].outcome;
        if (outcome == DG_OUTCOME_PASSED)
            continue;
        if (dg_outcome_is_error(outcome))
            errors++;
        else
            failures++;
    }
    double seconds = nonnegative(report->execution_time);
    char score[32], max_score[32];
    dg_format_points(score, sizeof score, report->score);
    dg_format_points(max_score, sizeof max_score, report->max_score);

    dg_buffer xml = { 0 };
    dg_buffer_puts(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    dg_buffer_printf(&xml,
                     "<testsuites name=\"dlgrade\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
                     " time=\"%.3f\">\n",
                     report->check_count, failures, errors, seconds);
    dg_buffer_puts(&xml, "  <testsuite name=\"");
    dg_buffer_append_markup(&xml, report->assignment[0] != '\0' ? report->assignment : "dlgrade",
                            true);
    dg_buffer_printf(&xml,
                     "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\"",
                     report->check_count, failures, errors, seconds);
    if (report->started_at[0] != '\0') {
        dg_buffer_puts(&xml, " timestamp=\"");
        dg_buffer_append_markup(&xml, report->started_at, true);
        dg_buffer_puts(&xml, "\"");
    }
    dg_buffer_puts(&xml, ">\n    <properties>\n");
    dg_buffer_puts(&xml, "      <property name=\"submission\" value=\"");
    dg_buffer_append_markup(&xml, report->submission, true);
    dg_buffer_printf(&xml, "\"/>\n      <property name=\"seed\" value=\"%llu\"/>\n", report->seed);
    dg_buffer_printf(&xml, "      <property name=\"score\" value=\"%s\"/>\n", score);
    dg_buffer_printf(&xml, "      <property name=\"max_score\" value=\"%s\"/>\n", max_score);
    dg_buffer_puts(&xml, "    </properties>\n");
    for (size_t i = 0; i < report->check_count; i++)
        append_testcase(&xml, &report->checks[i]);
    dg_buffer_puts(&xml, "  </testsuite>\n</testsuites>\n");

    nn_status status = dg_buffer_write(&xml, out, err);
    dg_buffer_release(&xml);
    return status;
}

nn_status dg_report_write_junit(const dg_report *report, const char *path, nn_error *err)
{
    return dg_report_write_with(report, path, dg_report_emit_junit, err);
}
