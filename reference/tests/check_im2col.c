/*
 * check_im2col.c - convolution geometry, im2col against a direct
 * convolution, and col2im as the adjoint of im2col.
 */
#include "nn/gemm.h"
#include "nn/im2col.h"
#include "testutil.h"

/* Square kernel, same stride/padding/dilation both ways. */
static nn_status square_geometry(nn_conv_geometry *g, int channels, int height, int width,
                                 int kernel, int stride, int padding, int dilation,
                                 nn_error *err)
{
    return nn_conv_geometry_init(g, channels, height, width, kernel, kernel, stride, stride,
                                 padding, padding, dilation, dilation, err);
}

START_TEST(geometry_gives_the_exam_output_sizes)
{
    nn_conv_geometry g;
    nn_error err = { 0 };
    /* 28x28 input, kernel 5, stride 3, padding 2: (28 + 4 - 5) / 3 + 1 = 10. */
    ck_assert_int_eq(square_geometry(&g, 28, 28, 28, 5, 3, 2, 1, &err), NN_OK);
    ck_assert_int_eq(g.output_height, 10);
    ck_assert_int_eq(g.output_width, 10);
    ck_assert_int_eq(g.channels, 28);
    /* Kernel 4, stride 2, padding 1 halves 64 to 32. */
    ck_assert_int_eq(square_geometry(&g, 3, 64, 64, 4, 2, 1, 1, &err), NN_OK);
    ck_assert_int_eq(g.output_height, 32);
    ck_assert_int_eq(g.output_width, 32);
}
END_TEST

START_TEST(geometry_follows_the_output_size_formula)
{
    /* OH = floor((H + 2p - d (k - 1) - 1) / s) + 1, per axis. */
    static const struct {
        int h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
    } table[] = {
        { 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, 3, 3 },
        { 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5 },     /* "same" padding */
        { 7, 7, 3, 3, 2, 2, 0, 0, 1, 1, 3, 3 },
        { 8, 8, 3, 3, 2, 2, 0, 0, 1, 1, 3, 3 },     /* floor drops a row */
        { 9, 9, 3, 3, 1, 1, 0, 0, 2, 2, 5, 5 },     /* dilation 2 spans 5 */
        { 6, 10, 3, 5, 1, 2, 0, 1, 1, 1, 4, 4 },    /* non-square */
        { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1 },
        { 28, 28, 1, 1, 1, 1, 0, 0, 1, 1, 28, 28 }, /* 1x1 */
        { 4, 4, 5, 5, 1, 1, 1, 1, 1, 1, 2, 2 },     /* fits only thanks to padding */
        { 32, 32, 2, 2, 2, 2, 0, 0, 1, 1, 16, 16 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        nn_conv_geometry g;
        nn_error err = { 0 };
        ck_assert_msg(nn_conv_geometry_init(&g, 2, table[i].h, table[i].w, table[i].kh,
                                            table[i].kw, table[i].sh, table[i].sw,
                                            table[i].ph, table[i].pw, table[i].dh,
                                            table[i].dw, &err)
                          == NN_OK,
                      "case %zu: %s", i, err.message);
        ck_assert_msg(g.output_height == table[i].oh && g.output_width == table[i].ow,
                      "case %zu: output %dx%d, expected %dx%d", i, g.output_height,
                      g.output_width, table[i].oh, table[i].ow);
    }
}
END_TEST

START_TEST(geometry_refuses_a_kernel_larger_than_the_padded_input)
{
    nn_conv_geometry g;
    nn_error err = { 0 };
    ck_assert_int_eq(square_geometry(&g, 3, 5, 5, 7, 1, 0, 1, &err), NN_ERR_SHAPE);
    ck_assert_int_eq(err.status, NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "5x5"));
    ck_assert_ptr_nonnull(strstr(err.message, "7x7"));
    /* Padding 1 makes 7 the padded size: kernel 7 fits, 8 does not. */
    ck_assert_int_eq(square_geometry(&g, 3, 5, 5, 7, 1, 1, 1, &err), NN_OK);
    ck_assert_int_eq(g.output_height, 1);
    ck_assert_int_eq(square_geometry(&g, 3, 5, 5, 8, 1, 1, 1, &err), NN_ERR_SHAPE);
    /* Dilation widens the span: kernel 3 at dilation 3 spans 7 > 5. */
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 3, 1, 0, 3, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "7x7"));
    /* One axis alone is enough to refuse. */
    ck_assert_int_eq(nn_conv_geometry_init(&g, 1, 10, 3, 3, 5, 1, 1, 0, 0, 1, 1, &err),
                     NN_ERR_SHAPE);
}
END_TEST

START_TEST(geometry_refuses_nonpositive_sizes)
{
    nn_conv_geometry g;
    nn_error err = { 0 };
    ck_assert_int_eq(square_geometry(&g, 0, 5, 5, 3, 1, 0, 1, &err), NN_ERR_SHAPE);
    ck_assert_int_eq(square_geometry(&g, 1, 5, 0, 3, 1, 0, 1, &err), NN_ERR_SHAPE);
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 0, 1, 0, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 3, 0, 0, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "stride"));
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 3, 1, -1, 1, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 3, 1, 0, 0, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(square_geometry(&g, 1, 5, 5, 3, 1, 0, 1, NULL), NN_OK);
}
END_TEST

/* out[f, oh, ow] = sum_{c, ki, kj} w[f, c, ki, kj] x[c, oh*s - p + ki*d, ow*s - p + kj*d],
 * the textbook definition (cross-correlation, as every framework computes). */
static void direct_convolution(double *out, const nn_real *x, const nn_real *w, int filters,
                               const nn_conv_geometry *g)
{
    const int C = g->channels, H = g->height, W = g->width;
    const int KH = g->kernel_height, KW = g->kernel_width;
    for (int f = 0; f < filters; f++)
        for (int oh = 0; oh < g->output_height; oh++)
            for (int ow = 0; ow < g->output_width; ow++) {
                double sum = 0;
                for (int c = 0; c < C; c++)
                    for (int ki = 0; ki < KH; ki++)
                        for (int kj = 0; kj < KW; kj++) {
                            int ih = oh * g->stride_height - g->padding_height
                                     + ki * g->dilation_height;
                            int iw = ow * g->stride_width - g->padding_width
                                     + kj * g->dilation_width;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                continue;
                            sum += (double)w[((f * C + c) * KH + ki) * KW + kj]
                                   * (double)x[(c * H + ih) * W + iw];
                        }
                out[(f * g->output_height + oh) * g->output_width + ow] = sum;
            }
}

typedef struct conv_case {
    int channels, height, width, filters;
    int kh, kw, sh, sw, ph, pw, dh, dw;
} conv_case;

static const conv_case conv_cases[] = {
    { 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1 },
    { 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 2, 9, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1 },
    { 3, 10, 10, 2, 1, 1, 1, 1, 0, 0, 1, 1 },    /* 1x1 */
    { 2, 7, 7, 2, 1, 1, 2, 2, 1, 1, 1, 1 },      /* 1x1 with stride and padding */
    { 2, 11, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2 },     /* dilated */
    { 3, 6, 12, 2, 2, 4, 1, 3, 0, 2, 1, 1 },     /* non-square kernel and stride */
    { 2, 12, 10, 2, 5, 3, 3, 2, 2, 1, 1, 2 },    /* everything different per axis */
    { 1, 28, 28, 6, 5, 5, 3, 3, 2, 2, 1, 1 },    /* the exam's layer, one channel */
    { 3, 16, 16, 2, 4, 4, 2, 2, 1, 1, 1, 1 },    /* kernel 4, stride 2, padding 1 */
    { 1, 4, 4, 1, 6, 6, 1, 1, 1, 1, 1, 1 },      /* kernel as large as the padded input */
};

START_TEST(im2col_times_weights_equals_direct_convolution)
{
    nn_rng rng;
    nn_rng_seed(&rng, 21);
    for (size_t t = 0; t < sizeof conv_cases / sizeof conv_cases[0]; t++) {
        const conv_case *cc = &conv_cases[t];
        nn_conv_geometry g;
        nn_error err = { 0 };
        ck_assert_msg(nn_conv_geometry_init(&g, cc->channels, cc->height, cc->width, cc->kh,
                                            cc->kw, cc->sh, cc->sw, cc->ph, cc->pw, cc->dh,
                                            cc->dw, &err)
                          == NN_OK,
                      "case %zu: %s", t, err.message);
        const int rows = cc->channels * cc->kh * cc->kw;
        const int positions = g.output_height * g.output_width;
        size_t x_size = (size_t)cc->channels * cc->height * cc->width;
        nn_real *x = malloc(x_size * sizeof *x);
        nn_real *w = malloc((size_t)cc->filters * rows * sizeof *w);
        nn_real *columns = malloc((size_t)rows * positions * sizeof *columns);
        nn_real *out = malloc((size_t)cc->filters * positions * sizeof *out);
        double *expected = malloc((size_t)cc->filters * positions * sizeof *expected);
        ck_assert(x && w && columns && out && expected);
        test_fill_uniform(x, x_size, &rng, -1, 1);
        test_fill_uniform(w, (size_t)cc->filters * rows, &rng, -1, 1);
        /* Garbage in the column buffer must be overwritten everywhere,
         * padding included. */
        for (size_t i = 0; i < (size_t)rows * positions; i++)
            columns[i] = (nn_real)1e9;

        nn_im2col(columns, x, &g);
        nn_matmul(false, false, cc->filters, positions, rows, 1, w, columns, 0, out);
        direct_convolution(expected, x, w, cc->filters, &g);
        for (int i = 0; i < cc->filters * positions; i++)
            ck_assert_msg(fabs((double)out[i] - expected[i]) <= TEST_TOLERANCE * (1 + rows / 10.0),
                          "case %zu: output %d = %.10g, expected %.10g", t, i,
                          (double)out[i], expected[i]);
        free(x);
        free(w);
        free(columns);
        free(out);
        free(expected);
    }
}
END_TEST

START_TEST(im2col_places_each_pixel_where_the_header_says)
{
    /* One 2-channel 3x4 image, kernel 2x2, stride 1, padding 1: check a few
     * entries by hand from the header's formula. Pixel values encode their
     * position: x[c, i, j] = 100 c + 10 i + j + 1, so 0 means padding. */
    nn_conv_geometry g;
    ck_assert_int_eq(nn_conv_geometry_init(&g, 2, 3, 4, 2, 2, 1, 1, 1, 1, 1, 1, NULL), NN_OK);
    ck_assert_int_eq(g.output_height, 4);
    ck_assert_int_eq(g.output_width, 5);
    nn_real x[2 * 3 * 4], columns[8 * 20];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                x[(c * 3 + i) * 4 + j] = (nn_real)(100 * c + 10 * i + j + 1);
    nn_im2col(columns, x, &g);
    /* row r = (c, ki, kj) = c*4 + ki*2 + kj, column p = oh*5 + ow */
#define COL(c, ki, kj, oh, ow) columns[((c) * 4 + (ki) * 2 + (kj)) * 20 + (oh) * 5 + (ow)]
    ck_assert(COL(0, 0, 0, 0, 0) == 0);            /* (-1, -1): padding */
    ck_assert(COL(0, 1, 1, 0, 0) == 1);            /* (0, 0) */
    ck_assert(COL(0, 0, 1, 1, 2) == 2 + 1);        /* (0, 2) */
    ck_assert(COL(1, 1, 0, 2, 3) == 100 + 20 + 2 + 1); /* (2, 2) */
    ck_assert(COL(1, 1, 1, 3, 4) == 0);            /* (3, 4): padding */
    ck_assert(COL(1, 0, 0, 3, 4) == 100 + 20 + 3 + 1); /* (2, 3) */
#undef COL
}
END_TEST

static double dot(const nn_real *a, const nn_real *b, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)a[i] * (double)b[i];
    return sum;
}

START_TEST(col2im_is_the_adjoint_of_im2col)
{
    /* <im2col(x), y> = <x, col2im(y)> for every x and y defines the adjoint;
     * random x, y per geometry. */
    nn_rng rng;
    nn_rng_seed(&rng, 22);
    for (size_t t = 0; t < sizeof conv_cases / sizeof conv_cases[0]; t++) {
        const conv_case *cc = &conv_cases[t];
        nn_conv_geometry g;
        ck_assert_int_eq(nn_conv_geometry_init(&g, cc->channels, cc->height, cc->width, cc->kh,
                                               cc->kw, cc->sh, cc->sw, cc->ph, cc->pw, cc->dh,
                                               cc->dw, NULL),
                         NN_OK);
        size_t x_size = (size_t)cc->channels * cc->height * cc->width;
        size_t col_size = (size_t)cc->channels * cc->kh * cc->kw * g.output_height
                          * g.output_width;
        nn_real *x = malloc(x_size * sizeof *x);
        nn_real *x_adj = calloc(x_size, sizeof *x_adj);
        nn_real *y = malloc(col_size * sizeof *y);
        nn_real *cols = malloc(col_size * sizeof *cols);
        ck_assert(x && x_adj && y && cols);
        test_fill_uniform(x, x_size, &rng, -1, 1);
        test_fill_uniform(y, col_size, &rng, -1, 1);
        nn_im2col(cols, x, &g);
        nn_col2im(x_adj, y, &g);
        double left = dot(cols, y, col_size), right = dot(x, x_adj, x_size);
        ck_assert_msg(fabs(left - right) <= TEST_TOLERANCE * (1 + sqrt((double)col_size)),
                      "case %zu: <im2col(x), y> = %.12g but <x, col2im(y)> = %.12g", t, left,
                      right);
        free(x);
        free(x_adj);
        free(y);
        free(cols);
    }
}
END_TEST

START_TEST(col2im_counts_how_often_each_pixel_is_used)
{
    /* col2im of all-ones columns gives, per pixel, the number of windows that
     * read it: 3x3 kernel, stride 1, padding 1 on 4x4 -> 4 in the corners,
     * 6 on the edges, 9 inside. */
    nn_conv_geometry g;
    ck_assert_int_eq(square_geometry(&g, 1, 4, 4, 3, 1, 1, 1, NULL), NN_OK);
    nn_real ones[9 * 16], image[16] = { 0 };
    for (int i = 0; i < 9 * 16; i++)
        ones[i] = 1;
    nn_col2im(image, ones, &g);
    static const int expected[16] = { 4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4 };
    for (int i = 0; i < 16; i++)
        ck_assert_msg(image[i] == (nn_real)expected[i], "pixel %d: %g, expected %d", i,
                      (double)image[i], expected[i]);
}
END_TEST

START_TEST(col2im_accumulates_into_the_image)
{
    nn_rng rng;
    nn_rng_seed(&rng, 23);
    nn_conv_geometry g;
    ck_assert_int_eq(nn_conv_geometry_init(&g, 2, 6, 5, 3, 2, 2, 1, 1, 0, 1, 1, NULL), NN_OK);
    size_t x_size = 2 * 6 * 5;
    size_t col_size = (size_t)2 * 3 * 2 * g.output_height * g.output_width;
    nn_real *cols = malloc(col_size * sizeof *cols);
    nn_real *fresh = calloc(x_size, sizeof *fresh);
    nn_real *acc = malloc(x_size * sizeof *acc);
    nn_real *start = malloc(x_size * sizeof *start);
    ck_assert(cols && fresh && acc && start);
    test_fill_uniform(cols, col_size, &rng, -1, 1);
    test_fill_uniform(start, x_size, &rng, -1, 1);
    memcpy(acc, start, x_size * sizeof *acc);
    nn_col2im(fresh, cols, &g);
    nn_col2im(acc, cols, &g);
    /* acc = start + col2im(cols), and a second call adds it again. */
    for (size_t i = 0; i < x_size; i++)
        ck_assert_real_near(acc[i], (double)start[i] + (double)fresh[i], TEST_TOLERANCE);
    nn_col2im(acc, cols, &g);
    for (size_t i = 0; i < x_size; i++)
        ck_assert_real_near(acc[i], (double)start[i] + 2.0 * (double)fresh[i],
                            TEST_TOLERANCE * 2);
    free(cols);
    free(fresh);
    free(acc);
    free(start);
}
END_TEST

Suite *im2col_suite(void);
Suite *im2col_suite(void)
{
    Suite *suite = suite_create("im2col");
    TCase *geometry = tcase_create("geometry");
    tcase_add_test(geometry, geometry_gives_the_exam_output_sizes);
    tcase_add_test(geometry, geometry_follows_the_output_size_formula);
    tcase_add_test(geometry, geometry_refuses_a_kernel_larger_than_the_padded_input);
    tcase_add_test(geometry, geometry_refuses_nonpositive_sizes);
    suite_add_tcase(suite, geometry);

    TCase *unroll = tcase_create("unroll");
    tcase_add_test(unroll, im2col_times_weights_equals_direct_convolution);
    tcase_add_test(unroll, im2col_places_each_pixel_where_the_header_says);
    tcase_add_test(unroll, col2im_is_the_adjoint_of_im2col);
    tcase_add_test(unroll, col2im_counts_how_often_each_pixel_is_used);
    tcase_add_test(unroll, col2im_accumulates_into_the_image);
    suite_add_tcase(suite, unroll);
    return suite;
}
