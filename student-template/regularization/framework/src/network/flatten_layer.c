/*
 * flatten_layer.c - (C, H, W) to (C*H*W): the bridge from feature maps to a
 * linear layer. Row-major order means the values do not move.
 */
#include "nn/layers.h"
#include "nn/network.h"

static nn_status flatten_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                 const nn_run_context *context)
{
    (void)context;
    return nn_flatten_forward(out, x, (size_t)batch * layer->input_size);
}

static nn_status flatten_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                  const nn_real *x, const nn_real *out, int batch)
{
    (void)x, (void)out;
    return dx ? nn_flatten_backward(dx, dout, (size_t)batch * layer->input_size) : NN_OK;
}

static const nn_layer_ops flatten_ops = { flatten_forward, flatten_backward,
                                          nn_layer_free_common };

static nn_status flatten_create(nn_layer **out, const nn_model_spec *model,
                                const nn_layer_spec *spec, const nn_shape *input_shape,
                                int max_batch, nn_rng *rng, nn_error *err)
{
    (void)model, (void)max_batch, (void)rng;
    nn_shape output_shape = nn_shape_1d(nn_shape_size(input_shape));
    return nn_layer_alloc(out, sizeof(nn_layer), &flatten_ops, "flatten", spec, input_shape,
                          &output_shape, err);
}

static const char *const flatten_keys[] = { NULL };
const nn_layer_type nn_layer_type_flatten = { "flatten", flatten_keys, flatten_create };
