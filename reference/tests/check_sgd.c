/*
 * check_sgd.c - SGD, momentum, Nesterov and weight decay: PyTorch's
 * trajectories, and the facts the course states about them (weight decay
 * is L2 regularisation; momentum speeds up under a steady gradient).
 */
#include "nn/optim.h"
#include "fixture.h"
#include "testutil.h"

/* Agreement with the float64 fixtures after five steps. */
#define OPTIM_TOLERANCE (NN_REAL_IS_DOUBLE ? 1e-12 : 2e-6)

#define MAX_FIXTURE_VALUES 64

/* ---- PyTorch trajectories ------------------------------------------------ */

static const struct {
    const char *name;
    nn_sgd_config config;
} sgd_cases[] = {
    { "sgd_plain", { .learning_rate = 0.1 } },
    { "sgd_decay", { .learning_rate = 0.1, .weight_decay = 0.2 } },
    { "sgd_momentum", { .learning_rate = 0.1, .momentum = 0.9 } },
    { "sgd_nesterov", { .learning_rate = 0.1, .momentum = 0.9, .nesterov = true } },
    { "sgd_momentum_decay", { .learning_rate = 0.05, .momentum = 0.8, .weight_decay = 0.1 } },
    { "sgd_nesterov_decay",
      { .learning_rate = 0.05, .momentum = 0.8, .nesterov = true, .weight_decay = 0.1 } },
};

START_TEST(sgd_matches_pytorch_trajectory)
{
    fixture_file *file = fixture_load("optim");
    const fixture_tensor *w0 = fixture_get(file, "w0");
    const fixture_tensor *grads = fixture_get(file, "grads");
    const fixture_tensor *expected = fixture_get(file, sgd_cases[_i].name);
    const size_t n = w0->size, steps = grads->shape.dims[0];
    ck_assert_uint_eq(expected->size, steps * n);
    ck_assert_uint_le(expected->size, MAX_FIXTURE_VALUES);

    nn_real w[MAX_FIXTURE_VALUES], velocity[MAX_FIXTURE_VALUES] = { 0 };
    nn_real g[MAX_FIXTURE_VALUES], trajectory[MAX_FIXTURE_VALUES];
    fixture_copy(w, w0);
    for (size_t t = 0; t < steps; t++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (nn_real)grads->values[t * n + i];
        ck_assert_int_eq(nn_sgd_step(w, velocity, g, n, &sgd_cases[_i].config), NN_OK);
        memcpy(&trajectory[t * n], w, n * sizeof *w);
    }
    fixture_assert_close(trajectory, expected, OPTIM_TOLERANCE);
    fixture_free(file);
}
END_TEST

/* ---- weight decay is L2 regularisation ----------------------------------- */

START_TEST(weight_decay_shrinks_weights_then_steps)
{
    /* w <- (1 - lr lambda) w - lr grad */
    enum { N = 40 };
    const double lr = 0.1, lambda = 0.3;
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_real w[N], before[N], g[N];
    test_fill_uniform(w, N, &rng, -2.0, 2.0);
    test_fill_uniform(g, N, &rng, -1.0, 1.0);
    memcpy(before, w, sizeof w);
    nn_sgd_config config = { .learning_rate = lr, .weight_decay = lambda };
    ck_assert_int_eq(nn_sgd_step(w, NULL, g, N, &config), NN_OK);
    for (int i = 0; i < N; i++)
        ck_assert_real_near(w[i], (1.0 - lr * lambda) * before[i] - lr * g[i],
                            TEST_TOLERANCE);
}
END_TEST

START_TEST(weight_decay_equals_sgd_on_loss_with_l2_penalty)
{
    /* Weight decay lambda in the optimizer against the gradient of
     * loss + lambda/2 ||w||^2 with no decay: the same weights, step after
     * step, with momentum too. */
    enum { N = 25, STEPS = 6 };
    const double lambda = 0.05;
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    nn_real decayed[N], penalised[N], v1[N] = { 0 }, v2[N] = { 0 };
    test_fill_uniform(decayed, N, &rng, -1.0, 1.0);
    memcpy(penalised, decayed, sizeof decayed);
    nn_sgd_config with_decay = { .learning_rate = 0.2, .momentum = 0.9,
                                 .weight_decay = lambda };
    nn_sgd_config without = with_decay;
    without.weight_decay = 0.0;
    for (int t = 0; t < STEPS; t++) {
        nn_real g[N], g_penalised[N];
        test_fill_uniform(g, N, &rng, -1.0, 1.0);
        memcpy(g_penalised, g, sizeof g);
        ck_assert_int_eq(nn_l2_penalty_backward(g_penalised, penalised, N, lambda), NN_OK);
        ck_assert_int_eq(nn_sgd_step(decayed, v1, g, N, &with_decay), NN_OK);
        ck_assert_int_eq(nn_sgd_step(penalised, v2, g_penalised, N, &without), NN_OK);
    }
    for (int i = 0; i < N; i++)
        ck_assert_real_near(decayed[i], penalised[i], TEST_TOLERANCE);
}
END_TEST

/* ---- momentum ------------------------------------------------------------ */

START_TEST(momentum_accelerates_under_a_constant_gradient)
{
    /* v_t = g (1 - m^t) / (1 - m) -> g / (1 - m): the step grows to ten
     * times the plain one for m = 0.9. */
    enum { N = 3, STEPS = 300 };
    const double lr = 0.01, momentum = 0.9;
    nn_real w[N] = { 0 }, v[N] = { 0 };
    const nn_real g[N] = { 1.0, -0.5, 2.0 };
    nn_sgd_config config = { .learning_rate = lr, .momentum = momentum };
    double first_step = 0.0, last_step = 0.0, previous_step = 0.0;
    for (int t = 0; t < STEPS; t++) {
        /* Each step starts from w = 0, so that the displacement is read
         * without the rounding of a growing weight (the velocity carries
         * the history, the weights do not). */
        memset(w, 0, sizeof w);
        ck_assert_int_eq(nn_sgd_step(w, v, g, N, &config), NN_OK);
        double step = fabs((double)w[0]);
        if (t == 0)
            first_step = step;
        ck_assert_msg(step >= previous_step * (1.0 - 1e-6),
                      "step %d shrank under a constant gradient: %g after %g", t, step,
                      previous_step);
        previous_step = last_step = step;
    }
    ck_assert_real_near(first_step, lr * 1.0, TEST_TOLERANCE);
    ck_assert_real_near(last_step / first_step, 1.0 / (1.0 - momentum), 1e-4);
    for (int i = 0; i < N; i++)
        ck_assert_real_near(v[i], g[i] / (1.0 - momentum), 1e-5);
}
END_TEST

START_TEST(nesterov_first_step_looks_ahead)
{
    /* From v = 0: v = g, so momentum steps by lr g and Nesterov by
     * lr (g + m g). */
    const nn_real g[2] = { 0.5, -2.0 };
    nn_real plain[2] = { 1.0, 1.0 }, ahead[2] = { 1.0, 1.0 };
    nn_real v1[2] = { 0 }, v2[2] = { 0 };
    nn_sgd_config momentum = { .learning_rate = 0.1, .momentum = 0.9 };
    nn_sgd_config nesterov = momentum;
    nesterov.nesterov = true;
    ck_assert_int_eq(nn_sgd_step(plain, v1, g, 2, &momentum), NN_OK);
    ck_assert_int_eq(nn_sgd_step(ahead, v2, g, 2, &nesterov), NN_OK);
    for (int i = 0; i < 2; i++) {
        ck_assert_real_near(plain[i], 1.0 - 0.1 * g[i], TEST_TOLERANCE);
        ck_assert_real_near(ahead[i], 1.0 - 0.1 * 1.9 * g[i], TEST_TOLERANCE);
        ck_assert_real_near(v2[i], g[i], TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(plain_sgd_leaves_velocity_untouched)
{
    nn_real w[3] = { 1.0, 2.0, 3.0 }, v[3] = { 7.0, 7.0, 7.0 };
    const nn_real g[3] = { 1.0, -1.0, 0.5 };
    nn_sgd_config config = { .learning_rate = 0.5 };
    ck_assert_int_eq(nn_sgd_step(w, v, g, 3, &config), NN_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_real_near(v[i], 7.0, 0.0);
    ck_assert_real_near(w[0], 0.5, TEST_TOLERANCE);
    ck_assert_real_near(w[1], 2.5, TEST_TOLERANCE);
    ck_assert_real_near(w[2], 2.75, TEST_TOLERANCE);
    /* and needs no buffer at all */
    ck_assert_int_eq(nn_sgd_step(w, NULL, g, 3, &config), NN_OK);
    ck_assert_real_near(w[0], 0.0, TEST_TOLERANCE);
}
END_TEST

Suite *sgd_suite(void);
Suite *sgd_suite(void)
{
    Suite *suite = suite_create("sgd");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, sgd_matches_pytorch_trajectory, 0,
                        (int)(sizeof sgd_cases / sizeof sgd_cases[0]));
    tcase_add_test(tc, weight_decay_shrinks_weights_then_steps);
    tcase_add_test(tc, weight_decay_equals_sgd_on_loss_with_l2_penalty);
    tcase_add_test(tc, momentum_accelerates_under_a_constant_gradient);
    tcase_add_test(tc, nesterov_first_step_looks_ahead);
    tcase_add_test(tc, plain_sgd_leaves_velocity_untouched);
    suite_add_tcase(suite, tc);
    return suite;
}
