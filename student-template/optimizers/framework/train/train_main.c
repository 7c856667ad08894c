/*
 * train_main.c - `make train` in the student template: the grader's own
 * `dlgrade train`, linked with the student's units instead of the
 * reference.
 */
#include "dlgrade.h"

int main(int argc, char **argv)
{
    /* dg_command_train reads its arguments from its own name on, as the
     * `train` subcommand of dlgrade does. */
    return dg_command_train(argc, argv);
}
