/*
 * grade_command.c - `dlgrade grade SUBMISSION -a ASSIGNMENT -o OUTDIR
 * [--public-only] [--seed N] [--slot N] [--jobs N] [--resume]` and
 * `dlgrade validate ASSIGNMENT`.
 *
 * Exit status: 0 every check passed, 1 some check failed, 2 bad input
 * (usage, config, submission, dataset) and nothing graded, 3 the grader
 * broke (sandbox, disk).
 */
#include "dlgrade.h"

#include "config.h"
#include "grade.h"
#include "quiz.h"
#include "report.h"
#include "sandbox.h"

#include "nn/gemm.h"
#include "nn/parallel.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ASSIGNMENT is a folder holding assignment.yaml, the file itself, or a
 * name under assignments/. */
int dg_resolve_assignment(char *path, size_t size, const char *assignment)
{
    struct stat info;
    if (stat(assignment, &info) == 0 && S_ISDIR(info.st_mode))
        snprintf(path, size, "%s/assignment.yaml", assignment);
    else if (stat(assignment, &info) == 0)
        snprintf(path, size, "%s", assignment);
    else
        snprintf(path, size, "assignments/%s/assignment.yaml", assignment);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "dlgrade: no assignment '%s' (looked for %s)\n", assignment, path);
        return DG_EXIT_USAGE;
    }
    return DG_EXIT_OK;
}

/* The folder holding double/runner-kit and float/runner-kit: the build
 * folder above this executable's own, or $DLGRADE_KITS. */
void dg_kit_directory(char *out, size_t size)
{
    const char *override = getenv("DLGRADE_KITS");
    if (override != NULL && override[0] != '\0') {
        snprintf(out, size, "%s", override);
        return;
    }
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0) {
        snprintf(out, size, "build");
        return;
    }
    self[length] = '\0';
    char *folder = dirname(self);   /* build/double */
    snprintf(out, size, "%s", dirname(folder));
}

/* The number of online cores, at most DG_GRADE_MAX_JOBS. */
int dg_default_jobs(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > DG_GRADE_MAX_JOBS ? DG_GRADE_MAX_JOBS : (int)cores;
}

/* An integer option in [low, high]; false (with a message) otherwise. */
bool dg_parse_int_option(int *out, const char *command, const char *option, const char *text,
                         long low, long high)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || value < low || value > high) {
        fprintf(stderr, "dlgrade %s: %s needs an integer from %ld to %ld, not '%s'\n", command,
                option, low, high, text);
        return false;
    }
    *out = (int)value;
    return true;
}

/* The names of the checks a grading runs, in order, joined by spaces. */
static void check_ids(char *out, size_t size, const dg_config *config, bool public_only)
{
    out[0] = '\0';
    for (int i = 0; i < config->check_count; i++)
        if (!public_only || config->checks[i].visibility == DG_VISIBLE_PUBLIC) {
            strncat(out, config->checks[i].id, size - strlen(out) - 1);
            strncat(out, " ", size - strlen(out) - 1);
        }
}

/* --resume: whether output/ already holds a complete grading of the same
 * submission (the CRC-32 of its graded files), assignment (of
 * assignment.yaml), grader version and seed, with the same checks (so the
 * same --public-only) and no grader error. *all_passed says how it ended. */
static bool already_graded(bool *all_passed, const char *output, const dg_config *config,
                           const dg_report *now, const dg_grade_options *options)
{
    static const char *const reports[] = { "junit.xml", "report.md", "report.html" };
    char path[PATH_MAX];
    for (size_t r = 0; r < sizeof reports / sizeof reports[0]; r++) {
        snprintf(path, sizeof path, "%s/%s", output, reports[r]);
        if (access(path, R_OK) != 0)
            return false;
    }
    snprintf(path, sizeof path, "%s/results.json", output);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *extra = json_object_get(root, "extra_data");
    json_t *tests = json_object_get(root, "tests");
    char seed[32], want[DG_MAX_CHECKS * 65], have[DG_MAX_CHECKS * 65] = "";
    snprintf(seed, sizeof seed, "%llu", options->seed);
    const char *fields[][2] = { { "submission_crc32", now->submission_hash },
                                { "config_crc32", now->config_hash },
                                { "grader_version", now->grader_version },
                                { "seed", seed } };
    bool same = json_is_array(tests) && now->submission_hash[0] != '\0';
    for (size_t f = 0; same && f < sizeof fields / sizeof fields[0]; f++) {
        const char *value = json_string_value(json_object_get(extra, fields[f][0]));
        same = value != NULL && strcmp(value, fields[f][1]) == 0;
    }
    *all_passed = true;
    for (size_t i = 0; same && i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const char *id = json_string_value(json_object_get(test, "number"));
        const char *status = json_string_value(json_object_get(test, "status"));
        const char *outcome = json_string_value(
            json_object_get(json_object_get(test, "extra_data"), "outcome"));
        same = id != NULL && status != NULL && outcome != NULL
               && strcmp(outcome, dg_outcome_name(DG_OUTCOME_GRADER_ERROR)) != 0;
        if (same) {
            strncat(have, id, sizeof have - strlen(have) - 1);
            strncat(have, " ", sizeof have - strlen(have) - 1);
            *all_passed &= strcmp(status, "passed") == 0;
        }
    }
    check_ids(want, sizeof want, config, options->public_only);
    same = same && strcmp(want, have) == 0;
    if (same)
        printf("%s: %g of %g points, %zu checks (kept: %s/results.json already grades this "
               "submission with this assignment, grader and seed)\n",
               config->name, json_number_value(json_object_get(root, "score")),
               json_number_value(json_object_get(root, "max_score")), json_array_size(tests),
               output);
    json_decref(root);
    return same;
}

static void grade_usage(FILE *out)
{
    fputs("usage: dlgrade grade SUBMISSION -a ASSIGNMENT -o OUTDIR [--public-only] [--seed N]\n"
          "                     [--jobs N] [--slot N] [--resume]\n"
          "  SUBMISSION   a folder or a .tar.gz\n"
          "  ASSIGNMENT   a folder with assignment.yaml, or a name under assignments/\n"
          "  OUTDIR       where results.json, junit.xml, report.md and report.html go\n"
          "  --public-only  run only the public checks (what students and CI see)\n"
          "  --seed N     seed of every generated input (default 1)\n"
          "  --jobs N     checks graded at once (default: the number of cores); the\n"
          "               report is the same whatever N\n"
          "  --slot N     first sandbox slot: student code runs as uid 60000 + N, and\n"
          "               with --jobs N the slots N to N + jobs - 1 are used (default\n"
          "               0); graders running at once may share slots, but slots of\n"
          "               their own let each tell its processes apart\n"
          "  --resume     do nothing when OUTDIR already grades this submission (same\n"
          "               files, assignment, grader version, seed and checks)\n"
          "  --quiet      no progress lines\n",
          out);
}

int dg_command_grade(int argc, char **argv)
{
    static const struct option options[] = {
        { "assignment", required_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' },
        { "public-only", no_argument, NULL, 'p' },      { "seed", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },            { "help", no_argument, NULL, 'h' },
        { "slot", required_argument, NULL, 'S' },       { "jobs", required_argument, NULL, 'j' },
        { "resume", no_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    const char *assignment = NULL, *output = NULL;
    dg_grade_options grade = { .seed = 1, .verbose = true, .jobs = dg_default_jobs() };
    bool resume = false;
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "a:o:", options, NULL)) != -1) {
        switch (option) {
        case 'a': assignment = optarg; break;
        case 'o': output = optarg; break;
        case 'p': grade.public_only = true; break;
        case 'q': grade.verbose = false; break;
        case 's': {
            char *end;
            errno = 0;
            grade.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end != '\0' || errno != 0 || optarg[0] == '-') {
                fprintf(stderr, "dlgrade grade: --seed needs a non-negative integer, not '%s'\n",
                        optarg);
                return DG_EXIT_USAGE;
            }
            break;
        }
        case 'S':
            if (!dg_parse_int_option(&grade.slot, "grade", "--slot", optarg, 0,
                                     DG_SANDBOX_MAX_SLOTS - 1))
                return DG_EXIT_USAGE;
            break;
        case 'j':
            if (!dg_parse_int_option(&grade.jobs, "grade", "--jobs", optarg, 1,
                                     DG_GRADE_MAX_JOBS))
                return DG_EXIT_USAGE;
            break;
        case 'r': resume = true; break;
        case 'h': grade_usage(stdout); return DG_EXIT_OK;
        default: grade_usage(stderr); return DG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || assignment == NULL || output == NULL) {
        fprintf(stderr, "dlgrade grade: need one SUBMISSION, -a ASSIGNMENT and -o OUTDIR\n");
        grade_usage(stderr);
        return DG_EXIT_USAGE;
    }
    if (grade.slot + grade.jobs > DG_SANDBOX_MAX_SLOTS) {
        fprintf(stderr, "dlgrade grade: --slot %d with --jobs %d needs slots up to %d; the last "
                "is %d\n", grade.slot, grade.jobs, grade.slot + grade.jobs - 1,
                DG_SANDBOX_MAX_SLOTS - 1);
        return DG_EXIT_USAGE;
    }
    const char *submission = argv[optind];
    if (access(submission, R_OK) != 0) {
        fprintf(stderr, "dlgrade grade: cannot read the submission %s: %s\n", submission,
                strerror(errno));
        return DG_EXIT_USAGE;
    }
    char config_path[1024], kits[1024];
    int exit_status = dg_resolve_assignment(config_path, sizeof config_path, assignment);
    if (exit_status != DG_EXIT_OK)
        return exit_status;
    dg_kit_directory(kits, sizeof kits);
    grade.kit_directory = kits;

    dg_config *config = malloc(sizeof *config);
    if (config == NULL)
        return DG_EXIT_INTERNAL;
    nn_error err = { 0 };
    char *problems = NULL;
    nn_status status = dg_config_load(config, config_path, &problems, &err);
    if (status != NN_OK) {
        const char *text = problems ? problems : err.message;
        fprintf(stderr, "dlgrade grade: the assignment is not valid:\n%s%s", text,
                text[0] != '\0' && text[strlen(text) - 1] == '\n' ? "" : "\n");
        free(problems);
        free(config);
        return DG_EXIT_USAGE;
    }
    if (resume) {
        dg_report now = { 0 };
        bool all_passed = false;
        if (dg_grade_identify(&now, config, submission, &err) == NN_OK
            && already_graded(&all_passed, output, config, &now, &grade)) {
            dg_report_release(&now);
            free(config);
            return all_passed ? DG_EXIT_OK : DG_EXIT_FAILED;
        }
        dg_report_release(&now);
        nn_error_clear(&err);   /* a bad archive is refused below, as without --resume */
    }
    /* The grader's own computations (the reference values of small cases)
     * gain nothing from BLAS threads, and with several workers these would
     * only fight over the cores: one each, whatever --jobs is, so that the
     * expected values cannot depend on it. The convolution engine's loops
     * share the cores among the workers (their results do not depend on
     * the count: parallel.h). */
    nn_gemm_set_threads(1);
    if (grade.jobs > 1) {
        int share = dg_default_jobs() / grade.jobs;
        nn_parallel_set_threads(share < 1 ? 1 : share);
    }
    dg_sandbox_capabilities sandbox;
    status = dg_sandbox_probe(&sandbox, &err);
    if (status != NN_OK) {
        fprintf(stderr, "dlgrade grade: the sandbox is not usable: %s\n", err.message);
        free(config);
        return DG_EXIT_INTERNAL;
    }
    dg_report report = { 0 };
    bool grader_fault = false;
    status = dg_grade(&report, config, submission, &grade, &sandbox, &grader_fault, &err);
    /* The output folder is left as a placeholder: it does not change the
     * grading, and two gradings into different folders compare equal. */
    snprintf(report.replay, sizeof report.replay, "dlgrade grade %s -a %s -o OUTDIR --seed %llu%s",
             submission, assignment, grade.seed, grade.public_only ? " --public-only" : "");
    if (status == NN_OK)
        status = dg_report_write_all(&report, output, &err);
    if (status == NN_OK) {
        bool all_passed = true, grader_failed = false;
        for (size_t i = 0; i < report.check_count; i++) {
            all_passed &= report.checks[i].outcome == DG_OUTCOME_PASSED;
            grader_failed |= report.checks[i].outcome == DG_OUTCOME_GRADER_ERROR;
        }
        printf("%s: %g of %g points, %zu checks (%s)\n", config->name, report.score,
               report.max_score, report.check_count,
               grader_failed                      ? "the grader failed on some: not a grade"
               : report.score >= report.max_score ? "all passed"
                                                  : "some failed");
        printf("reports in %s/: results.json junit.xml report.md report.html\n", output);
        /* A check the grader could not run (the sandbox, Valgrind missing)
         * is its own failure: 3, so that nobody takes the report for a
         * grade, although it is written. */
        exit_status = grader_failed ? DG_EXIT_INTERNAL
                      : all_passed  ? DG_EXIT_OK
                                    : DG_EXIT_FAILED;
    } else {
        fprintf(stderr, "dlgrade grade: %s\n", err.message);
        exit_status = grader_fault ? DG_EXIT_INTERNAL : dg_exit_status(status);
    }
    dg_report_release(&report);
    free(config);
    return exit_status;
}

int dg_command_validate(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: dlgrade validate ASSIGNMENT\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? DG_EXIT_OK : DG_EXIT_USAGE;
    }
    char config_path[1024];
    int exit_status = dg_resolve_assignment(config_path, sizeof config_path, argv[1]);
    if (exit_status != DG_EXIT_OK)
        return exit_status;
    dg_config *config = malloc(sizeof *config);
    if (config == NULL)
        return DG_EXIT_INTERNAL;
    nn_error err = { 0 };
    char *problems = NULL;
    nn_status status = dg_config_load(config, config_path, &problems, &err);
    int problem_count = 0;
    if (status != NN_OK) {
        const char *text = problems ? problems : err.message;
        fputs(text, stderr);
        if (text[0] == '\0' || text[strlen(text) - 1] != '\n')
            fputc('\n', stderr);
        problem_count = 1;
    } else {
        for (int i = 0; i < config->check_count; i++)
            if (config->checks[i].kind == DG_CHECK_QUIZ) {
                char *quiz_problems = NULL;
                int found = dg_quiz_validate(config->checks[i].key, &quiz_problems);
                if (found > 0)
                    fputs(quiz_problems, stderr);
                free(quiz_problems);
                problem_count += found;
            }
    }
    if (problem_count == 0) {
        double points = 0;
        for (int i = 0; i < config->check_count; i++)
            points += config->checks[i].points;
        printf("%s: valid: %d units, %d checks, %g points\n", config_path, config->unit_count,
               config->check_count, points);
    }
    free(problems);
    free(config);
    return problem_count == 0 ? DG_EXIT_OK : DG_EXIT_USAGE;
}
