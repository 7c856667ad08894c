/*
 * batchnorm_layer.c - batch normalisation as a network layer, options
 * `momentum` (0.1) and `epsilon` (1e-5). Channels are the first axis of the
 * input: the features of a flat input, or the channels of a (C, H, W) map,
 * whose H*W positions share their channel's statistics. Two learnable
 * values per channel (gamma, beta); the running mean and variance are
 * buffers, saved with the weights but not trained.
 */
#include "nn/layers.h"
#include "nn/network.h"

#include <stdlib.h>

typedef struct batchnorm_layer {
    nn_layer base;
    int channels, spatial;
    nn_batchnorm_config config;  /* training is the mode of the last forward */
    nn_real *saved_mean;         /* (C) */
    nn_real *saved_inv_std;      /* (C) */
} batchnorm_layer;

static nn_status batchnorm_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                   const nn_run_context *context)
{
    batchnorm_layer *self = (batchnorm_layer *)layer;
    /* One value per channel has no variance to normalise by (PyTorch
     * refuses it too); the kernel's contract leaves this check to us. */
    if (context->training && (size_t)batch * (size_t)self->spatial < 2)
        return NN_ERR_SHAPE;
    self->config.training = context->training;
    return nn_batchnorm_forward(out, self->saved_mean, self->saved_inv_std, x,
                                layer->parameters[0].value, layer->parameters[1].value,
                                layer->buffers[0], layer->buffers[1], batch, self->channels,
                                self->spatial, &self->config);
}

static nn_status batchnorm_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                    const nn_real *x, const nn_real *out, int batch)
{
    batchnorm_layer *self = (batchnorm_layer *)layer;
    (void)out;
    return nn_batchnorm_backward(dx, layer->parameters[0].grad, layer->parameters[1].grad, dout,
                                 x, self->saved_mean, self->saved_inv_std,
                                 layer->parameters[0].value, batch, self->channels,
                                 self->spatial, &self->config);
}

static void batchnorm_destroy(nn_layer *layer)
{
    if (layer != NULL) {
        free(((batchnorm_layer *)layer)->saved_mean);
        free(((batchnorm_layer *)layer)->saved_inv_std);
    }
    nn_layer_free_common(layer);
}

static const nn_layer_ops batchnorm_ops = { batchnorm_forward, batchnorm_backward,
                                            batchnorm_destroy };

static nn_status batchnorm_create(nn_layer **out, const nn_model_spec *model,
                                  const nn_layer_spec *spec, const nn_shape *input_shape,
                                  int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    double momentum, epsilon;
    nn_status status = nn_layer_spec_double(&momentum, model, spec, "momentum", 0.1, 0, 1, err);
    if (status == NN_OK)
        status = nn_layer_spec_double(&epsilon, model, spec, "epsilon", 1e-5, 1e-12, 1, err);
    if (status != NN_OK)
        return status;
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(batchnorm_layer), &batchnorm_ops, "batchnorm", spec,
                            input_shape, input_shape, err);
    if (status != NN_OK)
        return status;
    batchnorm_layer *self = (batchnorm_layer *)layer;
    self->channels = (int)input_shape->dims[0];
    self->spatial = (int)(layer->input_size / (size_t)self->channels);
    self->config = (nn_batchnorm_config){ .momentum = (nn_real)momentum,
                                          .epsilon = (nn_real)epsilon, .training = true };
    nn_shape channel_shape = nn_shape_1d((size_t)self->channels);
    status = nn_layer_add_parameter(layer, "gamma", &channel_shape, false, err);
    if (status == NN_OK)
        status = nn_layer_add_parameter(layer, "beta", &channel_shape, false, err);
    if (status == NN_OK)
        status = nn_layer_add_buffer(layer, "running_mean", (size_t)self->channels, err);
    if (status == NN_OK)
        status = nn_layer_add_buffer(layer, "running_var", (size_t)self->channels, err);
    if (!layer->planned) {
        self->saved_mean = calloc((size_t)self->channels, sizeof(nn_real));
        self->saved_inv_std = calloc((size_t)self->channels, sizeof(nn_real));
    }
    if (status == NN_OK && !layer->planned
        && (self->saved_mean == NULL || self->saved_inv_std == NULL))
        status = nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
    if (status != NN_OK) {
        batchnorm_destroy(layer);
        return status;
    }
    for (int c = 0; c < self->channels && !layer->planned; c++) {
        layer->parameters[0].value[c] = 1;  /* gamma: start as the identity */
        layer->buffers[1][c] = 1;           /* running variance, as PyTorch */
    }
    /* Normalise, scale and shift: about 4 operations per value. */
    layer->flops = 4.0 * (double)layer->input_size;
    *out = layer;
    return NN_OK;
}

static const char *const batchnorm_keys[] = { "momentum", "epsilon", NULL };
const nn_layer_type nn_layer_type_batchnorm = { "batchnorm", batchnorm_keys, batchnorm_create };
