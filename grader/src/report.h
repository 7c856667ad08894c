/*
 * report.h - the outcome of grading one submission, and the writers of
 * its four reports: results.json (Gradescope's autograder schema),
 * junit.xml, report.md and report.html (with training curves as inline SVG).
 *
 * The grader fills a dg_report as checks finish; the writers only read it.
 * Every file is written to a temporary name in the output folder and
 * renamed into place, so a reader never sees half a report.
 *
 * Strings in the report may hold anything a submission printed: quotes,
 * markup, control bytes, invalid UTF-8. The writers make them safe for
 * each format (invalid UTF-8 becomes U+FFFD everywhere; JSON escaping is
 * jansson's; XML, HTML and Markdown escape markup and drop the control
 * characters XML 1.0 forbids). The writers never print the output (nor the
 * training curve) of a hidden check in the student-facing files (junit.xml,
 * report.md, report.html); they name it, with its points and outcome.
 * results.json keeps everything, marked "hidden" for Gradescope.
 *
 * Numbers are printed in the C locale's format; dlgrade never calls
 * setlocale.
 */
#ifndef DG_REPORT_H
#define DG_REPORT_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum dg_visibility {
    DG_VISIBLE_PUBLIC,     /* shown to students at once */
    DG_VISIBLE_HIDDEN,     /* never shown to students */
    DG_VISIBLE_AFTER_DUE   /* shown after the due date */
} dg_visibility;

/* How a check ended. "The submission failed" and "the grader broke" never
 * share an outcome (STYLE.md). */
typedef enum dg_outcome {
    DG_OUTCOME_PASSED,          /* full points */
    DG_OUTCOME_PARTIAL,         /* some points (thresholds scaled) */
    DG_OUTCOME_FAILED,          /* wrong values: 0 points */
    DG_OUTCOME_NOT_IMPLEMENTED, /* the stub still returns NN_ERR_NOT_IMPLEMENTED */
    DG_OUTCOME_BUILD_ERROR,     /* the unit did not build: compile errors, refused by the
                                 * inspection before linking, or a link failure */
    DG_OUTCOME_CRASHED,         /* signal, bad exit, garbage output */
    DG_OUTCOME_TIMEOUT,         /* CPU or wall limit */
    DG_OUTCOME_MEMORY,          /* memory limit */
    DG_OUTCOME_GRADER_ERROR     /* the grader or its sandbox broke: not the student's fault */
} dg_outcome;

/* One point of a training curve. A value that was not measured (or became
 * NaN or infinite) is NaN; the plots leave it out. Accuracies are fractions
 * in [0, 1]. */
typedef struct dg_curve_point {
    int epoch;
    double train_loss;
    double train_accuracy;
    double test_accuracy;
} dg_curve_point;

typedef struct dg_check_result {
    char id[64];            /* from assignment.yaml, unique */
    char name[160];         /* shown to students: "linear_backward: gradients" */
    char kind[16];          /* compare, gradcheck, train, memcheck, quiz */
    char unit[64];          /* the unit (source file) the check belongs to */
    double score;
    double max_score;
    dg_visibility visibility;
    dg_outcome outcome;
    char *output;           /* what the student reads, owned (malloc'd), may be NULL */
    double seconds;         /* time the check took, CPU where measured */
    size_t curve_count;
    dg_curve_point *curve;  /* owned, may be NULL */
} dg_check_result;

typedef struct dg_report {
    char assignment[64];
    char submission[512];
    unsigned long long seed;
    char started_at[32];     /* ISO 8601 UTC; with the timings, the only fields that vary run to run */
    double execution_time;   /* seconds, whole grading */
    double score;
    double max_score;
    size_t check_count;
    dg_check_result *checks; /* owned */
    char *build_log;         /* compiler messages of the units that failed to compile, owned, may be NULL */
    char *sandbox_notes;     /* which isolation mechanisms were in force, owned, may be NULL */
    /* What reproduces this grading: the grader's version, CRC-32s of the
     * assignment.yaml and of the graded files of the submission, and the
     * one command that replays it. Empty when unknown. */
    char grader_version[48];
    char config_hash[16];
    char submission_hash[16];
    char replay[1200];
} dg_report;

/* A report starts zeroed: `dg_report report = { 0 };`. */

/* Appends a check and returns a pointer to it, valid until the next call
 * (the array may move); NULL when out of memory. The check is zeroed,
 * except that it starts hidden and with DG_OUTCOME_GRADER_ERROR, so that a
 * check the grader forgets to finish neither shows nor passes. */
dg_check_result *dg_report_add_check(dg_report *report);
/* Appends printf-style text to a check's output (owned string grows).
 * Out of memory, the text is dropped: a report with a shorter message is
 * better than none. */
void dg_check_printf(dg_check_result *check, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Sums score and max_score over the checks. */
void dg_report_total(dg_report *report);
/* Frees everything the report owns and zeroes it; accepts NULL. */
void dg_report_release(dg_report *report);

/* "passed", "partial", "failed", "not implemented", "build error",
 * "crashed", "timeout", "memory limit", "grader error". */
const char *dg_outcome_name(dg_outcome outcome);
/* "public", "hidden", "after_due" (the assignment.yaml spellings). */
const char *dg_visibility_name(dg_visibility visibility);
/* True for the outcomes that are the submission's failure to run (compile
 * error, crash, timeout, memory) or the grader's error: junit.xml calls
 * them <error>, the rest of the non-passing outcomes <failure>. */
bool dg_outcome_is_error(dg_outcome outcome);

/* Writes results.json, junit.xml, report.md and report.html into
 * directory, creating it and its parents if missing. All four are first
 * written to temporary files in directory, then renamed into place, so a
 * failure while writing leaves the previous reports (if any) untouched
 * and no temporary file behind; the error names the file that failed.
 * Every check in the report appears in every file; see the top of this
 * file for what a hidden check shows. Errors: NN_ERR_IO (folder or file),
 * NN_ERR_NUMERIC (a score that is NaN or infinite: the grader's bug, named
 * by check id), NN_ERR_MEMORY. */
nn_status dg_report_write_all(const dg_report *report, const char *directory, nn_error *err);

/* One report each, written atomically (temporary file, then rename) to
 * path, whose folder must exist. */
nn_status dg_report_write_json(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_junit(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_markdown(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_html(const dg_report *report, const char *path, nn_error *err);

#endif
