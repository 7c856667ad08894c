/*
 * check_optimizer.c - the optimizer object: PyTorch's trajectories through
 * it (including two parameter groups, one without weight decay), its own
 * step counter for Adam, the decay flag, the learning rate, and the
 * configurations it must refuse.
 */
#include "nn/optim.h"
#include "fixture.h"
#include "testutil.h"

#define OPTIM_TOLERANCE (NN_REAL_IS_DOUBLE ? 1e-12 : 2e-6)
#define MAX_FIXTURE_VALUES 64

static nn_optimizer_config sgd_config(double lr, double momentum, bool nesterov, double decay)
{
    nn_optimizer_config config = nn_optimizer_default_config(NN_OPTIMIZER_SGD, lr);
    config.sgd.momentum = momentum;
    config.sgd.nesterov = nesterov;
    config.sgd.weight_decay = decay;
    return config;
}

static nn_optimizer_config rmsprop_config(double lr, double rho, double decay)
{
    nn_optimizer_config config = nn_optimizer_default_config(NN_OPTIMIZER_RMSPROP, lr);
    config.rmsprop.decay = rho;
    config.rmsprop.weight_decay = decay;
    return config;
}

static nn_optimizer_config adam_config(double lr, double decay, bool decoupled)
{
    nn_optimizer_config config = nn_optimizer_default_config(NN_OPTIMIZER_ADAM, lr);
    config.adam.weight_decay = decay;
    config.adam.decoupled = decoupled;
    return config;
}

static nn_optimizer_config adam_beta1(double beta1)
{
    nn_optimizer_config config = adam_config(0.01, 0.0, false);
    config.adam.beta1 = beta1;
    return config;
}

/* Fixture runs replayed through the optimizer. `split` is the size of the
 * first parameter (weight decay on); the rest of the 7 values form a
 * second parameter without decay. split 7 is a single parameter. */
typedef struct optimizer_case {
    const char *name;
    size_t split;
    nn_optimizer_config (*make)(void);
} optimizer_case;

static nn_optimizer_config make_nesterov_decay(void) { return sgd_config(0.05, 0.8, true, 0.1); }
static nn_optimizer_config make_rmsprop_decay(void) { return rmsprop_config(0.01, 0.99, 0.1); }
static nn_optimizer_config make_adam(void) { return adam_config(0.01, 0.0, false); }
static nn_optimizer_config make_adam_decay(void) { return adam_config(0.01, 0.1, false); }
static nn_optimizer_config make_adamw(void) { return adam_config(0.01, 0.1, true); }
static nn_optimizer_config make_groups_sgd(void) { return sgd_config(0.05, 0.9, false, 0.3); }
static nn_optimizer_config make_groups_rmsprop(void) { return rmsprop_config(0.01, 0.9, 0.3); }
static nn_optimizer_config make_groups_adamw(void) { return adam_config(0.01, 0.3, true); }

static const optimizer_case optimizer_cases[] = {
    { "sgd_nesterov_decay", 7, make_nesterov_decay },
    { "rmsprop_decay", 7, make_rmsprop_decay },
    { "adam", 7, make_adam },
    { "adam_decay", 7, make_adam_decay },
    { "adamw", 7, make_adamw },
    { "groups_sgd_momentum", 4, make_groups_sgd },
    { "groups_rmsprop", 4, make_groups_rmsprop },
    { "groups_adamw", 4, make_groups_adamw },
};

START_TEST(optimizer_matches_pytorch_trajectory)
{
    const optimizer_case *c = &optimizer_cases[_i];
    fixture_file *file = fixture_load("optim");
    const fixture_tensor *w0 = fixture_get(file, "w0");
    const fixture_tensor *grads = fixture_get(file, "grads");
    const fixture_tensor *expected = fixture_get(file, c->name);
    const size_t n = w0->size, steps = grads->shape.dims[0];
    ck_assert_uint_eq(expected->size, steps * n);
    ck_assert_uint_le(expected->size, MAX_FIXTURE_VALUES);

    nn_real w[MAX_FIXTURE_VALUES], g[MAX_FIXTURE_VALUES], trajectory[MAX_FIXTURE_VALUES];
    fixture_copy(w, w0);
    nn_parameter parameters[2] = {
        { .value = w, .grad = g, .count = c->split, .decay = true },
        { .value = w + c->split, .grad = g + c->split, .count = n - c->split, .decay = false },
    };
    nn_optimizer_config config = c->make();
    nn_optimizer *optimizer = NULL;
    nn_error err = { 0 };
    ck_assert_msg(nn_optimizer_new(&optimizer, &config, parameters, c->split < n ? 2 : 1,
                                   &err) == NN_OK,
                  "%s", err.message);
    for (size_t t = 0; t < steps; t++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (nn_real)grads->values[t * n + i];
        ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
        memcpy(&trajectory[t * n], w, n * sizeof *w);
    }
    fixture_assert_close(trajectory, expected, OPTIM_TOLERANCE);
    nn_optimizer_free(optimizer);
    fixture_free(file);
}
END_TEST

START_TEST(weight_decay_skips_parameters_marked_no_decay)
{
    /* A zero gradient: only decay moves anything. */
    nn_real weight[2] = { 1.0, -2.0 }, bias[2] = { 1.0, -2.0 };
    nn_real dweight[2] = { 0 }, dbias[2] = { 0 };
    const nn_parameter parameters[2] = {
        { .value = weight, .grad = dweight, .count = 2, .decay = true },
        { .value = bias, .grad = dbias, .count = 2, .decay = false },
    };
    const nn_optimizer_config configs[] = {
        sgd_config(0.1, 0.0, false, 0.5),
        rmsprop_config(0.1, 0.9, 0.5),
        adam_config(0.1, 0.5, false),
        adam_config(0.1, 0.5, true),
    };
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        weight[0] = bias[0] = 1.0;
        weight[1] = bias[1] = -2.0;
        nn_optimizer *optimizer = NULL;
        ck_assert_int_eq(nn_optimizer_new(&optimizer, &configs[k], parameters, 2, NULL), NN_OK);
        ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
        ck_assert_msg(fabs(weight[0]) < 1.0 && fabs(weight[1]) < 2.0,
                      "config %zu: decayed weights did not shrink", k);
        ck_assert_real_near(bias[0], 1.0, 0.0);
        ck_assert_real_near(bias[1], -2.0, 0.0);
        nn_optimizer_free(optimizer);
    }
}
END_TEST

START_TEST(adam_counts_its_own_steps)
{
    /* The optimizer's t must run 1, 2, 3...: compare with the kernel
     * called with those counts by hand, on a constant gradient (where a
     * wrong t shows at once in the bias correction). */
    enum { N = 3, STEPS = 4 };
    nn_real through[N] = { 0.5, -0.5, 1.0 }, by_hand[N] = { 0.5, -0.5, 1.0 };
    nn_real g[N] = { 0.3, -1.0, 2.0 }, m[N] = { 0 }, v[N] = { 0 };
    nn_parameter parameter = { .value = through, .grad = g, .count = N, .decay = true };
    nn_optimizer_config config = adam_config(0.01, 0.0, false);
    nn_optimizer *optimizer = NULL;
    ck_assert_int_eq(nn_optimizer_new(&optimizer, &config, &parameter, 1, NULL), NN_OK);
    for (long t = 1; t <= STEPS; t++) {
        ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
        ck_assert_int_eq(nn_adam_step(by_hand, m, v, g, N, t, &config.adam), NN_OK);
        for (int i = 0; i < N; i++)
            ck_assert_real_near(through[i], by_hand[i], TEST_TOLERANCE);
    }
    nn_optimizer_free(optimizer);
}
END_TEST

START_TEST(state_starts_at_zero_and_parameter_list_is_copied)
{
    /* SGD with momentum from a zero velocity: the first step is lr g. The
     * caller's parameter array is clobbered after nn_optimizer_new. */
    nn_real w[3] = { 1.0, 2.0, 3.0 }, g[3] = { 1.0, -1.0, 0.5 };
    nn_parameter parameters[1] = { { .value = w, .grad = g, .count = 3, .decay = true } };
    nn_optimizer_config config = sgd_config(0.1, 0.9, false, 0.0);
    nn_optimizer *optimizer = NULL;
    ck_assert_int_eq(nn_optimizer_new(&optimizer, &config, parameters, 1, NULL), NN_OK);
    memset(parameters, 0, sizeof parameters);
    ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
    ck_assert_real_near(w[0], 0.9, TEST_TOLERANCE);
    ck_assert_real_near(w[1], 2.1, TEST_TOLERANCE);
    ck_assert_real_near(w[2], 2.95, TEST_TOLERANCE);
    /* second step: v = 0.9 g + g */
    ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
    ck_assert_real_near(w[0], 0.9 - 0.1 * 1.9, TEST_TOLERANCE);
    nn_optimizer_free(optimizer);
}
END_TEST

START_TEST(learning_rate_can_be_read_and_changed)
{
    nn_real w[2] = { 0, 0 }, g[2] = { 1.0, -2.0 };
    nn_parameter parameter = { .value = w, .grad = g, .count = 2, .decay = false };
    const nn_optimizer_kind kinds[] = { NN_OPTIMIZER_SGD, NN_OPTIMIZER_RMSPROP,
                                        NN_OPTIMIZER_ADAM };
    for (size_t k = 0; k < 3; k++) {
        nn_optimizer_config config = nn_optimizer_default_config(kinds[k], 0.1);
        nn_optimizer *optimizer = NULL;
        ck_assert_int_eq(nn_optimizer_new(&optimizer, &config, &parameter, 1, NULL), NN_OK);
        ck_assert_double_eq(nn_optimizer_learning_rate(optimizer), 0.1);
        nn_optimizer_set_learning_rate(optimizer, 0.0);
        ck_assert_double_eq(nn_optimizer_learning_rate(optimizer), 0.0);
        /* a zero rate must stop the updates, whatever the kind */
        w[0] = w[1] = 0;
        ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
        ck_assert_real_near(w[0], 0.0, 0.0);
        nn_optimizer_set_learning_rate(optimizer, 0.025);
        ck_assert_double_eq(nn_optimizer_learning_rate(optimizer), 0.025);
        nn_optimizer_free(optimizer);
    }
    /* and a changed rate is the one used */
    nn_optimizer_config config = nn_optimizer_default_config(NN_OPTIMIZER_SGD, 0.1);
    nn_optimizer *optimizer = NULL;
    ck_assert_int_eq(nn_optimizer_new(&optimizer, &config, &parameter, 1, NULL), NN_OK);
    nn_optimizer_set_learning_rate(optimizer, 0.025);
    w[0] = w[1] = 0;
    ck_assert_int_eq(nn_optimizer_step(optimizer), NN_OK);
    ck_assert_real_near(w[0], -0.025, TEST_TOLERANCE);
    ck_assert_real_near(w[1], 0.05, TEST_TOLERANCE);
    nn_optimizer_free(optimizer);
}
END_TEST

START_TEST(defaults_are_pytorchs)
{
    nn_optimizer_config config = nn_optimizer_default_config(NN_OPTIMIZER_ADAM, 1e-3);
    ck_assert_int_eq(config.kind, NN_OPTIMIZER_ADAM);
    ck_assert_double_eq(config.adam.learning_rate, 1e-3);
    ck_assert_double_eq(config.adam.beta1, 0.9);
    ck_assert_double_eq(config.adam.beta2, 0.999);
    ck_assert_double_eq(config.adam.epsilon, 1e-8);
    ck_assert(config.adam.bias_correction);
    ck_assert(!config.adam.decoupled);
    ck_assert_double_eq(config.rmsprop.decay, 0.99);
    ck_assert_double_eq(config.sgd.momentum, 0.0);
}
END_TEST

START_TEST(kind_names_parse)
{
    const char *names[] = { "sgd", "rmsprop", "adam" };
    const nn_optimizer_kind kinds[] = { NN_OPTIMIZER_SGD, NN_OPTIMIZER_RMSPROP,
                                        NN_OPTIMIZER_ADAM };
    for (int i = 0; i < 3; i++) {
        nn_optimizer_kind kind = (nn_optimizer_kind)-1;
        ck_assert_int_eq(nn_optimizer_kind_parse(&kind, names[i], NULL), NN_OK);
        ck_assert_int_eq(kind, kinds[i]);
        ck_assert_str_eq(nn_optimizer_kind_name(kinds[i]), names[i]);
    }
    nn_optimizer_kind kind;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_optimizer_kind_parse(&kind, "adagrad", &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "'adagrad'"));
    ck_assert_int_eq(nn_optimizer_kind_parse(&kind, "adamw", &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "decoupled"));
}
END_TEST

START_TEST(bad_configurations_are_refused)
{
    nn_real w[2] = { 0 }, g[2] = { 0 };
    nn_parameter good = { .value = w, .grad = g, .count = 2, .decay = true };
    nn_parameter no_grad = { .value = w, .grad = NULL, .count = 2, .decay = true };
    struct {
        nn_optimizer_config config;
        const nn_parameter *parameters;
        size_t count;
        const char *says;
    } cases[] = {
        { sgd_config(-0.1, 0.0, false, 0.0), &good, 1, "learning_rate" },
        { sgd_config(0.1, 1.0, false, 0.0), &good, 1, "momentum" },
        { sgd_config(0.1, 0.0, true, 0.0), &good, 1, "nesterov" },
        { sgd_config(0.1, 0.0, false, -1.0), &good, 1, "weight_decay" },
        { rmsprop_config(0.1, 1.5, 0.0), &good, 1, "decay" },
        { adam_config(0.1, 0.0, false), &no_grad, 1, "NULL grad" },
        { adam_config(0.1, 0.0, false), &good, 0, "no parameters" },
        { adam_config((double)NAN, 0.0, false), &good, 1, "learning_rate" },
        { adam_beta1(1.0), &good, 1, "beta1" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* Not NULL at first, so that the test sees *out reset on failure. */
        nn_optimizer *optimizer = (nn_optimizer *)(void *)&good;
        nn_error err = { 0 };
        ck_assert_int_eq(nn_optimizer_new(&optimizer, &cases[k].config, cases[k].parameters,
                                          cases[k].count, &err),
                         NN_ERR_ARGUMENT);
        ck_assert_ptr_null(optimizer);
        ck_assert_msg(strstr(err.message, cases[k].says) != NULL,
                      "case %zu: message '%s' does not mention '%s'", k, err.message,
                      cases[k].says);
    }
    nn_optimizer_config config = adam_config(0.1, 0.0, false);
    config.kind = (nn_optimizer_kind)42;
    nn_optimizer *optimizer = NULL;
    ck_assert_int_eq(nn_optimizer_new(&optimizer, &config, &good, 1, NULL), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_optimizer_step(NULL), NN_ERR_ARGUMENT);
    nn_optimizer_free(NULL);
}
END_TEST

Suite *optimizer_suite(void);
Suite *optimizer_suite(void)
{
    Suite *suite = suite_create("optimizer");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, optimizer_matches_pytorch_trajectory, 0,
                        (int)(sizeof optimizer_cases / sizeof optimizer_cases[0]));
    tcase_add_test(tc, weight_decay_skips_parameters_marked_no_decay);
    tcase_add_test(tc, adam_counts_its_own_steps);
    tcase_add_test(tc, state_starts_at_zero_and_parameter_list_is_copied);
    tcase_add_test(tc, learning_rate_can_be_read_and_changed);
    tcase_add_test(tc, defaults_are_pytorchs);
    tcase_add_test(tc, kind_names_parse);
    tcase_add_test(tc, bad_configurations_are_refused);
    suite_add_tcase(suite, tc);
    return suite;
}
