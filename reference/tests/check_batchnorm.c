/*
 * check_batchnorm.c - batch normalisation over (N, C, S): agreement with
 * PyTorch for fully-connected and convolutional inputs, the running
 * statistics, eval mode, gradients by central differences, and the two
 * learnable values per channel.
 */
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "fixture.h"
#include "testutil.h"

/* ---- agreement with PyTorch (fixtures/make_batchnorm.py) --------------- */

typedef struct bn_case {
    const char *prefix;
    int batch, channels, spatial;
} bn_case;

/* BatchNorm1d on (6, 3) and BatchNorm2d on (3, 4, 2, 3). */
static const bn_case fixture_cases[] = {
    { "fc_", 6, 3, 1 },
    { "conv_", 3, 4, 6 },
};

enum { MAX_VALUES = 128, MAX_CHANNELS = 8 };

typedef struct bn_fixture {
    fixture_file *file;
    const bn_case *shape;
    size_t count;
    nn_real x[MAX_VALUES], x_eval[MAX_VALUES], dout[MAX_VALUES], dout_eval[MAX_VALUES];
    nn_real gamma[MAX_CHANNELS], beta[MAX_CHANNELS];
    nn_real running_mean[MAX_CHANNELS], running_var[MAX_CHANNELS];
} bn_fixture;

static const fixture_tensor *get(const bn_fixture *f, const char *name, size_t count)
{
    char full[64];
    snprintf(full, sizeof full, "%s%s", f->shape->prefix, name);
    const fixture_tensor *t = fixture_get(f->file, full);
    ck_assert_msg(t->size == count, "fixture %s has %zu values, expected %zu", full, t->size,
                  count);
    return t;
}

static void load_bn_fixture(bn_fixture *f, int which)
{
    f->file = fixture_load("batchnorm");
    f->shape = &fixture_cases[which];
    f->count = (size_t)f->shape->batch * f->shape->channels * f->shape->spatial;
    size_t c = (size_t)f->shape->channels;
    ck_assert(f->count <= MAX_VALUES && c <= MAX_CHANNELS);
    fixture_copy(f->x, get(f, "x", f->count));
    fixture_copy(f->x_eval, get(f, "x_eval", f->count));
    fixture_copy(f->dout, get(f, "dout", f->count));
    fixture_copy(f->dout_eval, get(f, "dout_eval", f->count));
    fixture_copy(f->gamma, get(f, "gamma", c));
    fixture_copy(f->beta, get(f, "beta", c));
    fixture_copy(f->running_mean, get(f, "running_mean", c));
    fixture_copy(f->running_var, get(f, "running_var", c));
}

static const nn_batchnorm_config pytorch_training = { .momentum = (nn_real)0.1,
                                                      .epsilon = (nn_real)1e-5,
                                                      .training = true };
static const nn_batchnorm_config pytorch_eval = { .momentum = (nn_real)0.1,
                                                  .epsilon = (nn_real)1e-5,
                                                  .training = false };

START_TEST(batchnorm_training_step_matches_pytorch)
{
    bn_fixture f;
    load_bn_fixture(&f, _i);
    const int n = f.shape->batch, c = f.shape->channels, s = f.shape->spatial;
    nn_real out[MAX_VALUES], mean[MAX_CHANNELS], inv_std[MAX_CHANNELS];
    nn_real dx[MAX_VALUES] = { 0 }, dgamma[MAX_CHANNELS] = { 0 }, dbeta[MAX_CHANNELS] = { 0 };
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, f.x, f.gamma, f.beta,
                                          f.running_mean, f.running_var, n, c, s,
                                          &pytorch_training),
                     NN_OK);
    fixture_assert_close(out, get(&f, "out", f.count), TEST_TOLERANCE);
    fixture_assert_close(f.running_mean, get(&f, "running_mean_after", (size_t)c),
                         TEST_TOLERANCE);
    fixture_assert_close(f.running_var, get(&f, "running_var_after", (size_t)c),
                         TEST_TOLERANCE);
    ck_assert_int_eq(nn_batchnorm_backward(dx, dgamma, dbeta, f.dout, f.x, mean, inv_std,
                                           f.gamma, n, c, s, &pytorch_training),
                     NN_OK);
    fixture_assert_close(dx, get(&f, "dx", f.count), TEST_TOLERANCE);
    fixture_assert_close(dgamma, get(&f, "dgamma", (size_t)c), TEST_TOLERANCE);
    fixture_assert_close(dbeta, get(&f, "dbeta", (size_t)c), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(batchnorm_eval_step_matches_pytorch)
{
    /* PyTorch ran eval after its training step, with the updated running
     * statistics: start from those. */
    bn_fixture f;
    load_bn_fixture(&f, _i);
    const int n = f.shape->batch, c = f.shape->channels, s = f.shape->spatial;
    fixture_copy(f.running_mean, get(&f, "running_mean_after", (size_t)c));
    fixture_copy(f.running_var, get(&f, "running_var_after", (size_t)c));
    nn_real kept_mean[MAX_CHANNELS], kept_var[MAX_CHANNELS];
    memcpy(kept_mean, f.running_mean, sizeof kept_mean);
    memcpy(kept_var, f.running_var, sizeof kept_var);
    nn_real out[MAX_VALUES], mean[MAX_CHANNELS], inv_std[MAX_CHANNELS];
    nn_real dx[MAX_VALUES] = { 0 }, dgamma[MAX_CHANNELS] = { 0 }, dbeta[MAX_CHANNELS] = { 0 };
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, f.x_eval, f.gamma, f.beta,
                                          f.running_mean, f.running_var, n, c, s, &pytorch_eval),
                     NN_OK);
    fixture_assert_close(out, get(&f, "eval_out", f.count), TEST_TOLERANCE);
    /* Eval mode leaves the running statistics alone. */
    for (int k = 0; k < c; k++)
        ck_assert(f.running_mean[k] == kept_mean[k] && f.running_var[k] == kept_var[k]);
    ck_assert_int_eq(nn_batchnorm_backward(dx, dgamma, dbeta, f.dout_eval, f.x_eval, mean,
                                           inv_std, f.gamma, n, c, s, &pytorch_eval),
                     NN_OK);
    fixture_assert_close(dx, get(&f, "eval_dx", f.count), TEST_TOLERANCE);
    fixture_assert_close(dgamma, get(&f, "eval_dgamma", (size_t)c), TEST_TOLERANCE);
    fixture_assert_close(dbeta, get(&f, "eval_dbeta", (size_t)c), TEST_TOLERANCE);
    fixture_free(f.file);
}
END_TEST

START_TEST(batchnorm_backward_accumulates_into_gradients)
{
    bn_fixture f;
    load_bn_fixture(&f, _i);
    const int n = f.shape->batch, c = f.shape->channels, s = f.shape->spatial;
    nn_real out[MAX_VALUES], mean[MAX_CHANNELS], inv_std[MAX_CHANNELS];
    nn_real dx[MAX_VALUES], dgamma[MAX_CHANNELS], dbeta[MAX_CHANNELS];
    for (size_t i = 0; i < f.count; i++)
        dx[i] = (nn_real)(0.125 * (double)i - 2);
    for (int k = 0; k < c; k++) {
        dgamma[k] = (nn_real)(1 + k);
        dbeta[k] = (nn_real)(-1 - 2 * k);
    }
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, f.x, f.gamma, f.beta,
                                          f.running_mean, f.running_var, n, c, s,
                                          &pytorch_training),
                     NN_OK);
    ck_assert_int_eq(nn_batchnorm_backward(dx, dgamma, dbeta, f.dout, f.x, mean, inv_std,
                                           f.gamma, n, c, s, &pytorch_training),
                     NN_OK);
    const fixture_tensor *want_dx = get(&f, "dx", f.count);
    const fixture_tensor *want_dgamma = get(&f, "dgamma", (size_t)c);
    const fixture_tensor *want_dbeta = get(&f, "dbeta", (size_t)c);
    for (size_t i = 0; i < f.count; i++)
        ck_assert_real_near(dx[i], 0.125 * (double)i - 2 + want_dx->values[i], TEST_TOLERANCE);
    for (int k = 0; k < c; k++) {
        ck_assert_real_near(dgamma[k], 1 + k + want_dgamma->values[k], TEST_TOLERANCE);
        ck_assert_real_near(dbeta[k], -1 - 2 * k + want_dbeta->values[k], TEST_TOLERANCE);
    }
    fixture_free(f.file);
}
END_TEST

/* ---- running statistics and eval mode ---------------------------------- */

/* Per-channel mean and unbiased variance of an (N, C, S) array, computed
 * here independently of the kernel. */
static void channel_statistics(double *mean, double *unbiased, const nn_real *x, int n, int c,
                               int s)
{
    for (int k = 0; k < c; k++) {
        double sum = 0, squares = 0;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < s; j++)
                sum += x[(b * c + k) * s + j];
        mean[k] = sum / (n * s);
        for (int b = 0; b < n; b++)
            for (int j = 0; j < s; j++) {
                double d = x[(b * c + k) * s + j] - mean[k];
                squares += d * d;
            }
        unbiased[k] = squares / (n * s - 1);
    }
}

static const double momenta[] = { 0.1, 0.3, 1.0 };

START_TEST(batchnorm_running_statistics_after_one_step)
{
    /* running = (1 - m) init + m batch, with the batch variance unbiased. */
    enum { N = 5, C = 3, S = 4, COUNT = N * C * S };
    const double m = momenta[_i];
    nn_real x[COUNT], out[COUNT], gamma[C], beta[C], mean[C], inv_std[C];
    nn_real running_mean[C], running_var[C];
    const double init_mean[C] = { 0.5, -1.0, 2.0 }, init_var[C] = { 1.0, 0.25, 3.0 };
    nn_rng rng;
    nn_rng_seed(&rng, 101);
    test_fill_uniform(x, COUNT, &rng, -2, 3);
    test_fill_uniform(gamma, C, &rng, 0.5, 1.5);
    test_fill_uniform(beta, C, &rng, -1, 1);
    for (int k = 0; k < C; k++) {
        running_mean[k] = (nn_real)init_mean[k];
        running_var[k] = (nn_real)init_var[k];
    }
    nn_batchnorm_config config = { .momentum = (nn_real)m, .epsilon = (nn_real)1e-5,
                                   .training = true };
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, x, gamma, beta, running_mean,
                                          running_var, N, C, S, &config),
                     NN_OK);
    double batch_mean[C], batch_var[C];
    channel_statistics(batch_mean, batch_var, x, N, C, S);
    for (int k = 0; k < C; k++) {
        ck_assert_real_near(running_mean[k], (1 - m) * init_mean[k] + m * batch_mean[k],
                            TEST_TOLERANCE);
        ck_assert_real_near(running_var[k], (1 - m) * init_var[k] + m * batch_var[k],
                            TEST_TOLERANCE);
        /* The saved statistics are the batch's, with the biased variance. */
        double biased = batch_var[k] * (N * S - 1) / (N * S);
        ck_assert_real_near(mean[k], batch_mean[k], TEST_TOLERANCE);
        ck_assert_real_near(inv_std[k], 1 / sqrt(biased + 1e-5), TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(batchnorm_training_output_is_normalised_per_channel)
{
    /* Each channel of gamma xhat + beta has mean beta and (biased) variance
     * gamma^2 var / (var + eps). */
    enum { N = 4, C = 3, S = 5, COUNT = N * C * S };
    nn_real x[COUNT], out[COUNT], mean[C], inv_std[C];
    nn_real gamma[C] = { 2, (nn_real)0.5, -1 }, beta[C] = { 1, -3, (nn_real)0.25 };
    nn_real running_mean[C] = { 0 }, running_var[C] = { 1, 1, 1 };
    nn_rng rng;
    nn_rng_seed(&rng, 102);
    for (int b = 0; b < N; b++)
        for (int k = 0; k < C; k++)
            test_fill_uniform(x + (b * C + k) * S, S, &rng, 5.0 * k - 4, 5.0 * k + 1);
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, x, gamma, beta, running_mean,
                                          running_var, N, C, S, &pytorch_training),
                     NN_OK);
    double batch_mean[C], batch_var[C], out_mean[C], out_var[C];
    channel_statistics(batch_mean, batch_var, x, N, C, S);
    channel_statistics(out_mean, out_var, out, N, C, S);
    for (int k = 0; k < C; k++) {
        double biased = batch_var[k] * (N * S - 1) / (N * S);
        double out_biased = out_var[k] * (N * S - 1) / (N * S);
        ck_assert_real_near(out_mean[k], beta[k], 10 * TEST_TOLERANCE);
        ck_assert_real_near(out_biased, (double)gamma[k] * gamma[k] * biased / (biased + 1e-5),
                            10 * TEST_TOLERANCE);
    }
}
END_TEST

START_TEST(batchnorm_eval_uses_running_statistics_not_the_batch)
{
    /* A batch centred at 10 with spread 3 goes through a layer whose running
     * statistics say mean 0.5, variance 4. Eval mode must use the latter:
     * out = gamma (x - 0.5) / sqrt(4 + eps) + beta, whose channel mean is
     * far from beta. Batch statistics would give mean beta. */
    enum { N = 8, C = 2, S = 3, COUNT = N * C * S };
    nn_real x[COUNT], out[COUNT], mean[C], inv_std[C];
    nn_real gamma[C] = { (nn_real)1.5, (nn_real)0.75 }, beta[C] = { (nn_real)-0.5, 2 };
    nn_real running_mean[C] = { (nn_real)0.5, (nn_real)0.5 }, running_var[C] = { 4, 4 };
    nn_rng rng;
    nn_rng_seed(&rng, 103);
    test_fill_uniform(x, COUNT, &rng, 7, 13);
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, x, gamma, beta, running_mean,
                                          running_var, N, C, S, &pytorch_eval),
                     NN_OK);
    double out_mean[C], out_var[C];
    channel_statistics(out_mean, out_var, out, N, C, S);
    for (int b = 0; b < N; b++)
        for (int k = 0; k < C; k++)
            for (int j = 0; j < S; j++) {
                size_t i = (size_t)(b * C + k) * S + j;
                ck_assert_real_near(out[i], gamma[k] * (x[i] - 0.5) / sqrt(4 + 1e-5) + beta[k],
                                    TEST_TOLERANCE);
            }
    for (int k = 0; k < C; k++) {
        ck_assert(fabs(out_mean[k] - beta[k]) > 1.0);
        ck_assert(running_mean[k] == (nn_real)0.5 && running_var[k] == 4);
    }
}
END_TEST

START_TEST(batchnorm_statistics_stay_accurate_for_a_large_mean)
{
    /* Values 1e6 + u, u in [-1, 1]: the one-pass E[x^2] - E[x]^2 loses
     * most of its digits here (x^2 ~ 1e12 against a variance ~ 1/3); two
     * passes in double do not. Momentum 1 makes running_var the batch's
     * unbiased variance, which the test computes in two passes itself. */
    enum { N = 50, C = 2, S = 4, COUNT = N * C * S };
    nn_real x[COUNT], out[COUNT], mean[C], inv_std[C];
    nn_real gamma[C] = { 1, 1 }, beta[C] = { 0, 0 };
    nn_real running_mean[C] = { 0, 0 }, running_var[C] = { 1, 1 };
    nn_rng rng;
    nn_rng_seed(&rng, 104);
    for (size_t i = 0; i < COUNT; i++)
        x[i] = (nn_real)(1e6 + nn_rng_uniform_range(&rng, -1, 1));
    nn_batchnorm_config config = { .momentum = 1, .epsilon = (nn_real)1e-5, .training = true };
    ck_assert_int_eq(nn_batchnorm_forward(out, mean, inv_std, x, gamma, beta, running_mean,
                                          running_var, N, C, S, &config),
                     NN_OK);
    double batch_mean[C], batch_var[C], out_mean[C], out_var[C];
    channel_statistics(batch_mean, batch_var, x, N, C, S);
    channel_statistics(out_mean, out_var, out, N, C, S);
    for (int k = 0; k < C; k++) {
        ck_assert(batch_var[k] > 0.2);
        ck_assert_real_near(running_var[k], batch_var[k], 1e-6);
        ck_assert_real_near(out_mean[k], 0, 1e-5);
        /* unbiased variance of xhat: M / (M - 1) * var / (var + eps) */
        ck_assert_real_near(out_var[k], (double)(N * S) / (N * S - 1), 1e-3);
    }
}
END_TEST

/* ---- gradient checks of loss = sum(out * r) ---------------------------- */

typedef struct bn_problem {
    int batch, channels, spatial;
    nn_batchnorm_config config;
    nn_real *x, *gamma, *beta, *r, *out, *mean, *inv_std;
    nn_real *running_mean, *running_var; /* read in eval; scratch in training */
    const nn_real *init_mean, *init_var;
} bn_problem;

static double bn_loss(void *context)
{
    bn_problem *p = context;
    /* Restore the running statistics so that every evaluation sees the same
     * layer, whatever the previous one updated. */
    for (int k = 0; k < p->channels; k++) {
        p->running_mean[k] = p->init_mean[k];
        p->running_var[k] = p->init_var[k];
    }
    nn_batchnorm_forward(p->out, p->mean, p->inv_std, p->x, p->gamma, p->beta,
                         p->running_mean, p->running_var, p->batch, p->channels, p->spatial,
                         &p->config);
    double loss = 0;
    for (size_t i = 0; i < (size_t)p->batch * p->channels * p->spatial; i++)
        loss += (double)p->out[i] * p->r[i];
    return loss;
}

static void assert_gradcheck(const char *name, nn_real *values, const nn_real *analytic,
                             size_t count, bn_problem *p, nn_rng *rng)
{
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_msg(nn_gradcheck(&result, values, analytic, count, bn_loss, p, &config, rng, &err)
                      == NN_OK,
                  "%s: %s", name, err.message);
    char message[512];
    ck_assert_msg(result.passed, "%s (%s mode)",
                  nn_gradcheck_describe(message, sizeof message, name, NULL, &result, &config),
                  p->config.training ? "training" : "eval");
}

/* Shapes for the gradient checks: fully-connected, convolutional, and a
 * batch of three, where the batch statistics weigh most. (With two values
 * a channel, xhat is +-1 whatever x is and dx is only eps-sized.) Odd loop
 * indices run the same shape in eval mode. */
static const int gradcheck_shapes[][3] = {
    /* batch, channels, spatial */
    { 5, 3, 1 }, { 3, 2, 6 }, { 3, 2, 1 },
};

typedef struct bn_buffers {
    nn_real x[64], r[64], out[64], dx[64];
    nn_real gamma[4], beta[4], mean[4], inv_std[4], dgamma[4], dbeta[4];
    nn_real running_mean[4], running_var[4], init_mean[4], init_var[4];
} bn_buffers;

static bn_problem setup_problem(bn_buffers *b, int which, bool training, nn_rng *rng)
{
    bn_problem p = {
        .batch = gradcheck_shapes[which][0],
        .channels = gradcheck_shapes[which][1],
        .spatial = gradcheck_shapes[which][2],
        .config = { .momentum = (nn_real)0.1, .epsilon = (nn_real)1e-5, .training = training },
        .x = b->x, .gamma = b->gamma, .beta = b->beta, .r = b->r, .out = b->out,
        .mean = b->mean, .inv_std = b->inv_std, .running_mean = b->running_mean,
        .running_var = b->running_var, .init_mean = b->init_mean, .init_var = b->init_var,
    };
    size_t count = (size_t)p.batch * p.channels * p.spatial;
    memset(b, 0, sizeof *b);
    test_fill_uniform(b->x, count, rng, -2, 2);
    test_fill_uniform(b->r, count, rng, -1, 1);
    test_fill_uniform(b->gamma, (size_t)p.channels, rng, 0.5, 1.5);
    test_fill_uniform(b->beta, (size_t)p.channels, rng, -1, 1);
    test_fill_uniform(b->init_mean, (size_t)p.channels, rng, -0.5, 0.5);
    test_fill_uniform(b->init_var, (size_t)p.channels, rng, 0.5, 2);
    return p;
}

START_TEST(batchnorm_gradients_pass_gradcheck)
{
    const int which = _i / 2;
    const bool training = _i % 2 == 0;
    nn_rng rng;
    nn_rng_seed(&rng, 200 + (uint64_t)_i);
    bn_buffers b;
    bn_problem p = setup_problem(&b, which, training, &rng);
    size_t count = (size_t)p.batch * p.channels * p.spatial;

    bn_loss(&p); /* saved statistics at the unperturbed point */
    ck_assert_int_eq(nn_batchnorm_backward(b.dx, b.dgamma, b.dbeta, b.r, b.x, b.mean,
                                           b.inv_std, b.gamma, p.batch, p.channels, p.spatial,
                                           &p.config),
                     NN_OK);
    assert_gradcheck("dx", b.x, b.dx, count, &p, &rng);
    assert_gradcheck("dgamma", b.gamma, b.dgamma, (size_t)p.channels, &p, &rng);
    assert_gradcheck("dbeta", b.beta, b.dbeta, (size_t)p.channels, &p, &rng);
}
END_TEST

START_TEST(gradcheck_catches_training_backward_that_ignores_batch_statistics)
{
    /* Treating the batch mean and variance as constants in training (the
     * eval-mode gradient dout * gamma * inv_std) is a classic mistake; the
     * gradient check must reject it. */
    nn_rng rng;
    nn_rng_seed(&rng, 300);
    bn_buffers b;
    bn_problem p = setup_problem(&b, 0, true, &rng);
    size_t count = (size_t)p.batch * p.channels * p.spatial;
    bn_loss(&p);
    nn_batchnorm_config constant_statistics = p.config;
    constant_statistics.training = false;
    ck_assert_int_eq(nn_batchnorm_backward(b.dx, NULL, NULL, b.r, b.x, b.mean, b.inv_std,
                                           b.gamma, p.batch, p.channels, p.spatial,
                                           &constant_statistics),
                     NN_OK);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    ck_assert_int_eq(nn_gradcheck(&result, b.x, b.dx, count, bn_loss, &p, &config, &rng, NULL),
                     NN_OK);
    ck_assert(!result.passed);
}
END_TEST

/* ---- parameters -------------------------------------------------------- */

START_TEST(batchnorm_has_two_learnable_values_per_channel)
{
    /* gamma (C) and beta (C) are the only learned arrays the API takes. */
    ck_assert_uint_eq(nn_batchnorm_parameter_count(1), 2);
    /* Exam 2.13: after a convolution with 16 filters, 16 channels: 32. */
    ck_assert_uint_eq(nn_batchnorm_parameter_count(16), 32);
    /* After a fully-connected layer of 10 units each unit is a channel. */
    ck_assert_uint_eq(nn_batchnorm_parameter_count(10), 20);
}
END_TEST

Suite *batchnorm_suite(void);
Suite *batchnorm_suite(void)
{
    Suite *suite = suite_create("batchnorm");
    TCase *tc = tcase_create("core");
    int ncases = (int)(sizeof fixture_cases / sizeof fixture_cases[0]);
    int nshapes = (int)(sizeof gradcheck_shapes / sizeof gradcheck_shapes[0]);
    int nmomenta = (int)(sizeof momenta / sizeof momenta[0]);
    tcase_add_loop_test(tc, batchnorm_training_step_matches_pytorch, 0, ncases);
    tcase_add_loop_test(tc, batchnorm_eval_step_matches_pytorch, 0, ncases);
    tcase_add_loop_test(tc, batchnorm_backward_accumulates_into_gradients, 0, ncases);
    tcase_add_loop_test(tc, batchnorm_running_statistics_after_one_step, 0, nmomenta);
    tcase_add_test(tc, batchnorm_training_output_is_normalised_per_channel);
    tcase_add_test(tc, batchnorm_eval_uses_running_statistics_not_the_batch);
    tcase_add_test(tc, batchnorm_statistics_stay_accurate_for_a_large_mean);
    tcase_add_loop_test(tc, batchnorm_gradients_pass_gradcheck, 0, 2 * nshapes);
    tcase_add_test(tc, gradcheck_catches_training_backward_that_ignores_batch_statistics);
    tcase_add_test(tc, batchnorm_has_two_learnable_values_per_channel);
    suite_add_tcase(suite, tc);
    return suite;
}
