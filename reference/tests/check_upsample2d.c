/*
 * check_upsample2d.c - nearest and bilinear upsampling by an integer
 * factor: agreement with PyTorch's F.interpolate (bilinear with
 * align_corners = false), backward as the adjoint of forward, accumulation,
 * gradient checks, constants preserved, nearest x2 followed by 2x2 average
 * pooling as the identity, and the geometry's errors.
 */
#include "nn/gradcheck.h"
#include "nn/pool.h"
#include "fixture.h"
#include "testutil.h"

static nn_upsample_geometry make_geometry(int channels, int height, int width, int scale,
                                          nn_upsample_mode mode)
{
    nn_upsample_geometry g;
    nn_error err = { 0 };
    ck_assert_msg(nn_upsample_geometry_init(&g, channels, height, width, scale, mode, &err)
                      == NN_OK,
                  "%s", err.message);
    return g;
}

static size_t input_size(int batch, const nn_upsample_geometry *g)
{
    return (size_t)batch * g->channels * g->height * g->width;
}

static size_t output_size(int batch, const nn_upsample_geometry *g)
{
    return (size_t)batch * g->channels * g->output_height * g->output_width;
}

/* ---- agreement with PyTorch (fixtures/make_pool.py) --------------------- */

static const char *const fixture_cases[] = { "nearest2", "nearest3", "bilinear2", "bilinear3",
                                             "bilinear1x1" };
enum { FIXTURE_CASES = sizeof fixture_cases / sizeof fixture_cases[0] };

typedef struct up_case {
    fixture_file *file;
    nn_upsample_geometry g;
    int batch;
    size_t in_size, out_size;
    nn_real *x, *dout;
} up_case;

static const fixture_tensor *get_named(const fixture_file *file, const char *name,
                                       const char *suffix)
{
    char full[64];
    snprintf(full, sizeof full, "up_%s_%s", name, suffix);
    return fixture_get(file, full);
}

static up_case up_case_load(const char *name)
{
    up_case c = { .file = fixture_load("pool") };
    const fixture_tensor *config = get_named(c.file, name, "config");
    const fixture_tensor *x = get_named(c.file, name, "x");
    const fixture_tensor *dout = get_named(c.file, name, "dout");
    ck_assert_uint_eq(config->size, 2);
    ck_assert_int_eq(x->shape.rank, 4);
    c.batch = (int)x->shape.dims[0];
    c.g = make_geometry((int)x->shape.dims[1], (int)x->shape.dims[2], (int)x->shape.dims[3],
                        (int)config->values[0],
                        config->values[1] != 0 ? NN_UPSAMPLE_BILINEAR : NN_UPSAMPLE_NEAREST);
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

static void up_case_free(up_case *c)
{
    free(c->x);
    free(c->dout);
    fixture_free(c->file);
}

START_TEST(upsample2d_forward_matches_pytorch)
{
    up_case c = up_case_load(fixture_cases[_i]);
    nn_real *out = malloc(c.out_size * sizeof *out);
    ck_assert_int_eq(nn_upsample2d_forward(out, c.x, c.batch, &c.g), NN_OK);
    const fixture_tensor *want = get_named(c.file, fixture_cases[_i], "out");
    ck_assert_uint_eq(want->size, c.out_size);
    fixture_assert_close(out, want, TEST_TOLERANCE);
    free(out);
    up_case_free(&c);
}
END_TEST

START_TEST(upsample2d_backward_matches_pytorch)
{
    up_case c = up_case_load(fixture_cases[_i]);
    nn_real *dx = calloc(c.in_size, sizeof *dx);
    ck_assert_int_eq(nn_upsample2d_backward(dx, c.dout, c.batch, &c.g), NN_OK);
    fixture_assert_close(dx, get_named(c.file, fixture_cases[_i], "dx"), TEST_TOLERANCE);
    free(dx);
    up_case_free(&c);
}
END_TEST

START_TEST(upsample2d_backward_accumulates_into_dx)
{
    up_case c = up_case_load(fixture_cases[_i]);
    nn_real *dx = malloc(c.in_size * sizeof *dx);
    for (size_t i = 0; i < c.in_size; i++)
        dx[i] = (nn_real)(-0.5 + 0.25 * (double)(i % 9));
    ck_assert_int_eq(nn_upsample2d_backward(dx, c.dout, c.batch, &c.g), NN_OK);
    const fixture_tensor *want = get_named(c.file, fixture_cases[_i], "dx");
    for (size_t i = 0; i < c.in_size; i++)
        ck_assert_real_near(dx[i], -0.5 + 0.25 * (double)(i % 9) + want->values[i],
                            TEST_TOLERANCE);
    free(dx);
    up_case_free(&c);
}
END_TEST

/* ---- hand-checked values ------------------------------------------------- */

START_TEST(nearest_x2_copies_each_value_into_a_2x2_block)
{
    const nn_real x[4] = { 1, 2,
                           3, 4 };
    static const double want[16] = { 1, 1, 2, 2,
                                     1, 1, 2, 2,
                                     3, 3, 4, 4,
                                     3, 3, 4, 4 };
    nn_upsample_geometry g = make_geometry(1, 2, 2, 2, NN_UPSAMPLE_NEAREST);
    nn_real out[16];
    ck_assert_int_eq(nn_upsample2d_forward(out, x, 1, &g), NN_OK);
    for (int i = 0; i < 16; i++)
        ck_assert_real_near(out[i], want[i], 0);
}
END_TEST

START_TEST(bilinear_x2_of_a_row_weights_neighbours_by_quarters)
{
    /* Row (0, 4, 8): output centres sit at input coordinates -0.25 (clamped
     * to 0), 0.25, 0.75, 1.25, 1.75, 2.25; interpolating gives 0, 1, 3, 5,
     * 7, 8 (the last clamps to the edge value). */
    const nn_real x[3] = { 0, 4, 8 };
    static const double want[6] = { 0, 1, 3, 5, 7, 8 };
    nn_upsample_geometry g = make_geometry(1, 1, 3, 2, NN_UPSAMPLE_BILINEAR);
    nn_real out[2 * 6];
    ck_assert_int_eq(nn_upsample2d_forward(out, x, 1, &g), NN_OK);
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 6; j++)
            ck_assert_real_near(out[r * 6 + j], want[j], TEST_TOLERANCE);
}
END_TEST

START_TEST(upsampling_keeps_a_constant_image_constant)
{
    /* Interpolation weights sum to 1 at every output, borders included. */
    for (int mode = 0; mode < 2; mode++) {
        for (int scale = 1; scale <= 4; scale++) {
            nn_upsample_geometry g = make_geometry(2, 3, 5, scale, (nn_upsample_mode)mode);
            size_t nx = input_size(1, &g), no = output_size(1, &g);
            nn_real *x = malloc(nx * sizeof *x), *out = malloc(no * sizeof *out);
            for (size_t i = 0; i < nx; i++)
                x[i] = (nn_real)(i < nx / 2 ? 1.5 : -2.0);
            ck_assert_int_eq(nn_upsample2d_forward(out, x, 1, &g), NN_OK);
            for (size_t i = 0; i < no; i++)
                ck_assert_real_near(out[i], i < no / 2 ? 1.5 : -2.0, TEST_TOLERANCE);
            free(x), free(out);
        }
    }
}
END_TEST

START_TEST(upsample_nearest_x2_then_avg_pool_k2_s2_is_the_identity)
{
    enum { N = 2, C = 3, H = 5, W = 7 };
    nn_upsample_geometry up = make_geometry(C, H, W, 2, NN_UPSAMPLE_NEAREST);
    nn_pool_geometry pool;
    ck_assert_int_eq(nn_pool_geometry_init(&pool, C, 2 * H, 2 * W, 2, 2, 2, 2, 0, 0, NULL),
                     NN_OK);
    ck_assert_int_eq(pool.output_height, H);
    ck_assert_int_eq(pool.output_width, W);
    nn_real x[N * C * H * W], big[N * C * 4 * H * W], back[N * C * H * W];
    nn_rng rng;
    nn_rng_seed(&rng, 42);
    test_fill_uniform(x, N * C * H * W, &rng, -3, 3);
    ck_assert_int_eq(nn_upsample2d_forward(big, x, N, &up), NN_OK);
    ck_assert_int_eq(nn_avg_pool2d_forward(back, big, N, &pool), NN_OK);
    for (int i = 0; i < N * C * H * W; i++)
        ck_assert_real_near(back[i], x[i], TEST_TOLERANCE);
}
END_TEST

/* ---- backward is the adjoint --------------------------------------------- */

static const int adjoint_table[][5] = {
    /* C, H, W, scale, bilinear */
    { 2, 3, 4, 2, 1 }, { 1, 5, 3, 3, 1 }, { 2, 1, 1, 4, 1 }, { 1, 2, 7, 1, 1 },
    { 3, 4, 2, 5, 1 }, { 2, 3, 4, 2, 0 }, { 1, 5, 3, 3, 0 }, { 1, 2, 2, 1, 0 },
};
enum { ADJOINTS = sizeof adjoint_table / sizeof adjoint_table[0] };

START_TEST(upsample2d_backward_is_the_adjoint_of_forward)
{
    /* <up(x), y> == <x, up^T(y)> for random x and y. */
    const int *s = adjoint_table[_i];
    const int batch = 2;
    nn_upsample_geometry g = make_geometry(s[0], s[1], s[2], s[3],
                                           s[4] ? NN_UPSAMPLE_BILINEAR : NN_UPSAMPLE_NEAREST);
    size_t nx = input_size(batch, &g), no = output_size(batch, &g);
    nn_real *x = malloc(nx * sizeof *x), *ux = malloc(no * sizeof *ux);
    nn_real *y = malloc(no * sizeof *y), *uty = calloc(nx, sizeof *uty);
    nn_rng rng;
    nn_rng_seed(&rng, 800 + (uint64_t)_i);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(y, no, &rng, -1, 1);
    ck_assert_int_eq(nn_upsample2d_forward(ux, x, batch, &g), NN_OK);
    ck_assert_int_eq(nn_upsample2d_backward(uty, y, batch, &g), NN_OK);
    double left = 0, right = 0;
    for (size_t i = 0; i < no; i++)
        left += (double)ux[i] * y[i];
    for (size_t i = 0; i < nx; i++)
        right += (double)x[i] * uty[i];
    ck_assert_real_near(left, right, TEST_TOLERANCE);
    free(x), free(ux), free(y), free(uty);
}
END_TEST

/* ---- gradient check ------------------------------------------------------ */

typedef struct up_problem {
    const nn_upsample_geometry *g;
    int batch;
    size_t out_size;
    nn_real *x, *r, *out;
} up_problem;

static double up_loss(void *context)
{
    up_problem *p = context;
    nn_upsample2d_forward(p->out, p->x, p->batch, p->g);
    double loss = 0;
    for (size_t i = 0; i < p->out_size; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

START_TEST(upsample2d_passes_gradcheck)
{
    const int *s = adjoint_table[_i];
    const int batch = 2;
    nn_upsample_geometry g = make_geometry(s[0], s[1], s[2], s[3],
                                           s[4] ? NN_UPSAMPLE_BILINEAR : NN_UPSAMPLE_NEAREST);
    size_t nx = input_size(batch, &g), no = output_size(batch, &g);
    nn_real *x = malloc(nx * sizeof *x), *dx = calloc(nx, sizeof *dx);
    nn_real *r = malloc(no * sizeof *r), *out = malloc(no * sizeof *out);
    nn_rng rng;
    nn_rng_seed(&rng, 900 + (uint64_t)_i);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(r, no, &rng, -1, 1);
    up_problem p = { &g, batch, no, x, r, out };
    ck_assert_int_eq(nn_upsample2d_backward(dx, r, batch, &g), NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, nx, up_loss, &p, &config, &rng, &err) == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
    free(x), free(dx), free(r), free(out);
}
END_TEST

START_TEST(gradcheck_catches_bilinear_backward_that_loses_the_edge_row)
{
    /* The last output row lies past the last input row's centre, so the
     * clamp makes it read input row H - 1 alone. A backward that loses
     * that row's gradient (say, by skipping outputs whose neighbour would
     * fall outside) must fail the check. */
    enum { H = 3, W = 3, S = 2 };
    nn_upsample_geometry g = make_geometry(1, H, W, S, NN_UPSAMPLE_BILINEAR);
    nn_real x[H * W], r[H * W * S * S], out[H * W * S * S], dx[H * W] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 43);
    test_fill_uniform(x, H * W, &rng, -1, 1);
    test_fill_uniform(r, H * W * S * S, &rng, -1, 1);
    ck_assert_int_eq(nn_upsample2d_backward(dx, r, 1, &g), NN_OK);
    /* Output row 5 sits at u = 2.25: i0 = i1 = 2. Take back what it gave. */
    const int last = H * S - 1;
    for (int j = 0; j < W * S; j++) {
        double v = (j + 0.5) / S - 0.5;
        if (v < 0)
            v = 0;
        int j0 = (int)v, j1 = j0 < W - 1 ? j0 + 1 : j0;
        double lw = v - j0, grad = r[last * W * S + j];
        dx[(H - 1) * W + j0] -= (nn_real)((1 - lw) * grad);
        dx[(H - 1) * W + j1] -= (nn_real)(lw * grad);
    }
    up_problem p = { &g, 1, H * W * S * S, x, r, out };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0;
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, dx, H * W, up_loss, &p, &config, &rng, NULL),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

/* ---- geometry ------------------------------------------------------------ */

START_TEST(upsample_geometry_scales_both_sides_and_rejects_bad_input)
{
    nn_upsample_geometry g = make_geometry(5, 16, 16, 4, NN_UPSAMPLE_BILINEAR);
    ck_assert_int_eq(g.output_height, 64);
    ck_assert_int_eq(g.output_width, 64);

    nn_error err = { 0 };
    ck_assert_int_eq(nn_upsample_geometry_init(&g, 1, 4, 4, 0, NN_UPSAMPLE_NEAREST, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "scale factor 0"));
    ck_assert_int_eq(nn_upsample_geometry_init(&g, 1, 4, 4, 2, (nn_upsample_mode)7, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "mode 7"));
    ck_assert_int_eq(nn_upsample_geometry_init(&g, 1, 0, 4, 2, NN_UPSAMPLE_NEAREST, &err),
                     NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "empty dimension"));
    ck_assert_int_eq(
        nn_upsample_geometry_init(&g, 1, 50000, 50000, 2, NN_UPSAMPLE_NEAREST, &err),
        NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "int index"));
    ck_assert_int_eq(
        nn_upsample_geometry_init(&g, 1, 1 << 30, 1, 1 << 20, NN_UPSAMPLE_NEAREST, &err),
        NN_ERR_SHAPE);
}
END_TEST

Suite *upsample2d_suite(void);
Suite *upsample2d_suite(void)
{
    Suite *suite = suite_create("upsample2d");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, upsample2d_forward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, upsample2d_backward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, upsample2d_backward_accumulates_into_dx, 0, FIXTURE_CASES);
    tcase_add_test(tc, nearest_x2_copies_each_value_into_a_2x2_block);
    tcase_add_test(tc, bilinear_x2_of_a_row_weights_neighbours_by_quarters);
    tcase_add_test(tc, upsampling_keeps_a_constant_image_constant);
    tcase_add_test(tc, upsample_nearest_x2_then_avg_pool_k2_s2_is_the_identity);
    tcase_add_loop_test(tc, upsample2d_backward_is_the_adjoint_of_forward, 0, ADJOINTS);
    tcase_add_loop_test(tc, upsample2d_passes_gradcheck, 0, ADJOINTS);
    tcase_add_test(tc, gradcheck_catches_bilinear_backward_that_loses_the_edge_row);
    tcase_add_test(tc, upsample_geometry_scales_both_sides_and_rejects_bad_input);
    suite_add_tcase(suite, tc);
    return suite;
}
