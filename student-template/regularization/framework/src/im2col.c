/*
 * im2col.c - patch unrolling for convolution as GEMM, and its adjoint.
 */
#include "nn/im2col.h"

#include <string.h>

nn_status nn_conv_geometry_init(nn_conv_geometry *g, int channels, int height,
                                int width, int kernel_height, int kernel_width,
                                int stride_height, int stride_width, int padding_height,
                                int padding_width, int dilation_height, int dilation_width,
                                nn_error *err)
{
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_SHAPE, "convolution input (%d, %d, %d) has an empty dimension",
                            channels, height, width);
    if (kernel_height < 1 || kernel_width < 1 || stride_height < 1 || stride_width < 1
        || dilation_height < 1 || dilation_width < 1 || padding_height < 0 || padding_width < 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "convolution kernel %dx%d, stride %dx%d, padding %dx%d, dilation %dx%d: "
                            "kernel, stride and dilation must be at least 1, padding at least 0",
                            kernel_height, kernel_width, stride_height, stride_width,
                            padding_height, padding_width, dilation_height, dilation_width);
    int span_h = dilation_height * (kernel_height - 1) + 1;
    int span_w = dilation_width * (kernel_width - 1) + 1;
    if (span_h > height + 2 * padding_height || span_w > width + 2 * padding_width)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "kernel spanning %dx%d does not fit the input %dx%d padded by %dx%d",
                            span_h, span_w, height, width, padding_height, padding_width);
    *g = (nn_conv_geometry){
        .channels = channels, .height = height, .width = width,
        .kernel_height = kernel_height, .kernel_width = kernel_width,
        .stride_height = stride_height, .stride_width = stride_width,
        .padding_height = padding_height, .padding_width = padding_width,
        .dilation_height = dilation_height, .dilation_width = dilation_width,
        .output_height = (height + 2 * padding_height - span_h) / stride_height + 1,
        .output_width = (width + 2 * padding_width - span_w) / stride_width + 1,
    };
    return NN_OK;
}

void nn_im2col(nn_real *columns, const nn_real *image, const nn_conv_geometry *g)
{
    const int oh_count = g->output_height, ow_count = g->output_width;
    for (int c = 0; c < g->channels; c++) {
        const nn_real *plane = image + (size_t)c * g->height * g->width;
        for (int ki = 0; ki < g->kernel_height; ki++) {
            for (int kj = 0; kj < g->kernel_width; kj++) {
                nn_real *row = columns
                    + ((size_t)(c * g->kernel_height + ki) * g->kernel_width + kj)
                      * oh_count * ow_count;
                for (int oh = 0; oh < oh_count; oh++) {
                    int ih = oh * g->stride_height - g->padding_height + ki * g->dilation_height;
                    nn_real *out = row + (size_t)oh * ow_count;
                    if (ih < 0 || ih >= g->height) {
                        memset(out, 0, (size_t)ow_count * sizeof *out);
                        continue;
                    }
                    const nn_real *in = plane + (size_t)ih * g->width;
                    int iw = -g->padding_width + kj * g->dilation_width;
                    for (int ow = 0; ow < ow_count; ow++, iw += g->stride_width)
                        out[ow] = (iw >= 0 && iw < g->width) ? in[iw] : 0;
                }
            }
        }
    }
}

void nn_col2im(nn_real *image_grad, const nn_real *columns, const nn_conv_geometry *g)
{
    const int oh_count = g->output_height, ow_count = g->output_width;
    for (int c = 0; c < g->channels; c++) {
        nn_real *plane = image_grad + (size_t)c * g->height * g->width;
        for (int ki = 0; ki < g->kernel_height; ki++) {
            for (int kj = 0; kj < g->kernel_width; kj++) {
                const nn_real *row = columns
                    + ((size_t)(c * g->kernel_height + ki) * g->kernel_width + kj)
                      * oh_count * ow_count;
                for (int oh = 0; oh < oh_count; oh++) {
                    int ih = oh * g->stride_height - g->padding_height + ki * g->dilation_height;
                    if (ih < 0 || ih >= g->height)
                        continue;
                    const nn_real *in = row + (size_t)oh * ow_count;
                    nn_real *out = plane + (size_t)ih * g->width;
                    int iw = -g->padding_width + kj * g->dilation_width;
                    for (int ow = 0; ow < ow_count; ow++, iw += g->stride_width)
                        if (iw >= 0 && iw < g->width)
                            out[iw] += in[ow];
                }
            }
        }
    }
}
