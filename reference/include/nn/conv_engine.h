/*
 * conv_engine.h - the fast machinery behind the reference conv2d and
 * conv_transpose2d kernels (reference/src/conv_engine.c). Not a course unit:
 * the layers call it from their solution regions, under NN_REFERENCE_ONLY.
 *
 * dlgrade: reference only. Neither the student template nor the runner
 * kit holds this header or its code (see conv_engine.c), so no submission
 * can call the engine.
 *
 * Everything is stated for one convolution, geometry g (input (C, H, W),
 * output (F, OH, OW)), weight (F, C, KH, KW). A transposed convolution is
 * the same three products with the roles of input and output swapped
 * (see conv_transpose2d.c).
 *
 * Direct summation with a register-tiled kernel in general; Winograd
 * F(2x2, 3x3) for 3x3 stride-1 convolutions. The workspace holds repacked
 * weights, offset tables, per-thread scratch (padded or transformed images,
 * for at most 8 threads) and per-group weight-gradient sums; its size
 * depends only on the shapes, never on the number of threads, and neither
 * do the results (every output value is computed in an order fixed by the
 * shapes). Nothing in it needs to survive between calls.
 */
#ifndef NN_CONV_ENGINE_H
#define NN_CONV_ENGINE_H

#include "nn/core.h"
#include "nn/im2col.h"

#include <stdbool.h>

/* Elements of nn_real that nn_conv_engine_forward and _backward need. */
size_t nn_conv_engine_workspace_size(int batch, int filters, const nn_conv_geometry *g);

/* out (N, F, OH, OW) = conv(x) + bias, or += when accumulate is set.
 * x: (N, C, H, W); weight: (F, C, KH, KW); bias: (F) or NULL. */
void nn_conv_engine_forward(nn_real *out, nn_real *workspace, const nn_real *x,
                            const nn_real *weight, const nn_real *bias, int batch, int filters,
                            const nn_conv_geometry *g, bool accumulate);

/* The two gradients of a loss through conv, given dout (N, F, OH, OW):
 *   dx (N, C, H, W)       += conv^T(dout)  (the transposed convolution);
 *   dweight (F, C, KH, KW) += sum over n and output pixels of dout x-patch;
 *   dbias (F)             += sum over n and output pixels of dout.
 * Any of the three may be NULL. x is only read when dweight is wanted. */
void nn_conv_engine_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, nn_real *workspace,
                             const nn_real *dout, const nn_real *x, const nn_real *weight,
                             int batch, int filters, const nn_conv_geometry *g);

#endif
