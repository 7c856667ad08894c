/*
 * rmsprop.c - RMSProp (Hinton's lecture 6e; PyTorch's torch.optim.RMSprop
 * without momentum or centring).
 *
 * Each weight keeps an exponential moving average of its squared gradient,
 *     s <- rho s + (1 - rho) g^2,
 * and steps by the gradient divided by the root of that average:
 *     w <- w - lr g / (sqrt(s) + eps).
 * The division normalises each coordinate by the recent size of its own
 * gradient: steep, oscillating directions get small steps, flat ones large
 * steps, and multiplying every gradient by a constant leaves the step
 * (nearly) unchanged, where SGD's step would scale with it.
 *
 * eps is added after the square root, as PyTorch does (Keras and the
 * original slides put it elsewhere); the results differ when eps is not
 * tiny next to sqrt(s). Weight decay, when set, is L2 added to the gradient.
 */
#include "nn/optim.h"

#include <math.h>

nn_status nn_rmsprop_step(nn_real *weights, nn_real *square_average, const nn_real *grad,
                          size_t count, const nn_rmsprop_config *config)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)weights;
    (void)square_average;
    (void)grad;
    (void)count;
    (void)config;
    return NN_ERR_NOT_IMPLEMENTED;
}
