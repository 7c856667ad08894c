/*
 * check_rmsprop.c - RMSProp against PyTorch, and what makes it different
 * from SGD: every coordinate's step is normalised by the recent size of its
 * own gradient, so scaling the gradient hardly changes the step.
 */
#include "nn/optim.h"
#include "fixture.h"
#include "testutil.h"

#define OPTIM_TOLERANCE (NN_REAL_IS_DOUBLE ? 1e-12 : 2e-6)
#define MAX_FIXTURE_VALUES 64

static const struct {
    const char *name;
    nn_rmsprop_config config;
} rmsprop_cases[] = {
    { "rmsprop", { .learning_rate = 0.01, .decay = 0.9, .epsilon = 1e-8 } },
    { "rmsprop_large_eps", { .learning_rate = 0.01, .decay = 0.9, .epsilon = 0.1 } },
    { "rmsprop_decay",
      { .learning_rate = 0.01, .decay = 0.99, .epsilon = 1e-8, .weight_decay = 0.1 } },
};

START_TEST(rmsprop_matches_pytorch_trajectory)
{
    fixture_file *file = fixture_load("optim");
    const fixture_tensor *w0 = fixture_get(file, "w0");
    const fixture_tensor *grads = fixture_get(file, "grads");
    const fixture_tensor *expected = fixture_get(file, rmsprop_cases[_i].name);
    const size_t n = w0->size, steps = grads->shape.dims[0];
    ck_assert_uint_eq(expected->size, steps * n);
    ck_assert_uint_le(expected->size, MAX_FIXTURE_VALUES);

    nn_real w[MAX_FIXTURE_VALUES], square[MAX_FIXTURE_VALUES] = { 0 };
    nn_real g[MAX_FIXTURE_VALUES], trajectory[MAX_FIXTURE_VALUES];
    fixture_copy(w, w0);
    for (size_t t = 0; t < steps; t++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (nn_real)grads->values[t * n + i];
        ck_assert_int_eq(nn_rmsprop_step(w, square, g, n, &rmsprop_cases[_i].config), NN_OK);
        memcpy(&trajectory[t * n], w, n * sizeof *w);
    }
    fixture_assert_close(trajectory, expected, OPTIM_TOLERANCE);
    fixture_free(file);
}
END_TEST

START_TEST(first_step_has_size_lr_over_sqrt_one_minus_rho)
{
    /* s = (1 - rho) g^2 after one step, so |dw| = lr / sqrt(1 - rho) for
     * every coordinate whatever the size of its gradient. */
    enum { N = 6 };
    const nn_real g[N] = { 1e-3, -0.02, 0.5, -3.0, 40.0, -700.0 };
    nn_real w[N] = { 0 }, square[N] = { 0 };
    nn_rmsprop_config config = { .learning_rate = 0.01, .decay = 0.99, .epsilon = 1e-8 };
    ck_assert_int_eq(nn_rmsprop_step(w, square, g, N, &config), NN_OK);
    for (int i = 0; i < N; i++) {
        ck_assert_real_near(fabs((double)w[i]), 0.01 / sqrt(0.01), 1e-4);
        ck_assert_msg((w[i] < 0) == (g[i] > 0), "coordinate %d moved uphill", i);
        ck_assert_real_near(square[i], 0.01 * (double)g[i] * (double)g[i],
                            NN_REAL_IS_DOUBLE ? 1e-12 : 1e-6);
    }
}
END_TEST

START_TEST(step_is_nearly_invariant_to_gradient_scale)
{
    /* The same gradient sequence, once as is and once times 100: RMSProp
     * takes (nearly) the same steps, SGD takes steps 100 times larger. */
    enum { N = 20, STEPS = 8 };
    nn_rng rng;
    nn_rng_seed(&rng, 21);
    nn_real start[N];
    test_fill_uniform(start, N, &rng, -1.0, 1.0);
    nn_real small[N], large[N], small_sq[N] = { 0 }, large_sq[N] = { 0 };
    nn_real sgd_small[N], sgd_large[N];
    memcpy(small, start, sizeof start);
    memcpy(large, start, sizeof start);
    memcpy(sgd_small, start, sizeof start);
    memcpy(sgd_large, start, sizeof start);
    nn_rmsprop_config rms = { .learning_rate = 0.01, .decay = 0.9, .epsilon = 1e-8 };
    nn_sgd_config sgd = { .learning_rate = 0.01 };
    for (int t = 0; t < STEPS; t++) {
        nn_real g[N], g100[N];
        test_fill_uniform(g, N, &rng, -1.0, 1.0);
        for (int i = 0; i < N; i++)
            g100[i] = (nn_real)(100.0 * g[i]);
        ck_assert_int_eq(nn_rmsprop_step(small, small_sq, g, N, &rms), NN_OK);
        ck_assert_int_eq(nn_rmsprop_step(large, large_sq, g100, N, &rms), NN_OK);
        ck_assert_int_eq(nn_sgd_step(sgd_small, NULL, g, N, &sgd), NN_OK);
        ck_assert_int_eq(nn_sgd_step(sgd_large, NULL, g100, N, &sgd), NN_OK);
    }
    double rms_diff = 0.0, rms_move = 0.0, sgd_ratio_min = INFINITY, sgd_ratio_max = 0.0;
    for (int i = 0; i < N; i++) {
        rms_diff = fmax(rms_diff, fabs((double)large[i] - (double)small[i]));
        rms_move = fmax(rms_move, fabs((double)small[i] - (double)start[i]));
        double ratio = ((double)sgd_large[i] - start[i]) / ((double)sgd_small[i] - start[i]);
        sgd_ratio_min = fmin(sgd_ratio_min, ratio);
        sgd_ratio_max = fmax(sgd_ratio_max, ratio);
    }
    ck_assert_double_gt(rms_move, 0.01);
    ck_assert_msg(rms_diff <= (NN_REAL_IS_DOUBLE ? 1e-6 : 1e-4) * rms_move,
                  "RMSProp moved %g further with gradients x100 (total move %g)", rms_diff,
                  rms_move);
    ck_assert_double_eq_tol(sgd_ratio_min, 100.0, 0.05);
    ck_assert_double_eq_tol(sgd_ratio_max, 100.0, 0.05);
}
END_TEST

START_TEST(epsilon_is_added_outside_the_square_root)
{
    /* One step from s = 0 with rho 0.5, g = 1, eps 0.25: s = 0.5 and
     * dw = -lr / (sqrt(0.5) + 0.25), not -lr / sqrt(0.5 + 0.25). */
    nn_real w[1] = { 0 }, square[1] = { 0 };
    const nn_real g[1] = { 1.0 };
    nn_rmsprop_config config = { .learning_rate = 0.1, .decay = 0.5, .epsilon = 0.25 };
    ck_assert_int_eq(nn_rmsprop_step(w, square, g, 1, &config), NN_OK);
    ck_assert_real_near(w[0], -0.1 / (sqrt(0.5) + 0.25), TEST_TOLERANCE);
}
END_TEST

Suite *rmsprop_suite(void);
Suite *rmsprop_suite(void)
{
    Suite *suite = suite_create("rmsprop");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, rmsprop_matches_pytorch_trajectory, 0,
                        (int)(sizeof rmsprop_cases / sizeof rmsprop_cases[0]));
    tcase_add_test(tc, first_step_has_size_lr_over_sqrt_one_minus_rho);
    tcase_add_test(tc, step_is_nearly_invariant_to_gradient_scale);
    tcase_add_test(tc, epsilon_is_added_outside_the_square_root);
    suite_add_tcase(suite, tc);
    return suite;
}
