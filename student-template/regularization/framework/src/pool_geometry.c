/*
 * pool_geometry.c - validation and output sizes for the pooling and
 * upsampling layers (pool.h). Shared set-up code, not a student unit: the
 * kernels rely on the guarantees checked here and have no failure paths.
 */
#include "nn/pool.h"

#include <limits.h>

nn_status nn_pool_geometry_init(nn_pool_geometry *g, int channels, int height, int width,
                                int kernel_height, int kernel_width, int stride_height,
                                int stride_width, int padding_height, int padding_width,
                                nn_error *err)
{
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "pooling input (%d, %d, %d) has an empty dimension", channels, height,
                            width);
    if (kernel_height < 1 || kernel_width < 1 || stride_height < 1 || stride_width < 1
        || padding_height < 0 || padding_width < 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "pooling kernel %dx%d, stride %dx%d, padding %dx%d: kernel and "
                            "stride must be at least 1, padding at least 0",
                            kernel_height, kernel_width, stride_height, stride_width,
                            padding_height, padding_width);
    if (padding_height > kernel_height / 2 || padding_width > kernel_width / 2)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "pooling padding %dx%d is more than half the kernel %dx%d "
                            "(at most %dx%d)",
                            padding_height, padding_width, kernel_height, kernel_width,
                            kernel_height / 2, kernel_width / 2);
    /* padding <= kernel / 2 < INT_MAX / 2, and the sums below are done in
     * long long, so a huge height cannot overflow them. */
    long long padded_h = (long long)height + 2LL * padding_height;
    long long padded_w = (long long)width + 2LL * padding_width;
    if (kernel_height > padded_h || kernel_width > padded_w)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "pooling kernel %dx%d is larger than the input %dx%d padded by %dx%d",
                            kernel_height, kernel_width, height, width, padding_height,
                            padding_width);
    if ((long long)height * width > INT_MAX)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "pooling input plane %dx%d has more values than an int index holds",
                            height, width);
    *g = (nn_pool_geometry){
        .channels = channels, .height = height, .width = width,
        .kernel_height = kernel_height, .kernel_width = kernel_width,
        .stride_height = stride_height, .stride_width = stride_width,
        .padding_height = padding_height, .padding_width = padding_width,
        .output_height = (int)((padded_h - kernel_height) / stride_height + 1),
        .output_width = (int)((padded_w - kernel_width) / stride_width + 1),
    };
    return NN_OK;
}

nn_status nn_upsample_geometry_init(nn_upsample_geometry *g, int channels, int height,
                                    int width, int scale, nn_upsample_mode mode, nn_error *err)
{
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "upsampling input (%d, %d, %d) has an empty dimension", channels,
                            height, width);
    if (scale < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "upsampling scale factor %d must be at least 1", scale);
    if (mode != NN_UPSAMPLE_NEAREST && mode != NN_UPSAMPLE_BILINEAR)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "upsampling mode %d is neither nearest (%d) nor bilinear (%d)",
                            (int)mode, (int)NN_UPSAMPLE_NEAREST, (int)NN_UPSAMPLE_BILINEAR);
    /* Each factor is below 2^31, so each product fits a long long; the
     * plane size is only formed once both sides are known to fit an int. */
    long long out_h = (long long)height * scale, out_w = (long long)width * scale;
    if (out_h > INT_MAX || out_w > INT_MAX || out_h * out_w > INT_MAX)
        return nn_error_set(err, NN_ERR_SHAPE,
                            "upsampling %dx%d by %d gives a %lldx%lld plane, more values than "
                            "an int index holds",
                            height, width, scale, out_h, out_w);
    *g = (nn_upsample_geometry){
        .channels = channels, .height = height, .width = width,
        .scale = scale, .mode = mode,
        .output_height = (int)out_h, .output_width = (int)out_w,
    };
    return NN_OK;
}
