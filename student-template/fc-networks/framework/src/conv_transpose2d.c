/*
 * conv_transpose2d.c - the transposed 2-D convolution layer (NCHW), as
 * F.conv_transpose2d computes it: the upsampling half of an encoder-decoder.
 *
 * With weight (C, F, KH, KW), let A be the convolution from (F, OH, OW) to
 * (C, H, W) that uses this weight as its (filters = C, channels = F) weight.
 * The transposed convolution is its adjoint, plus a bias:
 *     out = A^T x + b
 * so the chain rule gives
 *     dx += A dout                  (a plain convolution of dout)
 *     dW += the weight gradient of A with input dout and output gradient x
 *     db += sum of dout over images and pixels
 * and each is one call into the convolution machinery with the roles of
 * the two tensors swapped.
 *
 * The model answer does it image by image with im2col, col2im and GEMM,
 * where A = Wm im2col_A (Wm the weight read as a (C, F*KH*KW) matrix):
 *     A^T x = col2im_A(Wm^T x)     A dout = Wm im2col_A(dout)
 *     dWm += x im2col_A(dout)^T
 * and it is what the runner kit compiles. The reference library, built
 * with NN_REFERENCE_ONLY, calls the reference-only engine (conv_engine.c)
 * instead.
 */
#include "nn/conv.h"

#include "nn/gemm.h"

nn_status nn_conv_transpose_geometry_init(nn_conv_transpose_geometry *g, int channels,
                                          int height, int width, int kernel_height,
                                          int kernel_width, int stride_height, int stride_width,
                                          int padding_height, int padding_width,
                                          int dilation_height, int dilation_width,
                                          int output_padding_height, int output_padding_width,
                                          nn_error *err)
{
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "transposed convolution input (%d, %d, %d) has an empty dimension",
                            channels, height, width);
    if (kernel_height < 1 || kernel_width < 1 || stride_height < 1 || stride_width < 1
        || dilation_height < 1 || dilation_width < 1 || padding_height < 0 || padding_width < 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "transposed convolution kernel %dx%d, stride %dx%d, padding %dx%d, "
                            "dilation %dx%d: kernel, stride and dilation must be at least 1, "
                            "padding at least 0",
                            kernel_height, kernel_width, stride_height, stride_width,
                            padding_height, padding_width, dilation_height, dilation_width);
    if (output_padding_height < 0 || output_padding_width < 0
        || output_padding_height >= stride_height || output_padding_width >= stride_width)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "transposed convolution output padding %dx%d must be at least 0 and "
                            "smaller than the stride %dx%d",
                            output_padding_height, output_padding_width, stride_height,
                            stride_width);
    long oh = (long)(height - 1) * stride_height - 2L * padding_height
              + (long)dilation_height * (kernel_height - 1) + output_padding_height + 1;
    long ow = (long)(width - 1) * stride_width - 2L * padding_width
              + (long)dilation_width * (kernel_width - 1) + output_padding_width + 1;
    if (oh < 1 || ow < 1)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "transposed convolution of a %dx%d input with kernel %dx%d, stride "
                            "%dx%d and padding %dx%d gives an empty %ldx%ld output",
                            height, width, kernel_height, kernel_width, stride_height,
                            stride_width, padding_height, padding_width, oh, ow);
    if (oh > 1L << 30 || ow > 1L << 30)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "transposed convolution output %ldx%ld is too large", oh, ow);
    *g = (nn_conv_transpose_geometry){
        .channels = channels, .height = height, .width = width,
        .kernel_height = kernel_height, .kernel_width = kernel_width,
        .stride_height = stride_height, .stride_width = stride_width,
        .padding_height = padding_height, .padding_width = padding_width,
        .dilation_height = dilation_height, .dilation_width = dilation_width,
        .output_padding_height = output_padding_height,
        .output_padding_width = output_padding_width,
        .output_height = (int)oh, .output_width = (int)ow,
    };
    return NN_OK;
}

nn_conv_geometry nn_conv_transpose_adjoint(const nn_conv_transpose_geometry *g, int filters)
{
    /* With output_padding < stride, the convolution of an (OH, OW) input
     * with these settings has exactly the (H, W) output:
     * floor(((H - 1) s + output_padding) / s) + 1 = H. */
    return (nn_conv_geometry){
        .channels = filters, .height = g->output_height, .width = g->output_width,
        .kernel_height = g->kernel_height, .kernel_width = g->kernel_width,
        .stride_height = g->stride_height, .stride_width = g->stride_width,
        .padding_height = g->padding_height, .padding_width = g->padding_width,
        .dilation_height = g->dilation_height, .dilation_width = g->dilation_width,
        .output_height = g->height, .output_width = g->width,
    };
}

size_t nn_conv_transpose2d_workspace_size(int batch, int filters,
                                          const nn_conv_transpose_geometry *g)
{
    nn_conv_geometry adjoint = nn_conv_transpose_adjoint(g, filters);
    (void)adjoint;  /* used by the reference's part below */
    size_t pixels = (size_t)batch * (size_t)g->height * (size_t)g->width;
    size_t taps = (size_t)filters * (size_t)g->kernel_height * (size_t)g->kernel_width;
    size_t unrolled = taps * pixels + (size_t)g->channels * pixels;
    size_t engine = 0;
    return engine > unrolled ? engine : unrolled;
}

nn_status nn_conv_transpose2d_forward(nn_real *out, nn_real *columns, const nn_real *x,
                                      const nn_real *weight, const nn_real *bias, int batch,
                                      int filters, const nn_conv_transpose_geometry *geometry)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)columns;
    (void)x;
    (void)weight;
    (void)bias;
    (void)batch;
    (void)filters;
    (void)geometry;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_conv_transpose2d_backward(nn_real *dx, nn_real *dweight, nn_real *dbias,
                                       nn_real *columns, const nn_real *dout, const nn_real *x,
                                       const nn_real *weight, int batch, int filters,
                                       const nn_conv_transpose_geometry *geometry)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dweight;
    (void)dbias;
    (void)columns;
    (void)dout;
    (void)x;
    (void)weight;
    (void)batch;
    (void)filters;
    (void)geometry;
    return NN_ERR_NOT_IMPLEMENTED;
}
