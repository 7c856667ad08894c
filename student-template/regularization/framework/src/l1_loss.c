/*
 * l1_loss.c - mean absolute error, L = (1/n) sum_i |p_i - t_i|.
 *
 * Its minimiser over a constant prediction is the median of the targets,
 * so one far-off target moves it little: the robustness to outliers that
 * the squared error lacks. The derivative is sign(p_i - t_i) / n; at a tie
 * (p_i == t_i) the subgradient 0 is used, as torch.sign does, so a perfect
 * prediction receives no push.
 *
 * The sum runs in double whatever nn_real is: a float accumulator loses
 * whole percents of a mean over a few million elements.
 */
#include "nn/loss.h"

/* loss: scalar; prediction, target: (count), count >= 1 */
nn_status nn_l1_loss_forward(double *loss, const nn_real *prediction, const nn_real *target,
                             size_t count)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)loss;
    (void)prediction;
    (void)target;
    (void)count;
    return NN_ERR_NOT_IMPLEMENTED;
}

/* dprediction += scale * sign(p - t) / count; all arrays (count) */
nn_status nn_l1_loss_backward(nn_real *dprediction, const nn_real *prediction,
                              const nn_real *target, size_t count, nn_real scale)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)dprediction;
    (void)prediction;
    (void)target;
    (void)count;
    (void)scale;
    return NN_ERR_NOT_IMPLEMENTED;
}
