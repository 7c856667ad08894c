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
    int slot;                      /* first sandbox slot: worker k runs as slot + k */
    int jobs;                      /* checks graded at once (workers); 0 reads as 1 */
    const char *kit_directory;     /* holds double/runner-kit and float/runner-kit */
    bool verbose;                  /* progress lines on stderr */
} dg_grade_options;

/* At most this many workers per grading. */
#define DG_GRADE_MAX_JOBS 64

/* Grades submission (a folder or archive) into report. With jobs > 1,
 * independent checks run at once, each worker in its own sandbox slot
 * (options->slot + k); a unit is still built once per precision, at most
 * one train check runs at a time, and the report (its checks in the
 * config's order, the build log in the order a one-worker grading gives)
 * does not depend on the number of workers or on timing.
 *
 * Returns NN_OK when grading happened (whatever the scores); an error only
 * for bad input (a malformed archive: NN_ERR_FORMAT/ARGUMENT; a dataset the
 * assignment names) or when the grader itself cannot work (sandbox, disk).
 * Statuses alone do not tell these apart (a file the grader cannot write
 * is NN_ERR_IO, and so is a submission it cannot read): *grader_fault
 * (when not NULL) is set true for an error that came while the checks ran,
 * after the input was found good, which is the grader's (exit status 3). */
nn_status dg_grade(dg_report *report, const dg_config *config, const char *submission,
                   const dg_grade_options *options, const dg_sandbox_capabilities *sandbox,
                   bool *grader_fault, nn_error *err);

/* What dg_grade checks before any student code runs: the datasets and
 * model specs of the train checks it would run. A failure is the
 * assignment's or the machine's (NN_ERR_FORMAT: exit status 2), and err
 * names the check. */
nn_status dg_grade_preflight(const dg_config *config, bool public_only, nn_error *err);

/* Unpacks submission into a temporary folder (removed before returning)
 * and fills what identifies a grading in report: submission_hash,
 * config_hash, grader_version. Errors as dg_grade's for a bad archive. */
nn_status dg_grade_identify(dg_report *report, const dg_config *config, const char *submission,
                            nn_error *err);

#endif
