/*
 * spirals.c - k interleaved spiral arms in the plane: the classic set that
 * no linear classifier separates and a small MLP with a hidden layer does
 * (popularised by Karpathy's CS231n notes).
 *
 * Arm c is the curve r = t, theta = 2 pi c / k + 3 pi t for t in [0, 1]:
 * every arm makes one and a half turns, and arms are rotated copies of one
 * another, so no class is favoured. Points take t uniformly (denser near
 * the center, where the arms meet and the task is hardest) and Gaussian
 * noise on both coordinates.
 */
#include "nn/synthetic.h"

#include <math.h>
#include <stdint.h>

nn_status nn_synthetic_spirals(nn_dataset **out, nn_rng *rng, size_t count, int class_count,
                               double noise, nn_error *err)
{
    *out = NULL;
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "spirals: the generator is NULL");
    if (class_count < 2)
        return nn_error_set(err, NN_ERR_ARGUMENT, "spirals: %d arms, need at least 2",
                            class_count);
    if (count < (size_t)class_count || count > SIZE_MAX / (2 * sizeof(nn_real)))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "spirals: %zu points for %d arms, need at least one per arm",
                            count, class_count);
    if (!(noise >= 0.0) || !isfinite(noise))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "spirals: noise %g, need a finite standard deviation of 0 or more",
                            noise);
    nn_shape shape = nn_shape_1d(2);
    nn_status status = nn_dataset_new(out, "spirals", count, &shape, NN_TARGET_CLASS, 1,
                                      class_count, err);
    if (status != NN_OK)
        return status;
    for (size_t i = 0; i < count; i++) {
        int label = (int)(i % (size_t)class_count);
        double t = nn_rng_uniform(rng);
        double angle = 2.0 * M_PI * label / class_count + 3.0 * M_PI * t;
        double x = t * cos(angle) + noise * nn_rng_normal(rng);
        double y = t * sin(angle) + noise * nn_rng_normal(rng);
        (*out)->inputs[2 * i] = (nn_real)x;
        (*out)->inputs[2 * i + 1] = (nn_real)y;
        (*out)->labels[i] = label;
    }
    return NN_OK;
}
