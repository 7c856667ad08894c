/*
 * check_compare.c - the compare kind: a student function against the
 * reference on seeded inputs, every case, every buffer it writes.
 *
 * A value passes when |got - expected| <= tolerance * max(1, |expected|):
 * relative for large values, absolute near zero, where relative error is
 * meaningless. Gradient buffers arrive pre-filled with random values, so a
 * backward that assigns instead of adding fails here.
 */
#include "grade_internal.h"
#include "kernel_call.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void write_case_header(dg_writer *request, const dg_kernel_case *kc, uint64_t seed)
{
    for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
        dg_put_i32(request, kc->dims[d]);
    for (int p = 0; p < DG_KERNEL_MAX_PARAMS; p++)
        dg_put_f64(request, kc->params[p]);
    dg_put_u64(request, seed);
}

/* Builds the request and, when expected is not NULL, the reference's
 * results for each case (expected[c], allocated here). */
static nn_status build_request(dg_writer *request, dg_call_buffers *expected, dg_grade_context *context,
                       int index, nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    const dg_kernel *kernel = dg_kernel_find(config->function);
    dg_put_u32(request, DG_REQUEST_MAGIC);
    dg_put_u32(request, DG_PROTOCOL_VERSION);
    dg_put_u32(request, DG_COMMAND_CALL);
    dg_put_string(request, kernel->function);
    dg_put_u32(request, (uint32_t)kernel->case_count);
    nn_rng rng;
    nn_rng_seed(&rng, dg_check_seed(context, index));
    for (int c = 0; c < kernel->case_count; c++) {
        const dg_kernel_case *kc = &kernel->cases[c];
        uint64_t call_seed = nn_rng_next(&rng);
        dg_call_buffers inputs;
        nn_status status = dg_call_buffers_new(&inputs, kernel, kc, DG_JUDGE_MAX_ELEMENTS, err);
        if (status != NN_OK)
            return status;
        dg_call_buffers_fill(&inputs, kc, &rng);
        write_case_header(request, kc, call_seed);
        for (int i = 0; i < kernel->buffer_count; i++)
            dg_call_buffer_put(request, &inputs, i);
        if (expected != NULL) {
            /* The reference runs on the same bytes the runner receives. */
            nn_rng call_rng;
            nn_rng_seed(&call_rng, call_seed);
            status = kernel->call(inputs.data, kc->dims, kc->params, &call_rng);
            if (status != NN_OK) {
                dg_call_buffers_release(&inputs);
                return nn_error_set(err, NN_ERR_NUMERIC, "the reference %s failed on case %d "
                                    "(%s): the grader is broken", kernel->function, c + 1,
                                    nn_status_name(status));
            }
            expected[c] = inputs;
        } else {
            dg_call_buffers_release(&inputs);
        }
    }
    if (request->failed)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory building a request");
    return NN_OK;
}

nn_status dg_compare_request(dg_writer *request, dg_grade_context *context, int index,
                             nn_error *err)
{
    return build_request(request, NULL, context, index, err);
}

nn_status dg_check_compare(dg_check_result *check, dg_grade_context *context, int index,
                           nn_error *err)
{
    const dg_check_config *config = &context->config->checks[index];
    const dg_kernel *kernel = dg_kernel_find(config->function);
    const dg_unit_build *build = &context->builds[config->unit];
    dg_call_buffers *expected = calloc((size_t)kernel->case_count, sizeof *expected);
    if (expected == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    dg_writer request;
    dg_writer_init(&request);
    nn_status status = build_request(&request, expected, context, index, err);
    dg_sandbox_result run = { 0 };
    if (status == NN_OK)
        status = dg_run_runner(&run, context, build, request.data, request.size,
                               &config->limits, false, err);
    dg_writer_release(&request);
    if (status == NN_OK && !dg_judge_run(check, &run, "the runner"))
        status = dg_judge_compare(check, kernel, expected, run.output, run.output_size,
                                  config->tolerance, err);
    check->seconds = run.cpu_seconds;
    dg_sandbox_result_release(&run);
    for (int c = 0; c < kernel->case_count; c++)
        dg_call_buffers_release(&expected[c]);
    free(expected);
    return status;
}
