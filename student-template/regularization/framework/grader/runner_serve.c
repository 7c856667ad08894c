/*
 * runner_serve.c - answering one request with the linked implementation:
 * the body of the runner (runner.c is only its input and output), and of
 * the student template's local checks, which call it in a child process.
 */
#include "runner_serve.h"

#include "kernel_call.h"
#include "kernels.h"

#include "nn/dataset.h"
#include "nn/gemm.h"
#include "nn/network.h"
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests come from the grader; these bounds only stop a runaway. */
#define RUNNER_MAX_ELEMENTS (64u << 20)

static void read_case(dg_reader *reader, dg_kernel_case *kernel_case, uint64_t *seed)
{
    *kernel_case = (dg_kernel_case){ .input_fill = DG_FILL_NORMAL };   /* inputs arrive filled */
    for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
        kernel_case->dims[d] = dg_get_i32(reader);
    for (int p = 0; p < DG_KERNEL_MAX_PARAMS; p++)
        kernel_case->params[p] = dg_get_f64(reader);
    *seed = dg_get_u64(reader);
}

static int fail(const char *what)
{
    fprintf(stderr, "runner: %s\n", what);
    return 2;
}

static int serve_call(dg_reader *reader, dg_writer *writer)
{
    char function[96];
    dg_get_string(reader, function, sizeof function);
    const dg_kernel *kernel = dg_kernel_find(function);
    if (kernel == NULL)
        return fail("unknown function in the request");
    uint32_t case_count = dg_get_u32(reader);
    dg_put_u32(writer, DG_RESPONSE_MAGIC);
    dg_put_u32(writer, case_count);
    for (uint32_t c = 0; c < case_count && !reader->failed; c++) {
        dg_kernel_case kernel_case;
        uint64_t seed;
        read_case(reader, &kernel_case, &seed);
        dg_call_buffers buffers;
        if (reader->failed
            || dg_call_buffers_new(&buffers, kernel, &kernel_case, RUNNER_MAX_ELEMENTS, NULL)
                   != NN_OK)
            return fail("bad case in the request");
        for (int i = 0; i < kernel->buffer_count; i++)
            dg_call_buffer_get(reader, &buffers, i);
        /* The inputs as they arrived, to tell whether the call wrote into
         * one (the buffers are small: the copy costs nothing). */
        dg_call_buffers arrived;
        if (dg_call_buffers_new(&arrived, kernel, &kernel_case, RUNNER_MAX_ELEMENTS, NULL)
            != NN_OK) {
            dg_call_buffers_release(&buffers);
            return fail("out of memory");
        }
        dg_call_buffers_copy(&arrived, &buffers);
        nn_rng rng;
        nn_rng_seed(&rng, seed);
        int32_t status = reader->failed
                             ? NN_ERR_ARGUMENT
                             : (int32_t)kernel->call(buffers.data, kernel_case.dims,
                                                     kernel_case.params, &rng);
        for (int i = 0; i < kernel->buffer_count && status == NN_OK; i++)
            if (kernel->buffers[i].role == DG_BUFFER_INPUT
                && memcmp(buffers.data[i], arrived.data[i], dg_call_buffer_bytes(&buffers, i))
                       != 0)
                status = DG_STATUS_WROTE_INPUT + i;
        dg_call_buffers_release(&arrived);
        dg_put_i32(writer, status);
        for (int i = 0; i < kernel->buffer_count; i++)
            if (dg_buffer_is_result(kernel->buffers[i].role))
                dg_call_buffer_put(writer, &buffers, i);
        dg_call_buffers_release(&buffers);
    }
    return reader->failed ? fail(reader->problem) : 0;
}

/* L = sum(out * r), or the loss itself when the forward returns one. */
static double scalar_loss(const dg_call_buffers *forward, int output, const double *upstream)
{
    if (forward->kernel->buffers[output].type == DG_BUFFER_DOUBLE)
        return ((const double *)forward->data[output])[0];
    double sum = 0;
    for (size_t k = 0; k < forward->counts[output]; k++)
        sum += dg_call_buffer_value(forward, output, k) * upstream[k];
    return sum;
}

/* Puts the forward's STATE and ACCUMULATE buffers back as they arrived, so
 * that every rerun of the forward differs from the first only by the
 * perturbation (running statistics, the L2 penalty's accumulated loss). */
static void restore(dg_call_buffers *forward, const dg_call_buffers *pristine)
{
    for (int i = 0; i < forward->kernel->buffer_count; i++) {
        dg_buffer_role role = forward->kernel->buffers[i].role;
        if (role == DG_BUFFER_STATE || role == DG_BUFFER_ACCUMULATE)
            memcpy(forward->data[i], pristine->data[i], dg_call_buffer_bytes(forward, i));
    }
}

static double perturbed_loss(dg_call_buffers *forward, const dg_call_buffers *pristine,
                             const dg_kernel_case *kc, const dg_gradient_pair *pair,
                             const double *upstream, const nn_rng *rng)
{
    restore(forward, pristine);
    nn_rng same = *rng;
    if (forward->kernel->call(forward->data, kc->dims, kc->params, &same) != NN_OK)
        return NAN;
    return scalar_loss(forward, pair->forward_output, upstream);
}

static int serve_gradcheck(dg_reader *reader, dg_writer *writer)
{
    char backward_name[96];
    dg_get_string(reader, backward_name, sizeof backward_name);
    const dg_gradient_pair *pair = dg_gradient_pair_find(backward_name);
    if (pair == NULL || strcmp(pair->backward, backward_name) != 0)
        return fail("unknown gradient pair in the request");
    const dg_kernel *forward_kernel = dg_kernel_find(pair->forward);
    const dg_kernel *backward_kernel = dg_kernel_find(pair->backward);
    uint32_t case_count = dg_get_u32(reader);
    dg_put_u32(writer, DG_RESPONSE_MAGIC);
    dg_put_u32(writer, case_count);
    for (uint32_t c = 0; c < case_count && !reader->failed; c++) {
        dg_kernel_case kernel_case;
        uint64_t seed;
        read_case(reader, &kernel_case, &seed);
        dg_kernel_case backward_case = dg_gradient_pair_backward_case(pair, &kernel_case);
        dg_call_buffers forward, pristine, backward;
        if (reader->failed
            || dg_call_buffers_new(&forward, forward_kernel, &kernel_case, RUNNER_MAX_ELEMENTS,
                                   NULL) != NN_OK)
            return fail("bad case in the request");
        if (dg_call_buffers_new(&pristine, forward_kernel, &kernel_case, RUNNER_MAX_ELEMENTS,
                                NULL) != NN_OK
            || dg_call_buffers_new(&backward, backward_kernel, &backward_case,
                                   RUNNER_MAX_ELEMENTS, NULL) != NN_OK)
            return fail("out of memory");
        for (int i = 0; i < forward_kernel->buffer_count; i++)
            dg_call_buffer_get(reader, &forward, i);
        dg_call_buffers_copy(&pristine, &forward);
        size_t upstream_count = forward.counts[pair->forward_output];
        double *upstream = calloc(upstream_count, sizeof *upstream);
        if (upstream == NULL)
            return fail("out of memory");
        if (pair->backward_upstream >= 0)
            dg_get_doubles(reader, upstream, upstream_count);
        double step = dg_get_f64(reader);
        uint32_t coordinate_count = dg_get_u32(reader);

        nn_rng rng;
        nn_rng_seed(&rng, seed);
        nn_rng fill_rng = nn_rng_split(&rng, 7);
        dg_call_buffers_fill(&backward, &backward_case, &fill_rng);
        nn_rng same = rng;
        nn_status forward_status = forward_kernel->call(forward.data, kernel_case.dims,
                                                        kernel_case.params, &same);
        for (int s = 0; s < pair->share_count; s++)
            memcpy(backward.data[pair->shares[s].backward], forward.data[pair->shares[s].forward],
                   dg_call_buffer_bytes(&forward, pair->shares[s].forward));
        if (pair->backward_upstream >= 0)
            for (size_t k = 0; k < upstream_count; k++)
                ((nn_real *)backward.data[pair->backward_upstream])[k] = (nn_real)upstream[k];
        for (int l = 0; l < pair->link_count; l++)
            memset(backward.data[pair->links[l].backward], 0,
                   dg_call_buffer_bytes(&backward, pair->links[l].backward));
        same = rng;
        nn_status backward_status = forward_status == NN_OK
                                        ? backward_kernel->call(backward.data, backward_case.dims,
                                                                backward_case.params, &same)
                                        : forward_status;
        dg_put_i32(writer, (int32_t)forward_status);
        dg_put_i32(writer, (int32_t)backward_status);
        for (uint32_t k = 0; k < coordinate_count && !reader->failed; k++) {
            uint32_t link = dg_get_u32(reader);
            uint64_t index = dg_get_u64(reader);
            if (reader->failed || link >= (uint32_t)pair->link_count
                || index >= forward.counts[pair->links[link].forward])
                return fail("bad coordinate in the request");
            int input = pair->links[link].forward;
            nn_real *x = forward.data[input];
            nn_real *x_pristine = pristine.data[input];
            double analytic = dg_call_buffer_value(&backward, pair->links[link].backward, index);
            nn_real saved = x_pristine[index];
            x[index] = (nn_real)(saved + step);
            double plus_point = x[index];
            double loss_plus = perturbed_loss(&forward, &pristine, &kernel_case, pair, upstream,
                                              &rng);
            x[index] = (nn_real)(saved - step);
            double minus_point = x[index];
            double loss_minus = perturbed_loss(&forward, &pristine, &kernel_case, pair, upstream,
                                               &rng);
            x[index] = saved;
            dg_put_f64(writer, analytic);
            dg_put_f64(writer, loss_plus);
            dg_put_f64(writer, loss_minus);
            dg_put_f64(writer, plus_point - minus_point);
        }
        free(upstream);
        dg_call_buffers_release(&forward);
        dg_call_buffers_release(&pristine);
        dg_call_buffers_release(&backward);
    }
    return reader->failed ? fail(reader->problem) : 0;
}

/* Reads a dataset: count, sample shape, inputs (u8 scaled by 1/255, or
 * f64), and labels when has_labels. */
static nn_dataset *read_dataset(dg_reader *reader, const char *name, bool has_labels,
                                int classes)
{
    uint32_t count = dg_get_u32(reader);
    nn_shape shape = { .rank = (int)dg_get_u32(reader), .dims = { 1, 1, 1, 1 } };
    for (int d = 0; d < shape.rank && d < NN_MAX_DIMS; d++)
        shape.dims[d] = dg_get_u32(reader);
    uint32_t target_size = dg_get_u32(reader);
    uint32_t encoding = dg_get_u32(reader);
    nn_dataset *dataset = NULL;
    if (reader->failed || shape.rank < 1 || shape.rank > NN_MAX_DIMS - 1 || count == 0
        || nn_dataset_new(&dataset, name, count, &shape,
                          target_size > 1 ? NN_TARGET_MAP : NN_TARGET_CLASS, target_size,
                          classes, NULL) != NN_OK)
        return NULL;
    size_t values = (size_t)count * dataset->sample_size;
    if (dg_get_u64(reader) != values) {
        nn_dataset_free(dataset);
        return NULL;
    }
    for (size_t i = 0; i < values && !reader->failed; i++) {
        if (encoding == 1) {
            unsigned char byte;
            dg_get_bytes(reader, &byte, 1);
            dataset->inputs[i] = (nn_real)byte / (nn_real)255;
        } else {
            dataset->inputs[i] = (nn_real)dg_get_f64(reader);
        }
    }
    if (has_labels)
        dg_get_ints(reader, dataset->labels, (size_t)count * target_size);
    if (reader->failed) {
        nn_dataset_free(dataset);
        return NULL;
    }
    return dataset;
}

/* The per-epoch curve, for the report's training plot. */
#define RUNNER_MAX_EPOCHS 1000
static double curve_values[RUNNER_MAX_EPOCHS][2];
static int curve_count;

static void on_epoch(void *context, const nn_epoch_report *report)
{
    (void)context;
    if (curve_count < RUNNER_MAX_EPOCHS) {
        curve_values[curve_count][0] = report->train_loss;
        curve_values[curve_count][1] = report->train_accuracy;
        curve_count++;
    }
    fprintf(stderr, "epoch %d/%d: loss %.4f, train accuracy %.4f, %.1f s\n", report->epoch,
            report->epochs, report->train_loss, report->train_accuracy, report->seconds);
}

/* Trains the model spec with the linked units and answers with the
 * per-epoch curve and the predictions on the test inputs (whose labels the
 * runner never sees). */
static int serve_train(dg_reader *reader, dg_writer *writer)
{
    static char spec_text[1 << 16];
    dg_get_string(reader, spec_text, sizeof spec_text);
    uint32_t epochs = dg_get_u32(reader);
    uint64_t seed = dg_get_u64(reader);
    int classes = (int)dg_get_u32(reader);
    nn_dataset *train = read_dataset(reader, "train", true, classes);
    nn_dataset *test = train ? read_dataset(reader, "test", false, classes) : NULL;
    if (test == NULL || !dg_reader_done(reader)) {
        nn_dataset_free(train);
        nn_dataset_free(test);
        return fail("bad training request");
    }
    nn_gemm_set_threads(1);
    nn_error err = { 0 };
    nn_model_spec *spec = NULL;
    nn_network *network = NULL;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_rng init_rng = nn_rng_split(&rng, 0);
    nn_status status = nn_model_spec_parse(&spec, "model.yaml", spec_text, &err);
    if (status == NN_OK)
        status = nn_network_new(&network, spec, 256, &init_rng, &err);
    int *predictions = calloc(test->count * test->target_size, sizeof *predictions);
    if (status == NN_OK && predictions == NULL)
        status = nn_error_set(&err, NN_ERR_MEMORY, "out of memory for the predictions");
    if (status == NN_OK) {
        nn_train_callbacks callbacks = { .on_epoch = on_epoch };
        nn_train_options options = { .epochs = (int)epochs };
        status = nn_train(network, train, NULL, &options, &rng, &callbacks, NULL, &err);
    }
    if (status == NN_OK)
        status = nn_evaluate(network, test, NULL, NULL, NULL, predictions, &err);
    dg_put_u32(writer, DG_RESPONSE_MAGIC);
    dg_put_i32(writer, (int32_t)status);
    dg_put_string(writer, status == NN_OK ? "" : err.message);
    dg_put_u32(writer, (uint32_t)curve_count);
    for (int e = 0; e < curve_count; e++) {
        dg_put_f64(writer, curve_values[e][0]);
        dg_put_f64(writer, curve_values[e][1]);
    }
    /* Predictions only after a successful run: the grader reads none
     * otherwise (check_train.c). */
    dg_put_ints(writer, predictions, status == NN_OK ? test->count * test->target_size : 0);
    free(predictions);
    nn_network_free(network);
    nn_model_spec_free(spec);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return 0;
}

int dg_runner_serve(const unsigned char *request, size_t size, dg_writer *writer)
{
    dg_reader reader;
    dg_reader_init(&reader, request, size);
    if (dg_get_u32(&reader) != DG_REQUEST_MAGIC || dg_get_u32(&reader) != DG_PROTOCOL_VERSION)
        return fail("not a dlgrade request");
    uint32_t command = dg_get_u32(&reader);
    if (command == DG_COMMAND_CALL)
        return serve_call(&reader, writer);
    if (command == DG_COMMAND_GRADCHECK)
        return serve_gradcheck(&reader, writer);
    if (command == DG_COMMAND_TRAIN)
        return serve_train(&reader, writer);
    return fail("unknown command");
}
