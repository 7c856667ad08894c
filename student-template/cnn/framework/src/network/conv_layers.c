/*
 * conv_layers.c - convolutions as network layers, on (C, H, W) inputs:
 *   conv            options filters, kernel (3), stride (1), padding (0),
 *                   dilation (1), bias (true), init (he_uniform)
 *   conv_transpose  options filters, kernel (2), stride (2), padding (0),
 *                   output_padding (0), bias, init: the learned upsampling
 *                   of a segmentation decoder
 *   residual        a block y = relu(x + conv(relu(conv(x)))) with two 3x3,
 *                   padding 1 convolutions keeping the channels (exam 4.4):
 *                   the skip adds dL/dy straight into dL/dx, so the gradient
 *                   reaches early layers even when the convolutions' is
 *                   small. Options: init.
 * Each keeps the workspace its kernels need for max_batch samples.
 */
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/network.h"

#include <stdlib.h>
#include <string.h>

typedef struct conv_layer {
    nn_layer base;
    int filters;
    bool has_bias;
    nn_conv_geometry geometry;
    nn_conv_transpose_geometry transpose;
    nn_real *workspace;
    /* residual: the two convolutions' outputs and the hidden ReLU's */
    nn_real *first, *hidden, *second;
    nn_real *dhidden, *dfirst, *dsecond;
} conv_layer;

static nn_real *bias_of(nn_layer *layer, int index)
{
    return ((conv_layer *)layer)->has_bias ? layer->parameters[index].value : NULL;
}

static nn_real *bias_grad_of(nn_layer *layer, int index)
{
    return ((conv_layer *)layer)->has_bias ? layer->parameters[index].grad : NULL;
}

static nn_status conv_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                              const nn_run_context *context)
{
    conv_layer *self = (conv_layer *)layer;
    (void)context;
    return nn_conv2d_forward(out, self->workspace, x, layer->parameters[0].value,
                             bias_of(layer, 1), batch, self->filters, &self->geometry);
}

static nn_status conv_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                               const nn_real *x, const nn_real *out, int batch)
{
    conv_layer *self = (conv_layer *)layer;
    (void)out;
    return nn_conv2d_backward(dx, layer->parameters[0].grad, bias_grad_of(layer, 1),
                              self->workspace, dout, x, layer->parameters[0].value, batch,
                              self->filters, &self->geometry);
}

static nn_status transpose_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                   const nn_run_context *context)
{
    conv_layer *self = (conv_layer *)layer;
    (void)context;
    return nn_conv_transpose2d_forward(out, self->workspace, x, layer->parameters[0].value,
                                       bias_of(layer, 1), batch, self->filters,
                                       &self->transpose);
}

static nn_status transpose_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                    const nn_real *x, const nn_real *out, int batch)
{
    conv_layer *self = (conv_layer *)layer;
    (void)out;
    return nn_conv_transpose2d_backward(dx, layer->parameters[0].grad, bias_grad_of(layer, 1),
                                        self->workspace, dout, x, layer->parameters[0].value,
                                        batch, self->filters, &self->transpose);
}

/* y = relu(x + B(relu(A(x)))) */
static nn_status residual_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                  const nn_run_context *context)
{
    conv_layer *self = (conv_layer *)layer;
    (void)context;
    size_t count = (size_t)batch * layer->output_size;
    nn_status status = nn_conv2d_forward(self->first, self->workspace, x,
                                         layer->parameters[0].value, layer->parameters[1].value,
                                         batch, self->filters, &self->geometry);
    if (status == NN_OK)
        status = nn_relu_forward(self->hidden, self->first, count);
    if (status == NN_OK)
        status = nn_conv2d_forward(self->second, self->workspace, self->hidden,
                                   layer->parameters[2].value, layer->parameters[3].value, batch,
                                   self->filters, &self->geometry);
    if (status != NN_OK)
        return status;
    for (size_t i = 0; i < count; i++)
        self->second[i] += x[i];   /* the skip connection */
    return nn_relu_forward(out, self->second, count);
}

static nn_status residual_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                   const nn_real *x, const nn_real *out, int batch)
{
    conv_layer *self = (conv_layer *)layer;
    (void)out;
    size_t count = (size_t)batch * layer->output_size;
    memset(self->dsecond, 0, count * sizeof(nn_real));
    memset(self->dhidden, 0, count * sizeof(nn_real));
    memset(self->dfirst, 0, count * sizeof(nn_real));
    /* dL/ds for s = x + B(h): through the final ReLU. */
    nn_status status = nn_relu_backward(self->dsecond, dout, self->second, count);
    if (status == NN_OK)
        status = nn_conv2d_backward(self->dhidden, layer->parameters[2].grad,
                                    layer->parameters[3].grad, self->workspace, self->dsecond,
                                    self->hidden, layer->parameters[2].value, batch,
                                    self->filters, &self->geometry);
    if (status == NN_OK)
        status = nn_relu_backward(self->dfirst, self->dhidden, self->first, count);
    if (status == NN_OK)
        status = nn_conv2d_backward(dx, layer->parameters[0].grad, layer->parameters[1].grad,
                                    self->workspace, self->dfirst, x,
                                    layer->parameters[0].value, batch, self->filters,
                                    &self->geometry);
    /* The skip: dL/dx gets dL/ds unchanged, added to the path through A. */
    if (status == NN_OK && dx != NULL)
        for (size_t i = 0; i < count; i++)
            dx[i] += self->dsecond[i];
    return status;
}

static void conv_destroy(nn_layer *layer)
{
    if (layer != NULL) {
        conv_layer *self = (conv_layer *)layer;
        free(self->workspace);
        free(self->first);
        free(self->hidden);
        free(self->second);
        free(self->dhidden);
        free(self->dfirst);
        free(self->dsecond);
    }
    nn_layer_free_common(layer);
}

static const nn_layer_ops conv_ops = { conv_forward, conv_backward, conv_destroy };
static const nn_layer_ops transpose_ops = { transpose_forward, transpose_backward, conv_destroy };
static const nn_layer_ops residual_ops = { residual_forward, residual_backward, conv_destroy };

/* Adds weight (F or C_in first, as the kernels want) and bias, initialised
 * with fan_in = C k k, fan_out = F k k. */
static nn_status add_weights(nn_layer *layer, const nn_shape *weight_shape, int filters,
                             bool bias, int fan_in, int fan_out, nn_init_kind init, nn_rng *rng,
                             nn_error *err)
{
    int index = layer->parameter_count;
    nn_shape bias_shape = nn_shape_1d((size_t)filters);
    nn_status status = nn_layer_add_parameter(layer, index ? "weight2" : "weight", weight_shape,
                                              true, err);
    if (status == NN_OK && bias)
        status = nn_layer_add_parameter(layer, index ? "bias2" : "bias", &bias_shape, false, err);
    if (status == NN_OK && !layer->planned)
        status = nn_init_weights(layer->parameters[index].value, layer->parameters[index].count,
                                 fan_in, fan_out, init, (nn_real)0.1, rng, err);
    return status;
}

static nn_status need_image(const nn_model_spec *model, const nn_layer_spec *spec,
                            const nn_shape *input_shape, nn_error *err)
{
    if (input_shape->rank == 3)
        return NN_OK;
    char text[64];
    return nn_layer_spec_error(err, NN_ERR_SHAPE, model, spec,
                               "%s needs a (C, H, W) input, not %s", spec->type,
                               nn_shape_format(text, sizeof text, input_shape));
}

static nn_status conv_create(nn_layer **out, const nn_model_spec *model,
                             const nn_layer_spec *spec, const nn_shape *input_shape,
                             int max_batch, nn_rng *rng, nn_error *err)
{
    int filters = 0, kernel = 3, stride = 1, padding = 0, dilation = 1;
    bool bias = true;
    nn_init_kind init;
    nn_status status = need_image(model, spec, input_shape, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&filters, model, spec, "filters", 0, 1, 1 << 16, err);
    if (status == NN_OK && filters == 0)
        status = nn_layer_spec_error(err, NN_ERR_FORMAT, model, spec,
                                     "a conv layer needs `filters`, its output channels");
    if (status == NN_OK)
        status = nn_layer_spec_int(&kernel, model, spec, "kernel", 3, 1, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&stride, model, spec, "stride", 1, 1, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&padding, model, spec, "padding", 0, 0, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&dilation, model, spec, "dilation", 1, 1, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_bool(&bias, model, spec, "bias", true, err);
    if (status == NN_OK)
        status = nn_layer_spec_init(&init, model, spec, "init", NN_INIT_HE_UNIFORM, err);
    if (status != NN_OK)
        return status;
    int channels = (int)input_shape->dims[0];
    nn_conv_geometry geometry;
    nn_error geometry_err;
    status = nn_conv_geometry_init(&geometry, channels, (int)input_shape->dims[1],
                                   (int)input_shape->dims[2], kernel, kernel, stride, stride,
                                   padding, padding, dilation, dilation, &geometry_err);
    if (status != NN_OK)
        return nn_layer_spec_error(err, status, model, spec, "%s", geometry_err.message);
    nn_shape output_shape = nn_shape_3d((size_t)filters, (size_t)geometry.output_height,
                                        (size_t)geometry.output_width);
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(conv_layer), &conv_ops, "conv", spec, input_shape,
                            &output_shape, err);
    if (status != NN_OK)
        return status;
    conv_layer *self = (conv_layer *)layer;
    self->filters = filters;
    self->has_bias = bias;
    self->geometry = geometry;
    nn_shape weight_shape = nn_shape_4d((size_t)filters, (size_t)channels, (size_t)kernel,
                                        (size_t)kernel);
    status = add_weights(layer, &weight_shape, filters, bias, channels * kernel * kernel,
                         filters * kernel * kernel, init, rng, err);
    size_t workspace = nn_conv2d_workspace_size(max_batch, filters, &geometry);
    if (!layer->planned)
        self->workspace = malloc((workspace ? workspace : 1) * sizeof(nn_real));
    if (status == NN_OK && !layer->planned && self->workspace == NULL)
        status = nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
    if (status != NN_OK) {
        conv_destroy(layer);
        return status;
    }
    layer->field_kernel = dilation * (kernel - 1) + 1;
    layer->field_stride = stride;
    layer->flops = 2.0 * (double)layer->output_size * channels * kernel * kernel;
    *out = layer;
    return NN_OK;
}

static nn_status transpose_create(nn_layer **out, const nn_model_spec *model,
                                  const nn_layer_spec *spec, const nn_shape *input_shape,
                                  int max_batch, nn_rng *rng, nn_error *err)
{
    int filters = 0, kernel = 2, stride = 2, padding = 0, output_padding = 0;
    bool bias = true;
    nn_init_kind init;
    nn_status status = need_image(model, spec, input_shape, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&filters, model, spec, "filters", 0, 1, 1 << 16, err);
    if (status == NN_OK && filters == 0)
        status = nn_layer_spec_error(err, NN_ERR_FORMAT, model, spec,
                                     "a conv_transpose layer needs `filters`");
    if (status == NN_OK)
        status = nn_layer_spec_int(&kernel, model, spec, "kernel", 2, 1, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&stride, model, spec, "stride", 2, 1, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&padding, model, spec, "padding", 0, 0, 64, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&output_padding, model, spec, "output_padding", 0, 0, 63, err);
    if (status == NN_OK)
        status = nn_layer_spec_bool(&bias, model, spec, "bias", true, err);
    if (status == NN_OK)
        status = nn_layer_spec_init(&init, model, spec, "init", NN_INIT_HE_UNIFORM, err);
    if (status != NN_OK)
        return status;
    int channels = (int)input_shape->dims[0];
    nn_conv_transpose_geometry geometry;
    nn_error geometry_err;
    status = nn_conv_transpose_geometry_init(&geometry, channels, (int)input_shape->dims[1],
                                             (int)input_shape->dims[2], kernel, kernel, stride,
                                             stride, padding, padding, 1, 1, output_padding,
                                             output_padding, &geometry_err);
    if (status != NN_OK)
        return nn_layer_spec_error(err, status, model, spec, "%s", geometry_err.message);
    nn_shape output_shape = nn_shape_3d((size_t)filters, (size_t)geometry.output_height,
                                        (size_t)geometry.output_width);
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(conv_layer), &transpose_ops, "conv_transpose", spec,
                            input_shape, &output_shape, err);
    if (status != NN_OK)
        return status;
    conv_layer *self = (conv_layer *)layer;
    self->filters = filters;
    self->has_bias = bias;
    self->transpose = geometry;
    nn_shape weight_shape = nn_shape_4d((size_t)channels, (size_t)filters, (size_t)kernel,
                                        (size_t)kernel);
    status = add_weights(layer, &weight_shape, filters, bias, filters * kernel * kernel,
                         channels * kernel * kernel, init, rng, err);
    size_t workspace = nn_conv_transpose2d_workspace_size(max_batch, filters, &geometry);
    if (!layer->planned)
        self->workspace = malloc((workspace ? workspace : 1) * sizeof(nn_real));
    if (status == NN_OK && !layer->planned && self->workspace == NULL)
        status = nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
    if (status != NN_OK) {
        conv_destroy(layer);
        return status;
    }
    layer->field_kernel = 1;
    layer->field_stride = 1.0 / stride;
    layer->flops = 2.0 * (double)layer->input_size * filters * kernel * kernel;
    *out = layer;
    return NN_OK;
}

static nn_status residual_create(nn_layer **out, const nn_model_spec *model,
                                 const nn_layer_spec *spec, const nn_shape *input_shape,
                                 int max_batch, nn_rng *rng, nn_error *err)
{
    nn_init_kind init;
    nn_status status = need_image(model, spec, input_shape, err);
    if (status == NN_OK)
        status = nn_layer_spec_init(&init, model, spec, "init", NN_INIT_HE_UNIFORM, err);
    if (status != NN_OK)
        return status;
    int channels = (int)input_shape->dims[0];
    nn_conv_geometry geometry;
    nn_error geometry_err;
    status = nn_conv_geometry_init(&geometry, channels, (int)input_shape->dims[1],
                                   (int)input_shape->dims[2], 3, 3, 1, 1, 1, 1, 1, 1,
                                   &geometry_err);
    if (status != NN_OK)
        return nn_layer_spec_error(err, status, model, spec, "%s", geometry_err.message);
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(conv_layer), &residual_ops, "residual", spec,
                            input_shape, input_shape, err);
    if (status != NN_OK)
        return status;
    conv_layer *self = (conv_layer *)layer;
    self->filters = channels;
    self->has_bias = true;
    self->geometry = geometry;
    nn_shape weight_shape = nn_shape_4d((size_t)channels, (size_t)channels, 3, 3);
    status = add_weights(layer, &weight_shape, channels, true, channels * 9, channels * 9, init,
                         rng, err);
    if (status == NN_OK)
        status = add_weights(layer, &weight_shape, channels, true, channels * 9, channels * 9,
                             init, rng, err);
    size_t count = (size_t)max_batch * layer->input_size;
    size_t workspace = nn_conv2d_workspace_size(max_batch, channels, &geometry);
    nn_real **buffers[] = { &self->first, &self->hidden, &self->second,
                            &self->dhidden, &self->dfirst, &self->dsecond };
    if (!layer->planned) {
        self->workspace = malloc((workspace ? workspace : 1) * sizeof(nn_real));
        for (size_t b = 0; b < sizeof buffers / sizeof buffers[0]; b++)
            *buffers[b] = malloc(count * sizeof(nn_real));
    }
    for (size_t b = 0; status == NN_OK && !layer->planned && b < sizeof buffers / sizeof buffers[0];
         b++)
        if (*buffers[b] == NULL)
            status = nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
    if (status == NN_OK && !layer->planned && self->workspace == NULL)
        status = nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
    if (status != NN_OK) {
        conv_destroy(layer);
        return status;
    }
    layer->field_kernel = 5;   /* two 3x3 windows in a row */
    layer->field_stride = 1;
    layer->flops = 2 * 2.0 * (double)layer->output_size * channels * 9;
    *out = layer;
    return NN_OK;
}

static const char *const conv_keys[] = { "filters", "kernel", "stride", "padding", "dilation",
                                         "bias", "init", NULL };
static const char *const transpose_keys[] = { "filters", "kernel", "stride", "padding",
                                              "output_padding", "bias", "init", NULL };
static const char *const residual_keys[] = { "init", NULL };
const nn_layer_type nn_layer_type_conv = { "conv", conv_keys, conv_create };
const nn_layer_type nn_layer_type_conv_transpose = { "conv_transpose", transpose_keys,
                                                     transpose_create };
const nn_layer_type nn_layer_type_residual = { "residual", residual_keys, residual_create };
