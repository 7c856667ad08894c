/*
 * loader.c - the mini-batch loader and per-channel normalisation.
 *
 * All buffers are allocated in nn_loader_new (or when augmentation and
 * normalisation are set), so producing a batch cannot fail: it copies the
 * selected samples and their targets, augments and normalises in place in
 * the loader's own batch buffer.
 */
#include "nn/loader.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Distinct stream numbers for nn_rng_split: order and augmentation. */
enum { LOADER_STREAM_ORDER = 1, LOADER_STREAM_AUGMENT = 2 };

struct nn_loader {
    const nn_dataset *dataset;  /* borrowed */
    size_t batch_size;
    bool shuffle;
    bool drop_last;
    bool has_rng;
    nn_rng order_rng;
    nn_rng augment_rng;
    size_t *order;              /* (count) sample visited at each step */
    size_t position;            /* next step of the epoch */
    bool epoch_started;

    nn_real *inputs;            /* (batch_size, sample_size) */
    int *labels;                /* (batch_size, target_size) or NULL */
    nn_real *targets;           /* (batch_size, target_size) or NULL */
    size_t *indices;            /* (batch_size) */

    bool training;
    bool augment;               /* an active augmentation config is set */
    nn_augment_config augment_config;
    nn_real *augment_scratch;   /* nn_augment_scratch_size() elements */

    size_t norm_channels;       /* 0: no normalisation */
    size_t norm_inner;          /* see nn_dataset_channel_count */
    nn_real *norm_mean;         /* (norm_channels) */
    nn_real *norm_inv_std;      /* (norm_channels), 1 / std */
};

/* ---- channels -------------------------------------------------------------- */

/* Channel layout of a sample shape: value v is in channel (v / inner) % C. */
static void channel_layout(const nn_shape *shape, size_t *channels, size_t *inner)
{
    size_t size = nn_shape_size(shape);
    switch (shape->rank) {
    case 3:
        *channels = shape->dims[0];
        *inner = shape->dims[1] * shape->dims[2];
        break;
    case 1:
    case 2:
        *channels = shape->dims[shape->rank - 1];
        *inner = 1;
        break;
    default:
        *channels = 1;
        *inner = size;
        break;
    }
}

size_t nn_dataset_channel_count(const nn_dataset *dataset)
{
    size_t channels, inner;
    channel_layout(&dataset->sample_shape, &channels, &inner);
    return channels;
}

static nn_status check_channels(const nn_dataset *dataset, size_t channels, const char *what,
                                nn_error *err)
{
    size_t expected = nn_dataset_channel_count(dataset);
    if (channels != expected) {
        char shape[64];
        nn_shape_format(shape, sizeof shape, &dataset->sample_shape);
        return nn_error_set(err, NN_ERR_SHAPE,
                            "%s: dataset %s has samples %s with %zu channels, got %zu", what,
                            dataset->name, shape, expected, channels);
    }
    return NN_OK;
}

static nn_status check_std(const nn_real *std, size_t channels, const char *what,
                           nn_error *err)
{
    for (size_t c = 0; c < channels; c++)
        if (!(std[c] > 0) || !isfinite((double)std[c]))
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "%s: std[%zu] = %g must be finite and > 0", what, c,
                                (double)std[c]);
    return NN_OK;
}

nn_status nn_dataset_channel_stats(nn_real *mean, nn_real *std, const nn_dataset *dataset,
                                   size_t channels, nn_error *err)
{
    nn_status status = check_channels(dataset, channels, "channel statistics", err);
    if (status != NN_OK)
        return status;
    size_t count_c, inner;
    channel_layout(&dataset->sample_shape, &count_c, &inner);
    double *sums = calloc(2 * channels, sizeof *sums);
    if (sums == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "channel statistics: out of memory");
    double *squares = sums + channels;
    size_t sample_size = dataset->sample_size;
    /* Every channel holds the same share of values: n * size / C. */
    double per_channel = (double)dataset->count * (double)(sample_size / channels);

    /* Two passes (mean, then squared deviations) avoid the cancellation of
     * E[x^2] - E[x]^2 on data with a large mean. */
    for (size_t i = 0; i < dataset->count; i++) {
        const nn_real *x = dataset->inputs + i * sample_size;
        for (size_t v = 0; v < sample_size; v++)
            sums[(v / inner) % channels] += (double)x[v];
    }
    for (size_t c = 0; c < channels; c++)
        sums[c] /= per_channel;
    for (size_t i = 0; i < dataset->count; i++) {
        const nn_real *x = dataset->inputs + i * sample_size;
        for (size_t v = 0; v < sample_size; v++) {
            double d = (double)x[v] - sums[(v / inner) % channels];
            squares[(v / inner) % channels] += d * d;
        }
    }
    for (size_t c = 0; c < channels; c++) {
        double deviation = sqrt(squares[c] / per_channel);
        mean[c] = (nn_real)sums[c];
        std[c] = (nn_real)(deviation < 1e-12 ? 1.0 : deviation);
    }
    free(sums);
    return NN_OK;
}

/* x = (x - mean[c]) * inv_std[c] over `count` samples of sample_size. */
static void normalize(nn_real *inputs, size_t count, size_t sample_size, size_t channels,
                      size_t inner, const nn_real *mean, const nn_real *inv_std)
{
    for (size_t i = 0; i < count; i++) {
        nn_real *x = inputs + i * sample_size;
        for (size_t v = 0; v < sample_size; v++) {
            size_t c = (v / inner) % channels;
            x[v] = (x[v] - mean[c]) * inv_std[c];
        }
    }
}

nn_status nn_dataset_normalize(nn_dataset *dataset, const nn_real *mean, const nn_real *std,
                               size_t channels, nn_error *err)
{
    nn_status status = check_channels(dataset, channels, "normalisation", err);
    if (status == NN_OK)
        status = check_std(std, channels, "normalisation", err);
    if (status != NN_OK)
        return status;
    nn_real *inv_std = malloc(channels * sizeof *inv_std);
    if (inv_std == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "normalisation: out of memory");
    for (size_t c = 0; c < channels; c++)
        inv_std[c] = (nn_real)(1.0 / (double)std[c]);
    size_t count_c, inner;
    channel_layout(&dataset->sample_shape, &count_c, &inner);
    normalize(dataset->inputs, dataset->count, dataset->sample_size, channels, inner, mean,
              inv_std);
    free(inv_std);
    return NN_OK;
}

/* ---- the loader ---------------------------------------------------------- */

void nn_loader_free(nn_loader *loader)
{
    if (loader == NULL)
        return;
    free(loader->order);
    free(loader->inputs);
    free(loader->labels);
    free(loader->targets);
    free(loader->indices);
    free(loader->augment_scratch);
    free(loader->norm_mean);
    free(loader->norm_inv_std);
    free(loader);
}

nn_status nn_loader_new(nn_loader **out, const nn_dataset *dataset, size_t batch_size,
                        bool shuffle, bool drop_last, nn_rng *rng, nn_error *err)
{
    *out = NULL;
    if (dataset == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loader: NULL dataset");
    if (batch_size == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loader for %s: batch size 0", dataset->name);
    if (drop_last && batch_size > dataset->count)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "loader for %s: batch size %zu with drop_last on %zu samples "
                            "would give no batch at all",
                            dataset->name, batch_size, dataset->count);
    if (dataset->sample_shape.rank >= NN_MAX_DIMS)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "loader for %s: samples of rank %d make batches of rank %d, more "
                            "than the %d dimensions of a tensor",
                            dataset->name, dataset->sample_shape.rank,
                            dataset->sample_shape.rank + 1, NN_MAX_DIMS);
    if (shuffle && rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "loader for %s: shuffling needs a random generator, got NULL",
                            dataset->name);
    if (batch_size > SIZE_MAX / dataset->sample_size)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loader for %s: batch size %zu is too large",
                            dataset->name, batch_size);

    nn_loader *loader = calloc(1, sizeof *loader);
    if (loader == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "loader for %s: out of memory", dataset->name);
    loader->dataset = dataset;
    loader->batch_size = batch_size;
    loader->shuffle = shuffle;
    loader->drop_last = drop_last;
    loader->training = true;
    if (rng != NULL) {
        loader->has_rng = true;
        nn_rng parent = nn_rng_split(rng, 0);
        loader->order_rng = nn_rng_split(&parent, LOADER_STREAM_ORDER);
        loader->augment_rng = nn_rng_split(&parent, LOADER_STREAM_AUGMENT);
    }
    loader->order = malloc(dataset->count * sizeof *loader->order);
    loader->inputs = malloc(batch_size * dataset->sample_size * sizeof *loader->inputs);
    loader->indices = malloc(batch_size * sizeof *loader->indices);
    if (dataset->target_kind == NN_TARGET_REAL)
        loader->targets = malloc(batch_size * dataset->target_size * sizeof *loader->targets);
    else
        loader->labels = malloc(batch_size * dataset->target_size * sizeof *loader->labels);
    if (loader->order == NULL || loader->inputs == NULL || loader->indices == NULL ||
        (loader->targets == NULL && loader->labels == NULL)) {
        nn_loader_free(loader);
        return nn_error_set(err, NN_ERR_MEMORY,
                            "loader for %s: out of memory for batches of %zu", dataset->name,
                            batch_size);
    }
    for (size_t i = 0; i < dataset->count; i++)
        loader->order[i] = i;
    *out = loader;
    return NN_OK;
}

void nn_loader_start_epoch(nn_loader *loader)
{
    /* Shuffling the previous order (rather than the identity again) is as
     * uniform and keeps one rng draw sequence per epoch. */
    if (loader->shuffle)
        nn_rng_shuffle(&loader->order_rng, loader->order, loader->dataset->count);
    loader->position = 0;
    loader->epoch_started = true;
}

size_t nn_loader_batch_count(const nn_loader *loader)
{
    size_t count = loader->dataset->count;
    return loader->drop_last ? count / loader->batch_size
                             : (count + loader->batch_size - 1) / loader->batch_size;
}

bool nn_loader_next(nn_loader *loader, nn_batch *batch)
{
    if (!loader->epoch_started)
        nn_loader_start_epoch(loader);
    const nn_dataset *dataset = loader->dataset;
    size_t remaining = dataset->count - loader->position;
    size_t size = remaining < loader->batch_size ? remaining : loader->batch_size;
    if (size == 0 || (loader->drop_last && size < loader->batch_size))
        return false;

    size_t sample_size = dataset->sample_size, target_size = dataset->target_size;
    const nn_shape *shape = &dataset->sample_shape;
    for (size_t j = 0; j < size; j++) {
        size_t i = loader->order[loader->position + j];
        loader->indices[j] = i;
        nn_real *x = loader->inputs + j * sample_size;
        const nn_real *source = dataset->inputs + i * sample_size;
        if (loader->augment && loader->training)
            nn_augment_apply(x, loader->augment_scratch, source, (int)shape->dims[0],
                             (int)shape->dims[1], (int)shape->dims[2], &loader->augment_config,
                             &loader->augment_rng);
        else
            memcpy(x, source, sample_size * sizeof *x);
        if (loader->labels != NULL)
            memcpy(loader->labels + j * target_size, dataset->labels + i * target_size,
                   target_size * sizeof *loader->labels);
        else
            memcpy(loader->targets + j * target_size, dataset->targets + i * target_size,
                   target_size * sizeof *loader->targets);
    }
    loader->position += size;
    if (loader->norm_channels > 0)
        normalize(loader->inputs, size, sample_size, loader->norm_channels, loader->norm_inner,
                  loader->norm_mean, loader->norm_inv_std);

    batch->size = size;
    batch->shape.rank = shape->rank + 1;
    batch->shape.dims[0] = size;
    for (int d = 0; d < shape->rank; d++)
        batch->shape.dims[d + 1] = shape->dims[d];
    for (int d = shape->rank + 1; d < NN_MAX_DIMS; d++)
        batch->shape.dims[d] = 0;
    batch->inputs = loader->inputs;
    batch->labels = loader->labels;
    batch->targets = loader->targets;
    batch->indices = loader->indices;
    return true;
}

nn_status nn_loader_set_augment(nn_loader *loader, const nn_augment_config *config,
                                nn_error *err)
{
    const nn_dataset *dataset = loader->dataset;
    if (config == NULL || !nn_augment_config_is_active(config)) {
        loader->augment = false;
        return NN_OK;
    }
    const nn_shape *shape = &dataset->sample_shape;
    char shape_text[64];
    nn_shape_format(shape_text, sizeof shape_text, shape);
    if (shape->rank != 3)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "loader for %s: augmentation needs (C, H, W) image samples, "
                            "got %s",
                            dataset->name, shape_text);
    if (!loader->has_rng)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "loader for %s: augmentation needs the random generator that "
                            "nn_loader_new was given NULL for",
                            dataset->name);
    if (dataset->target_kind == NN_TARGET_MAP && nn_augment_config_is_geometric(config))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "loader for %s: flip, crop and rotation would move pixels away "
                            "from their per-pixel labels; use only brightness, contrast, "
                            "blur and noise on segmentation data",
                            dataset->name);
    if (shape->dims[0] > INT_MAX || shape->dims[1] > INT_MAX || shape->dims[2] > INT_MAX)
        return nn_error_set(err, NN_ERR_SHAPE, "loader for %s: image %s is too large",
                            dataset->name, shape_text);
    int channels = (int)shape->dims[0], height = (int)shape->dims[1],
        width = (int)shape->dims[2];
    nn_status status = nn_augment_config_validate(config, channels, height, width, err);
    if (status != NN_OK)
        return nn_error_prefix(err, "loader for %s", dataset->name);
    if (loader->augment_scratch == NULL) {
        loader->augment_scratch =
            malloc(nn_augment_scratch_size(channels, height, width) * sizeof(nn_real));
        if (loader->augment_scratch == NULL)
            return nn_error_set(err, NN_ERR_MEMORY, "loader for %s: out of memory",
                                dataset->name);
    }
    loader->augment_config = *config;
    loader->augment = true;
    return NN_OK;
}

void nn_loader_set_training(nn_loader *loader, bool training)
{
    loader->training = training;
}

nn_status nn_loader_set_normalization(nn_loader *loader, const nn_real *mean,
                                      const nn_real *std, size_t channels, nn_error *err)
{
    const nn_dataset *dataset = loader->dataset;
    if (mean == NULL) {
        loader->norm_channels = 0;
        return NN_OK;
    }
    if (std == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loader for %s: mean given without std",
                            dataset->name);
    nn_status status = check_channels(dataset, channels, "loader normalisation", err);
    if (status == NN_OK)
        status = check_std(std, channels, "loader normalisation", err);
    if (status != NN_OK)
        return status;
    nn_real *new_mean = malloc(channels * sizeof *new_mean);
    nn_real *new_inv_std = malloc(channels * sizeof *new_inv_std);
    if (new_mean == NULL || new_inv_std == NULL) {
        free(new_mean);
        free(new_inv_std);
        return nn_error_set(err, NN_ERR_MEMORY, "loader for %s: out of memory", dataset->name);
    }
    for (size_t c = 0; c < channels; c++) {
        new_mean[c] = mean[c];
        new_inv_std[c] = (nn_real)(1.0 / (double)std[c]);
    }
    free(loader->norm_mean);
    free(loader->norm_inv_std);
    loader->norm_mean = new_mean;
    loader->norm_inv_std = new_inv_std;
    size_t count_c;
    channel_layout(&dataset->sample_shape, &count_c, &loader->norm_inner);
    loader->norm_channels = channels;
    return NN_OK;
}
