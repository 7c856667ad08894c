/*
 * request.c - the requests of the compare and gradcheck kinds, drawn from a
 * seed. The grader sends them to a runner; the release step stores them,
 * with the reference's answers, as the student template's fixtures.
 */
#include "request.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Central differences step for gradient checks; the runner that takes it
 * is always a double build. */
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

/* ---- kinks ------------------------------------------------------------------ */

static int buffer_named(const dg_kernel *kernel, const char *name)
{
    for (int i = 0; i < kernel->buffer_count; i++)
        if (strcmp(kernel->buffers[i].name, name) == 0)
            return i;
    return -1;
}

static int dim_named(const dg_kernel *kernel, const dg_kernel_case *kc, const char *name,
                     int fallback)
{
    for (int d = 0; d < kernel->dim_count; d++)
        if (strcmp(kernel->dim_names[d], name) == 0)
            return kc->dims[d];
    return fallback;
}

/* The window's choice with the value at `at` replaced: the first largest
 * value in row-major order, the reference's rule for equal values. */
static size_t window_choice(const dg_call_buffers *forward, int x, size_t base, int width,
                            int h0, int h1, int w0, int w1, size_t at, double value)
{
    size_t best_at = base + (size_t)h0 * (size_t)width + (size_t)w0;
    double best = best_at == at ? value : dg_call_buffer_value(forward, x, best_at);
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            size_t k = base + (size_t)h * (size_t)width + (size_t)w;
            double v = k == at ? value : dg_call_buffer_value(forward, x, k);
            if (v > best) {
                best = v;
                best_at = k;
            }
        }
    return best_at;
}

/* Whether some pooling window holding x[index] picks another value at
 * minus than at plus. Geometry from the case's N, C, H, W, K, S (and P,
 * 0 when the kernel has none), as kernels.c builds it. */
static bool window_max_switches(const dg_call_buffers *forward, int x, const dg_kernel_case *kc,
                                size_t index, double minus, double plus)
{
    const dg_kernel *kernel = forward->kernel;
    int H = dim_named(kernel, kc, "H", 0), W = dim_named(kernel, kc, "W", 0);
    int K = dim_named(kernel, kc, "K", 0), S = dim_named(kernel, kc, "S", 0);
    int P = dim_named(kernel, kc, "P", 0);
    if (H <= 0 || W <= 0 || K <= 0 || S <= 0 || P < 0 || K > H + 2 * P || K > W + 2 * P)
        return false;
    size_t plane = (size_t)H * (size_t)W;
    size_t base = index - index % plane;
    int h = (int)(index % plane / (size_t)W), w = (int)(index % (size_t)W);
    int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    for (int i = 0; i < OH; i++) {
        int h0 = i * S - P, h1 = h0 + K;
        if (h < h0 || h >= h1)
            continue;
        h0 = h0 < 0 ? 0 : h0;
        h1 = h1 > H ? H : h1;
        for (int j = 0; j < OW; j++) {
            int w0 = j * S - P, w1 = w0 + K;
            if (w < w0 || w >= w1)
                continue;
            w0 = w0 < 0 ? 0 : w0;
            w1 = w1 > W ? W : w1;
            if (window_choice(forward, x, base, W, h0, h1, w0, w1, index, minus)
                != window_choice(forward, x, base, W, h0, h1, w0, w1, index, plus))
                return true;
        }
    }
    return false;
}

dg_kink dg_gradcheck_kink(const dg_gradient_pair *pair, const dg_call_buffers *forward,
                          const dg_kernel_case *kc, const dg_coordinate *where, double step)
{
    if (where->link >= (uint32_t)pair->link_count)
        return DG_KINK_NONE;
    dg_kink kind = pair->kinks[where->link];
    int x = pair->links[where->link].forward;
    if (kind == DG_KINK_NONE || where->index >= forward->counts[x])
        return DG_KINK_NONE;
    /* The perturbed values as the runner makes them: value +- step in
     * double (runner_serve.c), so the test is exact whichever precision
     * this grader was built in. Strict inequalities: a step that ends on
     * the kink stays on one linear piece and measures its slope. */
    double value = dg_call_buffer_value(forward, x, where->index);
    double plus = value + step, minus = value - step;
    bool crosses = false;
    switch (kind) {
    case DG_KINK_SIGN:
        crosses = minus < 0 && plus > 0;
        break;
    case DG_KINK_DIFFERENCE: {
        int target = buffer_named(forward->kernel, "target");
        double t = target >= 0 && where->index < forward->counts[target]
                       ? dg_call_buffer_value(forward, target, where->index) : 0.0;
        crosses = minus - t < 0 && plus - t > 0;
        break;
    }
    case DG_KINK_WINDOW_MAX:
        crosses = window_max_switches(forward, x, kc, where->index, minus, plus);
        break;
    case DG_KINK_NONE:
    case DG_KINK_KINDS:
        break;
    }
    return crosses ? kind : DG_KINK_NONE;
}

/* Coordinates per case: `samples` per link, all of a small tensor, else a
 * random sample, each marked with the kink its step crosses. A sampled
 * gradient with more than half its coordinates at kinks gets replacements
 * drawn among the others until half are clear, so that the check still
 * means something; the skipped ones stay, to be counted. At most `samples`
 * replacements per link (out holds 2 * samples per link), and a bounded
 * number of draws: a tensor that is nearly all kinks leaves the check
 * inconclusive (judge.c) instead of looping. */
static size_t choose(dg_coordinate *out, const dg_gradient_pair *pair, const dg_call_buffers *fwd,
                     const dg_kernel_case *kc, double step, int samples, nn_rng *rng)
{
    size_t n = 0;
    for (int l = 0; l < pair->link_count; l++) {
        size_t count = fwd->counts[pair->links[l].forward];
        size_t take = (size_t)samples < count ? (size_t)samples : count;
        size_t first = n, clear = 0;
        for (size_t k = 0; k < take; k++) {
            out[n].link = (uint32_t)l;
            out[n].index = take == count ? k : nn_rng_below(rng, count);
            out[n].kink = dg_gradcheck_kink(pair, fwd, kc, &out[n], step);
            clear += out[n].kink == DG_KINK_NONE;
            n++;
        }
        for (size_t draws = 0; take < count && 2 * clear < n - first && draws < 16 * take;
             draws++) {
            dg_coordinate candidate = { .link = (uint32_t)l, .index = nn_rng_below(rng, count) };
            if (dg_gradcheck_kink(pair, fwd, kc, &candidate, step) == DG_KINK_NONE) {
                out[n++] = candidate;
                clear++;
            }
        }
    }
    return n;
}

nn_status dg_build_gradcheck_request(dg_writer *request, dg_coordinate **coordinates,
                                     size_t *counts, const dg_check_config *config,
                                     unsigned long long seed, nn_error *err)
{
    return dg_build_gradcheck_request_adjusted(request, coordinates, counts, config, seed, NULL,
                                               NULL, err);
}

nn_status dg_build_gradcheck_request_adjusted(dg_writer *request, dg_coordinate **coordinates,
                                              size_t *counts, const dg_check_config *config,
                                              unsigned long long seed,
                                              dg_adjust_inputs adjust, void *context,
                                              nn_error *err)
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
        if (adjust != NULL)
            adjust(&buffers, c, context);
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
        dg_coordinate *chosen = calloc(2 * (size_t)pair->link_count * (size_t)config->samples + 1,
                                       sizeof *chosen);
        if (chosen == NULL) {
            dg_call_buffers_release(&buffers);
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
        }
        size_t n = choose(chosen, pair, &buffers, kc, GRADCHECK_STEP, config->samples, &rng);
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
