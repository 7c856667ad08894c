/*
 * mse_loss.c - mean squared error, L = (1/n) sum_i (p_i - t_i)^2.
 *
 * dL/dp_i = 2 (p_i - t_i) / n. Over a constant prediction the minimiser is
 * the mean of the targets, which a single outlier drags along (compare
 * l1_loss.c). The sum runs in double whatever nn_real is.
 */
#include "nn/loss.h"

/* loss: scalar; prediction, target: (count), count >= 1 */
nn_status nn_mse_loss_forward(double *loss, const nn_real *prediction, const nn_real *target,
                              size_t count)
{
    /* BEGIN SOLUTION */
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        double difference = (double)prediction[i] - (double)target[i];
        sum += difference * difference;
    }
    *loss = sum / (double)count;
    return NN_OK;
    /* END SOLUTION */
}

/* dprediction += scale * 2 (p - t) / count; all arrays (count) */
nn_status nn_mse_loss_backward(nn_real *dprediction, const nn_real *prediction,
                               const nn_real *target, size_t count, nn_real scale)
{
    /* BEGIN SOLUTION */
    double step = 2.0 * (double)scale / (double)count;
    for (size_t i = 0; i < count; i++) {
        double difference = (double)prediction[i] - (double)target[i];
        dprediction[i] += (nn_real)(step * difference);
    }
    return NN_OK;
    /* END SOLUTION */
}
