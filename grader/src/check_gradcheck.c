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
    nn_status status = dg_build_gradcheck_request(&request, coordinates, counts, config,
                                                  dg_check_seed(context, index), err);
    dg_sandbox_result run = { 0 };
    /* The check needs the forward's unit too; it is the same unit in every
     * pair of the course, so one runner serves both. */
    if (status == NN_OK)
        status = dg_run_runner(&run, context, &context->builds[config->unit], request.data,
                               request.size, &config->limits, false, err);
    dg_writer_release(&request);
    if (status == NN_OK && !dg_judge_run(check, &run, &config->limits, "the runner"))
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
