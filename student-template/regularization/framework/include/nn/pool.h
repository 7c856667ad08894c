/*
 * pool.h - pooling and resampling kernels of the convolutional course units:
 * max and average pooling, global average pooling, and nearest / bilinear
 * upsampling. Each unit lives in its own file, reference/src/<unit>.c.
 *
 * The conventions are those of layers.h: outputs, then saved-for-backward
 * buffers, then inputs (const), then sizes and the geometry; NCHW, row-major;
 * kernels never allocate and cannot fail (the geometry is validated once,
 * by its init function, when the layer is set up); backward ADDS into dx.
 *
 * A geometry describes one image (C, H, W); the batch size N is passed to
 * each kernel, so one geometry serves any batch.
 */
#ifndef NN_POOL_H
#define NN_POOL_H

#include "nn/core.h"

/* ---- pooling windows ----------------------------------------------------- */

typedef struct nn_pool_geometry {
    int channels, height, width;         /* input (C, H, W) */
    int kernel_height, kernel_width;     /* window size */
    int stride_height, stride_width;     /* PyTorch's default is the kernel size */
    int padding_height, padding_width;   /* implicit border on each side */
    int output_height, output_width;     /* derived by nn_pool_geometry_init */
} nn_pool_geometry;

/*
 * Validates a pooling window and derives the output size as PyTorch does
 * with ceil_mode = false,
 *     OH = floor((H + 2 pad - KH) / stride) + 1,
 * and likewise OW. Fails, saying which rule was broken, when
 *   - C, H or W is below 1 (NN_ERR_SHAPE);
 *   - kernel or stride is below 1, or padding below 0 (NN_ERR_ARGUMENT);
 *   - padding exceeds half the kernel, pad > K / 2 (NN_ERR_ARGUMENT; the
 *     rule is PyTorch's, and it keeps padding from filling a window);
 *   - the kernel is larger than the padded input, K > H + 2 pad (NN_ERR_SHAPE);
 *   - H * W does not fit an int, the type of a saved argmax (NN_ERR_SHAPE).
 * Under these rules every window overlaps the input in at least one value.
 */
nn_status nn_pool_geometry_init(nn_pool_geometry *geometry, int channels, int height, int width,
                                int kernel_height, int kernel_width, int stride_height,
                                int stride_width, int padding_height, int padding_width,
                                nn_error *err);

/* ---- max pooling --------------------------------------------------------
 * out[n,c,i,j] = max over the window at (i stride - pad, j stride - pad).
 * Padding counts as -infinity: it is never selected. argmax saves, for each
 * output, the index h * W + w of the chosen input inside its (H, W) plane
 * (PyTorch's return_indices convention). Ties go to the first maximum in
 * row-major scan order of the window; a NaN in a window is selected (the
 * last one if there are several), so a diverging network shows NaN rather
 * than hiding it, as PyTorch does. */

/* out, argmax: (N, C, OH, OW); x: (N, C, H, W) */
nn_status nn_max_pool2d_forward(nn_real *out, int *argmax, const nn_real *x, int batch,
                                const nn_pool_geometry *geometry);
/* dx: (N, C, H, W), accumulated; dout, argmax: (N, C, OH, OW). Each output's
 * gradient goes to the one input its argmax names:
 *     dx[n,c,argmax[n,c,i,j]] += dout[n,c,i,j]. */
nn_status nn_max_pool2d_backward(nn_real *dx, const nn_real *dout, const int *argmax, int batch,
                                 const nn_pool_geometry *geometry);

/* ---- average pooling ----------------------------------------------------
 * out[n,c,i,j] = (1 / (KH KW)) sum of the window, padding counted as zeros
 * (PyTorch's default count_include_pad = true): a window that hangs over
 * the border is still divided by KH KW, not by the number of real values.
 * Backward: each input in a window receives dout / (KH KW). */

/* out: (N, C, OH, OW); x: (N, C, H, W) */
nn_status nn_avg_pool2d_forward(nn_real *out, const nn_real *x, int batch,
                                const nn_pool_geometry *geometry);
/* dx: (N, C, H, W), accumulated; dout: (N, C, OH, OW) */
nn_status nn_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_pool_geometry *geometry);

/* ---- global average pooling: (N, C, H, W) -> (N, C) ----------------------
 * out[n,c] = mean of the channel's S = H*W values. The output size does not
 * depend on H and W, so a network ending in it accepts images of any size
 * (PyTorch's adaptive_avg_pool2d(x, 1), flattened). Backward spreads
 * dout[n,c] / S over the plane. */

/* out: (N, C); x: (N, C, S) */
nn_status nn_global_avg_pool2d_forward(nn_real *out, const nn_real *x, int batch, int channels,
                                       int spatial);
/* dx: (N, C, S), accumulated; dout: (N, C) */
nn_status nn_global_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch, int channels,
                                        int spatial);

/* ---- upsampling by an integer factor ------------------------------------ */

typedef enum nn_upsample_mode {
    NN_UPSAMPLE_NEAREST,  /* out[i, j] = x[i / s, j / s] (integer division) */
    NN_UPSAMPLE_BILINEAR  /* align_corners = false, PyTorch's default */
} nn_upsample_mode;

typedef struct nn_upsample_geometry {
    int channels, height, width;       /* input (C, H, W) */
    int scale;                         /* s >= 1, the same along H and W */
    nn_upsample_mode mode;
    int output_height, output_width;   /* s H, s W */
} nn_upsample_geometry;

/* Validates the sizes (all at least 1, s H and s W fitting an int) and the
 * mode, and derives the output size. */
nn_status nn_upsample_geometry_init(nn_upsample_geometry *geometry, int channels, int height,
                                    int width, int scale, nn_upsample_mode mode, nn_error *err);

/*
 * Bilinear with align_corners = false treats pixels as unit squares: output
 * index o sits at input coordinate
 *     u = (o + 0.5) / s - 0.5, clamped below at 0,
 * and interpolates between i0 = floor(u) and i1 = min(i0 + 1, H - 1) with
 * weights (1 - (u - i0), u - i0); the same along W, and the product of the
 * two along both. Near the border the clamp repeats the edge value.
 * Both modes are linear in x, and backward applies the transpose (adjoint)
 * of the forward map: every output's gradient is scattered back to the
 * inputs it was read from, with the weights it was read with.
 */

/* out: (N, C, sH, sW); x: (N, C, H, W) */
nn_status nn_upsample2d_forward(nn_real *out, const nn_real *x, int batch,
                                const nn_upsample_geometry *geometry);
/* dx: (N, C, H, W), accumulated; dout: (N, C, sH, sW) */
nn_status nn_upsample2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_upsample_geometry *geometry);

#endif
