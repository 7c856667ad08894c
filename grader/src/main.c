/*
 * main.c - the dlgrade command line: one subcommand per job.
 *
 * Exit status, for every subcommand (DESIGN.md):
 *   0  done, and for grading: every check passed
 *   1  graded, some check failed
 *   2  bad input: usage, config, submission, dataset; nothing was done
 *   3  internal error
 */
#include "dlgrade.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: dlgrade COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  train MODEL.yaml [--data NAME] [--epochs N] [--seed N] [--save FILE]\n"
          "                   [--curve FILE] [--limit N] [--threads N]\n"
          "        train a model with the reference units and report loss and accuracy\n"
          "  summary MODEL.yaml\n"
          "        each layer's output shape, parameters, receptive field and FLOPs\n"
          "  grade SUBMISSION -a ASSIGNMENT -o OUTDIR [--public-only] [--seed N] [--jobs N]\n"
          "        grade a folder or .tar.gz in the sandbox; write the four reports\n"
          "  batch SUBMISSIONS_DIR -a ASSIGNMENT -o OUTDIR [--jobs N] [--resume]\n"
          "                   [--seed N] [--public-only]\n"
          "        grade a whole class, N submissions at once; write grades.csv and\n"
          "        summary.md\n"
          "  release ASSIGNMENT -o DIR\n"
          "        generate the student template (stubs, handout, public checks, CI)\n"
          "  validate ASSIGNMENT\n"
          "        check an assignment.yaml fully; problems as file:line:column\n"
          "\n"
          "Run `dlgrade COMMAND --help` for a command's options.\n",
          out);
}

/* Grading computes expected values in double precision; the float build
 * (fast training) hands grading commands to its double sibling,
 * build/double/dlgrade next to build/float/dlgrade. */
static int run_in_double(char **argv)
{
#if NN_REAL_IS_DOUBLE
    (void)argv;
    return -1;
#else
    char self[PATH_MAX], sibling[PATH_MAX + 32];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0)
        return DG_EXIT_INTERNAL;
    self[length] = '\0';
    char *folder = dirname(self);
    snprintf(sibling, sizeof sibling, "%s/../double/dlgrade", folder);
    execv(sibling, argv);
    fprintf(stderr, "dlgrade: cannot run the double-precision grader %s (run make)\n", sibling);
    return DG_EXIT_INTERNAL;
#endif
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DG_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0
        || strcmp(command, "help") == 0) {
        usage(stdout);
        return DG_EXIT_OK;
    }
    if (strcmp(command, "train") == 0)
        return dg_command_train(argc - 1, argv + 1);
    if (strcmp(command, "summary") == 0)
        return dg_command_summary(argc - 1, argv + 1);
    if (strcmp(command, "grade") == 0 || strcmp(command, "validate") == 0
        || strcmp(command, "release") == 0 || strcmp(command, "batch") == 0) {
        int handed_over = run_in_double(argv);
        if (handed_over >= 0)
            return handed_over;
        if (strcmp(command, "grade") == 0)
            return dg_command_grade(argc - 1, argv + 1);
        if (strcmp(command, "release") == 0)
            return dg_command_release(argc - 1, argv + 1);
        if (strcmp(command, "batch") == 0)
            return dg_command_batch(argc - 1, argv + 1);
        return dg_command_validate(argc - 1, argv + 1);
    }
    fprintf(stderr, "dlgrade: unknown command '%s'\n\n", command);
    usage(stderr);
    return DG_EXIT_USAGE;
}
