/*
 * check_avg_pool2d.c - average pooling: agreement with PyTorch's
 * F.avg_pool2d (count_include_pad = true), padding counted as zeros in the
 * divisor, backward as the exact transpose of forward, accumulation, and
 * gradient checks.
 */
#include "nn/gradcheck.h"
#include "nn/pool.h"
#include "fixture.h"
#include "testutil.h"

static nn_pool_geometry make_geometry(int channels, int height, int width, int kh, int kw,
                                      int sh, int sw, int ph, int pw)
{
    nn_pool_geometry g;
    nn_error err = { 0 };
    ck_assert_msg(nn_pool_geometry_init(&g, channels, height, width, kh, kw, sh, sw, ph, pw,
                                        &err)
                      == NN_OK,
                  "%s", err.message);
    return g;
}

static size_t input_size(int batch, const nn_pool_geometry *g)
{
    return (size_t)batch * g->channels * g->height * g->width;
}

static size_t output_size(int batch, const nn_pool_geometry *g)
{
    return (size_t)batch * g->channels * g->output_height * g->output_width;
}

/* ---- agreement with PyTorch (fixtures/make_pool.py) --------------------- */

static const char *const fixture_cases[] = { "k2s2", "k2s2odd", "k3s2p1", "k3x2s1x2p1x0",
                                             "k2s2p1" };
enum { FIXTURE_CASES = sizeof fixture_cases / sizeof fixture_cases[0] };

typedef struct pool_case {
    fixture_file *file;
    nn_pool_geometry g;
    int batch;
    size_t in_size, out_size;
    nn_real *x, *dout;
} pool_case;

static const fixture_tensor *get_named(const fixture_file *file, const char *prefix,
                                       const char *name, const char *suffix)
{
    char full[64];
    snprintf(full, sizeof full, "%s%s_%s", prefix, name, suffix);
    return fixture_get(file, full);
}

static pool_case pool_case_load(const char *name)
{
    pool_case c = { .file = fixture_load("pool") };
    const fixture_tensor *config = get_named(c.file, "", name, "config");
    const fixture_tensor *x = get_named(c.file, "", name, "x");
    const fixture_tensor *dout = get_named(c.file, "", name, "dout");
    ck_assert_uint_eq(config->size, 6);
    ck_assert_int_eq(x->shape.rank, 4);
    const double *k = config->values;
    c.batch = (int)x->shape.dims[0];
    c.g = make_geometry((int)x->shape.dims[1], (int)x->shape.dims[2], (int)x->shape.dims[3],
                        (int)k[0], (int)k[1], (int)k[2], (int)k[3], (int)k[4], (int)k[5]);
    c.in_size = x->size;
    c.out_size = output_size(c.batch, &c.g);
    ck_assert_uint_eq(dout->size, c.out_size);
    c.x = malloc(c.in_size * sizeof *c.x);
    c.dout = malloc(c.out_size * sizeof *c.dout);
    ck_assert(c.x != NULL && c.dout != NULL);
    fixture_copy(c.x, x);
    fixture_copy(c.dout, dout);
    return c;
}

static void pool_case_free(pool_case *c)
{
    free(c->x);
    free(c->dout);
    fixture_free(c->file);
}

START_TEST(avg_pool2d_forward_matches_pytorch)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *out = malloc(c.out_size * sizeof *out);
    ck_assert_int_eq(nn_avg_pool2d_forward(out, c.x, c.batch, &c.g), NN_OK);
    const fixture_tensor *want = get_named(c.file, "avg_", fixture_cases[_i], "out");
    ck_assert_uint_eq(want->size, c.out_size);
    fixture_assert_close(out, want, TEST_TOLERANCE);
    free(out);
    pool_case_free(&c);
}
END_TEST

START_TEST(avg_pool2d_backward_matches_pytorch)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *dx = calloc(c.in_size, sizeof *dx);
    ck_assert_int_eq(nn_avg_pool2d_backward(dx, c.dout, c.batch, &c.g), NN_OK);
    fixture_assert_close(dx, get_named(c.file, "avg_", fixture_cases[_i], "dx"),
                         TEST_TOLERANCE);
    free(dx);
    pool_case_free(&c);
}
END_TEST

START_TEST(avg_pool2d_backward_accumulates_into_dx)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *dx = malloc(c.in_size * sizeof *dx);
    for (size_t i = 0; i < c.in_size; i++)
        dx[i] = (nn_real)(1.0 - 0.125 * (double)(i % 11));
    ck_assert_int_eq(nn_avg_pool2d_backward(dx, c.dout, c.batch, &c.g), NN_OK);
    const fixture_tensor *want = get_named(c.file, "avg_", fixture_cases[_i], "dx");
    for (size_t i = 0; i < c.in_size; i++)
        ck_assert_real_near(dx[i], 1.0 - 0.125 * (double)(i % 11) + want->values[i],
                            TEST_TOLERANCE);
    free(dx);
    pool_case_free(&c);
}
END_TEST

/* ---- padding and the divisor --------------------------------------------- */

START_TEST(avg_pool2d_counts_padding_as_zeros_in_the_divisor)
{
    /* A 4x4 image of ones, kernel 3, stride 1, padding 1: a corner window
     * holds 4 real ones of 9 positions, an edge window 6, an inner one 9.
     * (count_include_pad = false would give 1 everywhere.) */
    nn_pool_geometry g = make_geometry(1, 4, 4, 3, 3, 1, 1, 1, 1);
    nn_real x[16], out[16];
    for (int i = 0; i < 16; i++)
        x[i] = 1;
    ck_assert_int_eq(nn_avg_pool2d_forward(out, x, 1, &g), NN_OK);
    ck_assert_real_near(out[0], 4.0 / 9.0, TEST_TOLERANCE);
    ck_assert_real_near(out[3], 4.0 / 9.0, TEST_TOLERANCE);
    ck_assert_real_near(out[1], 6.0 / 9.0, TEST_TOLERANCE);
    ck_assert_real_near(out[4], 6.0 / 9.0, TEST_TOLERANCE);
    ck_assert_real_near(out[5], 1.0, TEST_TOLERANCE);
    ck_assert_real_near(out[15], 4.0 / 9.0, TEST_TOLERANCE);
}
END_TEST

START_TEST(avg_pool2d_k2_s2_is_the_mean_of_each_block)
{
    const nn_real x[8] = { 1, 2, 10, 20,
                           3, 4, 30, 40 };
    nn_pool_geometry g = make_geometry(1, 2, 4, 2, 2, 2, 2, 0, 0);
    nn_real out[2];
    ck_assert_int_eq(nn_avg_pool2d_forward(out, x, 1, &g), NN_OK);
    ck_assert_real_near(out[0], 2.5, TEST_TOLERANCE);
    ck_assert_real_near(out[1], 25.0, TEST_TOLERANCE);
    /* Backward hands each input a quarter of its block's gradient. */
    const nn_real dout[2] = { 4, -8 };
    nn_real dx[8] = { 0 };
    ck_assert_int_eq(nn_avg_pool2d_backward(dx, dout, 1, &g), NN_OK);
    for (int i = 0; i < 8; i++)
        ck_assert_real_near(dx[i], (i % 4) < 2 ? 1.0 : -2.0, TEST_TOLERANCE);
}
END_TEST

/* ---- backward is the transpose of forward -------------------------------- */

static const int shape_table[][9] = {
    /* C, H, W, KH, KW, SH, SW, PH, PW */
    { 2, 6, 6, 2, 2, 2, 2, 0, 0 },
    { 2, 7, 9, 3, 3, 2, 2, 1, 1 },
    { 1, 5, 8, 3, 2, 1, 3, 1, 1 },
    { 3, 4, 4, 4, 4, 1, 1, 2, 2 },
    { 1, 1, 7, 1, 3, 1, 2, 0, 1 },
};
enum { SHAPES = sizeof shape_table / sizeof shape_table[0] };

START_TEST(avg_pool2d_backward_is_the_adjoint_of_forward)
{
    /* Forward is linear, out = A x; backward must compute A^T dout, which
     * is what <A x, y> == <x, A^T y> tests for random x and y. */
    const int *s = shape_table[_i];
    const int batch = 2;
    nn_pool_geometry g = make_geometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]);
    size_t nx = input_size(batch, &g), no = output_size(batch, &g);
    nn_real *x = malloc(nx * sizeof *x), *ax = malloc(no * sizeof *ax);
    nn_real *y = malloc(no * sizeof *y), *aty = calloc(nx, sizeof *aty);
    nn_rng rng;
    nn_rng_seed(&rng, 600 + (uint64_t)_i);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(y, no, &rng, -1, 1);
    ck_assert_int_eq(nn_avg_pool2d_forward(ax, x, batch, &g), NN_OK);
    ck_assert_int_eq(nn_avg_pool2d_backward(aty, y, batch, &g), NN_OK);
    double left = 0, right = 0;
    for (size_t i = 0; i < no; i++)
        left += (double)ax[i] * y[i];
    for (size_t i = 0; i < nx; i++)
        right += (double)x[i] * aty[i];
    ck_assert_real_near(left, right, TEST_TOLERANCE);
    free(x), free(ax), free(y), free(aty);
}
END_TEST

/* ---- gradient check ------------------------------------------------------ */

typedef struct avg_pool_problem {
    const nn_pool_geometry *g;
    int batch;
    size_t out_size;
    nn_real *x, *r, *out;
} avg_pool_problem;

static double avg_pool_loss(void *context)
{
    avg_pool_problem *p = context;
    nn_avg_pool2d_forward(p->out, p->x, p->batch, p->g);
    double loss = 0;
    for (size_t i = 0; i < p->out_size; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

START_TEST(avg_pool2d_passes_gradcheck)
{
    const int *s = shape_table[_i];
    const int batch = 2;
    nn_pool_geometry g = make_geometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]);
    size_t nx = input_size(batch, &g), no = output_size(batch, &g);
    nn_real *x = malloc(nx * sizeof *x), *dx = calloc(nx, sizeof *dx);
    nn_real *r = malloc(no * sizeof *r), *out = malloc(no * sizeof *out);
    nn_rng rng;
    nn_rng_seed(&rng, 700 + (uint64_t)_i);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(r, no, &rng, -1, 1);
    avg_pool_problem p = { &g, batch, no, x, r, out };
    ck_assert_int_eq(nn_avg_pool2d_backward(dx, r, batch, &g), NN_OK);

    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, nx, avg_pool_loss, &p, &config, &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
    free(x), free(dx), free(r), free(out);
}
END_TEST

START_TEST(gradcheck_catches_a_divisor_that_skips_the_padding)
{
    /* A backward dividing by the number of real inputs in each window
     * (count_include_pad = false) is wrong for this forward and must fail. */
    enum { H = 4, W = 4 };
    nn_pool_geometry g = make_geometry(1, H, W, 3, 3, 1, 1, 1, 1);
    nn_real x[H * W], r[H * W], out[H * W], wrong[H * W] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 71);
    test_fill_uniform(x, H * W, &rng, -1, 1);
    test_fill_uniform(r, H * W, &rng, -1, 1);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            int h0 = i > 0 ? i - 1 : 0, h1 = i + 2 < H ? i + 2 : H;
            int w0 = j > 0 ? j - 1 : 0, w1 = j + 2 < W ? j + 2 : W;
            double share = r[i * W + j] / (double)((h1 - h0) * (w1 - w0));
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                    wrong[h * W + w] += (nn_real)share;
        }
    avg_pool_problem p = { &g, 1, H * W, x, r, out };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0;
    nn_gradcheck_result result;
    ck_assert_int_eq(
        nn_gradcheck(&result, x, wrong, H * W, avg_pool_loss, &p, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
}
END_TEST

Suite *avg_pool2d_suite(void);
Suite *avg_pool2d_suite(void)
{
    Suite *suite = suite_create("avg_pool2d");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, avg_pool2d_forward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, avg_pool2d_backward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, avg_pool2d_backward_accumulates_into_dx, 0, FIXTURE_CASES);
    tcase_add_test(tc, avg_pool2d_counts_padding_as_zeros_in_the_divisor);
    tcase_add_test(tc, avg_pool2d_k2_s2_is_the_mean_of_each_block);
    tcase_add_loop_test(tc, avg_pool2d_backward_is_the_adjoint_of_forward, 0, SHAPES);
    tcase_add_loop_test(tc, avg_pool2d_passes_gradcheck, 0, SHAPES);
    tcase_add_test(tc, gradcheck_catches_a_divisor_that_skips_the_padding);
    suite_add_tcase(suite, tc);
    return suite;
}
