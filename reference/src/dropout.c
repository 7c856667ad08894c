/*
 * dropout.c - inverted dropout (Srivastava et al., JMLR 2014, with the
 * scaling moved from test time to training time).
 *
 * In training each value is kept with probability 1 - p and scaled by
 * 1 / (1 - p), otherwise zeroed, so E[out] = x and the network needs no
 * change at test time: eval mode is the identity. The mask (0 or
 * 1 / (1 - p) per value) is saved, and backward is dx = dout * mask.
 *
 * Contract: p must lie in [0, 1). p = 1 would divide by zero, and a kernel
 * has no failure path, so the caller (the network builder, the grader)
 * validates p when the layer is set up. p = 0 and eval mode draw nothing
 * from the rng, which may then be NULL.
 */
#include "nn/layers.h"

nn_status nn_dropout_forward(nn_real *out, nn_real *mask, const nn_real *x, size_t count,
                             nn_real drop_probability, bool training, nn_rng *rng)
{
    /* BEGIN SOLUTION */
    if (!training || drop_probability == 0) {
        for (size_t i = 0; i < count; i++) {
            mask[i] = 1;
            out[i] = x[i];
        }
        return NN_OK;
    }
    /* One uniform draw per value, in index order, so a seed fixes the mask.
     * u < 1 - p happens with probability exactly 1 - p for u in [0, 1). */
    double keep = 1.0 - (double)drop_probability;
    nn_real scale = (nn_real)(1.0 / keep);
    for (size_t i = 0; i < count; i++) {
        mask[i] = nn_rng_uniform(rng) < keep ? scale : 0;
        out[i] = x[i] * mask[i];
    }
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_dropout_backward(nn_real *dx, const nn_real *dout, const nn_real *mask,
                              size_t count)
{
    /* BEGIN SOLUTION */
    if (dx == NULL)
        return NN_OK;
    for (size_t i = 0; i < count; i++)
        dx[i] += dout[i] * mask[i];
    return NN_OK;
    /* END SOLUTION */
}
