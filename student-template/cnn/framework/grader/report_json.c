/*
 * report_json.c - results.json in Gradescope's autograder format, so that
 * a course can run dlgrade as its Gradescope autograder unchanged.
 *
 * The format, as documented in "Autograder Specifications"
 * (https://gradescope-autograders.readthedocs.io/en/latest/specs/, section
 * "Output format"): a top-level object with score, max_score,
 * execution_time (seconds), output (text for the student), visibility and
 * stdout_visibility, extra_data (free-form), and tests, an array of
 * objects with name, score, max_score, status ("passed" or "failed"),
 * output, tags, number, visibility and extra_data (here the outcome
 * class: "timeout", "build error"...). Visibility is one of "visible",
 * "hidden", "after_due_date", "after_published" (the same four values the
 * gradescope-utils and gapper libraries use). A test marked "hidden" is
 * never shown to students; its output is kept here in full for the
 * instructor. No leaderboard.
 *
 * The same report gives the same bytes: keys in a fixed order
 * (JSON_PRESERVE_ORDER), reals with a fixed number of digits, and
 * started_at (in extra_data) the only field that varies between runs.
 * Every string goes through dg_utf8_sanitize (jansson refuses invalid
 * UTF-8) and is escaped by jansson.
 */
#include "report_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Twelve significant digits: a score of 7.1 prints as 7.1, not as the
 * 7.0999999999999996 that round-trip precision would give. */
#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

/* Builds an object key by key and remembers whether anything failed, so
 * that construction reads straight and is checked once. */
typedef struct builder {
    bool failed;
} builder;

static void put(builder *b, json_t *object, const char *key, json_t *value)
{
    /* json_object_set_new takes value (and frees it on failure); a NULL
     * value is an earlier allocation failure. */
    if (value == NULL || json_object_set_new(object, key, value) != 0)
        b->failed = true;
}

static void push(builder *b, json_t *array, json_t *value)
{
    if (value == NULL || json_array_append_new(array, value) != 0)
        b->failed = true;
}

static json_t *text(const char *value)
{
    char *clean = dg_utf8_sanitize(value);
    if (clean == NULL)
        return NULL;
    json_t *string = json_string(clean);
    free(clean);
    return string;
}

static json_t *seconds(double value)
{
    /* Milliseconds are plenty; the digits below are noise. */
    if (!isfinite(value) || value < 0.0)
        value = 0.0;
    return json_real(round(value * 1000.0) / 1000.0);
}

static const char *gradescope_visibility(dg_visibility visibility)
{
    switch (visibility) {
    case DG_VISIBLE_PUBLIC: return "visible";
    case DG_VISIBLE_HIDDEN: return "hidden";
    case DG_VISIBLE_AFTER_DUE: return "after_due_date";
    }
    return "hidden";
}

static json_t *test_object(builder *b, const dg_check_result *check)
{
    json_t *test = json_object();
    if (test == NULL) {
        b->failed = true;
        return NULL;
    }
    put(b, test, "name", text(dg_check_display_name(check)));
    put(b, test, "score", json_real(check->score));
    put(b, test, "max_score", json_real(check->max_score));
    /* Gradescope knows only passed and failed: partial credit is a
     * failed test with a non-zero score. */
    put(b, test, "status", json_string(check->outcome == DG_OUTCOME_PASSED ? "passed" : "failed"));
    bool has_output = check->output != NULL && check->output[0] != '\0';
    put(b, test, "output", text(has_output ? check->output : dg_outcome_name(check->outcome)));
    put(b, test, "visibility", json_string(gradescope_visibility(check->visibility)));
    json_t *tags = json_array();
    push(b, tags, text(check->kind));
    push(b, tags, text(check->unit));
    put(b, test, "tags", tags);
    put(b, test, "number", text(check->id));
    /* Gradescope keeps a test's extra_data without showing it: the
     * outcome class, which "status" folds into passed or failed. */
    json_t *extra = json_object();
    if (extra != NULL)
        put(b, extra, "outcome", json_string(dg_outcome_name(check->outcome)));
    put(b, test, "extra_data", extra);
    return test;
}

static nn_status check_finite(const dg_report *report, nn_error *err)
{
    /* json_real refuses NaN and infinities, and a score that is not a
     * number is the grader's bug: say which check, rather than write a
     * file Gradescope would reject. */
    if (!isfinite(report->score) || !isfinite(report->max_score))
        return nn_error_set(err, NN_ERR_NUMERIC, "the total score is not a finite number");
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        if (!isfinite(check->score) || !isfinite(check->max_score))
            return nn_error_set(err, NN_ERR_NUMERIC, "check '%s': score is not a finite number",
                                check->id);
    }
    return NN_OK;
}

nn_status dg_report_emit_json(const dg_report *report, FILE *out, nn_error *err)
{
    nn_status status = check_finite(report, err);
    if (status != NN_OK)
        return status;

    builder b = { false };
    json_t *root = json_object();
    if (root == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory building results.json");
    dg_buffer summary = { 0 };
    dg_report_summary(report, &summary);
    put(&b, root, "score", json_real(report->score));
    put(&b, root, "max_score", json_real(report->max_score));
    put(&b, root, "execution_time", seconds(report->execution_time));
    put(&b, root, "output", summary.failed ? NULL : text(summary.data));
    put(&b, root, "visibility", json_string("visible"));
    /* The grader's own stdout may mention hidden checks: instructors only. */
    put(&b, root, "stdout_visibility", json_string("hidden"));

    json_t *extra = json_object();
    if (extra != NULL) {
        put(&b, extra, "assignment", text(report->assignment));
        put(&b, extra, "submission", text(report->submission));
        /* As a string: a 64-bit seed does not survive JSON readers that
         * hold numbers as doubles (exact only to 2^53). */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", report->seed);
        put(&b, extra, "seed", json_string(seed));
        put(&b, extra, "started_at", text(report->started_at));
        if (report->replay[0] != '\0') {
            put(&b, extra, "grader_version", text(report->grader_version));
            put(&b, extra, "config_crc32", text(report->config_hash));
            put(&b, extra, "submission_crc32", text(report->submission_hash));
            put(&b, extra, "replay", text(report->replay));
        }
    }
    put(&b, root, "extra_data", extra);

    json_t *tests = json_array();
    if (tests != NULL)
        for (size_t i = 0; i < report->check_count; i++)
            push(&b, tests, test_object(&b, &report->checks[i]));
    put(&b, root, "tests", tests);
    dg_buffer_release(&summary);

    if (b.failed) {
        json_decref(root);
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory building results.json");
    }
    int written = json_dumpf(root, out, JSON_FLAGS);
    json_decref(root);
    if (written != 0 || fputc('\n', out) == EOF)
        return nn_error_set(err, NN_ERR_IO, "write error");
    return NN_OK;
}

nn_status dg_report_write_json(const dg_report *report, const char *path, nn_error *err)
{
    return dg_report_write_with(report, path, dg_report_emit_json, err);
}
