/*
 * check_conv_transpose2d.c - the transposed convolution layer: its output
 * size and the shapes it inverts, agreement with PyTorch on a table of cases
 * (fixtures/make_conv.py), the defining scatter sums, the adjoint identity
 * with conv2d, gradient checks and accumulation.
 */
#include "nn/conv.h"
#include "nn/gradcheck.h"
#include "fixture.h"
#include "testutil.h"

typedef struct transpose_problem {
    int batch, filters;
    nn_conv_transpose_geometry g;
    size_t nx, nw, no;
    nn_real *x, *weight, *bias, *dout, *workspace;
} transpose_problem;

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

static void problem_init(transpose_problem *p, int batch, int filters,
                         const nn_conv_transpose_geometry *g)
{
    p->batch = batch;
    p->filters = filters;
    p->g = *g;
    p->nx = (size_t)batch * g->channels * g->height * g->width;
    p->nw = (size_t)g->channels * filters * g->kernel_height * g->kernel_width;
    p->no = (size_t)batch * filters * g->output_height * g->output_width;
    p->x = alloc_reals(p->nx);
    p->weight = alloc_reals(p->nw);
    p->bias = alloc_reals((size_t)filters);
    p->dout = alloc_reals(p->no);
    size_t ws = nn_conv_transpose2d_workspace_size(batch, filters, g);
    p->workspace = alloc_reals(ws);
    fill_nan(p->workspace, ws);
}

static void problem_random(transpose_problem *p, int batch, int filters,
                           const nn_conv_transpose_geometry *g, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    problem_init(p, batch, filters, g);
    test_fill_uniform(p->x, p->nx, &rng, -1, 1);
    test_fill_uniform(p->weight, p->nw, &rng, -1, 1);
    test_fill_uniform(p->bias, (size_t)filters, &rng, -1, 1);
    test_fill_uniform(p->dout, p->no, &rng, -1, 1);
}

static void problem_free(transpose_problem *p)
{
    free(p->x), free(p->weight), free(p->bias), free(p->dout), free(p->workspace);
}

/* t: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oph, opw */
static void geometry_or_fail(nn_conv_transpose_geometry *g, const int *t)
{
    nn_error err = { 0 };
    ck_assert_msg(nn_conv_transpose_geometry_init(g, t[0], t[1], t[2], t[3], t[4], t[5], t[6],
                                                  t[7], t[8], t[9], t[10], t[11], t[12], &err)
                      == NN_OK,
                  "%s", err.message);
}

/* ---- geometry ------------------------------------------------------------ */

START_TEST(transpose_geometry_follows_the_output_size_formula)
{
    /* OH = (H - 1) s - 2 p + d (k - 1) + output_padding + 1, per axis */
    static const struct {
        int t[13], oh, ow;
    } table[] = {
        { { 2, 32, 32, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0 }, 64, 64 },   /* exam 3: 32 -> 64 */
        { { 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 }, 5, 5 },       /* "same" */
        { { 2, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, 0, 0 }, 7, 7 },
        { { 1, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 }, 8, 10 },
        { { 1, 3, 4, 2, 2, 3, 3, 0, 0, 1, 1, 2, 1 }, 10, 12 },
        { { 1, 5, 5, 3, 3, 1, 1, 1, 1, 2, 2, 0, 0 }, 7, 7 },
        { { 1, 4, 6, 2, 3, 1, 2, 0, 1, 2, 1, 0, 1 }, 6, 12 },
        { { 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0 }, 1, 1 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        nn_conv_transpose_geometry g;
        geometry_or_fail(&g, table[i].t);
        ck_assert_msg(g.output_height == table[i].oh && g.output_width == table[i].ow,
                      "case %zu: output %dx%d, expected %dx%d", i, g.output_height,
                      g.output_width, table[i].oh, table[i].ow);
    }
}
END_TEST

START_TEST(transpose_inverts_the_shape_of_a_strided_convolution)
{
    /* For every input size a convolution accepts, the transposed
     * convolution with the same settings, and output_padding choosing among
     * the sizes that map to the same output, takes the output size back. */
    for (int k = 1; k <= 5; k++)
        for (int s = 1; s <= 3; s++)
            for (int pad = 0; pad <= 2; pad++)
                for (int d = 1; d <= 2; d++)
                    for (int h = 1; h <= 20; h++) {
                        nn_conv_geometry conv;
                        if (nn_conv_geometry_init(&conv, 1, h, h, k, k, s, s, pad, pad, d, d, NULL)
                            != NN_OK)
                            continue;
                        int op = (h + 2 * pad - d * (k - 1) - 1) % s;
                        nn_conv_transpose_geometry g;
                        int t[13] = { 1, conv.output_height, conv.output_width, k, k, s, s,
                                      pad, pad, d, d, op, op };
                        geometry_or_fail(&g, t);
                        ck_assert_msg(g.output_height == h && g.output_width == h,
                                      "k%d s%d p%d d%d: %d -> %d -> %d", k, s, pad, d, h,
                                      conv.output_height, g.output_height);
                    }
}
END_TEST

START_TEST(transpose_geometry_refuses_bad_settings)
{
    nn_conv_transpose_geometry g;
    nn_error err = { 0 };
    /* output padding must be below the stride */
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 4, 4, 3, 3, 2, 2, 0, 0, 1, 1, 2, 0,
                                                     &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "output padding"));
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 0, -1,
                                                     &err),
                     NN_ERR_ARGUMENT);
    /* stride, kernel, dilation at least 1; padding at least 0 */
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 4, 4, 0, 3, 1, 1, 0, 0, 1, 1, 0, 0,
                                                     &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 4, 4, 3, 3, 1, 0, 0, 0, 1, 1, 0, 0,
                                                     &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 4, 4, 3, 3, 1, 1, -1, 0, 1, 1, 0, 0,
                                                     &err),
                     NN_ERR_ARGUMENT);
    /* empty input or output */
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 0, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 0, 0,
                                                     &err),
                     NN_ERR_SHAPE);
    /* (1 - 1) 1 - 2 + 0 + 1 = -1 rows */
    ck_assert_int_eq(nn_conv_transpose_geometry_init(&g, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                                     &err),
                     NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "1x1"));
}
END_TEST

START_TEST(transpose_adjoint_is_the_matching_convolution)
{
    nn_conv_transpose_geometry g;
    int t[13] = { 5, 8, 7, 4, 3, 2, 1, 1, 0, 1, 2, 1, 0 };
    geometry_or_fail(&g, t);
    nn_conv_geometry a = nn_conv_transpose_adjoint(&g, 3);
    ck_assert_int_eq(a.channels, 3);
    ck_assert_int_eq(a.height, g.output_height);
    ck_assert_int_eq(a.width, g.output_width);
    /* and it really is a convolution geometry that maps back to (H, W) */
    nn_conv_geometry check;
    ck_assert_int_eq(nn_conv_geometry_init(&check, a.channels, a.height, a.width, a.kernel_height,
                                           a.kernel_width, a.stride_height, a.stride_width,
                                           a.padding_height, a.padding_width, a.dilation_height,
                                           a.dilation_width, NULL),
                     NN_OK);
    ck_assert_int_eq(check.output_height, 8);
    ck_assert_int_eq(check.output_width, 7);
    ck_assert_int_eq(a.output_height, 8);
    ck_assert_int_eq(a.output_width, 7);
}
END_TEST

/* ---- agreement with PyTorch -------------------------------------------- */

static const char *const fixture_cases[] = {
    "basic", "double", "outpad", "stride3", "dilation2", "nonsquare", "pointwise", "wide",
};
enum { FIXTURE_CASES = sizeof fixture_cases / sizeof fixture_cases[0] };

/* fixtures/conv_transpose2d/CASE.txt */
static fixture_file *load_fixture(const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "conv_transpose2d/%s", name);
    return fixture_load(path);
}

static void copy_sized(nn_real *dest, size_t count, const fixture_tensor *tensor)
{
    ck_assert_msg(tensor->size == count, "fixture %s has %zu values, expected %zu", tensor->name,
                  tensor->size, count);
    fixture_copy(dest, tensor);
}

static void load_case(transpose_problem *p, const fixture_file *file, const char *name)
{
    const fixture_tensor *s = fixture_get(file, "geometry");
    ck_assert_uint_eq(s->size, 15);
    int v[15];
    for (int i = 0; i < 15; i++)
        v[i] = (int)s->values[i];
    int t[13] = { v[1], v[2], v[3], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                  v[14] };
    nn_conv_transpose_geometry g;
    geometry_or_fail(&g, t);
    const fixture_tensor *out = fixture_get(file, "out");
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

START_TEST(transpose_forward_matches_pytorch)
{
    fixture_file *file = load_fixture(fixture_cases[_i]);
    transpose_problem p;
    load_case(&p, file, fixture_cases[_i]);
    nn_real *out = alloc_reals(p.no);
    fill_nan(out, p.no);
    ck_assert_int_eq(nn_conv_transpose2d_forward(out, p.workspace, p.x, p.weight, p.bias, p.batch,
                                                 p.filters, &p.g),
                     NN_OK);
    fixture_assert_close(out, fixture_get(file, "out"), TEST_TOLERANCE);
    /* without a bias: PyTorch's output less the bias */
    fill_nan(out, p.no);
    ck_assert_int_eq(nn_conv_transpose2d_forward(out, p.workspace, p.x, p.weight, NULL, p.batch,
                                                 p.filters, &p.g),
                     NN_OK);
    const fixture_tensor *want = fixture_get(file, "out");
    size_t plane = (size_t)p.g.output_height * p.g.output_width;
    for (size_t i = 0; i < p.no; i++)
        ck_assert_real_near(out[i], want->values[i] - p.bias[i / plane % (size_t)p.filters],
                            TEST_TOLERANCE);
    free(out);
    problem_free(&p);
    fixture_free(file);
}
END_TEST

START_TEST(transpose_backward_matches_pytorch_and_accumulates)
{
    fixture_file *file = load_fixture(fixture_cases[_i]);
    transpose_problem p;
    load_case(&p, file, fixture_cases[_i]);
    const fixture_tensor *want_dx = fixture_get(file, "dx");
    const fixture_tensor *want_dw = fixture_get(file, "dweight");
    const fixture_tensor *want_db = fixture_get(file, "dbias");
    nn_real *dx = calloc(p.nx, sizeof *dx), *dw = calloc(p.nw, sizeof *dw);
    nn_real *db = calloc((size_t)p.filters, sizeof *db);
    ck_assert_int_eq(nn_conv_transpose2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight,
                                                  p.batch, p.filters, &p.g),
                     NN_OK);
    fixture_assert_close(dx, want_dx, TEST_TOLERANCE);
    fixture_assert_close(dw, want_dw, TEST_TOLERANCE);
    fixture_assert_close(db, want_db, TEST_TOLERANCE);
    /* one gradient a call, the others NULL: each must add its own */
    ck_assert_int_eq(nn_conv_transpose2d_backward(dx, NULL, NULL, p.workspace, p.dout, p.x,
                                                  p.weight, p.batch, p.filters, &p.g),
                     NN_OK);
    ck_assert_int_eq(nn_conv_transpose2d_backward(NULL, dw, NULL, p.workspace, p.dout, p.x,
                                                  p.weight, p.batch, p.filters, &p.g),
                     NN_OK);
    ck_assert_int_eq(nn_conv_transpose2d_backward(NULL, NULL, db, p.workspace, p.dout, p.x,
                                                  p.weight, p.batch, p.filters, &p.g),
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

/* ---- the defining scatter sums ----------------------------------------- */

/* Every input pixel x[n, c, y, x] adds W[c, f, i, j] x to out[n, f, y s - p
 * + i d, x s - p + j d] when that lies in the output; the gradients follow
 * the same pairs. In double; dx, dW, db accumulated. */
static void reference_transpose(double *out, double *dx, double *dw, double *db,
                                const transpose_problem *p)
{
    const nn_conv_transpose_geometry *g = &p->g;
    const int oh_n = g->output_height, ow_n = g->output_width;
    const size_t plane = (size_t)oh_n * ow_n;
    for (size_t i = 0; i < p->no; i++) {
        out[i] = p->bias[i / plane % (size_t)p->filters];
        db[i / plane % (size_t)p->filters] += p->dout[i];
    }
    for (int n = 0; n < p->batch; n++)
        for (int c = 0; c < g->channels; c++)
            for (int y = 0; y < g->height; y++)
                for (int x = 0; x < g->width; x++) {
                    size_t xi = (((size_t)n * g->channels + c) * g->height + y) * g->width + x;
                    for (int f = 0; f < p->filters; f++)
                        for (int i = 0; i < g->kernel_height; i++)
                            for (int j = 0; j < g->kernel_width; j++) {
                                int oy = y * g->stride_height - g->padding_height
                                         + i * g->dilation_height;
                                int ox = x * g->stride_width - g->padding_width
                                         + j * g->dilation_width;
                                if (oy < 0 || oy >= oh_n || ox < 0 || ox >= ow_n)
                                    continue;
                                size_t oi = (((size_t)n * p->filters + f) * oh_n + oy) * ow_n + ox;
                                size_t wi = (((size_t)c * p->filters + f) * g->kernel_height + i)
                                                * g->kernel_width + j;
                                out[oi] += (double)p->weight[wi] * p->x[xi];
                                dx[xi] += (double)p->weight[wi] * p->dout[oi];
                                dw[wi] += (double)p->x[xi] * p->dout[oi];
                            }
                }
}

static void assert_close_to(const nn_real *got, const double *want, size_t count,
                            const char *what)
{
    for (size_t i = 0; i < count; i++) {
        double scale = fmax(1.0, fabs(want[i]));
        ck_assert_msg(fabs((double)got[i] - want[i]) <= TEST_TOLERANCE * scale,
                      "%s[%zu] = %.12g, expected %.12g", what, i, (double)got[i], want[i]);
    }
}

/* batch, F, then C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oph, opw */
static const int sum_table[][15] = {
    { 2, 20, 17, 6, 6, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0 },  /* exam 3 decoder, wide */
    { 11, 3, 2, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0 },   /* more than one image group */
    { 2, 4, 3, 5, 4, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2 },    /* stride above the kernel */
    { 1, 5, 4, 4, 4, 3, 2, 2, 3, 2, 1, 2, 3, 1, 2 },
    { 3, 33, 9, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 },
    { 2, 12, 10, 4, 5, 3, 3, 1, 1, 0, 2, 1, 1, 0, 0 },  /* 3x3 stride 1: Winograd */
};

START_TEST(transpose_matches_the_defining_sums_for_many_shapes)
{
    const int *t = sum_table[_i];
    nn_conv_transpose_geometry g;
    geometry_or_fail(&g, t + 2);
    transpose_problem p;
    problem_random(&p, t[0], t[1], &g, 40 + (uint64_t)_i);
    double *out = calloc(p.no, sizeof *out), *rdx = calloc(p.nx, sizeof *rdx);
    double *rdw = calloc(p.nw, sizeof *rdw), *rdb = calloc((size_t)p.filters, sizeof *rdb);
    reference_transpose(out, rdx, rdw, rdb, &p);
    nn_real *got = alloc_reals(p.no), *dx = calloc(p.nx, sizeof *dx);
    nn_real *dw = calloc(p.nw, sizeof *dw), *db = calloc((size_t)p.filters, sizeof *db);
    ck_assert_int_eq(nn_conv_transpose2d_forward(got, p.workspace, p.x, p.weight, p.bias, p.batch,
                                                 p.filters, &g),
                     NN_OK);
    ck_assert_int_eq(nn_conv_transpose2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight,
                                                  p.batch, p.filters, &g),
                     NN_OK);
    assert_close_to(got, out, p.no, "out");
    assert_close_to(dx, rdx, p.nx, "dx");
    assert_close_to(dw, rdw, p.nw, "dweight");
    assert_close_to(db, rdb, (size_t)p.filters, "dbias");
    free(out), free(rdx), free(rdw), free(rdb), free(got), free(dx), free(dw), free(db);
    problem_free(&p);
}
END_TEST

START_TEST(transpose_upsamples_32_to_64_as_in_the_exam)
{
    /* k4, s2, p1: the decoder's step back from 32x32 to 64x64 */
    nn_conv_transpose_geometry g;
    int t[13] = { 4, 32, 32, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0 };
    geometry_or_fail(&g, t);
    ck_assert_int_eq(g.output_height, 64);
    ck_assert_int_eq(g.output_width, 64);
    transpose_problem p;
    problem_random(&p, 1, 3, &g, 60);
    double *out = calloc(p.no, sizeof *out), *rdx = calloc(p.nx, sizeof *rdx);
    double *rdw = calloc(p.nw, sizeof *rdw), *rdb = calloc(3, sizeof *rdb);
    reference_transpose(out, rdx, rdw, rdb, &p);
    nn_real *got = alloc_reals(p.no);
    ck_assert_int_eq(nn_conv_transpose2d_forward(got, p.workspace, p.x, p.weight, p.bias, 1, 3,
                                                 &g),
                     NN_OK);
    assert_close_to(got, out, p.no, "out");
    free(out), free(rdx), free(rdw), free(rdb), free(got);
    problem_free(&p);
}
END_TEST

/* ---- the adjoint identity ----------------------------------------------- */

/* C, H, W, F, kh, kw, sh, sw, ph, pw, dh, dw of the convolution */
static const int adjoint_table[][12] = {
    { 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 2, 9, 8, 3, 4, 4, 2, 2, 1, 1, 1, 1 },
    { 4, 10, 11, 2, 3, 2, 3, 2, 2, 0, 2, 1 },
    { 18, 5, 5, 17, 1, 1, 1, 1, 0, 0, 1, 1 },
};

START_TEST(transpose_is_the_adjoint_of_conv2d)
{
    /* <conv(x), y> = <x, conv_transpose(y)> with the same weights and no
     * bias: the weight (F, C, KH, KW) of a convolution from C to F channels
     * is the (C_in = F, C_out = C) weight of the transposed one. */
    const int *t = adjoint_table[_i];
    const int batch = 2, c = t[0], f = t[3];
    nn_conv_geometry cg;
    ck_assert_int_eq(nn_conv_geometry_init(&cg, c, t[1], t[2], t[4], t[5], t[6], t[7], t[8], t[9],
                                           t[10], t[11], NULL),
                     NN_OK);
    int oph = (t[1] + 2 * t[8] - t[10] * (t[4] - 1) - 1) % t[6];
    int opw = (t[2] + 2 * t[9] - t[11] * (t[5] - 1) - 1) % t[7];
    int tt[13] = { f, cg.output_height, cg.output_width, t[4], t[5], t[6], t[7], t[8], t[9],
                   t[10], t[11], oph, opw };
    nn_conv_transpose_geometry g;
    geometry_or_fail(&g, tt);
    ck_assert_int_eq(g.output_height, t[1]);
    ck_assert_int_eq(g.output_width, t[2]);

    size_t nx = (size_t)batch * c * t[1] * t[2];
    size_t ny = (size_t)batch * f * cg.output_height * cg.output_width;
    size_t nw = (size_t)f * c * t[4] * t[5];
    nn_real *x = alloc_reals(nx), *y = alloc_reals(ny), *w = alloc_reals(nw);
    nn_real *cx = alloc_reals(ny), *ty = alloc_reals(nx);
    size_t ws1 = nn_conv2d_workspace_size(batch, f, &cg);
    size_t ws2 = nn_conv_transpose2d_workspace_size(batch, c, &g);
    nn_real *ws = alloc_reals(ws1 > ws2 ? ws1 : ws2);
    nn_rng rng;
    nn_rng_seed(&rng, 90 + (uint64_t)_i);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(y, ny, &rng, -1, 1);
    test_fill_uniform(w, nw, &rng, -1, 1);
    ck_assert_int_eq(nn_conv2d_forward(cx, ws, x, w, NULL, batch, f, &cg), NN_OK);
    ck_assert_int_eq(nn_conv_transpose2d_forward(ty, ws, y, w, NULL, batch, c, &g), NN_OK);
    double left = 0, right = 0, scale = 0;
    for (size_t i = 0; i < ny; i++)
        left += (double)cx[i] * y[i], scale += fabs((double)cx[i] * y[i]);
    for (size_t i = 0; i < nx; i++)
        right += (double)x[i] * ty[i];
    ck_assert_msg(fabs(left - right) <= TEST_TOLERANCE * fmax(1.0, scale),
                  "<conv(x), y> = %.12g but <x, conv_transpose(y)> = %.12g", left, right);
    free(x), free(y), free(w), free(cx), free(ty), free(ws);
}
END_TEST

/* ---- gradient checks of loss = sum(out * r) ---------------------------- */

typedef struct transpose_loss_context {
    transpose_problem *p;
    nn_real *out;
} transpose_loss_context;

static double transpose_loss(void *context)
{
    transpose_loss_context *c = context;
    transpose_problem *p = c->p;
    nn_conv_transpose2d_forward(c->out, p->workspace, p->x, p->weight, p->bias, p->batch,
                                p->filters, &p->g);
    double loss = 0;
    for (size_t i = 0; i < p->no; i++)
        loss += (double)c->out[i] * p->dout[i];
    return loss;
}

/* As in check_conv2d.c: in float, entries below 1e-2 are compared
 * absolutely, above the rounding noise of the central differences. */
static nn_gradcheck_config transpose_gradcheck_config(void)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    if (!NN_REAL_IS_DOUBLE)
        config.denominator_floor = 1e-2;
    return config;
}

static void assert_gradcheck(const char *name, nn_real *values, const nn_real *analytic,
                             size_t count, void *context, nn_rng *rng)
{
    nn_gradcheck_config config = transpose_gradcheck_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, values, analytic, count, transpose_loss, context, &config,
                               rng, &err)
                      == NN_OK,
                  "%s: %s", name, err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, name, NULL, &result, &config));
}

/* C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oph, opw */
static const int gradcheck_table[][13] = {
    { 2, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0 }, /* stride 2, padding */
    { 2, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 }, /* output padding */
    { 2, 4, 4, 3, 3, 1, 1, 1, 1, 2, 2, 0, 0 }, /* dilation 2 */
    { 3, 4, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0 }, /* 1x1 */
    { 2, 4, 5, 2, 3, 2, 1, 0, 1, 1, 2, 1, 0 }, /* non-square */
};

START_TEST(transpose_gradients_pass_gradcheck)
{
    nn_conv_transpose_geometry g;
    geometry_or_fail(&g, gradcheck_table[_i]);
    transpose_problem p;
    problem_random(&p, 2, 3, &g, 70 + (uint64_t)_i);
    nn_real *out = alloc_reals(p.no), *dx = calloc(p.nx, sizeof *dx);
    nn_real *dw = calloc(p.nw, sizeof *dw), *db = calloc(3, sizeof *db);
    ck_assert_int_eq(nn_conv_transpose2d_backward(dx, dw, db, p.workspace, p.dout, p.x, p.weight,
                                                  p.batch, p.filters, &g),
                     NN_OK);
    transpose_loss_context context = { &p, out };
    nn_rng rng;
    nn_rng_seed(&rng, 80 + (uint64_t)_i);
    assert_gradcheck("dx", p.x, dx, p.nx, &context, &rng);
    assert_gradcheck("dweight", p.weight, dw, p.nw, &context, &rng);
    assert_gradcheck("dbias", p.bias, db, 3, &context, &rng);
    free(out), free(dx), free(dw), free(db);
    problem_free(&p);
}
END_TEST

START_TEST(gradcheck_catches_the_convolution_gradient_in_the_transposed_layer)
{
    /* Using conv2d's data gradient (the transposed map) for the transposed
     * layer's dx, i.e. the wrong direction, must fail the check. */
    nn_conv_transpose_geometry g;
    int t[13] = { 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 };
    geometry_or_fail(&g, t);
    transpose_problem p;
    problem_random(&p, 1, 3, &g, 95);
    nn_real *out = alloc_reals(p.no), *wrong = calloc(p.nx, sizeof *wrong);
    /* conv2d's backward with this weight: dx_conv = conv^T(dout), which for
     * a 5x5 same-size map has the right shape but flips the kernel */
    nn_conv_geometry cg;
    ck_assert_int_eq(nn_conv_geometry_init(&cg, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, NULL), NN_OK);
    nn_real *ws = alloc_reals(nn_conv2d_workspace_size(1, 3, &cg));
    ck_assert_int_eq(nn_conv2d_backward(wrong, NULL, NULL, ws, p.dout, p.x, p.weight, 1, 3, &cg),
                     NN_OK);
    transpose_loss_context context = { &p, out };
    nn_rng rng;
    nn_rng_seed(&rng, 96);
    nn_gradcheck_config config = transpose_gradcheck_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, p.x, wrong, p.nx, transpose_loss, &context, &config,
                                  &rng, NULL),
                     NN_OK);
    ck_assert(!result.passed);
    free(out), free(wrong), free(ws);
    problem_free(&p);
}
END_TEST

Suite *conv_transpose2d_suite(void);
Suite *conv_transpose2d_suite(void)
{
    Suite *suite = suite_create("conv_transpose2d");
    TCase *pytorch = tcase_create("pytorch");
    tcase_set_timeout(pytorch, 60);
    tcase_add_loop_test(pytorch, transpose_forward_matches_pytorch, 0, FIXTURE_CASES);
    tcase_add_loop_test(pytorch, transpose_backward_matches_pytorch_and_accumulates, 0,
                        FIXTURE_CASES);
    suite_add_tcase(suite, pytorch);
    TCase *sums = tcase_create("sums");
    tcase_set_timeout(sums, 60);
    tcase_add_loop_test(sums, transpose_matches_the_defining_sums_for_many_shapes, 0,
                        (int)(sizeof sum_table / sizeof sum_table[0]));
    tcase_add_loop_test(sums, transpose_is_the_adjoint_of_conv2d, 0,
                        (int)(sizeof adjoint_table / sizeof adjoint_table[0]));
    suite_add_tcase(suite, sums);
    TCase *gradcheck = tcase_create("gradcheck");
    tcase_set_timeout(gradcheck, 60);
    tcase_add_loop_test(gradcheck, transpose_gradients_pass_gradcheck, 0,
                        (int)(sizeof gradcheck_table / sizeof gradcheck_table[0]));
    tcase_add_test(gradcheck, gradcheck_catches_the_convolution_gradient_in_the_transposed_layer);
    suite_add_tcase(suite, gradcheck);
    TCase *shapes = tcase_create("shapes");
    tcase_set_timeout(shapes, 60);
    tcase_add_test(shapes, transpose_geometry_follows_the_output_size_formula);
    tcase_add_test(shapes, transpose_inverts_the_shape_of_a_strided_convolution);
    tcase_add_test(shapes, transpose_geometry_refuses_bad_settings);
    tcase_add_test(shapes, transpose_adjoint_is_the_matching_convolution);
    tcase_add_test(shapes, transpose_upsamples_32_to_64_as_in_the_exam);
    suite_add_tcase(suite, shapes);
    return suite;
}
