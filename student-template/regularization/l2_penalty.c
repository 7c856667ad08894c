/*
 * l2_penalty.c - L2 regularisation written as a term of the loss,
 *     R(w) = lambda / 2 * sum_i w_i^2,   dR/dw_i = lambda w_i.
 *
 * Adding R to the loss and running plain SGD gives exactly the update of SGD
 * with weight_decay = lambda, (1 - lr lambda) w - lr grad: the two are the
 * same regulariser, one seen from the loss and one from the update. (They
 * part ways for adaptive optimizers, see adam.c.) The forward adds to *loss
 * and the backward adds to dweights, like every other loss and backward.
 */
#include "nn/optim.h"

nn_status nn_l2_penalty_forward(double *loss, const nn_real *weights, size_t count,
                                double lambda)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)loss;
    (void)weights;
    (void)count;
    (void)lambda;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_l2_penalty_backward(nn_real *dweights, const nn_real *weights, size_t count,
                                 double lambda)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dweights;
    (void)weights;
    (void)count;
    (void)lambda;
    return NN_ERR_NOT_IMPLEMENTED;
}
