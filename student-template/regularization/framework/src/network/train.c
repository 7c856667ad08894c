/*
 * train.c - mini-batch training and evaluation.
 */
#include "nn/train.h"

#include "nn/loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

nn_status nn_normalization_compute(nn_normalization *out, const nn_dataset *dataset,
                                   nn_error *err)
{
    out->channels = nn_dataset_channel_count(dataset);
    out->mean = malloc(out->channels * sizeof(nn_real));
    out->std = malloc(out->channels * sizeof(nn_real));
    if (out->mean == NULL || out->std == NULL) {
        nn_normalization_release(out);
        return nn_error_set(err, NN_ERR_MEMORY, "normalisation: out of memory");
    }
    nn_status status = nn_dataset_channel_stats(out->mean, out->std, dataset, out->channels, err);
    if (status != NN_OK)
        nn_normalization_release(out);
    return status;
}

void nn_normalization_release(nn_normalization *normalization)
{
    free(normalization->mean);
    free(normalization->std);
    *normalization = (nn_normalization){ 0 };
}

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static nn_status check_fit(const nn_network *network, const nn_dataset *data, nn_error *err)
{
    if (!nn_shape_equal(&data->sample_shape, &network->spec->input_shape)) {
        char have[64], want[64];
        return nn_error_set(err, NN_ERR_SHAPE, "dataset %s has samples of shape %s, the model "
                            "%s expects %s", data->name,
                            nn_shape_format(have, sizeof have, &data->sample_shape),
                            network->spec->path,
                            nn_shape_format(want, sizeof want, &network->spec->input_shape));
    }
    nn_loss_kind loss = network->spec->loss;
    bool wants_classes = loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY || loss == NN_LOSS_BCE_WITH_LOGITS;
    if (wants_classes != (data->target_kind != NN_TARGET_REAL))
        return nn_error_set(err, NN_ERR_ARGUMENT, "dataset %s has %s targets, the loss %s needs "
                            "%s", data->name,
                            data->target_kind == NN_TARGET_REAL ? "real" : "class",
                            nn_loss_kind_name(loss), wants_classes ? "classes" : "real values");
    /* The output must fit the targets, or the loss and the predictions
     * would read and write past the batch's buffers. */
    const nn_shape *output = &network->layers[network->layer_count - 1]->output_shape;
    size_t size = nn_shape_size(output);
    size_t classes = loss == NN_LOSS_BCE_WITH_LOGITS ? 2 : output->dims[0];
    size_t positions = loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY ? size / output->dims[0] : size;
    char text[64];
    nn_shape_format(text, sizeof text, output);
    if (wants_classes && positions != data->target_size)
        return nn_error_set(err, NN_ERR_SHAPE, "dataset %s has %zu label%s per sample, the model "
                            "%s gives scores %s for %zu", data->name, data->target_size,
                            data->target_size == 1 ? "" : "s", network->spec->path, text,
                            positions);
    if (wants_classes && classes < (size_t)data->class_count)
        return nn_error_set(err, NN_ERR_SHAPE, "dataset %s has %d classes, the model %s tells "
                            "only %zu apart (output %s)", data->name, data->class_count,
                            network->spec->path, classes, text);
    if (!wants_classes && size != data->target_size)
        return nn_error_set(err, NN_ERR_SHAPE, "dataset %s has %zu targets per sample, the "
                            "model %s gives %zu outputs %s", data->name, data->target_size,
                            network->spec->path, size, text);
    return NN_OK;
}

static bool has_layer(const nn_network *network, const char *type)
{
    for (int i = 0; i < network->layer_count; i++)
        if (strcmp(network->layers[i]->type, type) == 0)
            return true;
    return false;
}

static nn_status make_loader(nn_loader **out, const nn_dataset *data, int batch_size,
                             bool shuffle, bool drop_last,
                             const nn_normalization *normalization, nn_rng *rng, nn_error *err)
{
    nn_status status = nn_loader_new(out, data, (size_t)batch_size, shuffle, drop_last, rng,
                                     err);
    if (status == NN_OK && normalization != NULL && normalization->channels > 0)
        status = nn_loader_set_normalization(*out, normalization->mean, normalization->std,
                                             normalization->channels, err);
    if (status != NN_OK) {
        nn_loader_free(*out);
        *out = NULL;
    }
    return status;
}

/* Correct predictions in a batch (classes or pixels). */
static size_t count_correct(const int *predictions, const int *labels, size_t count)
{
    size_t correct = 0;
    for (size_t i = 0; i < count; i++)
        correct += predictions[i] == labels[i];
    return correct;
}

nn_status nn_evaluate(nn_network *network, const nn_dataset *data,
                      const nn_normalization *normalization, double *loss, double *accuracy,
                      int *predictions, nn_error *err)
{
    nn_status status = check_fit(network, data, err);
    if (status != NN_OK)
        return status;
    nn_loader *loader;
    status = make_loader(&loader, data, network->max_batch, false, false, normalization, NULL,
                         err);
    if (status != NN_OK)
        return status;
    nn_loader_set_training(loader, false);
    int *batch_predictions = malloc((size_t)network->max_batch * data->target_size * sizeof(int));
    if (batch_predictions == NULL) {
        nn_loader_free(loader);
        return nn_error_set(err, NN_ERR_MEMORY, "evaluate: out of memory");
    }
    nn_run_context context = { .training = false, .rng = NULL };
    double loss_sum = 0;
    size_t correct = 0, done = 0;
    nn_batch batch;
    while (status == NN_OK && nn_loader_next(loader, &batch)) {
        int n = (int)batch.size;
        status = nn_network_forward(network, batch.inputs, n, &context, err);
        double batch_loss = 0;
        if (status == NN_OK && (loss != NULL || predictions == NULL))
            status = nn_network_loss(network, &batch_loss, batch.labels, batch.targets, n, false,
                                     err);
        if (status != NN_OK)
            break;
        loss_sum += batch_loss * n;
        if (batch.labels != NULL) {
            size_t values = batch.size * data->target_size;
            nn_network_predict(network, batch_predictions, n);
            correct += count_correct(batch_predictions, batch.labels, values);
            if (predictions != NULL)
                memcpy(predictions + done * data->target_size, batch_predictions,
                       values * sizeof(int));
        }
        done += batch.size;
    }
    free(batch_predictions);
    nn_loader_free(loader);
    if (status != NN_OK)
        return status;
    if (loss != NULL)
        *loss = loss_sum / (double)data->count;
    if (accuracy != NULL)
        *accuracy = data->target_kind == NN_TARGET_REAL
                        ? NAN
                        : (double)correct / (double)(data->count * data->target_size);
    return NN_OK;
}

static nn_status make_optimizer(nn_optimizer **out, nn_schedule *schedule,
                                const nn_network *network, nn_error *err)
{
    const nn_train_spec *train = &network->spec->train;
    nn_status status = nn_optimizer_new(out, &train->optimizer, network->parameters,
                                        network->parameter_count, err);
    if (status != NN_OK)
        return status;
    nn_schedule_init(schedule, train->schedule, nn_optimizer_learning_rate(*out),
                     train->schedule_gamma, train->schedule_step_size,
                     train->schedule_patience);
    return NN_OK;
}

static nn_status set_augmentation(nn_loader *loader, const nn_dataset *data,
                                  const nn_train_spec *train, nn_error *err)
{
    if (!train->augment_flip && train->augment_crop == 0)
        return NN_OK;
    nn_augment_config config = { 0 };
    config.flip_probability = train->augment_flip ? 0.5 : 0.0;
    config.crop_padding = train->augment_crop;
    nn_status status = nn_loader_set_augment(loader, &config, err);
    if (status != NN_OK)
        nn_error_prefix(err, "augmenting %s", data->name);
    return status;
}

nn_status nn_train(nn_network *network, const nn_dataset *train, const nn_dataset *test,
                   const nn_train_options *options, nn_rng *rng,
                   const nn_train_callbacks *callbacks, nn_epoch_report *last, nn_error *err)
{
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "train: a random generator is needed "
                            "(shuffling, dropout)");
    nn_status status = check_fit(network, train, err);
    if (status == NN_OK && test != NULL)
        status = check_fit(network, test, err);
    if (status != NN_OK)
        return status;
    const nn_train_spec *settings = &network->spec->train;
    int epochs = options != NULL && options->epochs > 0 ? options->epochs : settings->epochs;
    int batch_size = settings->batch_size < network->max_batch ? settings->batch_size
                                                               : network->max_batch;
    /* Batch norm cannot normalise a batch of one sample (its variance is
     * 0); when the last batch of an epoch would be one, it is skipped, as
     * PyTorch users do with drop_last. Shuffling gives that sample its turn
     * in other epochs. */
    bool drop_last = has_layer(network, "batchnorm") && train->count > (size_t)batch_size
                     && train->count % (size_t)batch_size == 1;
    const nn_normalization *normalization = options != NULL ? options->normalization : NULL;
    nn_rng dropout_rng = nn_rng_split(rng, 1);

    nn_loader *loader = NULL;
    nn_optimizer *optimizer = NULL;
    int *predictions = malloc((size_t)network->max_batch * train->target_size * sizeof(int));
    if (predictions == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "train: out of memory");
    status = make_loader(&loader, train, batch_size, true, drop_last, normalization, rng, err);
    if (status == NN_OK)
        status = set_augmentation(loader, train, settings, err);
    nn_schedule schedule;
    if (status == NN_OK)
        status = make_optimizer(&optimizer, &schedule, network, err);

    nn_run_context context = { .training = true, .rng = &dropout_rng };
    nn_epoch_report report = { 0 };
    for (int epoch = 0; status == NN_OK && epoch < epochs; epoch++) {
        double started = seconds_now();
        double learning_rate = nn_optimizer_learning_rate(optimizer);
        double loss_sum = 0;
        size_t correct = 0, labelled = 0, batches = 0;
        size_t total = nn_loader_batch_count(loader);
        nn_loader_start_epoch(loader);
        nn_batch batch;
        while (status == NN_OK && nn_loader_next(loader, &batch)) {
            int n = (int)batch.size;
            double loss = 0;
            status = nn_network_forward(network, batch.inputs, n, &context, err);
            if (status == NN_OK)
                status = nn_network_loss(network, &loss, batch.labels, batch.targets, n, true,
                                         err);
            /* Before the step: a NaN gradient must not reach the weights. */
            if (status == NN_OK && !isfinite(loss))
                status = nn_error_set(err, NN_ERR_NUMERIC, "epoch %d, batch %zu: the loss is "
                                      "%g; lower the learning rate", epoch + 1, batches + 1,
                                      loss);
            if (status == NN_OK) {
                nn_network_zero_grad(network);
                status = nn_network_backward(network, n, err);
            }
            if (status == NN_OK) {
                status = nn_optimizer_step(optimizer);
                if (status != NN_OK)
                    nn_error_set(err, status, "optimizer %s step failed: %s",
                                 settings->optimizer.kind == NN_OPTIMIZER_SGD ? "sgd"
                                 : settings->optimizer.kind == NN_OPTIMIZER_ADAM ? "adam"
                                                                                 : "rmsprop",
                                 nn_status_name(status));
            }
            if (status != NN_OK)
                break;
            loss_sum += loss;
            batches++;
            if (batch.labels != NULL) {
                nn_network_predict(network, predictions, n);
                correct += count_correct(predictions, batch.labels,
                                         batch.size * train->target_size);
                labelled += batch.size * train->target_size;
            }
            if (callbacks != NULL && callbacks->on_batch != NULL)
                callbacks->on_batch(callbacks->context, epoch + 1, batches, total,
                                    loss_sum / (double)batches);
        }
        if (status != NN_OK)
            break;
        report = (nn_epoch_report){
            .epoch = epoch + 1,
            .epochs = epochs,
            .learning_rate = learning_rate,
            .train_loss = loss_sum / (double)(batches ? batches : 1),
            .train_accuracy = labelled ? (double)correct / (double)labelled : NAN,
            .test_loss = NAN,
            .test_accuracy = NAN,
        };
        if (test != NULL)
            status = nn_evaluate(network, test, normalization, &report.test_loss,
                                 &report.test_accuracy, NULL, err);
        report.seconds = seconds_now() - started;
        if (status == NN_OK && callbacks != NULL && callbacks->on_epoch != NULL)
            callbacks->on_epoch(callbacks->context, &report);
        /* The plateau schedule watches the training loss: choosing the
         * learning rate by the test set would leak it into training. */
        nn_optimizer_set_learning_rate(optimizer,
                                       nn_schedule_next(&schedule, epoch + 1, report.train_loss));
    }
    if (last != NULL)
        *last = report;
    nn_optimizer_free(optimizer);
    nn_loader_free(loader);
    free(predictions);
    return status;
}
