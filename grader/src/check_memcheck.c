/*
 * check_memcheck.c - the memcheck kind: rerun other checks' requests under
 * Valgrind's memcheck; invalid reads and writes, uses of uninitialised
 * values, bad frees and memory definitely lost cost the points (all of
 * them: the check passes only when every rerun is clean).
 *
 * The verdict comes from Valgrind's XML (valgrind_xml.c), which reaches
 * the grader on a descriptor of its own (dg_run_runner); the program's
 * own standard error goes nowhere, and what it prints on standard output
 * only spoils its answer. Each finding is said with the student's file
 * and line ("linear.c:42: invalid write of size 4 in nn_linear_forward"),
 * merged when several read the same, at most MAX_LINES of them.
 *
 * The runner's answer is not judged again here: the rerun checks already
 * did that. Two things are read from it: whether it answered at all (a
 * run that exited 0 before answering checked nothing), and whether the
 * function was written (a stub returning NN_ERR_NOT_IMPLEMENTED touches
 * no memory, and a clean report of it must not earn points).
 *
 * Valgrind shares its process with the code it watches, so it is no
 * security boundary: a client request can silence it (see SECURITY.md).
 * What this check guarantees is that bytes the program writes, wherever
 * it writes them, cannot pass for a clean report: they either leave
 * Valgrind's findings in place or damage the report, and a damaged report
 * fails (valgrind_xml.h says why).
 */
#include "grade_internal.h"
#include "valgrind_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALGRIND_PATH "/usr/bin/valgrind"
/* Findings listed per rerun; the totals count them all. */
#define MAX_LINES 8

typedef enum rerun_verdict {
    RERUN_CLEAN,
    RERUN_NOT_IMPLEMENTED,
    RERUN_FAILED
} rerun_verdict;

/* Whether the rerun's answer at least has the response header: a run
 * that exited 0 before answering (exit(0) in a kernel) checked nothing. */
static bool answered(const dg_sandbox_result *run)
{
    dg_reader reader;
    dg_reader_init(&reader, run->output, run->output_size);
    return dg_get_u32(&reader) == DG_RESPONSE_MAGIC && !reader.failed;
}

/* True when the runner's answer says the function was not written: the
 * status of the first case (compare: one code; gradcheck: forward and
 * backward codes) right after the header. */
static bool answered_not_implemented(const dg_sandbox_result *run, bool gradcheck)
{
    dg_reader reader;
    dg_reader_init(&reader, run->output, run->output_size);
    if (dg_get_u32(&reader) != DG_RESPONSE_MAGIC || dg_get_u32(&reader) == 0)
        return false;
    int32_t first = dg_get_i32(&reader);
    int32_t second = gradcheck ? dg_get_i32(&reader) : NN_OK;
    return !reader.failed && (first == NN_ERR_NOT_IMPLEMENTED || second == NN_ERR_NOT_IMPLEMENTED);
}

/* "exit status 127", "signal 9", "the time limit": how a run ended. */
static void how_it_ended(char *out, size_t size, const dg_sandbox_result *run)
{
    if (run->status == DG_SANDBOX_EXITED)
        snprintf(out, size, "exit status %d", run->exit_code);
    else if (run->status == DG_SANDBOX_SIGNALED)
        snprintf(out, size, "signal %d", run->signal);
    else
        snprintf(out, size, "%s", dg_sandbox_status_name(run->status));
}

/* Lists what Valgrind found; true when it found anything. */
static bool list_findings(dg_check_result *check, const dg_check_config *rerun,
                          const dg_valgrind_report *xml, const char *const *files)
{
    if (xml->error_count == 0 && xml->leak_count == 0 && xml->dropped == 0)
        return false;
    char totals[200], lines[MAX_LINES * 420 + 64];
    dg_valgrind_totals(totals, sizeof totals, xml);
    dg_valgrind_list(lines, sizeof lines, xml, files, "  ", MAX_LINES);
    dg_check_printf(check, "%s: Valgrind found %s%s:\n%s", rerun->id, totals,
                    xml->status == DG_VALGRIND_COMPLETE ? "" : " before its report ended",
                    lines);
    return true;
}

/* Says why a report that is not complete cannot pass, for a run that
 * exited normally (one stopped at a limit already has its outcome). */
static void explain_incomplete(dg_check_result *check, const dg_check_config *rerun,
                               const dg_valgrind_report *xml)
{
    switch (xml->status) {
    case DG_VALGRIND_TRUNCATED:
        dg_check_printf(check, "%s: Valgrind's report stops early (%s) although the program "
                        "exited normally: did the code start another program, or write into "
                        "Valgrind's descriptor? Nothing was checked, so the check cannot "
                        "pass\n", rerun->id, xml->problem);
        break;
    case DG_VALGRIND_DAMAGED:
        dg_check_printf(check, "%s: Valgrind's report is damaged (%s): something other than "
                        "Valgrind wrote into its descriptor, or the code started a process or "
                        "program of its own; kernels must do neither, and the check cannot "
                        "pass\n", rerun->id, xml->problem);
        break;
    case DG_VALGRIND_TOO_LARGE:
        dg_check_printf(check, "%s: Valgrind's report is too large to read (%s); fix the "
                        "first errors and try again\n", rerun->id, xml->problem);
        break;
    case DG_VALGRIND_COMPLETE:
    case DG_VALGRIND_EMPTY:
        break;
    }
}

static rerun_verdict judge_rerun(dg_check_result *check, const dg_check_config *rerun,
                                 const char *unit_file, const dg_sandbox_result *run,
                                 const dg_sandbox_limits *used, const dg_valgrind_report *xml)
{
    const char *files[] = { unit_file, NULL };
    char what[128];
    snprintf(what, sizeof what, "check %s under Valgrind", rerun->id);
    if (run->status == DG_SANDBOX_ERROR) {
        dg_judge_run(check, run, used, what);   /* the grader's error, said so */
        return RERUN_FAILED;
    }
    if (xml->status == DG_VALGRIND_EMPTY) {
        /* Valgrind writes its preamble before the program starts: no
         * report at all means it never ran the program. */
        char ended[64];
        how_it_ended(ended, sizeof ended, run);
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "%s: Valgrind did not start (%s, no report): the grader's "
                        "problem, not yours\n", rerun->id, ended);
        return RERUN_FAILED;
    }
    /* A crash, a limit, an exit status other than 0. Valgrind's XML is
     * the run's standard error here: not shown raw, listed below. */
    dg_sandbox_result quiet = *run;
    quiet.errors = NULL;
    bool ended_badly = dg_judge_run(check, &quiet, used, what);
    bool found = list_findings(check, rerun, xml, files);
    if (ended_badly) {
        if (xml->has_fatal_signal) {
            char line[512];
            dg_valgrind_describe(line, sizeof line, &xml->fatal, files);
            dg_check_printf(check, "  %s\n", line);
        }
        return RERUN_FAILED;
    }
    if (xml->status != DG_VALGRIND_COMPLETE) {
        explain_incomplete(check, rerun, xml);
        return RERUN_FAILED;
    }
    if (found)
        return RERUN_FAILED;
    if (!answered(run)) {
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "%s: the runner exited before answering, so nothing was "
                        "checked\n", rerun->id);
        return RERUN_FAILED;
    }
    if (answered_not_implemented(run, rerun->kind == DG_CHECK_GRADCHECK)) {
        dg_check_printf(check, "%s: %s is not implemented yet, so there is nothing to run "
                        "under Valgrind\n", rerun->id, rerun->function);
        return RERUN_NOT_IMPLEMENTED;
    }
    dg_check_printf(check, "%s: no memory errors, no leaks\n", rerun->id);
    return RERUN_CLEAN;
}

nn_status dg_check_memcheck(dg_check_result *check, dg_grade_context *context, int index,
                            nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    if (access(VALGRIND_PATH, X_OK) != 0) {
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "Valgrind is not installed on the grading machine (no %s): the "
                        "grader's problem, not yours\n", VALGRIND_PATH);
        return NN_OK;
    }
    dg_valgrind_report *xml = malloc(sizeof *xml);
    if (xml == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    bool clean = true, not_implemented = false;
    nn_status status = NN_OK;
    for (int r = 0; status == NN_OK && r < config->reference_count; r++) {
        int target = config->references[r];
        const dg_check_config *rerun = &context->config->checks[target];
        dg_writer request;
        dg_writer_init(&request);
        unsigned long long seed = dg_check_seed(context, target);
        status = rerun->kind == DG_CHECK_COMPARE
                     ? dg_build_compare_request(&request, NULL, rerun, seed, err)
                     : dg_build_gradcheck_request(&request, NULL, NULL, rerun, seed, err);
        dg_sandbox_result run = { 0 };
        if (status == NN_OK)
            status = dg_run_runner(&run, context, &context->builds[rerun->unit], request.data,
                                   request.size, &config->limits, true, err);
        dg_writer_release(&request);
        if (status == NN_OK)
            status = dg_valgrind_parse(xml, run.errors, run.errors ? run.errors_size : 0, err);
        if (status == NN_OK) {
            dg_sandbox_limits used = dg_runner_limits(&config->limits, true);
            rerun_verdict verdict = judge_rerun(check, rerun,
                                                context->config->units[rerun->unit].file,
                                                &run, &used, xml);
            clean &= verdict != RERUN_FAILED;
            not_implemented |= verdict == RERUN_NOT_IMPLEMENTED;
            check->seconds += run.cpu_seconds;
        }
        dg_sandbox_result_release(&run);
    }
    free(xml);
    if (status != NN_OK)
        return status;
    if (clean && not_implemented) {
        check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
    } else if (clean) {
        check->outcome = DG_OUTCOME_PASSED;
        check->score = check->max_score;
    } else if (check->outcome != DG_OUTCOME_GRADER_ERROR && check->outcome != DG_OUTCOME_TIMEOUT
               && check->outcome != DG_OUTCOME_CRASHED && check->outcome != DG_OUTCOME_MEMORY) {
        check->outcome = DG_OUTCOME_FAILED;
    }
    return NN_OK;
}
