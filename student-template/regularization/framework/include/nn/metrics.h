/*
 * metrics.h - evaluation metrics computed from integer label maps.
 *
 * Segmentation is scored per class by the intersection over union (Jaccard
 * index) of the pixels predicted as the class and the pixels that truly are:
 *     IoU_k = TP_k / (TP_k + FP_k + FN_k),
 * and the network by the mean of IoU_k over classes. Unlike pixel accuracy,
 * the mean IoU does not let a large background class (road, sky) hide that
 * a small one (vehicle) is never found.
 *
 * Labels are ints in [0, K); any other value is an NN_ERR_ARGUMENT naming
 * its position, reported before anything is written. One unit, in
 * reference/src/mean_iou.c.
 */
#ifndef NN_METRICS_H
#define NN_METRICS_H

#include "nn/core.h"

/*
 * confusion: (K, K) counts, ACCUMULATED (+=) so that a test set can be
 * scored batch by batch; entry [t * K + p] counts the positions whose target
 * is t and whose prediction is p. prediction, target: (count) labels, e.g.
 * (N, H, W) maps flattened.
 */
nn_status nn_confusion_matrix(size_t *confusion, const int *prediction, const int *target,
                              size_t count, int classes, nn_error *err);

/*
 * From a (K, K) confusion matrix as above: with row sum T_k (target k),
 * column sum P_k (predicted k) and diagonal D_k,
 *     IoU_k = D_k / (T_k + P_k - D_k).
 * A class absent from both prediction and target (T_k = P_k = 0) has no
 * IoU: class_iou[k] is NaN and the class does not enter the mean, which is
 * taken over the classes that appear in the prediction or the target (a
 * class predicted but never present scores 0 and does count). class_iou:
 * (K) or NULL. An all-zero matrix has no class to average: NN_ERR_ARGUMENT.
 */
nn_status nn_iou_from_confusion(double *mean_iou, double *class_iou, const size_t *confusion,
                                int classes, nn_error *err);

/*
 * The same from the label maps directly, without a confusion buffer (one
 * pass over the maps per class, O(K count)). count must be at least 1.
 */
nn_status nn_mean_iou(double *mean_iou, double *class_iou, const int *prediction,
                      const int *target, size_t count, int classes, nn_error *err);

#endif
