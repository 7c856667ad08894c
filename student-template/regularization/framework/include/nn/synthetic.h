/*
 * synthetic.h - small generated datasets, deterministic from a seeded
 * generator: the toy sets of the course (2-D blobs and spirals, a mixture
 * of Gaussians), a sequence task for recurrent nets (the adding problem)
 * and a procedural city-street segmentation set with the exam's five
 * classes.
 *
 * Every generator takes the caller's nn_rng and draws from it in a fixed
 * order, so the same seed gives the same bytes, and a shorter set is a
 * prefix of a longer one drawn from the same seed (sample i never depends
 * on how many samples follow it). Coordinates are computed in double and
 * stored as nn_real, so the float and double builds agree up to rounding.
 *
 * Ownership: each generator allocates *out with nn_dataset_new(); the
 * caller frees it with nn_dataset_free(). On failure *out is NULL and err
 * says which argument was refused and why.
 */
#ifndef NN_SYNTHETIC_H
#define NN_SYNTHETIC_H

#include "nn/core.h"
#include "nn/dataset.h"
#include "nn/rng.h"

#include <stdbool.h>

/* ---- 2-D Gaussian blobs ------------------------------------------------- */

/* count points, sample_shape (2), labels in [0, class_count). Sample i has
 * class i % class_count (so every prefix is balanced to within one point)
 * and is drawn from N(center(class), spread^2 I).
 * Needs class_count >= 2, count >= class_count, spread > 0. */
nn_status nn_synthetic_blobs(nn_dataset **out, nn_rng *rng, size_t count, int class_count,
                             double spread, nn_error *err);

/* The center of blob class_index: evenly spaced on a circle about the
 * origin whose radius keeps neighbouring centers at least 2 apart (radius
 * max(2, 1 / sin(pi / k))). center: (2); needs class_count >= 2. */
void nn_synthetic_blob_center(double center[2], int class_index, int class_count);

/* ---- interleaved spirals ------------------------------------------------ */

/* count points, sample_shape (2), class_count arms. Sample i has class
 * i % class_count; along its arm it sits at t ~ U(0, 1), radius t, angle
 * 2 pi c / k + 3 pi t (one and a half turns), plus N(0, noise^2) on each
 * coordinate. Needs class_count >= 2, count >= class_count, noise >= 0. */
nn_status nn_synthetic_spirals(nn_dataset **out, nn_rng *rng, size_t count, int class_count,
                               double noise, nn_error *err);

/* ---- mixture of Gaussians (for generative models) ----------------------- */

/* count points, sample_shape (2), labels = the component each point came
 * from (NN_TARGET_CLASS, class_count = component_count). Components have
 * equal weight, means evenly spaced on a circle of radius
 * NN_MIXTURE_RADIUS (the "ring of Gaussians" of the GAN literature) and
 * covariance spread^2 I. Needs component_count >= 2, count >= 1,
 * spread > 0. */
#define NN_MIXTURE_RADIUS 2.0
nn_status nn_synthetic_gaussian_mixture(nn_dataset **out, nn_rng *rng, size_t count,
                                        int component_count, double spread, nn_error *err);

/* The mean of one component. mean: (2); needs component_count >= 2. */
void nn_synthetic_mixture_mean(double mean[2], int component, int component_count);

/* The mixture's log-density at (x, y): the yardstick for samples drawn by a
 * generative model (mean log-likelihood under the true distribution).
 * Needs component_count >= 2 and spread > 0, as the generator does. */
double nn_synthetic_mixture_log_density(double x, double y, int component_count, double spread);

/* ---- the adding problem (Hochreiter and Schmidhuber, 1997) -------------- */

/* count sequences of length T, sample_shape (T, 2): at step t,
 * input[t][0] ~ U(0, 1) is a value and input[t][1] is a marker, 1 at
 * exactly two steps (one in [0, T/2), one in [T/2, T)) and 0 elsewhere.
 * The target (NN_TARGET_REAL, target_size 1) is the sum of the two marked
 * values. Always predicting 1 gives a mean squared error near 1/6, the
 * baseline a recurrent net must beat. Needs length >= 2, count >= 1. */
nn_status nn_synthetic_adding_problem(nn_dataset **out, nn_rng *rng, size_t count,
                                      size_t length, nn_error *err);

/* ---- procedural city streets (segmentation) ----------------------------- */

/* The exam's five classes, in this order. */
enum {
    NN_CITY_VEHICLE = 0,
    NN_CITY_ROAD = 1,
    NN_CITY_SKY = 2,
    NN_CITY_NATURE = 3,
    NN_CITY_OTHER = 4,
    NN_CITY_CLASS_COUNT = 5
};

#define NN_CITY_DEFAULT_SIZE 64
#define NN_CITY_MIN_SIZE 16
#define NN_CITY_MAX_SIZE 1024

/* count RGB scenes, sample_shape (3, size, size), values in [0, 1];
 * per-pixel labels (NN_TARGET_MAP, target_size size * size, row-major).
 * Each scene has a sky band above a random horizon, a road in perspective
 * below it, buildings along the horizon, trees and bushes beside the road
 * and vehicles on it, with colour jitter, lighting changes and pixel noise
 * so that no class is recognisable by its colour alone.
 * Needs count >= 1 and NN_CITY_MIN_SIZE <= size <= NN_CITY_MAX_SIZE. */
nn_status nn_synthetic_city_streets(nn_dataset **out, nn_rng *rng, size_t count, size_t size,
                                    nn_error *err);

/* "vehicle", "road", "sky", "nature", "other"; NULL outside [0, 5). */
const char *nn_synthetic_city_class_name(int class_index);

/* The colour that shows a class in label images (Cityscapes' palette).
 * rgb: (3); false outside [0, 5). */
bool nn_synthetic_city_class_colour(unsigned char rgb[3], int class_index);

/* Writes sample `index` of a (3, H, W) segmentation dataset as binary PPM
 * files for inspection: the image to image_path, its label map in the
 * class colours to label_path. Either path may be NULL to skip that file. */
nn_status nn_synthetic_city_write_ppm(const nn_dataset *dataset, size_t index,
                                      const char *image_path, const char *label_path,
                                      nn_error *err);

/* ---- shared helper ------------------------------------------------------ */

/* The fraction of labels of each class over a whole NN_TARGET_CLASS or
 * NN_TARGET_MAP dataset. fractions: (class_count). The largest entry is the
 * accuracy of always predicting the most frequent class. */
nn_status nn_synthetic_class_fractions(double *fractions, const nn_dataset *dataset,
                                       nn_error *err);

#endif
