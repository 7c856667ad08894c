/*
 * avg_pool2d.c - average pooling over KH x KW windows, with stride and
 * padding.
 *
 * Padding counts as zeros and the divisor is always KH KW, as in PyTorch's
 * default (count_include_pad = true):
 *     out[n,c,i,j] = (1 / (KH KW)) sum_{(h,w) in window, inside the image} x[n,c,h,w].
 * (With ceil_mode = false no window reaches past the padded border, so the
 * divisor PyTorch computes is KH KW for every window.) A window overlapping
 * the border therefore averages towards zero; count_include_pad = false
 * would divide by the number of real values instead.
 *
 * out is linear in x with coefficient 1 / (KH KW) for each input of each
 * window, so backward hands every input of a window that share:
 *     dx[n,c,h,w] += sum_{windows containing (h,w)} dout[n,c,i,j] / (KH KW).
 */
#include "nn/pool.h"

nn_status nn_avg_pool2d_forward(nn_real *out, const nn_real *x, int batch,
                                const nn_pool_geometry *g)
{
    /* BEGIN SOLUTION */
    const int H = g->height, W = g->width, OH = g->output_height, OW = g->output_width;
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    const double inverse_area = 1.0 / ((double)g->kernel_height * g->kernel_width);

    for (size_t p = 0; p < planes; p++) {
        const nn_real *plane = x + p * in_plane;
        nn_real *o = out + p * out_plane;
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
                double sum = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        sum += plane[(size_t)h * W + w];
                o[(size_t)i * OW + j] = (nn_real)(sum * inverse_area);
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_avg_pool2d_backward(nn_real *dx, const nn_real *dout, int batch,
                                 const nn_pool_geometry *g)
{
    /* BEGIN SOLUTION */
    const int H = g->height, W = g->width, OH = g->output_height, OW = g->output_width;
    const size_t planes = (size_t)batch * (size_t)g->channels;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
    const double inverse_area = 1.0 / ((double)g->kernel_height * g->kernel_width);

    for (size_t p = 0; p < planes; p++) {
        nn_real *plane = dx + p * in_plane;
        const nn_real *grad = dout + p * out_plane;
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
                /* The padded positions of the window take their share too,
                 * but they are not inputs: it is simply dropped. */
                const nn_real share = (nn_real)(grad[(size_t)i * OW + j] * inverse_area);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        plane[(size_t)h * W + w] += share;
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}
