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
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)confusion;
    (void)prediction;
    (void)target;
    (void)count;
    (void)classes;
    (void)err;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_iou_from_confusion(double *mean_iou, double *class_iou, const size_t *confusion,
                                int classes, nn_error *err)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)mean_iou;
    (void)class_iou;
    (void)confusion;
    (void)classes;
    (void)err;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_mean_iou(double *mean_iou, double *class_iou, const int *prediction,
                      const int *target, size_t count, int classes, nn_error *err)
{
    /* TODO: write this function (the handout, README.md, says what it must do). */
    (void)mean_iou;
    (void)class_iou;
    (void)prediction;
    (void)target;
    (void)count;
    (void)classes;
    (void)err;
    return NN_ERR_NOT_IMPLEMENTED;
}
