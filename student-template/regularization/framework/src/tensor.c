/*
 * tensor.c - allocation, shapes and copies of dense NCHW tensors.
 */
#include "nn/tensor.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static nn_shape shape_of(int rank, size_t d0, size_t d1, size_t d2, size_t d3)
{
    nn_shape shape = { .rank = rank, .dims = { d0, d1, d2, d3 } };
    for (int i = rank; i < NN_MAX_DIMS; i++)
        shape.dims[i] = 1;
    return shape;
}

nn_shape nn_shape_1d(size_t d0) { return shape_of(1, d0, 1, 1, 1); }
nn_shape nn_shape_2d(size_t d0, size_t d1) { return shape_of(2, d0, d1, 1, 1); }
nn_shape nn_shape_3d(size_t d0, size_t d1, size_t d2) { return shape_of(3, d0, d1, d2, 1); }
nn_shape nn_shape_4d(size_t n, size_t c, size_t h, size_t w) { return shape_of(4, n, c, h, w); }

size_t nn_shape_size(const nn_shape *shape)
{
    size_t size = 1;
    for (int i = 0; i < shape->rank; i++)
        size *= shape->dims[i];
    return size;
}

bool nn_shape_equal(const nn_shape *a, const nn_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

char *nn_shape_format(char *buffer, size_t buffer_size, const nn_shape *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buffer, buffer_size, "(");
    for (int i = 0; i < shape->rank && used < buffer_size; i++)
        used += (size_t)snprintf(buffer + used, buffer_size - used, "%s%zu",
                                 i ? ", " : "", shape->dims[i]);
    if (used < buffer_size)
        snprintf(buffer + used, buffer_size - used, ")");
    return buffer;
}

char *nn_shape_format_index(char *buffer, size_t buffer_size,
                            const nn_shape *shape, size_t flat_index)
{
    size_t index[NN_MAX_DIMS] = { 0 };
    for (int i = shape->rank - 1; i >= 0; i--) {
        index[i] = flat_index % shape->dims[i];
        flat_index /= shape->dims[i];
    }
    size_t used = (size_t)snprintf(buffer, buffer_size, "[");
    for (int i = 0; i < shape->rank && used < buffer_size; i++)
        used += (size_t)snprintf(buffer + used, buffer_size - used, "%s%zu",
                                 i ? ", " : "", index[i]);
    if (used < buffer_size)
        snprintf(buffer + used, buffer_size - used, "]");
    return buffer;
}

nn_status nn_shape_validate(const nn_shape *shape, const char *what, nn_error *err)
{
    if (shape->rank < 0 || shape->rank > NN_MAX_DIMS)
        return nn_error_set(err, NN_ERR_SHAPE, "%s: rank %d is outside 0..%d",
                            what, shape->rank, NN_MAX_DIMS);
    size_t size = 1;
    for (int i = 0; i < shape->rank; i++) {
        if (shape->dims[i] == 0)
            return nn_error_set(err, NN_ERR_SHAPE, "%s: dimension %d is zero", what, i);
        if (size > SIZE_MAX / sizeof(nn_real) / shape->dims[i])
            return nn_error_set(err, NN_ERR_SHAPE, "%s: size overflows at dimension %d",
                                what, i);
        size *= shape->dims[i];
    }
    return NN_OK;
}

nn_status nn_tensor_new(nn_tensor **out, const nn_shape *shape, nn_error *err)
{
    *out = NULL;
    nn_status status = nn_shape_validate(shape, "new tensor", err);
    if (status != NN_OK)
        return status;
    nn_tensor *tensor = malloc(sizeof *tensor);
    if (tensor == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "new tensor: out of memory");
    tensor->shape = *shape;
    tensor->size = nn_shape_size(shape);
    tensor->owns_data = true;
    tensor->data = calloc(tensor->size, sizeof(nn_real));
    if (tensor->data == NULL) {
        char text[64];
        free(tensor);
        return nn_error_set(err, NN_ERR_MEMORY, "new tensor %s: out of memory",
                            nn_shape_format(text, sizeof text, shape));
    }
    *out = tensor;
    return NN_OK;
}

void nn_tensor_free(nn_tensor *tensor)
{
    if (tensor == NULL)
        return;
    if (tensor->owns_data)
        free(tensor->data);
    free(tensor);
}

nn_tensor nn_tensor_view(nn_real *data, const nn_shape *shape)
{
    nn_tensor view = { .shape = *shape, .size = nn_shape_size(shape),
                       .data = data, .owns_data = false };
    return view;
}

nn_status nn_tensor_reshape(nn_tensor *tensor, const nn_shape *shape, nn_error *err)
{
    /* Validate first: nn_shape_size() of a rank above NN_MAX_DIMS would
     * read past dims[]. */
    nn_status status = nn_shape_validate(shape, "reshape", err);
    if (status != NN_OK)
        return status;
    if (nn_shape_size(shape) != tensor->size) {
        char from[64], to[64];
        return nn_error_set(err, NN_ERR_SHAPE, "reshape %s to %s: sizes differ (%zu vs %zu)",
                            nn_shape_format(from, sizeof from, &tensor->shape),
                            nn_shape_format(to, sizeof to, shape),
                            tensor->size, nn_shape_size(shape));
    }
    tensor->shape = *shape;
    return NN_OK;
}

void nn_tensor_zero(nn_tensor *tensor)
{
    memset(tensor->data, 0, tensor->size * sizeof(nn_real));
}

void nn_tensor_fill(nn_tensor *tensor, nn_real value)
{
    for (size_t i = 0; i < tensor->size; i++)
        tensor->data[i] = value;
}

nn_status nn_tensor_copy(nn_tensor *destination, const nn_tensor *source, nn_error *err)
{
    if (!nn_shape_equal(&destination->shape, &source->shape)) {
        char a[64], b[64];
        return nn_error_set(err, NN_ERR_SHAPE, "copy %s into %s: shapes differ",
                            nn_shape_format(a, sizeof a, &source->shape),
                            nn_shape_format(b, sizeof b, &destination->shape));
    }
    memcpy(destination->data, source->data, source->size * sizeof(nn_real));
    return NN_OK;
}

nn_real *nn_tensor_at4(const nn_tensor *tensor, size_t n, size_t c, size_t h, size_t w)
{
    /* Dimensions past the rank count as 1, whatever the shape holds there: a
     * shape written as a literal leaves them at 0, the constructors at 1. */
    size_t d[NN_MAX_DIMS];
    for (int i = 0; i < NN_MAX_DIMS; i++)
        d[i] = i < tensor->shape.rank ? tensor->shape.dims[i] : 1;
    assert(n < d[0] && c < d[1] && h < d[2] && w < d[3]);
    return tensor->data + ((n * d[1] + c) * d[2] + h) * d[3] + w;
}
