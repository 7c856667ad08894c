/*
 * model_eval.c - loading a submitted model within bounds, and its accuracy.
 *
 * The order is the order of cost: the spec's size, its YAML, its fit to
 * the data, its plan (sizes without arrays), the weights file's size, and
 * only then the network's arrays and the weights. A spec that asks for
 * 10^12 parameters is refused at the layer that crosses the bound, by
 * arithmetic; a gzip bomb is read no further than the reference reader's
 * own bound for this network (weights.c).
 *
 * Memory for evaluation: activations and gradients (2 values per output
 * value) and convolution workspaces (about flops / 2 values) per sample,
 * times the batch; the batch is chosen to keep that near 2^23 values.
 */
#include "model_eval.h"

#include "files.h"

#include "nn/train.h"
#include "nn/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EVAL_BUDGET_VALUES ((double)(1 << 23))
#define EVAL_MAX_BATCH 256

dg_model_limits dg_model_limits_of(size_t max_parameters, double max_flops)
{
    return (dg_model_limits){
        .max_parameters = max_parameters,
        .max_flops = max_flops,
        .max_activations = DG_MODEL_MAX_ACTIVATIONS,
        .max_spec_bytes = DG_MODEL_MAX_SPEC_BYTES,
        .max_weights_bytes = 4 * max_parameters + ((size_t)1 << 20),
    };
}

/* The library names a file by the path it opened; the student knows it by
 * its name in the submission. */
static void rename_file(nn_error *err, const dg_model_file *file)
{
    size_t length = strlen(file->path);
    if (err == NULL || strncmp(err->message, file->path, length) != 0)
        return;
    char message[NN_ERROR_MESSAGE_SIZE];
    snprintf(message, sizeof message, "%s%s", file->name, err->message + length);
    snprintf(err->message, sizeof err->message, "%s", message);
}

/* Anything wrong with a file is bad input; only the machine's failures
 * keep their status. */
static nn_status input_error(nn_status status)
{
    return status == NN_ERR_MEMORY ? status : NN_ERR_FORMAT;
}

/* The spec's text, at most limit bytes, NUL-terminated; a NUL inside is
 * refused (libyaml would stop there, and the rest would go unread).
 * Messages name the file as the student knows it, not the grader's path. */
static nn_status read_spec(char **out, const dg_model_file *spec, size_t limit, nn_error *err)
{
    size_t size = 0;
    nn_error local;
    nn_error_clear(&local);
    *out = dg_read_file(spec->path, limit, &size, &local);
    if (*out == NULL) {
        if (local.status == NN_ERR_FORMAT)
            return nn_error_set(err, NN_ERR_FORMAT, "%s: longer than %zu bytes, the most a "
                                "model spec may have", spec->name, limit);
        return nn_error_set(err, local.status, "%s: cannot read", spec->name);
    }
    size_t nul = strlen(*out);
    if (nul < size) {
        free(*out);
        *out = NULL;
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: a NUL byte: a model spec is "
                            "YAML text", spec->name, nul);
    }
    return NN_OK;
}

/* "name:line:col: " of a top-level key of the spec's text, or "name: ". */
static void key_place(char *out, size_t size, const dg_model_file *spec, const char *text,
                      const char *key)
{
    nn_yaml_document *document = NULL;
    nn_error ignored;
    nn_yaml_node *node = NULL;
    if (nn_yaml_load_string(&document, spec->name, text, &ignored) == NN_OK
        && nn_yaml_is_mapping(nn_yaml_root(document)))
        node = nn_yaml_get(document, nn_yaml_root(document), key);
    if (node != NULL)
        snprintf(out, size, "%s:%d:%d: ", spec->name, nn_yaml_line(node), nn_yaml_column(node));
    else
        snprintf(out, size, "%s: ", spec->name);
    nn_yaml_free(document);
}

/* The spec must take data's samples and give one score per class (per
 * class and pixel for label maps) under a classification loss: anything
 * else cannot be scored by accuracy. */
static nn_status check_fit(const nn_model_spec *model, const nn_network_plan *plan,
                           const dg_model_file *spec, const char *text, const nn_dataset *data,
                           nn_error *err)
{
    char place[600], have[64], want[64];
    if (!nn_shape_equal(&model->input_shape, &data->sample_shape)) {
        key_place(place, sizeof place, spec, text, "input");
        return nn_error_set(err, NN_ERR_FORMAT, "%sthe model's input %s does not match the "
                            "samples %s of %s", place,
                            nn_shape_format(have, sizeof have, &model->input_shape),
                            nn_shape_format(want, sizeof want, &data->sample_shape), data->name);
    }
    bool classes = model->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY
                   || (model->loss == NN_LOSS_BCE_WITH_LOGITS && data->class_count == 2);
    if (!classes || data->target_kind == NN_TARGET_REAL) {
        key_place(place, sizeof place, spec, text, "loss");
        return nn_error_set(err, NN_ERR_FORMAT, "%sloss %s cannot be scored by accuracy on %s "
                            "(%d classes): use softmax_cross_entropy", place,
                            nn_loss_kind_name(model->loss), data->name, data->class_count);
    }
    const nn_layer_spec *last = &model->layers[model->layer_count - 1];
    size_t outputs = nn_shape_size(&plan->output_shape);
    size_t needed = model->loss == NN_LOSS_BCE_WITH_LOGITS
                        ? data->target_size
                        : (size_t)data->class_count * data->target_size;
    bool fits = outputs == needed
                && (model->loss == NN_LOSS_BCE_WITH_LOGITS
                    || plan->output_shape.dims[0] == (size_t)data->class_count);
    if (!fits)
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: the model's output is %s, "
                            "but %s needs %zu score%s per sample (%d classes%s)", spec->name,
                            last->line, last->column, last->name,
                            nn_shape_format(have, sizeof have, &plan->output_shape), data->name,
                            needed, needed == 1 ? "" : "s", data->class_count,
                            data->target_size > 1 ? ", per pixel" : "");
    return NN_OK;
}

static int evaluation_batch(const nn_network_plan *plan)
{
    double per_sample = 2.0 * (double)plan->activations + plan->flops / 2 + 1;
    double batch = EVAL_BUDGET_VALUES / per_sample;
    return batch >= EVAL_MAX_BATCH ? EVAL_MAX_BATCH : batch < 1 ? 1 : (int)batch;
}

nn_status dg_model_load(nn_network **out, nn_network_plan *plan, const dg_model_file *spec,
                        const dg_model_file *weights, const nn_dataset *data,
                        const dg_model_limits *limits, nn_error *err)
{
    *out = NULL;
    char *text = NULL;
    nn_model_spec *model = NULL;
    nn_network *network = NULL;
    nn_network_plan local = { 0 };
    if (plan == NULL)
        plan = &local;
    nn_status status = read_spec(&text, spec, limits->max_spec_bytes, err);
    if (status == NN_OK) {
        status = nn_model_spec_parse(&model, spec->name, text, err);
        if (status != NN_OK)
            status = input_error(status);
    }
    if (status == NN_OK) {
        nn_network_limits bounds = { .max_parameters = limits->max_parameters,
                                     .max_flops = limits->max_flops,
                                     .max_activations = limits->max_activations };
        /* The input first: a plan of the wrong input would only confuse. */
        if (!nn_shape_equal(&model->input_shape, &data->sample_shape))
            status = check_fit(model, plan, spec, text, data, err);
        else
            status = nn_network_plan_spec(plan, model, &bounds, err);
        if (status != NN_OK)
            status = input_error(status);
        else
            status = check_fit(model, plan, spec, text, data, err);
    }
    if (status == NN_OK) {
        struct stat info;
        if (stat(weights->path, &info) != 0)
            status = nn_error_set(err, NN_ERR_IO, "%s: cannot read: %s", weights->name,
                                  strerror(errno));
        else if ((size_t)info.st_size > limits->max_weights_bytes)
            status = nn_error_set(err, NN_ERR_FORMAT, "%s: %lld bytes, more than the %zu a "
                                  "weights file of at most %zu parameters may have",
                                  weights->name, (long long)info.st_size,
                                  limits->max_weights_bytes, limits->max_parameters);
    }
    if (status == NN_OK) {
        /* The weights replace every value: the generator only fills what
         * is about to be overwritten. */
        nn_rng rng;
        nn_rng_seed(&rng, 1);
        status = nn_network_new(&network, model, evaluation_batch(plan), &rng, err);
    }
    if (status == NN_OK) {
        status = nn_weights_load(network, weights->path, err);
        if (status != NN_OK) {
            rename_file(err, weights);
            status = status == NN_ERR_IO ? status : input_error(status);
        }
    }
    free(text);
    nn_model_spec_free(model);
    if (status != NN_OK) {
        nn_network_free(network);
        return status;
    }
    *out = network;
    return NN_OK;
}

nn_status dg_model_accuracy(double *accuracy, nn_network *network, const nn_dataset *data,
                            nn_error *err)
{
    /* Predictions are asked for, so that no loss is computed: the score is
     * the accuracy alone. */
    int *predictions = malloc(data->count * data->target_size * sizeof *predictions);
    if (predictions == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory for %zu predictions",
                            data->count * data->target_size);
    nn_status status = nn_evaluate(network, data, NULL, NULL, accuracy, predictions, err);
    free(predictions);
    return status;
}
