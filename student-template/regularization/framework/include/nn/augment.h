/*
 * augment.h - data augmentation of images: random, label-preserving changes
 * of a training image (mirror it, shift it, turn it, blur it, add noise,
 * change its brightness and contrast) so that a network sees a slightly
 * different picture of the same class each epoch and learns what does not
 * depend on these changes.
 *
 * Every function works on ONE image of shape (C, H, W), row-major, and
 * writes a new image of the same shape into `out`; `image` is never
 * modified. Values are expected in [0, 1] (raw pixels, before any
 * normalisation); then every output stays in [0, 1] as well: geometric
 * transforms and the blur only mix or drop pixels, and the photometric
 * ones (noise, brightness/contrast) clamp.
 *
 * Aliasing: flip, crop, rotation and blur read pixels other than the one
 * they write, so `out` must be a different buffer from `image` (the call is
 * refused otherwise). Noise and brightness/contrast work in place too.
 *
 * Random variants take the nn_rng to draw from; the deterministic variant
 * beside each one takes the drawn value explicitly, which is what the tests
 * and the grader use. Invalid parameters (negative sigma, padding as large
 * as the image, ...) are refused with NN_ERR_ARGUMENT and a message that
 * names the parameter and its value. None of these functions allocate.
 *
 * Conventions, stated once here:
 *   - rotation: positive angles turn the picture counter-clockwise as it is
 *     displayed (row 0 at the top), about the centre ((W-1)/2, (H-1)/2);
 *     each output pixel samples the input bilinearly at the inversely
 *     rotated position, and a neighbour that falls outside the image counts
 *     as 0 (so corners brought in from outside are black);
 *   - blur: a separable Gaussian, weights exp(-k^2 / (2 sigma^2)) for
 *     |k| <= ceil(3 sigma), normalised to sum 1; borders are REFLECTED
 *     about the edge pixel without repeating it (... c b | a b c ..., the
 *     "reflect" of numpy and PyTorch), so a constant image stays constant
 *     right up to its edges;
 *   - contrast scales about the mean of the whole image (all channels), so
 *     a colour image keeps its hue: out = (x - mean) * contrast + mean +
 *     brightness, clamped to [0, 1].
 */
#ifndef NN_AUGMENT_H
#define NN_AUGMENT_H

#include "nn/core.h"
#include "nn/rng.h"

#include <stdbool.h>
#include <stddef.h>

/* The blur kernel has at most 2 * NN_AUGMENT_MAX_BLUR_RADIUS + 1 taps, so
 * sigma may be at most NN_AUGMENT_MAX_BLUR_RADIUS / 3. */
#define NN_AUGMENT_MAX_BLUR_RADIUS 32

/* ---- single transforms; out, image: (C, H, W) --------------------------- */

/* Mirrors each row: out[c][y][x] = image[c][y][W - 1 - x]. */
nn_status nn_augment_hflip(nn_real *out, const nn_real *image, int channels, int height,
                           int width, nn_error *err);

/* Zero-pads the image by `pad` pixels on every side, then cuts an H x W
 * window whose top-left corner is (offset_y, offset_x) in the padded image:
 *   out[c][y][x] = image[c][y + offset_y - pad][x + offset_x - pad], or 0
 * outside. Offsets lie in [0, 2 pad]; offset == pad is the identity.
 * Requires 0 <= pad < H and pad < W. */
nn_status nn_augment_crop(nn_real *out, const nn_real *image, int channels, int height,
                          int width, int pad, int offset_y, int offset_x, nn_error *err);
/* The same with both offsets drawn uniformly from [0, 2 pad]. */
nn_status nn_augment_random_crop(nn_real *out, const nn_real *image, int channels, int height,
                                 int width, int pad, nn_rng *rng, nn_error *err);

/* Rotation by `degrees` (finite, any value) as described above. */
nn_status nn_augment_rotate(nn_real *out, const nn_real *image, int channels, int height,
                            int width, double degrees, nn_error *err);
/* The same with the angle drawn uniformly from [min_degrees, max_degrees]
 * (min <= max; equal bounds give a fixed angle). */
nn_status nn_augment_random_rotate(nn_real *out, const nn_real *image, int channels,
                                   int height, int width, double min_degrees,
                                   double max_degrees, nn_rng *rng, nn_error *err);

/* out = clamp(image + std * z, 0, 1), one standard normal z per value.
 * std >= 0; std == 0 copies. May run in place. */
nn_status nn_augment_noise(nn_real *out, const nn_real *image, int channels, int height,
                           int width, double std, nn_rng *rng, nn_error *err);

/* Gaussian blur of each channel, horizontal pass into scratch (H, W), then
 * vertical pass into out. 0 <= sigma <= NN_AUGMENT_MAX_BLUR_RADIUS / 3;
 * sigma == 0 copies. */
nn_status nn_augment_blur(nn_real *out, nn_real *scratch, const nn_real *image, int channels,
                          int height, int width, double sigma, nn_error *err);

/* out = clamp((image - mean) * contrast + mean + brightness, 0, 1), mean over
 * the whole image. contrast >= 0 (0 makes the image flat grey at its mean);
 * brightness finite. May run in place. */
nn_status nn_augment_brightness_contrast(nn_real *out, const nn_real *image, int channels,
                                         int height, int width, double brightness,
                                         double contrast, nn_error *err);
/* The same with brightness uniform in [-max_brightness, max_brightness] and
 * contrast uniform in [1 - max_contrast, 1 + max_contrast]; 0 <= max_contrast
 * <= 1, max_brightness >= 0. */
nn_status nn_augment_random_brightness_contrast(nn_real *out, const nn_real *image,
                                                int channels, int height, int width,
                                                double max_brightness, double max_contrast,
                                                nn_rng *rng, nn_error *err);

/* ---- a pipeline of random transforms, for the data loader ---------------
 * A zero-initialised config (or nn_augment_config_none()) turns everything
 * off. The transforms that are on run in this order: flip, crop, rotation,
 * brightness/contrast, blur, noise (geometry first, then appearance, noise
 * last so that the blur does not smooth it away). */
typedef struct nn_augment_config {
    double flip_probability;     /* chance of a horizontal flip, [0, 1] */
    int crop_padding;            /* random crop with this zero padding; 0 off */
    double rotation_min_degrees; /* random rotation in [min, max] degrees; */
    double rotation_max_degrees; /*   off when both are 0 */
    double max_brightness;       /* brightness shift in [-b, b]; 0 off */
    double max_contrast;         /* contrast factor in [1 - c, 1 + c]; 0 off */
    double blur_probability;     /* chance of a blur, [0, 1]; 0 off */
    double blur_sigma_min;       /* blur sigma uniform in [min, max] */
    double blur_sigma_max;
    double noise_std;            /* additive Gaussian noise; 0 off */
} nn_augment_config;

nn_augment_config nn_augment_config_none(void);

/* True when the config moves pixels (flip, crop or rotation): such
 * transforms would misalign per-pixel labels. */
bool nn_augment_config_is_geometric(const nn_augment_config *config);
/* True when any transform is on. */
bool nn_augment_config_is_active(const nn_augment_config *config);

/* Checks every field against the image size once, at setup; after it
 * succeeds nn_augment_apply cannot fail. */
nn_status nn_augment_config_validate(const nn_augment_config *config, int channels,
                                     int height, int width, nn_error *err);

/* Elements of scratch nn_augment_apply needs: 2 C H W. */
size_t nn_augment_scratch_size(int channels, int height, int width);

/* Applies the transforms that are on, drawing from rng, from image into out
 * (different buffers). scratch: nn_augment_scratch_size() elements. The
 * config must have passed nn_augment_config_validate for this size. */
void nn_augment_apply(nn_real *out, nn_real *scratch, const nn_real *image, int channels,
                      int height, int width, const nn_augment_config *config, nn_rng *rng);

#endif
