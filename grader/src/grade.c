/*
 * grade.c - the grading engine: workspace, unit builds, and the compare,
 * gradcheck and memcheck checks (train and quiz have their own files).
 *
 * Every check follows the same path: the grader draws the inputs from the
 * run's seed, computes what the reference gives, sends the same inputs to
 * the unit's runner in the sandbox, and judges what comes back. What the
 * runner prints on stderr is shown to the student (bounded); what it exits
 * with only decides between "answered" and "crashed".
 */
#include "grade.h"

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

static char *read_small_file(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 4096);
    if (text != NULL && fgets(text, 4096, file) == NULL)
        text[0] = '\0';
    fclose(file);
    if (text != NULL)
        text[strcspn(text, "\n")] = '\0';
    return text;
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
    return read_small_file(path);
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
        .slot = context->options->slot,
        .limits = context->build_limits,
    };
    dg_sandbox_result result;
    nn_status status = dg_sandbox_run_retrying(&result, &request, context->sandbox, err);
    if (status != NN_OK)
        return status;
    dg_append_build_log(context, unit_count == 1 ? context->config->units[units[0]].name
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
static nn_status inspect_unit(bool *accepted, dg_unit_build *build, dg_grade_context *context,
                              const dg_unit *unit, const char *kit, const char *precision,
                              nn_error *err)
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
            dg_append_build_log(context, unit->name, precision, log, NULL, 0);
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
        .slot = context->options->slot,
        .limits = context->build_limits,
    };
    dg_sandbox_result result;
    status = dg_sandbox_run_retrying(&result, &request, context->sandbox, err);
    if (status != NN_OK)
        return status;
    /* Compiler messages go to the report, cut to a readable length. */
    dg_append_build_log(context, unit->name, precision, result.errors, result.output,
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
    status = inspect_unit(&accepted, build, context, unit, kit, precision, err);
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

void dg_append_build_log(dg_grade_context *context, const char *unit, const char *precision,
                         const char *errors, const unsigned char *output, size_t output_size)
{
    bool has_errors = errors != NULL && errors[0] != '\0';
    if (!has_errors && output_size == 0)
        return;
    dg_report *report = context->report;
    size_t old = report->build_log ? strlen(report->build_log) : 0;
    size_t add = 128 + (has_errors ? strlen(errors) : 0) + output_size;
    char *log = realloc(report->build_log, old + add);
    if (log == NULL)
        return;
    int used = snprintf(log + old, add, "== %s (%s build)\n%.*s%s", unit, precision,
                        (int)output_size, output ? (const char *)output : "",
                        has_errors ? errors : "");
    if (used > 0 && log[old + (size_t)used - 1] != '\n' && (size_t)used + 1 < add)
        strcat(log + old, "\n");
    report->build_log = log;
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
     * the shell's arguments are not rewritten without bubblewrap, and the
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
        .work_directory = build->directory,
        .hidden_paths = context->hidden_paths,
        .slot = context->options->slot,
        .show_proc = valgrind,
        .input = request,
        .input_size = request_size,
        .limits = used,
    };
    return dg_sandbox_run_retrying(result, &run, context->sandbox, err);
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

/* Builds every unit a check needs (once per run); false with the check
 * failed when one cannot be built. */
static nn_status ensure_built(bool *ready, dg_check_result *check, dg_grade_context *context,
                              int unit, bool for_training, nn_error *err)
{
    dg_unit_build *build = for_training ? &context->float_builds[unit] : &context->builds[unit];
    if (build->state == DG_BUILD_NOT_TRIED) {
        nn_status status = dg_build_unit(build, context, unit, for_training ? "float" : "double",
                                         err);
        if (status != NN_OK)
            return status;
    }
    *ready = build->state == DG_BUILD_OK;
    if (!*ready) {
        check->outcome = DG_OUTCOME_BUILD_ERROR;
        dg_check_printf(check, "%s\n", build->log_summary);
    }
    return NN_OK;
}

static nn_status run_check(dg_check_result *check, dg_grade_context *context, int index,
                           nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    bool ready = true;
    nn_status status = NN_OK;
    switch (config->kind) {
    case DG_CHECK_COMPARE:
    case DG_CHECK_GRADCHECK:
        status = ensure_built(&ready, check, context, config->unit, false, err);
        break;
    case DG_CHECK_MEMCHECK:
        for (int r = 0; status == NN_OK && ready && r < config->reference_count; r++)
            status = ensure_built(&ready, check, context,
                                  context->config->checks[config->references[r]].unit, false, err);
        break;
    case DG_CHECK_TRAIN:
        for (int u = 0; status == NN_OK && ready && u < config->unit_count; u++)
            status = ensure_built(&ready, check, context, config->units[u], true, err);
        break;
    case DG_CHECK_QUIZ:
    case DG_CHECK_MODEL:
        break;
    }
    if (status != NN_OK || !ready)
        return status;
    switch (config->kind) {
    case DG_CHECK_COMPARE: return dg_check_compare(check, context, index, err);
    case DG_CHECK_GRADCHECK: return dg_check_gradcheck(check, context, index, err);
    case DG_CHECK_MEMCHECK: return dg_check_memcheck(check, context, index, err);
    case DG_CHECK_TRAIN: return dg_check_train(check, context, index, err);
    case DG_CHECK_QUIZ: return dg_quiz_grade(check, config, context->submission_root, err);
    case DG_CHECK_MODEL: return dg_check_model(check, context, index, err);
    }
    return NN_OK;
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

nn_status dg_grade(dg_report *report, const dg_config *config, const char *submission,
                   const dg_grade_options *options, const dg_sandbox_capabilities *sandbox,
                   nn_error *err)
{
    double started = dg_seconds_now();
    dg_grade_context *context = calloc(1, sizeof *context);
    if (context == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    *context = (dg_grade_context){ .config = config, .options = options, .sandbox = sandbox,
                                   .report = report };
    context->build_limits = config->build_limits;

    snprintf(report->assignment, sizeof report->assignment, "%s", config->name);
    snprintf(report->submission, sizeof report->submission, "%s", submission);
    report->seed = options->seed;
    timestamp(report->started_at, sizeof report->started_at);
    report->sandbox_notes = strdup(sandbox->notes);
    /* The test labels must not be readable from the sandbox, which shows
     * /usr whole: hide the datasets' folders. */
    const char *datasets[] = { "/usr/share/datasets", nn_fashion_mnist_default_directory() };
    int hidden = 0;
    for (int i = 0; i < 2; i++) {
        char resolved[PATH_MAX];
        if (realpath(datasets[i], resolved) != NULL && strcmp(resolved, "/") != 0
            && strlen(resolved) < sizeof context->hidden_storage[0]) {
            snprintf(context->hidden_storage[hidden], sizeof context->hidden_storage[hidden],
                     "%s", resolved);
            context->hidden_paths[hidden] = context->hidden_storage[hidden];
            hidden++;
        }
    }
    context->hidden_paths[hidden] = NULL;

    const char *temporary = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    remove_stale_workspaces(temporary);
    snprintf(context->workspace, sizeof context->workspace, "%s/dlgrade-%ld-XXXXXX", temporary,
             (long)getpid());
    nn_status status = NN_OK;
    if (mkdtemp(context->workspace) == NULL) {
        status = nn_error_set(err, NN_ERR_IO, "cannot create a workspace in %s: %s", temporary,
                              strerror(errno));
        free(context);
        return status;
    }
    /* The sandbox's unprivileged uid must enter the workspace. */
    chmod(context->workspace, 0755);
    snprintf(context->submission_root, sizeof context->submission_root, "%s/submission",
             context->workspace);
    status = make_directory(context->submission_root, err);
    if (status == NN_OK) {
        dg_submission_limits limits = dg_submission_default_limits();
        status = dg_submission_unpack(submission, context->submission_root, &limits, err);
        if (status != NN_OK)
            nn_error_prefix(err, "submission %s", submission);
        else
            hash_submission(report, config, context->submission_root);
    }
    /* Datasets, model specs and submitted models before any student code:
     * a broken one is bad input (exit 2), and nothing is graded. */
    for (int i = 0; status == NN_OK && i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        if (options->public_only && check->visibility != DG_VISIBLE_PUBLIC)
            continue;
        if (check->kind == DG_CHECK_TRAIN)
            status = dg_check_train_preflight(config, i, err);
        else if (check->kind == DG_CHECK_MODEL)
            status = dg_check_model_preflight(config, i, context->submission_root,
                                              dg_check_seed(context, i), err);
        if (status != NN_OK)
            nn_error_prefix(err, "check %s", check->id);
    }
    for (int i = 0; status == NN_OK && i < config->check_count; i++) {
        const dg_check_config *config_check = &config->checks[i];
        if (options->public_only && config_check->visibility != DG_VISIBLE_PUBLIC)
            continue;
        dg_check_result *check = dg_report_add_check(report);
        if (check == NULL) {
            status = nn_error_set(err, NN_ERR_MEMORY, "out of memory");
            break;
        }
        snprintf(check->id, sizeof check->id, "%s", config_check->id);
        snprintf(check->name, sizeof check->name, "%s", config_check->name);
        snprintf(check->kind, sizeof check->kind, "%s", dg_check_kind_name(config_check->kind));
        if (config_check->unit >= 0)
            snprintf(check->unit, sizeof check->unit, "%s",
                     config->units[config_check->unit].name);
        check->max_score = config_check->points;
        check->visibility = config_check->visibility;
        check->outcome = DG_OUTCOME_FAILED;
        if (options->verbose)
            fprintf(stderr, "dlgrade: check %s (%s)...\n", check->id, check->kind);
        status = run_check(check, context, i, err);
        if (status != NN_OK)
            nn_error_prefix(err, "check %s", check->id);
    }
    dg_report_total(report);
    report->execution_time = dg_seconds_now() - started;
    nn_error ignored;
    dg_remove_tree(context->workspace, &ignored);
    free(context);
    return status;
}
