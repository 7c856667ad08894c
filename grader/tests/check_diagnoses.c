/*
 * check_diagnoses.c - the judge telling a mistake by its numbers ("looks
 * like ...", grader/src/judge.c, the mistakes of grader/src/kernels.c).
 *
 * Each test plays a runner: it reads the inputs of a compare request the
 * grader built (dg_build_compare_request, the reference's answers and the
 * mistakes' kept beside them), answers every case with a deliberately
 * wrong implementation, and hands the answer to dg_judge_compare. The
 * wrong implementations are written here, from the formulas, never by
 * calling the mechanism's own mistake functions, so that a mistake
 * function computing the wrong thing is caught:
 *   - each mistake of the table gets exactly its own "looks like" line;
 *   - the common mistakes (=, the batch size, the sign, a factor 2) keep
 *     theirs;
 *   - correct answers pass with nothing told, and random noise fails with
 *     no "looks like", for every kernel of the table;
 *   - the template's fixtures keep what the judge needs (the mistakes'
 *     buffers, the gradients' initial values), so that the local checker
 *     prints the grader's very lines.
 */
#include "judge.h"
#include "kernel_call.h"
#include "kernels.h"
#include "protocol.h"
#include "report.h"
#include "request.h"
#include "runner_serve.h"

#include "../../reference/tests/testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The compare tolerance: the wrong implementations compute in double, the
 * reference in nn_real. */
#define TOLERANCE (NN_REAL_IS_DOUBLE ? 1e-9 : 1e-4)
#define SEED 20250611ull

/* ---- playing the runner ------------------------------------------------------ */

/* A compare request of one kernel, the reference's answers and the inputs
 * as a runner receives them. */
typedef struct request_case {
    const dg_kernel *kernel;
    dg_call_buffers *expected;   /* one a case, with the mistakes kept */
    dg_call_buffers *inputs;     /* one a case, parsed from the request */
    uint64_t *seeds;             /* the rng seed of each case's call */
} request_case;

static void request_make(request_case *r, const char *function)
{
    r->kernel = dg_kernel_find(function);
    ck_assert_msg(r->kernel != NULL, "no kernel %s", function);
    int cases = r->kernel->case_count;
    dg_check_config config = { .kind = DG_CHECK_COMPARE, .tolerance = TOLERANCE };
    snprintf(config.function, sizeof config.function, "%s", function);
    r->expected = calloc((size_t)cases, sizeof *r->expected);
    r->inputs = calloc((size_t)cases, sizeof *r->inputs);
    r->seeds = calloc((size_t)cases, sizeof *r->seeds);
    ck_assert(r->expected != NULL && r->inputs != NULL && r->seeds != NULL);
    dg_writer request;
    dg_writer_init(&request);
    nn_error err = { 0 };
    ck_assert_msg(dg_build_compare_request(&request, r->expected, &config, SEED, &err) == NN_OK,
                  "%s", err.message);
    /* The runner's side of the protocol (runner_serve.c). */
    dg_reader reader;
    dg_reader_init(&reader, request.data, request.size);
    ck_assert_uint_eq(dg_get_u32(&reader), DG_REQUEST_MAGIC);
    ck_assert_uint_eq(dg_get_u32(&reader), DG_PROTOCOL_VERSION);
    ck_assert_uint_eq(dg_get_u32(&reader), DG_COMMAND_CALL);
    char name[96];
    dg_get_string(&reader, name, sizeof name);
    ck_assert_str_eq(name, function);
    ck_assert_uint_eq(dg_get_u32(&reader), (uint32_t)cases);
    for (int c = 0; c < cases; c++) {
        for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
            ck_assert_int_eq(dg_get_i32(&reader), r->kernel->cases[c].dims[d]);
        for (int p = 0; p < DG_KERNEL_MAX_PARAMS; p++)
            ck_assert(dg_get_f64(&reader) == r->kernel->cases[c].params[p]);
        r->seeds[c] = dg_get_u64(&reader);
        ck_assert_int_eq(dg_call_buffers_new(&r->inputs[c], r->kernel, &r->kernel->cases[c],
                                             DG_JUDGE_MAX_ELEMENTS, &err),
                         NN_OK);
        for (int i = 0; i < r->kernel->buffer_count; i++)
            dg_call_buffer_get(&reader, &r->inputs[c], i);
    }
    ck_assert_msg(dg_reader_done(&reader), "%s", reader.problem);
    dg_writer_release(&request);
}

static void request_free(request_case *r)
{
    for (int c = 0; c < r->kernel->case_count; c++) {
        dg_call_buffers_release(&r->expected[c]);
        dg_call_buffers_release(&r->inputs[c]);
    }
    free(r->expected);
    free(r->inputs);
    free(r->seeds);
}

/* A wrong implementation: writes into b (the case's inputs) what it would
 * leave, or returns false to answer the case as the reference does (a
 * mistake that shows only in some cases). */
typedef bool (*implementation)(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed);

/* The response a runner linked with `wrong` would send; only case
 * `only_case` is answered wrongly when it is not -1. */
static void answer(dg_writer *out, const request_case *r, implementation wrong, int only_case)
{
    dg_writer_init(out);
    dg_put_u32(out, DG_RESPONSE_MAGIC);
    dg_put_u32(out, (uint32_t)r->kernel->case_count);
    for (int c = 0; c < r->kernel->case_count; c++) {
        const dg_kernel_case *kc = &r->kernel->cases[c];
        dg_call_buffers b;
        ck_assert_int_eq(dg_call_buffers_new(&b, r->kernel, kc, DG_JUDGE_MAX_ELEMENTS, NULL),
                         NN_OK);
        dg_call_buffers_copy(&b, &r->inputs[c]);
        bool answered = wrong != NULL && (only_case < 0 || only_case == c)
                        && wrong(&b, kc, r->seeds[c]);
        if (!answered) {
            nn_rng rng;
            nn_rng_seed(&rng, r->seeds[c]);
            ck_assert_int_eq(r->kernel->call(b.data, kc->dims, kc->params, &rng), NN_OK);
        }
        dg_put_i32(out, NN_OK);
        for (int i = 0; i < r->kernel->buffer_count; i++)
            if (dg_buffer_is_result(r->kernel->buffers[i].role))
                dg_call_buffer_put(out, &b, i);
        dg_call_buffers_release(&b);
    }
}

/* Judges a response against expected; returns the messages (owned). */
static char *judge_with(const request_case *r, const dg_call_buffers *expected,
                        const dg_writer *response, dg_outcome *outcome)
{
    dg_check_result check = { .max_score = 1, .outcome = DG_OUTCOME_FAILED };
    nn_error err = { 0 };
    ck_assert_msg(dg_judge_compare(&check, r->kernel, expected, response->data, response->size,
                                   TOLERANCE, &err) == NN_OK,
                  "%s", err.message);
    *outcome = check.outcome;
    return check.output != NULL ? check.output : strdup("");
}

/* Answers with wrong (on only_case, or every case for -1) and judges. */
static char *judged(const request_case *r, implementation wrong, int only_case,
                    dg_outcome *outcome)
{
    dg_writer response;
    answer(&response, r, wrong, only_case);
    char *output = judge_with(r, r->expected, &response, outcome);
    dg_writer_release(&response);
    return output;
}

static int occurrences(const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = text; (at = strstr(at, needle)) != NULL; at += strlen(needle))
        count++;
    return count;
}

/* The kernel's mistake whose text holds keyword (exactly one must). */
static const dg_mistake *mistake_with(const dg_kernel *kernel, const char *keyword)
{
    const dg_mistake *found = NULL;
    for (int m = 0; m < kernel->mistake_count; m++)
        if (strstr(kernel->mistakes[m].what, keyword) != NULL) {
            ck_assert_msg(found == NULL, "%s: two mistakes say '%s'", kernel->function, keyword);
            found = &kernel->mistakes[m];
        }
    ck_assert_msg(found != NULL, "%s has no mistake saying '%s'", kernel->function, keyword);
    return found;
}

/* Failed, and told exactly once: "looks like " + told. */
static void assert_told(const char *output, dg_outcome outcome, const char *told)
{
    ck_assert_msg(outcome == DG_OUTCOME_FAILED, "not failed:\n%s", output);
    char line[700];
    snprintf(line, sizeof line, "\n  looks like %s", told);
    ck_assert_msg(strstr(output, line) != NULL, "no \"%s\" in:\n%s", line + 1, output);
    ck_assert_msg(occurrences(output, "looks like") == 1, "more than one diagnosis:\n%s",
                  output);
}

/* The function's wrong implementation, judged: the mistake whose text holds
 * keyword is told, and nothing else. */
static void assert_mistake_told(const char *function, implementation wrong, int only_case,
                                const char *keyword)
{
    request_case r;
    request_make(&r, function);
    dg_outcome outcome;
    char *output = judged(&r, wrong, only_case, &outcome);
    assert_told(output, outcome, mistake_with(r.kernel, keyword)->what);
    free(output);
    request_free(&r);
}

/* ---- arguments by name ------------------------------------------------------- */

static int buffer_index(const dg_kernel *kernel, const char *name)
{
    for (int i = 0; i < kernel->buffer_count; i++)
        if (strcmp(kernel->buffers[i].name, name) == 0)
            return i;
    ck_abort_msg("%s has no buffer %s", kernel->function, name);
    return -1;
}

static nn_real *reals(dg_call_buffers *b, const char *name)
{
    return b->data[buffer_index(b->kernel, name)];
}

static int dim(const dg_call_buffers *b, const dg_kernel_case *kc, const char *name)
{
    for (int d = 0; d < b->kernel->dim_count; d++)
        if (strcmp(b->kernel->dim_names[d], name) == 0)
            return kc->dims[d];
    ck_abort_msg("%s has no size %s", b->kernel->function, name);
    return 0;
}

static double param(const dg_call_buffers *b, const dg_kernel_case *kc, const char *name)
{
    for (int p = 0; p < b->kernel->param_count; p++)
        if (strcmp(b->kernel->param_names[p], name) == 0)
            return kc->params[p];
    ck_abort_msg("%s has no parameter %s", b->kernel->function, name);
    return 0;
}

/* ---- linear: the weight indexed (I, O) instead of (O, I) --------------------- */

/* out[n, o] = bias[o] + sum_i x[n, i] W[i*O + o]: W read as (I, O). */
static bool linear_forward_reading_w_as_in_out(dg_call_buffers *b, const dg_kernel_case *kc,
                                               uint64_t seed)
{
    (void)seed;
    int batch = dim(b, kc, "N"), in = dim(b, kc, "I"), out = dim(b, kc, "O");
    const nn_real *x = reals(b, "x"), *w = reals(b, "weight"), *bias = reals(b, "bias");
    nn_real *y = reals(b, "out");
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out; o++) {
            double sum = bias[o];
            for (int i = 0; i < in; i++)
                sum += (double)x[n * in + i] * w[i * out + o];
            y[n * out + o] = (nn_real)sum;
        }
    return true;
}

/* The linear backward written out, with the ways it can go wrong. */
typedef struct linear_backward_variant {
    bool reads_transposed;    /* W read as (I, O) for dx */
    bool writes_transposed;   /* dW written as (I, O) */
    double dx_factor, dweight_factor, dbias_factor;
    bool dweight_assigned;    /* dW = instead of += */
} linear_backward_variant;

static const linear_backward_variant right_linear_backward = {
    .dx_factor = 1, .dweight_factor = 1, .dbias_factor = 1,
};

static void linear_backward_written(dg_call_buffers *b, const dg_kernel_case *kc,
                                    linear_backward_variant v)
{
    int batch = dim(b, kc, "N"), in = dim(b, kc, "I"), out = dim(b, kc, "O");
    const nn_real *dout = reals(b, "dout"), *x = reals(b, "x"), *w = reals(b, "weight");
    nn_real *dx = reals(b, "dx"), *dw = reals(b, "dweight"), *db = reals(b, "dbias");
    for (int n = 0; n < batch; n++)
        for (int i = 0; i < in; i++) {
            double sum = 0;
            for (int o = 0; o < out; o++)
                sum += (double)dout[n * out + o]
                       * w[v.reads_transposed ? i * out + o : o * in + i];
            dx[n * in + i] += (nn_real)(v.dx_factor * sum);
        }
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++) {
            double sum = 0;
            for (int n = 0; n < batch; n++)
                sum += (double)dout[n * out + o] * x[n * in + i];
            nn_real *at = &dw[v.writes_transposed ? i * out + o : o * in + i];
            *at = (nn_real)((v.dweight_assigned ? 0 : *at) + v.dweight_factor * sum);
        }
    for (int o = 0; o < out; o++) {
        double sum = 0;
        for (int n = 0; n < batch; n++)
            sum += dout[n * out + o];
        db[o] += (nn_real)(v.dbias_factor * sum);
    }
}

static bool linear_backward_transposed(dg_call_buffers *b, const dg_kernel_case *kc,
                                       uint64_t seed)
{
    (void)seed;
    linear_backward_variant v = right_linear_backward;
    v.reads_transposed = v.writes_transposed = true;
    linear_backward_written(b, kc, v);
    return true;
}

/* dx right, dW written transposed: dweight is the buffer that fails. */
static bool linear_backward_writing_dweight_transposed(dg_call_buffers *b,
                                                       const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    linear_backward_variant v = right_linear_backward;
    v.writes_transposed = true;
    linear_backward_written(b, kc, v);
    return true;
}

START_TEST(linear_forward_reading_the_weight_transposed_is_told_so_in_every_case)
{
    /* Case by case: the wide and narrow ones, and the square one, where the
     * mistake reads a true transpose. */
    const dg_kernel *kernel = dg_kernel_find("nn_linear_forward");
    ck_assert_int_lt(_i, kernel->case_count);
    assert_mistake_told("nn_linear_forward", linear_forward_reading_w_as_in_out, _i,
                        "read transposed");
}
END_TEST

START_TEST(linear_backward_indexing_the_weight_transposed_is_told_so_in_every_case)
{
    assert_mistake_told("nn_linear_backward", linear_backward_transposed, _i,
                        "indexed transposed");
}
END_TEST

START_TEST(the_linear_cases_hold_wide_narrow_and_square_layers)
{
    const dg_kernel *kernel = dg_kernel_find("nn_linear_forward");
    bool wide = false, narrow = false, square = false;
    for (int c = 0; c < kernel->case_count; c++) {
        int in = kernel->cases[c].dims[1], out = kernel->cases[c].dims[2];
        wide |= out > in;
        narrow |= out < in;
        square |= out == in && in > 1;
    }
    ck_assert(wide && narrow && square);
}
END_TEST

START_TEST(a_backward_writing_only_dweight_transposed_is_told_so_on_dweight)
{
    request_case r;
    request_make(&r, "nn_linear_backward");
    dg_outcome outcome;
    char *output = judged(&r, linear_backward_writing_dweight_transposed, -1, &outcome);
    ck_assert_msg(strstr(output, "nn_linear_backward: dweight differs") != NULL, "%s", output);
    assert_told(output, outcome, mistake_with(r.kernel, "indexed transposed")->what);
    free(output);
    request_free(&r);
}
END_TEST

/* ---- the common mistakes: = for +=, the batch size, the sign, a 2 -------------- */

static linear_backward_variant common_variant;

static bool linear_backward_variant_written(dg_call_buffers *b, const dg_kernel_case *kc,
                                            uint64_t seed)
{
    (void)seed;
    linear_backward_written(b, kc, common_variant);
    return true;
}

/* The linear backward with one common mistake, answered on case 2 (N = 5,
 * so the batch size is no 2), must be told `told`. */
static void assert_common_told(linear_backward_variant v, const char *told)
{
    common_variant = v;
    request_case r;
    request_make(&r, "nn_linear_backward");
    ck_assert_int_eq(r.kernel->cases[1].dims[0], 5);
    dg_outcome outcome;
    char *output = judged(&r, linear_backward_variant_written, 1, &outcome);
    assert_told(output, outcome, told);
    free(output);
    request_free(&r);
}

START_TEST(common_mistakes_are_told_by_their_factor)
{
    linear_backward_variant v = right_linear_backward;
    v.dweight_factor = 5;
    assert_common_told(v, "dweight is not divided by the batch size (every value is 5 times "
                          "the expected one)");
    v = right_linear_backward;
    v.dweight_factor = 1.0 / 5;
    assert_common_told(v, "dweight is divided by the batch size once too often (every value "
                          "is 1/5 of the expected one)");
    v = right_linear_backward;
    v.dx_factor = -1;
    assert_common_told(v, "the sign of dx is flipped");
    v = right_linear_backward;
    v.dbias_factor = 0.5;
    assert_common_told(v, "a factor of 2 is off: every value of dbias is 0.5 times the "
                          "expected one");
    v = right_linear_backward;
    v.dweight_assigned = true;
    assert_common_told(v, "dweight was assigned (=) instead of added to (+=)");
}
END_TEST

/* A factor nobody named is described, with no "looks like". */
START_TEST(an_unnamed_constant_factor_is_described_without_looks_like)
{
    linear_backward_variant v = right_linear_backward;
    v.dweight_factor = 1.37;
    common_variant = v;
    request_case r;
    request_make(&r, "nn_linear_backward");
    dg_outcome outcome;
    char *output = judged(&r, linear_backward_variant_written, -1, &outcome);
    ck_assert_int_eq(outcome, DG_OUTCOME_FAILED);
    ck_assert_msg(strstr(output, "every value of dweight is 1.37 times the expected one: a "
                                 "constant factor is off") != NULL, "%s", output);
    ck_assert_msg(strstr(output, "looks like") == NULL, "%s", output);
    free(output);
    request_free(&r);
}
END_TEST

/* ---- Adam: the bias corrections ------------------------------------------------ */

static bool adam_corrects_first = false, adam_corrects_second = false;

/* Adam written out; each moment is bias-corrected (when the case asks for
 * it) only if adam_corrects_first / _second say so. */
static bool adam_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    double lr = param(b, kc, "learning_rate"), beta1 = param(b, kc, "beta1");
    double beta2 = param(b, kc, "beta2"), eps = param(b, kc, "epsilon");
    double decay = param(b, kc, "weight_decay");
    bool decoupled = param(b, kc, "decoupled") != 0;
    bool correction = param(b, kc, "bias_correction") != 0;
    int count = dim(b, kc, "count"), t = dim(b, kc, "step");
    double c1 = correction && adam_corrects_first ? 1 - pow(beta1, t) : 1;
    double c2 = correction && adam_corrects_second ? 1 - pow(beta2, t) : 1;
    nn_real *w = reals(b, "weights"), *m = reals(b, "first_moment");
    nn_real *v = reals(b, "second_moment");
    const nn_real *grad = reals(b, "grad");
    for (int i = 0; i < count; i++) {
        double weight = w[i];
        double g = grad[i] + (decoupled ? 0 : decay * weight);
        if (decoupled)
            weight *= 1 - lr * decay;
        double first = beta1 * m[i] + (1 - beta1) * g;
        double second = beta2 * v[i] + (1 - beta2) * g * g;
        m[i] = (nn_real)first;
        v[i] = (nn_real)second;
        w[i] = (nn_real)(weight - lr * (first / c1) / (sqrt(second / c2) + eps));
    }
    return true;
}

START_TEST(adam_without_bias_correction_is_told_so)
{
    adam_corrects_first = adam_corrects_second = false;
    assert_mistake_told("nn_adam_step", adam_written, -1, "the bias correction is left out");
}
END_TEST

START_TEST(adam_without_the_second_moments_correction_is_told_so)
{
    adam_corrects_first = true;
    adam_corrects_second = false;
    assert_mistake_told("nn_adam_step", adam_written, -1, "second moment's bias correction");
}
END_TEST

START_TEST(adam_without_the_first_moments_correction_is_told_so)
{
    adam_corrects_first = false;
    adam_corrects_second = true;
    assert_mistake_told("nn_adam_step", adam_written, -1, "first moment's bias correction");
}
END_TEST

START_TEST(adam_with_both_corrections_passes)
{
    adam_corrects_first = adam_corrects_second = true;
    request_case r;
    request_make(&r, "nn_adam_step");
    dg_outcome outcome;
    char *output = judged(&r, adam_written, -1, &outcome);
    ck_assert_msg(outcome == DG_OUTCOME_PASSED, "%s", output);
    free(output);
    request_free(&r);
}
END_TEST

/* ---- dropout ------------------------------------------------------------------- */

static bool dropout_scales = true, dropout_in_eval = false;

/* Dropout written out: one uniform draw per value from the call's seed,
 * kept when below 1 - p; kept values scaled by 1 / (1 - p) only if
 * dropout_scales; eval mode the identity unless dropout_in_eval. */
static bool dropout_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    double p = (nn_real)param(b, kc, "drop_probability");
    bool draws = (param(b, kc, "training") != 0 || dropout_in_eval) && p != 0;
    int count = dim(b, kc, "count");
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    const nn_real *x = reals(b, "x");
    nn_real *out = reals(b, "out"), *mask = reals(b, "mask");
    for (int i = 0; i < count; i++) {
        double kept = !draws || nn_rng_uniform(&rng) < 1.0 - p ? 1 : 0;
        double scale = draws && dropout_scales ? kept / (1.0 - p) : kept;
        mask[i] = (nn_real)scale;
        out[i] = (nn_real)(x[i] * scale);
    }
    return true;
}

START_TEST(dropout_without_the_inverted_scaling_is_told_so)
{
    dropout_scales = true;
    dropout_in_eval = false;
    /* The formula itself is right when it scales. */
    request_case r;
    request_make(&r, "nn_dropout_forward");
    dg_outcome outcome;
    char *output = judged(&r, dropout_written, -1, &outcome);
    ck_assert_msg(outcome == DG_OUTCOME_PASSED, "%s", output);
    free(output);
    request_free(&r);
    dropout_scales = false;
    assert_mistake_told("nn_dropout_forward", dropout_written, -1, "not scaled by 1 / (1 - p)");
}
END_TEST

START_TEST(dropout_applied_in_eval_mode_is_told_so)
{
    dropout_scales = true;
    dropout_in_eval = true;
    assert_mistake_told("nn_dropout_forward", dropout_written, -1, "applied in eval mode");
    dropout_in_eval = false;
}
END_TEST

/* dx += dout where the mask kept a value: its 1 / (1 - p) left out. */
static bool dropout_backward_unscaled(dg_call_buffers *b, const dg_kernel_case *kc,
                                      uint64_t seed)
{
    (void)seed;
    const nn_real *dout = reals(b, "dout"), *mask = reals(b, "mask");
    nn_real *dx = reals(b, "dx");
    for (int i = 0; i < dim(b, kc, "count"); i++)
        dx[i] += mask[i] != 0 ? dout[i] : 0;
    return true;
}

START_TEST(dropout_backward_without_the_scaling_is_told_so)
{
    assert_mistake_told("nn_dropout_backward", dropout_backward_unscaled, -1,
                        "dx is not scaled");
}
END_TEST

/* ---- batch normalisation in eval mode -------------------------------------------- */

/* Eval cases normalised by the batch's mean and biased variance over
 * (N, S) per channel, as in training; the running statistics left alone.
 * Training cases are answered as the reference does. */
static bool batchnorm_eval_with_batch_statistics(dg_call_buffers *b, const dg_kernel_case *kc,
                                                 uint64_t seed)
{
    (void)seed;
    if (param(b, kc, "training") != 0)
        return false;
    int batch = dim(b, kc, "N"), channels = dim(b, kc, "C"), spatial = dim(b, kc, "S");
    double eps = (nn_real)param(b, kc, "epsilon");
    const nn_real *x = reals(b, "x"), *gamma = reals(b, "gamma"), *beta = reals(b, "beta");
    nn_real *out = reals(b, "out");
    for (int c = 0; c < channels; c++) {
        double sum = 0, squares = 0, m = (double)batch * spatial;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < spatial; s++)
                sum += x[(n * channels + c) * spatial + s];
        double mean = sum / m;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < spatial; s++) {
                double d = x[(n * channels + c) * spatial + s] - mean;
                squares += d * d;
            }
        double inv_std = 1 / sqrt(squares / m + eps);
        reals(b, "saved_mean")[c] = (nn_real)mean;
        reals(b, "saved_inv_std")[c] = (nn_real)inv_std;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < spatial; s++) {
                size_t at = (size_t)(n * channels + c) * spatial + s;
                out[at] = (nn_real)(gamma[c] * (x[at] - mean) * inv_std + beta[c]);
            }
    }
    return true;
}

START_TEST(batchnorm_using_batch_statistics_in_eval_mode_is_told_so)
{
    assert_mistake_told("nn_batchnorm_forward", batchnorm_eval_with_batch_statistics, -1,
                        "eval mode normalises with the batch's statistics");
}
END_TEST

/* Eval cases differentiated as in training: through the mean and the
 * variance, dx = gamma inv_std / M (M dout - sum dout - xhat sum dout xhat). */
static bool batchnorm_backward_eval_as_training(dg_call_buffers *b, const dg_kernel_case *kc,
                                                uint64_t seed)
{
    (void)seed;
    if (param(b, kc, "training") != 0)
        return false;
    int batch = dim(b, kc, "N"), channels = dim(b, kc, "C"), spatial = dim(b, kc, "S");
    const nn_real *dout = reals(b, "dout"), *x = reals(b, "x"), *gamma = reals(b, "gamma");
    const nn_real *mean = reals(b, "saved_mean"), *inv_std = reals(b, "saved_inv_std");
    double m = (double)batch * spatial;
    for (int c = 0; c < channels; c++) {
        double sum_dout = 0, sum_dout_xhat = 0;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < spatial; s++) {
                size_t at = (size_t)(n * channels + c) * spatial + s;
                sum_dout += dout[at];
                sum_dout_xhat += dout[at] * (x[at] - mean[c]) * inv_std[c];
            }
        reals(b, "dgamma")[c] += (nn_real)sum_dout_xhat;
        reals(b, "dbeta")[c] += (nn_real)sum_dout;
        for (int n = 0; n < batch; n++)
            for (int s = 0; s < spatial; s++) {
                size_t at = (size_t)(n * channels + c) * spatial + s;
                double xhat = (x[at] - mean[c]) * inv_std[c];
                reals(b, "dx")[at] += (nn_real)(gamma[c] * inv_std[c] / m
                                                * (m * dout[at] - sum_dout
                                                   - xhat * sum_dout_xhat));
            }
    }
    return true;
}

START_TEST(batchnorm_backward_in_eval_mode_through_batch_statistics_is_told_so)
{
    assert_mistake_told("nn_batchnorm_backward", batchnorm_backward_eval_as_training, -1,
                        "eval mode differentiates");
}
END_TEST

/* ---- losses: the mean's 1/count, the scale ------------------------------------- */

typedef struct elementwise_loss {
    const char *stem;
    double (*value)(double p, double t);
    double (*slope)(double p, double t);   /* d value / d p */
} elementwise_loss;

static double l1_value(double p, double t) { return fabs(p - t); }
static double l1_slope(double p, double t) { return (p > t) - (p < t); }
static double mse_value(double p, double t) { return (p - t) * (p - t); }
static double mse_slope(double p, double t) { return 2 * (p - t); }
static double bce_value(double p, double t) { return -(t * log(p) + (1 - t) * log(1 - p)); }
static double bce_slope(double p, double t) { return (p - t) / (p * (1 - p)); }
static double logits_value(double z, double t) { return log(1 + exp(z)) - z * t; }
static double logits_slope(double z, double t) { return 1 / (1 + exp(-z)) - t; }

static const elementwise_loss losses[] = {
    { "l1_loss", l1_value, l1_slope },
    { "mse_loss", mse_value, mse_slope },
    { "bce_loss", bce_value, bce_slope },
    { "bce_with_logits_loss", logits_value, logits_slope },
};

static const elementwise_loss *current_loss;
static bool loss_averages = true, loss_scales = true;

/* The loss summed (loss_averages false) or averaged over its values. */
static bool loss_forward_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    int count = dim(b, kc, "count");
    const nn_real *p = b->data[1], *t = b->data[2];
    double sum = 0;
    for (int i = 0; i < count; i++)
        sum += current_loss->value(p[i], t[i]);
    *(double *)b->data[0] = loss_averages ? sum / count : sum;
    return true;
}

static bool loss_backward_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    int count = dim(b, kc, "count");
    double scale = loss_scales ? param(b, kc, "scale") : 1;
    const nn_real *p = b->data[1], *t = b->data[2];
    nn_real *dp = b->data[0];
    for (int i = 0; i < count; i++)
        dp[i] += (nn_real)(scale * current_loss->slope(p[i], t[i])
                           / (loss_averages ? count : 1));
    return true;
}

START_TEST(a_loss_summed_instead_of_averaged_is_told_so)
{
    current_loss = &losses[_i];
    char forward[96], backward[96];
    snprintf(forward, sizeof forward, "nn_%s_forward", current_loss->stem);
    snprintf(backward, sizeof backward, "nn_%s_backward", current_loss->stem);
    loss_averages = loss_scales = true;
    request_case r;
    request_make(&r, backward);
    dg_outcome outcome;
    char *output = judged(&r, loss_backward_written, -1, &outcome);
    ck_assert_msg(outcome == DG_OUTCOME_PASSED, "the formula of %s: %s", backward, output);
    free(output);
    request_free(&r);
    loss_averages = false;
    assert_mistake_told(forward, loss_forward_written, -1, "summed instead of averaged");
    assert_mistake_told(backward, loss_backward_written, -1, "1/count of the mean is missing");
    loss_averages = true;
}
END_TEST

START_TEST(a_loss_backward_ignoring_its_scale_is_told_so)
{
    current_loss = &losses[_i];
    char backward[96];
    snprintf(backward, sizeof backward, "nn_%s_backward", current_loss->stem);
    loss_averages = true;
    loss_scales = false;
    assert_mistake_told(backward, loss_backward_written, -1, "scale argument is ignored");
    loss_scales = true;
}
END_TEST

/* Softmax cross-entropy over (N, C, S), summed or averaged over N*S. */
static bool sce_forward_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    int batch = dim(b, kc, "N"), classes = dim(b, kc, "C"), spatial = dim(b, kc, "S");
    const nn_real *z = reals(b, "logits");
    const int *labels = b->data[buffer_index(b->kernel, "labels")];
    nn_real *probabilities = reals(b, "probabilities");
    double sum = 0;
    for (int n = 0; n < batch; n++)
        for (int s = 0; s < spatial; s++) {
            double top = -INFINITY, total = 0;
            for (int c = 0; c < classes; c++)
                top = fmax(top, z[(n * classes + c) * spatial + s]);
            for (int c = 0; c < classes; c++)
                total += exp(z[(n * classes + c) * spatial + s] - top);
            for (int c = 0; c < classes; c++)
                probabilities[(n * classes + c) * spatial + s]
                    = (nn_real)(exp(z[(n * classes + c) * spatial + s] - top) / total);
            int label = labels[n * spatial + s];
            sum += log(total) + top - z[(n * classes + label) * spatial + s];
        }
    *(double *)b->data[0] = loss_averages ? sum / (batch * spatial) : sum;
    return true;
}

static bool sce_backward_written(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)seed;
    int batch = dim(b, kc, "N"), classes = dim(b, kc, "C"), spatial = dim(b, kc, "S");
    double scale = loss_scales ? param(b, kc, "scale") : 1;
    double mean = loss_averages ? 1.0 / (batch * spatial) : 1;
    const nn_real *probabilities = reals(b, "probabilities");
    const int *labels = b->data[buffer_index(b->kernel, "labels")];
    nn_real *dlogits = reals(b, "dlogits");
    for (int n = 0; n < batch; n++)
        for (int c = 0; c < classes; c++)
            for (int s = 0; s < spatial; s++) {
                size_t at = (size_t)(n * classes + c) * spatial + s;
                double onehot = labels[n * spatial + s] == c;
                dlogits[at] += (nn_real)(scale * mean * (probabilities[at] - onehot));
            }
    return true;
}

START_TEST(cross_entropy_summed_or_unscaled_is_told_so)
{
    loss_averages = false;
    loss_scales = true;
    assert_mistake_told("nn_softmax_cross_entropy_forward", sce_forward_written, -1,
                        "summed instead of averaged");
    assert_mistake_told("nn_softmax_cross_entropy_backward", sce_backward_written, -1,
                        "1/(N*S) of the mean is missing");
    /* The segmentation case (S = 6): a sum over N*S = 18, no batch size. */
    assert_mistake_told("nn_softmax_cross_entropy_backward", sce_backward_written, 1,
                        "1/(N*S) of the mean is missing");
    loss_averages = true;
    loss_scales = false;
    assert_mistake_told("nn_softmax_cross_entropy_backward", sce_backward_written, -1,
                        "scale argument is ignored");
    loss_scales = true;
}
END_TEST

/* ---- every kernel: right answers, noise ------------------------------------------- */

START_TEST(a_right_answer_passes_with_nothing_told)
{
    const dg_kernel *kernel = &dg_kernels[_i];
    request_case r;
    request_make(&r, kernel->function);
    dg_outcome outcome;
    char *output = judged(&r, NULL, -1, &outcome);
    ck_assert_msg(outcome == DG_OUTCOME_PASSED, "%s: %s", kernel->function, output);
    ck_assert_ptr_null(strstr(output, "looks like"));
    free(output);
    request_free(&r);
}
END_TEST

/* Every value a function produces replaced by noise. */
static bool noise(dg_call_buffers *b, const dg_kernel_case *kc, uint64_t seed)
{
    (void)kc;
    nn_rng rng;
    nn_rng_seed(&rng, seed ^ 0x5eedull);
    for (int i = 0; i < b->kernel->buffer_count; i++) {
        if (!dg_buffer_is_result(b->kernel->buffers[i].role))
            continue;
        for (size_t k = 0; k < b->counts[i]; k++)
            switch (b->kernel->buffers[i].type) {
            case DG_BUFFER_REAL: ((nn_real *)b->data[i])[k] = (nn_real)nn_rng_normal(&rng); break;
            case DG_BUFFER_INT: ((int *)b->data[i])[k] = (int)nn_rng_below(&rng, 1000); break;
            case DG_BUFFER_DOUBLE: ((double *)b->data[i])[k] = nn_rng_normal(&rng); break;
            }
    }
    return true;
}

START_TEST(noise_fails_with_no_looks_like)
{
    const dg_kernel *kernel = &dg_kernels[_i];
    request_case r;
    request_make(&r, kernel->function);
    for (int c = -1; c < kernel->case_count; c++) {
        dg_outcome outcome;
        char *output = judged(&r, noise, c, &outcome);
        ck_assert_msg(outcome == DG_OUTCOME_FAILED, "%s: %s", kernel->function, output);
        ck_assert_msg(strstr(output, "looks like") == NULL, "%s, noise in case %d: %s",
                      kernel->function, c + 1, output);
        free(output);
    }
    request_free(&r);
}
END_TEST

/* ---- the table's mistakes ------------------------------------------------------- */

START_TEST(every_mistake_is_told_one_way_with_a_text)
{
    for (size_t k = 0; k < dg_kernel_count; k++) {
        const dg_kernel *kernel = &dg_kernels[k];
        ck_assert_int_le(kernel->mistake_count, DG_KERNEL_MAX_MISTAKES);
        for (int m = 0; m < kernel->mistake_count; m++) {
            const dg_mistake *mistake = &kernel->mistakes[m];
            ck_assert_msg(mistake->what != NULL && strlen(mistake->what) > 10, "%s",
                          kernel->function);
            ck_assert_msg((mistake->apply != NULL) != (mistake->factor != NULL),
                          "%s: mistake %d needs exactly one of apply and factor",
                          kernel->function, m);
        }
    }
    /* The kernels the course's common mistakes belong to carry them. */
    static const char *const carriers[] = {
        "nn_linear_forward", "nn_linear_backward", "nn_adam_step", "nn_dropout_forward",
        "nn_dropout_backward", "nn_batchnorm_forward", "nn_batchnorm_backward",
        "nn_softmax_cross_entropy_forward", "nn_softmax_cross_entropy_backward",
        "nn_mse_loss_forward", "nn_mse_loss_backward",
    };
    for (size_t i = 0; i < sizeof carriers / sizeof carriers[0]; i++)
        ck_assert_msg(dg_kernel_find(carriers[i])->mistake_count > 0, "%s", carriers[i]);
}
END_TEST

/* A mistake that gives the reference's numbers on a case is not kept for
 * it; one that applies is. */
START_TEST(mistakes_are_kept_only_where_they_change_the_numbers)
{
    /* Adam: case 1 corrects at t = 1, where every correction matters; case
     * 2 does not correct; case 3 corrects at t = 1000, where 1 - 0.9^1000
     * is 1 and only the second moment's correction (1 - 0.999^1000 = 0.63)
     * still changes the step. */
    request_case r;
    request_make(&r, "nn_adam_step");
    const dg_mistake *first = mistake_with(r.kernel, "first moment's");
    static const bool kept_first[] = { true, false, false }, kept_others[] = { true, false, true };
    ck_assert_int_eq(r.kernel->case_count, 3);
    for (int c = 0; c < r.kernel->case_count; c++)
        for (int m = 0; m < r.kernel->mistake_count; m++)
            ck_assert_msg(dg_call_buffers_has_mistake(&r.expected[c], m)
                              == (&r.kernel->mistakes[m] == first ? kept_first[c]
                                                                  : kept_others[c]),
                          "case %d, mistake %d", c + 1, m);
    request_free(&r);
    request_make(&r, "nn_dropout_forward");
    int eval = 0;
    for (int c = 0; c < r.kernel->case_count; c++) {
        bool training = r.kernel->cases[c].params[1] != 0;
        eval += !training;
        for (int m = 0; m < r.kernel->mistake_count; m++)
            if (r.kernel->mistakes[m].apply != NULL)
                ck_assert_int_eq(dg_call_buffers_has_mistake(&r.expected[c], m), !training);
    }
    ck_assert_int_gt(eval, 0);
    request_free(&r);
    request_make(&r, "nn_linear_forward");
    for (int c = 0; c < r.kernel->case_count; c++)
        ck_assert(dg_call_buffers_has_mistake(&r.expected[c], 0));
    request_free(&r);
}
END_TEST

/* ---- the template's fixtures ------------------------------------------------------ */

static void assert_same_bytes(const void *a, const void *b, size_t bytes, const char *what)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s: kept on one side only", what);
    if (a != NULL)
        ck_assert_msg(memcmp(a, b, bytes) == 0, "%s differs after the round trip", what);
}

/* The expected values of every case through the fixture format and back. */
static dg_call_buffers *round_trip(const request_case *r)
{
    const dg_kernel *kernel = r->kernel;
    dg_writer fixture;
    dg_writer_init(&fixture);
    for (int c = 0; c < kernel->case_count; c++)
        dg_call_buffers_put_expected(&fixture, &r->expected[c]);
    ck_assert(!fixture.failed);
    dg_call_buffers *back = calloc((size_t)kernel->case_count, sizeof *back);
    ck_assert_ptr_nonnull(back);
    dg_reader reader;
    dg_reader_init(&reader, fixture.data, fixture.size);
    nn_error err = { 0 };
    for (int c = 0; c < kernel->case_count; c++) {
        ck_assert_int_eq(dg_call_buffers_new(&back[c], kernel, &kernel->cases[c],
                                             DG_JUDGE_MAX_ELEMENTS, &err),
                         NN_OK);
        ck_assert_int_eq(dg_call_buffers_get_expected(&reader, &back[c], &kernel->cases[c], &err),
                         NN_OK);
    }
    ck_assert_msg(dg_reader_done(&reader), "%s: %s", kernel->function, reader.problem);
    dg_writer_release(&fixture);
    return back;
}

START_TEST(the_fixture_round_trip_keeps_the_mistakes_and_the_messages)
{
    const dg_kernel *kernel = &dg_kernels[_i];
    request_case r;
    request_make(&r, kernel->function);
    dg_call_buffers *back = round_trip(&r);
    for (int c = 0; c < kernel->case_count; c++) {
        const dg_call_buffers *a = &r.expected[c], *b = &back[c];
        for (int i = 0; i < kernel->buffer_count; i++) {
            size_t bytes = dg_call_buffer_bytes(a, i);
            if (dg_buffer_is_result(kernel->buffers[i].role))
                assert_same_bytes(a->data[i], b->data[i], bytes, kernel->buffers[i].name);
            assert_same_bytes(a->initial[i], b->initial[i], bytes, "initial values");
        }
        for (int m = 0; m < kernel->mistake_count; m++) {
            ck_assert_int_eq(dg_call_buffers_has_mistake(a, m), dg_call_buffers_has_mistake(b, m));
            if (!dg_call_buffers_has_mistake(a, m))
                continue;
            for (int i = 0; i < kernel->buffer_count; i++)
                if (dg_buffer_is_result(kernel->buffers[i].role))
                    assert_same_bytes(a->mistakes[m].data[i], b->mistakes[m].data[i],
                                      dg_call_buffer_bytes(a, i), "a mistake's buffer");
        }
    }
    /* The same answers, judged on either side, read the same: noise, and
     * each kept mistake answered where it was kept. */
    dg_writer response;
    answer(&response, &r, noise, -1);
    dg_outcome here, there;
    char *grader = judge_with(&r, r.expected, &response, &here);
    char *template = judge_with(&r, back, &response, &there);
    ck_assert_str_eq(grader, template);
    free(grader);
    free(template);
    dg_writer_release(&response);
    for (int c = 0; c < kernel->case_count; c++)
        for (int m = 0; m < kernel->mistake_count; m++) {
            if (!dg_call_buffers_has_mistake(&r.expected[c], m))
                continue;
            dg_writer_init(&response);
            dg_put_u32(&response, DG_RESPONSE_MAGIC);
            dg_put_u32(&response, (uint32_t)kernel->case_count);
            for (int k = 0; k < kernel->case_count; k++) {
                const dg_call_buffers *given = k == c ? &r.expected[k].mistakes[m]
                                                      : &r.expected[k];
                dg_put_i32(&response, NN_OK);
                for (int i = 0; i < kernel->buffer_count; i++)
                    if (dg_buffer_is_result(kernel->buffers[i].role))
                        dg_call_buffer_put(&response, given, i);
            }
            grader = judge_with(&r, r.expected, &response, &here);
            template = judge_with(&r, back, &response, &there);
            ck_assert_str_eq(grader, template);
            ck_assert_msg(strstr(grader, kernel->mistakes[m].what) != NULL, "%s", grader);
            free(grader);
            free(template);
            dg_writer_release(&response);
        }
    for (int c = 0; c < kernel->case_count; c++)
        dg_call_buffers_release(&back[c]);
    free(back);
    request_free(&r);
}
END_TEST

START_TEST(a_fixture_with_other_mistakes_than_the_table_is_refused)
{
    request_case r;
    request_make(&r, "nn_adam_step");
    dg_writer fixture;
    dg_writer_init(&fixture);
    dg_call_buffers_put_expected(&fixture, &r.expected[0]);
    /* The mistake count follows the four result buffers (no gradients). */
    size_t at = 0;
    for (int i = 0; i < r.kernel->buffer_count; i++)
        if (dg_buffer_is_result(r.kernel->buffers[i].role))
            at += 8 + 8 * r.expected[0].counts[i];
    ck_assert_uint_eq(fixture.data[at], (unsigned)r.kernel->mistake_count);
    fixture.data[at]++;
    dg_call_buffers back;
    nn_error err = { 0 };
    ck_assert_int_eq(dg_call_buffers_new(&back, r.kernel, &r.kernel->cases[0],
                                         DG_JUDGE_MAX_ELEMENTS, &err),
                     NN_OK);
    dg_reader reader;
    dg_reader_init(&reader, fixture.data, fixture.size);
    ck_assert_int_eq(dg_call_buffers_get_expected(&reader, &back, &r.kernel->cases[0], &err),
                     NN_OK);
    ck_assert(reader.failed);
    ck_assert_msg(strstr(reader.problem, "mistakes of nn_adam_step") != NULL, "%s",
                  reader.problem);
    dg_call_buffers_release(&back);
    dg_writer_release(&fixture);
    request_free(&r);
}
END_TEST

Suite *diagnoses_suite(void);
Suite *diagnoses_suite(void)
{
    Suite *suite = suite_create("diagnoses");
    TCase *linear = tcase_create("linear");
    int linear_cases = dg_kernel_find("nn_linear_forward")->case_count;
    tcase_add_loop_test(linear, linear_forward_reading_the_weight_transposed_is_told_so_in_every_case,
                        0, linear_cases);
    tcase_add_loop_test(linear,
                        linear_backward_indexing_the_weight_transposed_is_told_so_in_every_case,
                        0, linear_cases);
    tcase_add_test(linear, the_linear_cases_hold_wide_narrow_and_square_layers);
    tcase_add_test(linear, a_backward_writing_only_dweight_transposed_is_told_so_on_dweight);
    tcase_add_test(linear, common_mistakes_are_told_by_their_factor);
    tcase_add_test(linear, an_unnamed_constant_factor_is_described_without_looks_like);
    suite_add_tcase(suite, linear);

    TCase *layers = tcase_create("optimizers_and_layers");
    tcase_add_test(layers, adam_without_bias_correction_is_told_so);
    tcase_add_test(layers, adam_without_the_second_moments_correction_is_told_so);
    tcase_add_test(layers, adam_without_the_first_moments_correction_is_told_so);
    tcase_add_test(layers, adam_with_both_corrections_passes);
    tcase_add_test(layers, dropout_without_the_inverted_scaling_is_told_so);
    tcase_add_test(layers, dropout_applied_in_eval_mode_is_told_so);
    tcase_add_test(layers, dropout_backward_without_the_scaling_is_told_so);
    tcase_add_test(layers, batchnorm_using_batch_statistics_in_eval_mode_is_told_so);
    tcase_add_test(layers, batchnorm_backward_in_eval_mode_through_batch_statistics_is_told_so);
    int loss_count = (int)(sizeof losses / sizeof losses[0]);
    tcase_add_loop_test(layers, a_loss_summed_instead_of_averaged_is_told_so, 0, loss_count);
    tcase_add_loop_test(layers, a_loss_backward_ignoring_its_scale_is_told_so, 0, loss_count);
    tcase_add_test(layers, cross_entropy_summed_or_unscaled_is_told_so);
    suite_add_tcase(suite, layers);

    TCase *table = tcase_create("every_kernel");
    tcase_set_timeout(table, 60);
    tcase_add_loop_test(table, a_right_answer_passes_with_nothing_told, 0, (int)dg_kernel_count);
    tcase_add_loop_test(table, noise_fails_with_no_looks_like, 0, (int)dg_kernel_count);
    tcase_add_test(table, every_mistake_is_told_one_way_with_a_text);
    tcase_add_test(table, mistakes_are_kept_only_where_they_change_the_numbers);
    tcase_add_loop_test(table, the_fixture_round_trip_keeps_the_mistakes_and_the_messages, 0,
                        (int)dg_kernel_count);
    tcase_add_test(table, a_fixture_with_other_mistakes_than_the_table_is_refused);
    suite_add_tcase(suite, table);
    return suite;
}
