/*
 * check_train.c - the training loop and evaluation: a small MLP learns
 * separable Gaussian blobs with Adam and with SGD + momentum; the seed alone
 * decides the trained weights; callbacks see every batch and epoch; data
 * that does not fit the model is refused before training, naming both
 * sides; and nn_evaluate's accuracy is the plain argmax count.
 */
#include "nn/train.h"
#include "netutil.h"

enum { TRAIN_COUNT = 240, TEST_COUNT = 200, CLASSES = 4 };

static const char *blob_spec(const char *train)
{
    static char text[512];
    snprintf(text, sizeof text,
             "input: [2]\n"
             "layers:\n"
             "  - {type: linear, out: 16}\n"
             "  - relu\n"
             "  - {type: linear, out: 4}\n"
             "train: %s\n",
             train);
    return text;
}

static const char adam_train[] = "{optimizer: adam, learning_rate: 0.01, batch_size: 16, epochs: 5}";
static const char sgd_train[] =
    "{optimizer: sgd, learning_rate: 0.05, momentum: 0.9, batch_size: 16, epochs: 5}";

/* Trains a fresh network of `train` settings on 4 blobs; returns it. */
static nn_network *train_blobs(const char *train, uint64_t seed, nn_epoch_report *last)
{
    nn_dataset *data = net_blobs("blobs", TRAIN_COUNT, 2, CLASSES, 3.0, 0.6, 11);
    nn_dataset *test = net_blobs("blobs-test", TEST_COUNT, 2, CLASSES, 3.0, 0.6, 12);
    nn_network *network = net_build(blob_spec(train), 32, seed);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_error err;
    net_assert_ok(nn_train(network, data, test, NULL, &rng, NULL, last, &err), &err);
    nn_dataset_free(data);
    nn_dataset_free(test);
    return network;
}

START_TEST(adam_learns_separable_blobs)
{
    nn_epoch_report last;
    nn_network *network = train_blobs(adam_train, 1, &last);
    ck_assert_int_eq(last.epoch, 5);
    ck_assert_msg(last.test_accuracy > 0.95, "test accuracy %.3f", last.test_accuracy);
    ck_assert(last.train_loss < 0.5);
    ck_assert(isfinite(last.test_loss));
    nn_network_free(network);
}
END_TEST

START_TEST(sgd_with_momentum_learns_separable_blobs)
{
    nn_epoch_report last;
    nn_network *network = train_blobs(sgd_train, 2, &last);
    ck_assert_msg(last.test_accuracy > 0.95, "test accuracy %.3f", last.test_accuracy);
    ck_assert(fabs(last.learning_rate - 0.05) < 1e-12);
    nn_network_free(network);
}
END_TEST

/* ---- reproducibility ---------------------------------------------------------- */

static bool same_weights(const nn_network *a, const nn_network *b)
{
    for (size_t p = 0; p < a->parameter_count; p++)
        if (memcmp(a->parameters[p].value, b->parameters[p].value,
                   a->parameters[p].count * sizeof(nn_real))
            != 0)
            return false;
    return true;
}

START_TEST(same_seed_gives_identical_weights)
{
    /* Dropout too, so that its stream is covered. */
    const char *spec = "input: [2]\n"
                       "layers: [{type: linear, out: 16}, relu, {type: dropout, p: 0.2},\n"
                       "         {type: linear, out: 4}]\n"
                       "train: {batch_size: 16, epochs: 2}\n";
    nn_dataset *data = net_blobs("blobs", TRAIN_COUNT, 2, CLASSES, 3.0, 0.6, 11);
    nn_network *networks[3];
    static const uint64_t seeds[3] = { 5, 5, 6 };
    for (int i = 0; i < 3; i++) {
        networks[i] = net_build(spec, 16, seeds[i]);
        nn_rng rng;
        nn_rng_seed(&rng, seeds[i]);
        nn_error err;
        net_assert_ok(nn_train(networks[i], data, NULL, NULL, &rng, NULL, NULL, &err), &err);
    }
    ck_assert(same_weights(networks[0], networks[1]));
    ck_assert(!same_weights(networks[0], networks[2]));
    /* Same initial weights, another training seed: still different. */
    nn_network *other = net_build(spec, 16, 5);
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    nn_error err;
    net_assert_ok(nn_train(other, data, NULL, NULL, &rng, NULL, NULL, &err), &err);
    ck_assert(!same_weights(networks[0], other));
    for (int i = 0; i < 3; i++)
        nn_network_free(networks[i]);
    nn_network_free(other);
    nn_dataset_free(data);
}
END_TEST

/* ---- callbacks ------------------------------------------------------------------- */

typedef struct tally {
    int batches[8];          /* on_batch calls per epoch */
    size_t last_done[8], total[8];
    int epochs_reported;
    nn_epoch_report reports[8];
    bool in_order;
} tally;

static void count_batch(void *context, int epoch, size_t done, size_t total, double loss)
{
    tally *t = context;
    if (epoch < 1 || epoch > 7 || done != t->last_done[epoch] + 1 || !isfinite(loss)
        || epoch != t->epochs_reported + 1)
        t->in_order = false;
    if (epoch >= 1 && epoch <= 7) {
        t->batches[epoch]++;
        t->last_done[epoch] = done;
        t->total[epoch] = total;
    }
}

static void count_epoch(void *context, const nn_epoch_report *report)
{
    tally *t = context;
    if (t->epochs_reported < 7)
        t->reports[++t->epochs_reported] = *report;
}

START_TEST(callbacks_see_every_batch_and_epoch)
{
    /* 100 samples in batches of 16: six full batches and one of 4. */
    nn_dataset *data = net_blobs("blobs", 100, 2, CLASSES, 3.0, 0.6, 11);
    nn_dataset *test = net_blobs("blobs-test", 40, 2, CLASSES, 3.0, 0.6, 12);
    nn_network *network = net_build(blob_spec(adam_train), 16, 3);
    tally t = { .in_order = true };
    nn_train_callbacks callbacks = { .context = &t, .on_batch = count_batch,
                                     .on_epoch = count_epoch };
    nn_train_options options = { .epochs = 3 };  /* overrides the spec's 5 */
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    nn_error err;
    nn_epoch_report last;
    net_assert_ok(nn_train(network, data, test, &options, &rng, &callbacks, &last, &err), &err);
    ck_assert(t.in_order);
    ck_assert_int_eq(t.epochs_reported, 3);
    for (int epoch = 1; epoch <= 3; epoch++) {
        ck_assert_int_eq(t.batches[epoch], 7);
        ck_assert_uint_eq(t.last_done[epoch], 7);
        ck_assert_uint_eq(t.total[epoch], 7);
        ck_assert_int_eq(t.reports[epoch].epoch, epoch);
        ck_assert_int_eq(t.reports[epoch].epochs, 3);
        ck_assert(t.reports[epoch].test_accuracy >= 0 && t.reports[epoch].test_accuracy <= 1);
        ck_assert(t.reports[epoch].train_accuracy >= 0 && t.reports[epoch].train_accuracy <= 1);
        ck_assert(t.reports[epoch].seconds >= 0);
    }
    ck_assert_int_eq(t.batches[4], 0);
    ck_assert_int_eq(last.epoch, 3);
    ck_assert(last.test_accuracy == t.reports[3].test_accuracy);
    ck_assert(last.train_loss == t.reports[3].train_loss);
    /* The training loss falls. */
    ck_assert(t.reports[3].train_loss < t.reports[1].train_loss);
    nn_network_free(network);
    nn_dataset_free(data);
    nn_dataset_free(test);
}
END_TEST

START_TEST(batchnorm_skips_a_final_batch_of_one)
{
    /* 33 samples in batches of 16: a last batch of one sample, which batch
     * norm cannot normalise, is skipped; without batch norm it is used. */
    nn_dataset *data = net_blobs("blobs", 33, 2, CLASSES, 3.0, 0.6, 11);
    static const char *const specs[2] = {
        "input: [2]\n"
        "layers: [{type: linear, out: 8}, batchnorm, relu, {type: linear, out: 4}]\n"
        "train: {batch_size: 16, epochs: 2}\n",
        "input: [2]\n"
        "layers: [{type: linear, out: 8}, relu, {type: linear, out: 4}]\n"
        "train: {batch_size: 16, epochs: 2}\n",
    };
    static const int expected[2] = { 2, 3 };
    for (int i = 0; i < 2; i++) {
        nn_network *network = net_build(specs[i], 16, 4);
        tally t = { .in_order = true };
        nn_train_callbacks callbacks = { .context = &t, .on_batch = count_batch,
                                         .on_epoch = count_epoch };
        nn_rng rng;
        nn_rng_seed(&rng, 4);
        nn_error err;
        net_assert_ok(nn_train(network, data, NULL, NULL, &rng, &callbacks, NULL, &err), &err);
        ck_assert_int_eq(t.batches[1], expected[i]);
        ck_assert_int_eq(t.batches[2], expected[i]);
        ck_assert(isnan(t.reports[2].test_accuracy));  /* no test set */
        nn_network_free(network);
    }
    /* Forward in training mode on one sample is refused, naming the layer. */
    nn_network *network = net_build(specs[0], 16, 4);
    nn_run_context training = { .training = true, .rng = NULL };
    nn_error err;
    ck_assert_int_eq(nn_network_forward(network, data->inputs, 1, &training, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "batchnorm2"));
    ck_assert_ptr_nonnull(strstr(err.message, "batch of 1"));
    nn_network_free(network);
    nn_dataset_free(data);
}
END_TEST

/* ---- refusals ---------------------------------------------------------------------- */

static void expect_refused(nn_network *network, const nn_dataset *train,
                           const nn_dataset *test, nn_status status, const char *const *parts)
{
    nn_real before[64];
    size_t count = network->parameters[0].count < 64 ? network->parameters[0].count : 64;
    memcpy(before, network->parameters[0].value, count * sizeof(nn_real));
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_error err;
    nn_status got = nn_train(network, train, test, NULL, &rng, NULL, NULL, &err);
    ck_assert_msg(got == status, "status %s (%s)", nn_status_name(got),
                  got == NN_OK ? "trained" : err.message);
    for (int i = 0; parts[i] != NULL; i++)
        ck_assert_msg(strstr(err.message, parts[i]) != NULL, "message '%s' does not mention '%s'",
                      err.message, parts[i]);
    ck_assert_int_eq(memcmp(before, network->parameters[0].value, count * sizeof(nn_real)), 0);
}

#define PARTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(dataset_that_does_not_fit_the_model_is_refused)
{
    nn_network *network = net_build(blob_spec(adam_train), 16, 1);
    nn_dataset *good = net_blobs("blobs", 40, 2, CLASSES, 3.0, 0.6, 11);
    /* Samples of 3 values for a model of 2 inputs, as train or test set. */
    nn_dataset *wide = net_blobs("wide", 40, 3, CLASSES, 3.0, 0.6, 11);
    expect_refused(network, wide, NULL, NN_ERR_SHAPE, PARTS("wide", "(3)", "(2)", "model.yaml"));
    expect_refused(network, good, wide, NN_ERR_SHAPE, PARTS("wide", "(3)", "(2)"));
    /* Six classes for a model that scores four. */
    nn_dataset *six = net_blobs("six", 40, 2, 6, 3.0, 0.6, 11);
    expect_refused(network, six, NULL, NN_ERR_SHAPE, PARTS("six", "6 classes", "4"));
    /* Real targets for a classification loss. */
    nn_dataset *real;
    nn_error err;
    nn_shape shape = nn_shape_1d(2);
    net_assert_ok(nn_dataset_new(&real, "real", 10, &shape, NN_TARGET_REAL, 4, 0, &err), &err);
    expect_refused(network, real, NULL, NN_ERR_ARGUMENT,
                   PARTS("real targets", "softmax_cross_entropy"));
    nn_network_free(network);
    /* Regression: targets per sample must match the outputs. */
    network = net_build("input: [2]\nlayers: [{type: linear, out: 3}]\nloss: mse\n", 8, 1);
    expect_refused(network, real, NULL, NN_ERR_SHAPE, PARTS("4 targets", "3 outputs"));
    expect_refused(network, good, NULL, NN_ERR_ARGUMENT, PARTS("class targets", "mse"));
    nn_network_free(network);
    nn_dataset_free(good);
    nn_dataset_free(wide);
    nn_dataset_free(six);
    nn_dataset_free(real);
}
END_TEST

/* ---- evaluation -------------------------------------------------------------------- */

START_TEST(evaluate_accuracy_is_the_argmax_count)
{
    /* One epoch of training leaves a network that is right on some
     * samples and wrong on others. */
    nn_dataset *data = net_blobs("blobs", 60, 2, CLASSES, 1.0, 1.0, 21);
    nn_network *network = net_build(blob_spec(sgd_train), 16, 7);
    nn_error err;
    int predictions[60];
    double loss = NAN, accuracy = NAN;
    net_assert_ok(nn_evaluate(network, data, NULL, &loss, &accuracy, predictions, &err), &err);

    /* The same by hand: forward in eval mode, argmax, count. */
    nn_run_context eval = { .training = false, .rng = NULL };
    size_t correct = 0;
    double loss_sum = 0;
    for (size_t first = 0; first < data->count; first += 16) {
        int n = (int)(data->count - first < 16 ? data->count - first : 16);
        net_assert_ok(nn_network_forward(network, data->inputs + first * 2, n, &eval, &err),
                      &err);
        double batch_loss;
        net_assert_ok(nn_network_loss(network, &batch_loss, data->labels + first, NULL, n,
                                      false, &err),
                      &err);
        loss_sum += batch_loss * n;
        const nn_real *scores = nn_network_output(network);
        for (int s = 0; s < n; s++) {
            int best = 0;
            for (int k = 1; k < CLASSES; k++)
                if (scores[s * CLASSES + k] > scores[s * CLASSES + best])
                    best = k;
            ck_assert_int_eq(predictions[first + (size_t)s], best);
            correct += best == data->labels[first + (size_t)s];
        }
    }
    ck_assert(correct > 0 && correct < data->count);
    ck_assert(accuracy == (double)correct / (double)data->count);
    ck_assert_real_near(loss, loss_sum / (double)data->count, TEST_TOLERANCE);

    /* Any output may be left out. */
    double only_accuracy = NAN;
    net_assert_ok(nn_evaluate(network, data, NULL, NULL, &only_accuracy, NULL, &err), &err);
    ck_assert(only_accuracy == accuracy);
    nn_network_free(network);
    nn_dataset_free(data);
}
END_TEST

START_TEST(regression_trains_and_reports_no_accuracy)
{
    /* y = 2 x0 - x1 + 0.5: a linear layer fits it. */
    nn_dataset *data;
    nn_error err;
    nn_shape shape = nn_shape_1d(2);
    net_assert_ok(nn_dataset_new(&data, "line", 64, &shape, NN_TARGET_REAL, 1, 0, &err), &err);
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    for (size_t i = 0; i < data->count; i++) {
        nn_real *x = data->inputs + 2 * i;
        test_fill_uniform(x, 2, &rng, -1, 1);
        data->targets[i] = 2 * x[0] - x[1] + (nn_real)0.5;
    }
    nn_network *network = net_build("input: [2]\n"
                                    "layers: [{type: linear, out: 1}]\n"
                                    "loss: mse\n"
                                    "train: {optimizer: adam, learning_rate: 0.05,\n"
                                    "        batch_size: 16, epochs: 40}\n",
                                    16, 1);
    nn_epoch_report last;
    net_assert_ok(nn_train(network, data, data, NULL, &rng, NULL, &last, &err), &err);
    ck_assert(isnan(last.train_accuracy));
    ck_assert(isnan(last.test_accuracy));
    ck_assert_msg(last.test_loss < 1e-3, "test loss %g", last.test_loss);
    const nn_real *w = network->parameters[0].value, *b = network->parameters[1].value;
    ck_assert(fabs(w[0] - 2) < 0.05 && fabs(w[1] + 1) < 0.05 && fabs(b[0] - 0.5) < 0.05);
    nn_network_free(network);
    nn_dataset_free(data);
}
END_TEST

START_TEST(normalization_standardises_the_inputs)
{
    /* Blobs far from the origin: the statistics find the offset, and
     * training through them still learns. */
    nn_dataset *data = net_blobs("blobs", TRAIN_COUNT, 2, CLASSES, 3.0, 0.6, 11);
    for (size_t i = 0; i < data->count * 2; i++)
        data->inputs[i] += 40;
    nn_normalization normalization;
    nn_error err;
    net_assert_ok(nn_normalization_compute(&normalization, data, &err), &err);
    ck_assert_uint_eq(normalization.channels, 2);
    for (int c = 0; c < 2; c++) {
        ck_assert(fabs(normalization.mean[c] - 40) < 0.5);
        ck_assert(normalization.std[c] > 1 && normalization.std[c] < 3);
    }
    nn_network *network = net_build(blob_spec(adam_train), 32, 8);
    nn_train_options options = { .normalization = &normalization };
    nn_rng rng;
    nn_rng_seed(&rng, 8);
    nn_epoch_report last;
    net_assert_ok(nn_train(network, data, data, &options, &rng, NULL, &last, &err), &err);
    ck_assert_msg(last.test_accuracy > 0.95, "accuracy %.3f", last.test_accuracy);
    double accuracy;
    net_assert_ok(nn_evaluate(network, data, &normalization, NULL, &accuracy, NULL, &err), &err);
    ck_assert(accuracy == last.test_accuracy);
    nn_normalization_release(&normalization);
    ck_assert_uint_eq(normalization.channels, 0);
    nn_network_free(network);
    nn_dataset_free(data);
}
END_TEST

Suite *train_suite(void);
Suite *train_suite(void)
{
    Suite *suite = suite_create("train");
    TCase *tc = tcase_create("learning");
    tcase_add_test(tc, adam_learns_separable_blobs);
    tcase_add_test(tc, sgd_with_momentum_learns_separable_blobs);
    tcase_add_test(tc, regression_trains_and_reports_no_accuracy);
    tcase_add_test(tc, normalization_standardises_the_inputs);
    suite_add_tcase(suite, tc);
    tc = tcase_create("loop");
    tcase_add_test(tc, same_seed_gives_identical_weights);
    tcase_add_test(tc, callbacks_see_every_batch_and_epoch);
    tcase_add_test(tc, batchnorm_skips_a_final_batch_of_one);
    tcase_add_test(tc, dataset_that_does_not_fit_the_model_is_refused);
    tcase_add_test(tc, evaluate_accuracy_is_the_argmax_count);
    suite_add_tcase(suite, tc);
    return suite;
}
