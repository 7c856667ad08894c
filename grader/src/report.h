/*
 * report.h - the outcome of grading one submission, and the writers of
 * its four reports: results.json (Gradescope's autograder schema),
 * junit.xml, report.md and report.html (with training curves as inline SVG).
 *
 * The grader fills a dg_report as checks finish; the writers only read it.
 * Every file is written to a temporary name in the output folder and
 * renamed into place, so a reader never sees half a report.
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
    DG_OUTCOME_COMPILE_ERROR,   /* the unit did not compile */
    DG_OUTCOME_CRASHED,         /* signal, bad exit, garbage output */
    DG_OUTCOME_TIMEOUT,         /* CPU or wall limit */
    DG_OUTCOME_MEMORY,          /* memory limit */
    DG_OUTCOME_GRADER_ERROR     /* the grader or its sandbox broke: not the student's fault */
} dg_outcome;

/* One point of a training curve. */
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
    char started_at[32];     /* ISO 8601 UTC; the only field that varies run to run */
    double execution_time;   /* seconds, whole grading */
    double score;
    double max_score;
    size_t check_count;
    dg_check_result *checks; /* owned */
    char *build_log;         /* compiler messages per unit, owned, may be NULL */
    char *sandbox_notes;     /* which isolation mechanisms were in force, owned */
} dg_report;

/* Appends a check, returning a pointer to it (zeroed except the strings
 * the caller then fills); NULL when out of memory. */
dg_check_result *dg_report_add_check(dg_report *report);
/* Appends printf-style text to a check's output (owned string grows). */
void dg_check_printf(dg_check_result *check, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Sums score and max_score over the checks. */
void dg_report_total(dg_report *report);
void dg_report_release(dg_report *report);

const char *dg_outcome_name(dg_outcome outcome);
const char *dg_visibility_name(dg_visibility visibility);

/* Writes results.json, junit.xml, report.md and report.html into
 * directory (created if missing). public_view leaves hidden checks out of
 * the student-facing files (report.md, report.html, junit.xml) while
 * results.json keeps them with Gradescope's own visibility field. */
nn_status dg_report_write_all(const dg_report *report, const char *directory, nn_error *err);

nn_status dg_report_write_json(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_junit(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_markdown(const dg_report *report, const char *path, nn_error *err);
nn_status dg_report_write_html(const dg_report *report, const char *path, nn_error *err);

#endif
