/*
 * check_max_pool2d.c - max pooling: agreement with PyTorch's
 * F.max_pool2d(return_indices=True) on the fast 2x2 path and the general
 * one, a brute-force table of shapes, ties to the first maximum, padding
 * never selected, NaN propagation, backward routing (one input a window,
 * accumulation), gradient checks away from ties, the exam's shapes, and the
 * geometry's error messages.
 */
#include "nn/gradcheck.h"
#include "nn/pool.h"
#include "fixture.h"
#include "testutil.h"

#include <limits.h>

/* ---- helpers ------------------------------------------------------------ */

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

/* The definition, scanned without any cleverness: max over the window's
 * in-image positions, first maximum in row-major order. */
static void brute_force_max_pool(nn_real *out, int *argmax, const nn_real *x, int batch,
                                 const nn_pool_geometry *g)
{
    const int H = g->height, W = g->width;
    for (int p = 0; p < batch * g->channels; p++) {
        for (int i = 0; i < g->output_height; i++) {
            for (int j = 0; j < g->output_width; j++) {
                int best = -1;
                for (int ki = 0; ki < g->kernel_height; ki++) {
                    for (int kj = 0; kj < g->kernel_width; kj++) {
                        int h = i * g->stride_height - g->padding_height + ki;
                        int w = j * g->stride_width - g->padding_width + kj;
                        if (h < 0 || h >= H || w < 0 || w >= W)
                            continue;
                        if (best < 0 || x[p * H * W + h * W + w] > x[p * H * W + best])
                            best = h * W + w;
                    }
                }
                ck_assert_int_ge(best, 0);
                size_t o = ((size_t)p * g->output_height + i) * g->output_width + j;
                out[o] = x[p * H * W + best];
                argmax[o] = best;
            }
        }
    }
}

/* Values k * 0.1 for k = 0..count-1 in a random order, plus noise well
 * below the spacing: no ties, and any two values differ by far more than
 * the gradient check's step, so a perturbation never changes a window's
 * maximum. */
static void fill_distinct(nn_real *x, size_t count, nn_rng *rng)
{
    size_t *order = malloc(count * sizeof *order);
    ck_assert_ptr_nonnull(order);
    for (size_t i = 0; i < count; i++)
        order[i] = i;
    nn_rng_shuffle(rng, order, count);
    for (size_t i = 0; i < count; i++)
        x[i] = (nn_real)(0.1 * (double)order[i] - 0.05 * (double)count
                         + nn_rng_uniform_range(rng, -0.01, 0.01));
    free(order);
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
    c.out_size = (size_t)c.batch * c.g.channels * c.g.output_height * c.g.output_width;
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

START_TEST(max_pool2d_forward_matches_pytorch)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *out = malloc(c.out_size * sizeof *out);
    int *argmax = malloc(c.out_size * sizeof *argmax);
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, c.x, c.batch, &c.g), NN_OK);
    const fixture_tensor *want_out = get_named(c.file, "max_", fixture_cases[_i], "out");
    const fixture_tensor *want_index = get_named(c.file, "max_", fixture_cases[_i], "indices");
    ck_assert_uint_eq(want_out->size, c.out_size);
    /* A maximum is one of the inputs, copied: no rounding in either build. */
    fixture_assert_close(out, want_out, 0);
    for (size_t i = 0; i < c.out_size; i++)
        ck_assert_msg(argmax[i] == (int)want_index->values[i],
                      "case %s: argmax[%zu] = %d, PyTorch says %d", fixture_cases[_i], i,
                      argmax[i], (int)want_index->values[i]);
    free(out), free(argmax);
    pool_case_free(&c);
}
END_TEST

START_TEST(max_pool2d_backward_matches_pytorch)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *out = malloc(c.out_size * sizeof *out);
    int *argmax = malloc(c.out_size * sizeof *argmax);
    nn_real *dx = calloc(c.in_size, sizeof *dx);
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, c.x, c.batch, &c.g), NN_OK);
    ck_assert_int_eq(nn_max_pool2d_backward(dx, c.dout, argmax, c.batch, &c.g), NN_OK);
    fixture_assert_close(dx, get_named(c.file, "max_", fixture_cases[_i], "dx"),
                         TEST_TOLERANCE);
    free(out), free(argmax), free(dx);
    pool_case_free(&c);
}
END_TEST

START_TEST(max_pool2d_backward_accumulates_into_dx)
{
    pool_case c = pool_case_load(fixture_cases[_i]);
    nn_real *out = malloc(c.out_size * sizeof *out);
    int *argmax = malloc(c.out_size * sizeof *argmax);
    nn_real *dx = malloc(c.in_size * sizeof *dx);
    for (size_t i = 0; i < c.in_size; i++)
        dx[i] = (nn_real)(0.5 - 0.25 * (double)(i % 7));
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, c.x, c.batch, &c.g), NN_OK);
    ck_assert_int_eq(nn_max_pool2d_backward(dx, c.dout, argmax, c.batch, &c.g), NN_OK);
    const fixture_tensor *want = get_named(c.file, "max_", fixture_cases[_i], "dx");
    for (size_t i = 0; i < c.in_size; i++)
        ck_assert_real_near(dx[i], 0.5 - 0.25 * (double)(i % 7) + want->values[i],
                            TEST_TOLERANCE);
    free(out), free(argmax), free(dx);
    pool_case_free(&c);
}
END_TEST

/* ---- a table of shapes against the definition --------------------------- */

static const int shape_table[][9] = {
    /* C, H, W, KH, KW, SH, SW, PH, PW */
    { 3, 8, 8, 2, 2, 2, 2, 0, 0 },   /* fast path, even */
    { 2, 9, 7, 2, 2, 2, 2, 0, 0 },   /* fast path, odd: last row/column unused */
    { 1, 2, 2, 2, 2, 2, 2, 0, 0 },   /* one window */
    { 2, 1, 6, 1, 2, 1, 2, 0, 0 },   /* a single row */
    { 2, 7, 7, 3, 3, 1, 1, 1, 1 },   /* same-size output, overlapping */
    { 2, 6, 10, 3, 2, 2, 3, 1, 1 },  /* rectangular everything */
    { 1, 5, 5, 5, 5, 1, 1, 2, 2 },   /* kernel the size of the input, padded */
    { 2, 4, 6, 2, 2, 1, 1, 0, 0 },   /* 2x2 with stride 1: general path */
    { 1, 3, 3, 4, 4, 2, 2, 2, 2 },   /* kernel larger than the image itself */
};
enum { SHAPES = sizeof shape_table / sizeof shape_table[0] };

START_TEST(max_pool2d_matches_the_definition_for_many_shapes)
{
    const int *s = shape_table[_i];
    const int batch = 2;
    nn_pool_geometry g = make_geometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]);
    size_t nx = (size_t)batch * g.channels * g.height * g.width;
    size_t no = (size_t)batch * g.channels * g.output_height * g.output_width;
    nn_real *x = malloc(nx * sizeof *x), *out = malloc(no * sizeof *out);
    nn_real *want = malloc(no * sizeof *want);
    int *argmax = malloc(no * sizeof *argmax), *want_index = malloc(no * sizeof *want_index);
    nn_rng rng;
    nn_rng_seed(&rng, 300 + (uint64_t)_i);
    fill_distinct(x, nx, &rng);

    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, x, batch, &g), NN_OK);
    brute_force_max_pool(want, want_index, x, batch, &g);
    for (size_t i = 0; i < no; i++) {
        ck_assert_int_eq(argmax[i], want_index[i]);
        ck_assert(out[i] == want[i]);
    }
    free(x), free(out), free(want), free(argmax), free(want_index);
}
END_TEST

/* ---- ties, padding, NaN -------------------------------------------------- */

/* One 2x2 window, scan order a, b / c, d, and the index that must win. */
static const struct {
    double a, b, c, d;
    int expected;
} tie_table[] = {
    { 1, 1, 1, 1, 0 },  /* all equal: the first */
    { 0, 2, 2, 0, 1 },  /* b and c tie: b comes first (top row) */
    { 0, 1, 2, 2, 2 },  /* c and d tie: c */
    { 2, 0, 0, 2, 0 },  /* a and d tie: a */
    { 0, 3, 0, 3, 1 },  /* b and d tie: b */
    { -1, -1, 0, -1, 2 },
};

START_TEST(max_pool2d_ties_go_to_the_first_maximum_in_scan_order)
{
    const nn_real x[4] = { (nn_real)tie_table[_i].a, (nn_real)tie_table[_i].b,
                           (nn_real)tie_table[_i].c, (nn_real)tie_table[_i].d };
    /* The same single window through the 2x2 stride-2 fast path and, with
     * stride 1, through the general loop. */
    nn_pool_geometry fast = make_geometry(1, 2, 2, 2, 2, 2, 2, 0, 0);
    nn_pool_geometry general = make_geometry(1, 2, 2, 2, 2, 1, 1, 0, 0);
    nn_real out;
    int argmax = -1;
    ck_assert_int_eq(nn_max_pool2d_forward(&out, &argmax, x, 1, &fast), NN_OK);
    ck_assert_int_eq(argmax, tie_table[_i].expected);
    ck_assert(out == x[tie_table[_i].expected]);
    argmax = -1;
    ck_assert_int_eq(nn_max_pool2d_forward(&out, &argmax, x, 1, &general), NN_OK);
    ck_assert_int_eq(argmax, tie_table[_i].expected);
    ck_assert(out == x[tie_table[_i].expected]);
}
END_TEST

START_TEST(max_pool2d_never_selects_padding)
{
    /* Every input negative: a zero padding would win at the borders. */
    enum { H = 5, W = 6 };
    nn_pool_geometry g = make_geometry(1, H, W, 3, 3, 2, 2, 1, 1);
    nn_real x[H * W];
    for (int i = 0; i < H * W; i++)
        x[i] = (nn_real)(-1.0 - 0.1 * i);
    nn_real out[3 * 3];
    int argmax[3 * 3];
    ck_assert_int_eq(g.output_height, 3);
    ck_assert_int_eq(g.output_width, 3);
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, x, 1, &g), NN_OK);
    for (int i = 0; i < 9; i++) {
        ck_assert_int_ge(argmax[i], 0);
        ck_assert_int_lt(argmax[i], H * W);
        ck_assert(out[i] < 0);
        ck_assert(out[i] == x[argmax[i]]);
    }
    /* The top-left window covers rows 0-1, columns 0-1 of the image; its
     * largest value is x[0] = -1. */
    ck_assert_int_eq(argmax[0], 0);
}
END_TEST

START_TEST(max_pool2d_propagates_nan)
{
    /* A NaN anywhere in a window comes out, in either code path, even when
     * the window also holds larger numbers. */
    for (int position = 0; position < 4; position++) {
        nn_real x[4] = { 1, 5, 2, 3 };
        x[position] = (nn_real)NAN;
        nn_pool_geometry fast = make_geometry(1, 2, 2, 2, 2, 2, 2, 0, 0);
        nn_pool_geometry general = make_geometry(1, 2, 2, 2, 2, 1, 1, 0, 0);
        nn_real out = 0;
        int argmax = -1;
        ck_assert_int_eq(nn_max_pool2d_forward(&out, &argmax, x, 1, &fast), NN_OK);
        ck_assert_msg(isnan(out), "fast path, NaN at %d: got %g", position, (double)out);
        ck_assert_int_eq(argmax, position);
        ck_assert_int_eq(nn_max_pool2d_forward(&out, &argmax, x, 1, &general), NN_OK);
        ck_assert_msg(isnan(out), "general path, NaN at %d: got %g", position, (double)out);
        ck_assert_int_eq(argmax, position);
    }
}
END_TEST

/* ---- backward routing ---------------------------------------------------- */

START_TEST(max_pool2d_backward_routes_each_gradient_to_exactly_one_input_per_window)
{
    enum { N = 2, C = 3, H = 8, W = 6 };
    nn_pool_geometry g = make_geometry(C, H, W, 2, 2, 2, 2, 0, 0);
    const int OH = g.output_height, OW = g.output_width;
    nn_real x[N * C * H * W], dx[N * C * H * W] = { 0 };
    nn_real out[N * C * 4 * 3], dout[N * C * 4 * 3];
    int argmax[N * C * 4 * 3];
    ck_assert_int_eq(OH * OW, 4 * 3);
    nn_rng rng;
    nn_rng_seed(&rng, 41);
    fill_distinct(x, N * C * H * W, &rng);
    for (int i = 0; i < N * C * OH * OW; i++)
        dout[i] = (nn_real)(i + 1); /* distinct, so a misrouted value shows */
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, x, N, &g), NN_OK);
    ck_assert_int_eq(nn_max_pool2d_backward(dx, dout, argmax, N, &g), NN_OK);

    for (int p = 0; p < N * C; p++) {
        for (int i = 0; i < OH; i++) {
            for (int j = 0; j < OW; j++) {
                /* The window's own maximum, found here independently. */
                int best = -1, nonzero = 0;
                for (int h = 2 * i; h < 2 * i + 2; h++)
                    for (int w = 2 * j; w < 2 * j + 2; w++) {
                        const int at = p * H * W + h * W + w;
                        if (best < 0 || x[at] > x[best])
                            best = at;
                        nonzero += dx[at] != 0;
                    }
                ck_assert_int_eq(nonzero, 1);
                ck_assert(dx[best] == dout[(p * OH + i) * OW + j]);
            }
        }
    }
}
END_TEST

START_TEST(max_pool2d_overlapping_windows_add_their_gradients)
{
    /* Stride 1, kernel 2 on a 1x3 row whose middle value is the largest:
     * both windows select it, so it receives both gradients. */
    nn_pool_geometry g = make_geometry(1, 1, 3, 1, 2, 1, 1, 0, 0);
    const nn_real x[3] = { 1, 9, 2 }, dout[2] = { 0.25, 0.5 };
    nn_real out[2], dx[3] = { 0 };
    int argmax[2];
    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, x, 1, &g), NN_OK);
    ck_assert_int_eq(argmax[0], 1);
    ck_assert_int_eq(argmax[1], 1);
    ck_assert_int_eq(nn_max_pool2d_backward(dx, dout, argmax, 1, &g), NN_OK);
    ck_assert(dx[0] == 0 && dx[2] == 0);
    ck_assert_real_near(dx[1], 0.75, TEST_TOLERANCE);
}
END_TEST

/* ---- gradient check away from ties -------------------------------------- */

typedef struct max_pool_problem {
    const nn_pool_geometry *g;
    int batch;
    size_t out_size;
    nn_real *x, *r, *out;
    int *argmax;
} max_pool_problem;

static double max_pool_loss(void *context)
{
    max_pool_problem *p = context;
    nn_max_pool2d_forward(p->out, p->argmax, p->x, p->batch, p->g);
    double loss = 0;
    for (size_t i = 0; i < p->out_size; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

static const int gradcheck_table[][9] = {
    { 2, 6, 6, 2, 2, 2, 2, 0, 0 },
    { 2, 7, 5, 3, 3, 2, 2, 1, 1 },
    { 1, 5, 6, 3, 2, 1, 1, 1, 1 },
};
enum { GRADCHECKS = sizeof gradcheck_table / sizeof gradcheck_table[0] };

START_TEST(max_pool2d_passes_gradcheck_away_from_ties)
{
    const int *s = gradcheck_table[_i];
    const int batch = 2;
    nn_pool_geometry g = make_geometry(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]);
    size_t nx = (size_t)batch * g.channels * g.height * g.width;
    size_t no = (size_t)batch * g.channels * g.output_height * g.output_width;
    nn_real *x = malloc(nx * sizeof *x), *dx = calloc(nx, sizeof *dx);
    nn_real *r = malloc(no * sizeof *r), *out = malloc(no * sizeof *out);
    int *argmax = malloc(no * sizeof *argmax);
    nn_rng rng;
    nn_rng_seed(&rng, 500 + (uint64_t)_i);
    fill_distinct(x, nx, &rng);
    test_fill_uniform(r, no, &rng, -1, 1);
    max_pool_problem p = { &g, batch, no, x, r, out, argmax };

    ck_assert_int_eq(nn_max_pool2d_forward(out, argmax, x, batch, &g), NN_OK);
    ck_assert_int_eq(nn_max_pool2d_backward(dx, r, argmax, batch, &g), NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0; /* every input, including the unselected ones */
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, nx, max_pool_loss, &p, &config, &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
    free(x), free(dx), free(r), free(out), free(argmax);
}
END_TEST

START_TEST(gradcheck_catches_gradient_sent_to_the_window_corner)
{
    /* A backward that always credits the window's top-left input (what a
     * forgotten argmax would do) must fail the same check. */
    enum { N = 1, C = 2, H = 6, W = 6 };
    nn_pool_geometry g = make_geometry(C, H, W, 2, 2, 2, 2, 0, 0);
    nn_real x[N * C * H * W], wrong[N * C * H * W] = { 0 };
    nn_real r[N * C * 9], out[N * C * 9];
    int argmax[N * C * 9], corner[N * C * 9];
    nn_rng rng;
    nn_rng_seed(&rng, 77);
    fill_distinct(x, N * C * H * W, &rng);
    test_fill_uniform(r, N * C * 9, &rng, -1, 1);
    for (int p = 0; p < N * C; p++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                corner[(p * 3 + i) * 3 + j] = 2 * i * W + 2 * j;
    ck_assert_int_eq(nn_max_pool2d_backward(wrong, r, corner, N, &g), NN_OK);
    max_pool_problem p = { &g, N, N * C * 9, x, r, out, argmax };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 0;
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, wrong, N * C * H * W, max_pool_loss, &p, &config,
                                  &rng, NULL),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

/* ---- shapes and geometry ------------------------------------------------- */

START_TEST(exam_max_pool_k2_s2_halves_32x32_to_16x16)
{
    /* Exam problem 3: conv1 gives 50 x 32 x 32; max pooling with kernel 2,
     * stride 2, padding 0 gives 50 x 16 x 16, and once more 8 x 8. */
    nn_pool_geometry g = make_geometry(50, 32, 32, 2, 2, 2, 2, 0, 0);
    ck_assert_int_eq(g.output_height, 16);
    ck_assert_int_eq(g.output_width, 16);
    g = make_geometry(50, 16, 16, 2, 2, 2, 2, 0, 0);
    ck_assert_int_eq(g.output_height, 8);
    ck_assert_int_eq(g.output_width, 8);
    /* Odd sizes round down: the last row and column fall out. */
    g = make_geometry(1, 7, 9, 2, 2, 2, 2, 0, 0);
    ck_assert_int_eq(g.output_height, 3);
    ck_assert_int_eq(g.output_width, 4);
    /* floor((28 + 2 - 3) / 2) + 1 = 14 */
    g = make_geometry(1, 28, 28, 3, 3, 2, 2, 1, 1);
    ck_assert_int_eq(g.output_height, 14);
}
END_TEST

typedef struct bad_geometry {
    int c, h, w, kh, kw, sh, sw, ph, pw;
    nn_status status;
    const char *message_part;
} bad_geometry;

static const bad_geometry bad_geometry_table[] = {
    { 1, 3, 3, 5, 5, 1, 1, 0, 0, NN_ERR_SHAPE, "larger than the input 3x3" },
    { 1, 3, 4, 2, 6, 1, 1, 0, 0, NN_ERR_SHAPE, "kernel 2x6 is larger" },
    { 1, 8, 8, 3, 3, 1, 1, 2, 2, NN_ERR_ARGUMENT, "more than half the kernel" },
    { 1, 8, 8, 2, 2, 2, 2, 0, 2, NN_ERR_ARGUMENT, "at most 1x1" },
    { 1, 8, 8, 1, 1, 1, 1, 1, 0, NN_ERR_ARGUMENT, "more than half" },
    { 1, 8, 8, 2, 2, 0, 2, 0, 0, NN_ERR_ARGUMENT, "stride must be at least 1" },
    { 1, 8, 8, 0, 2, 1, 1, 0, 0, NN_ERR_ARGUMENT, "kernel and stride" },
    { 1, 8, 8, 2, 2, 1, 1, -1, 0, NN_ERR_ARGUMENT, "padding at least 0" },
    { 0, 8, 8, 2, 2, 2, 2, 0, 0, NN_ERR_SHAPE, "empty dimension" },
    { 1, 8, 0, 2, 2, 2, 2, 0, 0, NN_ERR_SHAPE, "(1, 8, 0)" },
    { 1, 65536, 65536, 2, 2, 2, 2, 0, 0, NN_ERR_SHAPE, "int index" },
};

START_TEST(pool_geometry_rejects_bad_windows_and_says_why)
{
    const bad_geometry *b = &bad_geometry_table[_i];
    nn_pool_geometry g;
    nn_error err = { 0 };
    nn_status status = nn_pool_geometry_init(&g, b->c, b->h, b->w, b->kh, b->kw, b->sh, b->sw,
                                             b->ph, b->pw, &err);
    ck_assert_int_eq(status, b->status);
    ck_assert_int_eq(err.status, b->status);
    ck_assert_msg(strstr(err.message, b->message_part) != NULL,
                  "message \"%s\" does not mention \"%s\"", err.message, b->message_part);
}
END_TEST

START_TEST(pool_geometry_accepts_the_limits_of_each_rule)
{
    nn_pool_geometry g;
    /* Kernel exactly the padded input; padding exactly half the kernel. */
    ck_assert_int_eq(nn_pool_geometry_init(&g, 1, 3, 3, 5, 5, 1, 1, 1, 1, NULL), NN_OK);
    ck_assert_int_eq(g.output_height, 1);
    ck_assert_int_eq(nn_pool_geometry_init(&g, 1, 4, 4, 3, 3, 1, 1, 1, 1, NULL), NN_OK);
    ck_assert_int_eq(g.output_height, 4);
    /* A NULL error record is allowed when the call fails. */
    ck_assert_int_eq(nn_pool_geometry_init(&g, 1, 2, 2, 3, 3, 1, 1, 0, 0, NULL), NN_ERR_SHAPE);
}
END_TEST

Suite *max_pool2d_suite(void);
Suite *max_pool2d_suite(void)
{
    Suite *suite = suite_create("max_pool2d");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, max_pool2d_forward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, max_pool2d_backward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, max_pool2d_backward_accumulates_into_dx, 0, FIXTURE_CASES);
    tcase_add_loop_test(tc, max_pool2d_matches_the_definition_for_many_shapes, 0, SHAPES);
    tcase_add_loop_test(tc, max_pool2d_ties_go_to_the_first_maximum_in_scan_order, 0,
                        (int)(sizeof tie_table / sizeof tie_table[0]));
    tcase_add_test(tc, max_pool2d_never_selects_padding);
    tcase_add_test(tc, max_pool2d_propagates_nan);
    tcase_add_test(tc, max_pool2d_backward_routes_each_gradient_to_exactly_one_input_per_window);
    tcase_add_test(tc, max_pool2d_overlapping_windows_add_their_gradients);
    tcase_add_loop_test(tc, max_pool2d_passes_gradcheck_away_from_ties, 0, GRADCHECKS);
    tcase_add_test(tc, gradcheck_catches_gradient_sent_to_the_window_corner);
    tcase_add_test(tc, exam_max_pool_k2_s2_halves_32x32_to_16x16);
    tcase_add_loop_test(tc, pool_geometry_rejects_bad_windows_and_says_why, 0,
                        (int)(sizeof bad_geometry_table / sizeof bad_geometry_table[0]));
    tcase_add_test(tc, pool_geometry_accepts_the_limits_of_each_rule);
    suite_add_tcase(suite, tc);
    return suite;
}
