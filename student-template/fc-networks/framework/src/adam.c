/*
 * adam.c - Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter,
 * 2019), as torch.optim.Adam and torch.optim.AdamW compute them.
 *
 * Adam keeps moving averages of the gradient and of its square,
 *     m <- b1 m + (1 - b1) g,    v <- b2 v + (1 - b2) g^2,
 * both starting at zero. Early on they are therefore biased towards zero:
 * after t steps of a constant gradient, m = (1 - b1^t) g. Bias correction
 * divides that factor out,
 *     m^ = m / (1 - b1^t),       v^ = v / (1 - b2^t),
 * and the step is w <- w - lr m^ / (sqrt(v^) + eps), about lr per
 * coordinate at t = 1. Without the correction the first step is
 * lr (1 - b1) / sqrt(1 - b2) per coordinate: m's zero start shrinks it,
 * v's zero start (in the denominator) inflates it, and which wins depends on
 * the betas: 3.2 lr for the usual 0.9 and 0.999, 0.32 lr for 0.9 and 0.9.
 * Either way the early steps are off by a factor that has nothing to do
 * with the problem; the switch exists only to show it.
 *
 * Weight decay comes in two forms. Adam's (coupled) adds wd w to the
 * gradient, so the decay passes through the adaptive denominator and large,
 * rarely-updated weights are hardly decayed. AdamW's (decoupled) shrinks
 * the weights directly, w <- (1 - lr wd) w, apart from the gradient step.
 */
#include "nn/optim.h"

#include <math.h>

nn_status nn_adam_step(nn_real *weights, nn_real *first_moment, nn_real *second_moment,
                       const nn_real *grad, size_t count, long step,
                       const nn_adam_config *config)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)weights;
    (void)first_moment;
    (void)second_moment;
    (void)grad;
    (void)count;
    (void)step;
    (void)config;
    return NN_ERR_NOT_IMPLEMENTED;
}
