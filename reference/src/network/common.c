/*
 * common.c - what every layer type shares: the registry of types by spec
 * name, allocation of the common part, and parameter arrays.
 */
#include "nn/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const nn_layer_type nn_layer_type_linear;
extern const nn_layer_type nn_layer_type_relu;
extern const nn_layer_type nn_layer_type_leaky_relu;
extern const nn_layer_type nn_layer_type_prelu;
extern const nn_layer_type nn_layer_type_sigmoid;
extern const nn_layer_type nn_layer_type_tanh;
extern const nn_layer_type nn_layer_type_softmax;
extern const nn_layer_type nn_layer_type_dropout;
extern const nn_layer_type nn_layer_type_batchnorm;
extern const nn_layer_type nn_layer_type_flatten;
extern const nn_layer_type nn_layer_type_max_pool;
extern const nn_layer_type nn_layer_type_avg_pool;
extern const nn_layer_type nn_layer_type_global_avg_pool;
extern const nn_layer_type nn_layer_type_upsample;
extern const nn_layer_type nn_layer_type_conv;
extern const nn_layer_type nn_layer_type_conv_transpose;
extern const nn_layer_type nn_layer_type_residual;

static const nn_layer_type *const registry[] = {
    &nn_layer_type_linear,  &nn_layer_type_relu,    &nn_layer_type_leaky_relu,
    &nn_layer_type_prelu,   &nn_layer_type_sigmoid, &nn_layer_type_tanh,
    &nn_layer_type_softmax, &nn_layer_type_dropout, &nn_layer_type_batchnorm,
    &nn_layer_type_flatten, &nn_layer_type_max_pool, &nn_layer_type_avg_pool,
    &nn_layer_type_global_avg_pool, &nn_layer_type_upsample, &nn_layer_type_conv,
    &nn_layer_type_conv_transpose, &nn_layer_type_residual,
};

const nn_layer_type *nn_layer_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *nn_layer_type_names(void)
{
    static char names[512];
    if (names[0] == '\0') {
        size_t used = 0;
        for (size_t i = 0; i < sizeof registry / sizeof registry[0] && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     registry[i]->name);
    }
    return names;
}

nn_status nn_layer_spec_init(nn_init_kind *out, const nn_model_spec *model,
                             const nn_layer_spec *layer, const char *key, nn_init_kind fallback,
                             nn_error *err)
{
    const nn_spec_option *option = nn_layer_spec_option(layer, key);
    if (option == NULL) {
        *out = fallback;
        return NN_OK;
    }
    if (nn_init_kind_parse(out, option->value, NULL) != NN_OK)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s:%d:%d: layer %s: unknown initialisation '%s' (known: "
                            "xavier_uniform, xavier_normal, he_uniform, he_normal, constant)",
                            model->path, option->line, option->column, layer->name,
                            option->value);
    return NN_OK;
}

nn_status nn_layer_alloc(nn_layer **out, size_t struct_size, const nn_layer_ops *ops,
                         const char *type, const nn_layer_spec *spec,
                         const nn_shape *input_shape, const nn_shape *output_shape,
                         nn_error *err)
{
    *out = NULL;
    nn_layer *layer = calloc(1, struct_size);
    if (layer == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "layer %s: out of memory", spec->name);
    layer->ops = ops;
    layer->type = type;
    snprintf(layer->name, sizeof layer->name, "%s", spec->name);
    layer->line = spec->line;
    layer->input_shape = *input_shape;
    layer->output_shape = *output_shape;
    layer->input_size = nn_shape_size(input_shape);
    layer->output_size = nn_shape_size(output_shape);
    layer->field_kernel = 1;
    layer->field_stride = 1;
    layer->planned = spec->plan_only;
    *out = layer;
    return NN_OK;
}

nn_status nn_layer_add_parameter(nn_layer *layer, const char *name, const nn_shape *shape,
                                 bool decay, nn_error *err)
{
    if (layer->parameter_count == NN_LAYER_MAX_PARAMETERS)
        return nn_error_set(err, NN_ERR_ARGUMENT, "layer %s: more than %d parameter arrays",
                            layer->name, NN_LAYER_MAX_PARAMETERS);
    int i = layer->parameter_count;
    size_t count = nn_shape_size(shape);
    nn_parameter *parameter = &layer->parameters[i];
    /* A planned layer is measured, never run: the count without arrays. */
    if (!layer->planned) {
        parameter->value = calloc(count, sizeof(nn_real));
        parameter->grad = calloc(count, sizeof(nn_real));
    }
    if (!layer->planned && (parameter->value == NULL || parameter->grad == NULL)) {
        free(parameter->value);
        free(parameter->grad);
        return nn_error_set(err, NN_ERR_MEMORY, "layer %s: out of memory for %s (%zu values)",
                            layer->name, name, count);
    }
    parameter->count = count;
    parameter->decay = decay;
    snprintf(layer->parameter_names[i], sizeof layer->parameter_names[i], "%s", name);
    layer->parameter_shapes[i] = *shape;
    layer->parameter_count++;
    return NN_OK;
}

nn_status nn_layer_add_buffer(nn_layer *layer, const char *name, size_t count, nn_error *err)
{
    if (layer->buffer_count == NN_LAYER_MAX_BUFFERS)
        return nn_error_set(err, NN_ERR_ARGUMENT, "layer %s: more than %d buffers", layer->name,
                            NN_LAYER_MAX_BUFFERS);
    int i = layer->buffer_count;
    if (!layer->planned)
        layer->buffers[i] = calloc(count, sizeof(nn_real));
    if (!layer->planned && layer->buffers[i] == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "layer %s: out of memory for %s", layer->name,
                            name);
    layer->buffer_sizes[i] = count;
    snprintf(layer->buffer_names[i], sizeof layer->buffer_names[i], "%s", name);
    layer->buffer_count++;
    return NN_OK;
}

void nn_layer_free_common(nn_layer *layer)
{
    if (layer == NULL)
        return;
    for (int i = 0; i < layer->buffer_count; i++)
        free(layer->buffers[i]);
    for (int i = 0; i < layer->parameter_count; i++) {
        free(layer->parameters[i].value);
        free(layer->parameters[i].grad);
    }
    free(layer);
}
