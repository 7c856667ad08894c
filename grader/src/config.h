/*
 * config.h - an assignment as its assignment.yaml declares it: the units
 * students implement, the checks that grade them, points, visibility,
 * tolerances, thresholds and resource limits.
 *
 *     assignment: fc-networks
 *     title: Fully-connected networks
 *     units:
 *       linear:
 *         file: linear.c
 *         functions: [nn_linear_forward, nn_linear_backward]
 *     limits: {cpu_seconds: 10, memory_mb: 512}
 *     build_limits: {cpu_seconds: 30, memory_mb: 1024}
 *     checks:
 *       - id: linear-forward
 *         name: Linear layer, forward pass
 *         kind: compare
 *         function: nn_linear_forward
 *         points: 2
 *         visibility: public
 *         tolerance: 1e-6
 *       - id: submitted-model
 *         kind: model            # the student's trained spec + weights
 *         spec: model.yaml       # file names in the submission
 *         weights: model.weights
 *         starter: ../../reference/models/mlp_sgd.yaml  # template's model.yaml
 *         data: fashion-mnist    # evaluated on its test split
 *         max_parameters: 1000000
 *         max_flops: 2500000     # per sample, forward
 *         threshold: {floor: 0.75, target: 0.84}
 *         points: 10
 *
 * dg_config_load() checks everything (unknown keys, types, a check naming a
 * unit or function that does not exist, duplicate ids, points that do not
 * add up to `total_points` when given) and reports every problem as
 * file:line:column: message, not just the first.
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include "nn/core.h"
#include "report.h"
#include "sandbox.h"

#include <stdbool.h>

#define DG_MAX_UNITS 32
#define DG_MAX_UNIT_FUNCTIONS 8
#define DG_MAX_CHECKS 96
#define DG_MAX_CHECK_REFERENCES 16

typedef struct dg_unit {
    char name[48];                 /* "linear" */
    char file[64];                 /* "linear.c", what the student edits */
    int function_count;
    char functions[DG_MAX_UNIT_FUNCTIONS][64];
    int line;
} dg_unit;

typedef enum dg_check_kind {
    DG_CHECK_COMPARE,
    DG_CHECK_GRADCHECK,
    DG_CHECK_TRAIN,
    DG_CHECK_MEMCHECK,
    DG_CHECK_QUIZ,
    DG_CHECK_MODEL
} dg_check_kind;

typedef struct dg_check_config {
    char id[64];
    char name[160];
    dg_check_kind kind;
    double points;
    dg_visibility visibility;
    int line;                      /* in assignment.yaml, for messages */
    dg_sandbox_limits limits;
    /* compare, gradcheck */
    char function[64];
    int unit;                      /* index into units; -1 for train, memcheck, quiz */
    double tolerance;              /* compare: relative to max(1, |expected|); gradcheck: relative error */
    int samples;                   /* gradcheck: coordinates per gradient */
    /* train */
    char model[256];               /* path of the model spec, resolved */
    char data[32];                 /* dataset name */
    int unit_count;                /* units whose student code is linked in */
    int units[DG_MAX_UNITS];
    int epochs;
    int train_samples;             /* 0: all */
    double floor, target;          /* accuracy: 0 points at floor, full at target */
    /* memcheck */
    int reference_count;
    int references[DG_MAX_CHECK_REFERENCES]; /* indices of the checks rerun */
    /* quiz */
    char key[256];                 /* path of the answer key, resolved */
    char answers[64];              /* file in the submission, "answers.yaml" */
    /* model: a spec and weights file the student submits, evaluated by
     * the grader itself on data's test split (floor and target as for
     * train); no student code runs */
    char spec_file[64];            /* in the submission, "model.yaml" */
    char weights_file[64];         /* in the submission, "model.weights" */
    char starter[256];             /* spec shipped as spec_file in the template,
                                      resolved; "" for none */
    size_t max_parameters;         /* bounds on the submitted spec, checked */
    double max_flops;              /* before anything is allocated for it */
} dg_check_config;

typedef struct dg_config {
    char path[512];                /* assignment.yaml */
    char directory[512];           /* its folder */
    char name[64];
    char title[128];
    double total_points;           /* declared; 0 when not declared */
    int unit_count;
    dg_unit units[DG_MAX_UNITS];
    int check_count;
    dg_check_config checks[DG_MAX_CHECKS];
    /* Reference units shipped whole with the student template (worked
     * examples, or units of an earlier assignment); names of
     * reference/src/<name>.c files. */
    int provided_count;
    char provided[DG_MAX_UNITS][48];
    /* Compiling and linking a unit in the sandbox (`build_limits:`):
     * by default 30 s CPU, 60 s wall, 1 GiB, 16 processes, 64 KiB of
     * compiler messages. */
    dg_sandbox_limits build_limits;
} dg_config;

/* Loads and validates. On failure the status is NN_ERR_FORMAT (or
 * NN_ERR_IO), err holds the first problem, and *problems (when problems is
 * not NULL) every problem found, one per line ("file:line:col: message"),
 * malloc'd for the caller to free. */
nn_status dg_config_load(dg_config *config, const char *path, char **problems, nn_error *err);

/* The unit named `name`, or -1. */
int dg_config_find_unit(const dg_config *config, const char *name);
int dg_config_find_check(const dg_config *config, const char *id);

const char *dg_check_kind_name(dg_check_kind kind);

#endif
