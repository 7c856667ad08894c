/*
 * check_softmax_cross_entropy.c - softmax cross-entropy over the class
 * axis of (N, C, S) logits: agreement with PyTorch's F.cross_entropy for
 * classification (S = 1) and per-pixel segmentation (NCHW, S = H*W),
 * gradient checks, accumulation and scaling, the gradient's closed form
 * (softmax - onehot) / (N S) including exam question 5.7's wrong-class
 * component, finite results at logits of 1e4, and label validation.
 */
#include "nn/gradcheck.h"
#include "nn/loss.h"
#include "fixture.h"
#include "testutil.h"

/* A fixture case: logits (N, C, S), labels (N, S) and PyTorch's answers. */
typedef struct ce_case {
    fixture_file *file;
    int batch, classes, spatial;
    size_t size;
    nn_real *logits;
    int *labels;
    const fixture_tensor *probabilities, *loss, *grad;
} ce_case;

static ce_case ce_case_load(const char *prefix)
{
    ce_case c = { .file = fixture_load("losses") };
    char name[64];
    snprintf(name, sizeof name, "%s_logits", prefix);
    const fixture_tensor *logits = fixture_get(c.file, name);
    snprintf(name, sizeof name, "%s_labels", prefix);
    const fixture_tensor *labels = fixture_get(c.file, name);
    c.batch = (int)logits->shape.dims[0];
    c.classes = (int)logits->shape.dims[1];
    c.spatial = (int)(logits->size / ((size_t)c.batch * c.classes));
    ck_assert_uint_eq(labels->size, (size_t)c.batch * c.spatial);
    c.size = logits->size;
    c.logits = malloc(c.size * sizeof *c.logits);
    c.labels = malloc(labels->size * sizeof *c.labels);
    ck_assert(c.logits != NULL && c.labels != NULL);
    fixture_copy(c.logits, logits);
    for (size_t i = 0; i < labels->size; i++)
        c.labels[i] = (int)labels->values[i];
    snprintf(name, sizeof name, "%s_probabilities", prefix);
    c.probabilities = fixture_get(c.file, name);
    snprintf(name, sizeof name, "%s_loss", prefix);
    c.loss = fixture_get(c.file, name);
    snprintf(name, sizeof name, "%s_grad", prefix);
    c.grad = fixture_get(c.file, name);
    return c;
}

static void ce_case_free(ce_case *c)
{
    free(c->logits);
    free(c->labels);
    fixture_free(c->file);
}

/* "ce": (6, 4) classification; "seg": (2, 5, 3, 4) segmentation. */
static const char *const fixture_cases[] = { "ce", "seg" };

START_TEST(cross_entropy_forward_matches_pytorch)
{
    ce_case c = ce_case_load(fixture_cases[_i]);
    nn_real *probabilities = malloc(c.size * sizeof *probabilities);
    ck_assert_ptr_nonnull(probabilities);
    double loss = -1.0;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, c.logits, c.labels,
                                                      c.batch, c.classes, c.spatial, &err),
                     NN_OK);
    ck_assert_real_near(loss, c.loss->values[0], TEST_TOLERANCE);
    fixture_assert_close(probabilities, c.probabilities, TEST_TOLERANCE);
    free(probabilities);
    ce_case_free(&c);
}
END_TEST

START_TEST(cross_entropy_backward_matches_pytorch)
{
    ce_case c = ce_case_load(fixture_cases[_i]);
    nn_real *probabilities = malloc(c.size * sizeof *probabilities);
    nn_real *grad = calloc(c.size, sizeof *grad);
    ck_assert(probabilities != NULL && grad != NULL);
    double loss;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, c.logits, c.labels,
                                                      c.batch, c.classes, c.spatial, NULL),
                     NN_OK);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, c.labels, c.batch,
                                                       c.classes, c.spatial, 1),
                     NN_OK);
    fixture_assert_close(grad, c.grad, TEST_TOLERANCE);
    free(probabilities);
    free(grad);
    ce_case_free(&c);
}
END_TEST

START_TEST(cross_entropy_backward_adds_scale_times_gradient)
{
    ce_case c = ce_case_load(fixture_cases[_i]);
    nn_real *probabilities = malloc(c.size * sizeof *probabilities);
    nn_real *grad = malloc(c.size * sizeof *grad);
    nn_real *before = malloc(c.size * sizeof *before);
    ck_assert(probabilities != NULL && grad != NULL && before != NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 51);
    test_fill_uniform(before, c.size, &rng, -1.0, 1.0);
    memcpy(grad, before, c.size * sizeof *grad);
    double loss;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, c.logits, c.labels,
                                                      c.batch, c.classes, c.spatial, NULL),
                     NN_OK);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, c.labels, c.batch,
                                                       c.classes, c.spatial, (nn_real)1.5),
                     NN_OK);
    for (size_t i = 0; i < c.size; i++)
        ck_assert_real_near(grad[i], before[i] + 1.5 * c.grad->values[i], TEST_TOLERANCE);
    free(probabilities);
    free(grad);
    free(before);
    ce_case_free(&c);
}
END_TEST

typedef struct ce_context {
    nn_real *logits;
    nn_real *probabilities;
    const int *labels;
    int batch, classes, spatial;
    double scale;
} ce_context;

static double ce_scaled_loss(void *context)
{
    ce_context *c = context;
    double loss = NAN;
    nn_softmax_cross_entropy_forward(&loss, c->probabilities, c->logits, c->labels, c->batch,
                                     c->classes, c->spatial, NULL);
    return c->scale * loss;
}

/* (N, C, S): classification, a single sample, and a segmentation map. */
static const int gradcheck_shapes[][3] = { { 5, 4, 1 }, { 1, 3, 1 }, { 2, 5, 6 } };

START_TEST(cross_entropy_backward_passes_gradcheck)
{
    int batch = gradcheck_shapes[_i][0], classes = gradcheck_shapes[_i][1];
    int spatial = gradcheck_shapes[_i][2];
    size_t size = (size_t)batch * classes * spatial;
    nn_real *logits = malloc(size * sizeof *logits);
    nn_real *probabilities = malloc(size * sizeof *probabilities);
    nn_real *grad = calloc(size, sizeof *grad);
    int *labels = malloc((size_t)batch * spatial * sizeof *labels);
    ck_assert(logits != NULL && probabilities != NULL && grad != NULL && labels != NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 52 + (uint64_t)_i);
    /* Logits in [-1, 1] keep every probability above ~0.04. */
    test_fill_uniform(logits, size, &rng, -1.0, 1.0);
    for (int i = 0; i < batch * spatial; i++)
        labels[i] = (int)nn_rng_below(&rng, (uint64_t)classes);
    double loss;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, labels,
                                                      batch, classes, spatial, NULL),
                     NN_OK);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, labels, batch,
                                                       classes, spatial, (nn_real)2),
                     NN_OK);
    ce_context context = { logits, probabilities, labels, batch, classes, spatial, 2.0 };
    nn_gradcheck_config config = nn_gradcheck_default_config();
    nn_gradcheck_result result;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_gradcheck(&result, logits, grad, size, ce_scaled_loss, &context,
                                  &config, &rng, &err),
                     NN_OK);
    nn_shape shape = nn_shape_3d((size_t)batch, (size_t)classes, (size_t)spatial);
    char line[512];
    ck_assert_msg(result.passed, "%s",
                  nn_gradcheck_describe(line, sizeof line, "dlogits", &shape, &result, &config));
    free(logits);
    free(probabilities);
    free(grad);
    free(labels);
}
END_TEST

/* The closed form, against a softmax computed here independently:
 * dL/dz_{n,c} = (softmax(z_n)_c - [c == y_n]) / N. */
START_TEST(cross_entropy_gradient_is_softmax_minus_onehot_over_batch)
{
    enum { BATCH = 5, CLASSES = 4 };
    nn_real logits[BATCH * CLASSES], probabilities[BATCH * CLASSES];
    nn_real grad[BATCH * CLASSES] = { 0 };
    const int labels[BATCH] = { 0, 3, 1, 3, 2 };
    nn_rng rng;
    nn_rng_seed(&rng, 53);
    test_fill_uniform(logits, BATCH * CLASSES, &rng, -3.0, 3.0);
    double loss;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, labels,
                                                      BATCH, CLASSES, 1, NULL),
                     NN_OK);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, labels, BATCH,
                                                       CLASSES, 1, 1),
                     NN_OK);
    double expected_loss = 0.0;
    for (int n = 0; n < BATCH; n++) {
        double sum = 0.0;
        for (int c = 0; c < CLASSES; c++)
            sum += exp((double)logits[n * CLASSES + c]);
        for (int c = 0; c < CLASSES; c++) {
            double softmax = exp((double)logits[n * CLASSES + c]) / sum;
            double onehot = c == labels[n] ? 1.0 : 0.0;
            ck_assert_real_near(probabilities[n * CLASSES + c], softmax, TEST_TOLERANCE);
            ck_assert_real_near(grad[n * CLASSES + c], (softmax - onehot) / BATCH,
                                TEST_TOLERANCE);
        }
        expected_loss -= log(exp((double)logits[n * CLASSES + labels[n]]) / sum);
    }
    ck_assert_real_near(loss, expected_loss / BATCH, TEST_TOLERANCE);
}
END_TEST

/* Exam 5.7: one sample whose true class is the third (index 2). The loss
 * -log y_3 reaches z_1 only through the softmax, dy_3/dz_1 = -y_3 y_1, so
 * dL/dz_1 = (-1 / y_3)(-y_3 y_1) = y_1: a wrong class's gradient is its
 * own predicted probability; the true class's is y_3 - 1. */
START_TEST(wrong_class_gradient_equals_its_probability)
{
    const nn_real logits[4] = { (nn_real)0.3, (nn_real)-1.2, (nn_real)2.0, (nn_real)0.7 };
    const int label = 2;
    nn_real probabilities[4], grad[4] = { 0 };
    double loss;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, &label, 1,
                                                      4, 1, NULL),
                     NN_OK);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, &label, 1, 4, 1, 1),
                     NN_OK);
    double sum = 0.0;
    for (int c = 0; c < 4; c++)
        sum += exp((double)logits[c]);
    double y1 = exp((double)logits[0]) / sum, y3 = exp((double)logits[2]) / sum;
    ck_assert_real_near(grad[0], y1, TEST_TOLERANCE);
    ck_assert_real_near(grad[2], y3 - 1.0, TEST_TOLERANCE);
    ck_assert_real_near(loss, -log(y3), TEST_TOLERANCE);
}
END_TEST

/* Logits of 1e4 overflow exp in both precisions; the shifted log-sum-exp
 * never evaluates exp of a positive number. Sample 0 puts its label on a
 * class 1e4 below the top (loss 1e4), sample 1 on one of two tied top
 * classes (loss ln 2). */
START_TEST(cross_entropy_is_finite_for_logits_of_ten_thousand)
{
    const nn_real logits[6] = { 1e4, 0, -1e4, 1e4, 1e4, -1e4 };
    const int labels[2] = { 1, 0 };
    nn_real probabilities[6], grad[6] = { 0 };
    double loss = NAN;
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, labels, 2, 3,
                                                      1, NULL),
                     NN_OK);
    ck_assert(isfinite(loss));
    ck_assert_real_near(loss, (1e4 + log(2.0)) / 2, TEST_TOLERANCE);
    const double expected_probabilities[6] = { 1, 0, 0, 0.5, 0.5, 0 };
    for (int i = 0; i < 6; i++)
        ck_assert_real_near(probabilities[i], expected_probabilities[i], TEST_TOLERANCE);
    ck_assert_int_eq(nn_softmax_cross_entropy_backward(grad, probabilities, labels, 2, 3, 1, 1),
                     NN_OK);
    const double expected_grad[6] = { 0.5, -0.5, 0, -0.25, 0.25, 0 };
    for (int i = 0; i < 6; i++)
        ck_assert_real_near(grad[i], expected_grad[i], TEST_TOLERANCE);
}
END_TEST

/* A label outside [0, C) is a data error, reported with where it is, and
 * reported before any output is written. */
START_TEST(cross_entropy_rejects_out_of_range_labels_naming_sample_and_pixel)
{
    enum { BATCH = 2, CLASSES = 5, SPATIAL = 6, SIZE = BATCH * CLASSES * SPATIAL };
    nn_real logits[SIZE], probabilities[SIZE];
    int labels[BATCH * SPATIAL];
    for (int i = 0; i < SIZE; i++) {
        logits[i] = (nn_real)(i % 7) / 7;
        probabilities[i] = -1;
    }
    for (int i = 0; i < BATCH * SPATIAL; i++)
        labels[i] = i % CLASSES;
    labels[1 * SPATIAL + 4] = CLASSES;
    double loss = -1.0;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, labels,
                                                      BATCH, CLASSES, SPATIAL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(err.status, NN_ERR_ARGUMENT);
    ck_assert_msg(strstr(err.message, "sample 1") && strstr(err.message, "pixel 4")
                      && strstr(err.message, "label 5"),
                  "message does not locate the label: %s", err.message);
    ck_assert_double_eq(loss, -1.0);
    for (int i = 0; i < SIZE; i++)
        ck_assert_real_near(probabilities[i], -1.0, 0.0);

    /* Classification (S = 1): a negative label, sample index named. */
    int class_labels[4] = { 0, 1, 2, -1 };
    nn_error_clear(&err);
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, class_labels,
                                                      4, CLASSES, 1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_msg(strstr(err.message, "sample 3") && strstr(err.message, "label -1"),
                  "message does not locate the label: %s", err.message);
    /* No error record to fill is fine too. */
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, class_labels,
                                                      4, CLASSES, 1, NULL),
                     NN_ERR_ARGUMENT);
}
END_TEST

START_TEST(cross_entropy_rejects_empty_sizes)
{
    nn_real logits[1] = { 0 }, probabilities[1];
    int label = 0;
    double loss;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, &label, 0, 1,
                                                      1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_softmax_cross_entropy_forward(&loss, probabilities, logits, &label, 1, 0,
                                                      1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "classes 0"));
}
END_TEST

Suite *softmax_cross_entropy_suite(void);
Suite *softmax_cross_entropy_suite(void)
{
    Suite *suite = suite_create("softmax_cross_entropy");
    TCase *tc = tcase_create("core");
    int cases = (int)(sizeof fixture_cases / sizeof fixture_cases[0]);
    int shapes = (int)(sizeof gradcheck_shapes / sizeof gradcheck_shapes[0]);
    tcase_add_loop_test(tc, cross_entropy_forward_matches_pytorch, 0, cases);
    tcase_add_loop_test(tc, cross_entropy_backward_matches_pytorch, 0, cases);
    tcase_add_loop_test(tc, cross_entropy_backward_adds_scale_times_gradient, 0, cases);
    tcase_add_loop_test(tc, cross_entropy_backward_passes_gradcheck, 0, shapes);
    tcase_add_test(tc, cross_entropy_gradient_is_softmax_minus_onehot_over_batch);
    tcase_add_test(tc, wrong_class_gradient_equals_its_probability);
    tcase_add_test(tc, cross_entropy_is_finite_for_logits_of_ten_thousand);
    tcase_add_test(tc, cross_entropy_rejects_out_of_range_labels_naming_sample_and_pixel);
    tcase_add_test(tc, cross_entropy_rejects_empty_sizes);
    suite_add_tcase(suite, tc);
    return suite;
}
