/*
 * grade_command.c - `dlgrade grade SUBMISSION -a ASSIGNMENT -o OUTDIR
 * [--public-only] [--seed N] [--slot N]` and `dlgrade validate ASSIGNMENT`.
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

#include <errno.h>
#include <getopt.h>
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

static void grade_usage(FILE *out)
{
    fputs("usage: dlgrade grade SUBMISSION -a ASSIGNMENT -o OUTDIR [--public-only] [--seed N]\n"
          "                     [--slot N]\n"
          "  SUBMISSION   a folder or a .tar.gz\n"
          "  ASSIGNMENT   a folder with assignment.yaml, or a name under assignments/\n"
          "  OUTDIR       where results.json, junit.xml, report.md and report.html go\n"
          "  --public-only  run only the public checks (what students and CI see)\n"
          "  --seed N     seed of every generated input (default 1)\n"
          "  --slot N     sandbox slot: student code runs as uid 60000 + N (default 0);\n"
          "               graders running at once may share a slot, but a slot of its\n"
          "               own lets each tell its processes apart\n"
          "  --quiet      no progress lines\n",
          out);
}

int dg_command_grade(int argc, char **argv)
{
    static const struct option options[] = {
        { "assignment", required_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' },
        { "public-only", no_argument, NULL, 'p' },      { "seed", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },            { "help", no_argument, NULL, 'h' },
        { "slot", required_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    const char *assignment = NULL, *output = NULL;
    dg_grade_options grade = { .seed = 1, .verbose = true };
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
        case 'S': {
            char *end;
            errno = 0;
            long slot = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || errno != 0 || slot < 0
                || slot >= DG_SANDBOX_MAX_SLOTS) {
                fprintf(stderr, "dlgrade grade: --slot needs an integer from 0 to %d, not '%s'\n",
                        DG_SANDBOX_MAX_SLOTS - 1, optarg);
                return DG_EXIT_USAGE;
            }
            grade.slot = (int)slot;
            break;
        }
        case 'h': grade_usage(stdout); return DG_EXIT_OK;
        default: grade_usage(stderr); return DG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || assignment == NULL || output == NULL) {
        fprintf(stderr, "dlgrade grade: need one SUBMISSION, -a ASSIGNMENT and -o OUTDIR\n");
        grade_usage(stderr);
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
    dg_sandbox_capabilities sandbox;
    status = dg_sandbox_probe(&sandbox, &err);
    if (status != NN_OK) {
        fprintf(stderr, "dlgrade grade: the sandbox is not usable: %s\n", err.message);
        free(config);
        return DG_EXIT_INTERNAL;
    }
    dg_report report = { 0 };
    status = dg_grade(&report, config, submission, &grade, &sandbox, &err);
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
        exit_status = dg_exit_status(status);
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
