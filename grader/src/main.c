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

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dlgrade COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  train MODEL.yaml [--data NAME] [--epochs N] [--seed N] [--save FILE]\n"
          "                   [--curve FILE] [--limit N] [--threads N]\n"
          "        train a model with the reference units and report loss and accuracy\n"
          "\n"
          "Run `dlgrade COMMAND --help` for a command's options.\n",
          out);
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
    fprintf(stderr, "dlgrade: unknown command '%s'\n\n", command);
    usage(stderr);
    return DG_EXIT_USAGE;
}
