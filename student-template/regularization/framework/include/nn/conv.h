/*
 * conv.h - 2-D convolution and transposed convolution (NCHW), forward and
 * backward, as PyTorch's F.conv2d and F.conv_transpose2d compute them.
 *
 * Conventions are those of layers.h: outputs first, then the workspace,
 * then inputs (const), parameters, sizes and the geometry; kernels never
 * allocate (the caller passes a workspace of the size the matching
 * *_workspace_size() function gives, contents irrelevant before and after a
 * call); backward ADDS into dx, dweight and dbias, and skips NULL ones.
 * Geometry is validated when it is built (nn_conv_geometry_init,
 * nn_conv_transpose_geometry_init); the kernels cannot fail on a geometry
 * built that way and return NN_OK.
 *
 * Convolution (cross-correlation, as in every deep-learning library), with
 * s stride, p padding, d dilation and zero outside the input:
 *
 *     out[n,f,oh,ow] = b[f] + sum_{c,i,j} W[f,c,i,j] x[n, c, oh s - p + i d, ow s - p + j d]
 *
 * Transposed convolution is the adjoint of that map in x: with weights
 * W (C_in, F, KH, KW) it sends each input pixel's value, scaled by the
 * kernel, to the output pixels that a convolution with the same weights
 * would have read it from, and so upsamples by the stride.
 */
#ifndef NN_CONV_H
#define NN_CONV_H

#include "nn/core.h"
#include "nn/im2col.h"

#include <stdbool.h>

/* ---- convolution: x (N, C, H, W) -> out (N, F, OH, OW) ------------------
 * geometry: input (C, H, W), kernel, stride, padding, dilation and the
 * derived OH, OW (nn/im2col.h). weight: (F, C, KH, KW); bias: (F) or NULL. */

/* Elements of nn_real the caller must allocate for `columns`. It is at
 * least C*KH*KW * N*OH*OW + F * N*OH*OW, room for the whole batch unrolled by
 * im2col plus one (F, N*OH*OW) product, so that an im2col + GEMM
 * implementation of these kernels fits in it too. */
size_t nn_conv2d_workspace_size(int batch, int filters, const nn_conv_geometry *geometry);

/* out: (N, F, OH, OW), overwritten; columns: workspace */
nn_status nn_conv2d_forward(nn_real *out, nn_real *columns, const nn_real *x,
                            const nn_real *weight, const nn_real *bias, int batch, int filters,
                            const nn_conv_geometry *geometry);

/* dx: (N, C, H, W) or NULL; dweight: (F, C, KH, KW) or NULL; dbias: (F) or
 * NULL; all accumulated. dout: (N, F, OH, OW). */
nn_status nn_conv2d_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, nn_real *columns,
                             const nn_real *dout, const nn_real *x, const nn_real *weight,
                             int batch, int filters, const nn_conv_geometry *geometry);

/* Learnable values: F*C*KH*KW weights plus F biases when the layer has them
 * (3 in, 5 filters of 4x4 with bias: 245). */
size_t nn_conv2d_parameter_count(int channels, int filters, int kernel_height, int kernel_width,
                                 bool bias);

/* ---- transposed convolution: x (N, C, H, W) -> out (N, F, OH, OW) -------- */

typedef struct nn_conv_transpose_geometry {
    int channels, height, width;               /* input (C, H, W) */
    int kernel_height, kernel_width;
    int stride_height, stride_width;
    int padding_height, padding_width;         /* removed from each side of the output */
    int dilation_height, dilation_width;
    int output_padding_height, output_padding_width; /* added at the bottom/right */
    int output_height, output_width;           /* derived */
} nn_conv_transpose_geometry;

/*
 * Fills the geometry and derives the output size, as PyTorch does,
 *     OH = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1,
 * which inverts the shape of a convolution with the same settings (kernel 4,
 * stride 2, padding 1 takes 32 back to 64). output_padding picks among the
 * input sizes that such a convolution maps to the same output size; it must
 * be smaller than the stride. Fails with a message naming the shape when
 * an argument is out of range or the output would be empty.
 */
nn_status nn_conv_transpose_geometry_init(nn_conv_transpose_geometry *geometry, int channels,
                                          int height, int width, int kernel_height,
                                          int kernel_width, int stride_height, int stride_width,
                                          int padding_height, int padding_width,
                                          int dilation_height, int dilation_width,
                                          int output_padding_height, int output_padding_width,
                                          nn_error *err);

/* The convolution whose adjoint this is: input (F, OH, OW), output (C, H, W). */
nn_conv_geometry nn_conv_transpose_adjoint(const nn_conv_transpose_geometry *geometry,
                                           int filters);

/* Elements of nn_real the caller must allocate for `columns`; like the
 * convolution's, at least F*KH*KW * N*H*W + C * N*H*W. */
size_t nn_conv_transpose2d_workspace_size(int batch, int filters,
                                          const nn_conv_transpose_geometry *geometry);

/* out: (N, F, OH, OW), overwritten; x: (N, C, H, W); weight: (C, F, KH, KW)
 * as PyTorch stores it; bias: (F) or NULL. */
nn_status nn_conv_transpose2d_forward(nn_real *out, nn_real *columns, const nn_real *x,
                                      const nn_real *weight, const nn_real *bias, int batch,
                                      int filters, const nn_conv_transpose_geometry *geometry);

/* dx: (N, C, H, W) or NULL; dweight: (C, F, KH, KW) or NULL; dbias: (F) or
 * NULL; all accumulated. dout: (N, F, OH, OW). */
nn_status nn_conv_transpose2d_backward(nn_real *dx, nn_real *dweight, nn_real *dbias,
                                       nn_real *columns, const nn_real *dout, const nn_real *x,
                                       const nn_real *weight, int batch, int filters,
                                       const nn_conv_transpose_geometry *geometry);

#endif
