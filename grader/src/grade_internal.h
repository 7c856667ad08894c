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
    DG_BUILD_OK,
    DG_BUILD_MISSING,   /* the file is not in the submission */
    DG_BUILD_FAILED     /* it did not build: did not compile, was refused before
                         * linking, or did not link */
} dg_build_state;

typedef struct dg_unit_build {
    dg_build_state state;
    char directory[1024];   /* the runner's work folder */
    char runner[1100];      /* host path of the built runner */
    char log_summary[256];  /* one line for the checks that cannot run */
} dg_unit_build;

typedef struct dg_grade_context {
    const dg_config *config;
    const dg_grade_options *options;
    const dg_sandbox_capabilities *sandbox;
    dg_report *report;
    char workspace[512];          /* private temporary folder */
    char submission_root[600];    /* the unpacked submission */
    dg_sandbox_limits build_limits;
    /* What no sandboxed program may see although /usr is shown: the
     * datasets' folders, test labels included. NULL-terminated. */
    char hidden_storage[2][512];
    const char *hidden_paths[3];
    dg_unit_build builds[DG_MAX_UNITS];       /* double-precision runners */
    dg_unit_build float_builds[DG_MAX_UNITS]; /* float runners for training */
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
void dg_append_build_log(dg_grade_context *context, const char *unit, const char *precision,
                         const char *errors, const unsigned char *output, size_t output_size);

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

/* Runs a runner with request bytes; the caller owns result. `valgrind`
 * wraps it in memcheck (for the memcheck kind). */
/* The limits a runner gets for a check's limits (Valgrind needs more). */
dg_sandbox_limits dg_runner_limits(const dg_sandbox_limits *limits, bool valgrind);
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
