/*
 * check_conv_unrolled.c - the im2col + GEMM path of conv2d.c and
 * conv_transpose2d.c against the reference-only engine.
 *
 * libnnref is compiled with NN_REFERENCE_ONLY, so its convolutions call
 * the engine (conv_engine.c). Everything else compiles the same two files
 * without the macro and gets the im2col + GEMM path of their solution
 * regions: the runner kit's libnnref.a, the student template's framework,
 * and a submission holding a copy of the reference file (the sample
 * submissions of `make demo`), which must score full marks. This file
 * compiles both sources again, without the macro and under other names
 * (unrolled_*), and holds that path to the engine on shapes with stride,
 * padding, dilation, several images and the engine's Winograd cases, in
 * exactly the workspace conv.h promises (started as NaN, so that reading
 * scratch before writing it shows), and into gradients that already hold
 * values (backward adds).
 */
#undef NN_REFERENCE_ONLY
#define nn_conv2d_workspace_size unrolled_conv2d_workspace_size
#define nn_conv2d_parameter_count unrolled_conv2d_parameter_count
#define nn_conv2d_forward unrolled_conv2d_forward
#define nn_conv2d_backward unrolled_conv2d_backward
#define nn_conv_transpose_geometry_init unrolled_conv_transpose_geometry_init
#define nn_conv_transpose_adjoint unrolled_conv_transpose_adjoint
#define nn_conv_transpose2d_workspace_size unrolled_conv_transpose2d_workspace_size
#define nn_conv_transpose2d_forward unrolled_conv_transpose2d_forward
#define nn_conv_transpose2d_backward unrolled_conv_transpose2d_backward
#include "../src/conv2d.c"
#include "../src/conv_transpose2d.c"

#include "nn/conv_engine.h"
#include "testutil.h"

static nn_real *alloc_reals(size_t count)
{
    nn_real *data = malloc((count ? count : 1) * sizeof *data);
    ck_assert_ptr_nonnull(data);
    return data;
}

static nn_real *alloc_nan(size_t count)
{
    nn_real *data = alloc_reals(count);
    for (size_t i = 0; i < count; i++)
        data[i] = (nn_real)NAN;
    return data;
}

static nn_real *alloc_random(size_t count, nn_rng *rng)
{
    nn_real *data = alloc_reals(count);
    test_fill_uniform(data, count, rng, -1, 1);
    return data;
}

static nn_real *copy_of(const nn_real *data, size_t count)
{
    nn_real *copy = alloc_reals(count);
    memcpy(copy, data, count * sizeof *copy);
    return copy;
}

/* Equal within the precision's tolerance, relative to the larger value. */
static void assert_agree(const nn_real *got, const nn_real *want, size_t count,
                         const char *what)
{
    for (size_t i = 0; i < count; i++) {
        double scale = fmax(1.0, fmax(fabs((double)got[i]), fabs((double)want[i])));
        ck_assert_msg(fabs((double)got[i] - (double)want[i]) <= TEST_TOLERANCE * scale,
                      "%s[%zu]: im2col + GEMM %.12g, engine %.12g", what, i, (double)got[i],
                      (double)want[i]);
    }
}

/* ---- convolution ---------------------------------------------------------- */

/* batch, C, H, W, F, kh, kw, sh, sw, ph, pw, dh, dw */
static const int conv_table[][13] = {
    { 2, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1 },
    { 3, 20, 9, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1 },   /* Winograd in the engine */
    { 5, 16, 5, 6, 16, 3, 3, 1, 1, 2, 2, 1, 1 },
    { 2, 3, 7, 6, 2, 3, 3, 2, 2, 1, 1, 1, 1 },
    { 2, 17, 10, 10, 9, 4, 4, 2, 2, 1, 1, 1, 1 },
    { 2, 4, 11, 11, 6, 3, 3, 3, 3, 2, 2, 3, 3 },   /* dilation */
    { 1, 3, 4, 4, 2, 5, 5, 1, 1, 2, 2, 1, 1 },     /* kernel larger than the image */
    { 2, 2, 13, 6, 3, 2, 5, 3, 1, 0, 2, 2, 1 },
    { 2, 3, 8, 8, 4, 3, 3, 4, 4, 0, 0, 1, 1 },     /* stride larger than the kernel */
    { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1 },
};

static nn_conv_geometry conv_geometry_of(const int *t)
{
    nn_conv_geometry g;
    nn_error err = { 0 };
    ck_assert_msg(nn_conv_geometry_init(&g, t[1], t[2], t[3], t[5], t[6], t[7], t[8], t[9], t[10],
                                        t[11], t[12], &err)
                      == NN_OK,
                  "%s", err.message);
    return g;
}

START_TEST(unrolled_conv2d_workspace_is_the_documented_size)
{
    /* conv.h: C*KH*KW * N*OH*OW + F * N*OH*OW, and nothing of the engine's. */
    const int *t = conv_table[_i];
    nn_conv_geometry g = conv_geometry_of(t);
    size_t pixels = (size_t)t[0] * g.output_height * g.output_width;
    size_t taps = (size_t)t[1] * t[5] * t[6];
    ck_assert_uint_eq(unrolled_conv2d_workspace_size(t[0], t[4], &g),
                      taps * pixels + (size_t)t[4] * pixels);
}
END_TEST

START_TEST(unrolled_conv2d_agrees_with_the_engine)
{
    const int *t = conv_table[_i];
    const int batch = t[0], filters = t[4];
    nn_conv_geometry g = conv_geometry_of(t);
    size_t nx = (size_t)batch * g.channels * g.height * g.width;
    size_t nw = (size_t)filters * g.channels * g.kernel_height * g.kernel_width;
    size_t no = (size_t)batch * filters * g.output_height * g.output_width;
    nn_rng rng;
    nn_rng_seed(&rng, 500 + (uint64_t)_i);
    nn_real *x = alloc_random(nx, &rng), *weight = alloc_random(nw, &rng);
    nn_real *bias = alloc_random((size_t)filters, &rng), *dout = alloc_random(no, &rng);
    /* Gradients start from values, which both must add to. */
    nn_real *dx = alloc_random(nx, &rng), *dw = alloc_random(nw, &rng);
    nn_real *db = alloc_random((size_t)filters, &rng);
    nn_real *edx = copy_of(dx, nx), *edw = copy_of(dw, nw), *edb = copy_of(db, (size_t)filters);

    nn_real *workspace = alloc_nan(unrolled_conv2d_workspace_size(batch, filters, &g));
    nn_real *engine_workspace = alloc_nan(nn_conv_engine_workspace_size(batch, filters, &g));
    nn_real *out = alloc_nan(no), *eout = alloc_nan(no);
    ck_assert_int_eq(unrolled_conv2d_forward(out, workspace, x, weight, bias, batch, filters, &g),
                     NN_OK);
    nn_conv_engine_forward(eout, engine_workspace, x, weight, bias, batch, filters, &g, false);
    assert_agree(out, eout, no, "out");
    ck_assert_int_eq(unrolled_conv2d_backward(dx, dw, db, workspace, dout, x, weight, batch,
                                              filters, &g),
                     NN_OK);
    nn_conv_engine_backward(edx, edw, edb, engine_workspace, dout, x, weight, batch, filters, &g);
    assert_agree(dx, edx, nx, "dx");
    assert_agree(dw, edw, nw, "dweight");
    assert_agree(db, edb, (size_t)filters, "dbias");

    /* Without a bias the output is the plain sum. */
    ck_assert_int_eq(unrolled_conv2d_forward(out, workspace, x, weight, NULL, batch, filters, &g),
                     NN_OK);
    nn_conv_engine_forward(eout, engine_workspace, x, weight, NULL, batch, filters, &g, false);
    assert_agree(out, eout, no, "out without bias");

    free(x), free(weight), free(bias), free(dout), free(dx), free(dw), free(db);
    free(edx), free(edw), free(edb), free(workspace), free(engine_workspace), free(out), free(eout);
}
END_TEST

START_TEST(unrolled_conv2d_backward_skips_null_gradients)
{
    /* Each gradient alone equals the same gradient computed with the others. */
    const int *t = conv_table[4];
    const int batch = t[0], filters = t[4];
    nn_conv_geometry g = conv_geometry_of(t);
    size_t nx = (size_t)batch * g.channels * g.height * g.width;
    size_t nw = (size_t)filters * g.channels * g.kernel_height * g.kernel_width;
    size_t no = (size_t)batch * filters * g.output_height * g.output_width;
    nn_rng rng;
    nn_rng_seed(&rng, 77);
    nn_real *x = alloc_random(nx, &rng), *weight = alloc_random(nw, &rng);
    nn_real *dout = alloc_random(no, &rng);
    nn_real *workspace = alloc_nan(unrolled_conv2d_workspace_size(batch, filters, &g));
    nn_real *dx = calloc(nx, sizeof *dx), *dw = calloc(nw, sizeof *dw);
    nn_real *db = calloc((size_t)filters, sizeof *db);
    ck_assert_int_eq(unrolled_conv2d_backward(dx, dw, db, workspace, dout, x, weight, batch,
                                              filters, &g),
                     NN_OK);
    nn_real *only = calloc(nx, sizeof *only);
    ck_assert_int_eq(unrolled_conv2d_backward(only, NULL, NULL, workspace, dout, x, weight, batch,
                                              filters, &g),
                     NN_OK);
    assert_agree(only, dx, nx, "dx alone");
    memset(only, 0, nw * sizeof *only);
    ck_assert_int_eq(unrolled_conv2d_backward(NULL, only, NULL, workspace, dout, x, weight, batch,
                                              filters, &g),
                     NN_OK);
    assert_agree(only, dw, nw, "dweight alone");
    memset(only, 0, (size_t)filters * sizeof *only);
    ck_assert_int_eq(unrolled_conv2d_backward(NULL, NULL, only, workspace, dout, x, weight, batch,
                                              filters, &g),
                     NN_OK);
    assert_agree(only, db, (size_t)filters, "dbias alone");
    free(x), free(weight), free(dout), free(workspace), free(dx), free(dw), free(db), free(only);
}
END_TEST

/* ---- transposed convolution --------------------------------------------------- */

/* batch, F, then C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oph, opw */
static const int transpose_table[][15] = {
    { 2, 20, 17, 6, 6, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0 },  /* exam 3 decoder, wide */
    { 11, 3, 2, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0 },
    { 2, 4, 3, 5, 4, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2 },    /* stride above the kernel */
    { 1, 5, 4, 4, 4, 3, 2, 2, 3, 2, 1, 2, 3, 1, 2 },    /* dilation */
    { 2, 12, 10, 4, 5, 3, 3, 1, 1, 0, 2, 1, 1, 0, 0 },  /* Winograd in the engine */
};

START_TEST(unrolled_conv_transpose2d_agrees_with_the_engine)
{
    const int *t = transpose_table[_i];
    const int batch = t[0], filters = t[1];
    nn_conv_transpose_geometry g;
    nn_error err = { 0 };
    ck_assert_msg(unrolled_conv_transpose_geometry_init(&g, t[2], t[3], t[4], t[5], t[6], t[7],
                                                        t[8], t[9], t[10], t[11], t[12], t[13],
                                                        t[14], &err)
                      == NN_OK,
                  "%s", err.message);
    nn_conv_geometry adjoint = unrolled_conv_transpose_adjoint(&g, filters);
    size_t nx = (size_t)batch * g.channels * g.height * g.width;
    size_t nw = (size_t)g.channels * filters * g.kernel_height * g.kernel_width;
    size_t plane = (size_t)g.output_height * g.output_width;
    size_t no = (size_t)batch * filters * plane;
    /* The size conv.h promises, and nothing of the engine's. */
    size_t pixels = (size_t)batch * g.height * g.width;
    size_t size = unrolled_conv_transpose2d_workspace_size(batch, filters, &g);
    ck_assert_uint_eq(size, (size_t)filters * g.kernel_height * g.kernel_width * pixels
                                + (size_t)g.channels * pixels);
    nn_rng rng;
    nn_rng_seed(&rng, 900 + (uint64_t)_i);
    nn_real *x = alloc_random(nx, &rng), *weight = alloc_random(nw, &rng);
    nn_real *bias = alloc_random((size_t)filters, &rng), *dout = alloc_random(no, &rng);
    nn_real *dx = alloc_random(nx, &rng), *dw = alloc_random(nw, &rng);
    nn_real *db = alloc_random((size_t)filters, &rng);
    nn_real *edx = copy_of(dx, nx), *edw = copy_of(dw, nw);
    nn_real *workspace = alloc_nan(size);
    nn_real *engine_workspace = alloc_nan(nn_conv_engine_workspace_size(batch, g.channels,
                                                                        &adjoint));
    /* The engine's statement of the layer: out = b + A^T x, dx += A dout,
     * dW += the weight gradient of A with input dout and output gradient x. */
    nn_real *out = alloc_nan(no), *eout = alloc_reals(no);
    for (size_t i = 0; i < no; i++)
        eout[i] = bias[(i / plane) % (size_t)filters];
    nn_conv_engine_backward(eout, NULL, NULL, engine_workspace, x, NULL, weight, batch,
                            g.channels, &adjoint);
    nn_conv_engine_forward(edx, engine_workspace, dout, weight, NULL, batch, g.channels, &adjoint,
                           true);
    nn_conv_engine_backward(NULL, edw, NULL, engine_workspace, x, dout, weight, batch, g.channels,
                            &adjoint);

    ck_assert_int_eq(unrolled_conv_transpose2d_forward(out, workspace, x, weight, bias, batch,
                                                       filters, &g),
                     NN_OK);
    assert_agree(out, eout, no, "out");
    /* db += the sums of dout over images and pixels (no engine call). */
    nn_real *edb = copy_of(db, (size_t)filters);
    for (size_t i = 0; i < no; i++)
        edb[(i / plane) % (size_t)filters] += dout[i];
    ck_assert_int_eq(unrolled_conv_transpose2d_backward(dx, dw, db, workspace, dout, x, weight,
                                                        batch, filters, &g),
                     NN_OK);
    assert_agree(dx, edx, nx, "dx");
    assert_agree(dw, edw, nw, "dweight");
    assert_agree(db, edb, (size_t)filters, "dbias");
    free(x), free(weight), free(bias), free(dout), free(dx), free(dw), free(db);
    free(edx), free(edw), free(edb), free(workspace), free(engine_workspace), free(out),
        free(eout);
}
END_TEST

Suite *conv_unrolled_suite(void);
Suite *conv_unrolled_suite(void)
{
    Suite *s = suite_create("conv_unrolled");
    TCase *conv = tcase_create("conv2d");
    tcase_add_loop_test(conv, unrolled_conv2d_workspace_is_the_documented_size, 0,
                        (int)(sizeof conv_table / sizeof conv_table[0]));
    tcase_add_loop_test(conv, unrolled_conv2d_agrees_with_the_engine, 0,
                        (int)(sizeof conv_table / sizeof conv_table[0]));
    tcase_add_test(conv, unrolled_conv2d_backward_skips_null_gradients);
    suite_add_tcase(s, conv);
    TCase *transpose = tcase_create("conv_transpose2d");
    tcase_add_loop_test(transpose, unrolled_conv_transpose2d_agrees_with_the_engine, 0,
                        (int)(sizeof transpose_table / sizeof transpose_table[0]));
    suite_add_tcase(s, transpose);
    return s;
}
