/*
 * dropout_layer.c - inverted dropout as a network layer, option `p` (the
 * probability of dropping a unit, 0.5 by default). It keeps a mask of
 * max_batch samples for backward. Eval mode is the identity.
 */
#include "nn/layers.h"
#include "nn/network.h"

#include <stdlib.h>

typedef struct dropout_layer {
    nn_layer base;
    nn_real p;
    nn_real *mask;  /* (max_batch, size) */
} dropout_layer;

static nn_status dropout_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                 const nn_run_context *context)
{
    dropout_layer *self = (dropout_layer *)layer;
    if (context->training && context->rng == NULL)
        return NN_ERR_ARGUMENT;
    return nn_dropout_forward(out, self->mask, x, (size_t)batch * layer->output_size, self->p,
                              context->training, context->rng);
}

static nn_status dropout_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                  const nn_real *x, const nn_real *out, int batch)
{
    dropout_layer *self = (dropout_layer *)layer;
    (void)x, (void)out;
    return dx ? nn_dropout_backward(dx, dout, self->mask, (size_t)batch * layer->output_size)
              : NN_OK;
}

static void dropout_destroy(nn_layer *layer)
{
    if (layer != NULL)
        free(((dropout_layer *)layer)->mask);
    nn_layer_free_common(layer);
}

static const nn_layer_ops dropout_ops = { dropout_forward, dropout_backward, dropout_destroy };

static nn_status dropout_create(nn_layer **out, const nn_model_spec *model,
                                const nn_layer_spec *spec, const nn_shape *input_shape,
                                int max_batch, nn_rng *rng, nn_error *err)
{
    (void)rng;
    double p;
    nn_status status = nn_layer_spec_double(&p, model, spec, "p", 0.5, 0, 0.99, err);
    if (status != NN_OK)
        return status;
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(dropout_layer), &dropout_ops, "dropout", spec,
                            input_shape, input_shape, err);
    if (status != NN_OK)
        return status;
    dropout_layer *self = (dropout_layer *)layer;
    self->p = (nn_real)p;
    if (!layer->planned)
        self->mask = calloc((size_t)max_batch * layer->input_size, sizeof(nn_real));
    if (!layer->planned && self->mask == NULL) {
        dropout_destroy(layer);
        return nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory for the mask");
    }
    *out = layer;
    return NN_OK;
}

static const char *const dropout_keys[] = { "p", NULL };
const nn_layer_type nn_layer_type_dropout = { "dropout", dropout_keys, dropout_create };
