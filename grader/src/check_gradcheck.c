/*
 * check_gradcheck.c - the gradcheck kind: does a student's backward agree
 * with central differences of the student's own forward?
 *
 * The grader picks the coordinates; the runner returns, for each, the
 * backward's value there and the loss L = sum(forward(x) * r) at x +- h;
 * the grader computes numeric = (L+ - L-) / (actual step) and judges by the
 * relative error |a - n| / max(|a|, |n|, floor). The floor (1e-4) makes
 * the test absolute for tiny entries, where rounding noise of the
 * difference quotient would otherwise fail a correct backward. A backward
 * that is zero wherever it is checked proves nothing and fails.
 */
#include "grade_internal.h"
#include "kernel_call.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRADCHECK_STEP 1e-5

/* Coordinates per case: `samples` per link, distinct where possible. */
static size_t choose(dg_coordinate *out, const dg_gradient_pair *pair, const dg_call_buffers *fwd,
                     int samples, nn_rng *rng)
{
    size_t n = 0;
    for (int l = 0; l < pair->link_count; l++) {
        size_t count = fwd->counts[pair->links[l].forward];
        size_t take = (size_t)samples < count ? (size_t)samples : count;
        for (size_t k = 0; k < take; k++) {
            out[n].link = (uint32_t)l;
            /* All coordinates of a small tensor, else a random sample. */
            out[n].index = take == count ? k : nn_rng_below(rng, count);
            n++;
        }
    }
    return n;
}

static nn_status build(dg_writer *request, dg_coordinate **coordinates, size_t *counts,
                       dg_grade_context *context, int index, nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    const dg_gradient_pair *pair = dg_gradient_pair_find(config->function);
    const dg_kernel *forward = dg_kernel_find(pair->forward);
    dg_put_u32(request, DG_REQUEST_MAGIC);
    dg_put_u32(request, DG_PROTOCOL_VERSION);
    dg_put_u32(request, DG_COMMAND_GRADCHECK);
    dg_put_string(request, pair->backward);
    dg_put_u32(request, (uint32_t)forward->case_count);
    nn_rng rng;
    nn_rng_seed(&rng, dg_check_seed(context, index));
    for (int c = 0; c < forward->case_count; c++) {
        const dg_kernel_case *kc = &forward->cases[c];
        dg_call_buffers buffers;
        nn_status status = dg_call_buffers_new(&buffers, forward, kc, DG_JUDGE_MAX_ELEMENTS, err);
        if (status != NN_OK)
            return status;
        dg_call_buffers_fill(&buffers, kc, &rng);
        for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
            dg_put_i32(request, kc->dims[d]);
        for (int p = 0; p < DG_KERNEL_MAX_PARAMS; p++)
            dg_put_f64(request, kc->params[p]);
        dg_put_u64(request, nn_rng_next(&rng));
        for (int i = 0; i < forward->buffer_count; i++)
            dg_call_buffer_put(request, &buffers, i);
        if (pair->backward_upstream >= 0) {
            size_t n = buffers.counts[pair->forward_output];
            dg_put_u64(request, n);
            for (size_t k = 0; k < n; k++)
                dg_put_f64(request, nn_rng_normal(&rng));
        }
        dg_put_f64(request, GRADCHECK_STEP);
        dg_coordinate *chosen = calloc((size_t)pair->link_count * (size_t)config->samples + 1,
                                    sizeof *chosen);
        if (chosen == NULL) {
            dg_call_buffers_release(&buffers);
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
        }
        size_t n = choose(chosen, pair, &buffers, config->samples, &rng);
        dg_put_u32(request, (uint32_t)n);
        for (size_t k = 0; k < n; k++) {
            dg_put_u32(request, chosen[k].link);
            dg_put_u64(request, chosen[k].index);
        }
        dg_call_buffers_release(&buffers);
        if (coordinates != NULL) {
            coordinates[c] = chosen;
            counts[c] = n;
        } else {
            free(chosen);
        }
    }
    return request->failed ? nn_error_set(err, NN_ERR_MEMORY, "out of memory") : NN_OK;
}

nn_status dg_gradcheck_request(dg_writer *request, dg_grade_context *context, int index,
                               nn_error *err)
{
    return build(request, NULL, NULL, context, index, err);
}

nn_status dg_check_gradcheck(dg_check_result *check, dg_grade_context *context, int index,
                             nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    const dg_gradient_pair *pair = dg_gradient_pair_find(config->function);
    const dg_kernel *forward = dg_kernel_find(pair->forward);
    int cases = forward->case_count;
    dg_coordinate **coordinates = calloc((size_t)cases, sizeof *coordinates);
    size_t *counts = calloc((size_t)cases, sizeof *counts);
    if (coordinates == NULL || counts == NULL) {
        free(coordinates);
        free(counts);
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    }
    dg_writer request;
    dg_writer_init(&request);
    nn_status status = build(&request, coordinates, counts, context, index, err);
    dg_sandbox_result run = { 0 };
    /* The check needs the forward's unit too; it is the same unit in every
     * pair of the course, so one runner serves both. */
    if (status == NN_OK)
        status = dg_run_runner(&run, context, &context->builds[config->unit], request.data,
                               request.size, &config->limits, false, err);
    dg_writer_release(&request);
    if (status == NN_OK && !dg_judge_run(check, &run, "the runner"))
        dg_judge_gradcheck(check, pair, cases, (const dg_coordinate *const *)coordinates, counts,
                           run.output, run.output_size, config->tolerance);
    check->seconds = run.cpu_seconds;
    dg_sandbox_result_release(&run);
    for (int c = 0; c < cases; c++)
        free(coordinates[c]);
    free(coordinates);
    free(counts);
    return status;
}
