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
    /* BEGIN SOLUTION */
    const double lr = config->learning_rate;
    const double beta1 = config->beta1, beta2 = config->beta2;
    const double eps = config->epsilon;
    const double weight_decay = config->weight_decay;
    /* t counts from 1; at t = 0 the correction would divide by zero. */
    if (step < 1)
        return NN_ERR_ARGUMENT;
    double correction1 = 1.0, correction2 = 1.0;
    if (config->bias_correction) {
        correction1 = 1.0 - pow(beta1, (double)step);
        correction2 = 1.0 - pow(beta2, (double)step);
    }
    /* The loop runs in nn_real, as PyTorch's does in float32, so that it
     * vectorises: it touches every parameter at every step and would
     * otherwise cost as much as the matrix products of a small network.
     * Coupled decay adds wd w to the gradient (from the old w); decoupled
     * decay (AdamW) shrinks w by (1 - lr wd) apart from the gradient. */
    const nn_real coupled_decay = config->decoupled ? 0 : (nn_real)weight_decay;
    const nn_real shrink = config->decoupled ? (nn_real)(1.0 - lr * weight_decay) : 1;
    const nn_real b1 = (nn_real)beta1, b2 = (nn_real)beta2;
    const nn_real one_minus_b1 = (nn_real)(1.0 - beta1), one_minus_b2 = (nn_real)(1.0 - beta2);
    const nn_real inverse_sqrt_c2 = (nn_real)(1.0 / sqrt(correction2));
    const nn_real step_size = (nn_real)(lr / correction1);
    const nn_real epsilon = (nn_real)eps;
    for (size_t i = 0; i < count; i++) {
        nn_real w = weights[i];
        nn_real g = grad[i] + coupled_decay * w;
        w *= shrink;
        nn_real m = b1 * first_moment[i] + one_minus_b1 * g;
        nn_real v = b2 * second_moment[i] + one_minus_b2 * g * g;
        first_moment[i] = m;
        second_moment[i] = v;
        /* m^ / (sqrt(v^) + eps), with sqrt(v^) = sqrt(v) / sqrt(c2). */
        weights[i] = w - step_size * (m / (sqrt_real(v) * inverse_sqrt_c2 + epsilon));
    }
    return NN_OK;
    /* END SOLUTION */
}
