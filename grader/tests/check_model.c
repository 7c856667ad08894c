/*
 * check_model.c - the model kind: a linear classifier of the 2-D blobs,
 * its weights written here by hand, is graded by dg_check_model on the
 * check's test split, and the accuracy and points are worked out again in
 * this file from the same samples and the same weights (scores W x + b,
 * argmax), so a grader that evaluated the wrong thing, in the wrong mode,
 * or scored it on the wrong scale would disagree. Then the bounds and
 * messages of dg_model_load: a spec too long or holding a NUL, a weights
 * file too large for the parameter bound, names as the submission knows
 * them; the preflight's two verdicts (missing: left to the check; broken:
 * bad input); and the check's keys in assignment.yaml.
 */
#include "config.h"
#include "dlgrade.h"
#include "grade_internal.h"
#include "model_eval.h"

#include "../../reference/tests/netutil.h"

#include <sys/stat.h>

#define CLASSES 4
#define FLOOR 0.5
#define TARGET 0.9
#define POINTS 5.0

static const char linear_spec[] = "name: blobs-linear\n"
                                  "input: [2]\n"
                                  "layers:\n"
                                  "  - {type: linear, out: 4}\n";

/* A submission folder with model.yaml and (when weight is not NULL) the
 * weights of linear_spec: weight (4, 2), bias (4). */
typedef struct submission {
    char dir[256], root[300], spec[400], weights[400];
} submission;

static void write_file(const char *path, const char *text, size_t size)
{
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(text, 1, size, file), size);
    ck_assert_int_eq(fclose(file), 0);
}

static void make_submission(submission *s, const double weight[CLASSES][2],
                            const double bias[CLASSES])
{
    test_make_temp_dir(s->dir, sizeof s->dir);
    snprintf(s->root, sizeof s->root, "%s/submission", s->dir);
    ck_assert_int_eq(mkdir(s->root, 0755), 0);
    snprintf(s->spec, sizeof s->spec, "%s/model.yaml", s->root);
    snprintf(s->weights, sizeof s->weights, "%s/model.weights", s->root);
    write_file(s->spec, linear_spec, strlen(linear_spec));
    if (weight == NULL)
        return;
    nn_network *network = net_build(linear_spec, 1, 1);
    for (int k = 0; k < CLASSES; k++) {
        network->layers[0]->parameters[0].value[2 * k] = (nn_real)weight[k][0];
        network->layers[0]->parameters[0].value[2 * k + 1] = (nn_real)weight[k][1];
        network->layers[0]->parameters[1].value[k] = (nn_real)bias[k];
    }
    nn_error err;
    net_assert_ok(nn_weights_save(network, s->weights, &err), &err);
    nn_network_free(network);
}

/* The assignment: one model check on the blobs. */
static void make_config(dg_config *config)
{
    memset(config, 0, sizeof *config);
    snprintf(config->name, sizeof config->name, "models");
    config->check_count = 1;
    dg_check_config *check = &config->checks[0];
    snprintf(check->id, sizeof check->id, "submitted-model");
    check->kind = DG_CHECK_MODEL;
    check->unit = -1;
    check->points = POINTS;
    snprintf(check->spec_file, sizeof check->spec_file, "model.yaml");
    snprintf(check->weights_file, sizeof check->weights_file, "model.weights");
    snprintf(check->data, sizeof check->data, "blobs");
    check->max_parameters = 1000;
    check->max_flops = 1000;
    check->floor = FLOOR;
    check->target = TARGET;
}

/* Grades s with dg_check_model; the check's test split goes to *test. */
static void grade(dg_check_result *check, nn_dataset **test, const submission *s)
{
    static dg_config config;
    make_config(&config);
    dg_grade_options options = { .seed = 7 };
    dg_grade_context context = { .config = &config, .options = &options };
    snprintf(context.submission_root, sizeof context.submission_root, "%s", s->root);
    memset(check, 0, sizeof *check);
    check->max_score = POINTS;
    check->outcome = DG_OUTCOME_GRADER_ERROR;
    nn_error err;
    net_assert_ok(dg_check_model(check, &context, 0, &err), &err);
    nn_dataset *train;
    net_assert_ok(dg_dataset_open(&train, test, "blobs", dg_check_seed(&context, 0), 0, &err),
                  &err);
    nn_dataset_free(train);
}

/* The accuracy of W x + b on data, computed here: the first largest score
 * is the prediction. */
static double accuracy_by_hand(const nn_dataset *data, const double weight[CLASSES][2],
                               const double bias[CLASSES])
{
    size_t correct = 0;
    for (size_t i = 0; i < data->count; i++) {
        const nn_real *x = data->inputs + 2 * i;
        int best = 0;
        double best_score = -INFINITY;
        for (int k = 0; k < CLASSES; k++) {
            double score = weight[k][0] * (double)x[0] + weight[k][1] * (double)x[1] + bias[k];
            if (score > best_score) {
                best_score = score;
                best = k;
            }
        }
        correct += best == data->labels[i];
    }
    return (double)correct / (double)data->count;
}

static double points_for(double accuracy)
{
    double fraction = (accuracy - FLOOR) / (TARGET - FLOOR);
    return POINTS * (fraction < 0 ? 0 : fraction > 1 ? 1 : fraction);
}

/* The blob centers, (2, 0), (0, 2), (-2, 0), (0, -2): a linear layer with
 * w_k = c_k and b_k = -|c_k|^2 / 2 picks the nearest center. */
static const double nearest[CLASSES][2] = { { 2, 0 }, { 0, 2 }, { -2, 0 }, { 0, -2 } };
static const double nearest_bias[CLASSES] = { -2, -2, -2, -2 };

START_TEST(nearest_center_model_gets_the_points_of_its_accuracy)
{
    submission s;
    make_submission(&s, nearest, nearest_bias);
    dg_check_result check;
    nn_dataset *test;
    grade(&check, &test, &s);
    ck_assert_uint_eq(test->count, 1000);
    double accuracy = accuracy_by_hand(test, nearest, nearest_bias);
    ck_assert_double_eq_tol(check.score, points_for(accuracy), 1e-12);
    ck_assert_double_gt(accuracy, TARGET);   /* the blobs are nearly separable */
    ck_assert_int_eq(check.outcome, DG_OUTCOME_PASSED);
    char line[96];
    snprintf(line, sizeof line, "test accuracy %.4f, at or above the target 0.90 (5 of 5)",
             accuracy);
    ck_assert_msg(strstr(check.output, line) != NULL, "no '%s' in:\n%s", line, check.output);
    ck_assert_ptr_nonnull(strstr(check.output, "model.yaml: 1 layers, 12 parameters, 16 FLOPs"));
    ck_assert_ptr_nonnull(strstr(check.output, "on the 1000 test samples of blobs"));
    free(check.output);
    nn_dataset_free(test);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(a_model_blind_to_one_class_gets_partial_points)
{
    /* Class 3 never wins: about three quarters right. */
    static const double blind[CLASSES][2] = { { 2, 0 }, { 0, 2 }, { -2, 0 }, { 0, 0 } };
    static const double blind_bias[CLASSES] = { -2, -2, -2, -1000 };
    submission s;
    make_submission(&s, blind, blind_bias);
    dg_check_result check;
    nn_dataset *test;
    grade(&check, &test, &s);
    double accuracy = accuracy_by_hand(test, blind, blind_bias);
    ck_assert_double_lt(accuracy, 0.76);
    ck_assert_double_gt(accuracy, FLOOR);
    ck_assert_double_eq_tol(check.score, points_for(accuracy), 1e-12);
    ck_assert_int_eq(check.outcome, DG_OUTCOME_PARTIAL);
    char line[128];
    snprintf(line, sizeof line, "test accuracy %.4f, needed 0.90 for full points and 0.50 for "
             "any (%.1f of 5)", accuracy, points_for(accuracy));
    ck_assert_msg(strstr(check.output, line) != NULL, "no '%s' in:\n%s", line, check.output);
    free(check.output);
    nn_dataset_free(test);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(a_model_worse_than_the_floor_gets_nothing)
{
    /* Every score the wrong way round: the farthest center wins. */
    static const double farthest[CLASSES][2] = { { -2, 0 }, { 0, -2 }, { 2, 0 }, { 0, 2 } };
    submission s;
    make_submission(&s, farthest, nearest_bias);
    dg_check_result check;
    nn_dataset *test;
    grade(&check, &test, &s);
    double accuracy = accuracy_by_hand(test, farthest, nearest_bias);
    ck_assert_double_lt(accuracy, 0.1);
    ck_assert_double_eq(check.score, 0);
    ck_assert_int_eq(check.outcome, DG_OUTCOME_FAILED);
    free(check.output);
    nn_dataset_free(test);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(missing_weights_score_zero_and_say_which_file)
{
    submission s;
    make_submission(&s, NULL, NULL);
    dg_config config;
    make_config(&config);
    nn_error err;
    /* Not bad input: the preflight lets the check score it. */
    net_assert_ok(dg_check_model_preflight(&config, 0, s.root, 7, &err), &err);
    dg_check_result check;
    nn_dataset *test;
    grade(&check, &test, &s);
    ck_assert_double_eq(check.score, 0);
    ck_assert_int_eq(check.outcome, DG_OUTCOME_FAILED);
    ck_assert_ptr_nonnull(strstr(check.output, "model.weights is not in the submission"));
    free(check.output);
    nn_dataset_free(test);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(a_broken_model_fails_the_preflight_naming_the_submitted_file)
{
    submission s;
    make_submission(&s, nearest, nearest_bias);
    write_file(s.weights, "\x1f\x8b", 2);
    dg_config config;
    make_config(&config);
    nn_error err;
    ck_assert_int_eq(dg_check_model_preflight(&config, 0, s.root, 7, &err), NN_ERR_FORMAT);
    ck_assert_msg(strncmp(err.message, "model.weights: offset ", 22) == 0, "%s", err.message);
    ck_assert_ptr_null(strstr(err.message, s.dir));
    /* A spec error is located in the spec. */
    write_file(s.spec, "input: [2]\nlayers:\n  - {type: linear, out: 4, bais: false}\n", 58);
    ck_assert_int_eq(dg_check_model_preflight(&config, 0, s.root, 7, &err), NN_ERR_FORMAT);
    ck_assert_msg(strncmp(err.message, "model.yaml:3:28: layer linear1: unknown key 'bais'", 50)
                      == 0, "%s", err.message);
    test_remove_dir(s.dir);
}
END_TEST

/* dg_model_load's refusal of s under limits, and its message. */
static void expect_load_refused(const submission *s, const dg_model_limits *limits,
                                const char *start, const char *part)
{
    nn_dataset *train, *test;
    nn_error err;
    net_assert_ok(dg_dataset_open(&train, &test, "blobs", 1, 0, &err), &err);
    dg_model_file spec = { s->spec, "model.yaml" }, weights = { s->weights, "model.weights" };
    nn_network *network = (nn_network *)1;
    nn_status status = dg_model_load(&network, NULL, &spec, &weights, test, limits, &err);
    ck_assert_msg(status == NN_ERR_FORMAT, "status %s (%s)", nn_status_name(status),
                  status == NN_OK ? "loaded" : err.message);
    ck_assert_ptr_null(network);
    ck_assert_msg(strncmp(err.message, start, strlen(start)) == 0, "'%s' does not start '%s'",
                  err.message, start);
    ck_assert_msg(strstr(err.message, part) != NULL, "'%s' lacks '%s'", err.message, part);
    nn_dataset_free(train);
    nn_dataset_free(test);
}

START_TEST(sizes_are_bounded_before_anything_is_read_whole)
{
    submission s;
    make_submission(&s, nearest, nearest_bias);
    dg_model_limits limits = dg_model_limits_of(1000, 1000);
    /* The weights file: 4 bytes a parameter and 1 MiB. */
    ck_assert_uint_eq(limits.max_weights_bytes, 4000 + (1u << 20));
    limits.max_weights_bytes = 50;
    expect_load_refused(&s, &limits, "model.weights: ", "more than the 50 a weights file");
    /* The spec's bytes. */
    limits = dg_model_limits_of(1000, 1000);
    limits.max_spec_bytes = 20;
    expect_load_refused(&s, &limits, "model.yaml: longer than 20 bytes", "");
    /* A NUL would hide the rest of the spec from the YAML parser. */
    limits = dg_model_limits_of(1000, 1000);
    write_file(s.spec, "input: [2]\n\0layers: []\n", 23);
    expect_load_refused(&s, &limits, "model.yaml: offset 11: a NUL byte", "");
    /* Parameters and FLOPs, at the layer. */
    write_file(s.spec, linear_spec, strlen(linear_spec));
    limits = dg_model_limits_of(11, 1000);
    expect_load_refused(&s, &limits, "model.yaml:4:5: layer linear1: ", "more than the 11 allowed");
    limits = dg_model_limits_of(1000, 15);
    expect_load_refused(&s, &limits, "model.yaml:4:5: layer linear1: ", "16 FLOPs");
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(a_regression_loss_cannot_be_scored_by_accuracy)
{
    submission s;
    make_submission(&s, nearest, nearest_bias);
    const char *mse = "input: [2]\nlayers:\n  - {type: linear, out: 4}\nloss: mse\n";
    write_file(s.spec, mse, strlen(mse));
    dg_model_limits limits = dg_model_limits_of(1000, 1000);
    expect_load_refused(&s, &limits, "model.yaml:4:7: loss mse cannot be scored by accuracy",
                        "softmax_cross_entropy");
    test_remove_dir(s.dir);
}
END_TEST

/* ---- the check's keys ---------------------------------------------------------------- */

static nn_status load_config(dg_config *config, const char *dir, const char *checks,
                             char **problems)
{
    char path[400], text[2048];
    snprintf(path, sizeof path, "%s/assignment.yaml", dir);
    int length = snprintf(text, sizeof text, "assignment: models\nunits: {}\nchecks:\n%s", checks);
    write_file(path, text, (size_t)length);
    nn_error err;
    return dg_config_load(config, path, problems, &err);
}

START_TEST(model_check_keys_have_defaults_and_are_validated)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    dg_config *config = malloc(sizeof *config);
    char *problems = NULL;
    net_assert_ok(load_config(config, dir,
                              "  - {id: m, kind: model, points: 4,\n"
                              "     threshold: {floor: 0.6, target: 0.8}}\n",
                              &problems),
                  &(nn_error){ .message = "" });
    const dg_check_config *check = &config->checks[0];
    ck_assert_int_eq(check->kind, DG_CHECK_MODEL);
    ck_assert_str_eq(check->spec_file, "model.yaml");
    ck_assert_str_eq(check->weights_file, "model.weights");
    ck_assert_str_eq(check->data, "fashion-mnist");
    ck_assert_uint_eq(check->max_parameters, 1000000);
    ck_assert_double_eq(check->max_flops, 1e7);
    ck_assert_double_eq(check->floor, 0.6);
    ck_assert_str_eq(dg_check_kind_name(check->kind), "model");

    ck_assert_int_eq(load_config(config, dir,
                                 "  - id: m\n"
                                 "    kind: model\n"
                                 "    points: 4\n"
                                 "    spec: ../model.yaml\n"
                                 "    max_parameters: 2000000\n"
                                 "    data: mnist\n",
                                 &problems),
                     NN_ERR_FORMAT);
    const char *expected[] = {
        "assignment.yaml:7:11: check m: spec must be a plain file name of the submission",
        "assignment.yaml:8:21: check m: max_parameters 2000000 needs weights files of up to "
        "8000000 bytes, more than the 4194304 a submitted file may have",
        "assignment.yaml:9:11: check m: unknown dataset 'mnist'",
        "assignment.yaml:4:5: check m (model) needs threshold",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        ck_assert_msg(strstr(problems, expected[i]) != NULL, "no '%s' in:\n%s", expected[i],
                      problems);
    free(problems);
    free(config);
    test_remove_dir(dir);
}
END_TEST

Suite *model_check_suite(void);
Suite *model_check_suite(void)
{
    Suite *suite = suite_create("model_check");
    TCase *tc = tcase_create("scores");
    tcase_add_test(tc, nearest_center_model_gets_the_points_of_its_accuracy);
    tcase_add_test(tc, a_model_blind_to_one_class_gets_partial_points);
    tcase_add_test(tc, a_model_worse_than_the_floor_gets_nothing);
    tcase_add_test(tc, missing_weights_score_zero_and_say_which_file);
    suite_add_tcase(suite, tc);
    tc = tcase_create("refusals");
    tcase_add_test(tc, a_broken_model_fails_the_preflight_naming_the_submitted_file);
    tcase_add_test(tc, sizes_are_bounded_before_anything_is_read_whole);
    tcase_add_test(tc, a_regression_loss_cannot_be_scored_by_accuracy);
    tcase_add_test(tc, model_check_keys_have_defaults_and_are_validated);
    suite_add_tcase(suite, tc);
    return suite;
}
