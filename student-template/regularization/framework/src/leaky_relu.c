/*
 * leaky_relu.c - LeakyReLU: out = x for x > 0 and slope * x otherwise.
 *
 * A small fixed slope (0.01 in PyTorch) keeps a gradient flowing through
 * negative inputs, so a unit cannot "die" the way a ReLU unit can when its
 * input stays negative. The slope is a hyperparameter, not learnt; PReLU
 * (prelu.c) learns it. With slope 0 this is exactly ReLU, still a
 * non-linearity; with slope 1 it is the identity.
 *
 * Derivative: 1 for x > 0, slope for x <= 0 (at the kink x == 0 we take the
 * left side, as PyTorch does).
 */
#include "nn/layers.h"

/* out, x: (count) */
nn_status nn_leaky_relu_forward(nn_real *out, const nn_real *x, size_t count, nn_real slope)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)out;
    (void)x;
    (void)count;
    (void)slope;
    return NN_ERR_NOT_IMPLEMENTED;
}

/* dx, dout, x: (count); dx += dout * (x > 0 ? 1 : slope) */
nn_status nn_leaky_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x,
                                 size_t count, nn_real slope)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dx;
    (void)dout;
    (void)x;
    (void)count;
    (void)slope;
    return NN_ERR_NOT_IMPLEMENTED;
}
