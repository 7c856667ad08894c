/*
 * linear_layer.c - the linear kernel as a network layer: options `out`
 * (features), `bias` (true), `init` (he_uniform) and `value` (for constant
 * initialisation). Its input must already be flat: a (C, H, W) input needs
 * a flatten layer first, which the spec must say.
 */
#include "nn/layers.h"
#include "nn/network.h"

#include <stdbool.h>

typedef struct linear_layer {
    nn_layer base;
    int in_features, out_features;
    bool has_bias;
} linear_layer;

static nn_status linear_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                const nn_run_context *context)
{
    linear_layer *self = (linear_layer *)layer;
    (void)context;
    return nn_linear_forward(out, x, layer->parameters[0].value,
                             self->has_bias ? layer->parameters[1].value : NULL, batch,
                             self->in_features, self->out_features);
}

static nn_status linear_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                 const nn_real *x, const nn_real *out, int batch)
{
    linear_layer *self = (linear_layer *)layer;
    (void)out;
    return nn_linear_backward(dx, layer->parameters[0].grad,
                              self->has_bias ? layer->parameters[1].grad : NULL, dout, x,
                              layer->parameters[0].value, batch, self->in_features,
                              self->out_features);
}

static const nn_layer_ops linear_ops = {
    .forward = linear_forward,
    .backward = linear_backward,
    .destroy = nn_layer_free_common,
};

static nn_status linear_create(nn_layer **out, const nn_model_spec *model,
                               const nn_layer_spec *spec, const nn_shape *input_shape,
                               int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch;
    *out = NULL;
    if (input_shape->rank != 1) {
        char text[64];
        return nn_layer_spec_error(err, NN_ERR_SHAPE, model, spec,
                                   "a linear layer needs a flat input, but receives %s; add a "
                                   "flatten layer before it",
                                   nn_shape_format(text, sizeof text, input_shape));
    }
    int out_features;
    bool has_bias;
    double constant;
    nn_init_kind init;
    nn_status status = nn_layer_spec_int(&out_features, model, spec, "out", 0, 1, 1 << 20, err);
    if (status == NN_OK && out_features == 0)
        status = nn_layer_spec_error(err, NN_ERR_FORMAT, model, spec,
                                     "a linear layer needs `out`, its number of outputs");
    if (status == NN_OK)
        status = nn_layer_spec_bool(&has_bias, model, spec, "bias", true, err);
    if (status == NN_OK)
        status = nn_layer_spec_init(&init, model, spec, "init", NN_INIT_HE_UNIFORM, err);
    if (status == NN_OK)
        status = nn_layer_spec_double(&constant, model, spec, "value", 0.1, -100, 100, err);
    if (status != NN_OK)
        return status;

    int in_features = (int)input_shape->dims[0];
    nn_shape output_shape = nn_shape_1d((size_t)out_features);
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(linear_layer), &linear_ops, "linear", spec,
                            input_shape, &output_shape, err);
    if (status != NN_OK)
        return status;
    linear_layer *self = (linear_layer *)layer;
    self->in_features = in_features;
    self->out_features = out_features;
    self->has_bias = has_bias;

    nn_shape weight_shape = nn_shape_2d((size_t)out_features, (size_t)in_features);
    nn_shape bias_shape = nn_shape_1d((size_t)out_features);
    status = nn_layer_add_parameter(layer, "weight", &weight_shape, true, err);
    if (status == NN_OK && self->has_bias)
        status = nn_layer_add_parameter(layer, "bias", &bias_shape, false, err);
    if (status == NN_OK && !layer->planned)
        status = nn_init_weights(layer->parameters[0].value, layer->parameters[0].count,
                                 in_features, out_features, init, (nn_real)constant, rng, err);
    if (status != NN_OK) {
        nn_layer_free_common(layer);
        return status;
    }
    /* One multiply and one add per weight, per sample. */
    layer->flops = 2.0 * in_features * out_features;
    layer->field_global = true;
    *out = layer;
    return NN_OK;
}

static const char *const linear_keys[] = { "out", "bias", "init", "value", NULL };
const nn_layer_type nn_layer_type_linear = { "linear", linear_keys, linear_create };
