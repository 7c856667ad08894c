/*
 * max_pool2d.c - max pooling over KH x KW windows, with stride and padding.
 *
 * Forward keeps, for every output, where its maximum came from:
 *     out[n,c,i,j] = x[n,c,argmax[n,c,i,j]],
 * argmax an index h * W + w inside the (H, W) plane. The output is a
 * selection, so its derivative is 1 for the selected input and 0 for the
 * others, and backward is a scatter:
 *     dx[n,c,argmax[n,c,i,j]] += dout[n,c,i,j].
 * Overlapping windows (stride < kernel) may select the same input twice;
 * its gradients then add up, which the += does.
 *
 * Padding is -infinity and is never selected; the geometry guarantees that
 * every window holds at least one real value, so the scan can start from
 * that value. "v > best" keeps the first of equal maxima in row-major scan
 * order (PyTorch's rule); "v != v" lets a NaN win, so it propagates.
 *
 * The 2x2, stride 2, unpadded window of nearly every CNN gets its own loop:
 * the two input rows are read once, in order, every window is the same
 * three comparisons, and no bounds need testing.
 */
#include "nn/pool.h"

#include <math.h>

nn_status nn_max_pool2d_forward(nn_real *out, int *argmax, const nn_real *x, int batch,
                                const nn_pool_geometry *g)
{
    /* BEGIN SOLUTION */
    const int H = g->height, W = g->width, OH = g->output_height, OW = g->output_width;
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;

    if (g->kernel_height == 2 && g->kernel_width == 2 && g->stride_height == 2
        && g->stride_width == 2 && g->padding_height == 0 && g->padding_width == 0) {
        for (size_t p = 0; p < planes; p++) {
            const nn_real *plane = x + p * in_plane;
            nn_real *o = out + p * out_plane;
            int *index = argmax + p * out_plane;
            for (int i = 0; i < OH; i++) {
                const nn_real *top = plane + (size_t)(2 * i) * W, *bottom = top + W;
                const int corner = 2 * i * W; /* top-left input of window (i, 0) */
                for (int j = 0; j < OW; j++) {
                    /* Scan order a, b (top row), c, d (bottom row): choose
                     * within each row, then between the rows; strict >
                     * keeps the earlier of equal values at both steps.
                     * On random data every comparison is a coin toss that
                     * a branch would mispredict half the time, so the
                     * choices are kept as 0/1 integers and combined by
                     * arithmetic; the float selects compile to max
                     * instructions. */
                    nn_real a = top[2 * j], b = top[2 * j + 1];
                    nn_real c = bottom[2 * j], d = bottom[2 * j + 1];
                    int take_b = b > a, take_d = d > c;
                    nn_real top_max = b > a ? b : a, bottom_max = d > c ? d : c;
                    int take_bottom = bottom_max > top_max;
                    nn_real best = bottom_max > top_max ? bottom_max : top_max;
                    /* take_bottom ? W + take_d : take_b, as arithmetic */
                    int offset = take_b + take_bottom * (W + take_d - take_b);
                    if (isunordered(a, b) || isunordered(c, d)) {
                        /* A NaN defeats every comparison above; scan the
                         * window the general way, which lets it win. */
                        const nn_real value[4] = { a, b, c, d };
                        const int position[4] = { 0, 1, W, W + 1 };
                        best = a;
                        offset = 0;
                        for (int k = 1; k < 4; k++) {
                            if (value[k] > best || value[k] != value[k]) {
                                best = value[k];
                                offset = position[k];
                            }
                        }
                    }
                    o[(size_t)i * OW + j] = best;
                    index[(size_t)i * OW + j] = corner + 2 * j + offset;
                }
            }
        }
        return NN_OK;
    }

    for (size_t p = 0; p < planes; p++) {
        const nn_real *plane = x + p * in_plane;
        nn_real *o = out + p * out_plane;
        int *index = argmax + p * out_plane;
        for (int i = 0; i < OH; i++) {
            int h0 = i * g->stride_height - g->padding_height;
            int h1 = h0 + g->kernel_height;
            if (h0 < 0)
                h0 = 0;
            if (h1 > H)
                h1 = H;
            for (int j = 0; j < OW; j++) {
                int w0 = j * g->stride_width - g->padding_width;
                int w1 = w0 + g->kernel_width;
                if (w0 < 0)
                    w0 = 0;
                if (w1 > W)
                    w1 = W;
                int best_index = h0 * W + w0;
                nn_real best = plane[best_index];
                for (int h = h0; h < h1; h++) {
                    for (int w = w0; w < w1; w++) {
                        nn_real v = plane[h * W + w];
                        if (v > best || v != v) {
                            best = v;
                            best_index = h * W + w;
                        }
                    }
                }
                o[(size_t)i * OW + j] = best;
                index[(size_t)i * OW + j] = best_index;
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_max_pool2d_backward(nn_real *dx, const nn_real *dout, const int *argmax, int batch,
                                 const nn_pool_geometry *g)
{
    /* BEGIN SOLUTION */
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)g->height * g->width;
    const size_t out_plane = (size_t)g->output_height * g->output_width;
    for (size_t p = 0; p < planes; p++) {
        nn_real *plane = dx + p * in_plane;
        const nn_real *grad = dout + p * out_plane;
        const int *index = argmax + p * out_plane;
        for (size_t k = 0; k < out_plane; k++)
            plane[index[k]] += grad[k];
    }
    return NN_OK;
    /* END SOLUTION */
}
