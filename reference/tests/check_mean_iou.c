/*
 * check_mean_iou.c - the segmentation metric: per-class and mean IoU on
 * hand-made label maps with answers worked out by hand (perfect, disjoint,
 * partial), classes absent from both maps left out of the mean, a class
 * only predicted counted as 0, the confusion matrix and its accumulation,
 * agreement with an independent PyTorch computation, and label validation.
 */
#include "nn/metrics.h"
#include "fixture.h"
#include "testutil.h"

enum { MAX_CLASSES = 8 };

/* Both routes to the metric must agree: directly from the maps, and
 * through a confusion matrix. Returns the direct result. */
static double checked_mean_iou(double *class_iou, const int *prediction, const int *target,
                               size_t count, int classes)
{
    nn_error err = { 0 };
    double mean = -1, via_matrix = -1;
    double from_matrix[MAX_CLASSES];
    size_t confusion[MAX_CLASSES * MAX_CLASSES] = { 0 };
    ck_assert_int_le(classes, MAX_CLASSES);
    ck_assert_msg(nn_mean_iou(&mean, class_iou, prediction, target, count, classes, &err)
                      == NN_OK,
                  "%s", err.message);
    ck_assert_msg(nn_confusion_matrix(confusion, prediction, target, count, classes, &err)
                      == NN_OK,
                  "%s", err.message);
    ck_assert_msg(nn_iou_from_confusion(&via_matrix, from_matrix, confusion, classes, &err)
                      == NN_OK,
                  "%s", err.message);
    ck_assert_real_near(via_matrix, mean, 1e-15);
    for (int k = 0; k < classes; k++) {
        if (isnan(class_iou[k]))
            ck_assert(isnan(from_matrix[k]));
        else
            ck_assert_real_near(from_matrix[k], class_iou[k], 1e-15);
    }
    return mean;
}

START_TEST(perfect_prediction_scores_one)
{
    const int target[8] = { 0, 1, 2, 2, 1, 0, 0, 2 };
    double iou[3];
    ck_assert_real_near(checked_mean_iou(iou, target, target, 8, 3), 1.0, 1e-15);
    for (int k = 0; k < 3; k++)
        ck_assert_real_near(iou[k], 1.0, 1e-15);
}
END_TEST

START_TEST(disjoint_prediction_scores_zero)
{
    /* Every pixel wrong: no class has any intersection. */
    const int target[6] = { 0, 0, 1, 1, 2, 2 };
    const int prediction[6] = { 1, 2, 2, 0, 0, 1 };
    double iou[3];
    ck_assert_real_near(checked_mean_iou(iou, prediction, target, 6, 3), 0.0, 1e-15);
    for (int k = 0; k < 3; k++)
        ck_assert_real_near(iou[k], 0.0, 1e-15);
}
END_TEST

START_TEST(partial_overlap_matches_the_hand_count)
{
    /* position:   0  1  2  3  4  5
     * target:     0  0  1  1  2  2
     * prediction: 0  1  1  1  2  0
     * class 0: both {0}, either {0, 1, 5}:     1/3
     * class 1: both {2, 3}, either {1, 2, 3}:  2/3
     * class 2: both {4}, either {4, 5}:        1/2
     * mean (1/3 + 2/3 + 1/2) / 3 = 1/2 */
    const int target[6] = { 0, 0, 1, 1, 2, 2 };
    const int prediction[6] = { 0, 1, 1, 1, 2, 0 };
    double iou[3];
    ck_assert_real_near(checked_mean_iou(iou, prediction, target, 6, 3), 0.5, 1e-15);
    ck_assert_real_near(iou[0], 1.0 / 3.0, 1e-15);
    ck_assert_real_near(iou[1], 2.0 / 3.0, 1e-15);
    ck_assert_real_near(iou[2], 0.5, 1e-15);
}
END_TEST

START_TEST(mean_iou_ignores_classes_absent_from_both_maps)
{
    /* The maps above scored with the exam's five classes: classes 3 and 4
     * appear in neither map, have no IoU (NaN) and leave the mean at 1/2;
     * counting them as 0 would give 0.3, as 1 would give 0.7. */
    const int target[6] = { 0, 0, 1, 1, 2, 2 };
    const int prediction[6] = { 0, 1, 1, 1, 2, 0 };
    double iou[5];
    ck_assert_real_near(checked_mean_iou(iou, prediction, target, 6, 5), 0.5, 1e-15);
    ck_assert(isnan(iou[3]));
    ck_assert(isnan(iou[4]));
    ck_assert_real_near(iou[1], 2.0 / 3.0, 1e-15);
}
END_TEST

START_TEST(a_class_only_predicted_counts_as_zero)
{
    /* No pixel is truly class 1, but one is predicted so: IoU_1 = 0 and it
     * counts. Class 0: both 3 pixels, either 4: 3/4. Mean (3/4 + 0) / 2. */
    const int target[4] = { 0, 0, 0, 0 };
    const int prediction[4] = { 0, 1, 0, 0 };
    double iou[3];
    ck_assert_real_near(checked_mean_iou(iou, prediction, target, 4, 3), 0.375, 1e-15);
    ck_assert_real_near(iou[0], 0.75, 1e-15);
    ck_assert_real_near(iou[1], 0.0, 1e-15);
    ck_assert(isnan(iou[2]));
}
END_TEST

START_TEST(mean_iou_accepts_a_null_class_array)
{
    const int target[6] = { 0, 0, 1, 1, 2, 2 };
    const int prediction[6] = { 0, 1, 1, 1, 2, 0 };
    double mean = -1;
    ck_assert_int_eq(nn_mean_iou(&mean, NULL, prediction, target, 6, 3, NULL), NN_OK);
    ck_assert_real_near(mean, 0.5, 1e-15);
}
END_TEST

/* ---- confusion matrix ---------------------------------------------------- */

START_TEST(confusion_matrix_counts_target_rows_and_predicted_columns)
{
    const int target[6] = { 0, 0, 1, 1, 2, 2 };
    const int prediction[6] = { 0, 1, 1, 1, 2, 0 };
    static const size_t want[9] = { 1, 1, 0,   /* target 0: predicted 0 once, 1 once */
                                    0, 2, 0,   /* target 1: predicted 1 twice */
                                    1, 0, 1 }; /* target 2: predicted 0 once, 2 once */
    size_t confusion[9] = { 0 };
    ck_assert_int_eq(nn_confusion_matrix(confusion, prediction, target, 6, 3, NULL), NN_OK);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(confusion[i], want[i]);
}
END_TEST

START_TEST(confusion_matrix_accumulates_over_batches)
{
    /* Scoring a test set in two batches must equal scoring it at once. */
    enum { COUNT = 40, K = 4 };
    int target[COUNT], prediction[COUNT];
    nn_rng rng;
    nn_rng_seed(&rng, 51);
    for (int i = 0; i < COUNT; i++) {
        target[i] = (int)nn_rng_below(&rng, K);
        prediction[i] = nn_rng_uniform(&rng) < 0.6 ? target[i] : (int)nn_rng_below(&rng, K);
    }
    size_t whole[K * K] = { 0 }, parts[K * K] = { 0 };
    ck_assert_int_eq(nn_confusion_matrix(whole, prediction, target, COUNT, K, NULL), NN_OK);
    ck_assert_int_eq(nn_confusion_matrix(parts, prediction, target, 15, K, NULL), NN_OK);
    ck_assert_int_eq(
        nn_confusion_matrix(parts, prediction + 15, target + 15, COUNT - 15, K, NULL), NN_OK);
    size_t total = 0;
    for (int i = 0; i < K * K; i++) {
        ck_assert_uint_eq(parts[i], whole[i]);
        total += whole[i];
    }
    ck_assert_uint_eq(total, COUNT);
}
END_TEST

/* ---- agreement with PyTorch (fixtures/make_pool.py) --------------------- */

START_TEST(mean_iou_matches_pytorch_bincount)
{
    fixture_file *file = fixture_load("pool");
    const fixture_tensor *p = fixture_get(file, "iou_prediction");
    const fixture_tensor *t = fixture_get(file, "iou_target");
    const fixture_tensor *want_confusion = fixture_get(file, "iou_confusion");
    const fixture_tensor *want_class = fixture_get(file, "iou_class");
    const int classes = (int)want_class->size;
    ck_assert_uint_eq(p->size, t->size);
    ck_assert_int_le(classes, MAX_CLASSES);
    int *prediction = malloc(p->size * sizeof *prediction);
    int *target = malloc(t->size * sizeof *target);
    for (size_t i = 0; i < p->size; i++) {
        prediction[i] = (int)p->values[i];
        target[i] = (int)t->values[i];
    }
    size_t confusion[MAX_CLASSES * MAX_CLASSES] = { 0 };
    ck_assert_int_eq(nn_confusion_matrix(confusion, prediction, target, p->size, classes, NULL),
                     NN_OK);
    for (size_t i = 0; i < want_confusion->size; i++)
        ck_assert_uint_eq(confusion[i], (size_t)want_confusion->values[i]);

    double iou[MAX_CLASSES];
    double mean = checked_mean_iou(iou, prediction, target, p->size, classes);
    ck_assert_real_near(mean, fixture_get(file, "iou_mean")->values[0], 1e-14);
    int absent = 0;
    for (int k = 0; k < classes; k++) {
        if (isnan(want_class->values[k])) {
            ck_assert_msg(isnan(iou[k]), "class %d: got %g, PyTorch says absent", k, iou[k]);
            absent++;
        } else {
            ck_assert_real_near(iou[k], want_class->values[k], 1e-14);
        }
    }
    ck_assert_int_eq(absent, 1); /* the fixture leaves one class out on purpose */
    free(prediction), free(target);
    fixture_free(file);
}
END_TEST

/* ---- validation ---------------------------------------------------------- */

START_TEST(labels_outside_the_classes_are_rejected_before_counting)
{
    const int target[5] = { 0, 1, 2, 1, 0 };
    const int prediction[5] = { 0, 1, 3, 1, 0 };
    size_t confusion[9] = { 0 };
    nn_error err = { 0 };
    ck_assert_int_eq(nn_confusion_matrix(confusion, prediction, target, 5, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "predicted label 3 at position 2"));
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(confusion[i], 0);

    const int negative[5] = { 0, 1, 2, -1, 0 };
    ck_assert_int_eq(nn_confusion_matrix(confusion, target, negative, 5, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "target label -1 at position 3"));

    double mean;
    ck_assert_int_eq(nn_mean_iou(&mean, NULL, prediction, target, 5, 3, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "outside [0, 3)"));
}
END_TEST

START_TEST(empty_inputs_have_no_mean_iou)
{
    const int label = 0;
    double mean = -1;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_mean_iou(&mean, NULL, &label, &label, 0, 3, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));
    size_t confusion[4] = { 0 };
    ck_assert_int_eq(nn_iou_from_confusion(&mean, NULL, confusion, 2, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));
    ck_assert_int_eq(nn_mean_iou(&mean, NULL, &label, &label, 1, 0, &err), NN_ERR_ARGUMENT);
    ck_assert(mean == -1); /* never written on failure */
}
END_TEST

Suite *mean_iou_suite(void);
Suite *mean_iou_suite(void)
{
    Suite *suite = suite_create("mean_iou");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, perfect_prediction_scores_one);
    tcase_add_test(tc, disjoint_prediction_scores_zero);
    tcase_add_test(tc, partial_overlap_matches_the_hand_count);
    tcase_add_test(tc, mean_iou_ignores_classes_absent_from_both_maps);
    tcase_add_test(tc, a_class_only_predicted_counts_as_zero);
    tcase_add_test(tc, mean_iou_accepts_a_null_class_array);
    tcase_add_test(tc, confusion_matrix_counts_target_rows_and_predicted_columns);
    tcase_add_test(tc, confusion_matrix_accumulates_over_batches);
    tcase_add_test(tc, mean_iou_matches_pytorch_bincount);
    tcase_add_test(tc, labels_outside_the_classes_are_rejected_before_counting);
    tcase_add_test(tc, empty_inputs_have_no_mean_iou);
    suite_add_tcase(suite, tc);
    return suite;
}
