/*
 * check_schedule.c - learning-rate schedules: step and exponential values
 * at given epochs, and the plateau rule (patience, relative threshold,
 * minimum rate).
 */
#include "nn/optim.h"
#include "testutil.h"

START_TEST(constant_schedule_keeps_the_base_rate)
{
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_CONSTANT, 0.05, 0.1, 1, 0);
    for (int epoch = 0; epoch < 10; epoch++)
        ck_assert_double_eq(nn_schedule_next(&schedule, epoch, 1.0 / (epoch + 1)), 0.05);
}
END_TEST

START_TEST(step_schedule_multiplies_by_gamma_every_step_size_epochs)
{
    /* base 0.1, gamma 0.5, step 3: 0.1 for epochs 0-2, 0.05 for 3-5... */
    const double expected[] = { 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125 };
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_STEP, 0.1, 0.5, 3, 0);
    ck_assert_int_eq(nn_schedule_validate(&schedule, NULL), NN_OK);
    for (int epoch = 0; epoch < 10; epoch++)
        ck_assert_real_near(nn_schedule_next(&schedule, epoch, 0.0), expected[epoch], 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 30, 0.0), 0.1 / 1024.0, 1e-15);
}
END_TEST

START_TEST(exponential_schedule_multiplies_by_gamma_every_epoch)
{
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_EXPONENTIAL, 1.0, 0.9, 0, 0);
    ck_assert_int_eq(nn_schedule_validate(&schedule, NULL), NN_OK);
    ck_assert_real_near(nn_schedule_next(&schedule, 0, 0.0), 1.0, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 1, 0.0), 0.9, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 0.0), 0.81, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 5, 0.0), 0.59049, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 10, 0.0), 0.3486784401, 1e-15);
}
END_TEST

START_TEST(plateau_reduces_after_patience_bad_epochs_and_not_before)
{
    /* patience 2: two epochs without improvement are tolerated, the third
     * cuts the rate, and the count starts over. */
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 0.1, 0.1, 0, 2);
    ck_assert_int_eq(nn_schedule_validate(&schedule, NULL), NN_OK);
    ck_assert_real_near(nn_schedule_next(&schedule, 0, 1.0), 0.1, 1e-15); /* best so far */
    ck_assert_real_near(nn_schedule_next(&schedule, 1, 1.0), 0.1, 1e-15); /* bad 1 */
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 1.2), 0.1, 1e-15); /* bad 2 */
    ck_assert_real_near(nn_schedule_next(&schedule, 3, 1.0), 0.01, 1e-15); /* bad 3: cut */
    ck_assert_real_near(nn_schedule_next(&schedule, 4, 1.0), 0.01, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 5, 1.0), 0.01, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 6, 1.0), 0.001, 1e-15);
}
END_TEST

START_TEST(plateau_improvement_resets_the_count)
{
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 0.1, 0.5, 0, 2);
    const double losses[] = { 1.0, 1.1, 1.05, 0.8, 0.9, 0.85, 0.7, 0.75, 0.72 };
    for (size_t e = 0; e < sizeof losses / sizeof losses[0]; e++)
        ck_assert_real_near(nn_schedule_next(&schedule, (int)e, losses[e]), 0.1, 1e-15);
    ck_assert_double_eq(schedule.best_loss, 0.7);
    /* a third bad epoch after 0.7 does cut it */
    ck_assert_real_near(nn_schedule_next(&schedule, 9, 0.71), 0.05, 1e-15);
}
END_TEST

START_TEST(plateau_threshold_is_relative)
{
    /* threshold 0.01: an epoch counts as better only below best * 0.99. */
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 1.0, 0.5, 0, 0);
    schedule.threshold = 0.01;
    ck_assert_int_eq(nn_schedule_validate(&schedule, NULL), NN_OK);
    ck_assert_real_near(nn_schedule_next(&schedule, 0, 100.0), 1.0, 1e-15);
    /* 99.5 is lower but by 0.5% only: a bad epoch, with patience 0 a cut */
    ck_assert_real_near(nn_schedule_next(&schedule, 1, 99.5), 0.5, 1e-15);
    ck_assert_double_eq(schedule.best_loss, 100.0);
    /* 98.9 is 1.1% lower: an improvement */
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 98.9), 0.5, 1e-15);
    ck_assert_double_eq(schedule.best_loss, 98.9);
    /* the threshold scales with the loss: at 1e-3, 0.995e-3 is not better */
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 1.0, 0.5, 0, 0);
    schedule.threshold = 0.01;
    nn_schedule_next(&schedule, 0, 1e-3);
    ck_assert_real_near(nn_schedule_next(&schedule, 1, 0.995e-3), 0.5, 1e-15);
}
END_TEST

START_TEST(plateau_never_goes_below_min_learning_rate)
{
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 0.1, 0.1, 0, 0);
    schedule.min_learning_rate = 5e-4;
    nn_schedule_next(&schedule, 0, 1.0);
    ck_assert_real_near(nn_schedule_next(&schedule, 1, 1.0), 0.01, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 1.0), 1e-3, 1e-15);
    for (int epoch = 3; epoch < 10; epoch++)
        ck_assert_real_near(nn_schedule_next(&schedule, epoch, 1.0), 5e-4, 1e-15);
    /* the exponential schedule respects it too */
    nn_schedule_init(&schedule, NN_SCHEDULE_EXPONENTIAL, 0.1, 0.5, 0, 0);
    schedule.min_learning_rate = 0.02;
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 0.0), 0.025, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 3, 0.0), 0.02, 1e-15);
}
END_TEST

START_TEST(plateau_counts_a_nan_loss_as_bad)
{
    nn_schedule schedule;
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 0.1, 0.5, 0, 1);
    nn_schedule_next(&schedule, 0, 1.0);
    ck_assert_real_near(nn_schedule_next(&schedule, 1, NAN), 0.1, 1e-15);
    ck_assert_real_near(nn_schedule_next(&schedule, 2, NAN), 0.05, 1e-15);
    ck_assert_double_eq(schedule.best_loss, 1.0);
}
END_TEST

START_TEST(unworkable_settings_are_refused)
{
    nn_schedule schedule;
    nn_error err = { 0 };
    nn_schedule_init(&schedule, NN_SCHEDULE_STEP, 0.1, 0.5, 0, 0);
    ck_assert_int_eq(nn_schedule_validate(&schedule, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "step_size"));
    /* unvalidated, it still does not divide by zero */
    ck_assert_real_near(nn_schedule_next(&schedule, 2, 0.0), 0.025, 1e-15);
    nn_schedule_init(&schedule, NN_SCHEDULE_EXPONENTIAL, 0.1, 1.5, 0, 0);
    ck_assert_int_eq(nn_schedule_validate(&schedule, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "gamma"));
    nn_schedule_init(&schedule, NN_SCHEDULE_PLATEAU, 0.1, 0.5, 0, -1);
    ck_assert_int_eq(nn_schedule_validate(&schedule, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "patience"));
    nn_schedule_init(&schedule, NN_SCHEDULE_CONSTANT, -0.1, 0.5, 0, 0);
    ck_assert_int_eq(nn_schedule_validate(&schedule, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "base learning rate"));
}
END_TEST

START_TEST(kind_names_parse)
{
    const char *names[] = { "constant", "step", "exponential", "plateau" };
    const nn_schedule_kind kinds[] = { NN_SCHEDULE_CONSTANT, NN_SCHEDULE_STEP,
                                       NN_SCHEDULE_EXPONENTIAL, NN_SCHEDULE_PLATEAU };
    for (int i = 0; i < 4; i++) {
        nn_schedule_kind kind = (nn_schedule_kind)-1;
        ck_assert_int_eq(nn_schedule_kind_parse(&kind, names[i], NULL), NN_OK);
        ck_assert_int_eq(kind, kinds[i]);
        ck_assert_str_eq(nn_schedule_kind_name(kinds[i]), names[i]);
    }
    nn_schedule_kind kind;
    ck_assert_int_eq(nn_schedule_kind_parse(&kind, "reduce_on_plateau", NULL), NN_OK);
    ck_assert_int_eq(kind, NN_SCHEDULE_PLATEAU);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_schedule_kind_parse(&kind, "cosine", &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "'cosine'"));
}
END_TEST

Suite *schedule_suite(void);
Suite *schedule_suite(void)
{
    Suite *suite = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, constant_schedule_keeps_the_base_rate);
    tcase_add_test(tc, step_schedule_multiplies_by_gamma_every_step_size_epochs);
    tcase_add_test(tc, exponential_schedule_multiplies_by_gamma_every_epoch);
    tcase_add_test(tc, plateau_reduces_after_patience_bad_epochs_and_not_before);
    tcase_add_test(tc, plateau_improvement_resets_the_count);
    tcase_add_test(tc, plateau_threshold_is_relative);
    tcase_add_test(tc, plateau_never_goes_below_min_learning_rate);
    tcase_add_test(tc, plateau_counts_a_nan_loss_as_bad);
    tcase_add_test(tc, unworkable_settings_are_refused);
    tcase_add_test(tc, kind_names_parse);
    suite_add_tcase(suite, tc);
    return suite;
}
