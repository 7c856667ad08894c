/*
 * train.h - the training loop and evaluation of a network on datasets.
 *
 * The loop is mini-batch gradient descent with the optimizer, schedule,
 * batch size and augmentation of the model spec's `train` section: per batch,
 * forward in training mode, loss and its gradient, backward, one optimizer
 * step. After each epoch the test set is evaluated in eval mode (no dropout,
 * batch norm's running statistics). Progress is reported through callbacks,
 * so the library never prints.
 *
 * Randomness: the caller's generator seeds the data order, augmentation and
 * dropout streams; the same seed and the same build give the same weights.
 */
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include "nn/dataset.h"
#include "nn/network.h"
#include "nn/rng.h"

#include <stdbool.h>

/* Per-channel standardisation with training-set statistics (see
 * nn_dataset_channel_stats); an empty one (channels 0) does nothing. */
typedef struct nn_normalization {
    size_t channels;
    nn_real *mean;  /* (channels), owned */
    nn_real *std;   /* (channels), owned */
} nn_normalization;

nn_status nn_normalization_compute(nn_normalization *out, const nn_dataset *dataset,
                                   nn_error *err);
void nn_normalization_release(nn_normalization *normalization);

typedef struct nn_epoch_report {
    int epoch;              /* 1-based */
    int epochs;
    double learning_rate;   /* used during this epoch */
    double train_loss;      /* mean over the epoch's batches, training mode */
    double train_accuracy;  /* running, during the epoch (NAN for regression) */
    double test_loss;
    double test_accuracy;   /* eval mode, whole test set (NAN for regression) */
    double seconds;         /* wall time of the epoch's training and testing */
} nn_epoch_report;

typedef struct nn_train_callbacks {
    void *context;
    /* After each batch: batches done of the epoch's total, mean loss so far. */
    void (*on_batch)(void *context, int epoch, size_t done, size_t total, double loss);
    void (*on_epoch)(void *context, const nn_epoch_report *report);
} nn_train_callbacks;

typedef struct nn_train_options {
    int epochs;                  /* > 0 overrides the spec's */
    const nn_normalization *normalization; /* NULL: inputs as they are */
} nn_train_options;

/* Trains network on train, testing on test (which may be NULL) after each
 * epoch. callbacks may be NULL; rng may not. The last epoch's report is left
 * in *last when last is not NULL. Data whose sample shape, target kind,
 * target count or class count does not fit the model is refused before
 * anything changes, naming both sides. A network with batch norm skips an
 * epoch's last batch when it would hold a single sample. */
nn_status nn_train(nn_network *network, const nn_dataset *train, const nn_dataset *test,
                   const nn_train_options *options, nn_rng *rng,
                   const nn_train_callbacks *callbacks, nn_epoch_report *last, nn_error *err);

/* Runs network in eval mode over data. Any of loss, accuracy, predictions
 * may be NULL; predictions is (count, target_size) for class targets.
 * Accuracy is the fraction of correct classes (pixels for label maps). */
nn_status nn_evaluate(nn_network *network, const nn_dataset *data,
                      const nn_normalization *normalization, double *loss, double *accuracy,
                      int *predictions, nn_error *err);

#endif
