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
/* BEGIN SOLUTION (no stub) */
#ifdef NN_REFERENCE_ONLY
#include "nn/conv_engine.h"
#endif
/* END SOLUTION */

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
    /* BEGIN SOLUTION (no stub) */
#ifdef NN_REFERENCE_ONLY
    engine = nn_conv_engine_workspace_size(batch, g->channels, &adjoint);
#endif
    /* END SOLUTION */
    return engine > unrolled ? engine : unrolled;
}

nn_status nn_conv_transpose2d_forward(nn_real *out, nn_real *columns, const nn_real *x,
                                      const nn_real *weight, const nn_real *bias, int batch,
                                      int filters, const nn_conv_transpose_geometry *geometry)
{
    /* BEGIN SOLUTION */
    /* out = b, then out += A^T x: the data gradient of the adjoint
     * convolution A, with x in the place of its output gradient. */
    const size_t plane = (size_t)geometry->output_height * (size_t)geometry->output_width;
    for (int n = 0; n < batch; n++)
        for (int f = 0; f < filters; f++) {
            nn_real *dst = out + ((size_t)n * (size_t)filters + (size_t)f) * plane;
            nn_real value = bias != NULL ? bias[f] : 0;
            for (size_t i = 0; i < plane; i++)
                dst[i] = value;
        }
    nn_conv_geometry adjoint = nn_conv_transpose_adjoint(geometry, filters);
#ifdef NN_REFERENCE_ONLY
    nn_conv_engine_backward(out, NULL, NULL, columns, x, NULL, weight, batch, geometry->channels,
                            &adjoint);
#else
    /* Per image: columns (F*KH*KW, H*W) = Wm^T x_n, scattered into out_n. */
    const int channels = geometry->channels;
    const int taps = filters * adjoint.kernel_height * adjoint.kernel_width;
    const int pixels = geometry->height * geometry->width;
    const size_t result = (size_t)filters * plane;
    for (int n = 0; n < batch; n++) {
        nn_matmul(true, false, taps, pixels, channels, 1, weight,
                  x + (size_t)n * channels * pixels, 0, columns);
        nn_col2im(out + (size_t)n * result, columns, &adjoint);
    }
#endif
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_conv_transpose2d_backward(nn_real *dx, nn_real *dweight, nn_real *dbias,
                                       nn_real *columns, const nn_real *dout, const nn_real *x,
                                       const nn_real *weight, int batch, int filters,
                                       const nn_conv_transpose_geometry *geometry)
{
    /* BEGIN SOLUTION */
    nn_conv_geometry adjoint = nn_conv_transpose_adjoint(geometry, filters);
#ifdef NN_REFERENCE_ONLY
    /* dx += A dout: the adjoint convolution applied to dout, no bias. */
    if (dx != NULL)
        nn_conv_engine_forward(dx, columns, dout, weight, NULL, batch, geometry->channels,
                               &adjoint, true);
    /* dW += the weight gradient of A, whose input is dout and whose output
     * gradient is x. */
    if (dweight != NULL)
        nn_conv_engine_backward(NULL, dweight, NULL, columns, x, dout, weight, batch,
                                geometry->channels, &adjoint);
#else
    /* Per image, D = im2col_A(dout_n) (F*KH*KW, H*W):
     *     dx_n (C, H*W) += Wm D        dWm (C, F*KH*KW) += x_n D^T */
    const int channels = geometry->channels;
    const int taps = filters * adjoint.kernel_height * adjoint.kernel_width;
    const int pixels = geometry->height * geometry->width;
    const size_t result = (size_t)filters * geometry->output_height * geometry->output_width;
    for (int n = 0; n < batch && (dx != NULL || dweight != NULL); n++) {
        const size_t offset = (size_t)n * channels * pixels;
        nn_im2col(columns, dout + (size_t)n * result, &adjoint);
        if (dx != NULL)
            nn_matmul(false, false, channels, pixels, taps, 1, weight, columns, 1, dx + offset);
        if (dweight != NULL)
            nn_matmul(false, true, channels, taps, pixels, 1, x + offset, columns, 1, dweight);
    }
#endif
    if (dbias != NULL) {
        const size_t plane = (size_t)geometry->output_height * (size_t)geometry->output_width;
        for (int n = 0; n < batch; n++)
            for (int f = 0; f < filters; f++) {
                const nn_real *src = dout + ((size_t)n * (size_t)filters + (size_t)f) * plane;
                nn_real sum = 0;
                for (size_t i = 0; i < plane; i++)
                    sum += src[i];
                dbias[f] += sum;
            }
    }
    return NN_OK;
    /* END SOLUTION */
}
