/*
 * dlgrade.h - what the dlgrade program's modules share: exit statuses and
 * the subcommands' entry points.
 */
#ifndef DG_DLGRADE_H
#define DG_DLGRADE_H

#include "nn/core.h"
#include "nn/dataset.h"

#include <stdbool.h>

enum {
    DG_EXIT_OK = 0,        /* done; every check passed */
    DG_EXIT_FAILED = 1,    /* graded; some check failed */
    DG_EXIT_USAGE = 2,     /* bad input: usage, config, submission, dataset */
    DG_EXIT_INTERNAL = 3   /* the grader itself broke */
};

/* The exit status for a library status: input problems are 2, the rest 3. */
int dg_exit_status(nn_status status);

/* Each subcommand receives argv from its own name on. */
int dg_command_train(int argc, char **argv);
int dg_command_grade(int argc, char **argv);
int dg_command_summary(int argc, char **argv);
int dg_command_release(int argc, char **argv);
int dg_command_batch(int argc, char **argv);

/* The repository the reference sources are read from (release). */
void dg_source_root(char *out, size_t size);
int dg_command_validate(int argc, char **argv);

/* Finds assignment.yaml for an ASSIGNMENT argument; prints why not. */
int dg_resolve_assignment(char *path, size_t size, const char *assignment);
/* Where the runner kits are (see grade.h). */
void dg_kit_directory(char *out, size_t size);
/* The default of --jobs: the online cores, at most DG_GRADE_MAX_JOBS. */
int dg_default_jobs(void);
/* Parses an integer option's value in [low, high]; prints "dlgrade
 * COMMAND: OPTION needs ..." and returns false otherwise. */
bool dg_parse_int_option(int *out, const char *command, const char *option, const char *text,
                         long low, long high);

/*
 * Opens a named dataset as a train/test pair: "fashion-mnist" (the Debian
 * package, or $DLGRADE_DATA), or a generated one ("blobs", "spirals",
 * "city-streets") drawn from seed. limit > 0 keeps only the first `limit`
 * training samples (quick runs). The caller frees both.
 */
nn_status dg_dataset_open(nn_dataset **train, nn_dataset **test, const char *name,
                          unsigned long long seed, size_t limit, nn_error *err);
/* Names accepted by dg_dataset_open, for messages. */
const char *dg_dataset_names(void);
/* Whether dg_dataset_open knows name (without loading anything). */
bool dg_dataset_known(const char *name);

#endif
