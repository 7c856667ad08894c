/*
 * check_bce_loss.c - binary cross-entropy on probabilities: agreement with
 * PyTorch's F.binary_cross_entropy (hard and soft targets), gradient
 * checks, accumulation and scaling, the clamp at 0 and 1, and exam
 * question 2.2: an untrained classifier starts near ln 2.
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

START_TEST(bce_forward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "bce_probability");
    nn_real *probability = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "bce_target"));
    double loss = -1.0;
    ck_assert_int_eq(nn_bce_loss_forward(&loss, probability, target, p->size), NN_OK);
    ck_assert_real_near(loss, fixture_get(file, "bce_loss")->values[0], TEST_TOLERANCE);
    free(probability);
    free(target);
    fixture_free(file);
}
END_TEST

START_TEST(bce_backward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "bce_probability");
    nn_real *probability = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "bce_target"));
    nn_real *grad = calloc(p->size, sizeof *grad);
    ck_assert_ptr_nonnull(grad);
    ck_assert_int_eq(nn_bce_loss_backward(grad, probability, target, p->size, 1), NN_OK);
    fixture_assert_close(grad, fixture_get(file, "bce_grad"), TEST_TOLERANCE);
    free(probability);
    free(target);
    free(grad);
    fixture_free(file);
}
END_TEST

START_TEST(bce_backward_adds_scale_times_gradient)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "bce_probability");
    const fixture_tensor *expected = fixture_get(file, "bce_grad");
    nn_real *probability = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "bce_target"));
    nn_real *grad = malloc(p->size * sizeof *grad);
    nn_real *before = malloc(p->size * sizeof *before);
    ck_assert(grad != NULL && before != NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    test_fill_uniform(before, p->size, &rng, -1.0, 1.0);
    memcpy(grad, before, p->size * sizeof *grad);
    ck_assert_int_eq(nn_bce_loss_backward(grad, probability, target, p->size, (nn_real)0.25),
                     NN_OK);
    for (size_t i = 0; i < p->size; i++)
        ck_assert_real_near(grad[i], before[i] + 0.25 * expected->values[i], TEST_TOLERANCE);
    free(probability);
    free(target);
    free(grad);
    free(before);
    fixture_free(file);
}
END_TEST

typedef struct bce_context {
    nn_real *probability;
    const nn_real *target;
    size_t count;
    double scale;
} bce_context;

static double bce_scaled_loss(void *context)
{
    bce_context *c = context;
    double loss = NAN;
    nn_bce_loss_forward(&loss, c->probability, c->target, c->count);
    return c->scale * loss;
}

START_TEST(bce_backward_passes_gradcheck)
{
    enum { COUNT = 32 };
    nn_real probability[COUNT], target[COUNT], grad[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 32);
    /* Probabilities in [0.1, 0.9], away from the clamp, and hard targets,
     * so that |p - t| >= 0.1 keeps every gradient clear of zero. */
    test_fill_uniform(probability, COUNT, &rng, 0.1, 0.9);
    for (int i = 0; i < COUNT; i++)
        target[i] = (nn_real)(nn_rng_below(&rng, 2));
    ck_assert_int_eq(nn_bce_loss_backward(grad, probability, target, COUNT, (nn_real)1.5),
                     NN_OK);
    bce_context context = { probability, target, COUNT, 1.5 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, probability, grad, COUNT, bce_scaled_loss, &context,
                                  &config, &rng, &err),
                     NN_OK);
    char line[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(line, sizeof line, "dprobability", NULL, &result,
                                        &config));
}
END_TEST

/* p = 0 with t = 1 and p = 1 with t = 0 are confidently wrong: the clamp
 * makes each cost -log(eps) instead of infinity, and the gradient stays
 * finite and points away from the wrong answer. */
START_TEST(bce_clamps_saturated_probabilities_to_finite_values)
{
    const nn_real probability[2] = { 0, 1 };
    const nn_real target[2] = { 1, 0 };
    nn_real grad[2] = { 0, 0 };
    double loss = NAN;
    ck_assert_int_eq(nn_bce_loss_forward(&loss, probability, target, 2), NN_OK);
    /* 1 - (1 - eps) in double carries a relative error near 1e-4. */
    ck_assert_real_near(loss, -log(NN_BCE_EPSILON), 1e-3);
    ck_assert_int_eq(nn_bce_loss_backward(grad, probability, target, 2, 1), NN_OK);
    ck_assert(isfinite((double)grad[0]) && isfinite((double)grad[1]));
    ck_assert(grad[0] < 0); /* descending raises p towards t = 1 */
    ck_assert(grad[1] > 0); /* descending lowers p towards t = 0 */
}
END_TEST

/* Exam 2.2: the logits of a freshly initialised network with small random
 * weights are near 0, its sigmoid outputs near 1/2, and BCE on a batch of
 * 64 random labels is then close to -log(1/2) = ln 2 ~ 0.693, whatever the
 * labels. */
START_TEST(untrained_binary_classifier_starts_near_ln2)
{
    enum { BATCH = 64, FEATURES = 20 };
    nn_rng rng;
    nn_rng_seed(&rng, 33);
    double weight[FEATURES];
    for (int j = 0; j < FEATURES; j++)
        weight[j] = 0.01 * nn_rng_normal(&rng);
    nn_real logits[BATCH], probability[BATCH], target[BATCH];
    for (int n = 0; n < BATCH; n++) {
        double z = 0.0;
        for (int j = 0; j < FEATURES; j++)
            z += weight[j] * nn_rng_normal(&rng);
        logits[n] = (nn_real)z;
        probability[n] = (nn_real)(1.0 / (1.0 + exp(-z)));
        target[n] = (nn_real)nn_rng_below(&rng, 2);
    }
    double loss = NAN, loss_from_logits = NAN;
    ck_assert_int_eq(nn_bce_loss_forward(&loss, probability, target, BATCH), NN_OK);
    ck_assert_int_eq(nn_bce_with_logits_loss_forward(&loss_from_logits, logits, target, BATCH),
                     NN_OK);
    /* |z| is about 0.01 sqrt(20) ~ 0.045, so per-sample losses are
     * ln 2 -+ z/2 + O(z^2) and their mean is well inside 0.02 of ln 2. */
    ck_assert_double_eq_tol(loss, log(2.0), 0.02);
    ck_assert_double_eq_tol(loss_from_logits, log(2.0), 0.02);
    ck_assert_real_near(loss, loss_from_logits, TEST_TOLERANCE);
}
END_TEST

Suite *bce_loss_suite(void);
Suite *bce_loss_suite(void)
{
    Suite *suite = suite_create("bce_loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, bce_forward_matches_pytorch);
    tcase_add_test(tc, bce_backward_matches_pytorch);
    tcase_add_test(tc, bce_backward_adds_scale_times_gradient);
    tcase_add_test(tc, bce_backward_passes_gradcheck);
    tcase_add_test(tc, bce_clamps_saturated_probabilities_to_finite_values);
    tcase_add_test(tc, untrained_binary_classifier_starts_near_ln2);
    suite_add_tcase(suite, tc);
    return suite;
}
