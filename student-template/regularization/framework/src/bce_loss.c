/*
 * bce_loss.c - binary cross-entropy on probabilities,
 *
 *     L = -(1/n) sum_i [ t_i log p_i + (1 - t_i) log(1 - p_i) ],
 *
 * the negative log-likelihood of Bernoulli targets t_i in [0, 1] (soft
 * targets allowed) under predicted probabilities p_i, usually a sigmoid's
 * output. A network that has not learnt anything yet outputs p ~ 1/2, so
 * its loss starts near ln 2 ~ 0.693 whatever the batch size.
 *
 * Differentiating, dL/dp_i = (p_i - t_i) / (p_i (1 - p_i) n). Both passes
 * first clamp p to [eps, 1 - eps] (eps = NN_BCE_EPSILON) in double, where
 * 1 - eps is still distinguishable from 1, so log and the division never
 * meet 0. When the probability comes from a sigmoid, prefer
 * bce_with_logits_loss.c: it needs no clamp at all.
 */
#include "nn/loss.h"

#include <math.h>

/* loss: scalar; probability, target: (count), count >= 1 */
nn_status nn_bce_loss_forward(double *loss, const nn_real *probability, const nn_real *target,
                              size_t count)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)loss;
    (void)probability;
    (void)target;
    (void)count;
    return NN_ERR_NOT_IMPLEMENTED;
}

/* dprobability += scale * (p - t) / (p (1 - p) count), p clamped; (count) */
nn_status nn_bce_loss_backward(nn_real *dprobability, const nn_real *probability,
                               const nn_real *target, size_t count, nn_real scale)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dprobability;
    (void)probability;
    (void)target;
    (void)count;
    (void)scale;
    return NN_ERR_NOT_IMPLEMENTED;
}
