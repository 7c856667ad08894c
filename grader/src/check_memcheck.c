/*
 * check_memcheck.c - the memcheck kind: rerun other checks' requests under
 * Valgrind's memcheck; invalid reads and writes, uses of uninitialised
 * values and memory definitely lost cost the points.
 *
 * Only the verdict is taken from Valgrind's report (its summary lines and
 * its first error with the student's file and line); the runner's answer is
 * not judged again here: the rerun checks already did that. One thing is
 * read from the answer: whether the function ran at all. A stub that
 * returns NN_ERR_NOT_IMPLEMENTED touches no memory, and a clean Valgrind
 * report of it must not earn points.
 *
 * Valgrind shares its process with the code it watches, so it is no
 * security boundary: a program that means to can silence it (client
 * requests, writing into its log descriptor). What this check guarantees
 * is that printing cannot pass for Valgrind's verdict (see SECURITY.md).
 */
#include "grade_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the last "ERROR SUMMARY: N errors" and "definitely lost: B
 * bytes" among the lines of Valgrind's main process ("==PID== ...", PID
 * from the log's first line). The program can write into Valgrind's log
 * descriptor; lines it writes before exiting come before the real
 * summary, which Valgrind prints last, so the last one is Valgrind's. */
static void summarize(const char *log, long *errors, long *lost_bytes)
{
    *errors = -1;
    *lost_bytes = 0;
    long pid = -1;
    if (strncmp(log, "==", 2) == 0)
        pid = strtol(log + 2, NULL, 10);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "==%ld== ", pid);
    for (const char *line = log; pid > 0 && *line != '\0';) {
        size_t length = strcspn(line, "\n");
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            const char *text = line + strlen(prefix);
            while (*text == ' ')
                text++;
            if (strncmp(text, "ERROR SUMMARY: ", 15) == 0) {
                *errors = strtol(text + 15, NULL, 10);
            } else if (strncmp(text, "definitely lost: ", 17) == 0) {
                char digits[32];
                size_t n = 0;
                for (const char *c = text + 17; *c && *c != ' ' && *c != '\n' && n < 31; c++)
                    if (*c != ',')
                        digits[n++] = *c;
                digits[n] = '\0';
                *lost_bytes = strtol(digits, NULL, 10);
            }
        }
        line += length;
        if (*line == '\n')
            line++;
    }
}

/* Whether the rerun's answer at least has the response header: a run
 * that exited 0 before answering (exit(0) in a kernel) checked nothing. */
static bool answered(const dg_sandbox_result *run)
{
    dg_reader reader;
    dg_reader_init(&reader, run->output, run->output_size);
    return dg_get_u32(&reader) == DG_RESPONSE_MAGIC && !reader.failed;
}

/* The first error's kind ("Invalid write of size 4") and the first stack
 * line in a source file of the submission ("linear.c:42"). */
static void first_error(char *out, size_t size, const char *log, const char *unit_file)
{
    out[0] = '\0';
    static const char *const kinds[] = { "Invalid write", "Invalid read", "Conditional jump",
                                         "Use of uninitialised", "Invalid free",
                                         "Mismatched free", "Source and destination overlap",
                                         "bytes in", NULL };
    const char *best = NULL;
    for (int k = 0; kinds[k] != NULL; k++) {
        const char *at = strstr(log, kinds[k]);
        if (at != NULL && (best == NULL || at < best))
            best = at;
    }
    if (best == NULL)
        return;
    size_t length = strcspn(best, "\n");
    char kind[160];
    snprintf(kind, sizeof kind, "%.*s", (int)(length < 159 ? length : 159), best);
    const char *place = strstr(best, unit_file);
    char line[96] = "";
    if (place != NULL) {
        size_t n = strcspn(place, ")\n");
        snprintf(line, sizeof line, "%.*s: ", (int)(n < 95 ? n : 95), place);
    }
    snprintf(out, size, "%s%s", line, kind);
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

nn_status dg_check_memcheck(dg_check_result *check, dg_grade_context *context, int index,
                            nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    bool clean = true, not_implemented = false;
    for (int r = 0; r < config->reference_count; r++) {
        int target = config->references[r];
        const dg_check_config *rerun = &context->config->checks[target];
        dg_writer request;
        dg_writer_init(&request);
        unsigned long long seed = dg_check_seed(context, target);
        nn_status status = rerun->kind == DG_CHECK_COMPARE
                               ? dg_build_compare_request(&request, NULL, rerun, seed, err)
                               : dg_build_gradcheck_request(&request, NULL, NULL, rerun, seed,
                                                            err);
        dg_sandbox_result run = { 0 };
        if (status == NN_OK)
            status = dg_run_runner(&run, context, &context->builds[rerun->unit], request.data,
                                   request.size, &config->limits, true, err);
        dg_writer_release(&request);
        if (status != NN_OK)
            return status;
        char what[128];
        snprintf(what, sizeof what, "check %s under Valgrind", rerun->id);
        dg_sandbox_limits used = dg_runner_limits(&config->limits, true);
        if (dg_judge_run(check, &run, &used, what)) {
            /* a crash, a limit, or an exit status other than 0 (Valgrind
             * itself failing exits 1) */
            clean = false;
        } else if (!answered(&run)) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "%s: the runner exited before answering, so nothing was "
                            "checked\n", rerun->id);
            clean = false;
        } else if (answered_not_implemented(&run, rerun->kind == DG_CHECK_GRADCHECK)) {
            dg_check_printf(check, "%s: %s is not implemented yet, so there is nothing to "
                            "run under Valgrind\n", rerun->id, rerun->function);
            not_implemented = true;
        } else {
            long errors, lost;
            summarize(run.errors ? run.errors : "", &errors, &lost);
            if (errors < 0) {
                check->outcome = DG_OUTCOME_GRADER_ERROR;
                dg_check_printf(check, "%s: Valgrind printed no summary (is valgrind "
                                "installed?)\n", rerun->id);
                clean = false;
            } else if (errors > 0 || lost > 0) {
                char first[300];
                first_error(first, sizeof first, run.errors,
                            context->config->units[rerun->unit].file);
                dg_check_printf(check, "%s: %s (%ld error%s, %ld bytes definitely lost)\n",
                                rerun->id, first[0] ? first : "memory errors", errors,
                                errors == 1 ? "" : "s", lost);
                clean = false;
            } else {
                dg_check_printf(check, "%s: no memory errors, no leaks\n", rerun->id);
            }
        }
        check->seconds += run.cpu_seconds;
        dg_sandbox_result_release(&run);
    }
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
