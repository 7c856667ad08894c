/*
 * check_global_avg_pool2d.c - global average pooling (N, C, H, W) -> (N, C):
 * agreement with PyTorch's adaptive_avg_pool2d(x, 1), accumulation, the
 * gradient check, agreement with an average pool whose window is the whole
 * image, and the property exam question 3.6 relies on: one head serves
 * inputs of any size.
 */
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "nn/pool.h"
#include "fixture.h"
#include "testutil.h"

typedef struct global_case {
    fixture_file *file;
    int batch, channels, spatial;
    nn_real *x, *dout;
} global_case;

static global_case global_case_load(void)
{
    global_case c = { .file = fixture_load("pool") };
    const fixture_tensor *x = fixture_get(c.file, "global_x");
    const fixture_tensor *dout = fixture_get(c.file, "global_dout");
    ck_assert_int_eq(x->shape.rank, 4);
    c.batch = (int)x->shape.dims[0];
    c.channels = (int)x->shape.dims[1];
    c.spatial = (int)(x->shape.dims[2] * x->shape.dims[3]);
    ck_assert_uint_eq(dout->size, (size_t)c.batch * c.channels);
    c.x = malloc(x->size * sizeof *c.x);
    c.dout = malloc(dout->size * sizeof *c.dout);
    ck_assert(c.x != NULL && c.dout != NULL);
    fixture_copy(c.x, x);
    fixture_copy(c.dout, dout);
    return c;
}

static void global_case_free(global_case *c)
{
    free(c->x);
    free(c->dout);
    fixture_free(c->file);
}

START_TEST(global_avg_pool2d_forward_matches_pytorch)
{
    global_case c = global_case_load();
    nn_real out[64];
    ck_assert_int_le(c.batch * c.channels, 64);
    ck_assert_int_eq(
        nn_global_avg_pool2d_forward(out, c.x, c.batch, c.channels, c.spatial), NN_OK);
    fixture_assert_close(out, fixture_get(c.file, "global_out"), TEST_TOLERANCE);
    global_case_free(&c);
}
END_TEST

START_TEST(global_avg_pool2d_backward_matches_pytorch)
{
    global_case c = global_case_load();
    size_t nx = (size_t)c.batch * c.channels * c.spatial;
    nn_real *dx = calloc(nx, sizeof *dx);
    ck_assert_int_eq(
        nn_global_avg_pool2d_backward(dx, c.dout, c.batch, c.channels, c.spatial), NN_OK);
    fixture_assert_close(dx, fixture_get(c.file, "global_dx"), TEST_TOLERANCE);
    free(dx);
    global_case_free(&c);
}
END_TEST

START_TEST(global_avg_pool2d_backward_accumulates_into_dx)
{
    global_case c = global_case_load();
    size_t nx = (size_t)c.batch * c.channels * c.spatial;
    nn_real *dx = malloc(nx * sizeof *dx);
    for (size_t i = 0; i < nx; i++)
        dx[i] = (nn_real)(0.75 - 0.5 * (double)(i % 5));
    ck_assert_int_eq(
        nn_global_avg_pool2d_backward(dx, c.dout, c.batch, c.channels, c.spatial), NN_OK);
    const fixture_tensor *want = fixture_get(c.file, "global_dx");
    for (size_t i = 0; i < nx; i++)
        ck_assert_real_near(dx[i], 0.75 - 0.5 * (double)(i % 5) + want->values[i],
                            TEST_TOLERANCE);
    free(dx);
    global_case_free(&c);
}
END_TEST

START_TEST(global_avg_pool2d_equals_avg_pool_over_the_whole_image)
{
    enum { N = 2, C = 3, H = 5, W = 6 };
    nn_real x[N * C * H * W], global[N * C], pooled[N * C];
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    test_fill_uniform(x, N * C * H * W, &rng, -2, 2);
    nn_pool_geometry g;
    ck_assert_int_eq(nn_pool_geometry_init(&g, C, H, W, H, W, 1, 1, 0, 0, NULL), NN_OK);
    ck_assert_int_eq(g.output_height * g.output_width, 1);
    ck_assert_int_eq(nn_global_avg_pool2d_forward(global, x, N, C, H * W), NN_OK);
    ck_assert_int_eq(nn_avg_pool2d_forward(pooled, x, N, &g), NN_OK);
    for (int i = 0; i < N * C; i++)
        ck_assert_real_near(global[i], pooled[i], TEST_TOLERANCE);
}
END_TEST

/* ---- exam 3.6: any input size -------------------------------------------- */

/* A tiny head: global pooling then a linear layer C -> K. */
static void head(nn_real *logits, nn_real *pooled, const nn_real *x, int batch, int spatial,
                 const nn_real *weight, const nn_real *bias, int channels, int classes)
{
    ck_assert_int_eq(nn_global_avg_pool2d_forward(pooled, x, batch, channels, spatial), NN_OK);
    ck_assert_int_eq(nn_linear_forward(logits, pooled, weight, bias, batch, channels, classes),
                     NN_OK);
}

START_TEST(global_pooling_lets_one_head_classify_any_image_size)
{
    /* The same weights take 6x6, 9x13 and 1x1 feature maps: the head's
     * input is (N, C) whatever H and W are. Feature maps that are constant
     * per channel give the same logits at every size, since the mean of a
     * constant map is the constant. */
    enum { N = 2, C = 4, K = 3 };
    static const int sizes[][2] = { { 6, 6 }, { 9, 13 }, { 1, 1 } };
    nn_real weight[K * C], bias[K], level[N * C];
    nn_rng rng;
    nn_rng_seed(&rng, 36);
    test_fill_uniform(weight, K * C, &rng, -1, 1);
    test_fill_uniform(bias, K, &rng, -1, 1);
    test_fill_uniform(level, N * C, &rng, -1, 1);

    nn_real first[N * K];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int spatial = sizes[s][0] * sizes[s][1];
        nn_real *x = malloc((size_t)N * C * spatial * sizeof *x);
        for (int p = 0; p < N * C; p++)
            for (int i = 0; i < spatial; i++)
                x[(size_t)p * spatial + i] = level[p];
        nn_real pooled[N * C], logits[N * K];
        head(logits, pooled, x, N, spatial, weight, bias, C, K);
        for (int p = 0; p < N * C; p++)
            ck_assert_real_near(pooled[p], level[p], TEST_TOLERANCE);
        for (int i = 0; i < N * K; i++) {
            if (s == 0)
                first[i] = logits[i];
            else
                ck_assert_real_near(logits[i], first[i], TEST_TOLERANCE);
        }
        free(x);
    }
}
END_TEST

/* ---- gradient check ------------------------------------------------------ */

typedef struct global_problem {
    int batch, channels, spatial;
    nn_real *x, *r, *out;
} global_problem;

static double global_loss(void *context)
{
    global_problem *p = context;
    nn_global_avg_pool2d_forward(p->out, p->x, p->batch, p->channels, p->spatial);
    double loss = 0;
    for (int i = 0; i < p->batch * p->channels; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

START_TEST(global_avg_pool2d_passes_gradcheck)
{
    enum { N = 2, C = 3, S = 4 * 5 };
    nn_real x[N * C * S], dx[N * C * S] = { 0 }, r[N * C], out[N * C];
    nn_rng rng;
    nn_rng_seed(&rng, 37);
    test_fill_uniform(x, N * C * S, &rng, -1, 1);
    test_fill_uniform(r, N * C, &rng, -1, 1);
    global_problem p = { N, C, S, x, r, out };
    ck_assert_int_eq(nn_global_avg_pool2d_backward(dx, r, N, C, S), NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, N * C * S, global_loss, &p, &config, &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
}
END_TEST

START_TEST(gradcheck_catches_a_sum_pool_gradient)
{
    /* Forgetting the 1 / S (the gradient of a sum, not a mean) must fail. */
    enum { N = 1, C = 2, S = 9 };
    nn_real x[N * C * S], wrong[N * C * S], r[N * C], out[N * C];
    nn_rng rng;
    nn_rng_seed(&rng, 38);
    test_fill_uniform(x, N * C * S, &rng, -1, 1);
    test_fill_uniform(r, N * C, &rng, -1, 1);
    for (int p = 0; p < N * C; p++)
        for (int s = 0; s < S; s++)
            wrong[p * S + s] = r[p];
    global_problem p = { N, C, S, x, r, out };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, x, wrong, N * C * S, global_loss, &p, &config, &rng,
                                  NULL),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

Suite *global_avg_pool2d_suite(void);
Suite *global_avg_pool2d_suite(void)
{
    Suite *suite = suite_create("global_avg_pool2d");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, global_avg_pool2d_forward_matches_pytorch);
    tcase_add_test(tc, global_avg_pool2d_backward_matches_pytorch);
    tcase_add_test(tc, global_avg_pool2d_backward_accumulates_into_dx);
    tcase_add_test(tc, global_avg_pool2d_equals_avg_pool_over_the_whole_image);
    tcase_add_test(tc, global_pooling_lets_one_head_classify_any_image_size);
    tcase_add_test(tc, global_avg_pool2d_passes_gradcheck);
    tcase_add_test(tc, gradcheck_catches_a_sum_pool_gradient);
    suite_add_tcase(suite, tc);
    return suite;
}
