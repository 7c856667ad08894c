/*
 * check_augment.c - what each image augmentation must preserve or do:
 * shape and value range always; flip and crop as exact index maps;
 * rotation against index rotation and exact bilinear reproduction of a
 * linear ramp; the requested noise level; a blur that keeps constants and
 * mass and smooths; the brightness/contrast formula on known values; and
 * refusal of invalid parameters.
 */
#include "nn/augment.h"
#include "testutil.h"

/* Rounding slack when checking that outputs stay inside [0, 1]: interpolated
 * and blurred values are convex combinations computed in double, exact up
 * to a few units in the last place. */
#if NN_REAL_IS_DOUBLE
#define RANGE_SLACK 1e-14
#else
#define RANGE_SLACK 1e-6
#endif

#define SENTINEL ((nn_real)-7)

static nn_real *new_buffer(size_t count)
{
    nn_real *buffer = calloc(count, sizeof *buffer);
    ck_assert_ptr_nonnull(buffer);
    return buffer;
}

static nn_real *random_image(size_t count, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_real *image = new_buffer(count);
    test_fill_uniform(image, count, &rng, 0.0, 1.0);
    return image;
}

static size_t at(int c, int y, int x, int height, int width)
{
    return ((size_t)c * (size_t)height + (size_t)y) * (size_t)width + (size_t)x;
}

static void assert_ok(nn_status status, const nn_error *err)
{
    ck_assert_msg(status == NN_OK, "status %s: %s", nn_status_name(status), err->message);
}

/* ---- flip ----------------------------------------------------------------- */

START_TEST(flip_twice_is_identity)
{
    const int c = 3, h = 5, w = 6;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 1), *once = new_buffer(n), *twice = new_buffer(n);
    nn_error err;
    assert_ok(nn_augment_hflip(once, image, c, h, w, &err), &err);
    assert_ok(nn_augment_hflip(twice, once, c, h, w, &err), &err);
    for (size_t i = 0; i < n; i++)
        ck_assert(twice[i] == image[i]);
    free(image);
    free(once);
    free(twice);
}
END_TEST

START_TEST(flip_mirrors_columns)
{
    const int c = 2, h = 4, w = 7;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 2), *out = new_buffer(n);
    nn_error err;
    assert_ok(nn_augment_hflip(out, image, c, h, w, &err), &err);
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ck_assert(out[at(ch, y, x, h, w)] == image[at(ch, y, w - 1 - x, h, w)]);
    free(image);
    free(out);
}
END_TEST

/* ---- crop ----------------------------------------------------------------- */

START_TEST(crop_with_offset_equal_to_padding_is_identity)
{
    const int c = 3, h = 8, w = 9;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 3), *out = new_buffer(n);
    nn_error err;
    for (int pad = 0; pad < 4; pad++) {
        assert_ok(nn_augment_crop(out, image, c, h, w, pad, pad, pad, &err), &err);
        for (size_t i = 0; i < n; i++)
            ck_assert(out[i] == image[i]);
    }
    free(image);
    free(out);
}
END_TEST

START_TEST(crop_shifts_content_by_offset_and_fills_zeros)
{
    const int c = 2, h = 6, w = 7, pad = 3;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 4), *out = new_buffer(n);
    nn_error err;
    for (int oy = 0; oy <= 2 * pad; oy++) {
        for (int ox = 0; ox <= 2 * pad; ox++) {
            assert_ok(nn_augment_crop(out, image, c, h, w, pad, oy, ox, &err), &err);
            int dy = oy - pad, dx = ox - pad;
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int sy = y + dy, sx = x + dx;
                        bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                        nn_real expected = inside ? image[at(ch, sy, sx, h, w)] : 0;
                        ck_assert_msg(out[at(ch, y, x, h, w)] == expected,
                                      "offset (%d, %d), pixel (%d, %d, %d)", oy, ox, ch, y, x);
                    }
        }
    }
    free(image);
    free(out);
}
END_TEST

START_TEST(random_crop_is_one_of_the_allowed_crops)
{
    const int c = 1, h = 5, w = 5, pad = 2;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 5), *out = new_buffer(n), *fixed = new_buffer(n);
    nn_rng rng;
    nn_rng_seed(&rng, 6);
    nn_error err;
    bool seen[5][5] = { { false } };
    for (int trial = 0; trial < 200; trial++) {
        assert_ok(nn_augment_random_crop(out, image, c, h, w, pad, &rng, &err), &err);
        int matches = 0;
        for (int oy = 0; oy <= 2 * pad; oy++)
            for (int ox = 0; ox <= 2 * pad; ox++) {
                assert_ok(nn_augment_crop(fixed, image, c, h, w, pad, oy, ox, &err), &err);
                if (memcmp(fixed, out, n * sizeof *out) == 0) {
                    matches++;
                    seen[oy][ox] = true;
                }
            }
        ck_assert_int_eq(matches, 1);
    }
    /* 200 draws over 25 offsets: missing one has probability ~ 25 e^-8. */
    for (int oy = 0; oy <= 2 * pad; oy++)
        for (int ox = 0; ox <= 2 * pad; ox++)
            ck_assert_msg(seen[oy][ox], "offset (%d, %d) never drawn", oy, ox);
    free(image);
    free(out);
    free(fixed);
}
END_TEST

/* ---- rotation ---------------------------------------------------------------- */

START_TEST(rotation_by_zero_or_full_turn_is_identity)
{
    const int c = 2, h = 7, w = 10;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 7), *out = new_buffer(n);
    nn_error err;
    const double angles[] = { 0.0, 360.0, -720.0 };
    for (size_t a = 0; a < sizeof angles / sizeof angles[0]; a++) {
        assert_ok(nn_augment_rotate(out, image, c, h, w, angles[a], &err), &err);
        for (size_t i = 0; i < n; i++)
            ck_assert_real_near(out[i], image[i], TEST_TOLERANCE);
    }
    free(image);
    free(out);
}
END_TEST

/* A counter-clockwise quarter turn on screen is out[y][x] = in[x][N-1-y]
 * (numpy's rot90); a clockwise one out[y][x] = in[N-1-x][y]; a half turn
 * out[y][x] = in[N-1-y][N-1-x]. Odd and even sizes: the centre lies on a
 * pixel or between four. */
START_TEST(rotation_by_right_angles_matches_index_rotation)
{
    const int sizes[] = { 7, 8 };
    for (int s = 0; s < 2; s++) {
        const int c = 2, N = sizes[s];
        size_t n = (size_t)c * N * N;
        nn_real *image = random_image(n, 8 + (uint64_t)s), *out = new_buffer(n);
        nn_error err;
        const double angles[] = { 90.0, -90.0, 180.0, 450.0 };
        for (int a = 0; a < 4; a++) {
            assert_ok(nn_augment_rotate(out, image, c, N, N, angles[a], &err), &err);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < N; y++)
                    for (int x = 0; x < N; x++) {
                        int sy, sx;
                        if (angles[a] == 90.0 || angles[a] == 450.0) {
                            sy = x;
                            sx = N - 1 - y;
                        } else if (angles[a] == -90.0) {
                            sy = N - 1 - x;
                            sx = y;
                        } else {
                            sy = N - 1 - y;
                            sx = N - 1 - x;
                        }
                        ck_assert_real_near(out[at(ch, y, x, N, N)],
                                            image[at(ch, sy, sx, N, N)], TEST_TOLERANCE);
                    }
        }
        free(image);
        free(out);
    }
}
END_TEST

/* Bilinear interpolation reproduces a linear function exactly, so rotating
 * the ramp f(x, y) = a + b x + g y must give f at the inversely rotated
 * position wherever all four neighbours lie inside the image. The position
 * comes from the geometry (counter-clockwise on screen, y down), written
 * here independently of the implementation. */
START_TEST(rotation_of_linear_ramp_is_exact_at_interior_pixels)
{
    const int h = 12, w = 14;
    const double a = 0.1, b = 0.03, g = 0.05;
    nn_real *image = new_buffer((size_t)h * w), *out = new_buffer((size_t)h * w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            image[at(0, y, x, h, w)] = (nn_real)(a + b * x + g * y);
    nn_error err;
    const double angles[] = { 17.0, -33.0, 71.5 };
    for (int k = 0; k < 3; k++) {
        assert_ok(nn_augment_rotate(out, image, 1, h, w, angles[k], &err), &err);
        double t = angles[k] * M_PI / 180.0;
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        int checked = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                /* the point that lands on (x, y) after turning by t about c,
                 * in up-pointing coordinates u = x - cx, v = cy - y */
                double u = x - cx, v = cy - y;
                double su = cos(t) * u + sin(t) * v, sv = -sin(t) * u + cos(t) * v;
                double sx = cx + su, sy = cy - sv;
                if (sx < 0 || sx > w - 1 || sy < 0 || sy > h - 1)
                    continue;
                checked++;
                ck_assert_real_near(out[at(0, y, x, h, w)], a + b * sx + g * sy,
                                    TEST_TOLERANCE);
            }
        ck_assert_int_gt(checked, h * w / 2);
    }
    free(image);
    free(out);
}
END_TEST

START_TEST(rotation_keeps_constant_interior_and_fills_outside_with_zero)
{
    const int c = 3, N = 15;
    size_t n = (size_t)c * N * N;
    nn_real *image = new_buffer(n), *out = new_buffer(n);
    for (size_t i = 0; i < n; i++)
        image[i] = (nn_real)0.625;
    nn_error err;
    const double angles[] = { 13.0, 45.0, 133.0, -60.0 };
    double centre = (N - 1) / 2.0, radius = centre - 1.0;
    for (int k = 0; k < 4; k++) {
        assert_ok(nn_augment_rotate(out, image, c, N, N, angles[k], &err), &err);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < N; y++)
                for (int x = 0; x < N; x++)
                    if (hypot(x - centre, y - centre) <= radius)
                        ck_assert_real_near(out[at(ch, y, x, N, N)], 0.625, TEST_TOLERANCE);
        if (angles[k] == 45.0)
            for (int ch = 0; ch < c; ch++) {
                /* a corner's source lies sqrt(2) times farther out: outside */
                ck_assert(out[at(ch, 0, 0, N, N)] == 0);
                ck_assert(out[at(ch, N - 1, N - 1, N, N)] == 0);
            }
    }
    free(image);
    free(out);
}
END_TEST

START_TEST(random_rotation_with_equal_bounds_is_that_rotation)
{
    const int c = 1, h = 9, w = 9;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 10), *fixed = new_buffer(n), *random = new_buffer(n);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_error err;
    assert_ok(nn_augment_rotate(fixed, image, c, h, w, 25.0, &err), &err);
    assert_ok(nn_augment_random_rotate(random, image, c, h, w, 25.0, 25.0, &rng, &err), &err);
    for (size_t i = 0; i < n; i++)
        ck_assert_real_near(random[i], fixed[i], TEST_TOLERANCE);
    free(image);
    free(fixed);
    free(random);
}
END_TEST

/* ---- noise ------------------------------------------------------------------- */

/* On a mid-grey image clamping at 0 and 1 is 5 standard deviations away
 * for std 0.1, so the measured spread is the requested one. Standard error
 * of a sample std is std / sqrt(2 n) ~ 0.6% for n = 12288; allow 4%. */
START_TEST(noise_has_requested_standard_deviation)
{
    const int c = 3, h = 64, w = 64;
    size_t n = (size_t)c * h * w;
    nn_real *image = new_buffer(n), *out = new_buffer(n);
    for (size_t i = 0; i < n; i++)
        image[i] = (nn_real)0.5;
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    nn_error err;
    const double stds[] = { 0.03, 0.1 };
    for (int k = 0; k < 2; k++) {
        assert_ok(nn_augment_noise(out, image, c, h, w, stds[k], &rng, &err), &err);
        double sum = 0, sum_sq = 0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)out[i] - 0.5;
            sum += d;
            sum_sq += d * d;
        }
        double mean = sum / (double)n, std = sqrt(sum_sq / (double)n - mean * mean);
        ck_assert_double_eq_tol(std, stds[k], 0.04 * stds[k]);
        ck_assert_double_eq_tol(mean, 0.0, 5 * stds[k] / sqrt((double)n));
    }
    free(image);
    free(out);
}
END_TEST

START_TEST(noise_is_clamped_and_zero_noise_copies)
{
    const int c = 1, h = 10, w = 10;
    size_t n = (size_t)c * h * w;
    nn_real *image = new_buffer(n), *out = new_buffer(n);
    for (size_t i = 0; i < n; i++)
        image[i] = (nn_real)(i % 2);  /* black and white pixels */
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    nn_error err;
    assert_ok(nn_augment_noise(out, image, c, h, w, 0.5, &rng, &err), &err);
    int moved = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(out[i] >= 0 && out[i] <= 1);
        moved += out[i] != image[i];
    }
    /* about half of each colour moves inwards; the rest clamps back */
    ck_assert_int_gt(moved, 25);
    assert_ok(nn_augment_noise(out, image, c, h, w, 0.0, &rng, &err), &err);
    for (size_t i = 0; i < n; i++)
        ck_assert(out[i] == image[i]);
    free(image);
    free(out);
}
END_TEST

/* ---- blur -------------------------------------------------------------------- */

START_TEST(blur_keeps_a_constant_image_up_to_its_borders)
{
    const int c = 2, h = 9, w = 11;
    size_t n = (size_t)c * h * w;
    nn_real *image = new_buffer(n), *out = new_buffer(n), *scratch = new_buffer((size_t)h * w);
    for (size_t i = 0; i < n; i++)
        image[i] = (nn_real)0.3;
    nn_error err;
    const double sigmas[] = { 0.5, 1.0, 2.5, 5.0 };  /* the last reaches past the image */
    for (int k = 0; k < 4; k++) {
        assert_ok(nn_augment_blur(out, scratch, image, c, h, w, sigmas[k], &err), &err);
        for (size_t i = 0; i < n; i++)
            ck_assert_real_near(out[i], 0.3, TEST_TOLERANCE);
    }
    free(image);
    free(out);
    free(scratch);
}
END_TEST

START_TEST(blur_keeps_total_mass_away_from_borders)
{
    const int h = 32, w = 32;
    size_t n = (size_t)h * w;
    nn_real *image = new_buffer(n), *out = new_buffer(n), *scratch = new_buffer(n);
    /* a few bright pixels near the centre; sigma 2 spreads them over a
     * radius of 6, far from the edges */
    image[at(0, 15, 15, h, w)] = 1;
    image[at(0, 16, 18, h, w)] = (nn_real)0.5;
    image[at(0, 13, 17, h, w)] = (nn_real)0.25;
    nn_error err;
    assert_ok(nn_augment_blur(out, scratch, image, 1, h, w, 2.0, &err), &err);
    double before = 0, after = 0;
    for (size_t i = 0; i < n; i++) {
        before += image[i];
        after += out[i];
    }
    ck_assert_real_near(after, before, TEST_TOLERANCE);
    /* and the peak spread out: the brightest pixel lost most of its value */
    ck_assert(out[at(0, 15, 15, h, w)] < (nn_real)0.1);
    free(image);
    free(out);
    free(scratch);
}
END_TEST

START_TEST(blur_reduces_variance)
{
    const int c = 1, h = 24, w = 24;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 14), *out = new_buffer(n), *scratch = new_buffer(n);
    nn_error err;
    double previous = INFINITY;
    const double sigmas[] = { 0.0, 0.7, 1.5, 3.0 };
    for (int k = 0; k < 4; k++) {
        assert_ok(nn_augment_blur(out, scratch, image, c, h, w, sigmas[k], &err), &err);
        double sum = 0, sum_sq = 0;
        for (size_t i = 0; i < n; i++) {
            sum += out[i];
            sum_sq += (double)out[i] * out[i];
        }
        double variance = sum_sq / (double)n - (sum / (double)n) * (sum / (double)n);
        if (k == 0)
            ck_assert_double_eq_tol(variance, 1.0 / 12.0, 0.015);  /* uniform [0, 1] */
        else
            ck_assert_msg(variance < 0.7 * previous, "sigma %g: variance %g, before %g",
                          sigmas[k], variance, previous);
        previous = variance;
    }
    free(image);
    free(out);
    free(scratch);
}
END_TEST

/* The documented blur computed the slow way: a direct 2-D sum of products
 * of the normalised 1-D weights, with borders reflected about the edge
 * pixel (index -1 reads 1, index n reads n - 2). */
static int reflect(int i, int n)
{
    if (n == 1)
        return 0;
    while (i < 0 || i >= n) {
        if (i < 0)
            i = -i;
        if (i >= n)
            i = 2 * (n - 1) - i;
    }
    return i;
}

START_TEST(blur_equals_direct_gaussian_sum_with_reflected_borders)
{
    struct { int c, h, w; double sigma; } cases[] = {
        { 2, 9, 7, 1.2 },  /* radius 4 < both sides */
        { 1, 5, 4, 3.0 },  /* radius 9: reflections fold more than once */
        { 1, 1, 6, 1.0 },  /* a single row: the vertical pass is the identity */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int c = cases[k].c, h = cases[k].h, w = cases[k].w;
        double sigma = cases[k].sigma;
        size_t n = (size_t)c * h * w;
        nn_real *image = random_image(n, 15 + k), *out = new_buffer(n);
        nn_real *scratch = new_buffer((size_t)h * w);
        nn_error err;
        assert_ok(nn_augment_blur(out, scratch, image, c, h, w, sigma, &err), &err);
        int r = (int)ceil(3 * sigma);
        double total = 0;
        for (int i = -r; i <= r; i++)
            total += exp(-i * i / (2 * sigma * sigma));
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double expected = 0;
                    for (int i = -r; i <= r; i++)
                        for (int j = -r; j <= r; j++)
                            expected += exp(-(i * i + j * j) / (2 * sigma * sigma)) /
                                        (total * total) *
                                        image[at(ch, reflect(y + i, h), reflect(x + j, w), h, w)];
                    ck_assert_real_near(out[at(ch, y, x, h, w)], expected, TEST_TOLERANCE);
                }
        free(image);
        free(out);
        free(scratch);
    }
}
END_TEST

/* ---- brightness and contrast --------------------------------------------- */

START_TEST(brightness_contrast_follows_formula_on_known_values)
{
    /* mean 0.4; (x - 0.4) * 2 + 0.4 + 0.1 = 2x - 0.3, then clamped */
    const nn_real image[4] = { (nn_real)0.1, (nn_real)0.3, (nn_real)0.5, (nn_real)0.7 };
    const double expected[4] = { 0.0, 0.3, 0.7, 1.0 };
    nn_real out[4];
    nn_error err;
    assert_ok(nn_augment_brightness_contrast(out, image, 1, 2, 2, 0.1, 2.0, &err), &err);
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(out[i], expected[i], TEST_TOLERANCE);

    /* contrast 0.5 and brightness -0.2: 0.5x + 0.2 - 0.2 = 0.5x */
    const double halved[4] = { 0.05, 0.15, 0.25, 0.35 };
    assert_ok(nn_augment_brightness_contrast(out, image, 1, 2, 2, -0.2, 0.5, &err), &err);
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(out[i], halved[i], TEST_TOLERANCE);

    /* contrast 0 flattens to the mean of the whole image, over channels:
     * channel means 0.2 and 0.7, image mean 0.45 */
    const nn_real two[4] = { (nn_real)0.1, (nn_real)0.3, (nn_real)0.6, (nn_real)0.8 };
    assert_ok(nn_augment_brightness_contrast(out, two, 2, 1, 2, 0.0, 0.0, &err), &err);
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(out[i], 0.45, TEST_TOLERANCE);

    /* contrast 1 and brightness 0 is the identity, in place too */
    nn_real copy[4];
    memcpy(copy, image, sizeof copy);
    assert_ok(nn_augment_brightness_contrast(copy, copy, 1, 2, 2, 0.0, 1.0, &err), &err);
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(copy[i], image[i], TEST_TOLERANCE);
}
END_TEST

START_TEST(random_brightness_contrast_stays_within_its_ranges)
{
    /* A two-valued image with mean m: out = (x - m) c + m + b, so the gap
     * between the two values is scaled by c and the mean shifted by b. */
    const int n = 8;
    nn_real image[8], out[8];
    for (int i = 0; i < n; i++)
        image[i] = (nn_real)(i % 2 ? 0.6 : 0.4);
    nn_rng rng;
    nn_rng_seed(&rng, 16);
    nn_error err;
    double low_c = INFINITY, high_c = -INFINITY;
    for (int trial = 0; trial < 500; trial++) {
        assert_ok(nn_augment_random_brightness_contrast(out, image, 1, 2, 4, 0.1, 0.3, &rng,
                                                        &err),
                  &err);
        double contrast = ((double)out[1] - (double)out[0]) / 0.2;
        double brightness = ((double)out[0] + (double)out[1]) / 2 - 0.5;
        ck_assert(contrast >= 0.7 - 1e-5 && contrast <= 1.3 + 1e-5);
        ck_assert(brightness >= -0.1 - 1e-6 && brightness <= 0.1 + 1e-6);
        low_c = fmin(low_c, contrast);
        high_c = fmax(high_c, contrast);
    }
    /* the draws cover the range, not one point of it */
    ck_assert(low_c < 0.75 && high_c > 1.25);
}
END_TEST

/* ---- every transform: shape and range ------------------------------------- */

enum { FLIP, CROP, RANDOM_CROP, ROTATE, RANDOM_ROTATE, NOISE, BLUR, BRIGHTNESS_CONTRAST,
       RANDOM_BRIGHTNESS_CONTRAST, PIPELINE, TRANSFORM_COUNT };

static const char *const transform_names[TRANSFORM_COUNT] = {
    "flip", "crop", "random crop", "rotate", "random rotate", "noise", "blur",
    "brightness/contrast", "random brightness/contrast", "pipeline"
};

static nn_augment_config everything_on(void)
{
    nn_augment_config config = nn_augment_config_none();
    config.flip_probability = 0.5;
    config.crop_padding = 2;
    config.rotation_min_degrees = -30;
    config.rotation_max_degrees = 30;
    config.max_brightness = 0.3;
    config.max_contrast = 0.5;
    config.blur_probability = 0.5;
    config.blur_sigma_min = 0.5;
    config.blur_sigma_max = 1.5;
    config.noise_std = 0.2;
    return config;
}

/* scratch: 2 C H W, enough for the blur and the pipeline */
static nn_status run_transform(int which, nn_real *out, nn_real *scratch, const nn_real *image,
                               int c, int h, int w, nn_rng *rng, nn_error *err)
{
    switch (which) {
    case FLIP: return nn_augment_hflip(out, image, c, h, w, err);
    case CROP: return nn_augment_crop(out, image, c, h, w, 2, 0, 3, err);
    case RANDOM_CROP: return nn_augment_random_crop(out, image, c, h, w, 3, rng, err);
    case ROTATE: return nn_augment_rotate(out, image, c, h, w, 37.0, err);
    case RANDOM_ROTATE: return nn_augment_random_rotate(out, image, c, h, w, -45, 45, rng, err);
    case NOISE: return nn_augment_noise(out, image, c, h, w, 0.3, rng, err);
    case BLUR: return nn_augment_blur(out, scratch, image, c, h, w, 1.3, err);
    case BRIGHTNESS_CONTRAST:
        return nn_augment_brightness_contrast(out, image, c, h, w, 0.2, 1.8, err);
    case RANDOM_BRIGHTNESS_CONTRAST:
        return nn_augment_random_brightness_contrast(out, image, c, h, w, 0.4, 0.9, rng, err);
    default: {
        nn_augment_config config = everything_on();
        nn_status status = nn_augment_config_validate(&config, c, h, w, err);
        if (status == NN_OK)
            nn_augment_apply(out, scratch, image, c, h, w, &config, rng);
        return status;
    }
    }
}

/* Every transform writes exactly C H W values: all of them (no sentinel
 * left) and nothing past them (the guard band keeps its sentinel). */
START_TEST(every_transform_writes_exactly_one_image_of_the_same_shape)
{
    const int c = 3, h = 10, w = 12, guard = 64;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 17), *out = new_buffer(n + guard);
    nn_real *scratch = new_buffer(2 * n);
    nn_rng rng;
    nn_rng_seed(&rng, 18);
    nn_error err;
    for (int t = 0; t < TRANSFORM_COUNT; t++) {
        for (size_t i = 0; i < n + guard; i++)
            out[i] = SENTINEL;
        assert_ok(run_transform(t, out, scratch, image, c, h, w, &rng, &err), &err);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(out[i] != SENTINEL, "%s: value %zu not written", transform_names[t],
                          i);
        for (size_t i = n; i < n + guard; i++)
            ck_assert_msg(out[i] == SENTINEL, "%s: wrote past the image at %zu",
                          transform_names[t], i);
    }
    free(image);
    free(out);
    free(scratch);
}
END_TEST

START_TEST(every_transform_keeps_values_in_unit_interval)
{
    const int c = 3, h = 9, w = 9;
    size_t n = (size_t)c * h * w;
    nn_real *image = new_buffer(n), *out = new_buffer(n), *scratch = new_buffer(2 * n);
    nn_rng rng;
    nn_rng_seed(&rng, 19);
    nn_error err;
    for (int trial = 0; trial < 20; trial++) {
        /* random images, half of them saturated (only 0s and 1s), where
         * any overshoot of the interpolation or the clamp would show */
        test_fill_uniform(image, n, &rng, 0.0, 1.0);
        if (trial % 2)
            for (size_t i = 0; i < n; i++)
                image[i] = image[i] < (nn_real)0.5 ? 0 : 1;
        for (int t = 0; t < TRANSFORM_COUNT; t++) {
            assert_ok(run_transform(t, out, scratch, image, c, h, w, &rng, &err), &err);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(out[i] >= -RANGE_SLACK && out[i] <= 1 + RANGE_SLACK,
                              "%s: value %zu is %g", transform_names[t], i, (double)out[i]);
        }
    }
    free(image);
    free(out);
    free(scratch);
}
END_TEST

/* ---- the pipeline ------------------------------------------------------------ */

START_TEST(pipeline_is_reproducible_and_all_off_copies)
{
    const int c = 2, h = 8, w = 8;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 20), *a = new_buffer(n), *b = new_buffer(n);
    nn_real *scratch = new_buffer(nn_augment_scratch_size(c, h, w));
    nn_augment_config config = everything_on();
    nn_error err;
    assert_ok(nn_augment_config_validate(&config, c, h, w, &err), &err);
    ck_assert(nn_augment_config_is_active(&config));
    nn_rng r1, r2;
    nn_rng_seed(&r1, 21);
    nn_rng_seed(&r2, 21);
    nn_augment_apply(a, scratch, image, c, h, w, &config, &r1);
    nn_augment_apply(b, scratch, image, c, h, w, &config, &r2);
    ck_assert(memcmp(a, b, n * sizeof *a) == 0);
    ck_assert(memcmp(a, image, n * sizeof *a) != 0);  /* noise alone changes it */

    nn_augment_config none = nn_augment_config_none();
    ck_assert(!nn_augment_config_is_active(&none));
    ck_assert(!nn_augment_config_is_geometric(&none));
    uint64_t before = r1.state[0];
    nn_augment_apply(a, scratch, image, c, h, w, &none, &r1);
    ck_assert(memcmp(a, image, n * sizeof *a) == 0);
    ck_assert_uint_eq(r1.state[0], before);  /* nothing on, nothing drawn */
    free(image);
    free(a);
    free(b);
    free(scratch);
}
END_TEST

START_TEST(pipeline_flip_only_gives_original_or_mirror)
{
    const int c = 1, h = 4, w = 5;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 22), *out = new_buffer(n), *mirror = new_buffer(n);
    nn_real *scratch = new_buffer(nn_augment_scratch_size(c, h, w));
    nn_error err;
    assert_ok(nn_augment_hflip(mirror, image, c, h, w, &err), &err);
    nn_augment_config config = nn_augment_config_none();
    config.flip_probability = 0.5;
    nn_rng rng;
    nn_rng_seed(&rng, 23);
    int flipped = 0;
    const int trials = 400;
    for (int t = 0; t < trials; t++) {
        nn_augment_apply(out, scratch, image, c, h, w, &config, &rng);
        bool same = memcmp(out, image, n * sizeof *out) == 0;
        bool mirrored = memcmp(out, mirror, n * sizeof *out) == 0;
        ck_assert(same != mirrored);
        flipped += mirrored;
    }
    /* binomial(400, 0.5): std 10 */
    ck_assert_int_ge(flipped, 150);
    ck_assert_int_le(flipped, 250);
    free(image);
    free(out);
    free(mirror);
    free(scratch);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------ */

START_TEST(invalid_parameters_are_refused_with_messages)
{
    const int c = 1, h = 6, w = 8;
    size_t n = (size_t)c * h * w;
    nn_real *image = random_image(n, 24), *out = new_buffer(n), *scratch = new_buffer(n);
    nn_rng rng;
    nn_rng_seed(&rng, 25);
    struct { nn_status status; const char *word; } results[16];
    int k = 0;
    nn_error errs[16];
#define REFUSE(call, keyword)                      \
    do {                                           \
        nn_error *err = &errs[k];                  \
        nn_error_clear(err);                       \
        results[k].status = (call);                \
        results[k].word = (keyword);               \
        k++;                                       \
    } while (0)
    REFUSE(nn_augment_blur(out, scratch, image, c, h, w, -0.5, err), "sigma");
    REFUSE(nn_augment_blur(out, scratch, image, c, h, w, 11.0, err), "sigma");
    REFUSE(nn_augment_blur(out, scratch, image, c, h, w, NAN, err), "sigma");
    REFUSE(nn_augment_crop(out, image, c, h, w, 6, 6, 6, err), "padding 6");
    REFUSE(nn_augment_crop(out, image, c, h, w, -1, 0, 0, err), "padding -1");
    REFUSE(nn_augment_crop(out, image, c, h, w, 2, 5, 0, err), "offset (5, 0)");
    REFUSE(nn_augment_random_crop(out, image, c, h, w, 7, &rng, err), "padding 7");
    REFUSE(nn_augment_noise(out, image, c, h, w, -0.1, &rng, err), "standard deviation");
    REFUSE(nn_augment_noise(out, image, c, h, w, 0.1, NULL, err), "random generator");
    REFUSE(nn_augment_brightness_contrast(out, image, c, h, w, 0.0, -1.0, err), "contrast -1");
    REFUSE(nn_augment_random_brightness_contrast(out, image, c, h, w, 0.1, 1.5, &rng, err),
           "contrast change 1.5");
    REFUSE(nn_augment_random_rotate(out, image, c, h, w, 10, -10, &rng, err), "[10, -10]");
    REFUSE(nn_augment_rotate(out, image, c, h, w, INFINITY, err), "not finite");
    REFUSE(nn_augment_hflip(image, image, c, h, w, err), "same buffer");
    REFUSE(nn_augment_hflip(out, image, c, 0, w, err), "(1, 0, 8)");
#undef REFUSE
    for (int i = 0; i < k; i++) {
        ck_assert_msg(results[i].status == NN_ERR_ARGUMENT, "case %d: status %s", i,
                      nn_status_name(results[i].status));
        ck_assert_msg(strstr(errs[i].message, results[i].word) != NULL,
                      "case %d: message \"%s\" does not mention \"%s\"", i, errs[i].message,
                      results[i].word);
    }
    free(image);
    free(out);
    free(scratch);
}
END_TEST

START_TEST(invalid_configs_are_refused_and_valid_ones_accepted)
{
    nn_error err;
    nn_augment_config config = everything_on();
    assert_ok(nn_augment_config_validate(&config, 3, 16, 16, &err), &err);

    config.flip_probability = 1.5;
    ck_assert_int_eq(nn_augment_config_validate(&config, 3, 16, 16, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "flip probability"));

    config = everything_on();
    config.crop_padding = 4;
    ck_assert_int_eq(nn_augment_config_validate(&config, 1, 4, 16, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "(1, 4, 16)"));  /* the image it was for */

    config = everything_on();
    config.blur_sigma_min = 2.0;
    config.blur_sigma_max = 1.0;
    ck_assert_int_eq(nn_augment_config_validate(&config, 1, 16, 16, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "sigma range"));

    /* blur sigmas are only checked when the blur is on */
    config.blur_probability = 0.0;
    assert_ok(nn_augment_config_validate(&config, 1, 16, 16, &err), &err);
}
END_TEST

Suite *augment_suite(void);
Suite *augment_suite(void)
{
    Suite *suite = suite_create("augment");
    TCase *geometry = tcase_create("geometry");
    tcase_add_test(geometry, flip_twice_is_identity);
    tcase_add_test(geometry, flip_mirrors_columns);
    tcase_add_test(geometry, crop_with_offset_equal_to_padding_is_identity);
    tcase_add_test(geometry, crop_shifts_content_by_offset_and_fills_zeros);
    tcase_add_test(geometry, random_crop_is_one_of_the_allowed_crops);
    tcase_add_test(geometry, rotation_by_zero_or_full_turn_is_identity);
    tcase_add_test(geometry, rotation_by_right_angles_matches_index_rotation);
    tcase_add_test(geometry, rotation_of_linear_ramp_is_exact_at_interior_pixels);
    tcase_add_test(geometry, rotation_keeps_constant_interior_and_fills_outside_with_zero);
    tcase_add_test(geometry, random_rotation_with_equal_bounds_is_that_rotation);
    suite_add_tcase(suite, geometry);

    TCase *appearance = tcase_create("appearance");
    tcase_add_test(appearance, noise_has_requested_standard_deviation);
    tcase_add_test(appearance, noise_is_clamped_and_zero_noise_copies);
    tcase_add_test(appearance, blur_keeps_a_constant_image_up_to_its_borders);
    tcase_add_test(appearance, blur_keeps_total_mass_away_from_borders);
    tcase_add_test(appearance, blur_reduces_variance);
    tcase_add_test(appearance, blur_equals_direct_gaussian_sum_with_reflected_borders);
    tcase_add_test(appearance, brightness_contrast_follows_formula_on_known_values);
    tcase_add_test(appearance, random_brightness_contrast_stays_within_its_ranges);
    suite_add_tcase(suite, appearance);

    TCase *all = tcase_create("all transforms");
    tcase_add_test(all, every_transform_writes_exactly_one_image_of_the_same_shape);
    tcase_add_test(all, every_transform_keeps_values_in_unit_interval);
    tcase_add_test(all, pipeline_is_reproducible_and_all_off_copies);
    tcase_add_test(all, pipeline_flip_only_gives_original_or_mirror);
    tcase_add_test(all, invalid_parameters_are_refused_with_messages);
    tcase_add_test(all, invalid_configs_are_refused_and_valid_ones_accepted);
    suite_add_tcase(suite, all);
    return suite;
}
