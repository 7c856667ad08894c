/*
 * check_conv2d.c - the convolution layer: agreement with PyTorch on a table
 * of cases (fixtures/make_conv.py), the defining sums on larger random
 * shapes, gradient checks per geometry, accumulation into gradients,
 * independence from the thread count and from what the buffers held, and
 * the exam's shapes and parameter counts.
 */
#include "nn/conv.h"
#include "nn/gradcheck.h"
#include "nn/parallel.h"
#include "fixture.h"
#include "testutil.h"

/* One convolution's settings and buffers. */
typedef struct conv_problem {
    int batch, filters;
    nn_conv_geometry g;
    size_t nx, nw, no;
    nn_real *x, *weight, *bias, *dout, *workspace;
} conv_problem;

static nn_real *alloc_reals(size_t count)
{
    nn_real *data = malloc((count ? count : 1) * sizeof *data);
    ck_assert_ptr_nonnull(data);
    return data;
}

static void fill_nan(nn_real *data, size_t count)
{
    for (size_t i = 0; i < count; i++)
        data[i] = (nn_real)NAN;
}

/* Sizes and buffers for a geometry; the workspace starts as NaN, so a
 * kernel that reads scratch it did not write shows it. */
static void problem_init(conv_problem *p, int batch, int filters, const nn_conv_geometry *g)
{
    p->batch = batch;
    p->filters = filters;
    p->g = *g;
    p->nx = (size_t)batch * g->channels * g->height * g->width;
    p->nw = (size_t)filters * g->channels * g->kernel_height * g->kernel_width;
    p->no = (size_t)batch * filters * g->output_height * g->output_width;
    p->x = alloc_reals(p->nx);
    p->weight = alloc_reals(p->nw);
    p->bias = alloc_reals((size_t)filters);
    p->dout = alloc_reals(p->no);
    size_t ws = nn_conv2d_workspace_size(batch, filters, g);
    p->workspace = alloc_reals(ws);
    fill_nan(p->workspace, ws);
}

static void problem_random(conv_problem *p, int batch, int filters, const nn_conv_geometry *g,
                           uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    problem_init(p, batch, filters, g);
    test_fill_uniform(p->x, p->nx, &rng, -1, 1);
    test_fill_uniform(p->weight, p->nw, &rng, -1, 1);
    test_fill_uniform(p->bias, (size_t)filters, &rng, -1, 1);
    test_fill_uniform(p->dout, p->no, &rng, -1, 1);
}

static void problem_free(conv_problem *p)
{
    free(p->x), free(p->weight), free(p->bias), free(p->dout), free(p->workspace);
}

static void geometry_or_fail(nn_conv_geometry *g, int c, int h, int w, int kh, int kw, int sh,
                             int sw, int ph, int pw, int dh, int dw)
{
    nn_error err = { 0 };
    ck_assert_msg(nn_conv_geometry_init(g, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, &err) == NN_OK,
                  "%s", err.message);
}

/* ---- agreement with PyTorch -------------------------------------------- */

static const char *const fixture_cases[] = {
    "basic", "stride2", "dilation2", "pointwise", "nonsquare", "wide", "batch9", "exam26", "halve",
};
enum { FIXTURE_CASES = sizeof fixture_cases / sizeof fixture_cases[0] };

/* fixtures/conv2d/CASE.txt */
static fixture_file *load_fixture(const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "conv2d/%s", name);
    return fixture_load(path);
}

static void copy_sized(nn_real *dest, size_t count, const fixture_tensor *tensor)
{
    ck_assert_msg(tensor->size == count, "fixture %s has %zu values, expected %zu", tensor->name,
                  tensor->size, count);
    fixture_copy(dest, tensor);
}

/* Builds the case's geometry from its settings in the fixture and loads its
 * inputs; the output shape PyTorch gave must be the one the geometry
 * derives. */
static void load_case(conv_problem *p, const fixture_file *file, const char *name)
{
    const fixture_tensor *s = fixture_get(file, "geometry");
    ck_assert_uint_eq(s->size, 13);
    int v[13];
    for (int i = 0; i < 13; i++)
        v[i] = (int)s->values[i];
    nn_conv_geometry g;
    geometry_or_fail(&g, v[1], v[2], v[3], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);
    const fixture_tensor *out = fixture_get(file, "out");
    ck_assert_int_eq(out->shape.rank, 4);
    ck_assert_msg(out->shape.dims[2] == (size_t)g.output_height
                      && out->shape.dims[3] == (size_t)g.output_width,
                  "%s: PyTorch's output is %zux%zu, the geometry gives %dx%d", name,
                  out->shape.dims[2], out->shape.dims[3], g.output_height, g.output_width);
    problem_init(p, v[0], v[4], &g);
    copy_sized(p->x, p->nx, fixture_get(file, "x"));
    copy_sized(p->weight, p->nw, fixture_get(file, "weight"));
    copy_sized(p->bias, (size_t)p->filters, fixture_get(file, "bias"));
    copy_sized(p->dout, p->no, fixture_get(file, "dout"));
}

START_TEST(conv2d_forward_matches_pytorch)
{
    fixture_file *file = load_fixture(fixture_cases[_i]);
    conv_problem p;
    load_case(&p, file, fixture_cases[_i]);
    const fixture_tensor *want = fixture_get(file, "out");
    nn_real *out = alloc_reals(p.no);
    fill_nan(out, p.no); /* forward overwrites out, never reads it */
    ck_assert_int_eq(nn_conv2d_forward(out, p.workspace, p.x, p.weight, p.bias, p.batch,
                                       p.filters, &p.g),
                     NN_OK);
    fixture_assert_close(out, want, TEST_TOLERANCE);
    /* without a bias: PyTorch's output less the bias */
    fill_nan(out, p.no);
    ck_assert_int_eq(nn_conv2d_forward(out, p.workspace, p.x, p.weight, NULL, p.batch, p.filters,
                                       &p.g),
                     NN_OK);
    size_t plane = (size_t)p.g.output_height * p.g.output_width;
    for (size_t i = 0; i < p.no; i++)
        ck_assert_real_near(out[i], want->values[i] - p.bias[i / plane % (size_t)p.filters],
                            TEST_TOLERANCE);
    free(out);
    problem_free(&p);
    fixture_free(file);
}
END_TEST

START_TEST(conv2d_backward_matches_pytorch_and_accumulates)
{
    fixture_file *file = load_fixture(fixture_cases[_i]);
    conv_problem p;
    load_case(&p, file, fixture_cases[_i]);
    const fixture_tensor *want_dx = fixture_get(file, "dx");
    const fixture_tensor *want_dw = fixture_get(file, "dweight");
    const fixture_tensor *want_db = fixture_get(file, "dbias");
    nn_real *dx = calloc(p.nx, sizeof *dx), *dw = calloc(p.nw, sizeof *dw);
    nn_real *db = calloc((size_t)p.filters, sizeof *db);
    ck_assert_int_eq(nn_conv2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight, p.batch,
                                        p.filters, &p.g),
                     NN_OK);
    fixture_assert_close(dx, want_dx, TEST_TOLERANCE);
    fixture_assert_close(dw, want_dw, TEST_TOLERANCE);
    fixture_assert_close(db, want_db, TEST_TOLERANCE);
    /* Again, one gradient a call (the first layer needs no dx, a layer may
     * have no bias): each must add its own to what the buffers hold. */
    ck_assert_int_eq(nn_conv2d_backward(dx, NULL, NULL, p.workspace, p.dout, p.x, p.weight,
                                        p.batch, p.filters, &p.g),
                     NN_OK);
    ck_assert_int_eq(nn_conv2d_backward(NULL, dw, NULL, p.workspace, p.dout, p.x, p.weight,
                                        p.batch, p.filters, &p.g),
                     NN_OK);
    ck_assert_int_eq(nn_conv2d_backward(NULL, NULL, db, p.workspace, p.dout, p.x, p.weight,
                                        p.batch, p.filters, &p.g),
                     NN_OK);
    for (size_t i = 0; i < p.nx; i++)
        ck_assert_real_near(dx[i], 2 * want_dx->values[i], TEST_TOLERANCE);
    for (size_t i = 0; i < p.nw; i++)
        ck_assert_real_near(dw[i], 2 * want_dw->values[i], TEST_TOLERANCE);
    for (int f = 0; f < p.filters; f++)
        ck_assert_real_near(db[f], 2 * want_db->values[f], TEST_TOLERANCE);
    free(dx), free(dw), free(db);
    problem_free(&p);
    fixture_free(file);
}
END_TEST

/* ---- the defining sums on larger random shapes ------------------------- */

/* out, dx, dW, db by the formula, in double; dx, dW, db accumulated */
static void reference_conv(double *out, double *dx, double *dw, double *db, const conv_problem *p)
{
    const nn_conv_geometry *g = &p->g;
    const int oh_n = g->output_height, ow_n = g->output_width;
    for (int n = 0; n < p->batch; n++)
        for (int f = 0; f < p->filters; f++)
            for (int oh = 0; oh < oh_n; oh++)
                for (int ow = 0; ow < ow_n; ow++) {
                    size_t o = (((size_t)n * p->filters + f) * oh_n + oh) * ow_n + ow;
                    double sum = p->bias[f], up = p->dout[o];
                    for (int c = 0; c < g->channels; c++)
                        for (int i = 0; i < g->kernel_height; i++)
                            for (int j = 0; j < g->kernel_width; j++) {
                                int y = oh * g->stride_height - g->padding_height
                                        + i * g->dilation_height;
                                int x = ow * g->stride_width - g->padding_width
                                        + j * g->dilation_width;
                                if (y < 0 || y >= g->height || x < 0 || x >= g->width)
                                    continue;
                                size_t xi = (((size_t)n * g->channels + c) * g->height + y)
                                                * g->width + x;
                                size_t wi = (((size_t)f * g->channels + c) * g->kernel_height + i)
                                                * g->kernel_width + j;
                                sum += (double)p->weight[wi] * p->x[xi];
                                dx[xi] += (double)p->weight[wi] * up;
                                dw[wi] += up * p->x[xi];
                            }
                    out[o] = sum;
                    db[f] += up;
                }
}

/* batch, C, H, W, F, kh, kw, sh, sw, ph, pw, dh, dw: more channels and
 * filters than one register tile holds, more images than one group of the
 * weight-gradient sum, and geometries the fixtures do not have. The 3x3
 * stride-1 ones with 8 or more channels take the Winograd path (odd sizes
 * leave partial tiles; padding 0 and 2 make the data gradient's 2 and 0). */
static const int sum_table[][13] = {
    { 3, 20, 9, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 2, 9, 8, 7, 10, 3, 3, 1, 1, 0, 2, 1, 1 },
    { 5, 16, 5, 6, 16, 3, 3, 1, 1, 2, 2, 1, 1 },
    { 2, 17, 10, 10, 9, 4, 4, 2, 2, 1, 1, 1, 1 },
    { 17, 3, 6, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 2, 4, 11, 11, 6, 3, 3, 3, 3, 2, 2, 3, 3 },
    { 2, 5, 7, 9, 18, 1, 1, 2, 2, 0, 0, 1, 1 },
    { 1, 3, 4, 4, 2, 5, 5, 1, 1, 2, 2, 1, 1 },   /* kernel larger than the image */
    { 2, 2, 13, 6, 3, 2, 5, 3, 1, 0, 2, 2, 1 },
    { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1 },
    { 2, 3, 8, 8, 4, 3, 3, 4, 4, 0, 0, 1, 1 },   /* stride larger than the kernel */
};

static void assert_close_to(const nn_real *got, const double *want, size_t count,
                            const char *what)
{
    for (size_t i = 0; i < count; i++) {
        double scale = fmax(1.0, fabs(want[i]));
        ck_assert_msg(fabs((double)got[i] - want[i]) <= TEST_TOLERANCE * scale,
                      "%s[%zu] = %.12g, expected %.12g", what, i, (double)got[i], want[i]);
    }
}

START_TEST(conv2d_matches_the_defining_sums_for_many_shapes)
{
    const int *t = sum_table[_i];
    nn_conv_geometry g;
    geometry_or_fail(&g, t[1], t[2], t[3], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12]);
    conv_problem p;
    problem_random(&p, t[0], t[4], &g, 300 + (uint64_t)_i);
    double *out = calloc(p.no, sizeof *out), *rdx = calloc(p.nx, sizeof *rdx);
    double *rdw = calloc(p.nw, sizeof *rdw), *rdb = calloc((size_t)p.filters, sizeof *rdb);
    reference_conv(out, rdx, rdw, rdb, &p);

    nn_real *got = alloc_reals(p.no), *dx = calloc(p.nx, sizeof *dx);
    nn_real *dw = calloc(p.nw, sizeof *dw), *db = calloc((size_t)p.filters, sizeof *db);
    ck_assert_int_eq(nn_conv2d_forward(got, p.workspace, p.x, p.weight, p.bias, p.batch,
                                       p.filters, &g),
                     NN_OK);
    ck_assert_int_eq(nn_conv2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight, p.batch,
                                        p.filters, &g),
                     NN_OK);
    assert_close_to(got, out, p.no, "out");
    assert_close_to(dx, rdx, p.nx, "dx");
    assert_close_to(dw, rdw, p.nw, "dweight");
    assert_close_to(db, rdb, (size_t)p.filters, "dbias");
    free(out), free(rdx), free(rdw), free(rdb), free(got), free(dx), free(dw), free(db);
    problem_free(&p);
}
END_TEST

START_TEST(conv2d_results_do_not_depend_on_the_thread_count)
{
    /* Large enough to be split over threads; every value must come out
     * bit for bit the same with 1, 2 and 3 threads. */
    nn_conv_geometry g;
    geometry_or_fail(&g, 8, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1);
    conv_problem p;
    problem_random(&p, 20, 24, &g, 77);
    nn_real *out[3], *dx[3], *dw[3], *db[3];
    for (int r = 0; r < 3; r++) {
        nn_parallel_set_threads(r + 1);
        out[r] = alloc_reals(p.no);
        dx[r] = calloc(p.nx, sizeof *dx[r]);
        dw[r] = calloc(p.nw, sizeof *dw[r]);
        db[r] = calloc((size_t)p.filters, sizeof *db[r]);
        nn_conv2d_forward(out[r], p.workspace, p.x, p.weight, p.bias, p.batch, p.filters, &g);
        nn_conv2d_backward(dx[r], dw[r], db[r], p.workspace, p.dout, p.x, p.weight, p.batch,
                           p.filters, &g);
    }
    nn_parallel_set_threads(0);
    for (int r = 1; r < 3; r++) {
        ck_assert_msg(memcmp(out[0], out[r], p.no * sizeof(nn_real)) == 0, "out, %d threads",
                      r + 1);
        ck_assert_msg(memcmp(dx[0], dx[r], p.nx * sizeof(nn_real)) == 0, "dx, %d threads", r + 1);
        ck_assert_msg(memcmp(dw[0], dw[r], p.nw * sizeof(nn_real)) == 0, "dW, %d threads", r + 1);
        ck_assert_msg(memcmp(db[0], db[r], (size_t)p.filters * sizeof(nn_real)) == 0,
                      "db, %d threads", r + 1);
    }
    for (int r = 0; r < 3; r++)
        free(out[r]), free(dx[r]), free(dw[r]), free(db[r]);
    problem_free(&p);
}
END_TEST

START_TEST(conv2d_workspace_holds_the_unrolled_batch)
{
    /* The promise in conv.h: room for im2col of the whole batch and one
     * (F, N*OH*OW) product, whatever the reference itself needs. */
    nn_conv_geometry g;
    geometry_or_fail(&g, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1);
    size_t pixels = 64 * 14 * 14;
    ck_assert_uint_ge(nn_conv2d_workspace_size(64, 64, &g), 32 * 9 * pixels + 64 * pixels);
    geometry_or_fail(&g, 3, 64, 64, 4, 4, 2, 2, 1, 1, 1, 1);
    pixels = 5 * 32 * 32;
    ck_assert_uint_ge(nn_conv2d_workspace_size(5, 50, &g), 3 * 16 * pixels + 50 * pixels);
}
END_TEST

/* ---- gradient checks of loss = sum(out * r) ---------------------------- */

typedef struct conv_loss_context {
    conv_problem *p;
    nn_real *out;
    const nn_real *r;
} conv_loss_context;

static double conv_loss(void *context)
{
    conv_loss_context *c = context;
    conv_problem *p = c->p;
    nn_conv2d_forward(c->out, p->workspace, p->x, p->weight, p->bias, p->batch, p->filters, &p->g);
    double loss = 0;
    for (size_t i = 0; i < p->no; i++)
        loss += (double)c->out[i] * c->r[i];
    return loss;
}

/* The default configuration, except in the float build, where a central
 * difference of a loss summed over hundreds of outputs carries rounding
 * noise near 1e-4 (FLT_EPSILON times the accumulated magnitude, over 2h):
 * entries below 1e-2 are then compared absolutely, to 2e-4. A wrong
 * gradient is off by far more. */
static nn_gradcheck_config conv_gradcheck_config(void)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    if (!NN_REAL_IS_DOUBLE)
        config.denominator_floor = 1e-2;
    return config;
}

static void assert_gradcheck(const char *name, nn_real *values, const nn_real *analytic,
                             size_t count, void *context, nn_rng *rng)
{
    nn_gradcheck_config config = conv_gradcheck_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, values, analytic, count, conv_loss, context, &config, rng,
                               &err)
                      == NN_OK,
                  "%s: %s", name, err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, name, NULL, &result, &config));
}

/* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw */
static const int gradcheck_table[][11] = {
    { 2, 7, 7, 3, 3, 2, 2, 0, 0, 1, 1 }, /* stride 2 */
    { 2, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1 }, /* padding */
    { 2, 8, 8, 3, 3, 1, 1, 1, 1, 2, 2 }, /* dilation 2 */
    { 3, 4, 5, 1, 1, 1, 1, 0, 0, 1, 1 }, /* 1x1 */
    { 2, 6, 7, 2, 3, 1, 2, 1, 0, 1, 1 }, /* non-square kernel and stride */
};

START_TEST(conv2d_gradients_pass_gradcheck)
{
    const int *t = gradcheck_table[_i];
    nn_conv_geometry g;
    geometry_or_fail(&g, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10]);
    conv_problem p;
    problem_random(&p, 2, 3, &g, 500 + (uint64_t)_i);
    nn_real *out = alloc_reals(p.no), *dx = calloc(p.nx, sizeof *dx);
    nn_real *dw = calloc(p.nw, sizeof *dw), *db = calloc(3, sizeof *db);
    /* d(sum(out * r))/dout = r: dout plays r */
    ck_assert_int_eq(nn_conv2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight, p.batch,
                                        p.filters, &g),
                     NN_OK);
    conv_loss_context context = { &p, out, p.dout };
    nn_rng rng;
    nn_rng_seed(&rng, 600 + (uint64_t)_i);
    assert_gradcheck("dx", p.x, dx, p.nx, &context, &rng);
    assert_gradcheck("dweight", p.weight, dw, p.nw, &context, &rng);
    assert_gradcheck("dbias", p.bias, db, 3, &context, &rng);
    free(out), free(dx), free(dw), free(db);
    problem_free(&p);
}
END_TEST

START_TEST(gradcheck_catches_a_kernel_gradient_with_swapped_taps)
{
    /* dW with its kernel rows and columns exchanged, W[f, c, j, i] for
     * W[f, c, i, j], has the right values in the wrong places: it must fail. */
    nn_conv_geometry g;
    geometry_or_fail(&g, 2, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1);
    conv_problem p;
    problem_random(&p, 2, 2, &g, 700);
    nn_real *out = alloc_reals(p.no), *dw = calloc(p.nw, sizeof *dw);
    nn_real *wrong = alloc_reals(p.nw);
    nn_conv2d_backward(NULL, dw, NULL, p.workspace, p.dout, p.x, p.weight, p.batch, p.filters, &g);
    for (size_t fc = 0; fc < p.nw / 9; fc++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                wrong[fc * 9 + (size_t)(i * 3 + j)] = dw[fc * 9 + (size_t)(j * 3 + i)];
    conv_loss_context context = { &p, out, p.dout };
    nn_rng rng;
    nn_rng_seed(&rng, 701);
    nn_gradcheck_config config = conv_gradcheck_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, p.weight, wrong, p.nw, conv_loss, &context, &config,
                                  &rng, NULL),
                     NN_OK);
    ck_assert(!result.passed);
    free(out), free(dw), free(wrong);
    problem_free(&p);
}
END_TEST

/* ---- the exam's shapes -------------------------------------------------- */

START_TEST(exam_2_6_five_by_five_stride_3_pad_2_maps_28_to_10)
{
    /* 6 filters of 5x5, stride 3, padding 2 on a 28-channel 28x28 map:
     * (28 + 4 - 5) / 3 + 1 = 10, so 6 x 10 x 10. Run it, too, and compare
     * one output with its defining sum. */
    nn_conv_geometry g;
    geometry_or_fail(&g, 28, 28, 28, 5, 5, 3, 3, 2, 2, 1, 1);
    ck_assert_int_eq(g.output_height, 10);
    ck_assert_int_eq(g.output_width, 10);
    conv_problem p;
    problem_random(&p, 1, 6, &g, 800);
    ck_assert_uint_eq(p.no, 6 * 10 * 10);
    nn_real *out = alloc_reals(p.no);
    ck_assert_int_eq(nn_conv2d_forward(out, p.workspace, p.x, p.weight, p.bias, 1, 6, &g), NN_OK);
    /* out[0, 5, 9, 0] reads rows 25..29 (the last two are padding) and
     * columns -2..2 */
    double sum = p.bias[5];
    for (int c = 0; c < 28; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) {
                int y = 9 * 3 - 2 + i, x = -2 + j;
                if (y < 28 && x >= 0)
                    sum += (double)p.weight[((5 * 28 + c) * 5 + i) * 5 + j]
                           * p.x[((size_t)c * 28 + (size_t)y) * 28 + (size_t)x];
            }
    ck_assert_real_near(out[(5 * 10 + 9) * 10 + 0], sum, TEST_TOLERANCE);
    free(out);
    problem_free(&p);
}
END_TEST

START_TEST(exam_2_7_three_channels_five_4x4_filters_have_245_parameters)
{
    ck_assert_uint_eq(nn_conv2d_parameter_count(3, 5, 4, 4, true), 245);
    ck_assert_uint_eq(nn_conv2d_parameter_count(3, 5, 4, 4, false), 240);
    ck_assert_uint_eq(nn_conv2d_parameter_count(1, 1, 1, 1, true), 2);
    ck_assert_uint_eq(nn_conv2d_parameter_count(32, 64, 3, 5, true), 64 * 32 * 15 + 64);
}
END_TEST

START_TEST(exam_3_stride_2_pad_1_kernel_4_halves_64_to_32)
{
    /* The segmentation network's convolutions: each halves the map. */
    nn_conv_geometry g;
    geometry_or_fail(&g, 3, 64, 64, 4, 4, 2, 2, 1, 1, 1, 1);
    ck_assert_int_eq(g.output_height, 32);
    ck_assert_int_eq(g.output_width, 32);
    geometry_or_fail(&g, 50, 32, 32, 4, 4, 2, 2, 1, 1, 1, 1);
    ck_assert_int_eq(g.output_height, 16);
    /* and the layer runs at that size: forward and backward against the
     * defining sums on the full 64x64 input */
    geometry_or_fail(&g, 3, 64, 64, 4, 4, 2, 2, 1, 1, 1, 1);
    conv_problem p;
    problem_random(&p, 1, 4, &g, 900);
    double *out = calloc(p.no, sizeof *out), *rdx = calloc(p.nx, sizeof *rdx);
    double *rdw = calloc(p.nw, sizeof *rdw), *rdb = calloc(4, sizeof *rdb);
    reference_conv(out, rdx, rdw, rdb, &p);
    nn_real *got = alloc_reals(p.no), *dx = calloc(p.nx, sizeof *dx);
    nn_real *dw = calloc(p.nw, sizeof *dw), *db = calloc(4, sizeof *db);
    nn_conv2d_forward(got, p.workspace, p.x, p.weight, p.bias, 1, 4, &g);
    nn_conv2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight, 1, 4, &g);
    assert_close_to(got, out, p.no, "out");
    assert_close_to(dx, rdx, p.nx, "dx");
    assert_close_to(dw, rdw, p.nw, "dweight");
    assert_close_to(db, rdb, 4, "dbias");
    free(out), free(rdx), free(rdw), free(rdb), free(got), free(dx), free(dw), free(db);
    problem_free(&p);
}
END_TEST

Suite *conv2d_suite(void);
Suite *conv2d_suite(void)
{
    Suite *suite = suite_create("conv2d");
    TCase *pytorch = tcase_create("pytorch");
    tcase_set_timeout(pytorch, 60);
    tcase_add_loop_test(pytorch, conv2d_forward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(pytorch, conv2d_backward_matches_pytorch_and_accumulates, 0,
                        FIXTURE_CASES);
    suite_add_tcase(suite, pytorch);
    TCase *sums = tcase_create("sums");
    tcase_set_timeout(sums, 60);
    tcase_add_loop_test(sums, conv2d_matches_the_defining_sums_for_many_shapes, 0,
                        (int)(sizeof sum_table / sizeof sum_table[0]));
    tcase_add_test(sums, conv2d_results_do_not_depend_on_the_thread_count);
    tcase_add_test(sums, conv2d_workspace_holds_the_unrolled_batch);
    suite_add_tcase(suite, sums);
    TCase *gradcheck = tcase_create("gradcheck");
    tcase_set_timeout(gradcheck, 60);
    tcase_add_loop_test(gradcheck, conv2d_gradients_pass_gradcheck, 0,
                        (int)(sizeof gradcheck_table / sizeof gradcheck_table[0]));
    tcase_add_test(gradcheck, gradcheck_catches_a_kernel_gradient_with_swapped_taps);
    suite_add_tcase(suite, gradcheck);
    TCase *shapes = tcase_create("shapes");
    tcase_set_timeout(shapes, 60);
    tcase_add_test(shapes, exam_2_6_five_by_five_stride_3_pad_2_maps_28_to_10);
    tcase_add_test(shapes, exam_2_7_three_channels_five_4x4_filters_have_245_parameters);
    tcase_add_test(shapes, exam_3_stride_2_pad_1_kernel_4_halves_64_to_32);
    suite_add_tcase(suite, shapes);
    return suite;
}
