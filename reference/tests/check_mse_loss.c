/*
 * check_mse_loss.c - mean squared error: agreement with PyTorch's
 * F.mse_loss, gradient checks (including one that must catch a gradient
 * missing its factor 2), accumulation and scaling, and exam question 1.5:
 * multiplying the loss by c multiplies every gradient step by c but leaves
 * the minimiser where it was.
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

START_TEST(mse_forward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "mse_prediction");
    nn_real *prediction = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "mse_target"));
    double loss = -1.0;
    ck_assert_int_eq(nn_mse_loss_forward(&loss, prediction, target, p->size), NN_OK);
    ck_assert_real_near(loss, fixture_get(file, "mse_loss")->values[0], TEST_TOLERANCE);
    free(prediction);
    free(target);
    fixture_free(file);
}
END_TEST

START_TEST(mse_backward_matches_pytorch)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "mse_prediction");
    nn_real *prediction = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "mse_target"));
    nn_real *grad = calloc(p->size, sizeof *grad);
    ck_assert_ptr_nonnull(grad);
    ck_assert_int_eq(nn_mse_loss_backward(grad, prediction, target, p->size, 1), NN_OK);
    fixture_assert_close(grad, fixture_get(file, "mse_grad"), TEST_TOLERANCE);
    free(prediction);
    free(target);
    free(grad);
    fixture_free(file);
}
END_TEST

START_TEST(mse_backward_adds_scale_times_gradient)
{
    fixture_file *file = fixture_load("losses");
    const fixture_tensor *p = fixture_get(file, "mse_prediction");
    const fixture_tensor *expected = fixture_get(file, "mse_grad");
    nn_real *prediction = copy_of(p);
    nn_real *target = copy_of(fixture_get(file, "mse_target"));
    nn_real *grad = malloc(p->size * sizeof *grad);
    nn_real *before = malloc(p->size * sizeof *before);
    ck_assert(grad != NULL && before != NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 21);
    test_fill_uniform(before, p->size, &rng, -1.0, 1.0);
    memcpy(grad, before, p->size * sizeof *grad);
    ck_assert_int_eq(nn_mse_loss_backward(grad, prediction, target, p->size, (nn_real)-0.75),
                     NN_OK);
    for (size_t i = 0; i < p->size; i++)
        ck_assert_real_near(grad[i], before[i] - 0.75 * expected->values[i], TEST_TOLERANCE);
    free(prediction);
    free(target);
    free(grad);
    free(before);
    fixture_free(file);
}
END_TEST

typedef struct mse_context {
    nn_real *prediction;
    const nn_real *target;
    size_t count;
    double scale;
} mse_context;

static double mse_scaled_loss(void *context)
{
    mse_context *c = context;
    double loss = NAN;
    nn_mse_loss_forward(&loss, c->prediction, c->target, c->count);
    return c->scale * loss;
}

/* Runs the gradient check of `scale * MSE` against backward called with
 * `backward_scale`; they differ only in the test of a wrong gradient. */
static nn_gradcheck_result mse_gradcheck(double scale, double backward_scale)
{
    enum { COUNT = 30 };
    nn_real prediction[COUNT], target[COUNT], grad[COUNT] = { 0 };
    nn_rng rng;
    nn_rng_seed(&rng, 22);
    test_fill_uniform(prediction, COUNT, &rng, -2.0, 2.0);
    test_fill_uniform(target, COUNT, &rng, -2.0, 2.0);
    ck_assert_int_eq(nn_mse_loss_backward(grad, prediction, target, COUNT,
                                          (nn_real)backward_scale),
                     NN_OK);
    mse_context context = { prediction, target, COUNT, scale };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, prediction, grad, COUNT, mse_scaled_loss, &context,
                                  &config, &rng, &err),
                     NN_OK);
    return result;
}

START_TEST(mse_backward_passes_gradcheck)
{
    nn_gradcheck_result result = mse_gradcheck(3.0, 3.0);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    char line[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(line, sizeof line, "dprediction", NULL, &result, &config));
}
END_TEST

/* A backward that forgot the 2 of d(e^2)/de is half the true gradient; the
 * check must notice, or passing it would mean nothing. */
START_TEST(gradcheck_catches_an_mse_gradient_missing_its_factor_two)
{
    nn_gradcheck_result result = mse_gradcheck(1.0, 0.5);
    ck_assert(!result.passed);
    ck_assert_double_ge(result.worst_relative_error, 0.4);
}
END_TEST

/* Gradient descent on w for the one-parameter model p_i = w x_i under the
 * loss c * MSE, through the kernels: dL/dw = sum_i (dL/dp_i) x_i, with
 * dL/dp_i from the backward pass at scale c. Returns the final w and the
 * first step's size in *first_step. */
static double descend(double c, double learning_rate, int steps, const nn_real *x,
                      const nn_real *t, size_t count, double *first_step)
{
    nn_real prediction[8], grad[8];
    double w = 0.0;
    for (int k = 0; k < steps; k++) {
        for (size_t i = 0; i < count; i++) {
            prediction[i] = (nn_real)(w * x[i]);
            grad[i] = 0;
        }
        ck_assert_int_eq(nn_mse_loss_backward(grad, prediction, t, count, (nn_real)c), NN_OK);
        double dw = 0.0;
        for (size_t i = 0; i < count; i++)
            dw += (double)grad[i] * x[i];
        if (k == 0)
            *first_step = -learning_rate * dw;
        w -= learning_rate * dw;
    }
    return w;
}

/* Exam 1.5: scaling the loss by a positive constant changes the size of
 * the SGD step (by exactly that constant) but not where the minimum is. */
START_TEST(scaling_the_loss_scales_the_step_but_keeps_the_minimiser)
{
    const nn_real x[6] = { 0.5, 1, 1.5, 2, 2.5, 3 };
    const nn_real t[6] = { 1.3, 1.8, 3.1, 4.4, 4.5, 6.2 };
    double sum_xt = 0, sum_xx = 0;
    for (int i = 0; i < 6; i++) {
        sum_xt += (double)x[i] * t[i];
        sum_xx += (double)x[i] * x[i];
    }
    /* Least squares: d/dw mean (w x - t)^2 = 0 gives w* = sum x t / sum x^2. */
    double w_star = sum_xt / sum_xx;
    /* The curvature of c * MSE in w is 2 c mean(x^2) ~ 7.6 c, so a rate of
     * 0.05 converges for c up to 5: both runs are stable. */
    double step_1 = 0, step_4 = 0;
    double w_1 = descend(1.0, 0.05, 400, x, t, 6, &step_1);
    double w_4 = descend(4.0, 0.05, 400, x, t, 6, &step_4);

    ck_assert_real_near(step_4 / step_1, 4.0, TEST_TOLERANCE);
    ck_assert_real_near(w_1, w_star, TEST_TOLERANCE);
    ck_assert_real_near(w_4, w_star, TEST_TOLERANCE);
}
END_TEST

Suite *mse_loss_suite(void);
Suite *mse_loss_suite(void)
{
    Suite *suite = suite_create("mse_loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mse_forward_matches_pytorch);
    tcase_add_test(tc, mse_backward_matches_pytorch);
    tcase_add_test(tc, mse_backward_adds_scale_times_gradient);
    tcase_add_test(tc, mse_backward_passes_gradcheck);
    tcase_add_test(tc, gradcheck_catches_an_mse_gradient_missing_its_factor_two);
    tcase_add_test(tc, scaling_the_loss_scales_the_step_but_keeps_the_minimiser);
    suite_add_tcase(suite, tc);
    return suite;
}
