/*
 * check_adam.c - Adam and AdamW against PyTorch, and bias correction: the
 * first step has size about lr per coordinate with it, and without it is
 * off by the factor (1 - b1) / sqrt(1 - b2) that the moments' zero start
 * introduces (smaller or larger depending on the betas).
 */
#include "nn/optim.h"
#include "fixture.h"
#include "testutil.h"

#define OPTIM_TOLERANCE (NN_REAL_IS_DOUBLE ? 1e-12 : 2e-6)
#define MAX_FIXTURE_VALUES 64

static const struct {
    const char *name;
    nn_adam_config config;
} adam_cases[] = {
    { "adam",
      { .learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8,
        .bias_correction = true } },
    { "adam_large_eps",
      { .learning_rate = 0.01, .beta1 = 0.8, .beta2 = 0.95, .epsilon = 0.05,
        .bias_correction = true } },
    { "adam_decay",
      { .learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8,
        .weight_decay = 0.1, .bias_correction = true } },
    { "adamw",
      { .learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8,
        .weight_decay = 0.1, .decoupled = true, .bias_correction = true } },
};

static nn_adam_config default_adam(void)
{
    nn_adam_config config = { .learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.999,
                              .epsilon = 1e-8, .bias_correction = true };
    return config;
}

START_TEST(adam_matches_pytorch_trajectory)
{
    fixture_file *file = fixture_load("optim");
    const fixture_tensor *w0 = fixture_get(file, "w0");
    const fixture_tensor *grads = fixture_get(file, "grads");
    const fixture_tensor *expected = fixture_get(file, adam_cases[_i].name);
    const size_t n = w0->size, steps = grads->shape.dims[0];
    ck_assert_uint_eq(expected->size, steps * n);
    ck_assert_uint_le(expected->size, MAX_FIXTURE_VALUES);

    nn_real w[MAX_FIXTURE_VALUES], m[MAX_FIXTURE_VALUES] = { 0 }, v[MAX_FIXTURE_VALUES] = { 0 };
    nn_real g[MAX_FIXTURE_VALUES], trajectory[MAX_FIXTURE_VALUES];
    fixture_copy(w, w0);
    for (size_t t = 0; t < steps; t++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (nn_real)grads->values[t * n + i];
        ck_assert_int_eq(nn_adam_step(w, m, v, g, n, (long)t + 1, &adam_cases[_i].config),
                         NN_OK);
        memcpy(&trajectory[t * n], w, n * sizeof *w);
    }
    fixture_assert_close(trajectory, expected, OPTIM_TOLERANCE);
    fixture_free(file);
}
END_TEST

/* Gradients over six orders of magnitude, both signs. */
enum { SPREAD = 6 };
static const nn_real spread_grad[SPREAD] = { 1e-3, -0.02, 0.5, -3.0, 40.0, -700.0 };

START_TEST(first_step_is_about_lr_per_coordinate_with_bias_correction)
{
    /* m^ = g and v^ = g^2 at t = 1, so dw = -lr g / (|g| + eps). */
    nn_real w[SPREAD] = { 0 }, m[SPREAD] = { 0 }, v[SPREAD] = { 0 };
    nn_adam_config config = default_adam();
    ck_assert_int_eq(nn_adam_step(w, m, v, spread_grad, SPREAD, 1, &config), NN_OK);
    for (int i = 0; i < SPREAD; i++) {
        ck_assert_real_near(fabs((double)w[i]), 0.01, 1e-4);
        ck_assert_msg((w[i] < 0) == (spread_grad[i] > 0), "coordinate %d moved uphill", i);
    }
}
END_TEST

/* Beta pairs for which the uncorrected first step is too small and too
 * large: (1 - b1) / sqrt(1 - b2) is 0.316 and 3.16. */
static const struct {
    double beta1, beta2;
} beta_cases[] = { { 0.9, 0.9 }, { 0.9, 0.999 } };

START_TEST(first_step_without_bias_correction_is_off_by_known_factor)
{
    /* Uncorrected, m = (1 - b1) g and v = (1 - b2) g^2 at t = 1, so
     * dw = -lr (1 - b1) g / (sqrt(1 - b2) |g|): the corrected step times
     * (1 - b1) / sqrt(1 - b2). */
    const double beta1 = beta_cases[_i].beta1, beta2 = beta_cases[_i].beta2;
    nn_real corrected[SPREAD] = { 0 }, raw[SPREAD] = { 0 };
    nn_real m1[SPREAD] = { 0 }, v1[SPREAD] = { 0 }, m2[SPREAD] = { 0 }, v2[SPREAD] = { 0 };
    nn_adam_config with = default_adam();
    with.beta1 = beta1;
    with.beta2 = beta2;
    nn_adam_config without = with;
    without.bias_correction = false;
    ck_assert_int_eq(nn_adam_step(corrected, m1, v1, spread_grad, SPREAD, 1, &with), NN_OK);
    ck_assert_int_eq(nn_adam_step(raw, m2, v2, spread_grad, SPREAD, 1, &without), NN_OK);
    const double factor = (1.0 - beta1) / sqrt(1.0 - beta2);
    for (int i = 0; i < SPREAD; i++) {
        /* eps (1e-8) is negligible next to sqrt(1 - b2) |g| >= 3e-5 */
        ck_assert_real_near((double)raw[i] / (double)corrected[i], factor, 1e-3);
        /* The stored moments are the biased ones either way. */
        ck_assert_real_near(m2[i], m1[i], 0.0);
        ck_assert_real_near(m1[i], (1.0 - beta1) * (double)spread_grad[i], TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(bias_correction_undoes_the_zero_start_of_the_moments)
{
    /* After t steps of a constant g, m = (1 - b1^t) g and
     * v = (1 - b2^t) g^2: the corrected moments are exactly g and g^2. */
    enum { STEPS = 7 };
    nn_real w[1] = { 0 }, m[1] = { 0 }, v[1] = { 0 };
    const nn_real g[1] = { 0.75 };
    nn_adam_config config = default_adam();
    for (long t = 1; t <= STEPS; t++)
        ck_assert_int_eq(nn_adam_step(w, m, v, g, 1, t, &config), NN_OK);
    const double tolerance = NN_REAL_IS_DOUBLE ? 1e-12 : 1e-5;
    ck_assert_real_near(m[0] / (1.0 - pow(0.9, STEPS)), 0.75, tolerance);
    ck_assert_real_near(v[0] / (1.0 - pow(0.999, STEPS)), 0.75 * 0.75, tolerance);
    /* and every corrected step was lr, so w moved by STEPS lr */
    ck_assert_real_near(w[0], -STEPS * 0.01, 1e-5);
}
END_TEST

START_TEST(bias_correction_fades_as_steps_accumulate)
{
    /* With a constant gradient the uncorrected step at t is
     * lr (1 - b1^t) / sqrt(1 - b2^t): 3.16 lr at t = 1 for the usual betas,
     * tending to lr as both powers vanish. */
    nn_real w[1], m[1] = { 0 }, v[1] = { 0 };
    const nn_real g[1] = { -2.0 };
    nn_adam_config config = default_adam();
    config.bias_correction = false;
    const long steps = 20000;
    for (long t = 1; t <= steps; t++) {
        w[0] = 0; /* read each step's displacement alone */
        ck_assert_int_eq(nn_adam_step(w, m, v, g, 1, t, &config), NN_OK);
        if (t == 1)
            ck_assert_real_near(w[0], 0.01 * 0.1 / sqrt(0.001), 1e-5);
    }
    ck_assert_real_near(w[0], 0.01, 1e-5);
}
END_TEST

START_TEST(adamw_decay_bypasses_the_adaptive_denominator)
{
    /* Zero gradient. AdamW shrinks every weight by (1 - lr wd). Adam's L2
     * decay is a gradient wd w, normalised like any other: each weight
     * moves by about lr, so a large weight is hardly decayed. */
    nn_real decoupled[2] = { 1.0, 100.0 }, coupled[2] = { 1.0, 100.0 };
    nn_real m1[2] = { 0 }, v1[2] = { 0 }, m2[2] = { 0 }, v2[2] = { 0 };
    const nn_real zero[2] = { 0 };
    nn_adam_config adamw = default_adam();
    adamw.weight_decay = 0.1;
    adamw.decoupled = true;
    nn_adam_config adam = adamw;
    adam.decoupled = false;
    ck_assert_int_eq(nn_adam_step(decoupled, m1, v1, zero, 2, 1, &adamw), NN_OK);
    ck_assert_int_eq(nn_adam_step(coupled, m2, v2, zero, 2, 1, &adam), NN_OK);
    ck_assert_real_near(decoupled[0], 1.0 * (1.0 - 0.01 * 0.1), TEST_TOLERANCE);
    ck_assert_real_near(decoupled[1], 100.0 * (1.0 - 0.01 * 0.1), TEST_TOLERANCE);
    ck_assert_real_near(coupled[0], 1.0 - 0.01, 1e-5);
    ck_assert_real_near(coupled[1] / 100.0, (100.0 - 0.01) / 100.0, 1e-6);
    /* AdamW's moments saw only the (zero) gradient. */
    ck_assert_real_near(m1[1], 0.0, 0.0);
    ck_assert_double_gt((double)m2[1], 0.0);
}
END_TEST

START_TEST(step_counter_below_one_is_refused)
{
    nn_real w[1] = { 3.0 }, m[1] = { 0 }, v[1] = { 0 };
    const nn_real g[1] = { 1.0 };
    nn_adam_config config = default_adam();
    ck_assert_int_eq(nn_adam_step(w, m, v, g, 1, 0, &config), NN_ERR_ARGUMENT);
    ck_assert_real_near(w[0], 3.0, 0.0);
    ck_assert_real_near(m[0], 0.0, 0.0);
}
END_TEST

Suite *adam_suite(void);
Suite *adam_suite(void)
{
    Suite *suite = suite_create("adam");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, adam_matches_pytorch_trajectory, 0,
                        (int)(sizeof adam_cases / sizeof adam_cases[0]));
    tcase_add_test(tc, first_step_is_about_lr_per_coordinate_with_bias_correction);
    tcase_add_loop_test(tc, first_step_without_bias_correction_is_off_by_known_factor, 0,
                        (int)(sizeof beta_cases / sizeof beta_cases[0]));
    tcase_add_test(tc, bias_correction_undoes_the_zero_start_of_the_moments);
    tcase_add_test(tc, bias_correction_fades_as_steps_accumulate);
    tcase_add_test(tc, adamw_decay_bypasses_the_adaptive_denominator);
    tcase_add_test(tc, step_counter_below_one_is_refused);
    suite_add_tcase(suite, tc);
    return suite;
}
