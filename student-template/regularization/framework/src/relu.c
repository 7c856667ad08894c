/*
 * relu.c - the rectified linear unit, out = max(0, x), elementwise.
 *
 * Its derivative is 1 where x > 0 and 0 where x < 0. At x == 0 the function
 * has a kink and no derivative; like PyTorch we take the subgradient 0
 * there, so an input sitting exactly at the kink passes no gradient.
 */
#include "nn/layers.h"

/* out, x: (count) */
nn_status nn_relu_forward(nn_real *out, const nn_real *x, size_t count)
{
    /* BEGIN SOLUTION */
    for (size_t i = 0; i < count; i++)
        out[i] = x[i] > 0 ? x[i] : (nn_real)0;
    return NN_OK;
    /* END SOLUTION */
}

/* dx, dout, x: (count); dx += dout * [x > 0]. The saved input, not the
 * output, decides the mask: both work for ReLU, but x is what the header
 * promises and what LeakyReLU and PReLU need too. */
nn_status nn_relu_backward(nn_real *dx, const nn_real *dout, const nn_real *x, size_t count)
{
    /* BEGIN SOLUTION */
    if (dx == NULL)
        return NN_OK;
    for (size_t i = 0; i < count; i++)
        if (x[i] > 0)
            dx[i] += dout[i];
    return NN_OK;
    /* END SOLUTION */
}
