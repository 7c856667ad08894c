/*
 * dataset.c - allocation and slicing of in-memory datasets.
 */
#include "nn/dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_status nn_dataset_new(nn_dataset **out, const char *name, size_t count,
                         const nn_shape *sample_shape, nn_target_kind target_kind,
                         size_t target_size, int class_count, nn_error *err)
{
    *out = NULL;
    nn_status status = nn_shape_validate(sample_shape, name, err);
    if (status != NN_OK)
        return status;
    if (count == 0 || target_size == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "dataset %s: %zu samples of %zu targets",
                            name, count, target_size);
    if (target_kind != NN_TARGET_CLASS && target_kind != NN_TARGET_MAP
        && target_kind != NN_TARGET_REAL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "dataset %s: unknown target kind %d", name,
                            (int)target_kind);
    if (target_kind == NN_TARGET_CLASS && target_size != 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "dataset %s: class targets are one label per sample, not %zu",
                            name, target_size);
    if (target_kind != NN_TARGET_REAL && class_count < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "dataset %s: %d classes", name, class_count);
    /* count * sample_size and count * target_size must not wrap around:
     * a wrapped product would allocate a small buffer for a huge count. */
    size_t sample_size = nn_shape_size(sample_shape);
    size_t widest = sample_size > target_size ? sample_size : target_size;
    if (count > SIZE_MAX / sizeof(nn_real) / widest)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "dataset %s: %zu samples of %zu inputs and %zu targets are too many",
                            name, count, sample_size, target_size);
    nn_dataset *dataset = calloc(1, sizeof *dataset);
    if (dataset == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "dataset %s: out of memory", name);
    snprintf(dataset->name, sizeof dataset->name, "%s", name);
    dataset->count = count;
    dataset->sample_shape = *sample_shape;
    dataset->sample_size = sample_size;
    dataset->target_kind = target_kind;
    dataset->target_size = target_size;
    dataset->class_count = target_kind == NN_TARGET_REAL ? 0 : class_count;
    dataset->inputs = calloc(count * dataset->sample_size, sizeof(nn_real));
    if (target_kind == NN_TARGET_REAL)
        dataset->targets = calloc(count * target_size, sizeof(nn_real));
    else
        dataset->labels = calloc(count * target_size, sizeof(int));
    if (dataset->inputs == NULL || (dataset->targets == NULL && dataset->labels == NULL)) {
        nn_dataset_free(dataset);
        return nn_error_set(err, NN_ERR_MEMORY, "dataset %s: out of memory for %zu samples",
                            name, count);
    }
    *out = dataset;
    return NN_OK;
}

void nn_dataset_free(nn_dataset *dataset)
{
    if (dataset == NULL)
        return;
    free(dataset->inputs);
    free(dataset->labels);
    free(dataset->targets);
    free(dataset);
}

nn_status nn_dataset_slice(nn_dataset **out, const nn_dataset *source, size_t first,
                           size_t count, nn_error *err)
{
    *out = NULL;
    if (first > source->count || count > source->count - first || count == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "dataset %s: slice [%zu, %zu) is outside its %zu samples",
                            source->name, first, first + count, source->count);
    nn_dataset *slice;
    nn_status status = nn_dataset_new(&slice, source->name, count, &source->sample_shape,
                                      source->target_kind, source->target_size,
                                      source->class_count, err);
    if (status != NN_OK)
        return status;
    memcpy(slice->inputs, source->inputs + first * source->sample_size,
           count * source->sample_size * sizeof(nn_real));
    if (source->labels != NULL)
        memcpy(slice->labels, source->labels + first * source->target_size,
               count * source->target_size * sizeof(int));
    else
        memcpy(slice->targets, source->targets + first * source->target_size,
               count * source->target_size * sizeof(nn_real));
    *out = slice;
    return NN_OK;
}
