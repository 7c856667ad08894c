/*
 * dataset.h - an in-memory dataset: inputs as nn_real, targets as class
 * labels (one per sample, or one per pixel for segmentation) or as reals.
 *
 * Ownership: nn_dataset_new() allocates everything; nn_dataset_free()
 * releases it and accepts NULL. Loaders and generators return datasets made
 * this way.
 */
#ifndef NN_DATASET_H
#define NN_DATASET_H

#include "nn/core.h"
#include "nn/tensor.h"

typedef enum nn_target_kind {
    NN_TARGET_CLASS,  /* labels[i]: one class per sample */
    NN_TARGET_MAP,    /* labels[i * target_size + p]: one class per pixel */
    NN_TARGET_REAL    /* targets[i * target_size + k]: regression values */
} nn_target_kind;

typedef struct nn_dataset {
    char name[64];
    size_t count;            /* number of samples */
    nn_shape sample_shape;   /* one input, e.g. (1, 28, 28), (2) or (T, 2) */
    size_t sample_size;      /* elements per input */
    nn_real *inputs;         /* (count, sample_size) */
    nn_target_kind target_kind;
    size_t target_size;      /* 1 for NN_TARGET_CLASS; pixels or values else */
    int *labels;             /* (count, target_size), classes; NULL for REAL */
    nn_real *targets;        /* (count, target_size); NULL unless REAL */
    int class_count;         /* 0 for NN_TARGET_REAL */
} nn_dataset;

/* Allocates a zero-filled dataset. */
nn_status nn_dataset_new(nn_dataset **out, const char *name, size_t count,
                         const nn_shape *sample_shape, nn_target_kind target_kind,
                         size_t target_size, int class_count, nn_error *err);
void nn_dataset_free(nn_dataset *dataset);

/* Copies samples [first, first + count) into a new dataset (a validation
 * split, a subset for a quick check). */
nn_status nn_dataset_slice(nn_dataset **out, const nn_dataset *source, size_t first,
                           size_t count, nn_error *err);

#endif
