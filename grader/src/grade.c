/*
 * grade.c - the grading engine: workspace, unit builds, and the compare,
 * gradcheck and memcheck checks (train and quiz have their own files).
 *
 * Every check follows the same path: the grader draws the inputs from the
 * run's seed, computes what the reference gives, sends the same inputs to
 * the unit's runner in the sandbox, and judges what comes back. What the
 * runner prints on stderr is shown to the student (bounded); what it exits
 * with only decides between "answered" and "crashed".
 *
 * Several checks at once (--jobs N): N workers, threads of the grader,
 * take checks from one queue. Worker k runs everything in sandbox slot
 * options->slot + k (uid 60000 + slot), in a run folder of its own, so no
 * two runs share a uid or a folder. What the workers share is guarded or
 * split: a unit's build (per precision) is made once, by the first worker
 * that needs it, while the others wait on a condition variable; each
 * check writes only its own, preallocated entry of the report; the build
 * messages are kept per build and joined in a fixed order at the end; at
 * most one train check runs at a time. The grader's own computations are
 * thread-safe: every check draws its inputs from its own seeded generator
 * (dg_check_seed), the reference kernels keep no global state (the
 * convolution engine's scratch space is per call, nn_parallel_for starts
 * and joins its threads per call), and OpenBLAS is kept to one thread
 * (grade_command.c). The sandbox's child makes only async-signal-safe
 * calls between fork and exec, as a threaded parent requires, and its
 * PR_SET_PDEATHSIG follows the worker that started it, which waits for
 * it to end. A ThreadSanitizer build grading the cnn and fc-networks
 * samples with --jobs 3 reported nothing.
 */
#include "grade.h"

#include "files.h"
#include "grade_internal.h"
#include "inspect.h"
#include "kernel_call.h"
#include "kernels.h"
#include "protocol.h"
#include "quiz.h"
#include "submission.h"

#ifndef DLGRADE_VERSION
#define DLGRADE_VERSION "unknown"
#endif

#include "nn/fashion_mnist.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>


double dg_seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* ---- workspace and builds ------------------------------------------------- */

static nn_status make_directory(const char *path, nn_error *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return NN_OK;
}

static nn_status copy_file(const char *from, const char *to, nn_error *err)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot read: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return nn_error_set(err, NN_ERR_IO, "%s: cannot write: %s", to, strerror(errno));
    }
    char buffer[65536];
    size_t got;
    bool failed = false;
    while ((got = fread(buffer, 1, sizeof buffer, in)) > 0)
        failed |= fwrite(buffer, 1, got, out) != got;
    failed |= ferror(in) != 0;
    fclose(in);
    failed |= fclose(out) != 0;
    return failed ? nn_error_set(err, NN_ERR_IO, "copying %s to %s failed", from, to) : NN_OK;
}

/* Shell-quotes a path for the build command (paths are ours, but a
 * folder name with a space must not split). */
static void quoted(char *out, size_t size, const char *text)
{
    size_t used = 0;
    if (used < size - 1)
        out[used++] = '\'';
    for (const char *c = text; *c && used < size - 5; c++) {
        if (*c == '\'') {
            memcpy(out + used, "'\\''", 4);
            used += 4;
        } else {
            out[used++] = *c;
        }
    }
    out[used++] = '\'';
    out[used] = '\0';
}


nn_status dg_sandbox_run_retrying(dg_sandbox_result *result, const dg_sandbox_request *request,
                                  const dg_sandbox_capabilities *sandbox, nn_error *err)
{
    /* A sandbox that fails to start is retried once, then it is the
     * grader's error: never a zero for the student (SANDBOX.md). */
    for (int attempt = 0; attempt < 2; attempt++) {
        nn_status status = dg_sandbox_run(result, request, sandbox, err);
        if (status != NN_OK)
            return status;
        if (result->status != DG_SANDBOX_ERROR)
            return NN_OK;
        if (attempt == 0)
            dg_sandbox_result_release(result);
    }
    return nn_error_set(err, NN_ERR_IO, "the sandbox failed to start twice: %s",
                        result->message);
}

/* The kit's one-line files (cflags, libs); NULL when missing. */
static char *kit_file(const char *kit, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", kit, name);
    nn_error ignored;
    char *text = dg_read_file(path, 4096, NULL, &ignored);
    if (text != NULL)
        text[strcspn(text, "\n")] = '\0';
    return text;
}

/* The summary of a failed link: the first of the units' own functions the
 * linker could not find, said plainly, or a pointer to the log. */
static void link_failure_summary(dg_unit_build *build, const dg_grade_context *context,
                                 const int *units, int unit_count, const char *log)
{
    for (int u = 0; u < unit_count; u++) {
        const dg_unit *unit = &context->config->units[units[u]];
        for (int f = 0; f < unit->function_count; f++) {
            char needle[128];
            snprintf(needle, sizeof needle, "undefined reference to `%s'", unit->functions[f]);
            if (log != NULL && strstr(log, needle) != NULL) {
                snprintf(build->log_summary, sizeof build->log_summary,
                         "%s does not define %s (the link failed: see the build log)",
                         unit->file, unit->functions[f]);
                return;
            }
        }
    }
    snprintf(build->log_summary, sizeof build->log_summary,
             "the runner did not link (a function missing, or defined twice?): see the "
             "build log");
}

/* Appends " 'NAME.o'" to a list of archive members. */
static void add_member(char *members, size_t size, const char *name)
{
    char member[80], member_quoted[200];
    snprintf(member, sizeof member, "%s.o", name);
    quoted(member_quoted, sizeof member_quoted, member);
    strncat(members, " ", size - strlen(members) - 1);
    strncat(members, member_quoted, size - strlen(members) - 1);
}

nn_status dg_link_runner(dg_unit_build *build, dg_grade_context *context, const char *precision,
                         const char *const *objects, const int *units, int unit_count,
                         nn_error *err)
{
    char kit[1024], kit_quoted[1100];
    snprintf(kit, sizeof kit, "%s/%s/runner-kit", context->options->kit_directory, precision);
    quoted(kit_quoted, sizeof kit_quoted, kit);
    char *libs = kit_file(kit, "libs");
    char *solutions = kit_file(kit, "lib/solution-units");
    if (libs == NULL || solutions == NULL) {
        free(libs);
        free(solutions);
        return nn_error_set(err, NN_ERR_IO, "the runner kit %s is incomplete (run make)", kit);
    }
    /* What the runner may hold of the reference: all of it except the
     * graded units' objects (a function missing from the submission must
     * be an undefined reference, never the reference's code in its place)
     * and the solutions of units the assignment does not provide, which
     * come as stubs, as in the student template: the sandbox never holds
     * a solution the students were not given. */
    char graded[2048] = "", withheld[2048] = "";
    for (int u = 0; u < unit_count; u++) {
        const char *file = context->config->units[units[u]].file;
        char stem[64];
        snprintf(stem, sizeof stem, "%.*s", (int)strlen(file) - 2, file);
        add_member(graded, sizeof graded, stem);
    }
    for (char *save = NULL, *unit = strtok_r(solutions, " \n", &save); unit != NULL;
         unit = strtok_r(NULL, " \n", &save)) {
        bool provided = false;
        for (int p = 0; p < context->config->provided_count; p++)
            provided |= strcmp(context->config->provided[p], unit) == 0;
        if (!provided)
            add_member(withheld, sizeof withheld, unit);
    }
    free(solutions);
    char object_list[1024] = "";
    for (int i = 0; objects[i] != NULL; i++) {
        char object_quoted[200];
        quoted(object_quoted, sizeof object_quoted, objects[i]);
        strncat(object_list, " ", sizeof object_list - strlen(object_list) - 1);
        strncat(object_list, object_quoted, sizeof object_list - strlen(object_list) - 1);
    }
    char command[12288];
    snprintf(command, sizeof command,
             "cp %s/lib/libnnref.a others.a && cp %s/lib/libnnstub.a stubs.a && "
             "chmod u+w others.a stubs.a && ar d others.a%s%s && ar d stubs.a%s && "
             "cc -o runner %s/lib/runner.o%s -Wl,--start-group %s/lib/librunner.a others.a "
             "stubs.a -Wl,--end-group %s && rm -f others.a stubs.a",
             kit_quoted, kit_quoted, graded, withheld, graded, kit_quoted, object_list,
             kit_quoted, libs);
    free(libs);
    const char *argv[] = { "/bin/sh", "-c", command, NULL };
    const char *read_only[] = { kit, NULL };
    dg_sandbox_request request = {
        .argv = argv,
        .work_directory = build->directory,
        .read_only_paths = read_only,
        .hidden_paths = context->hidden_paths,
        .slot = context->slot,
        .limits = context->build_limits,
    };
    dg_sandbox_result result;
    nn_status status = dg_sandbox_run_retrying(&result, &request, context->sandbox, err);
    if (status != NN_OK)
        return status;
    dg_append_build_log(&build->log,
                        unit_count == 1 ? context->config->units[units[0]].name
                                        : "training runner",
                        precision, result.errors, result.output, result.output_size);
    if (result.status == DG_SANDBOX_EXITED && result.exit_code == 0) {
        build->state = DG_BUILD_OK;
        snprintf(build->runner, sizeof build->runner, "%s/runner", build->directory);
    } else {
        build->state = DG_BUILD_FAILED;
        link_failure_summary(build, context, units, unit_count, result.errors);
    }
    dg_sandbox_result_release(&result);
    return NN_OK;
}

/* Inspects build->directory/unit.o (inspect.h): the unit may define its
 * own functions, those the reference's file of the same name defines
 * (read from the kit's libnnref.a), and call the library's API (the kit's
 * headers) and the C functions a layer needs, never the reference-only
 * code the kit lists (lib/reference-only, which it does not hold either).
 * A refusal fails the build like a compile error: the first problem is
 * the checks' message, all of them go to the build log. */
static nn_status inspect_unit(bool *accepted, dg_unit_build *build, const dg_unit *unit,
                              const char *kit, const char *precision, nn_error *err)
{
    *accepted = false;
    dg_inspect_rules rules = { .file = unit->file };
    char path[1300], member[80];
    snprintf(path, sizeof path, "%s/include/nn", kit);
    nn_status status = dg_inspect_load_api(&rules.api, path, err);
    if (status == NN_OK) {
        snprintf(path, sizeof path, "%s/lib/reference-only", kit);
        status = dg_inspect_load_list(&rules.reference_only, path, err);
        if (status != NN_OK)
            nn_error_prefix(err, "the runner kit is incomplete (run make)");
    }
    for (int f = 0; status == NN_OK && f < unit->function_count; f++)
        status = dg_names_add(&rules.own, unit->functions[f], err);
    if (status == NN_OK) {
        snprintf(path, sizeof path, "%s/lib/libnnref.a", kit);
        snprintf(member, sizeof member, "%.*s.o", (int)strlen(unit->file) - 2, unit->file);
        status = dg_inspect_archive_definitions(&rules.own, path, member, err);
    }
    dg_inspection inspection = { 0 };
    if (status == NN_OK) {
        snprintf(path, sizeof path, "%s/unit.o", build->directory);
        status = dg_inspect_object(&inspection, path, &rules, err);
    }
    dg_inspect_rules_release(&rules);
    if (status != NN_OK) {
        nn_error_prefix(err, "inspecting %s", unit->file);
        return status;
    }
    *accepted = !inspection.refused;
    if (inspection.refused) {
        build->state = DG_BUILD_FAILED;
        if (inspection.problem_count == 1)
            snprintf(build->log_summary, sizeof build->log_summary, "%s", inspection.first);
        else
            snprintf(build->log_summary, sizeof build->log_summary,
                     "%s (and %d more problem%s: see the build log)", inspection.first,
                     inspection.problem_count - 1, inspection.problem_count > 2 ? "s" : "");
        /* Every problem, indented under one line that says what happened. */
        size_t size = 2 * strlen(inspection.details) + 128, used = 0;
        char *log = malloc(size);
        if (log != NULL) {
            used = (size_t)snprintf(log, size, "%s was refused before linking:\n", unit->file);
            for (const char *line = inspection.details; *line != '\0';) {
                size_t length = strcspn(line, "\n");
                used += (size_t)snprintf(log + used, size - used, "  %.*s\n", (int)length, line);
                line += length + (line[length] == '\n');
            }
            dg_append_build_log(&build->log, unit->name, precision, log, NULL, 0);
        }
        free(log);
    }
    dg_inspection_release(&inspection);
    return NN_OK;
}

nn_status dg_build_unit(dg_unit_build *build, dg_grade_context *context, int unit_index,
                        const char *precision, nn_error *err)
{
    const dg_unit *unit = &context->config->units[unit_index];
    memset(build, 0, sizeof *build);
    snprintf(build->directory, sizeof build->directory, "%s/build-%s-%s", context->workspace,
             unit->name, precision);
    nn_status status = make_directory(build->directory, err);
    if (status != NN_OK)
        return status;
    char source[1024], copy[1200];
    nn_error missing;
    if (dg_submission_find(source, sizeof source, context->submission_root, unit->file,
                           &missing) != NN_OK) {
        build->state = DG_BUILD_MISSING;
        snprintf(build->log_summary, sizeof build->log_summary,
                 "%s is not in the submission", unit->file);
        return NN_OK;
    }
    snprintf(copy, sizeof copy, "%s/%s", build->directory, unit->file);
    status = copy_file(source, copy, err);
    if (status != NN_OK)
        return status;

    char kit[1024], include[1100], include_quoted[1200], file_quoted[200];
    snprintf(kit, sizeof kit, "%s/%s/runner-kit", context->options->kit_directory, precision);
    snprintf(include, sizeof include, "%s/include", kit);
    quoted(include_quoted, sizeof include_quoted, include);
    quoted(file_quoted, sizeof file_quoted, unit->file);
    char *cflags = kit_file(kit, "cflags");
    if (cflags == NULL)
        return nn_error_set(err, NN_ERR_IO, "the runner kit %s is incomplete (run make)", kit);
    /* The compiler sees the kit's headers and nothing else of it: what a
     * source can make the compiler read (#include, the assembler's
     * .incbin) never reaches the compiled reference. Warnings are shown,
     * not fatal. */
    char command[8192];
    snprintf(command, sizeof command, "cc %s -g -Wall -Wextra -I%s -c %s -o unit.o", cflags,
             include_quoted, file_quoted);
    free(cflags);
    const char *argv[] = { "/bin/sh", "-c", command, NULL };
    const char *read_only[] = { include, NULL };
    dg_sandbox_request request = {
        .argv = argv,
        .work_directory = build->directory,
        .read_only_paths = read_only,
        .hidden_paths = context->hidden_paths,
        .slot = context->slot,
        .limits = context->build_limits,
    };
    dg_sandbox_result result;
    status = dg_sandbox_run_retrying(&result, &request, context->sandbox, err);
    if (status != NN_OK)
        return status;
    /* Compiler messages go to the report, cut to a readable length. */
    dg_append_build_log(&build->log, unit->name, precision, result.errors, result.output,
                        result.output_size);
    bool compiled = result.status == DG_SANDBOX_EXITED && result.exit_code == 0;
    if (!compiled) {
        build->state = DG_BUILD_FAILED;
        /* Which time limit fired depends on the machine's load: the
         * summary, which the reports show, says only "time limit". */
        bool slow = result.status == DG_SANDBOX_CPU_LIMIT || result.status == DG_SANDBOX_WALL_LIMIT;
        snprintf(build->log_summary, sizeof build->log_summary,
                 "%s did not compile (%s): see the build log", unit->file,
                 result.status == DG_SANDBOX_EXITED ? "compiler errors"
                 : slow                             ? "time limit"
                                                    : dg_sandbox_status_name(result.status));
    }
    dg_sandbox_result_release(&result);
    if (!compiled)
        return NN_OK;
    /* Then what the object defines and calls, before it meets the harness. */
    bool accepted;
    status = inspect_unit(&accepted, build, unit, kit, precision, err);
    if (status != NN_OK || !accepted)
        return status;
    /* Then the runner: the harness, this unit, the reference for the rest. */
    const char *objects[] = { "unit.o", NULL };
    return dg_link_runner(build, context, precision, objects, &unit_index, 1, err);
}

/* ---- outcomes of a runner ---------------------------------------------------- */

/* Sets check's outcome from a finished run that did not answer; returns
 * false when the run did answer (exited 0) and the output should be read. */
bool dg_judge_run(dg_check_result *check, const dg_sandbox_result *run,
                  const dg_sandbox_limits *limits, const char *what)
{
    switch (run->status) {
    case DG_SANDBOX_EXITED:
        if (run->exit_code == 0)
            return false;
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "%s exited with status %d before answering\n", what,
                        run->exit_code);
        break;
    case DG_SANDBOX_SIGNALED:
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "%s crashed: %s (signal %d)\n", what, strsignal(run->signal),
                        run->signal);
        break;
    case DG_SANDBOX_CPU_LIMIT:
    case DG_SANDBOX_WALL_LIMIT:
        /* The limits, not the measurements, and not which limit fired:
         * under load a busy loop can reach the wall limit first, and the
         * report must not change from one grading to the next. */
        check->outcome = DG_OUTCOME_TIMEOUT;
        dg_check_printf(check, "%s did not finish within its time limits (%g s of CPU time, %g "
                        "s in all); look for an endless loop, or a wait that never ends\n",
                        what, limits->cpu_seconds, limits->wall_seconds);
        if (run->output_truncated)
            dg_check_printf(check, "it had also printed more output than allowed; remove "
                            "debugging prints\n");
        break;
    case DG_SANDBOX_MEMORY_LIMIT:
        check->outcome = DG_OUTCOME_MEMORY;
        dg_check_printf(check, "%s used more memory than allowed\n", what);
        break;
    case DG_SANDBOX_OUTPUT_LIMIT:
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "%s printed more output than allowed; remove debugging prints\n",
                        what);
        break;
    case DG_SANDBOX_ERROR:
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "the sandbox failed: %s (not your fault)\n", run->message);
        break;
    }
    if (run->errors != NULL && run->errors[0] != '\0')
        dg_check_printf(check, "its error output began:\n%.1200s\n", run->errors);
    return true;
}


unsigned long long dg_check_seed(const dg_grade_context *context, int check_index)
{
    /* FNV-1a of the check's id, mixed with the run's seed. */
    unsigned long long hash = 14695981039346656037ull;
    for (const char *c = context->config->checks[check_index].id; *c; c++)
        hash = (hash ^ (unsigned char)*c) * 1099511628211ull;
    return hash ^ (context->options->seed * 0x9e3779b97f4a7c15ull);
}

void dg_append_build_log(char **log_text, const char *unit, const char *precision,
                         const char *errors, const unsigned char *output, size_t output_size)
{
    bool has_errors = errors != NULL && errors[0] != '\0';
    if (!has_errors && output_size == 0)
        return;
    size_t old = *log_text ? strlen(*log_text) : 0;
    size_t add = 128 + (has_errors ? strlen(errors) : 0) + output_size;
    char *log = realloc(*log_text, old + add);
    if (log == NULL)
        return;
    int used = snprintf(log + old, add, "== %s (%s build)\n%.*s%s", unit, precision,
                        (int)output_size, output ? (const char *)output : "",
                        has_errors ? errors : "");
    if (used > 0 && log[old + (size_t)used - 1] != '\n' && (size_t)used + 1 < add)
        strcat(log + old, "\n");
    *log_text = log;
}

/* Appends text to *log (both may be NULL). */
static void append_text(char **log, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    size_t old = *log ? strlen(*log) : 0, add = strlen(text);
    char *grown = realloc(*log, old + add + 1);
    if (grown == NULL)
        return;
    memcpy(grown + old, text, add + 1);
    *log = grown;
}

/* Descriptors Valgrind keeps for itself at the top of the open-files
 * limit (N_RESERVED_FDS in its m_main.c): the program under it sees a
 * limit this much lower, and its write(), close() and dup2() onto them
 * are refused. */
#define VALGRIND_RESERVED_FDS 12

nn_status dg_run_runner(dg_sandbox_result *result, dg_grade_context *context,
                        const dg_unit_build *build, const void *request, size_t request_size,
                        const dg_sandbox_limits *limits, bool valgrind, nn_error *err)
{
    /* A folder of the worker's own for each run, with a copy of the
     * runner: the sandbox gives the run's folder to the slot's uid, so two
     * workers (two uids) cannot share the build folder, and a run cannot
     * leave anything (nor change the runner) for the next one. */
    char folder[600], runner[700];
    snprintf(folder, sizeof folder, "%s/run-%d", context->workspace, context->slot);
    snprintf(runner, sizeof runner, "%s/runner", folder);
    nn_status status = dg_remove_tree(folder, err);
    if (status == NN_OK)
        status = make_directory(folder, err);
    if (status == NN_OK)
        status = copy_file(build->runner, runner, err);
    if (status == NN_OK && chmod(runner, 0755) != 0)
        status = nn_error_set(err, NN_ERR_IO, "%s: %s", runner, strerror(errno));
    if (status != NN_OK) {
        memset(result, 0, sizeof *result);
        result->status = DG_SANDBOX_ERROR;
        return status;
    }
    const char *plain[] = { "/work/runner", NULL };
    dg_sandbox_limits used = dg_runner_limits(limits, valgrind);
    /* Valgrind's XML goes to the last descriptor the run may open, which
     * the grader reads as the run's standard error; the program's own
     * standard error goes nowhere. That descriptor lies in the range
     * Valgrind keeps for itself, so the program's writes to any
     * descriptor number (3 included, which it does not have) cannot
     * reach it. A program that means to can still reach it (dup() of it,
     * /proc/self/fd): valgrind_xml.c makes sure that what it could add
     * only damages the report. --trace-children=yes and
     * --child-silent-after-fork=no keep another program or a child
     * process from running unwatched: their Valgrind writes into the same
     * stream, which then no longer reads as one report. bash, not dash:
     * dash redirects descriptors 0 to 9 only. ./runner, not /work/runner:
     * the shell's arguments are not rewritten without namespaces, and the
     * work folder is the current folder either way. */
    int channel = used.max_open_files - 1;
    char command[1024];
    snprintf(command, sizeof command,
             "exec /usr/bin/valgrind --xml=yes --xml-fd=%d --error-exitcode=0 "
             "--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite "
             "--num-callers=12 --trace-children=yes --child-silent-after-fork=no --vgdb=no "
             "./runner %d>&2 2>/dev/null",
             channel, channel);
    const char *checked[] = { "/bin/bash", "-c", command, NULL };
    dg_sandbox_request run = {
        .argv = valgrind ? checked : plain,
        .work_directory = folder,
        .hidden_paths = context->hidden_paths,
        .slot = context->slot,
        .show_proc = valgrind,
        .input = request,
        .input_size = request_size,
        .limits = used,
    };
    status = dg_sandbox_run_retrying(result, &run, context->sandbox, err);
    nn_error ignored;
    dg_remove_tree(folder, &ignored);
    return status;
}

dg_sandbox_limits dg_runner_limits(const dg_sandbox_limits *limits, bool valgrind)
{
    dg_sandbox_limits used = *limits;
    if (valgrind) {
        /* Valgrind runs code about 30 times slower and needs its own memory,
         * descriptors (the program keeps the number it was given), and
         * room for its report (a few KiB an error, up to a thousand
         * distinct errors). */
        used.cpu_seconds *= 30;
        used.wall_seconds = 2 * used.cpu_seconds + 5;
        used.memory_bytes *= 2;
        used.max_open_files += VALGRIND_RESERVED_FDS;
        used.max_output_bytes = used.max_output_bytes < (8u << 20) ? (8u << 20)
                                                                   : used.max_output_bytes;
    }
    return used;
}

/* ---- the checks of one grading, several at once ------------------------------- */

struct dg_grade_run {
    const dg_config *config;
    const dg_grade_options *options;
    dg_report *report;
    char workspace[512];
    char submission_root[600];
    char hidden_storage[2][512];
    const char *hidden_paths[3];
    dg_unit_build builds[DG_MAX_UNITS];
    dg_unit_build float_builds[DG_MAX_UNITS];
    char *check_logs[DG_MAX_CHECKS];
    /* order[p] is the config index of report->checks[p]; the workers take
     * the positions in the order of dispatch[]. */
    int order[DG_MAX_CHECKS];
    int dispatch[DG_MAX_CHECKS];
    int count;
    /* Under lock: the next position to take, the builds' states, the
     * training token, and the first failure. `changed` is signalled when
     * a build ends or the token is returned. */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int next;
    bool training;
    bool stop;          /* a check failed for the grader's reasons: take no more */
    int failed_at;      /* the lowest position that failed so, or count */
    nn_error error;     /* its error */
};

/* The builds check `index` needs, in the order it asks for them: its
 * unit; a memcheck's rerun checks' units; a train check's units (float).
 * Returns how many; fills units and training flags. */
static int needed_builds(const dg_config *config, int index, int *units, bool *training)
{
    const dg_check_config *check = &config->checks[index];
    int count = 0;
    switch (check->kind) {
    case DG_CHECK_COMPARE:
    case DG_CHECK_GRADCHECK:
        units[count] = check->unit;
        training[count++] = false;
        break;
    case DG_CHECK_MEMCHECK:
        for (int r = 0; r < check->reference_count && count < DG_MAX_CHECK_REFERENCES; r++) {
            units[count] = config->checks[check->references[r]].unit;
            training[count++] = false;
        }
        break;
    case DG_CHECK_TRAIN:
        for (int u = 0; u < check->unit_count && count < DG_MAX_UNITS; u++) {
            units[count] = check->units[u];
            training[count++] = true;
        }
        break;
    case DG_CHECK_QUIZ:
    case DG_CHECK_MODEL:   /* the grader reads a model itself: no build */
        break;
    }
    return count;
}

/* Builds a unit a check needs, once per grading: the first worker to ask
 * builds it (outside the lock: a build takes seconds) while the others
 * wait for its outcome. *ready is false, with the check failed, when the
 * unit cannot be built. */
static nn_status ensure_built(bool *ready, dg_check_result *check, dg_grade_context *context,
                              int unit, bool for_training, nn_error *err)
{
    dg_grade_run *run = context->run;
    dg_unit_build *build = for_training ? &context->float_builds[unit] : &context->builds[unit];
    pthread_mutex_lock(&run->lock);
    while (build->state == DG_BUILD_BUSY)
        pthread_cond_wait(&run->changed, &run->lock);
    bool mine = build->state == DG_BUILD_NOT_TRIED;
    if (mine)
        build->state = DG_BUILD_BUSY;
    pthread_mutex_unlock(&run->lock);
    if (mine) {
        dg_unit_build *made = calloc(1, sizeof *made);
        nn_status status = made == NULL
                               ? nn_error_set(err, NN_ERR_MEMORY, "out of memory")
                               : dg_build_unit(made, context, unit,
                                               for_training ? "float" : "double", err);
        pthread_mutex_lock(&run->lock);
        if (made != NULL)
            *build = *made;
        if (status != NN_OK) {
            build->state = DG_BUILD_ERROR;
            build->error = *err;
        }
        pthread_cond_broadcast(&run->changed);
        pthread_mutex_unlock(&run->lock);
        free(made);
        if (status != NN_OK)
            return status;
    }
    /* The build is final now (only BUSY ever changes): read it freely. */
    if (build->state == DG_BUILD_ERROR) {
        *err = build->error;
        return err->status;
    }
    *ready = build->state == DG_BUILD_OK;
    if (!*ready) {
        check->outcome = DG_OUTCOME_BUILD_ERROR;
        dg_check_printf(check, "%s\n", build->log_summary);
    }
    return NN_OK;
}

/* A train check holds the training token while it trains: the grader
 * keeps its datasets in memory (20 000 Fashion-MNIST images are 125 MB in
 * double precision, the test set 63 MB more) and the runner uses every
 * core, so two at once would double the memory and make each slower
 * against its time limits, which must not depend on --jobs. */
static void training_begin(dg_grade_run *run)
{
    pthread_mutex_lock(&run->lock);
    while (run->training)
        pthread_cond_wait(&run->changed, &run->lock);
    run->training = true;
    pthread_mutex_unlock(&run->lock);
}

static void training_end(dg_grade_run *run)
{
    pthread_mutex_lock(&run->lock);
    run->training = false;
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->lock);
}

static nn_status run_check(dg_check_result *check, dg_grade_context *context, int index,
                           nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    int units[DG_MAX_UNITS + DG_MAX_CHECK_REFERENCES];
    bool training[DG_MAX_UNITS + DG_MAX_CHECK_REFERENCES];
    int needed = needed_builds(context->config, index, units, training);
    bool ready = true;
    nn_status status = NN_OK;
    for (int b = 0; status == NN_OK && ready && b < needed; b++)
        status = ensure_built(&ready, check, context, units[b], training[b], err);
    if (status != NN_OK || !ready)
        return status;
    switch (config->kind) {
    case DG_CHECK_COMPARE: return dg_check_compare(check, context, index, err);
    case DG_CHECK_GRADCHECK: return dg_check_gradcheck(check, context, index, err);
    case DG_CHECK_MEMCHECK: return dg_check_memcheck(check, context, index, err);
    case DG_CHECK_TRAIN:
        training_begin(context->run);
        status = dg_check_train(check, context, index, err);
        training_end(context->run);
        return status;
    case DG_CHECK_QUIZ: return dg_quiz_grade(check, config, context->submission_root, err);
    case DG_CHECK_MODEL: return dg_check_model(check, context, index, err);
    }
    return NN_OK;
}

typedef struct grade_worker {
    dg_grade_context context;
    pthread_t thread;
    bool started;
} grade_worker;

/* Takes checks from the queue (in plan_dispatch's order) until it is
 * empty or a check failed for the grader's reasons; the checks running
 * then finish, and the error of the first in the report's order is the
 * grading's. */
static void *work(void *arg)
{
    grade_worker *worker = arg;
    dg_grade_run *run = worker->context.run;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        int position = run->stop || run->next >= run->count ? -1 : run->dispatch[run->next++];
        pthread_mutex_unlock(&run->lock);
        if (position < 0)
            return NULL;
        dg_check_result *check = &run->report->checks[position];
        if (run->options->verbose)
            fprintf(stderr, "dlgrade: check %s (%s)...\n", check->id, check->kind);
        nn_error err;
        nn_error_clear(&err);
        nn_status status = run_check(check, &worker->context, run->order[position], &err);
        if (status != NN_OK) {
            nn_error_prefix(&err, "check %s", check->id);
            pthread_mutex_lock(&run->lock);
            if (position < run->failed_at) {
                run->failed_at = position;
                run->error = err;
            }
            run->stop = true;
            pthread_mutex_unlock(&run->lock);
        }
    }
}

/* The build log in the order a one-worker grading makes it: for each check
 * in the report's order, the builds it asked for (up to the first that
 * failed, as ensure_built stops there) that no earlier check asked for,
 * then its own build's. Which worker built what never shows. */
static void join_build_logs(dg_grade_run *run)
{
    bool shown[2][DG_MAX_UNITS] = { { false } };
    for (int p = 0; p < run->count; p++) {
        int index = run->order[p];
        int units[DG_MAX_UNITS + DG_MAX_CHECK_REFERENCES];
        bool training[DG_MAX_UNITS + DG_MAX_CHECK_REFERENCES];
        int needed = needed_builds(run->config, index, units, training);
        for (int b = 0; b < needed; b++) {
            dg_unit_build *build = training[b] ? &run->float_builds[units[b]]
                                               : &run->builds[units[b]];
            if (!shown[training[b]][units[b]]) {
                shown[training[b]][units[b]] = true;
                append_text(&run->report->build_log, build->log);
            }
            if (build->state != DG_BUILD_OK)
                break;
        }
        append_text(&run->report->build_log, run->check_logs[index]);
    }
}

/* The order the workers take the checks in. One worker takes them in the
 * config's order. Several take the long ones first, training, then
 * Valgrind (seconds each where a compare takes milliseconds), so that they
 * run beside the short ones instead of alone at the end; the report does
 * not change. */
static void plan_dispatch(dg_grade_run *run, int jobs)
{
    static const dg_check_kind long_first[] = { DG_CHECK_TRAIN, DG_CHECK_MEMCHECK };
    int used = 0;
    bool taken[DG_MAX_CHECKS] = { false };
    for (size_t k = 0; jobs > 1 && k < sizeof long_first / sizeof long_first[0]; k++)
        for (int p = 0; p < run->count; p++)
            if (run->config->checks[run->order[p]].kind == long_first[k]) {
                taken[p] = true;
                run->dispatch[used++] = p;
            }
    for (int p = 0; p < run->count; p++)
        if (!taken[p])
            run->dispatch[used++] = p;
}

/* Runs the queue with `jobs` workers, the caller's thread being the first.
 * A worker that cannot be started leaves its share to the others. */
static void run_workers(const dg_grade_context *base, int jobs)
{
    grade_worker *workers = calloc((size_t)jobs, sizeof *workers);
    if (workers == NULL) {
        grade_worker single = { .context = *base };
        work(&single);
        return;
    }
    for (int k = 0; k < jobs; k++) {
        workers[k].context = *base;
        workers[k].context.slot = base->slot + k;
    }
    for (int k = 1; k < jobs; k++)
        workers[k].started = pthread_create(&workers[k].thread, NULL, work, &workers[k]) == 0;
    work(&workers[0]);
    for (int k = 1; k < jobs; k++)
        if (workers[k].started)
            pthread_join(workers[k].thread, NULL);
    free(workers);
}

/* A workspace is named "dlgrade-PID-XXXXXX" after its grader. One whose
 * grader is gone (killed with SIGKILL, which nothing can catch) is
 * removed by the next grader that looks in the same folder; a live pid,
 * even a stranger's, keeps it. */
static void remove_stale_workspaces(const char *temporary)
{
    DIR *dir = opendir(temporary);
    if (dir == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        long pid = -1;
        char suffix[8] = "";
        int used = 0;
        if (sscanf(entry->d_name, "dlgrade-%ld-%7[A-Za-z0-9]%n", &pid, suffix, &used) != 2
            || entry->d_name[used] != '\0' || strlen(suffix) != 6 || pid <= 1)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", temporary, entry->d_name);
        nn_error ignored;
        dg_remove_tree(path, &ignored);
    }
    closedir(dir);
}

static void timestamp(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

/* CRC-32 of a file's bytes, continuing crc; false if it cannot be read. */
static bool crc_of_file(unsigned long *crc, const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return false;
    unsigned char buffer[65536];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, file)) > 0)
        *crc = crc32(*crc, buffer, (uInt)got);
    fclose(file);
    return true;
}

/* The graded files of the submission (each unit's file, the quiz answers,
 * a submitted model's spec and weights), by name and content, in the
 * config's order: what decides the scores, so equal hashes mean the same
 * graded input. */
static void hash_submission(dg_report *report, const dg_config *config, const char *root)
{
    unsigned long crc = crc32(0L, Z_NULL, 0);
    char path[1024];
    nn_error ignored;
    for (int u = 0; u < config->unit_count; u++) {
        crc = crc32(crc, (const unsigned char *)config->units[u].file,
                    (uInt)strlen(config->units[u].file) + 1);
        if (dg_submission_find(path, sizeof path, root, config->units[u].file, &ignored) == NN_OK)
            crc_of_file(&crc, path);
    }
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        const char *files[2] = { NULL, NULL };
        if (check->kind == DG_CHECK_QUIZ)
            files[0] = check->answers;
        if (check->kind == DG_CHECK_MODEL) {
            files[0] = check->spec_file;
            files[1] = check->weights_file;
        }
        for (int f = 0; f < 2 && files[f] != NULL; f++)
            if (dg_submission_find(path, sizeof path, root, files[f], &ignored) == NN_OK)
                crc_of_file(&crc, path);
    }
    snprintf(report->submission_hash, sizeof report->submission_hash, "%08lx", crc);
    unsigned long config_crc = crc32(0L, Z_NULL, 0);
    if (crc_of_file(&config_crc, config->path))
        snprintf(report->config_hash, sizeof report->config_hash, "%08lx", config_crc);
    snprintf(report->grader_version, sizeof report->grader_version, "%s", DLGRADE_VERSION);
}

/* Makes a private workspace in $TMPDIR and unpacks submission into it
 * (workspace/submission). On failure the workspace, if made, is left for
 * the caller to remove (workspace[0] != '\0'). */
static nn_status unpack_in_workspace(char *workspace, size_t workspace_size, char *root,
                                     size_t root_size, const char *submission, nn_error *err)
{
    const char *temporary = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    remove_stale_workspaces(temporary);
    snprintf(workspace, workspace_size, "%s/dlgrade-%ld-XXXXXX", temporary, (long)getpid());
    if (mkdtemp(workspace) == NULL) {
        nn_status status = nn_error_set(err, NN_ERR_IO, "cannot create a workspace in %s: %s",
                                        temporary, strerror(errno));
        workspace[0] = '\0';
        return status;
    }
    /* The sandbox's unprivileged uid must enter the workspace. */
    chmod(workspace, 0755);
    snprintf(root, root_size, "%s/submission", workspace);
    nn_status status = make_directory(root, err);
    if (status == NN_OK) {
        dg_submission_limits limits = dg_submission_default_limits();
        status = dg_submission_unpack(submission, root, &limits, err);
        if (status != NN_OK)
            nn_error_prefix(err, "submission %s", submission);
    }
    return status;
}

nn_status dg_grade_identify(dg_report *report, const dg_config *config, const char *submission,
                            nn_error *err)
{
    char workspace[512], root[600];
    nn_status status = unpack_in_workspace(workspace, sizeof workspace, root, sizeof root,
                                           submission, err);
    if (status == NN_OK)
        hash_submission(report, config, root);
    nn_error ignored;
    if (workspace[0] != '\0')
        dg_remove_tree(workspace, &ignored);
    return status;
}

nn_status dg_grade_preflight(const dg_config *config, bool public_only, nn_error *err)
{
    for (int i = 0; i < config->check_count; i++) {
        if (config->checks[i].kind != DG_CHECK_TRAIN
            || (public_only && config->checks[i].visibility != DG_VISIBLE_PUBLIC))
            continue;
        nn_status status = dg_check_train_preflight(config, i, err);
        if (status != NN_OK) {
            nn_error_prefix(err, "check %s", config->checks[i].id);
            return status;
        }
    }
    return NN_OK;
}

/* Fills hidden_paths with the datasets' folders: the sandbox shows /usr
 * whole, and the test labels must not be readable from it. */
static void hide_datasets(dg_grade_run *run)
{
    const char *datasets[] = { "/usr/share/datasets", nn_fashion_mnist_default_directory() };
    int hidden = 0;
    for (int i = 0; i < 2; i++) {
        char resolved[PATH_MAX];
        if (realpath(datasets[i], resolved) != NULL && strcmp(resolved, "/") != 0
            && strlen(resolved) < sizeof run->hidden_storage[0]) {
            snprintf(run->hidden_storage[hidden], sizeof run->hidden_storage[hidden], "%s",
                     resolved);
            run->hidden_paths[hidden] = run->hidden_storage[hidden];
            hidden++;
        }
    }
    run->hidden_paths[hidden] = NULL;
}

/* The report's checks, all of them before any runs, in the config's order
 * (so that the report never depends on which check finished first). */
static nn_status queue_checks(dg_grade_run *run, nn_error *err)
{
    const dg_config *config = run->config;
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *config_check = &config->checks[i];
        if (run->options->public_only && config_check->visibility != DG_VISIBLE_PUBLIC)
            continue;
        dg_check_result *check = dg_report_add_check(run->report);
        if (check == NULL)
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
        snprintf(check->id, sizeof check->id, "%s", config_check->id);
        snprintf(check->name, sizeof check->name, "%s", config_check->name);
        snprintf(check->kind, sizeof check->kind, "%s", dg_check_kind_name(config_check->kind));
        if (config_check->unit >= 0)
            snprintf(check->unit, sizeof check->unit, "%s",
                     config->units[config_check->unit].name);
        check->max_score = config_check->points;
        check->visibility = config_check->visibility;
        check->outcome = DG_OUTCOME_FAILED;
        run->order[run->count++] = i;
    }
    return NN_OK;
}

static void release_run(dg_grade_run *run)
{
    for (int u = 0; u < DG_MAX_UNITS; u++) {
        free(run->builds[u].log);
        free(run->float_builds[u].log);
    }
    for (int i = 0; i < DG_MAX_CHECKS; i++)
        free(run->check_logs[i]);
    pthread_cond_destroy(&run->changed);
    pthread_mutex_destroy(&run->lock);
    free(run);
}

nn_status dg_grade(dg_report *report, const dg_config *config, const char *submission,
                   const dg_grade_options *options, const dg_sandbox_capabilities *sandbox,
                   bool *grader_fault, nn_error *err)
{
    if (grader_fault != NULL)
        *grader_fault = false;
    double started = dg_seconds_now();
    dg_grade_run *run = calloc(1, sizeof *run);
    if (run == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    run->config = config;
    run->options = options;
    run->report = report;
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->changed, NULL);

    snprintf(report->assignment, sizeof report->assignment, "%s", config->name);
    snprintf(report->submission, sizeof report->submission, "%s", submission);
    report->seed = options->seed;
    timestamp(report->started_at, sizeof report->started_at);
    report->sandbox_notes = strdup(sandbox->notes);
    hide_datasets(run);

    nn_status status = unpack_in_workspace(run->workspace, sizeof run->workspace,
                                           run->submission_root, sizeof run->submission_root,
                                           submission, err);
    if (status == NN_OK)
        hash_submission(report, config, run->submission_root);
    /* Datasets and model specs before any student code: a broken one is
     * bad input (exit 2), and nothing is graded. */
    if (status == NN_OK)
        status = dg_grade_preflight(config, options->public_only, err);
    /* A submitted model that cannot be read whole is bad input as well
     * (exit 2), found before any student code runs. */
    for (int i = 0; status == NN_OK && i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        if (check->kind != DG_CHECK_MODEL
            || (options->public_only && check->visibility != DG_VISIBLE_PUBLIC))
            continue;
        dg_grade_context seeding = { .config = config, .options = options };
        status = dg_check_model_preflight(config, i, run->submission_root,
                                          dg_check_seed(&seeding, i), err);
        if (status != NN_OK)
            nn_error_prefix(err, "check %s", check->id);
    }
    if (status == NN_OK)
        status = queue_checks(run, err);
    if (status == NN_OK) {
        dg_grade_context base = {
            .config = config,
            .options = options,
            .sandbox = sandbox,
            .workspace = run->workspace,
            .submission_root = run->submission_root,
            .build_limits = config->build_limits,
            .hidden_paths = run->hidden_paths,
            .slot = options->slot,
            .builds = run->builds,
            .float_builds = run->float_builds,
            .check_logs = run->check_logs,
            .run = run,
        };
        int jobs = options->jobs < 1 ? 1 : options->jobs;
        if (jobs > run->count)
            jobs = run->count < 1 ? 1 : run->count;
        run->failed_at = run->count;
        plan_dispatch(run, jobs);
        run_workers(&base, jobs);
        if (run->stop) {
            *err = run->error;
            status = err->status;
            if (grader_fault != NULL)
                *grader_fault = true;
        }
        join_build_logs(run);
    }
    dg_report_total(report);
    report->execution_time = dg_seconds_now() - started;
    nn_error ignored;
    if (run->workspace[0] != '\0')
        dg_remove_tree(run->workspace, &ignored);
    release_run(run);
    return status;
}
