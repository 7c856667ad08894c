/*
 * activation_layers.c - the parameter-free elementwise activations as
 * network layers (relu, leaky_relu, sigmoid, tanh) and softmax. Each keeps
 * its input's shape. Sigmoid, tanh and softmax differentiate through their
 * output, the others through their input.
 */
#include "nn/layers.h"
#include "nn/network.h"

typedef struct activation_layer {
    nn_layer base;
    nn_real slope;  /* leaky_relu only */
} activation_layer;

static size_t total(const nn_layer *layer, int batch)
{
    return (size_t)batch * layer->output_size;
}

static nn_status relu_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                              const nn_run_context *context)
{
    (void)context;
    return nn_relu_forward(out, x, total(layer, batch));
}

static nn_status relu_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                               const nn_real *x, const nn_real *out, int batch)
{
    (void)out;
    return dx ? nn_relu_backward(dx, dout, x, total(layer, batch)) : NN_OK;
}

static nn_status leaky_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                               const nn_run_context *context)
{
    (void)context;
    return nn_leaky_relu_forward(out, x, total(layer, batch), ((activation_layer *)layer)->slope);
}

static nn_status leaky_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                const nn_real *x, const nn_real *out, int batch)
{
    (void)out;
    return dx ? nn_leaky_relu_backward(dx, dout, x, total(layer, batch),
                                       ((activation_layer *)layer)->slope)
              : NN_OK;
}

static nn_status sigmoid_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                 const nn_run_context *context)
{
    (void)context;
    return nn_sigmoid_forward(out, x, total(layer, batch));
}

static nn_status sigmoid_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                  const nn_real *x, const nn_real *out, int batch)
{
    (void)x;
    return dx ? nn_sigmoid_backward(dx, dout, out, total(layer, batch)) : NN_OK;
}

static nn_status tanh_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                              const nn_run_context *context)
{
    (void)context;
    return nn_tanh_forward(out, x, total(layer, batch));
}

static nn_status tanh_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                               const nn_real *x, const nn_real *out, int batch)
{
    (void)x;
    return dx ? nn_tanh_backward(dx, dout, out, total(layer, batch)) : NN_OK;
}

static nn_status softmax_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                 const nn_run_context *context)
{
    (void)context;
    return nn_softmax_forward(out, x, batch, (int)layer->output_size);
}

static nn_status softmax_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                  const nn_real *x, const nn_real *out, int batch)
{
    (void)x;
    return dx ? nn_softmax_backward(dx, dout, out, batch, (int)layer->output_size) : NN_OK;
}

static const nn_layer_ops relu_ops = { relu_forward, relu_backward, nn_layer_free_common };
static const nn_layer_ops leaky_ops = { leaky_forward, leaky_backward, nn_layer_free_common };
static const nn_layer_ops sigmoid_ops = { sigmoid_forward, sigmoid_backward,
                                          nn_layer_free_common };
static const nn_layer_ops tanh_ops = { tanh_forward, tanh_backward, nn_layer_free_common };
static const nn_layer_ops softmax_ops = { softmax_forward, softmax_backward,
                                          nn_layer_free_common };

static nn_status create_with(nn_layer **out, const nn_layer_ops *ops, const char *type,
                             const nn_layer_spec *spec, const nn_shape *input_shape,
                             nn_error *err)
{
    return nn_layer_alloc(out, sizeof(activation_layer), ops, type, spec, input_shape,
                          input_shape, err);
}

static nn_status relu_create(nn_layer **out, const nn_model_spec *model,
                             const nn_layer_spec *spec, const nn_shape *input_shape,
                             int max_batch, nn_rng *rng, nn_error *err)
{
    (void)model, (void)max_batch, (void)rng;
    return create_with(out, &relu_ops, "relu", spec, input_shape, err);
}

static nn_status leaky_create(nn_layer **out, const nn_model_spec *model,
                              const nn_layer_spec *spec, const nn_shape *input_shape,
                              int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    double slope;
    nn_status status = nn_layer_spec_double(&slope, model, spec, "slope", 0.01, 0, 1, err);
    if (status == NN_OK)
        status = create_with(out, &leaky_ops, "leaky_relu", spec, input_shape, err);
    if (status == NN_OK)
        ((activation_layer *)*out)->slope = (nn_real)slope;
    return status;
}

static nn_status sigmoid_create(nn_layer **out, const nn_model_spec *model,
                                const nn_layer_spec *spec, const nn_shape *input_shape,
                                int max_batch, nn_rng *rng, nn_error *err)
{
    (void)model, (void)max_batch, (void)rng;
    return create_with(out, &sigmoid_ops, "sigmoid", spec, input_shape, err);
}

static nn_status tanh_create(nn_layer **out, const nn_model_spec *model,
                             const nn_layer_spec *spec, const nn_shape *input_shape,
                             int max_batch, nn_rng *rng, nn_error *err)
{
    (void)model, (void)max_batch, (void)rng;
    return create_with(out, &tanh_ops, "tanh", spec, input_shape, err);
}

static nn_status softmax_create(nn_layer **out, const nn_model_spec *model,
                                const nn_layer_spec *spec, const nn_shape *input_shape,
                                int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    if (input_shape->rank != 1) {
        char text[64];
        return nn_layer_spec_error(err, NN_ERR_SHAPE, model, spec,
                                   "softmax works on flat class scores, not %s",
                                   nn_shape_format(text, sizeof text, input_shape));
    }
    return create_with(out, &softmax_ops, "softmax", spec, input_shape, err);
}

static const char *const no_keys[] = { NULL };
static const char *const leaky_keys[] = { "slope", NULL };
const nn_layer_type nn_layer_type_relu = { "relu", no_keys, relu_create };
const nn_layer_type nn_layer_type_leaky_relu = { "leaky_relu", leaky_keys, leaky_create };
const nn_layer_type nn_layer_type_sigmoid = { "sigmoid", no_keys, sigmoid_create };
const nn_layer_type nn_layer_type_tanh = { "tanh", no_keys, tanh_create };
const nn_layer_type nn_layer_type_softmax = { "softmax", no_keys, softmax_create };
