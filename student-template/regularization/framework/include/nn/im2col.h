/*
 * im2col.h - unrolling image patches into columns so that a convolution
 * becomes one matrix product (Chellapilla et al., 2006).
 *
 * For one image of shape (C, H, W), column row r = (c, ki, kj) and column
 * p = (oh, ow) hold x[c, oh*stride - pad + ki*dilation, ow*stride - pad +
 * kj*dilation], zero where that falls outside the image. Then
 * conv(x) = W (F, C*KH*KW) x columns (C*KH*KW, OH*OW).
 */
#ifndef NN_IM2COL_H
#define NN_IM2COL_H

#include "nn/core.h"

typedef struct nn_conv_geometry {
    int channels, height, width;         /* input (C, H, W) */
    int kernel_height, kernel_width;
    int stride_height, stride_width;
    int padding_height, padding_width;
    int dilation_height, dilation_width;
    int output_height, output_width;     /* derived by nn_conv_geometry_init */
} nn_conv_geometry;

/*
 * Fills the geometry and derives the output size,
 *     OH = floor((H + 2 pad - dilation (KH - 1) - 1) / stride) + 1,
 * failing with a message naming the shape when the kernel does not fit.
 */
nn_status nn_conv_geometry_init(nn_conv_geometry *geometry, int channels, int height,
                                int width, int kernel_height, int kernel_width,
                                int stride_height, int stride_width, int padding_height,
                                int padding_width, int dilation_height, int dilation_width,
                                nn_error *err);

/* columns: (C*KH*KW, OH*OW), overwritten. image: (C, H, W). */
void nn_im2col(nn_real *columns, const nn_real *image, const nn_conv_geometry *geometry);

/* The adjoint of nn_im2col: adds every column entry back into the pixel it
 * came from. image_grad: (C, H, W), accumulated (+=). columns: as above. */
void nn_col2im(nn_real *image_grad, const nn_real *columns, const nn_conv_geometry *geometry);

#endif
