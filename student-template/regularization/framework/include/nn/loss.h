/*
 * loss.h - losses and their gradients. Each returns the mean over its
 * elements (or samples) in *loss, computed in double; backward ADDS
 * scale * dL/dprediction into the gradient buffer (scale is 1 for plain
 * training; a loss weight otherwise). One unit a file, reference/src/.
 */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include "nn/core.h"

/* L1 = mean |p - t|. Subgradient 0 at p == t. */
nn_status nn_l1_loss_forward(double *loss, const nn_real *prediction, const nn_real *target,
                             size_t count);
nn_status nn_l1_loss_backward(nn_real *dprediction, const nn_real *prediction,
                              const nn_real *target, size_t count, nn_real scale);

/* MSE = mean (p - t)^2 */
nn_status nn_mse_loss_forward(double *loss, const nn_real *prediction, const nn_real *target,
                              size_t count);
nn_status nn_mse_loss_backward(nn_real *dprediction, const nn_real *prediction,
                               const nn_real *target, size_t count, nn_real scale);

/* BCE on probabilities p in (0, 1): mean -(t log p + (1 - t) log(1 - p));
 * p is clamped, in double, to [eps, 1 - eps] with eps = NN_BCE_EPSILON so
 * that log never sees 0. Backward evaluates (p - t) / (p (1 - p)) at the
 * clamped p, so a saturated probability still gets a finite gradient that
 * points the right way. */
#define NN_BCE_EPSILON 1e-12
nn_status nn_bce_loss_forward(double *loss, const nn_real *probability, const nn_real *target,
                              size_t count);
nn_status nn_bce_loss_backward(nn_real *dprobability, const nn_real *probability,
                               const nn_real *target, size_t count, nn_real scale);

/* BCE on logits z, stable for any z: max(z, 0) - z t + log(1 + exp(-|z|));
 * gradient sigmoid(z) - t. */
nn_status nn_bce_with_logits_loss_forward(double *loss, const nn_real *logits,
                                          const nn_real *target, size_t count);
nn_status nn_bce_with_logits_loss_backward(nn_real *dlogits, const nn_real *logits,
                                           const nn_real *target, size_t count, nn_real scale);

/* Softmax cross-entropy on logits with the class axis second: logits (N, C, S),
 * labels (N, S) in [0, C). S = 1 for classification, H*W for per-pixel
 * segmentation. loss = mean over N*S of -log softmax(z)[label], through a
 * log-sum-exp shifted by the maximum. probabilities (N, C, S) is saved for
 * backward, whose gradient is (softmax(z) - onehot(label)) / (N S).
 * A label outside [0, C) is an NN_ERR_ARGUMENT naming its index. */
nn_status nn_softmax_cross_entropy_forward(double *loss, nn_real *probabilities,
                                           const nn_real *logits, const int *labels, int batch,
                                           int classes, int spatial, nn_error *err);
nn_status nn_softmax_cross_entropy_backward(nn_real *dlogits, const nn_real *probabilities,
                                            const int *labels, int batch, int classes,
                                            int spatial, nn_real scale);

#endif
