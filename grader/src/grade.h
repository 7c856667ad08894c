/*
 * grade.h - grading one submission against an assignment: unpacking it,
 * building each unit's runner in the sandbox, running every check and
 * filling the report. The grader process computes every expected value
 * with the reference implementation it links; student code only ever runs
 * in a sandboxed runner.
 */
#ifndef DG_GRADE_H
#define DG_GRADE_H

#include "config.h"
#include "report.h"
#include "sandbox.h"

#include <stdbool.h>

typedef struct dg_grade_options {
    bool public_only;              /* run only public checks (CI, students) */
    unsigned long long seed;       /* inputs of every check derive from it */
    int slot;                      /* sandbox slot (uid) for parallel grading */
    const char *kit_directory;     /* holds double/runner-kit and float/runner-kit */
    bool verbose;                  /* progress lines on stderr */
} dg_grade_options;

/* Grades submission (a folder or archive) into report. Returns NN_OK when
 * grading happened (whatever the scores); an error only for bad input
 * (a malformed archive: NN_ERR_FORMAT/ARGUMENT) or when the grader itself
 * cannot work (sandbox, disk: other statuses). */
nn_status dg_grade(dg_report *report, const dg_config *config, const char *submission,
                   const dg_grade_options *options, const dg_sandbox_capabilities *sandbox,
                   nn_error *err);

#endif
