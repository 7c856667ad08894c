/*
 * tensor.h - dense tensors of up to four dimensions, row-major, NCHW.
 *
 * Ownership: nn_tensor_new() allocates a tensor and its data; the caller
 * frees both with nn_tensor_free(), which accepts NULL. A view made by
 * nn_tensor_view() borrows someone else's data and is never freed.
 *
 * Kernels (layers, losses) take raw `nn_real *` arrays with their shapes in
 * comments, as llm.c does; tensors are for code that owns buffers: the
 * network container, the data loader, the grader.
 */
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include "nn/core.h"

#include <stdbool.h>
#include <stdio.h>

#define NN_MAX_DIMS 4

typedef struct nn_shape {
    int rank;                  /* 0..NN_MAX_DIMS; 0 is a scalar */
    size_t dims[NN_MAX_DIMS];  /* dims[0] is the outermost (N) */
} nn_shape;

typedef struct nn_tensor {
    nn_shape shape;
    size_t size;     /* product of shape.dims, number of elements */
    nn_real *data;   /* size elements */
    bool owns_data;  /* false for views */
} nn_tensor;

nn_shape nn_shape_1d(size_t d0);
nn_shape nn_shape_2d(size_t d0, size_t d1);
nn_shape nn_shape_3d(size_t d0, size_t d1, size_t d2);
nn_shape nn_shape_4d(size_t n, size_t c, size_t h, size_t w);

/* Number of elements; 1 for a scalar. */
size_t nn_shape_size(const nn_shape *shape);
bool nn_shape_equal(const nn_shape *a, const nn_shape *b);

/* Writes "(64, 32, 14, 14)" into buffer; returns buffer. */
char *nn_shape_format(char *buffer, size_t buffer_size, const nn_shape *shape);

/* Writes the multi-index of a flat offset, "[0, 1, 4, 2]"; returns buffer. */
char *nn_shape_format_index(char *buffer, size_t buffer_size,
                            const nn_shape *shape, size_t flat_index);

/* Checks that a shape has a valid rank, no zero dimension and a size that
 * does not overflow; `what` names it in the message. */
nn_status nn_shape_validate(const nn_shape *shape, const char *what, nn_error *err);

/* Allocates a zero-filled tensor. */
nn_status nn_tensor_new(nn_tensor **out, const nn_shape *shape, nn_error *err);
void nn_tensor_free(nn_tensor *tensor);

/* A tensor header over borrowed data; no allocation, never freed. */
nn_tensor nn_tensor_view(nn_real *data, const nn_shape *shape);

/* Same data, new shape of the same size (flatten, unflatten). */
nn_status nn_tensor_reshape(nn_tensor *tensor, const nn_shape *shape, nn_error *err);

void nn_tensor_zero(nn_tensor *tensor);
void nn_tensor_fill(nn_tensor *tensor, nn_real value);
nn_status nn_tensor_copy(nn_tensor *destination, const nn_tensor *source, nn_error *err);

/* Element access for tests and slow paths; no bounds check beyond assert. */
nn_real *nn_tensor_at4(const nn_tensor *tensor, size_t n, size_t c, size_t h, size_t w);

#endif
