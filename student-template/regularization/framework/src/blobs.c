/*
 * blobs.c - 2-D Gaussian blobs: the first classification set of the course,
 * separable by a linear classifier when the spread is small against the
 * distance between centers, and overlapping (a Bayes error above zero) as
 * the spread grows.
 *
 * Centers sit evenly on a circle, so the set is learnable for any number of
 * classes: the radius max(2, 1 / sin(pi / k)) keeps the chord between
 * neighbouring centers, 2 r sin(pi / k), at 2 or more.
 */
#include "nn/synthetic.h"

#include <math.h>
#include <stdint.h>

void nn_synthetic_blob_center(double center[2], int class_index, int class_count)
{
    double radius = fmax(2.0, 1.0 / sin(M_PI / class_count));
    double angle = 2.0 * M_PI * class_index / class_count;
    center[0] = radius * cos(angle);
    center[1] = radius * sin(angle);
}

nn_status nn_synthetic_blobs(nn_dataset **out, nn_rng *rng, size_t count, int class_count,
                             double spread, nn_error *err)
{
    *out = NULL;
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "blobs: the generator is NULL");
    if (class_count < 2)
        return nn_error_set(err, NN_ERR_ARGUMENT, "blobs: %d classes, need at least 2",
                            class_count);
    if (count < (size_t)class_count || count > SIZE_MAX / (2 * sizeof(nn_real)))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "blobs: %zu points for %d classes, need at least one per class",
                            count, class_count);
    if (!(spread > 0.0) || !isfinite(spread))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "blobs: spread %g, need a finite standard deviation above 0",
                            spread);
    nn_shape shape = nn_shape_1d(2);
    nn_status status = nn_dataset_new(out, "blobs", count, &shape, NN_TARGET_CLASS, 1,
                                      class_count, err);
    if (status != NN_OK)
        return status;
    for (size_t i = 0; i < count; i++) {
        int label = (int)(i % (size_t)class_count);
        double center[2];
        nn_synthetic_blob_center(center, label, class_count);
        /* Two separate statements fix the order of the two draws. */
        double x = center[0] + spread * nn_rng_normal(rng);
        double y = center[1] + spread * nn_rng_normal(rng);
        (*out)->inputs[2 * i] = (nn_real)x;
        (*out)->inputs[2 * i + 1] = (nn_real)y;
        (*out)->labels[i] = label;
    }
    return NN_OK;
}
