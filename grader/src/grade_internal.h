/*
 * grade_internal.h - what the grading engine's files share: the context of
 * one grading run and the helpers every check kind uses.
 */
#ifndef DG_GRADE_INTERNAL_H
#define DG_GRADE_INTERNAL_H

#include "grade.h"
#include "kernels.h"
#include "judge.h"
#include "request.h"
#include "protocol.h"

typedef enum dg_build_state {
    DG_BUILD_NOT_TRIED,
    DG_BUILD_BUSY,      /* a worker is building it; the others wait for it */
    DG_BUILD_OK,
    DG_BUILD_MISSING,   /* the file is not in the submission */
    DG_BUILD_FAILED,    /* it did not build: did not compile, was refused before
                         * linking, or did not link */
    DG_BUILD_ERROR      /* the grader could not try (disk, sandbox): see error */
} dg_build_state;

typedef struct dg_unit_build {
    dg_build_state state;
    char directory[1024];   /* the runner's build folder */
    char runner[1100];      /* host path of the built runner */
    char log_summary[256];  /* one line for the checks that cannot run */
    char *log;              /* compiler and linker messages for the report, owned, may be NULL */
    nn_error error;         /* DG_BUILD_ERROR: why */
} dg_unit_build;

/* What the workers of one grading share (grade.c): the queue of checks,
 * the builds' lock, the training token. */
typedef struct dg_grade_run dg_grade_run;

/* One worker's view of a grading. Several workers grade the checks of one
 * submission at once (--jobs), each with a copy of this context that
 * differs only in its slot: everything it points to is shared, and what
 * is written there is either guarded by the run's lock (the builds, see
 * ensure_built in grade.c) or belongs to one check (the check's result,
 * its entry of check_logs). */
typedef struct dg_grade_context {
    const dg_config *config;
    const dg_grade_options *options;
    const dg_sandbox_capabilities *sandbox;
    const char *workspace;          /* private temporary folder */
    const char *submission_root;    /* the unpacked submission */
    dg_sandbox_limits build_limits;
    /* What no sandboxed program may see although /usr is shown: the
     * datasets' folders, test labels included. NULL-terminated. */
    const char *const *hidden_paths;
    int slot;                       /* this worker's sandbox slot: no other worker uses it */
    dg_unit_build *builds;          /* [DG_MAX_UNITS] double-precision runners; final once
                                       ensure_built returned */
    dg_unit_build *float_builds;    /* [DG_MAX_UNITS] float objects for training */
    char **check_logs;              /* [DG_MAX_CHECKS] a check's own build log (the training
                                       runner's link), owned by the run */
    dg_grade_run *run;
} dg_grade_context;

double dg_seconds_now(void);

/* Builds a unit's runner ("double" or "float" kit). NN_OK whenever the
 * grader could try; the outcome is in build->state. */
nn_status dg_build_unit(dg_unit_build *build, dg_grade_context *context, int unit_index,
                        const char *precision, nn_error *err);
/* Links build->directory/runner from objects (names in that folder), the
 * harness, and the reference library without the objects of `units`
 * (indices into the config), so that nothing of theirs comes from the
 * reference. Sets build->state and log_summary. */
nn_status dg_link_runner(dg_unit_build *build, dg_grade_context *context, const char *precision,
                         const char *const *objects, const int *units, int unit_count,
                         nn_error *err);
/* Appends a build's messages under a "== UNIT (PRECISION build)" line to
 * *log (nothing when there are none). */
void dg_append_build_log(char **log, const char *unit, const char *precision, const char *errors,
                         const unsigned char *output, size_t output_size);

nn_status dg_sandbox_run_retrying(dg_sandbox_result *result, const dg_sandbox_request *request,
                                  const dg_sandbox_capabilities *sandbox, nn_error *err);
/* Sets check's outcome from a run that did not answer (crash, limit, exit
 * status other than 0) and returns true; false when the run exited 0 and
 * its output is to be judged. limits are the run's, for the message. */
bool dg_judge_run(dg_check_result *check, const dg_sandbox_result *run,
                  const dg_sandbox_limits *limits, const char *what);

/* The seed of check i: the run's seed mixed with the check's position, so
 * adding a check never changes another's inputs. */
unsigned long long dg_check_seed(const dg_grade_context *context, int check_index);

/* The limits a runner gets for a check's limits (Valgrind needs more). */
dg_sandbox_limits dg_runner_limits(const dg_sandbox_limits *limits, bool valgrind);
/* Runs a copy of build's runner with request bytes in a fresh folder of
 * the worker's slot (runs of one runner at once, as different uids,
 * cannot share a folder); the caller owns result. `valgrind` wraps it in
 * memcheck (for the memcheck kind). */
nn_status dg_run_runner(dg_sandbox_result *result, dg_grade_context *context,
                        const dg_unit_build *build, const void *request, size_t request_size,
                        const dg_sandbox_limits *limits, bool valgrind, nn_error *err);

/* Check kinds. Each fills check (score, outcome, output); an error return
 * means the grader itself could not go on. */
nn_status dg_check_compare(dg_check_result *check, dg_grade_context *context, int index,
                           nn_error *err);
nn_status dg_check_gradcheck(dg_check_result *check, dg_grade_context *context, int index,
                             nn_error *err);
nn_status dg_check_memcheck(dg_check_result *check, dg_grade_context *context, int index,
                            nn_error *err);
nn_status dg_check_train(dg_check_result *check, dg_grade_context *context, int index,
                         nn_error *err);
/* Before any student code runs: the train check's dataset opens and its
 * model spec fits it (input shape, one output per class). A failure is
 * the assignment's or the machine's (NN_ERR_FORMAT, exit status 2). */
nn_status dg_check_train_preflight(const dg_config *config, int index, nn_error *err);
/* The model kind (check_model.c): the submitted spec and weights,
 * evaluated by the grader itself. */
nn_status dg_check_model(dg_check_result *check, dg_grade_context *context, int index,
                         nn_error *err);
/* Before any student code runs: a submitted model that is there must load
 * (spec parsed, within the check's bounds, fitting the data; weights
 * intact and of its shapes). A broken one is bad input (NN_ERR_FORMAT,
 * exit status 2) whose message names the submission's file and the line
 * and column or byte offset; a missing one is left to the check (0
 * points). root is the unpacked submission, seed the check's. */
nn_status dg_check_model_preflight(const dg_config *config, int index, const char *root,
                                   unsigned long long seed, nn_error *err);

#endif
