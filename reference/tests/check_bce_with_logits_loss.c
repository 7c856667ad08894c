/*
 * check_bce_with_logits_loss.c - binary cross-entropy on logits: agreement
 * with PyTorch's F.binary_cross_entropy_with_logits, gradient checks,
 * accumulation and scaling, agreement with BCE on sigmoid outputs, and
 * finite results at logits of +-1000 where the textbook form breaks.
 */
#include "nn/gradcheck.h"
#include "nn/loss.h"
#include "fixture.h"
#include "testutil.h"

static nn_real *copy_of(const fixture_tensor *tensor)
{
    nn_real *data = malloc(tensor->size * sizeof *data);
    ck_assert_ptr_nonnull(data);
    fixture_copy(data, tensor);
    return data;
}

START_TEST(bce_with_logits_forward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *z = fixture_get(file, "bcel_logits");
    nn_real *logits = copy_of(z);
    nn_real *target = copy_of(fixture_get(file, "bcel_target"));
    double loss = -1.0;
    ck_assert_int_eq(nn_bce_with_logits_loss_forward(&loss, logits, target, z->size), NN_OK);
    ck_assert_real_near(loss, fixture_get(file, "bcel_loss")->values[0], TEST_TOLERANCE);
    free(logits);
    free(target);
    fixture_free(file);
}
END_TEST

START_TEST(bce_with_logits_backward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *z = fixture_get(file, "bcel_logits");
    nn_real *logits = copy_of(z);
    nn_real *target = copy_of(fixture_get(file, "bcel_target"));
    nn_real *grad = calloc(z->size, sizeof *grad);
    ck_assert_ptr_nonnull(grad);
    ck_assert_int_eq(nn_bce_with_logits_loss_backward(grad, logits, target, z->size, 1), NN_OK);
    fixture_assert_close(grad, fixture_get(file, "bcel_grad"), TEST_TOLERANCE);
    free(logits);
    free(target);
    free(grad);
    fixture_free(file);
}
END_TEST

START_TEST(bce_with_logits_backward_adds_scale_times_gradient)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *z = fixture_get(file, "bcel_logits");
    const fixture_tensor *expected = fixture_get(file, "bcel_grad");
    nn_real *logits = copy_of(z);
    nn_real *target = copy_of(fixture_get(file, "bcel_target"));
    nn_real *grad = malloc(z->size * sizeof *grad);
    nn_real *before = malloc(z->size * sizeof *before);
    ck_assert(grad != NULL && before != NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 41);
    test_fill_uniform(before, z->size, &rng, -1.0, 1.0);
    memcpy(grad, before, z->size * sizeof *grad);
    ck_assert_int_eq(nn_bce_with_logits_loss_backward(grad, logits, target, z->size, 3), NN_OK);
    for (size_t i = 0; i < z->size; i++)
        ck_assert_real_near(grad[i], before[i] + 3.0 * expected->values[i], TEST_TOLERANCE);
    free(logits);
    free(target);
    free(grad);
    free(before);
    fixture_free(file);
}
END_TEST

typedef struct logits_context {
    nn_real *logits;
    const nn_real *target;
    size_t count;
    double scale;
} logits_context;

static double bce_with_logits_scaled_loss(void *context)
{
    logits_context *c = context;
    double loss = NAN;
    nn_bce_with_logits_loss_forward(&loss, c->logits, c->target, c->count);
    return c->scale * loss;
}

START_TEST(bce_with_logits_backward_passes_gradcheck)
{
    enum { COUNT = 32 };
    nn_real logits[COUNT], target[COUNT], grad[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 42);
    /* Hard targets and |z| <= 3 keep |sigmoid(z) - t| >= 0.047. */
    test_fill_uniform(logits, COUNT, &rng, -3.0, 3.0);
    for (int i = 0; i < COUNT; i++)
        target[i] = (nn_real)nn_rng_below(&rng, 2);
    ck_assert_int_eq(nn_bce_with_logits_loss_backward(grad, logits, target, COUNT,
                                                      (nn_real)0.5),
                     NN_OK);
    logits_context context = { logits, target, COUNT, 0.5 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, logits, grad, COUNT, bce_with_logits_scaled_loss,
                                  &context, &config, &rng, &err),
                     NN_OK);
    char line[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(line, sizeof line, "dlogits", NULL, &result, &config));
}
END_TEST

/* The two BCE units describe one loss: BCE-with-logits at z equals BCE at
 * sigmoid(z), and its gradient is BCE's times the sigmoid's p (1 - p). */
START_TEST(bce_with_logits_equals_bce_of_the_sigmoid)
{
    enum { COUNT = 24 };
    nn_real logits[COUNT], probability[COUNT], target[COUNT];
    nn_real grad_logits[COUNT] = { 0 }, grad_probability[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 43);
    test_fill_uniform(logits, COUNT, &rng, -4.0, 4.0);
    test_fill_uniform(target, COUNT, &rng, 0.0, 1.0);
    for (int i = 0; i < COUNT; i++)
        probability[i] = (nn_real)(1.0 / (1.0 + exp(-(double)logits[i])));
    double from_logits = NAN, from_probability = NAN;
    ck_assert_int_eq(nn_bce_with_logits_loss_forward(&from_logits, logits, target, COUNT), NN_OK);
    ck_assert_int_eq(nn_bce_loss_forward(&from_probability, probability, target, COUNT), NN_OK);
    ck_assert_real_near(from_logits, from_probability, TEST_TOLERANCE);
    ck_assert_int_eq(nn_bce_with_logits_loss_backward(grad_logits, logits, target, COUNT, 1),
                     NN_OK);
    ck_assert_int_eq(nn_bce_loss_backward(grad_probability, probability, target, COUNT, 1),
                     NN_OK);
    for (int i = 0; i < COUNT; i++) {
        double p = probability[i];
        ck_assert_real_near(grad_logits[i], grad_probability[i] * p * (1.0 - p),
                            TEST_TOLERANCE);
    }
}
END_TEST

/* Logits of +-1000: each confidently wrong sample costs |z| = 1000, each
 * confidently right one 0, so the mean of {1000, 1000, 0, 0} is 500. The
 * textbook -[t log s + (1 - t) log(1 - s)] with s = 1 / (1 + e^-z) gives
 * infinity on the same inputs, which the test confirms first. */
START_TEST(bce_with_logits_is_finite_at_logits_of_a_thousand)
{
    const nn_real logits[4] = { 1000, -1000, 1000, -1000 };
    const nn_real target[4] = { 0, 1, 1, 0 };
    double naive = 0.0;
    for (int i = 0; i < 4; i++) {
        double s = 1.0 / (1.0 + exp(-(double)logits[i]));
        naive -= target[i] * log(s) + (1.0 - target[i]) * log(1.0 - s);
    }
    ck_assert(!isfinite(naive));

    double loss = NAN;
    ck_assert_int_eq(nn_bce_with_logits_loss_forward(&loss, logits, target, 4), NN_OK);
    ck_assert_real_near(loss, 500.0, TEST_TOLERANCE);
    nn_real grad[4] = { 0 };
    ck_assert_int_eq(nn_bce_with_logits_loss_backward(grad, logits, target, 4, 1), NN_OK);
    /* (sigmoid(z) - t) / 4: the wrong samples get the full +-1/4. */
    const double expected[4] = { 0.25, -0.25, 0.0, 0.0 };
    for (int i = 0; i < 4; i++)
        ck_assert_real_near(grad[i], expected[i], TEST_TOLERANCE);
}
END_TEST

Suite *bce_with_logits_loss_suite(void);
Suite *bce_with_logits_loss_suite(void)
{
    Suite *suite = suite_create("bce_with_logits_loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, bce_with_logits_forward_matches_pytorch);
    tcase_add_test(tc, bce_with_logits_backward_matches_pytorch);
    tcase_add_test(tc, bce_with_logits_backward_adds_scale_times_gradient);
    tcase_add_test(tc, bce_with_logits_backward_passes_gradcheck);
    tcase_add_test(tc, bce_with_logits_equals_bce_of_the_sigmoid);
    tcase_add_test(tc, bce_with_logits_is_finite_at_logits_of_a_thousand);
    suite_add_tcase(suite, tc);
    return suite;
}
