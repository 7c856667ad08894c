/*
 * network.c - the sequential container: builds layers from a spec (shape
 * inference, so a spec error is found before anything runs), owns the
 * activation and gradient buffers, and runs forward, loss and backward.
 */
#include "nn/loss.h"
#include "nn/network.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static nn_status copy_spec(nn_model_spec **out, const nn_model_spec *spec, nn_error *err)
{
    nn_model_spec *copy = malloc(sizeof *copy);
    nn_layer_spec *layers = malloc((size_t)spec->layer_count * sizeof *layers);
    if (copy == NULL || layers == NULL) {
        free(copy);
        free(layers);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", spec->path);
    }
    *copy = *spec;
    memcpy(layers, spec->layers, (size_t)spec->layer_count * sizeof *layers);
    copy->layers = layers;
    *out = copy;
    return NN_OK;
}

/* The loss decides what the last layer must produce. */
static nn_status check_output(const nn_model_spec *spec, const nn_layer *last, nn_error *err)
{
    const nn_layer_spec *where = &spec->layers[spec->layer_count - 1];
    char text[64];
    nn_shape_format(text, sizeof text, &last->output_shape);
    if (spec->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && last->output_shape.rank != 1
        && last->output_shape.rank != 3)
        return nn_layer_spec_error(err, NN_ERR_SHAPE, spec, where,
                                   "softmax_cross_entropy needs class scores (K) or score maps "
                                   "(K, H, W); the last layer gives %s", text);
    if (spec->loss == NN_LOSS_BCE_WITH_LOGITS && last->output_size != 1)
        return nn_layer_spec_error(err, NN_ERR_SHAPE, spec, where,
                                   "bce_with_logits needs one logit per sample; the last layer "
                                   "gives %s", text);
    if (spec->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && strcmp(last->type, "softmax") == 0)
        return nn_layer_spec_error(err, NN_ERR_SHAPE, spec, where,
                                   "softmax_cross_entropy applies the softmax itself; end the "
                                   "network with the logits, not a softmax layer");
    return NN_OK;
}

static nn_status collect_parameters(nn_network *network, nn_error *err)
{
    size_t count = 0;
    for (int i = 0; i < network->layer_count; i++)
        count += (size_t)network->layers[i]->parameter_count;
    network->parameters = calloc(count ? count : 1, sizeof *network->parameters);
    if (network->parameters == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "network: out of memory");
    for (int i = 0; i < network->layer_count; i++) {
        nn_layer *layer = network->layers[i];
        for (int p = 0; p < layer->parameter_count; p++) {
            network->parameters[network->parameter_count++] = layer->parameters[p];
            network->parameter_total += layer->parameters[p].count;
        }
    }
    return NN_OK;
}

nn_status nn_network_new(nn_network **out, const nn_model_spec *spec, int max_batch,
                         nn_rng *rng, nn_error *err)
{
    *out = NULL;
    if (max_batch < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "network: batch size %d", max_batch);
    if (spec->layer_count < 1 || spec->layers == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: the model has no layers", spec->path);
    nn_network *network = calloc(1, sizeof *network);
    if (network == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "network: out of memory");
    nn_status status = copy_spec(&network->spec, spec, err);
    if (status != NN_OK) {
        free(network);
        return status;
    }
    int count = spec->layer_count;
    network->max_batch = max_batch;
    network->layers = calloc((size_t)count, sizeof *network->layers);
    network->activations = calloc((size_t)count + 1, sizeof *network->activations);
    network->gradients = calloc((size_t)count + 1, sizeof *network->gradients);
    if (network->layers == NULL || network->activations == NULL || network->gradients == NULL) {
        nn_network_free(network);
        return nn_error_set(err, NN_ERR_MEMORY, "network: out of memory");
    }

    nn_shape shape = spec->input_shape;
    for (int i = 0; i < count; i++) {
        const nn_layer_spec *layer_spec = &network->spec->layers[i];
        const nn_layer_type *type = nn_layer_type_find(layer_spec->type);
        if (type == NULL) {
            status = nn_layer_spec_error(err, NN_ERR_FORMAT, spec, layer_spec,
                                         "unknown layer type '%s'", layer_spec->type);
            break;
        }
        status = type->create(&network->layers[i], network->spec, layer_spec, &shape,
                              max_batch, rng, err);
        if (status != NN_OK)
            break;
        network->layer_count = i + 1;
        shape = network->layers[i]->output_shape;
        size_t values = (size_t)max_batch * network->layers[i]->output_size;
        network->activations[i + 1] = malloc(values * sizeof(nn_real));
        network->gradients[i + 1] = malloc(values * sizeof(nn_real));
        if (network->activations[i + 1] == NULL || network->gradients[i + 1] == NULL) {
            status = nn_layer_spec_error(err, NN_ERR_MEMORY, spec, layer_spec,
                                         "out of memory for %d samples", max_batch);
            break;
        }
    }
    if (status == NN_OK)
        status = check_output(network->spec, network->layers[count - 1], err);
    if (status == NN_OK)
        status = collect_parameters(network, err);
    if (status == NN_OK) {
        /* Softmax probabilities, or 0/1 labels as reals for bce_with_logits. */
        network->loss_buffer = malloc((size_t)max_batch * nn_network_output_size(network)
                                      * sizeof(nn_real));
        if (network->loss_buffer == NULL)
            status = nn_error_set(err, NN_ERR_MEMORY, "network: out of memory");
    }
    if (status != NN_OK) {
        nn_network_free(network);
        return status;
    }
    *out = network;
    return NN_OK;
}

/* ---- planning ----------------------------------------------------------------- */

/* Whether a limit (0: none) is crossed by value. */
static bool over(double value, double limit)
{
    return limit > 0 && value > limit;
}

nn_status nn_network_plan_spec(nn_network_plan *out, const nn_model_spec *spec,
                               const nn_network_limits *limits, nn_error *err)
{
    *out = (nn_network_plan){ .output_shape = spec->input_shape };
    nn_network_limits none = { 0 };
    if (limits == NULL)
        limits = &none;
    if (spec->layer_count < 1 || spec->layers == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: the model has no layers", spec->path);
    out->activations = nn_shape_size(&spec->input_shape);
    if (over((double)out->activations, (double)limits->max_activations)) {
        char text[64];
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: the input %s has %zu values, more than "
                            "the %zu allowed", spec->path,
                            nn_shape_format(text, sizeof text, &spec->input_shape),
                            out->activations, limits->max_activations);
    }
    /* The layers are built from a copy marked plan_only, one at a time,
     * and each is destroyed once measured. */
    nn_model_spec *copy;
    nn_status status = copy_spec(&copy, spec, err);
    if (status != NN_OK)
        return status;
    for (int i = 0; i < copy->layer_count; i++)
        copy->layers[i].plan_only = true;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_shape shape = spec->input_shape;
    for (int i = 0; status == NN_OK && i < copy->layer_count; i++) {
        const nn_layer_spec *layer_spec = &copy->layers[i];
        const nn_layer_type *type = nn_layer_type_find(layer_spec->type);
        if (type == NULL) {
            status = nn_layer_spec_error(err, NN_ERR_FORMAT, copy, layer_spec,
                                         "unknown layer type '%s'", layer_spec->type);
            break;
        }
        nn_layer *layer = NULL;
        status = type->create(&layer, copy, layer_spec, &shape, 1, &rng, err);
        if (status != NN_OK)
            break;
        size_t parameters = 0, buffers = 0;
        for (int p = 0; p < layer->parameter_count; p++)
            parameters += layer->parameters[p].count;
        for (int b = 0; b < layer->buffer_count; b++)
            buffers += layer->buffer_sizes[b];
        out->layer_count = i + 1;
        out->parameters += parameters;
        out->buffers += buffers;
        out->flops += layer->flops;
        out->activations += layer->output_size;
        out->output_shape = shape = layer->output_shape;
        if (over((double)(out->parameters + out->buffers), (double)limits->max_parameters))
            status = nn_layer_spec_error(err, NN_ERR_ARGUMENT, copy, layer_spec,
                                         "%zu parameters in this layer make %zu in the model, "
                                         "more than the %zu allowed", parameters + buffers,
                                         out->parameters + out->buffers,
                                         limits->max_parameters);
        else if (over(out->flops, limits->max_flops))
            status = nn_layer_spec_error(err, NN_ERR_ARGUMENT, copy, layer_spec,
                                         "%.0f FLOPs per sample in this layer make %.0f in the "
                                         "model, more than the %.0f allowed", layer->flops,
                                         out->flops, limits->max_flops);
        else if (over((double)out->activations, (double)limits->max_activations))
            status = nn_layer_spec_error(err, NN_ERR_ARGUMENT, copy, layer_spec,
                                         "its output of %zu values per sample makes %zu in the "
                                         "model's layers, more than the %zu allowed",
                                         layer->output_size, out->activations,
                                         limits->max_activations);
        else if (i == copy->layer_count - 1)
            status = check_output(copy, layer, err);
        layer->ops->destroy(layer);
    }
    nn_model_spec_free(copy);
    return status;
}

void nn_network_free(nn_network *network)
{
    if (network == NULL)
        return;
    for (int i = 0; i < network->layer_count; i++)
        network->layers[i]->ops->destroy(network->layers[i]);
    if (network->activations != NULL && network->spec != NULL)
        for (int i = 1; i <= network->spec->layer_count; i++) {
            free(network->activations[i]);
            free(network->gradients[i]);
        }
    free(network->layers);
    free(network->activations);
    free(network->gradients);
    free(network->parameters);
    free(network->loss_buffer);
    nn_model_spec_free(network->spec);
    free(network);
}

static nn_status layer_failed(nn_error *err, const nn_network *network, int i, nn_status status,
                              const char *pass, int batch)
{
    const nn_layer *layer = network->layers[i];
    if (status == NN_ERR_NOT_IMPLEMENTED)
        return nn_error_set(err, status, "layer %s (%s line %d): %s_%s is not implemented yet",
                            layer->name, network->spec->path, layer->line, layer->type, pass);
    return nn_error_set(err, status, "layer %s (%s line %d): %s %s failed on a batch of %d: %s",
                        layer->name, network->spec->path, layer->line, layer->type, pass, batch,
                        nn_status_name(status));
}

nn_status nn_network_forward(nn_network *network, const nn_real *x, int batch,
                             const nn_run_context *context, nn_error *err)
{
    if (batch < 1 || batch > network->max_batch)
        return nn_error_set(err, NN_ERR_ARGUMENT, "network: batch of %d, room for 1..%d", batch,
                            network->max_batch);
    /* The input is only read; activations[0] borrows it for backward. */
    network->activations[0] = (nn_real *)(uintptr_t)x;
    for (int i = 0; i < network->layer_count; i++) {
        nn_layer *layer = network->layers[i];
        nn_status status = layer->ops->forward(layer, network->activations[i + 1],
                                               network->activations[i], batch, context);
        if (status != NN_OK)
            return layer_failed(err, network, i, status, "forward", batch);
    }
    return NN_OK;
}

nn_real *nn_network_output(const nn_network *network)
{
    return network->activations[network->layer_count];
}

size_t nn_network_output_size(const nn_network *network)
{
    return network->layers[network->layer_count - 1]->output_size;
}

/* Classes and positions of the output: (K) is K classes at 1 position,
 * (K, H, W) is K classes at H*W positions. */
static void output_classes(const nn_network *network, int *classes, int *spatial)
{
    const nn_shape *shape = &network->layers[network->layer_count - 1]->output_shape;
    *classes = (int)shape->dims[0];
    *spatial = (int)(nn_shape_size(shape) / shape->dims[0]);
}

nn_status nn_network_loss(nn_network *network, double *loss, const int *labels,
                          const nn_real *targets, int batch, bool want_gradient, nn_error *err)
{
    nn_loss_kind kind = network->spec->loss;
    bool wants_labels = kind == NN_LOSS_SOFTMAX_CROSS_ENTROPY
                        || (kind == NN_LOSS_BCE_WITH_LOGITS && targets == NULL);
    if (batch < 1 || batch > network->max_batch)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loss %s: batch of %d, room for 1..%d",
                            nn_loss_kind_name(kind), batch, network->max_batch);
    if (wants_labels ? labels == NULL : targets == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "loss %s needs %s, and none were given",
                            nn_loss_kind_name(kind),
                            wants_labels ? "class labels" : "real targets");
    nn_real *output = nn_network_output(network);
    nn_real *doutput = network->gradients[network->layer_count];
    size_t count = (size_t)batch * nn_network_output_size(network);
    nn_status status = NN_OK;
    if (want_gradient)
        memset(doutput, 0, count * sizeof(nn_real));
    switch (network->spec->loss) {
    case NN_LOSS_SOFTMAX_CROSS_ENTROPY: {
        int classes, spatial;
        output_classes(network, &classes, &spatial);
        status = nn_softmax_cross_entropy_forward(loss, network->loss_buffer, output, labels,
                                                  batch, classes, spatial, err);
        if (status == NN_OK && want_gradient)
            status = nn_softmax_cross_entropy_backward(doutput, network->loss_buffer, labels,
                                                       batch, classes, spatial, 1);
        break;
    }
    case NN_LOSS_BCE_WITH_LOGITS: {
        /* Class labels 0/1 become real targets in the loss buffer. */
        const nn_real *as_real = targets;
        if (as_real == NULL) {
            for (int i = 0; i < batch; i++) {
                if (labels[i] != 0 && labels[i] != 1)
                    return nn_error_set(err, NN_ERR_ARGUMENT, "loss bce_with_logits: label %d "
                                        "of sample %d is not 0 or 1", labels[i], i);
                network->loss_buffer[i] = (nn_real)labels[i];
            }
            as_real = network->loss_buffer;
        }
        status = nn_bce_with_logits_loss_forward(loss, output, as_real, count);
        if (status == NN_OK && want_gradient)
            status = nn_bce_with_logits_loss_backward(doutput, output, as_real, count, 1);
        break;
    }
    case NN_LOSS_MSE:
        status = nn_mse_loss_forward(loss, output, targets, count);
        if (status == NN_OK && want_gradient)
            status = nn_mse_loss_backward(doutput, output, targets, count, 1);
        break;
    case NN_LOSS_L1:
        status = nn_l1_loss_forward(loss, output, targets, count);
        if (status == NN_OK && want_gradient)
            status = nn_l1_loss_backward(doutput, output, targets, count, 1);
        break;
    }
    if (status == NN_ERR_NOT_IMPLEMENTED)
        return nn_error_set(err, status, "loss %s is not implemented yet",
                            nn_loss_kind_name(network->spec->loss));
    if (status != NN_OK && err != NULL && err->status != status)
        nn_error_set(err, status, "loss %s failed: %s", nn_loss_kind_name(network->spec->loss),
                     nn_status_name(status));
    return status;
}

nn_status nn_network_backward(nn_network *network, int batch, nn_error *err)
{
    /* Below the first layer with parameters nothing needs a gradient: the
     * backward pass stops there, and that layer computes no dx. For an MLP
     * that starts with flatten, this saves a third of the first linear
     * layer's arithmetic. */
    int first = 0;
    while (first < network->layer_count - 1 && network->layers[first]->parameter_count == 0)
        first++;
    for (int i = network->layer_count - 1; i >= first; i--) {
        nn_layer *layer = network->layers[i];
        nn_real *dx = NULL;
        if (i > first) {
            dx = network->gradients[i];
            memset(dx, 0, (size_t)batch * layer->input_size * sizeof(nn_real));
        }
        nn_status status = layer->ops->backward(layer, dx, network->gradients[i + 1],
                                                network->activations[i],
                                                network->activations[i + 1], batch);
        if (status != NN_OK)
            return layer_failed(err, network, i, status, "backward", batch);
    }
    return NN_OK;
}

void nn_network_zero_grad(nn_network *network)
{
    for (size_t i = 0; i < network->parameter_count; i++)
        memset(network->parameters[i].grad, 0, network->parameters[i].count * sizeof(nn_real));
}

void nn_network_predict(const nn_network *network, int *predictions, int batch)
{
    int classes, spatial;
    output_classes(network, &classes, &spatial);
    const nn_real *output = nn_network_output(network);
    if (network->spec->loss == NN_LOSS_BCE_WITH_LOGITS) {
        for (int n = 0; n < batch; n++)
            predictions[n] = output[n] > 0;
        return;
    }
    for (int n = 0; n < batch; n++) {
        const nn_real *scores = output + (size_t)n * classes * spatial;
        for (int s = 0; s < spatial; s++) {
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (scores[(size_t)k * spatial + s] > scores[(size_t)best * spatial + s])
                    best = k;
            predictions[(size_t)n * spatial + s] = best;
        }
    }
}
