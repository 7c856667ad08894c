/*
 * train_main.c - `make train` in the student template: the grader's own
 * `dlgrade train`, linked with the student's units instead of the
 * reference. Exit status: 0 trained, 1 the training failed (a unit
 * returned an error), 2 bad arguments or data.
 */
#include "dlgrade.h"

int main(int argc, char **argv)
{
    /* dg_command_train reads its arguments from its own name on, as the
     * `train` subcommand of dlgrade does. */
    int status = dg_command_train(argc, argv);
    /* dlgrade train calls a failure inside training (a unit not written
     * yet, a loss that turned NaN) the tool's own fault, status 3. Here
     * the units are the student's, so it is theirs: status 1. */
    return status == DG_EXIT_INTERNAL ? DG_EXIT_FAILED : status;
}
