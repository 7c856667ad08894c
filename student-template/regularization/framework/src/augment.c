/*
 * augment.c - image augmentations on one (C, H, W) image and the random
 * pipeline the data loader runs on each training sample.
 *
 * Interpolation and blur sums are computed in double and rounded once, so
 * the float and double builds differ only by that final rounding. The
 * conventions (rotation direction, blur borders, contrast centre) are
 * stated in augment.h.
 */
#include "nn/augment.h"

#include <math.h>
#include <string.h>

/* Shared argument checks. `what` names the transform in every message. */
static nn_status check_image(const nn_real *out, const nn_real *image, int channels, int height,
                             int width, bool needs_distinct, const char *what, nn_error *err)
{
    if (out == NULL || image == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: NULL image buffer", what);
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: image size (%d, %d, %d) is not positive",
                            what, channels, height, width);
    if (needs_distinct && out == image)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "%s: out and image are the same buffer; this transform reads "
                            "other pixels than it writes, so it cannot run in place",
                            what);
    return NN_OK;
}

static nn_status check_rng(const nn_rng *rng, const char *what, nn_error *err)
{
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: NULL random generator", what);
    return NN_OK;
}

static nn_real clamp01(double value)
{
    return (nn_real)(value < 0.0 ? 0.0 : value > 1.0 ? 1.0 : value);
}

/* ---- flip ---------------------------------------------------------------- */

static void hflip(nn_real *out, const nn_real *image, size_t rows, size_t width)
{
    for (size_t r = 0; r < rows; r++) {
        const nn_real *in_row = image + r * width;
        nn_real *out_row = out + r * width;
        for (size_t x = 0; x < width; x++)
            out_row[x] = in_row[width - 1 - x];
    }
}

nn_status nn_augment_hflip(nn_real *out, const nn_real *image, int channels, int height,
                           int width, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "flip", err);
    if (status != NN_OK)
        return status;
    hflip(out, image, (size_t)channels * (size_t)height, (size_t)width);
    return NN_OK;
}

/* ---- crop with zero padding ---------------------------------------------- */

static nn_status check_crop(int height, int width, int pad, nn_error *err)
{
    if (pad < 0 || pad >= height || pad >= width)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "crop: padding %d must be in [0, %d) for a %d x %d image", pad,
                            height < width ? height : width, height, width);
    return NN_OK;
}

/* The shift from output to input coordinates is offset - pad, in
 * [-pad, pad]; rows and columns mapped outside the image are zero. */
static void crop(nn_real *out, const nn_real *image, int channels, int height, int width,
                 int shift_y, int shift_x)
{
    size_t plane = (size_t)height * (size_t)width;
    for (int c = 0; c < channels; c++) {
        const nn_real *in_plane = image + (size_t)c * plane;
        nn_real *out_plane = out + (size_t)c * plane;
        for (int y = 0; y < height; y++) {
            nn_real *out_row = out_plane + (size_t)y * (size_t)width;
            int sy = y + shift_y;
            if (sy < 0 || sy >= height) {
                memset(out_row, 0, (size_t)width * sizeof *out_row);
                continue;
            }
            const nn_real *in_row = in_plane + (size_t)sy * (size_t)width;
            for (int x = 0; x < width; x++) {
                int sx = x + shift_x;
                out_row[x] = sx < 0 || sx >= width ? 0 : in_row[sx];
            }
        }
    }
}

nn_status nn_augment_crop(nn_real *out, const nn_real *image, int channels, int height,
                          int width, int pad, int offset_y, int offset_x, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "crop", err);
    if (status == NN_OK)
        status = check_crop(height, width, pad, err);
    if (status != NN_OK)
        return status;
    if (offset_y < 0 || offset_y > 2 * pad || offset_x < 0 || offset_x > 2 * pad)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "crop: offset (%d, %d) is outside [0, %d] for padding %d", offset_y,
                            offset_x, 2 * pad, pad);
    crop(out, image, channels, height, width, offset_y - pad, offset_x - pad);
    return NN_OK;
}

nn_status nn_augment_random_crop(nn_real *out, const nn_real *image, int channels, int height,
                                 int width, int pad, nn_rng *rng, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "crop", err);
    if (status == NN_OK)
        status = check_crop(height, width, pad, err);
    if (status == NN_OK)
        status = check_rng(rng, "crop", err);
    if (status != NN_OK)
        return status;
    int offset_y = (int)nn_rng_below(rng, (uint64_t)(2 * pad + 1));
    int offset_x = (int)nn_rng_below(rng, (uint64_t)(2 * pad + 1));
    crop(out, image, channels, height, width, offset_y - pad, offset_x - pad);
    return NN_OK;
}

/* ---- rotation -------------------------------------------------------------- */

static double pixel_or_zero(const nn_real *plane, int height, int width, int y, int x)
{
    if (y < 0 || y >= height || x < 0 || x >= width)
        return 0.0;
    return (double)plane[(size_t)y * (size_t)width + (size_t)x];
}

/* Inverse mapping: output pixel p samples the input at c + R(-theta)(p - c).
 * With y pointing down, a counter-clockwise turn on screen gives
 *   sx = cx + cos(t) (x - cx) - sin(t) (y - cy)
 *   sy = cy + sin(t) (x - cx) + cos(t) (y - cy)
 * (for t = 90 degrees on a square N x N image: out[y][x] = in[x][N-1-y], the
 * index rotation numpy calls rot90). Bilinear weights are written as two
 * nested linear interpolations, which stay within the range of the four
 * neighbours. */
static void rotate(nn_real *out, const nn_real *image, int channels, int height, int width,
                   double degrees)
{
    double theta = degrees * (M_PI / 180.0);
    double cos_t = cos(theta), sin_t = sin(theta);
    /* Exact values at multiples of 90 degrees, so that a quarter turn is an
     * exact permutation rather than one up to cos(pi/2) ~ 6e-17. */
    double quarter = degrees / 90.0;
    if (quarter == floor(quarter)) {
        long q = ((long)fmod(quarter, 4.0) + 4) % 4;
        static const double cosines[4] = { 1, 0, -1, 0 }, sines[4] = { 0, 1, 0, -1 };
        cos_t = cosines[q];
        sin_t = sines[q];
    }
    double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
    size_t plane = (size_t)height * (size_t)width;
    for (int c = 0; c < channels; c++) {
        const nn_real *in_plane = image + (size_t)c * plane;
        nn_real *out_plane = out + (size_t)c * plane;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double dx = x - cx, dy = y - cy;
                double sx = cx + cos_t * dx - sin_t * dy;
                double sy = cy + sin_t * dx + cos_t * dy;
                double fx0 = floor(sx), fy0 = floor(sy);
                double tx = sx - fx0, ty = sy - fy0;
                double value = 0.0;
                /* Far outside (|s| beyond the image by more than a pixel)
                 * every neighbour is zero; skip the int conversion. */
                if (fx0 >= -1.0 && fx0 < width && fy0 >= -1.0 && fy0 < height) {
                    int x0 = (int)fx0, y0 = (int)fy0;
                    double a = pixel_or_zero(in_plane, height, width, y0, x0);
                    double b = pixel_or_zero(in_plane, height, width, y0, x0 + 1);
                    double d = pixel_or_zero(in_plane, height, width, y0 + 1, x0);
                    double e = pixel_or_zero(in_plane, height, width, y0 + 1, x0 + 1);
                    double top = a + tx * (b - a);
                    double bottom = d + tx * (e - d);
                    value = top + ty * (bottom - top);
                }
                out_plane[(size_t)y * (size_t)width + (size_t)x] = (nn_real)value;
            }
        }
    }
}

nn_status nn_augment_rotate(nn_real *out, const nn_real *image, int channels, int height,
                            int width, double degrees, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "rotation", err);
    if (status != NN_OK)
        return status;
    if (!isfinite(degrees))
        return nn_error_set(err, NN_ERR_ARGUMENT, "rotation: angle %g degrees is not finite",
                            degrees);
    rotate(out, image, channels, height, width, degrees);
    return NN_OK;
}

static nn_status check_angle_range(double min_degrees, double max_degrees, nn_error *err)
{
    if (!isfinite(min_degrees) || !isfinite(max_degrees) || min_degrees > max_degrees)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "rotation: angle range [%g, %g] degrees is not a finite interval",
                            min_degrees, max_degrees);
    return NN_OK;
}

nn_status nn_augment_random_rotate(nn_real *out, const nn_real *image, int channels,
                                   int height, int width, double min_degrees,
                                   double max_degrees, nn_rng *rng, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "rotation", err);
    if (status == NN_OK)
        status = check_angle_range(min_degrees, max_degrees, err);
    if (status == NN_OK)
        status = check_rng(rng, "rotation", err);
    if (status != NN_OK)
        return status;
    rotate(out, image, channels, height, width,
           nn_rng_uniform_range(rng, min_degrees, max_degrees));
    return NN_OK;
}

/* ---- additive Gaussian noise --------------------------------------------- */

nn_status nn_augment_noise(nn_real *out, const nn_real *image, int channels, int height,
                           int width, double std, nn_rng *rng, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, false, "noise", err);
    if (status == NN_OK && !(std >= 0.0 && isfinite(std)))
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "noise: standard deviation %g must be finite and >= 0", std);
    if (status == NN_OK)
        status = check_rng(rng, "noise", err);
    if (status != NN_OK)
        return status;
    size_t count = (size_t)channels * (size_t)height * (size_t)width;
    if (std == 0.0) {
        if (out != image)
            memcpy(out, image, count * sizeof *out);
        return NN_OK;
    }
    for (size_t i = 0; i < count; i++)
        out[i] = clamp01((double)image[i] + std * nn_rng_normal(rng));
    return NN_OK;
}

/* ---- Gaussian blur ---------------------------------------------------------- */

static nn_status check_sigma(double sigma, nn_error *err)
{
    const double max_sigma = NN_AUGMENT_MAX_BLUR_RADIUS / 3.0;
    if (!(sigma >= 0.0 && sigma <= max_sigma))
        return nn_error_set(err, NN_ERR_ARGUMENT, "blur: sigma %g must be in [0, %g]", sigma,
                            max_sigma);
    return NN_OK;
}

/* Reflection about the edge pixels without repeating them (period
 * 2 (n - 1)), so any radius works even on images narrower than it. */
static int reflect_index(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* One 1-D pass along lines of `length` values spaced `step` apart. */
static void blur_lines(nn_real *out, const nn_real *in, int lines, size_t line_stride,
                       int length, size_t step, const double *weights, int radius)
{
    for (int l = 0; l < lines; l++) {
        const nn_real *in_line = in + (size_t)l * line_stride;
        nn_real *out_line = out + (size_t)l * line_stride;
        for (int i = 0; i < length; i++) {
            double sum = 0.0;
            for (int k = -radius; k <= radius; k++)
                sum += weights[k + radius] *
                       (double)in_line[(size_t)reflect_index(i + k, length) * step];
            out_line[(size_t)i * step] = (nn_real)sum;
        }
    }
}

/* Gaussian weights for |k| <= ceil(3 sigma), normalised to sum 1; returns
 * the radius. Three sigma keeps all but 0.3% of the bell. */
static int gaussian_weights(double *weights, double sigma)
{
    int radius = (int)ceil(3.0 * sigma);
    double total = 0.0;
    for (int k = -radius; k <= radius; k++) {
        weights[k + radius] = exp(-(double)k * k / (2.0 * sigma * sigma));
        total += weights[k + radius];
    }
    for (int k = 0; k < 2 * radius + 1; k++)
        weights[k] /= total;
    return radius;
}

static void blur(nn_real *out, nn_real *scratch, const nn_real *image, int channels, int height,
                 int width, double sigma)
{
    size_t plane = (size_t)height * (size_t)width;
    if (sigma == 0.0) {
        memcpy(out, image, (size_t)channels * plane * sizeof *out);
        return;
    }
    double weights[2 * NN_AUGMENT_MAX_BLUR_RADIUS + 1];
    int radius = gaussian_weights(weights, sigma);
    for (int c = 0; c < channels; c++) {
        /* rows: `height` lines of `width` values, step 1 */
        blur_lines(scratch, image + (size_t)c * plane, height, (size_t)width, width, 1,
                   weights, radius);
        /* columns: `width` lines of `height` values, step `width` */
        blur_lines(out + (size_t)c * plane, scratch, width, 1, height, (size_t)width, weights,
                   radius);
    }
}

nn_status nn_augment_blur(nn_real *out, nn_real *scratch, const nn_real *image, int channels,
                          int height, int width, double sigma, nn_error *err)
{
    nn_status status = check_image(out, image, channels, height, width, true, "blur", err);
    if (status == NN_OK && (scratch == NULL || scratch == out || scratch == image))
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "blur: scratch must be its own buffer of %d x %d values", height,
                              width);
    if (status == NN_OK)
        status = check_sigma(sigma, err);
    if (status != NN_OK)
        return status;
    blur(out, scratch, image, channels, height, width, sigma);
    return NN_OK;
}

/* ---- brightness and contrast ---------------------------------------------- */

static void brightness_contrast(nn_real *out, const nn_real *image, size_t count,
                                double brightness, double contrast)
{
    double mean = 0.0;
    for (size_t i = 0; i < count; i++)
        mean += (double)image[i];
    mean /= (double)count;
    for (size_t i = 0; i < count; i++)
        out[i] = clamp01(((double)image[i] - mean) * contrast + mean + brightness);
}

nn_status nn_augment_brightness_contrast(nn_real *out, const nn_real *image, int channels,
                                         int height, int width, double brightness,
                                         double contrast, nn_error *err)
{
    nn_status status =
        check_image(out, image, channels, height, width, false, "brightness/contrast", err);
    if (status == NN_OK && !(contrast >= 0.0 && isfinite(contrast)))
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "brightness/contrast: contrast %g must be finite and >= 0",
                              contrast);
    if (status == NN_OK && !isfinite(brightness))
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "brightness/contrast: brightness %g is not finite", brightness);
    if (status != NN_OK)
        return status;
    brightness_contrast(out, image, (size_t)channels * (size_t)height * (size_t)width,
                        brightness, contrast);
    return NN_OK;
}

static nn_status check_brightness_contrast_range(double max_brightness, double max_contrast,
                                                 nn_error *err)
{
    if (!(max_brightness >= 0.0 && isfinite(max_brightness)))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "brightness/contrast: maximum brightness shift %g must be finite "
                            "and >= 0",
                            max_brightness);
    if (!(max_contrast >= 0.0 && max_contrast <= 1.0))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "brightness/contrast: maximum contrast change %g must be in [0, 1] "
                            "(the factor 1 - c may not go negative)",
                            max_contrast);
    return NN_OK;
}

nn_status nn_augment_random_brightness_contrast(nn_real *out, const nn_real *image,
                                                int channels, int height, int width,
                                                double max_brightness, double max_contrast,
                                                nn_rng *rng, nn_error *err)
{
    nn_status status =
        check_image(out, image, channels, height, width, false, "brightness/contrast", err);
    if (status == NN_OK)
        status = check_brightness_contrast_range(max_brightness, max_contrast, err);
    if (status == NN_OK)
        status = check_rng(rng, "brightness/contrast", err);
    if (status != NN_OK)
        return status;
    double brightness = nn_rng_uniform_range(rng, -max_brightness, max_brightness);
    double contrast = nn_rng_uniform_range(rng, 1.0 - max_contrast, 1.0 + max_contrast);
    brightness_contrast(out, image, (size_t)channels * (size_t)height * (size_t)width,
                        brightness, contrast);
    return NN_OK;
}

/* ---- the pipeline ------------------------------------------------------------- */

nn_augment_config nn_augment_config_none(void)
{
    nn_augment_config config;
    memset(&config, 0, sizeof config);
    return config;
}

bool nn_augment_config_is_geometric(const nn_augment_config *config)
{
    return config->flip_probability > 0.0 || config->crop_padding > 0 ||
           config->rotation_min_degrees != 0.0 || config->rotation_max_degrees != 0.0;
}

bool nn_augment_config_is_active(const nn_augment_config *config)
{
    return nn_augment_config_is_geometric(config) || config->max_brightness > 0.0 ||
           config->max_contrast > 0.0 || config->blur_probability > 0.0 ||
           config->noise_std > 0.0;
}

static nn_status check_probability(double p, const char *what, nn_error *err)
{
    if (!(p >= 0.0 && p <= 1.0))
        return nn_error_set(err, NN_ERR_ARGUMENT, "augmentation: %s %g is not in [0, 1]", what,
                            p);
    return NN_OK;
}

nn_status nn_augment_config_validate(const nn_augment_config *config, int channels,
                                     int height, int width, nn_error *err)
{
    if (config == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "augmentation: NULL config");
    if (channels < 1 || height < 1 || width < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "augmentation: image size (%d, %d, %d) is not positive", channels,
                            height, width);
    nn_status status = check_probability(config->flip_probability, "flip probability", err);
    if (status == NN_OK)
        status = check_crop(height, width, config->crop_padding, err);
    if (status == NN_OK)
        status = check_angle_range(config->rotation_min_degrees, config->rotation_max_degrees,
                                   err);
    if (status == NN_OK)
        status = check_brightness_contrast_range(config->max_brightness, config->max_contrast,
                                                 err);
    if (status == NN_OK)
        status = check_probability(config->blur_probability, "blur probability", err);
    if (status == NN_OK && config->blur_probability > 0.0) {
        status = check_sigma(config->blur_sigma_min, err);
        if (status == NN_OK)
            status = check_sigma(config->blur_sigma_max, err);
        if (status == NN_OK && config->blur_sigma_min > config->blur_sigma_max)
            status = nn_error_set(err, NN_ERR_ARGUMENT,
                                  "blur: sigma range [%g, %g] is empty",
                                  config->blur_sigma_min, config->blur_sigma_max);
    }
    if (status == NN_OK && !(config->noise_std >= 0.0 && isfinite(config->noise_std)))
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "noise: standard deviation %g must be finite and >= 0",
                              config->noise_std);
    if (status != NN_OK)
        return nn_error_prefix(err, "augmentation config for (%d, %d, %d) images", channels,
                               height, width);
    return NN_OK;
}

size_t nn_augment_scratch_size(int channels, int height, int width)
{
    return 2 * (size_t)channels * (size_t)height * (size_t)width;
}

/* Each step reads `current` and writes the buffer that does not hold it
 * (out or the first half of scratch); the blur's row pass uses the second
 * half. A final copy lands the result in out if it ended in scratch.
 * Transforms that are off draw nothing, so the same config and the same
 * generator state always give the same image; changing the config shifts
 * the draws of the transforms after the changed one. */
void nn_augment_apply(nn_real *out, nn_real *scratch, const nn_real *image, int channels,
                      int height, int width, const nn_augment_config *config, nn_rng *rng)
{
    size_t count = (size_t)channels * (size_t)height * (size_t)width;
    nn_real *spare = scratch, *blur_rows = scratch + count;
    const nn_real *current = image;
    nn_real *next = out;
#define NN_AUGMENT_ADVANCE()                                    \
    do {                                                        \
        current = next;                                         \
        next = next == out ? spare : out;                       \
    } while (0)

    if (config->flip_probability > 0.0 && nn_rng_uniform(rng) < config->flip_probability) {
        hflip(next, current, (size_t)channels * (size_t)height, (size_t)width);
        NN_AUGMENT_ADVANCE();
    }
    if (config->crop_padding > 0) {
        int pad = config->crop_padding;
        int shift_y = (int)nn_rng_below(rng, (uint64_t)(2 * pad + 1)) - pad;
        int shift_x = (int)nn_rng_below(rng, (uint64_t)(2 * pad + 1)) - pad;
        crop(next, current, channels, height, width, shift_y, shift_x);
        NN_AUGMENT_ADVANCE();
    }
    if (config->rotation_min_degrees != 0.0 || config->rotation_max_degrees != 0.0) {
        double degrees = nn_rng_uniform_range(rng, config->rotation_min_degrees,
                                              config->rotation_max_degrees);
        rotate(next, current, channels, height, width, degrees);
        NN_AUGMENT_ADVANCE();
    }
    if (config->max_brightness > 0.0 || config->max_contrast > 0.0) {
        double brightness = nn_rng_uniform_range(rng, -config->max_brightness,
                                                 config->max_brightness);
        double contrast =
            nn_rng_uniform_range(rng, 1.0 - config->max_contrast, 1.0 + config->max_contrast);
        brightness_contrast(next, current, count, brightness, contrast);
        NN_AUGMENT_ADVANCE();
    }
    if (config->blur_probability > 0.0 && nn_rng_uniform(rng) < config->blur_probability) {
        double sigma =
            nn_rng_uniform_range(rng, config->blur_sigma_min, config->blur_sigma_max);
        blur(next, blur_rows, current, channels, height, width, sigma);
        NN_AUGMENT_ADVANCE();
    }
    if (config->noise_std > 0.0) {
        for (size_t i = 0; i < count; i++)
            next[i] = clamp01((double)current[i] + config->noise_std * nn_rng_normal(rng));
        NN_AUGMENT_ADVANCE();
    }
#undef NN_AUGMENT_ADVANCE
    if (current != out)
        memcpy(out, current, count * sizeof *out);
}
