/*
 * pool_layers.c - pooling and upsampling as network layers, on (C, H, W)
 * inputs:
 *   max_pool, avg_pool    options kernel (2), stride (= kernel), padding (0)
 *   global_avg_pool       (C, H, W) -> (C): any input size fits (exam 3.6)
 *   upsample              options scale (2), mode (nearest or bilinear)
 * Max pooling keeps the argmax of max_batch samples for backward.
 */
#include "nn/network.h"
#include "nn/pool.h"

#include <stdlib.h>
#include <string.h>

typedef struct pool_layer {
    nn_layer base;
    nn_pool_geometry geometry;
    nn_upsample_geometry upsample;
    int *argmax;   /* max pooling: (max_batch, C, OH, OW) */
} pool_layer;

static nn_status max_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                             const nn_run_context *context)
{
    pool_layer *self = (pool_layer *)layer;
    (void)context;
    return nn_max_pool2d_forward(out, self->argmax, x, batch, &self->geometry);
}

static nn_status max_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                              const nn_real *x, const nn_real *out, int batch)
{
    pool_layer *self = (pool_layer *)layer;
    (void)x, (void)out;
    return dx ? nn_max_pool2d_backward(dx, dout, self->argmax, batch, &self->geometry) : NN_OK;
}

static nn_status avg_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                             const nn_run_context *context)
{
    (void)context;
    return nn_avg_pool2d_forward(out, x, batch, &((pool_layer *)layer)->geometry);
}

static nn_status avg_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                              const nn_real *x, const nn_real *out, int batch)
{
    (void)x, (void)out;
    return dx ? nn_avg_pool2d_backward(dx, dout, batch, &((pool_layer *)layer)->geometry) : NN_OK;
}

static nn_status global_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                const nn_run_context *context)
{
    (void)context;
    int channels = (int)layer->input_shape.dims[0];
    return nn_global_avg_pool2d_forward(out, x, batch, channels,
                                        (int)(layer->input_size / (size_t)channels));
}

static nn_status global_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                 const nn_real *x, const nn_real *out, int batch)
{
    (void)x, (void)out;
    int channels = (int)layer->input_shape.dims[0];
    return dx ? nn_global_avg_pool2d_backward(dx, dout, batch, channels,
                                              (int)(layer->input_size / (size_t)channels))
              : NN_OK;
}

static nn_status upsample_forward(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                                  const nn_run_context *context)
{
    (void)context;
    return nn_upsample2d_forward(out, x, batch, &((pool_layer *)layer)->upsample);
}

static nn_status upsample_backward(nn_layer *layer, nn_real *dx, const nn_real *dout,
                                   const nn_real *x, const nn_real *out, int batch)
{
    (void)x, (void)out;
    return dx ? nn_upsample2d_backward(dx, dout, batch, &((pool_layer *)layer)->upsample)
              : NN_OK;
}

static void pool_destroy(nn_layer *layer)
{
    if (layer != NULL)
        free(((pool_layer *)layer)->argmax);
    nn_layer_free_common(layer);
}

static const nn_layer_ops max_ops = { max_forward, max_backward, pool_destroy };
static const nn_layer_ops avg_ops = { avg_forward, avg_backward, pool_destroy };
static const nn_layer_ops global_ops = { global_forward, global_backward, pool_destroy };
static const nn_layer_ops upsample_ops = { upsample_forward, upsample_backward, pool_destroy };

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

static nn_status window_create(nn_layer **out, const nn_model_spec *model,
                               const nn_layer_spec *spec, const nn_shape *input_shape,
                               int max_batch, bool is_max, nn_error *err)
{
    nn_status status = need_image(model, spec, input_shape, err);
    int kernel = 2, stride = 0, padding = 0;
    if (status == NN_OK)
        status = nn_layer_spec_int(&kernel, model, spec, "kernel", 2, 1, 1024, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&stride, model, spec, "stride", kernel, 1, 1024, err);
    if (status == NN_OK)
        status = nn_layer_spec_int(&padding, model, spec, "padding", 0, 0, 512, err);
    if (status != NN_OK)
        return status;
    nn_pool_geometry geometry;
    nn_error geometry_err;
    status = nn_pool_geometry_init(&geometry, (int)input_shape->dims[0], (int)input_shape->dims[1],
                                   (int)input_shape->dims[2], kernel, kernel, stride, stride,
                                   padding, padding, &geometry_err);
    if (status != NN_OK)
        return nn_layer_spec_error(err, status, model, spec, "%s", geometry_err.message);
    nn_shape output_shape = nn_shape_3d(input_shape->dims[0], (size_t)geometry.output_height,
                                        (size_t)geometry.output_width);
    nn_layer *layer;
    status = nn_layer_alloc(&layer, sizeof(pool_layer), is_max ? &max_ops : &avg_ops,
                            is_max ? "max_pool" : "avg_pool", spec, input_shape, &output_shape,
                            err);
    if (status != NN_OK)
        return status;
    pool_layer *self = (pool_layer *)layer;
    self->geometry = geometry;
    layer->field_kernel = kernel;
    layer->field_stride = stride;
    layer->flops = (double)layer->output_size * kernel * kernel;
    if (is_max && !layer->planned) {
        self->argmax = malloc((size_t)max_batch * layer->output_size * sizeof(int));
        if (self->argmax == NULL) {
            pool_destroy(layer);
            return nn_layer_spec_error(err, NN_ERR_MEMORY, model, spec, "out of memory");
        }
    }
    *out = layer;
    return NN_OK;
}

static nn_status max_create(nn_layer **out, const nn_model_spec *model, const nn_layer_spec *spec,
                            const nn_shape *input_shape, int max_batch, nn_rng *rng,
                            nn_error *err)
{
    (void)rng;
    return window_create(out, model, spec, input_shape, max_batch, true, err);
}

static nn_status avg_create(nn_layer **out, const nn_model_spec *model, const nn_layer_spec *spec,
                            const nn_shape *input_shape, int max_batch, nn_rng *rng,
                            nn_error *err)
{
    (void)rng;
    return window_create(out, model, spec, input_shape, max_batch, false, err);
}

static nn_status global_create(nn_layer **out, const nn_model_spec *model,
                               const nn_layer_spec *spec, const nn_shape *input_shape,
                               int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    nn_status status = need_image(model, spec, input_shape, err);
    if (status != NN_OK)
        return status;
    nn_shape output_shape = nn_shape_1d(input_shape->dims[0]);
    status = nn_layer_alloc(out, sizeof(pool_layer), &global_ops, "global_avg_pool", spec,
                            input_shape, &output_shape, err);
    if (status == NN_OK) {
        (*out)->field_global = true;
        (*out)->flops = (double)(*out)->input_size;
    }
    return status;
}

static nn_status upsample_create(nn_layer **out, const nn_model_spec *model,
                                 const nn_layer_spec *spec, const nn_shape *input_shape,
                                 int max_batch, nn_rng *rng, nn_error *err)
{
    (void)max_batch, (void)rng;
    nn_status status = need_image(model, spec, input_shape, err);
    int scale = 2;
    const char *mode_name;
    if (status == NN_OK)
        status = nn_layer_spec_int(&scale, model, spec, "scale", 2, 1, 64, err);
    nn_layer_spec_string(&mode_name, spec, "mode", "nearest");
    nn_upsample_mode mode = NN_UPSAMPLE_NEAREST;
    if (status == NN_OK && strcmp(mode_name, "bilinear") == 0)
        mode = NN_UPSAMPLE_BILINEAR;
    else if (status == NN_OK && strcmp(mode_name, "nearest") != 0)
        status = nn_layer_spec_error(err, NN_ERR_FORMAT, model, spec,
                                     "mode must be nearest or bilinear, not '%s'", mode_name);
    if (status != NN_OK)
        return status;
    nn_upsample_geometry geometry;
    nn_error geometry_err;
    status = nn_upsample_geometry_init(&geometry, (int)input_shape->dims[0],
                                       (int)input_shape->dims[1], (int)input_shape->dims[2],
                                       scale, mode, &geometry_err);
    if (status != NN_OK)
        return nn_layer_spec_error(err, status, model, spec, "%s", geometry_err.message);
    nn_shape output_shape = nn_shape_3d(input_shape->dims[0], (size_t)geometry.output_height,
                                        (size_t)geometry.output_width);
    status = nn_layer_alloc(out, sizeof(pool_layer), &upsample_ops, "upsample", spec,
                            input_shape, &output_shape, err);
    if (status == NN_OK) {
        ((pool_layer *)*out)->upsample = geometry;
        (*out)->field_stride = 1.0 / scale;
        (*out)->flops = (double)(*out)->output_size * (mode == NN_UPSAMPLE_BILINEAR ? 8 : 1);
    }
    return status;
}

static const char *const window_keys[] = { "kernel", "stride", "padding", NULL };
static const char *const no_keys[] = { NULL };
static const char *const upsample_keys[] = { "scale", "mode", NULL };
const nn_layer_type nn_layer_type_max_pool = { "max_pool", window_keys, max_create };
const nn_layer_type nn_layer_type_avg_pool = { "avg_pool", window_keys, avg_create };
const nn_layer_type nn_layer_type_global_avg_pool = { "global_avg_pool", no_keys, global_create };
const nn_layer_type nn_layer_type_upsample = { "upsample", upsample_keys, upsample_create };
