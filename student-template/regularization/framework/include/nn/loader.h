/*
 * loader.h - mini-batches from an in-memory dataset: shuffling per epoch,
 * optional augmentation of training images, and per-channel normalisation.
 *
 * Typical use:
 *
 *     nn_loader *loader;
 *     nn_loader_new(&loader, train, 64, true, false, &rng, &err);
 *     nn_loader_set_normalization(loader, mean, std, channels, &err);
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         nn_loader_start_epoch(loader);
 *         nn_batch batch;
 *         while (nn_loader_next(loader, &batch))
 *             train_step(batch.inputs, batch.labels, batch.size);
 *     }
 *     nn_loader_free(loader);
 *
 * Ownership: the loader borrows the dataset (which must outlive it and is
 * never modified) and owns the batch buffers; the pointers in an nn_batch
 * stay valid until the next nn_loader_next or nn_loader_free.
 *
 * Randomness: nn_loader_new splits two private streams off the caller's
 * generator (one draw from it), one for the order of the samples and one
 * for augmentation, so the same seed gives the same batches, and switching
 * augmentation on or off leaves the order unchanged.
 *
 * Per batch, each sample is copied from the dataset, then augmented (in
 * training mode, when a config is set; augmentation expects raw [0, 1]
 * pixels), then normalised (when mean and std are set).
 */
#ifndef NN_LOADER_H
#define NN_LOADER_H

#include "nn/augment.h"
#include "nn/core.h"
#include "nn/dataset.h"
#include "nn/rng.h"
#include "nn/tensor.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nn_loader nn_loader;

/* One mini-batch; every pointer is owned by the loader. */
typedef struct nn_batch {
    size_t size;            /* samples in this batch, 1..batch_size */
    nn_shape shape;         /* (size, sample dims...) of inputs */
    nn_real *inputs;        /* (size, sample_size) */
    int *labels;            /* (size, target_size) classes; NULL for REAL targets */
    nn_real *targets;       /* (size, target_size); NULL unless REAL targets */
    const size_t *indices;  /* (size) position of each sample in the dataset */
} nn_batch;

/* Makes a loader over `dataset` with batches of batch_size samples. With
 * shuffle, each epoch visits the samples in a new random order; without,
 * in dataset order. With drop_last, a final batch smaller than batch_size
 * is skipped; otherwise it is produced. rng may be NULL only when neither
 * shuffling nor augmentation is wanted; it is advanced by one draw.
 * Refused: batch_size 0, drop_last with batch_size > count (no batch at
 * all), samples of rank 4 (a batch of them has no NCHW shape). */
nn_status nn_loader_new(nn_loader **out, const nn_dataset *dataset, size_t batch_size,
                        bool shuffle, bool drop_last, nn_rng *rng, nn_error *err);
void nn_loader_free(nn_loader *loader);

/* Starts an epoch: rewinds and, with shuffle, draws a new order. The first
 * call to nn_loader_next on a new loader starts the first epoch by itself;
 * after an epoch ends, nn_loader_next returns false until this is called. */
void nn_loader_start_epoch(nn_loader *loader);

/* Fills batch with the next mini-batch and returns true, or returns false
 * when the epoch has no more batches. */
bool nn_loader_next(nn_loader *loader, nn_batch *batch);

/* Batches one epoch produces: ceil(count / B), or floor with drop_last. */
size_t nn_loader_batch_count(const nn_loader *loader);

/* Turns augmentation on (or off, with NULL or an all-off config). Needs
 * image samples (rank 3, (C, H, W)) and a generator given to
 * nn_loader_new; geometric transforms are refused on per-pixel label maps,
 * whose labels they would misalign. The config is copied. */
nn_status nn_loader_set_augment(nn_loader *loader, const nn_augment_config *config,
                                nn_error *err);

/* Training mode (the default) augments; evaluation mode does not, so the
 * same loader can be reused to measure accuracy on unaltered inputs. */
void nn_loader_set_training(nn_loader *loader, bool training);

/* Normalises every batch: x = (x - mean[c]) / std[c] for the channel c of
 * each value (see nn_dataset_channel_count). channels must equal that
 * count; std values must be > 0. NULL mean turns normalisation off. The
 * arrays are copied. */
nn_status nn_loader_set_normalization(nn_loader *loader, const nn_real *mean,
                                      const nn_real *std, size_t channels, nn_error *err);

/* ---- per-channel statistics ----------------------------------------------
 * What a "channel" is depends on the rank of the sample shape:
 *   rank 3 (C, H, W): the C image channels, each over its H W pixels;
 *   rank 1 (D) and rank 2 (T, F): each feature of the LAST axis, over the
 *     samples (and, for sequences, over the T steps): standardising each
 *     feature on its own is what tabular and sequence data need;
 *   rank 0 or 4: one channel over every value.
 * Value v of a sample (flat offset) belongs to channel (v / inner) % C with
 * inner = H W for rank 3 and 1 otherwise. */
size_t nn_dataset_channel_count(const nn_dataset *dataset);

/* mean, std: (channels), channels == nn_dataset_channel_count(dataset).
 * Population statistics over every sample (divide by n, two passes in
 * double). A channel with standard deviation below 1e-12 (constant) gets
 * std 1, so normalising only centres it instead of dividing by zero. */
nn_status nn_dataset_channel_stats(nn_real *mean, nn_real *std, const nn_dataset *dataset,
                                   size_t channels, nn_error *err);

/* Normalises a dataset's inputs in place, with the rule of
 * nn_loader_set_normalization. Use it for data that is never augmented
 * (augmentation expects raw [0, 1] pixels). */
nn_status nn_dataset_normalize(nn_dataset *dataset, const nn_real *mean, const nn_real *std,
                               size_t channels, nn_error *err);

#endif
