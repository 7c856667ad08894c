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
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)mask;
    (void)x;
    (void)count;
    (void)drop_probability;
    (void)training;
    (void)rng;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_dropout_backward(nn_real *dx, const nn_real *dout, const nn_real *mask,
                              size_t count)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)mask;
    (void)count;
    return NN_ERR_NOT_IMPLEMENTED;
}
