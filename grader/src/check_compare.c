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
    nn_status status = dg_build_compare_request(&request, expected, config,
                                                dg_check_seed(context, index), err);
    dg_sandbox_result run = { 0 };
    if (status == NN_OK)
        status = dg_run_runner(&run, context, build, request.data, request.size,
                               &config->limits, false, err);
    dg_writer_release(&request);
    if (status == NN_OK && !dg_judge_run(check, &run, &config->limits, "the runner"))
        status = dg_judge_compare(check, kernel, expected, run.output, run.output_size,
                                  config->tolerance, err);
    check->seconds = run.cpu_seconds;
    dg_sandbox_result_release(&run);
    for (int c = 0; c < kernel->case_count; c++)
        dg_call_buffers_release(&expected[c]);
    free(expected);
    return status;
}
