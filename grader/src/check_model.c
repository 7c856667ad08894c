/*
 * check_model.c - the model kind: the student submits a trained model (a
 * spec and its weights file); the grader loads it with the reference
 * layers, bounded (model_eval.c), and scores its accuracy on the test
 * split like the train kind:
 *
 *     points * clamp((accuracy - floor) / (target - floor), 0, 1)
 *
 * No student code runs, so nothing here goes near the sandbox. A model
 * missing from the submission scores 0 (the student did not hand it in);
 * a model that is there but broken is bad input, refused by the preflight
 * before any student code of any check runs (exit status 2).
 */
#include "dlgrade.h"
#include "grade_internal.h"
#include "model_eval.h"
#include "submission.h"

#include "nn/fashion_mnist.h"

#include <stdio.h>
#include <string.h>

/* The test split only: Fashion-MNIST's training images are not needed. */
static nn_status open_test_split(nn_dataset **test, const char *name, unsigned long long seed,
                                 nn_error *err)
{
    *test = NULL;
    if (strcmp(name, "fashion-mnist") == 0)
        return nn_fashion_mnist_load(NULL, test, NULL, err);
    nn_dataset *train = NULL;
    nn_status status = dg_dataset_open(&train, test, name, seed, 0, err);
    nn_dataset_free(train);
    return status;
}

/* Where the check's two files are in the submission: NN_OK when both are
 * there; otherwise *missing names the first one absent. */
static bool find_files(char *spec_path, char *weights_path, size_t size,
                       const dg_check_config *check, const char *root, const char **missing)
{
    nn_error ignored;
    *missing = NULL;
    if (dg_submission_find(spec_path, size, root, check->spec_file, &ignored) != NN_OK)
        *missing = check->spec_file;
    else if (dg_submission_find(weights_path, size, root, check->weights_file, &ignored) != NN_OK)
        *missing = check->weights_file;
    return *missing == NULL;
}

/* Loads the submitted model against test; the error is the model's. */
static nn_status load(nn_network **network, nn_network_plan *plan, const dg_check_config *check,
                      const char *spec_path, const char *weights_path, const nn_dataset *test,
                      nn_error *err)
{
    dg_model_limits limits = dg_model_limits_of(check->max_parameters, check->max_flops);
    dg_model_file spec = { spec_path, check->spec_file };
    dg_model_file weights = { weights_path, check->weights_file };
    return dg_model_load(network, plan, &spec, &weights, test, &limits, err);
}

nn_status dg_check_model_preflight(const dg_config *config, int index, const char *root,
                                   unsigned long long seed, nn_error *err)
{
    const dg_check_config *check = &config->checks[index];
    char spec_path[1024], weights_path[1024];
    const char *missing;
    if (!find_files(spec_path, weights_path, sizeof spec_path, check, root, &missing))
        return NN_OK;   /* graded 0 by the check, not bad input */
    nn_dataset *test = NULL;
    nn_status status = open_test_split(&test, check->data, seed, err);
    if (status != NN_OK) {
        nn_error_prefix(err, "dataset %s", check->data);
        return status == NN_ERR_MEMORY ? status : NN_ERR_FORMAT;
    }
    nn_network *network = NULL;
    status = load(&network, NULL, check, spec_path, weights_path, test, err);
    nn_network_free(network);
    nn_dataset_free(test);
    return status;
}

nn_status dg_check_model(dg_check_result *check, dg_grade_context *context, int index,
                         nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    double started = dg_seconds_now();
    char spec_path[1024], weights_path[1024];
    const char *missing;
    if (!find_files(spec_path, weights_path, sizeof spec_path, config, context->submission_root,
                    &missing)) {
        check->outcome = DG_OUTCOME_FAILED;
        check->score = 0;
        dg_check_printf(check, "%s is not in the submission: the check needs your model's "
                        "spec (%s) and trained weights (%s)%s\n", missing, config->spec_file,
                        config->weights_file,
                        config->starter[0] != '\0' ? ", as `make train` writes them" : "");
        return NN_OK;
    }
    nn_dataset *test = NULL;
    nn_status status = open_test_split(&test, config->data, dg_check_seed(context, index), err);
    if (status != NN_OK)
        return status;
    nn_network *network = NULL;
    nn_network_plan plan;
    /* The preflight accepted these very files: a refusal now, or a failed
     * evaluation, is the grader's failure (NN_ERR_NUMERIC: exit status
     * 3), never the student's. */
    status = load(&network, &plan, config, spec_path, weights_path, test, err);
    double accuracy = 0;
    if (status == NN_OK)
        status = dg_model_accuracy(&accuracy, network, test, err);
    if (status != NN_OK && status != NN_ERR_MEMORY) {
        nn_error_prefix(err, "the model passed the preflight, then failed");
        status = NN_ERR_NUMERIC;
    }
    if (status == NN_OK) {
        dg_check_printf(check, "%s: %d layers, %zu parameters, %.0f FLOPs per sample; "
                        "evaluated by the grader on the %zu test samples of %s\n",
                        config->spec_file, plan.layer_count, plan.parameters + plan.buffers,
                        plan.flops, test->count, config->data);
        dg_judge_accuracy(check, accuracy, config->floor, config->target, "test");
    }
    check->seconds = dg_seconds_now() - started;
    nn_network_free(network);
    nn_dataset_free(test);
    return status;
}
