/*
 * softmax_cross_entropy.c - softmax over the class axis followed by the
 * negative log-likelihood of the true class, as one unit.
 *
 * Layout (N, C, S): sample n, class c, position s at [(n C + c) S + s].
 * S = 1 is plain classification on (N, C) logits; S = H*W is per-pixel
 * segmentation on NCHW logits, each pixel a separate classification. The
 * loss is the mean over all N*S positions:
 *
 *     L = (1 / (N S)) sum_{n,s} [ log sum_c e^{z_{n,c,s}} - z_{n,y_{n,s},s} ].
 *
 * log-sum-exp is shifted by the largest logit m of its position,
 * log sum e^z = m + log sum e^(z - m), so every exponent is <= 0 and at
 * least one term is 1: logits of 1e4 give a finite loss, not inf - inf.
 *
 * The gradient is dL/dz_{n,c,s} = (softmax(z)_{n,c,s} - [c == y_{n,s}]) / (N S):
 * the softmax Jacobian (y_i (1 - y_i) on the diagonal, -y_i y_j off it)
 * times -1/y_true collapses to that. A wrong class c therefore gets exactly
 * its own probability as gradient (per position, before the 1/(N S)), the
 * true class its probability minus one. Forward saves the softmax so that
 * backward needs no exp.
 *
 * Labels come from data files, so forward checks them; it is the one
 * kernel of this family with a failure path.
 */
#include "nn/loss.h"

#include <math.h>

/* loss: scalar; probabilities: (N, C, S) saved for backward;
 * logits: (N, C, S); labels: (N, S) in [0, C) */
nn_status nn_softmax_cross_entropy_forward(double *loss, nn_real *probabilities,
                                           const nn_real *logits, const int *labels, int batch,
                                           int classes, int spatial, nn_error *err)
{
    /* BEGIN SOLUTION */
    if (batch < 1 || classes < 1 || spatial < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "softmax cross-entropy: batch %d, classes %d and spatial size %d "
                            "must all be at least 1",
                            batch, classes, spatial);
    /* All labels are checked before anything is written, so a bad batch
     * leaves the caller's buffers as they were. */
    for (int n = 0; n < batch; n++) {
        for (int s = 0; s < spatial; s++) {
            int label = labels[(size_t)n * spatial + s];
            if (label >= 0 && label < classes)
                continue;
            if (spatial == 1)
                return nn_error_set(err, NN_ERR_ARGUMENT,
                                    "softmax cross-entropy: label %d of sample %d is outside "
                                    "[0, %d)",
                                    label, n, classes);
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "softmax cross-entropy: label %d of sample %d at pixel %d is "
                                "outside [0, %d)",
                                label, n, s, classes);
        }
    }

    double total = 0.0;
    for (int n = 0; n < batch; n++) {
        const nn_real *z = logits + (size_t)n * classes * spatial;      /* (C, S) */
        nn_real *y = probabilities + (size_t)n * classes * spatial;     /* (C, S) */
        for (int s = 0; s < spatial; s++) {
            double largest = z[s];
            for (int c = 1; c < classes; c++)
                largest = fmax(largest, (double)z[(size_t)c * spatial + s]);
            double sum = 0.0;
            for (int c = 0; c < classes; c++) {
                double e = exp((double)z[(size_t)c * spatial + s] - largest);
                y[(size_t)c * spatial + s] = (nn_real)e;
                sum += e;
            }
            for (int c = 0; c < classes; c++)
                y[(size_t)c * spatial + s] = (nn_real)(y[(size_t)c * spatial + s] / sum);
            int label = labels[(size_t)n * spatial + s];
            double log_sum_exp = largest + log(sum);
            total += log_sum_exp - (double)z[(size_t)label * spatial + s];
        }
    }
    *loss = total / ((double)batch * (double)spatial);
    return NN_OK;
    /* END SOLUTION */
}

/* dlogits: (N, C, S), accumulated; probabilities: (N, C, S) from forward;
 * labels: (N, S), already validated by forward */
nn_status nn_softmax_cross_entropy_backward(nn_real *dlogits, const nn_real *probabilities,
                                            const int *labels, int batch, int classes,
                                            int spatial, nn_real scale)
{
    /* BEGIN SOLUTION */
    double step = (double)scale / ((double)batch * (double)spatial);
    for (int n = 0; n < batch; n++) {
        for (int c = 0; c < classes; c++) {
            size_t row = ((size_t)n * classes + c) * spatial;
            for (int s = 0; s < spatial; s++) {
                double onehot = labels[(size_t)n * spatial + s] == c ? 1.0 : 0.0;
                dlogits[row + s] += (nn_real)(step * ((double)probabilities[row + s] - onehot));
            }
        }
    }
    return NN_OK;
    /* END SOLUTION */
}
