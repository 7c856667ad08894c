/*
 * request.c - the requests of the compare and gradcheck kinds, drawn from a
 * seed. The grader sends them to a runner; the release step stores them,
 * with the reference's answers, as the student template's fixtures.
 */
#include "request.h"

#include <math.h>
#include <stdlib.h>

/* Central differences step for gradient checks, in the double build. */
#define GRADCHECK_STEP 1e-5

static void write_case_header(dg_writer *request, const dg_kernel_case *kc, uint64_t seed)
{
    for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
        dg_put_i32(request, kc->dims[d]);
    for (int p = 0; p < DG_KERNEL_MAX_PARAMS; p++)
        dg_put_f64(request, kc->params[p]);
    dg_put_u64(request, seed);
}

/* What each `apply` mistake of the kernel leaves after a call on the
 * inputs (buffers, before the reference runs on them), kept in
 * buffers->mistakes. A mistake that does not apply to the case keeps
 * nothing. */
static nn_status keep_mistakes(dg_call_buffers *buffers, const dg_kernel_case *kc,
                               uint64_t call_seed, nn_error *err)
{
    const dg_kernel *kernel = buffers->kernel;
    if (kernel->mistake_count == 0)
        return NN_OK;
    buffers->mistakes = calloc((size_t)kernel->mistake_count, sizeof *buffers->mistakes);
    if (buffers->mistakes == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    for (int m = 0; m < kernel->mistake_count; m++) {
        if (kernel->mistakes[m].apply == NULL)
            continue;
        dg_call_buffers *mistaken = &buffers->mistakes[m];
        nn_status status = dg_call_buffers_new(mistaken, kernel, kc, DG_JUDGE_MAX_ELEMENTS, err);
        if (status != NN_OK)
            return status;
        dg_call_buffers_copy(mistaken, buffers);
        nn_rng rng;
        nn_rng_seed(&rng, call_seed);
        if (kernel->mistakes[m].apply(mistaken->data, kc->dims, kc->params, &rng) != NN_OK)
            dg_call_buffers_release(mistaken);
    }
    return NN_OK;
}

/* Drops the mistakes whose every value is within the compare tolerance of
 * the reference's (Adam's first-moment correction late in training, when
 * 1 - beta1^t is 1): the judge could not tell them on this case, and the
 * fixtures need not carry them. */
static void drop_mistakes_like_the_reference(dg_call_buffers *buffers, double tolerance)
{
    const dg_kernel *kernel = buffers->kernel;
    for (int m = 0; m < kernel->mistake_count; m++) {
        if (!dg_call_buffers_has_mistake(buffers, m))
            continue;
        bool same = true;
        for (int i = 0; i < kernel->buffer_count && same; i++) {
            if (!dg_buffer_is_result(kernel->buffers[i].role))
                continue;
            for (size_t k = 0; k < buffers->counts[i] && same; k++) {
                double want = dg_call_buffer_value(buffers, i, k);
                double mistaken = dg_call_buffer_value(&buffers->mistakes[m], i, k);
                same = fabs(mistaken - want) <= tolerance * fmax(1.0, fabs(want))
                       || (isnan(mistaken) && isnan(want));
            }
        }
        if (same)
            dg_call_buffers_release(&buffers->mistakes[m]);
    }
}

nn_status dg_build_compare_request(dg_writer *request, dg_call_buffers *expected,
                                   const dg_check_config *config, unsigned long long seed,
                                   nn_error *err)
{
    const dg_kernel *kernel = dg_kernel_find(config->function);
    dg_put_u32(request, DG_REQUEST_MAGIC);
    dg_put_u32(request, DG_PROTOCOL_VERSION);
    dg_put_u32(request, DG_COMMAND_CALL);
    dg_put_string(request, kernel->function);
    dg_put_u32(request, (uint32_t)kernel->case_count);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
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
            /* The reference runs on the same bytes the runner receives,
             * and so do the mistakes. */
            dg_call_buffers_keep_initial(&inputs);
            status = keep_mistakes(&inputs, kc, call_seed, err);
            nn_rng call_rng;
            nn_rng_seed(&call_rng, call_seed);
            if (status == NN_OK) {
                status = kernel->call(inputs.data, kc->dims, kc->params, &call_rng);
                if (status != NN_OK)
                    status = nn_error_set(err, NN_ERR_NUMERIC, "the reference %s failed on "
                                          "case %d (%s): the grader is broken",
                                          kernel->function, c + 1, nn_status_name(status));
            }
            if (status != NN_OK) {
                dg_call_buffers_release(&inputs);
                return status;
            }
            drop_mistakes_like_the_reference(&inputs, config->tolerance);
            expected[c] = inputs;
        } else {
            dg_call_buffers_release(&inputs);
        }
    }
    if (request->failed)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory building a request");
    return NN_OK;
}

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

nn_status dg_build_gradcheck_request(dg_writer *request, dg_coordinate **coordinates,
                                     size_t *counts, const dg_check_config *config,
                                     unsigned long long seed, nn_error *err)
{
    const dg_gradient_pair *pair = dg_gradient_pair_find(config->function);
    const dg_kernel *forward = dg_kernel_find(pair->forward);
    dg_put_u32(request, DG_REQUEST_MAGIC);
    dg_put_u32(request, DG_PROTOCOL_VERSION);
    dg_put_u32(request, DG_COMMAND_GRADCHECK);
    dg_put_string(request, pair->backward);
    dg_put_u32(request, (uint32_t)forward->case_count);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
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

