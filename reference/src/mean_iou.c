/*
 * mean_iou.c - the confusion matrix of two label maps and the per-class and
 * mean intersection over union derived from it.
 *
 * For class k, with D_k the positions labelled k in both maps, T_k those
 * whose target is k and P_k those predicted k,
 *     IoU_k = |pred = k and target = k| / |pred = k or target = k|
 *           = D_k / (T_k + P_k - D_k)
 * (the union counts the intersection once). A class that neither map
 * contains has an empty union and no IoU: it is reported as NaN and left
 * out of the mean rather than counted as 0 (which would punish a model for
 * an image without, say, any vehicle) or as 1 (which would reward it for
 * nothing). A class that is only predicted, or only present, has IoU 0 and
 * counts. The question matters when single images or small batches are
 * scored; over a whole test set every class is normally present.
 *
 * Counts are exact integers; only the final ratios are floating point.
 */
#include "nn/metrics.h"

#include <math.h>

nn_status nn_confusion_matrix(size_t *confusion, const int *prediction, const int *target,
                              size_t count, int classes, nn_error *err)
{
    /* BEGIN SOLUTION */
    if (classes < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "confusion matrix: %d classes, need at least 1", classes);
    /* Every label is checked before the first count is added, so a bad map
     * leaves the caller's running matrix untouched. */
    for (size_t i = 0; i < count; i++) {
        if (prediction[i] < 0 || prediction[i] >= classes)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "confusion matrix: predicted label %d at position %zu is outside "
                                "[0, %d)",
                                prediction[i], i, classes);
        if (target[i] < 0 || target[i] >= classes)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "confusion matrix: target label %d at position %zu is outside "
                                "[0, %d)",
                                target[i], i, classes);
    }
    for (size_t i = 0; i < count; i++)
        confusion[(size_t)target[i] * (size_t)classes + (size_t)prediction[i]]++;
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_iou_from_confusion(double *mean_iou, double *class_iou, const size_t *confusion,
                                int classes, nn_error *err)
{
    /* BEGIN SOLUTION */
    if (classes < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "mean IoU: %d classes, need at least 1",
                            classes);
    const size_t K = (size_t)classes;
    double sum = 0;
    int present = 0;
    for (size_t k = 0; k < K; k++) {
        size_t in_target = 0, predicted = 0; /* row sum T_k, column sum P_k */
        for (size_t j = 0; j < K; j++) {
            in_target += confusion[k * K + j];
            predicted += confusion[j * K + k];
        }
        const size_t both = confusion[k * K + k];
        const size_t union_size = in_target + predicted - both;
        double iou = NAN;
        if (union_size > 0) {
            iou = (double)both / (double)union_size;
            sum += iou;
            present++;
        }
        if (class_iou != NULL)
            class_iou[k] = iou;
    }
    if (present == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "mean IoU: the confusion matrix is empty, no class to average");
    *mean_iou = sum / present;
    return NN_OK;
    /* END SOLUTION */
}

nn_status nn_mean_iou(double *mean_iou, double *class_iou, const int *prediction,
                      const int *target, size_t count, int classes, nn_error *err)
{
    /* BEGIN SOLUTION */
    if (classes < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "mean IoU: %d classes, need at least 1",
                            classes);
    if (count == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "mean IoU: the label maps are empty");
    for (size_t i = 0; i < count; i++) {
        if (prediction[i] < 0 || prediction[i] >= classes)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "mean IoU: predicted label %d at position %zu is outside [0, %d)",
                                prediction[i], i, classes);
        if (target[i] < 0 || target[i] >= classes)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "mean IoU: target label %d at position %zu is outside [0, %d)",
                                target[i], i, classes);
    }
    /* One pass a class keeps the function free of any buffer; K is small
     * (5 classes in the street scenes). */
    double sum = 0;
    int present = 0;
    for (int k = 0; k < classes; k++) {
        size_t both = 0, either = 0;
        for (size_t i = 0; i < count; i++) {
            const int p = prediction[i] == k, t = target[i] == k;
            both += (size_t)(p & t);
            either += (size_t)(p | t);
        }
        double iou = NAN;
        if (either > 0) {
            iou = (double)both / (double)either;
            sum += iou;
            present++;
        }
        if (class_iou != NULL)
            class_iou[k] = iou;
    }
    *mean_iou = sum / present; /* count >= 1: some class is present */
    return NN_OK;
    /* END SOLUTION */
}
