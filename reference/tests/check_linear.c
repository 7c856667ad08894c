/*
 * check_linear.c - the fully-connected layer: agreement with PyTorch,
 * gradients by central differences, accumulation, and the parameter counts
 * the exam asks for.
 */
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "fixture.h"
#include "testutil.h"

/* ---- agreement with PyTorch (fixtures/make_linear.py) ------------------ */

enum { FIX_BATCH = 4, FIX_IN = 7, FIX_OUT = 5 };

typedef struct linear_fixture {
    fixture_file *file;
    nn_real x[FIX_BATCH * FIX_IN], weight[FIX_OUT * FIX_IN], bias[FIX_OUT];
    nn_real dout[FIX_BATCH * FIX_OUT];
} linear_fixture;

/* Copies a fixture tensor after checking that it fills dest exactly. */
static void copy_sized(nn_real *dest, size_t count, const fixture_tensor *tensor)
{
    ck_assert_msg(tensor->size == count, "fixture %s has %zu values, expected %zu",
                  tensor->name, tensor->size, count);
    fixture_copy(dest, tensor);
}

static void load_linear_fixture(linear_fixture *f)
{
    f->file = fixture_load("linear");
    copy_sized(f->x, FIX_BATCH * FIX_IN, fixture_get(f->file, "x"));
    copy_sized(f->weight, FIX_OUT * FIX_IN, fixture_get(f->file, "weight"));
    copy_sized(f->bias, FIX_OUT, fixture_get(f->file, "bias"));
    copy_sized(f->dout, FIX_BATCH * FIX_OUT, fixture_get(f->file, "dout"));
    ck_assert_uint_eq(fixture_get(f->file, "out")->size, FIX_BATCH * FIX_OUT);
}

START_TEST(linear_forward_matches_pytorch)
{
    linear_fixture f;
    load_linear_fixture(&f);
    nn_real out[FIX_BATCH * FIX_OUT];
    ck_assert_int_eq(nn_linear_forward(out, f.x, f.weight, f.bias, FIX_BATCH, FIX_IN, FIX_OUT),
                     NN_OK);
    fixture_assert_close(out, fixture_get(f.file, "out"), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(linear_forward_without_bias_matches_pytorch)
{
    linear_fixture f;
    load_linear_fixture(&f);
    nn_real out[FIX_BATCH * FIX_OUT];
    /* Garbage in out must not leak into the result when there is no bias. */
    for (size_t i = 0; i < FIX_BATCH * FIX_OUT; i++)
        out[i] = 1e3;
    ck_assert_int_eq(nn_linear_forward(out, f.x, f.weight, NULL, FIX_BATCH, FIX_IN, FIX_OUT),
                     NN_OK);
    fixture_assert_close(out, fixture_get(f.file, "out_nobias"), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(linear_backward_matches_pytorch)
{
    linear_fixture f;
    load_linear_fixture(&f);
    nn_real dx[FIX_BATCH * FIX_IN] = { 0 }, dweight[FIX_OUT * FIX_IN] = { 0 };
    nn_real dbias[FIX_OUT] = { 0 };
    ck_assert_int_eq(nn_linear_backward(dx, dweight, dbias, f.dout, f.x, f.weight, FIX_BATCH,
                                        FIX_IN, FIX_OUT),
                     NN_OK);
    fixture_assert_close(dx, fixture_get(f.file, "dx"), TEST_TOLERANCE);
    fixture_assert_close(dweight, fixture_get(f.file, "dweight"), TEST_TOLERANCE);
    fixture_assert_close(dbias, fixture_get(f.file, "dbias"), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(linear_backward_accumulates_into_gradients)
{
    linear_fixture f;
    load_linear_fixture(&f);
    nn_real dx[FIX_BATCH * FIX_IN], dweight[FIX_OUT * FIX_IN], dbias[FIX_OUT];
    /* Start from known non-zero values; backward must add, not overwrite. */
    for (size_t i = 0; i < FIX_BATCH * FIX_IN; i++)
        dx[i] = (nn_real)(0.25 * (double)i - 1.0);
    for (size_t i = 0; i < FIX_OUT * FIX_IN; i++)
        dweight[i] = (nn_real)(0.5 - 0.125 * (double)i);
    for (size_t i = 0; i < FIX_OUT; i++)
        dbias[i] = (nn_real)(2.0 + (double)i);
    ck_assert_int_eq(nn_linear_backward(dx, dweight, dbias, f.dout, f.x, f.weight, FIX_BATCH,
                                        FIX_IN, FIX_OUT),
                     NN_OK);
    const fixture_tensor *want_dx = fixture_get(f.file, "dx");
    const fixture_tensor *want_dw = fixture_get(f.file, "dweight");
    const fixture_tensor *want_db = fixture_get(f.file, "dbias");
    for (size_t i = 0; i < FIX_BATCH * FIX_IN; i++)
        ck_assert_real_near(dx[i], 0.25 * (double)i - 1.0 + want_dx->values[i], TEST_TOLERANCE);
    for (size_t i = 0; i < FIX_OUT * FIX_IN; i++)
        ck_assert_real_near(dweight[i], 0.5 - 0.125 * (double)i + want_dw->values[i],
                            TEST_TOLERANCE);
    for (size_t i = 0; i < FIX_OUT; i++)
        ck_assert_real_near(dbias[i], 2.0 + (double)i + want_db->values[i], TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(linear_backward_skips_null_gradients)
{
    linear_fixture f;
    load_linear_fixture(&f);
    nn_real dweight[FIX_OUT * FIX_IN] = { 0 };
    /* The first layer of a network needs no dx; a layer without bias has no
     * dbias. dweight must still come out right. */
    ck_assert_int_eq(nn_linear_backward(NULL, dweight, NULL, f.dout, f.x, f.weight, FIX_BATCH,
                                        FIX_IN, FIX_OUT),
                     NN_OK);
    fixture_assert_close(dweight, fixture_get(f.file, "dweight"), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

/* ---- shapes: a table against the defining sums ------------------------- */

/* Non-square, degenerate and batch-1 shapes, where a swapped dimension or
 * leading dimension in a GEMM call shows. */
static const int shape_table[][3] = {
    /* batch, in, out */
    { 1, 1, 1 }, { 1, 5, 3 }, { 3, 1, 4 }, { 6, 4, 1 }, { 2, 9, 7 }, { 8, 3, 11 },
};

START_TEST(linear_matches_the_defining_sums_for_many_shapes)
{
    const int batch = shape_table[_i][0], in = shape_table[_i][1], out_f = shape_table[_i][2];
    nn_rng rng;
    nn_rng_seed(&rng, 100 + (uint64_t)_i);
    size_t nx = (size_t)batch * in, nw = (size_t)out_f * in, no = (size_t)batch * out_f;
    nn_real *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w);
    nn_real *b = malloc((size_t)out_f * sizeof *b), *dout = malloc(no * sizeof *dout);
    nn_real *out = malloc(no * sizeof *out), *dx = calloc(nx, sizeof *dx);
    nn_real *dw = calloc(nw, sizeof *dw), *db = calloc((size_t)out_f, sizeof *db);
    test_fill_uniform(x, nx, &rng, -1, 1);
    test_fill_uniform(w, nw, &rng, -1, 1);
    test_fill_uniform(b, (size_t)out_f, &rng, -1, 1);
    test_fill_uniform(dout, no, &rng, -1, 1);

    ck_assert_int_eq(nn_linear_forward(out, x, w, b, batch, in, out_f), NN_OK);
    ck_assert_int_eq(nn_linear_backward(dx, dw, db, dout, x, w, batch, in, out_f), NN_OK);

    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_f; o++) {
            double sum = b[o];
            for (int i = 0; i < in; i++)
                sum += (double)x[n * in + i] * w[o * in + i];
            ck_assert_real_near(out[n * out_f + o], sum, TEST_TOLERANCE);
        }
    for (int n = 0; n < batch; n++)
        for (int i = 0; i < in; i++) {
            double sum = 0;
            for (int o = 0; o < out_f; o++)
                sum += (double)dout[n * out_f + o] * w[o * in + i];
            ck_assert_real_near(dx[n * in + i], sum, TEST_TOLERANCE);
        }
    for (int o = 0; o < out_f; o++) {
        double bias_sum = 0;
        for (int n = 0; n < batch; n++)
            bias_sum += dout[n * out_f + o];
        ck_assert_real_near(db[o], bias_sum, TEST_TOLERANCE);
        for (int i = 0; i < in; i++) {
            double sum = 0;
            for (int n = 0; n < batch; n++)
                sum += (double)dout[n * out_f + o] * x[n * in + i];
            ck_assert_real_near(dw[o * in + i], sum, TEST_TOLERANCE);
        }
    }
    free(x), free(w), free(b), free(dout), free(out), free(dx), free(dw), free(db);
}
END_TEST

/* ---- gradient check of loss = sum(out * r) ----------------------------- */

typedef struct linear_problem {
    int batch, in, out_features;
    nn_real *x, *weight, *bias, *r, *out;
} linear_problem;

static double linear_loss(void *context)
{
    linear_problem *p = context;
    nn_linear_forward(p->out, p->x, p->weight, p->bias, p->batch, p->in, p->out_features);
    double loss = 0;
    for (size_t i = 0; i < (size_t)p->batch * p->out_features; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

static void assert_gradcheck(const char *name, nn_real *values, const nn_real *analytic,
                             size_t count, nn_gradcheck_loss_fn loss, void *context, nn_rng *rng)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, values, analytic, count, loss, context, &config, rng,
                               &err)
                      == NN_OK,
                  "%s: %s", name, err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, name, NULL, &result, &config));
}

START_TEST(linear_gradients_pass_gradcheck)
{
    enum { N = 3, I = 6, O = 4 };
    nn_real x[N * I], w[O * I], b[O], r[N * O], out[N * O];
    nn_real dx[N * I] = { 0 }, dw[O * I] = { 0 }, db[O] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    test_fill_uniform(x, N * I, &rng, -1, 1);
    test_fill_uniform(w, O * I, &rng, -1, 1);
    test_fill_uniform(b, O, &rng, -1, 1);
    test_fill_uniform(r, N * O, &rng, -1, 1);
    linear_problem p = { N, I, O, x, w, b, r, out };

    /* d(sum(out * r))/dout = r */
    ck_assert_int_eq(nn_linear_backward(dx, dw, db, r, x, w, N, I, O), NN_OK);
    assert_gradcheck("dx", x, dx, N * I, linear_loss, &p, &rng);
    assert_gradcheck("dweight", w, dw, O * I, linear_loss, &p, &rng);
    assert_gradcheck("dbias", b, db, O, linear_loss, &p, &rng);
}
END_TEST

START_TEST(gradcheck_catches_a_transposed_weight_gradient)
{
    /* The check above must be able to fail: dW computed as x^T dout (the
     * (I, O) layout) and read back as (O, I) is wrong and must be caught. */
    enum { N = 3, I = 4, O = 4 };
    nn_real x[N * I], w[O * I], b[O], r[N * O], out[N * O], wrong[O * I];
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    test_fill_uniform(x, N * I, &rng, -1, 1);
    test_fill_uniform(w, O * I, &rng, -1, 1);
    test_fill_uniform(b, O, &rng, -1, 1);
    test_fill_uniform(r, N * O, &rng, -1, 1);
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            double sum = 0;
            for (int n = 0; n < N; n++)
                sum += (double)x[n * I + i] * r[n * O + o];
            wrong[i * O + o] = (nn_real)sum;
        }
    linear_problem p = { N, I, O, x, w, b, r, out };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(
        nn_gradcheck(&result, w, wrong, O * I, linear_loss, &p, &config, &rng, NULL), NN_OK);
    ck_assert(!result.passed);
}
END_TEST

/* ---- parameter counts -------------------------------------------------- */

START_TEST(linear_parameter_count_is_weights_plus_one_bias_per_output)
{
    ck_assert_uint_eq(nn_linear_parameter_count(7, 5, true), 5 * (7 + 1));
    ck_assert_uint_eq(nn_linear_parameter_count(7, 5, false), 5 * 7);
    ck_assert_uint_eq(nn_linear_parameter_count(1, 1, true), 2);
}
END_TEST

START_TEST(exam_network_8x8_to_10_5_3_has_723_parameters)
{
    /* Exam 2.8: an 8x8 grey image (64 inputs), hidden layers of 10 and 5
     * units, 3 classes, every unit with a bias. Dropout adds nothing. */
    size_t total = nn_linear_parameter_count(8 * 8, 10, true)
                   + nn_linear_parameter_count(10, 5, true)
                   + nn_linear_parameter_count(5, 3, true);
    ck_assert_uint_eq(total, 723);
}
END_TEST

Suite *linear_suite(void);
Suite *linear_suite(void)
{
    Suite *suite = suite_create("linear");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, linear_forward_matches_pytorch);
    tcase_add_test(tc, linear_forward_without_bias_matches_pytorch);
    tcase_add_test(tc, linear_backward_matches_pytorch);
    tcase_add_test(tc, linear_backward_accumulates_into_gradients);
    tcase_add_test(tc, linear_backward_skips_null_gradients);
    tcase_add_loop_test(tc, linear_matches_the_defining_sums_for_many_shapes, 0,
                        (int)(sizeof shape_table / sizeof shape_table[0]));
    tcase_add_test(tc, linear_gradients_pass_gradcheck);
    tcase_add_test(tc, gradcheck_catches_a_transposed_weight_gradient);
    tcase_add_test(tc, linear_parameter_count_is_weights_plus_one_bias_per_output);
    tcase_add_test(tc, exam_network_8x8_to_10_5_3_has_723_parameters);
    suite_add_tcase(suite, tc);
    return suite;
}
