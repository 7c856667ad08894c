/*
 * check_train.c - the train kind: a model built from the student's units
 * (and the reference for the rest) is trained inside the sandbox on the
 * training set; the runner returns its predictions on the test inputs, and
 * the grader, which alone holds the test labels, scores the accuracy:
 *
 *     points * clamp((accuracy - floor) / (target - floor), 0, 1)
 */
#include "dlgrade.h"
#include "files.h"
#include "grade_internal.h"

#include "nn/dataset.h"
#include "nn/network.h"
#include "nn/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fashion-MNIST pixels are k/255 exactly: one byte each instead of eight. */
static bool bytes_suffice(const nn_dataset *data)
{
    for (size_t i = 0; i < data->count * data->sample_size; i++) {
        double scaled = (double)data->inputs[i] * 255.0;
        if (fabs(scaled - nearbyint(scaled)) > 1e-3 || scaled < 0 || scaled > 255)
            return false;
    }
    return true;
}

static void put_dataset(dg_writer *request, const nn_dataset *data, bool with_labels)
{
    dg_put_u32(request, (uint32_t)data->count);
    dg_put_u32(request, (uint32_t)data->sample_shape.rank);
    for (int d = 0; d < data->sample_shape.rank; d++)
        dg_put_u32(request, (uint32_t)data->sample_shape.dims[d]);
    dg_put_u32(request, (uint32_t)data->target_size);
    bool bytes = bytes_suffice(data);
    dg_put_u32(request, bytes ? 1 : 0);
    size_t values = data->count * data->sample_size;
    dg_put_u64(request, values);
    for (size_t i = 0; i < values; i++) {
        if (bytes) {
            unsigned char byte = (unsigned char)nearbyint((double)data->inputs[i] * 255.0);
            dg_put_bytes(request, &byte, 1);
        } else {
            dg_put_f64(request, (double)data->inputs[i]);
        }
    }
    if (with_labels)
        dg_put_ints(request, data->labels, data->count * data->target_size);
}

/* Links the training runner from the units' float objects. */
static nn_status link_training_runner(dg_unit_build *build, dg_grade_context *context,
                                      int index, nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    memset(build, 0, sizeof *build);
    snprintf(build->directory, sizeof build->directory, "%s/train-%s", context->workspace,
             config->id);
    if (mkdir(build->directory, 0755) != 0 && errno != EEXIST)
        return nn_error_set(err, NN_ERR_IO, "%s: %s", build->directory, strerror(errno));
    char names[DG_MAX_UNITS][64];
    const char *objects[DG_MAX_UNITS + 1] = { NULL };
    for (int u = 0; u < config->unit_count; u++) {
        const dg_unit_build *unit = &context->float_builds[config->units[u]];
        char from[1200], to[1200];
        snprintf(names[u], sizeof names[u], "%s.o", context->config->units[config->units[u]].name);
        snprintf(from, sizeof from, "%s/unit.o", unit->directory);
        snprintf(to, sizeof to, "%s/%s", build->directory, names[u]);
        if (link(from, to) != 0)
            return nn_error_set(err, NN_ERR_IO, "cannot link %s to %s: %s", from, to,
                                strerror(errno));
        objects[u] = names[u];
    }
    return dg_link_runner(build, context, "float", objects, config->units, config->unit_count,
                          err);
}

/* "model.yaml:L:C: " for a top-level key of a spec, or "model.yaml: ". */
static void spec_place(char *out, size_t size, const char *path, const char *key)
{
    nn_yaml_document *document = NULL;
    nn_error ignored;
    nn_yaml_node *node = NULL;
    if (nn_yaml_load(&document, path, &ignored) == NN_OK)
        node = nn_yaml_get(document, nn_yaml_root(document), key);
    if (node != NULL)
        snprintf(out, size, "%s:%d:%d: ", path, nn_yaml_line(node), nn_yaml_column(node));
    else
        snprintf(out, size, "%s: ", path);
    nn_yaml_free(document);
}

nn_status dg_check_train_preflight(const dg_config *config, int index, nn_error *err)
{
    const dg_check_config *check = &config->checks[index];
    nn_dataset *train = NULL, *test = NULL;
    nn_model_spec *spec = NULL;
    nn_network *network = NULL;
    nn_status status = dg_dataset_open(&train, &test, check->data, 1, 1, err);
    if (status != NN_OK) {
        nn_error_prefix(err, "dataset %s", check->data);
        return status == NN_ERR_MEMORY ? status : NN_ERR_FORMAT;
    }
    status = nn_model_spec_load(&spec, check->model, err);
    if (status == NN_OK) {
        nn_rng rng;
        nn_rng_seed(&rng, 1);
        status = nn_network_new(&network, spec, 1, &rng, err);
    }
    char place[700], have[128], want[128];
    if (status == NN_OK && !nn_shape_equal(&spec->input_shape, &train->sample_shape)) {
        spec_place(place, sizeof place, check->model, "input");
        status = nn_error_set(err, NN_ERR_FORMAT, "%sthe model's input %s does not match the "
                              "samples %s of dataset %s", place,
                              nn_shape_format(have, sizeof have, &spec->input_shape),
                              nn_shape_format(want, sizeof want, &train->sample_shape),
                              check->data);
    }
    size_t outputs = status == NN_OK ? nn_network_output_size(network) : 0;
    size_t needed = (size_t)train->class_count * train->target_size;
    if (status == NN_OK && spec->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && outputs != needed) {
        spec_place(place, sizeof place, check->model, "layers");
        status = nn_error_set(err, NN_ERR_FORMAT, "%sthe model ends in %zu outputs per sample, "
                              "but dataset %s needs %zu (%d classes)", place, outputs,
                              check->data, needed, train->class_count);
    }
    nn_network_free(network);
    nn_model_spec_free(spec);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return status;
}

nn_status dg_check_train(dg_check_result *check, dg_grade_context *context, int index,
                         nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    dg_unit_build build;
    nn_status status = link_training_runner(&build, context, index, err);
    /* The link's messages join the report's build log after the units'
     * (grade.c puts the logs in order). */
    context->check_logs[index] = build.log;
    build.log = NULL;
    if (status != NN_OK)
        return status;
    if (build.state != DG_BUILD_OK) {
        check->outcome = DG_OUTCOME_BUILD_ERROR;
        dg_check_printf(check, "%s\n", build.log_summary);
        return NN_OK;
    }
    /* The runner reads the spec into 64 KiB (runner_serve.c). */
    char *spec = dg_read_file(config->model, (1 << 16) - 1, NULL, err);
    if (spec == NULL)
        return err->status;
    nn_dataset *train = NULL, *test = NULL;
    unsigned long long seed = dg_check_seed(context, index);
    status = dg_dataset_open(&train, &test, config->data, seed, (size_t)config->train_samples,
                             err);
    if (status != NN_OK) {
        free(spec);
        return status;
    }
    dg_writer request;
    dg_writer_init(&request);
    dg_put_u32(&request, DG_REQUEST_MAGIC);
    dg_put_u32(&request, DG_PROTOCOL_VERSION);
    dg_put_u32(&request, DG_COMMAND_TRAIN);
    dg_put_string(&request, spec);
    dg_put_u32(&request, (uint32_t)config->epochs);
    dg_put_u64(&request, seed);
    dg_put_u32(&request, (uint32_t)train->class_count);
    put_dataset(&request, train, true);
    put_dataset(&request, test, false);   /* the labels stay here */
    free(spec);
    dg_sandbox_result run = { 0 };
    if (request.failed)
        status = nn_error_set(err, NN_ERR_MEMORY, "out of memory for the training request");
    else
        status = dg_run_runner(&run, context, &build, request.data, request.size,
                               &config->limits, false, err);
    dg_writer_release(&request);
    size_t predicted = test->count * test->target_size;
    int *predictions = calloc(predicted, sizeof *predictions);
    if (status == NN_OK && predictions == NULL)
        status = nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    if (status == NN_OK && !dg_judge_run(check, &run, &config->limits, "training")) {
        dg_reader reader;
        dg_reader_init(&reader, run.output, run.output_size);
        char message[512];
        bool header = dg_get_u32(&reader) == DG_RESPONSE_MAGIC;
        int32_t code = dg_get_i32(&reader);
        dg_get_string(&reader, message, sizeof message);
        uint32_t epochs = dg_get_u32(&reader);
        if (header && !reader.failed && epochs <= 1000) {
            check->curve = calloc(epochs ? epochs : 1, sizeof *check->curve);
            for (uint32_t e = 0; e < epochs && check->curve != NULL; e++) {
                check->curve[e].epoch = (int)e + 1;
                check->curve[e].train_loss = dg_get_f64(&reader);
                check->curve[e].train_accuracy = dg_get_f64(&reader);
                check->curve[e].test_accuracy = NAN;
            }
            check->curve_count = check->curve ? epochs : 0;
        }
        dg_get_ints(&reader, predictions, code == NN_OK ? predicted : 0);
        if (!header || !dg_reader_done(&reader)) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "the training runner's answer was malformed (%s)\n",
                            header ? reader.problem : "bad header");
        } else if (code == NN_ERR_NOT_IMPLEMENTED) {
            check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
            dg_check_printf(check, "training stopped: %s\n", message);
        } else if (code != NN_OK) {
            check->outcome = DG_OUTCOME_FAILED;
            dg_check_printf(check, "training failed: %s\n", message);
        } else {
            size_t correct = 0;
            for (size_t i = 0; i < predicted; i++)
                correct += predictions[i] == test->labels[i];
            double accuracy = (double)correct / (double)predicted;
            if (check->curve_count > 0)
                check->curve[check->curve_count - 1].test_accuracy = accuracy;
            dg_judge_accuracy(check, accuracy, config->floor, config->target, "test");
        }
    }
    check->seconds = run.cpu_seconds;
    free(predictions);
    dg_sandbox_result_release(&run);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return status;
}
