/*
 * sgd.c - stochastic gradient descent, with optional momentum, Nesterov
 * momentum and L2 weight decay, in PyTorch's formulation (torch.optim.SGD
 * with dampening 0).
 *
 * With weight decay wd the gradient used is g = grad + wd w, the gradient of
 * loss + wd/2 ||w||^2. For plain SGD that makes the update
 *     w <- w - lr (grad + wd w) = (1 - lr wd) w - lr grad,
 * a shrinking of every weight by the factor (1 - lr wd) at each step: the
 * reason L2 regularisation is called weight decay.
 *
 * Momentum keeps a velocity v (zero at the start) and follows
 *     v <- momentum v + g,   w <- w - lr v.
 * Under a constant gradient v tends to g / (1 - momentum), so the steps grow
 * up to 1 / (1 - momentum) times the plain ones. Nesterov momentum steps
 * along g + momentum v instead, a look-ahead at where the velocity is about
 * to carry the weights. PyTorch's first-step rule (v = g) is the same as
 * starting from v = 0, so no step counter is needed.
 */
#include "nn/optim.h"

nn_status nn_sgd_step(nn_real *weights, nn_real *velocity, const nn_real *grad, size_t count,
                      const nn_sgd_config *config)
{
    /* BEGIN SOLUTION */
    const double lr = config->learning_rate;
    const double momentum = config->momentum;
    const double weight_decay = config->weight_decay;
    for (size_t i = 0; i < count; i++) {
        double w = (double)weights[i];
        double g = (double)grad[i] + weight_decay * w;
        double direction = g;
        /* Without momentum the velocity is neither read nor written (it may
         * be NULL), as PyTorch keeps no buffer then. */
        if (momentum != 0.0) {
            double v = momentum * (double)velocity[i] + g;
            velocity[i] = (nn_real)v;
            direction = config->nesterov ? g + momentum * v : v;
        }
        weights[i] = (nn_real)(w - lr * direction);
    }
    return NN_OK;
    /* END SOLUTION */
}
