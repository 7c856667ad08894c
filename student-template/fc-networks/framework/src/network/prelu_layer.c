/*
 * prelu_layer.c - PReLU as a network layer: one learnable slope shared by
 * all inputs (the default, as in PyTorch), or one per channel with
 * `per_channel: true` (the first axis of the input). `init` is the starting
 * slope, 0.25 by default.
 */
#include "nn/layers.h"
#include "nn/network.h"

typedef struct prelu_layer {
    nn_layer base;
    int channels, spatial;  /* slopes, and values sharing one slope per sample */
} prelu_layer;

static nn_status prelu_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                               const nn_run_context *context)
{
    prelu_layer *self = (prelu_layer *)layer;
    (void)context;
    return nn_prelu_forward(out, x, layer->parameters[0].value, batch, self->channels,
                            self->spatial);
}

static nn_status prelu_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                const nn_real *x, const nn_real *out, int batch)
{
    prelu_layer *self = (prelu_layer *)layer;
    (void)out;
    return nn_prelu_backward(dx, layer->parameters[0].grad, dout, x, layer->parameters[0].value,
                             batch, self->channels, self->spatial);
}

static const nn_layer_ops prelu_ops = { prelu_forward, prelu_backward, nn_layer_free_common };

static nn_status prelu_create(nn_layer **out, const nn_model_spec *model,
                              const nn_layer_spec *spec, const nn_shape *input_shape,
                              int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    bool per_channel;
    double init;
    nn_status status = nn_layer_spec_bool(&per_channel, model, spec, "per_channel", false, err);
    if (status == NN_OK)
        status = nn_layer_spec_double(&init, model, spec, "init", 0.25, -10, 10, err);
    if (status != NN_OK)
        return status;
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(prelu_layer), &prelu_ops, "prelu", spec,
                            input_shape, input_shape, err);
    if (status != NN_OK)
        return status;
    prelu_layer *self = (prelu_layer *)layer;
    size_t size = nn_shape_size(input_shape);
    self->channels = per_channel ? (int)input_shape->dims[0] : 1;
    self->spatial = (int)(size / (size_t)self->channels);
    nn_shape slope_shape = nn_shape_1d((size_t)self->channels);
    status = nn_layer_add_parameter(layer, "slope", &slope_shape, false, err);
    if (status != NN_OK) {
        nn_layer_free_common(layer);
        return status;
    }
    for (int c = 0; c < self->channels && !layer->planned; c++)
        layer->parameters[0].value[c] = (nn_real)init;
    *out = layer;
    return NN_OK;
}

static const char *const prelu_keys[] = { "per_channel", "init", NULL };
const nn_layer_type nn_layer_type_prelu = { "prelu", prelu_keys, prelu_create };
