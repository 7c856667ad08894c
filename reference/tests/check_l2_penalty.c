/*
 * check_l2_penalty.c - L2 regularisation as a loss term: its value, its
 * gradient (accumulated, and checked numerically).
 */
#include "nn/gradcheck.h"
#include "nn/optim.h"
#include "testutil.h"

START_TEST(forward_adds_half_lambda_times_sum_of_squares)
{
    const nn_real w[3] = { 1.0, -2.0, 3.0 };
    double loss = 1.5; /* the data loss the penalty is added to */
    ck_assert_int_eq(nn_l2_penalty_forward(&loss, w, 3, 0.4), NN_OK);
    ck_assert_real_near(loss, 1.5 + 0.2 * 14.0, TEST_TOLERANCE);
    ck_assert_int_eq(nn_l2_penalty_forward(&loss, w, 3, 0.0), NN_OK);
    ck_assert_real_near(loss, 1.5 + 0.2 * 14.0, TEST_TOLERANCE);
}
END_TEST

START_TEST(backward_adds_lambda_w_to_the_gradient)
{
    enum { N = 30 };
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    nn_real w[N], dw[N], data_grad[N];
    test_fill_uniform(w, N, &rng, -2.0, 2.0);
    test_fill_uniform(data_grad, N, &rng, -1.0, 1.0);
    memcpy(dw, data_grad, sizeof dw);
    ck_assert_int_eq(nn_l2_penalty_backward(dw, w, N, 0.25), NN_OK);
    for (int i = 0; i < N; i++)
        ck_assert_real_near(dw[i], data_grad[i] + 0.25 * w[i], TEST_TOLERANCE);
}
END_TEST

typedef struct penalty_context {
    const nn_real *w;
    size_t count;
    double lambda;
} penalty_context;

static double penalty_loss(void *opaque)
{
    const penalty_context *context = opaque;
    double loss = 0.0;
    ck_assert_int_eq(nn_l2_penalty_forward(&loss, context->w, context->count, context->lambda),
                     NN_OK);
    return loss;
}

START_TEST(backward_passes_the_gradient_check)
{
    enum { N = 50 };
    nn_rng rng;
    nn_rng_seed(&rng, 32);
    nn_real w[N], dw[N] = { 0 };
    test_fill_uniform(w, N, &rng, -1.5, 1.5);
    penalty_context context = { w, N, 0.7 };
    ck_assert_int_eq(nn_l2_penalty_backward(dw, w, N, context.lambda), NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, w, dw, N, penalty_loss, &context, &config, &rng, &err),
                     NN_OK);
    char message[256];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(message, sizeof message, "dw", NULL, &result, &config));

    /* A gradient missing the factor lambda must be caught. */
    nn_real wrong[N];
    for (int i = 0; i < N; i++)
        wrong[i] = w[i];
    ck_assert_int_eq(nn_gradcheck(&result, w, wrong, N, penalty_loss, &context, &config, &rng,
                                  &err),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

Suite *l2_penalty_suite(void);
Suite *l2_penalty_suite(void)
{
    Suite *suite = suite_create("l2_penalty");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, forward_adds_half_lambda_times_sum_of_squares);
    tcase_add_test(tc, backward_adds_lambda_w_to_the_gradient);
    tcase_add_test(tc, backward_passes_the_gradient_check);
    suite_add_tcase(suite, tc);
    return suite;
}
