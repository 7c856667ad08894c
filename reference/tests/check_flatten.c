/*
 * check_flatten.c - flatten moves no data: forward copies, backward adds
 * the gradient through unchanged.
 */
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "testutil.h"

START_TEST(flatten_forward_copies_in_row_major_order)
{
    /* (2, 3, 2, 2) read back as (2, 12): element (n, c, h, w) lands at
     * column c*4 + h*2 + w of row n. */
    enum { N = 2, C = 3, H = 2, W = 2, COUNT = N * C * H * W };
    nn_real x[COUNT], out[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 91);
    test_fill_uniform(x, COUNT, &rng, -1, 1);
    for (size_t i = 0; i < COUNT; i++)
        out[i] = 99;
    ck_assert_int_eq(nn_flatten_forward(out, x, COUNT), NN_OK);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    ck_assert(out[n * (C * H * W) + c * H * W + h * W + w]
                              == x[((n * C + c) * H + h) * W + w]);
}
END_TEST

START_TEST(flatten_forward_in_place_keeps_the_values)
{
    enum { COUNT = 24 };
    nn_real x[COUNT], copy[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        x[i] = copy[i] = (nn_real)(0.5 * (double)i - 3);
    ck_assert_int_eq(nn_flatten_forward(x, x, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert(x[i] == copy[i]);
}
END_TEST

START_TEST(flatten_backward_accumulates_the_gradient)
{
    enum { COUNT = 30 };
    nn_real dout[COUNT], dx[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 92);
    test_fill_uniform(dout, COUNT, &rng, -1, 1);
    for (size_t i = 0; i < COUNT; i++)
        dx[i] = (nn_real)(1.0 + 0.25 * (double)i);
    ck_assert_int_eq(nn_flatten_backward(dx, dout, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_real_near(dx[i], 1.0 + 0.25 * (double)i + (double)dout[i], TEST_TOLERANCE);
    /* A second call adds again: two consumers of one tensor sum their
     * gradients. */
    ck_assert_int_eq(nn_flatten_backward(dx, dout, COUNT), NN_OK);
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_real_near(dx[i], 1.0 + 0.25 * (double)i + 2.0 * dout[i], TEST_TOLERANCE);
    ck_assert_int_eq(nn_flatten_backward(NULL, dout, COUNT), NN_OK);
}
END_TEST

typedef struct flatten_problem {
    size_t count;
    nn_real *x, *r, *out;
} flatten_problem;

static double flatten_loss(void *context)
{
    flatten_problem *f = context;
    nn_flatten_forward(f->out, f->x, f->count);
    double loss = 0;
    for (size_t i = 0; i < f->count; i++)
        loss += (double)f->out[i] * f->r[i];
    return loss;
}

START_TEST(flatten_gradient_passes_gradcheck)
{
    enum { COUNT = 36 };
    nn_real x[COUNT], r[COUNT], out[COUNT], dx[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 93);
    test_fill_uniform(x, COUNT, &rng, -1, 1);
    test_fill_uniform(r, COUNT, &rng, -1, 1);
    flatten_problem f = { COUNT, x, r, out };
    ck_assert_int_eq(nn_flatten_backward(dx, r, COUNT), NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, x, dx, COUNT, flatten_loss, &f, &config, &rng, &err)
                      == NN_OK,
                  "%s", err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dx", NULL, &result, &config));
}
END_TEST

Suite *flatten_suite(void);
Suite *flatten_suite(void)
{
    Suite *suite = suite_create("flatten");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, flatten_forward_copies_in_row_major_order);
    tcase_add_test(tc, flatten_forward_in_place_keeps_the_values);
    tcase_add_test(tc, flatten_backward_accumulates_the_gradient);
    tcase_add_test(tc, flatten_gradient_passes_gradcheck);
    suite_add_tcase(suite, tc);
    return suite;
}
