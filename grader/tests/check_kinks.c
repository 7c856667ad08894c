/*
 * check_kinks.c - gradient checks that know where the forward switches
 * branch (request.c finds the coordinates, judge.c skips and counts them).
 *
 * Seeded inputs essentially never put a value within h = 1e-5 of a kink,
 * so these tests place some there on purpose, through the request
 * builder's adjust hook: ReLU inputs next to 0, max-pool windows with near
 * and exact ties, |p - t| with p next to t. The reference linked here
 * answers the request in-process (dg_runner_serve), as the runner would
 * with a correct submission. Each test then shows:
 *   - the judge passes the correct backward and says how many coordinates
 *     it skipped and why;
 *   - the same answer judged with the kink marks cleared (the judge before
 *     kinks were known) fails: the data really does trip a correct backward;
 *   - a wrong backward on the same data still fails;
 *   - which coordinates are marked, and how many, agrees with a count made
 *     here without the grader's code: the reference forward's own output
 *     or argmax at x - h and x + h, or the sign of p - t.
 * Then: a tensor mostly at kinks is inconclusive (not a fail, not a pass)
 * or gets replacement coordinates when sampled; the kink test is strict
 * at the ends of the step; the fixture format keeps the marks. Last, the
 * image-like case of ReLU and of max pooling (kernels.h,
 * DG_FILL_QUANTISED) brings kinks into a real check, unadjusted: the
 * cnn assignment's pool-gradcheck passes the reference with ties skipped,
 * whatever the seed, and fails a wrong backward.
 *
 * The in-process runner has this build's precision: the kinked functions
 * are piecewise linear, so their central differences stay exact in float
 * too, and the placed values keep margins far above float rounding.
 */
#include "config.h"
#include "judge.h"
#include "kernel_call.h"
#include "kernels.h"
#include "request.h"
#include "runner_serve.h"

#include "nn/layers.h"
#include "nn/pool.h"
#include "../../reference/tests/testutil.h"

/* request.c's step; checked against the step every answer reports. */
#define STEP 1e-5
#define MAX_CASES 4

/* One gradient check run on adjusted inputs, and what it gave. */
typedef struct run {
    const char *function;        /* the backward */
    int samples;
    dg_adjust_inputs adjust;
    dg_call_buffers inputs[MAX_CASES];   /* the forward's inputs as sent */
    int cases;
    dg_coordinate **coordinates;
    size_t *counts;
    dg_writer response;
} run;

static void keep_inputs(dg_call_buffers *forward, int case_index, void *context)
{
    run *r = context;
    r->adjust(forward, case_index, NULL);
    ck_assert_int_lt(case_index, MAX_CASES);
    ck_assert_int_eq(dg_call_buffers_new(&r->inputs[case_index], forward->kernel,
                                         &forward->kernel->cases[case_index],
                                         DG_JUDGE_MAX_ELEMENTS, NULL), NN_OK);
    dg_call_buffers_copy(&r->inputs[case_index], forward);
}

static dg_check_config gradcheck_config(const char *function, int samples)
{
    dg_check_config config;
    memset(&config, 0, sizeof config);
    config.kind = DG_CHECK_GRADCHECK;
    snprintf(config.function, sizeof config.function, "%s", function);
    config.samples = samples;
    config.tolerance = 1e-5;
    return config;
}

/* Builds the request on adjusted inputs and answers it with the reference. */
static void run_start(run *r, const char *function, int samples, dg_adjust_inputs adjust)
{
    memset(r, 0, sizeof *r);
    r->function = function;
    r->samples = samples;
    r->adjust = adjust;
    const dg_gradient_pair *pair = dg_gradient_pair_find(function);
    ck_assert_ptr_nonnull(pair);
    r->cases = dg_kernel_find(pair->forward)->case_count;
    ck_assert_int_le(r->cases, MAX_CASES);
    r->coordinates = calloc((size_t)r->cases, sizeof *r->coordinates);
    r->counts = calloc((size_t)r->cases, sizeof *r->counts);
    ck_assert(r->coordinates != NULL && r->counts != NULL);
    dg_check_config config = gradcheck_config(function, samples);
    dg_writer request;
    dg_writer_init(&request);
    nn_error err;
    ck_assert_int_eq(dg_build_gradcheck_request_adjusted(&request, r->coordinates, r->counts,
                                                         &config, 7, keep_inputs, r, &err),
                     NN_OK);
    dg_writer_init(&r->response);
    ck_assert_int_eq(dg_runner_serve(request.data, request.size, &r->response), 0);
    dg_writer_release(&request);
}

static void run_finish(run *r)
{
    for (int c = 0; c < r->cases; c++)
        dg_call_buffers_release(&r->inputs[c]);
    dg_coordinates_free(r->coordinates, r->counts, r->cases);
    dg_writer_release(&r->response);
}

/* Judges an answer against coordinates; the caller frees check->output. */
static dg_check_result judge(const run *r, dg_coordinate *const *coordinates,
                             const dg_writer *response)
{
    dg_check_result check;
    memset(&check, 0, sizeof check);
    check.max_score = 1;
    dg_judge_gradcheck(&check, dg_gradient_pair_find(r->function), r->cases,
                       (const dg_coordinate *const *)coordinates, r->counts, response->data,
                       response->size, 1e-5);
    ck_assert_ptr_nonnull(check.output);
    return check;
}

/* The coordinates with every kink mark cleared: what the judge saw before
 * it knew about kinks. */
static dg_coordinate **without_marks(const run *r)
{
    dg_coordinate **copy = calloc((size_t)r->cases, sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    for (int c = 0; c < r->cases; c++) {
        copy[c] = calloc(r->counts[c] + 1, sizeof **copy);
        ck_assert_ptr_nonnull(copy[c]);
        for (size_t k = 0; k < r->counts[c]; k++) {
            copy[c][k] = r->coordinates[c][k];
            copy[c][k].kink = DG_KINK_NONE;
        }
    }
    return copy;
}

static void free_lists(dg_coordinate **lists, int cases)
{
    for (int c = 0; c < cases; c++)
        free(lists[c]);
    free(lists);
}

/* The answer of a backward that returns factor * dL/dx (-1: the sign;
 * 0: adds nothing): wrong wherever the gradient is not zero. Also checks
 * that every answer reports the step. */
static void scale_analytic(dg_writer *wrong, const run *r, double factor)
{
    dg_reader reader;
    dg_reader_init(&reader, r->response.data, r->response.size);
    dg_writer_init(wrong);
    dg_put_u32(wrong, dg_get_u32(&reader));
    dg_put_u32(wrong, dg_get_u32(&reader));
    for (int c = 0; c < r->cases; c++) {
        dg_put_i32(wrong, dg_get_i32(&reader));
        dg_put_i32(wrong, dg_get_i32(&reader));
        for (size_t k = 0; k < r->counts[c]; k++) {
            dg_put_f64(wrong, factor * dg_get_f64(&reader));
            dg_put_f64(wrong, dg_get_f64(&reader));
            dg_put_f64(wrong, dg_get_f64(&reader));
            double step = dg_get_f64(&reader);
            /* x +- h rounded to this build's precision (float: to ~1e-3 of h) */
            ck_assert_msg(fabs(step - 2 * STEP) < (NN_REAL_IS_DOUBLE ? 1e-6 : 1e-2) * STEP,
                          "the runner's step is %g", step);
            dg_put_f64(wrong, step);
        }
    }
    ck_assert(dg_reader_done(&reader));
}

static void negate_analytic(dg_writer *wrong, const run *r)
{
    scale_analytic(wrong, r, -1.0);
}

/* "passes the gradient check at A of B coordinates ...; S skipped: ..." */
static void read_pass_message(const char *output, size_t *checked, size_t *total,
                              size_t *skipped)
{
    const char *at = strstr(output, "passes the gradient check at ");
    ck_assert_msg(at != NULL, "%s", output);
    ck_assert_int_eq(sscanf(at, "passes the gradient check at %zu of %zu coordinates", checked,
                            total), 2);
    const char *semicolon = strstr(at, "); ");
    ck_assert_msg(semicolon != NULL, "%s", output);
    ck_assert_int_eq(sscanf(semicolon, "); %zu skipped:", skipped), 1);
}

/* ---- independent tests for "the step crosses a kink" ------------------------ */

/* ReLU: the reference forward gives 0 at x - h and a positive value at
 * x + h. */
static bool relu_crosses(double x)
{
    nn_real minus = (nn_real)(x - STEP), plus = (nn_real)(x + STEP), out_minus, out_plus;
    ck_assert_int_eq(nn_relu_forward(&out_minus, &minus, 1), NN_OK);
    ck_assert_int_eq(nn_relu_forward(&out_plus, &plus, 1), NN_OK);
    return out_minus == 0 && out_plus > 0;
}

/* Max pooling: the reference forward's argmax differs between x[index] - h
 * and x[index] + h. */
static bool max_pool_crosses(const dg_call_buffers *inputs, const int *dims, size_t index)
{
    enum { N, C, H, W, K, S };
    nn_pool_geometry g;
    ck_assert_int_eq(nn_pool_geometry_init(&g, dims[C], dims[H], dims[W], dims[K], dims[K],
                                           dims[S], dims[S], 0, 0, NULL), NN_OK);
    size_t values = inputs->counts[2], outputs = inputs->counts[0];
    nn_real *x = malloc(values * sizeof *x), *out = malloc(outputs * sizeof *out);
    int *argmax[2] = { malloc(outputs * sizeof(int)), malloc(outputs * sizeof(int)) };
    ck_assert(x && out && argmax[0] && argmax[1]);
    for (int side = 0; side < 2; side++) {
        memcpy(x, inputs->data[2], values * sizeof *x);
        x[index] = (nn_real)((double)x[index] + (side ? STEP : -STEP));
        ck_assert_int_eq(nn_max_pool2d_forward(out, argmax[side], x, dims[N], &g), NN_OK);
    }
    bool differs = memcmp(argmax[0], argmax[1], outputs * sizeof(int)) != 0;
    free(x);
    free(out);
    free(argmax[0]);
    free(argmax[1]);
    return differs;
}

/* |p - t|: p - t is negative at p - h and positive at p + h. */
static bool l1_crosses(double p, double t)
{
    return (p - STEP) - t < 0 && (p + STEP) - t > 0;
}

/* Compares every coordinate's mark with the independent test and returns
 * how many cross. */
static size_t count_crossings(const run *r)
{
    size_t crossings = 0;
    for (int c = 0; c < r->cases; c++) {
        const dg_call_buffers *in = &r->inputs[c];
        for (size_t k = 0; k < r->counts[c]; k++) {
            size_t i = r->coordinates[c][k].index;
            bool crosses;
            if (strcmp(r->function, "nn_relu_backward") == 0)
                crosses = relu_crosses(dg_call_buffer_value(in, 1, i));
            else if (strcmp(r->function, "nn_max_pool2d_backward") == 0)
                crosses = max_pool_crosses(in, in->kernel->cases[c].dims, i);
            else
                crosses = l1_crosses(dg_call_buffer_value(in, 1, i),
                                     dg_call_buffer_value(in, 2, i));
            ck_assert_msg(crosses == (r->coordinates[c][k].kink != DG_KINK_NONE),
                          "%s case %d index %zu: crosses %d, marked %u", r->function, c + 1, i,
                          crosses, r->coordinates[c][k].kink);
            crossings += crosses;
        }
    }
    return crossings;
}

/* ---- inputs placed at kinks ---------------------------------------------------- */

/* ReLU x: three at kinks in the 6 of case 1 (0 itself among them), every
 * 6th of case 2, every 7th of the sampled case 3 (case 4, image-like, has
 * its own). */
static void relu_near_zero(dg_call_buffers *forward, int c, void *unused)
{
    (void)unused;
    nn_real *x = forward->data[1];
    size_t n = forward->counts[1];
    if (c == 0) {
        x[0] = 0;
        x[1] = (nn_real)3e-6;
        x[4] = (nn_real)-7e-6;
        x[2] = (nn_real)0.8;   /* a coordinate that is checked and not zero */
    }
    for (size_t k = 0; (c == 1 || c == 2) && k < n; k += c == 1 ? 6 : 7)
        x[k] = (nn_real)(k % 2 ? 4e-6 : -2e-6);
}

/* Max pooling: in case 1 a near tie (0.5 against 0.5 + 4e-6) and an exact
 * tie (1.9 and 1.9); in case 2 (3x3 windows, stride 2, overlapping) a
 * near tie on a row shared by two windows in every plane; in case 3 near
 * ties in every third window. */
static void max_pool_ties(dg_call_buffers *forward, int c, void *unused)
{
    (void)unused;
    nn_real *x = forward->data[2];
    const int *d = forward->kernel->cases[c].dims;
    size_t plane = (size_t)d[2] * (size_t)d[3], planes = (size_t)d[0] * (size_t)d[1];
    int W = d[3];
    if (c == 0) {
        x[0] = (nn_real)0.5, x[1] = (nn_real)(0.5 + 4e-6), x[4] = -1, x[5] = (nn_real)-1.2;
        x[16 + 10] = (nn_real)1.9, x[16 + 15] = (nn_real)1.9;
        x[16 + 11] = (nn_real)0.1, x[16 + 14] = (nn_real)0.2;
    } else if (c == 1) {
        for (size_t p = 0; p < planes; p++) {
            x[p * plane + 2 * (size_t)W + 2] = 3;
            x[p * plane + 2 * (size_t)W + 3] = (nn_real)(3 - 3e-6);
        }
    } else if (c == 2) {
        for (size_t p = 0; p < planes; p++)
            for (int i = 0; i < d[2] / 2; i++)
                for (int j = 0; j < d[3] / 2; j++)
                    if ((i + j) % 3 == 0) {
                        size_t top_left = p * plane + (size_t)(2 * i) * (size_t)W + (size_t)(2 * j);
                        x[top_left] = 5;
                        x[top_left + 1] = (nn_real)(5 + 2e-6);
                    }
    }
}

/* |p - t|: p next to t (and equal to it once) here and there. */
static void l1_near_target(dg_call_buffers *forward, int c, void *unused)
{
    (void)unused;
    nn_real *p = forward->data[1];
    const nn_real *t = forward->data[2];
    size_t n = forward->counts[1];
    if (c == 0) {
        p[0] = t[0];
        p[2] = (nn_real)((double)t[2] + 5e-6);
        p[5] = (nn_real)((double)t[5] - 1e-6);
        p[3] = (nn_real)((double)t[3] + 0.5);
    }
    for (size_t k = 0; c > 0 && k < n; k += c == 1 ? 5 : 9)
        p[k] = (nn_real)((double)t[k] + (c == 1 ? 3e-6 : -6e-6));
}

/* Case 1 of ReLU: 4 of its 6 values at kinks; the other two positive. */
static void relu_mostly_at_zero(dg_call_buffers *forward, int c, void *unused)
{
    (void)unused;
    nn_real *x = forward->data[1];
    if (c == 0) {
        const double values[6] = { 2e-6, -3e-6, 0.7, 5e-6, 1.2, -8e-6 };
        for (int k = 0; k < 6; k++)
            x[k] = (nn_real)values[k];
    }
}

/* Case 3 of ReLU (4099 values, sampled): 9 in 10 at kinks. */
static void relu_sampled_mostly_at_zero(dg_call_buffers *forward, int c, void *unused)
{
    (void)unused;
    nn_real *x = forward->data[1];
    for (size_t k = 0; c == 2 && k < forward->counts[1]; k++)
        if (k % 10 != 0)
            x[k] = (nn_real)(k % 2 ? 4e-6 : -4e-6);
}

/* ---- the tests ------------------------------------------------------------------ */

typedef struct kinked {
    const char *function;
    int samples;
    dg_adjust_inputs adjust;
    const char *reason;   /* what the message must say */
} kinked;

static const kinked kinked_cases[] = {
    { "nn_relu_backward", 40, relu_near_zero, "x crosses 0 inside the step" },
    { "nn_max_pool2d_backward", 64, max_pool_ties,
      "the max-pool choice switches inside the step" },
    { "nn_l1_loss_backward", 40, l1_near_target,
      "prediction - target changes sign inside the step" },
};

START_TEST(a_correct_backward_passes_with_the_kinks_skipped_and_counted)
{
    const kinked *k = &kinked_cases[_i];
    run r;
    run_start(&r, k->function, k->samples, k->adjust);
    size_t crossings = count_crossings(&r);
    ck_assert_uint_gt(crossings, 0);
    size_t total = 0;
    for (int c = 0; c < r.cases; c++)
        total += r.counts[c];

    dg_check_result check = judge(&r, r.coordinates, &r.response);
    ck_assert_msg(check.outcome == DG_OUTCOME_PASSED, "%s", check.output);
    ck_assert_double_eq(check.score, 1);
    size_t checked, told_total, skipped;
    read_pass_message(check.output, &checked, &told_total, &skipped);
    ck_assert_uint_eq(skipped, crossings);
    ck_assert_uint_eq(told_total, total);
    ck_assert_uint_eq(checked, total - crossings);
    ck_assert_msg(strstr(check.output, k->reason) != NULL, "%s", check.output);
    free(check.output);
    run_finish(&r);
}
END_TEST

START_TEST(without_the_kink_marks_the_same_correct_backward_fails)
{
    const kinked *k = &kinked_cases[_i];
    run r;
    run_start(&r, k->function, k->samples, k->adjust);
    dg_coordinate **unmarked = without_marks(&r);
    dg_check_result check = judge(&r, unmarked, &r.response);
    ck_assert_msg(check.outcome == DG_OUTCOME_FAILED, "%s", check.output);
    ck_assert_ptr_nonnull(strstr(check.output, "fails the gradient check"));
    free(check.output);
    free_lists(unmarked, r.cases);
    run_finish(&r);
}
END_TEST

START_TEST(a_wrong_backward_on_the_same_inputs_still_fails)
{
    const kinked *k = &kinked_cases[_i];
    run r;
    run_start(&r, k->function, k->samples, k->adjust);
    dg_writer wrong;
    negate_analytic(&wrong, &r);
    dg_check_result check = judge(&r, r.coordinates, &wrong);
    ck_assert_msg(check.outcome == DG_OUTCOME_FAILED, "%s", check.output);
    ck_assert_double_eq(check.score, 0);
    ck_assert_ptr_nonnull(strstr(check.output, "fails the gradient check"));
    free(check.output);
    dg_writer_release(&wrong);
    run_finish(&r);
}
END_TEST

START_TEST(a_small_tensor_mostly_at_kinks_is_inconclusive_not_failed)
{
    run r;
    run_start(&r, "nn_relu_backward", 40, relu_mostly_at_zero);
    ck_assert_uint_eq(r.counts[0], 6);   /* all of case 1: nothing to replace them with */
    dg_check_result check = judge(&r, r.coordinates, &r.response);
    ck_assert_msg(check.outcome == DG_OUTCOME_GRADER_ERROR, "%s", check.output);
    ck_assert_double_eq(check.score, 0);
    ck_assert_msg(strstr(check.output, "inconclusive: in case 1 only 2 of 6 coordinates of dx")
                  != NULL, "%s", check.output);
    ck_assert_ptr_nonnull(strstr(check.output, "x crosses 0 inside the step"));
    free(check.output);

    /* The two it can check still catch a wrong backward. */
    dg_writer wrong;
    negate_analytic(&wrong, &r);
    check = judge(&r, r.coordinates, &wrong);
    ck_assert_msg(check.outcome == DG_OUTCOME_FAILED, "%s", check.output);
    ck_assert_ptr_nonnull(strstr(check.output, "dx at [2] fails the gradient check"));
    free(check.output);
    dg_writer_release(&wrong);
    run_finish(&r);
}
END_TEST

START_TEST(a_sampled_tensor_mostly_at_kinks_gets_replacement_coordinates)
{
    run r;
    run_start(&r, "nn_relu_backward", 40, relu_sampled_mostly_at_zero);
    size_t crossings = count_crossings(&r), at_kinks = 0, elsewhere = 0;
    for (size_t k = 0; k < r.counts[2]; k++)
        at_kinks += r.coordinates[2][k].kink != DG_KINK_NONE;
    for (size_t k = 0; k < r.counts[3]; k++)   /* the image-like case's own zeros */
        elsewhere += r.coordinates[3][k].kink != DG_KINK_NONE;
    ck_assert_uint_gt(at_kinks, 20);           /* of the 40 first drawn */
    ck_assert_uint_gt(r.counts[2], 40);        /* replacements were added */
    ck_assert_uint_ge(2 * (r.counts[2] - at_kinks), r.counts[2]);
    dg_check_result check = judge(&r, r.coordinates, &r.response);
    ck_assert_msg(check.outcome == DG_OUTCOME_PASSED, "%s", check.output);
    size_t checked, total, skipped;
    read_pass_message(check.output, &checked, &total, &skipped);
    ck_assert_uint_eq(skipped, crossings);
    ck_assert_uint_eq(skipped, at_kinks + elsewhere);   /* cases 1 and 2 have none */
    free(check.output);
    run_finish(&r);
}
END_TEST

/* Each kind is piecewise linear, so a step ending exactly on the kink
 * measures one side's slope: only a strict crossing is a kink. Step 0.25
 * and quarters are exact in both precisions. */
START_TEST(the_kink_test_is_strict_at_the_ends_of_the_step)
{
    const dg_gradient_pair *relu = dg_gradient_pair_find("nn_relu_backward");
    const dg_kernel *forward = dg_kernel_find(relu->forward);
    dg_call_buffers in;
    ck_assert_int_eq(dg_call_buffers_new(&in, forward, &forward->cases[0], 1000, NULL), NN_OK);
    const double x[6] = { 0.25, -0.25, 0, 0.125, -0.125, 0.5 };
    const bool kink[6] = { false, false, true, true, true, false };
    for (int k = 0; k < 6; k++)
        ((nn_real *)in.data[1])[k] = (nn_real)x[k];
    for (int k = 0; k < 6; k++) {
        dg_coordinate where = { .link = 0, .index = (uint64_t)k };
        dg_kink got = dg_gradcheck_kink(relu, &in, &forward->cases[0], &where, 0.25);
        ck_assert_msg((got == DG_KINK_SIGN) == kink[k], "x = %g: kink %d", x[k], got);
    }
    dg_call_buffers_release(&in);

    /* PReLU's slope has no kink, whatever x is. */
    const dg_gradient_pair *prelu = dg_gradient_pair_find("nn_prelu_backward");
    const dg_kernel *prelu_forward = dg_kernel_find(prelu->forward);
    ck_assert_int_eq(dg_call_buffers_new(&in, prelu_forward, &prelu_forward->cases[0], 1000,
                                         NULL), NN_OK);
    memset(in.data[1], 0, dg_call_buffer_bytes(&in, 1));
    memset(in.data[2], 0, dg_call_buffer_bytes(&in, 2));
    dg_coordinate x0 = { .link = 0, .index = 0 }, slope0 = { .link = 1, .index = 0 };
    ck_assert_int_eq(dg_gradcheck_kink(prelu, &in, &prelu_forward->cases[0], &x0, 1e-5),
                     DG_KINK_SIGN);
    ck_assert_int_eq(dg_gradcheck_kink(prelu, &in, &prelu_forward->cases[0], &slope0, 1e-5),
                     DG_KINK_NONE);
    dg_call_buffers_release(&in);
}
END_TEST

START_TEST(the_fixture_format_keeps_the_kink_marks)
{
    run r;
    run_start(&r, "nn_max_pool2d_backward", 64, max_pool_ties);
    const dg_gradient_pair *pair = dg_gradient_pair_find(r.function);
    dg_writer fixture;
    dg_writer_init(&fixture);
    dg_put_coordinates(&fixture, (const dg_coordinate *const *)r.coordinates, r.counts, r.cases);
    ck_assert(!fixture.failed);

    dg_reader reader;
    dg_reader_init(&reader, fixture.data, fixture.size);
    dg_coordinate **back;
    size_t *counts;
    int cases;
    ck_assert(dg_get_coordinates(&reader, pair, &back, &counts, &cases));
    ck_assert(dg_reader_done(&reader));
    ck_assert_int_eq(cases, r.cases);
    size_t marked = 0;
    for (int c = 0; c < cases; c++) {
        ck_assert_uint_eq(counts[c], r.counts[c]);
        for (size_t k = 0; k < counts[c]; k++) {
            ck_assert_uint_eq(back[c][k].link, r.coordinates[c][k].link);
            ck_assert_uint_eq(back[c][k].index, r.coordinates[c][k].index);
            ck_assert_uint_eq(back[c][k].kink, r.coordinates[c][k].kink);
            marked += back[c][k].kink != DG_KINK_NONE;
        }
    }
    ck_assert_uint_gt(marked, 0);
    /* The template's checker, judging from the fixture, says what the
     * grader says. */
    dg_check_result grader = judge(&r, r.coordinates, &r.response);
    dg_check_result local = judge(&r, back, &r.response);
    ck_assert_int_eq(local.outcome, DG_OUTCOME_PASSED);
    ck_assert_str_eq(local.output, grader.output);
    free(grader.output);
    free(local.output);
    dg_coordinates_free(back, counts, cases);

    /* A damaged record is refused, not half read: a link the pair does not
     * have, an unknown kink, a truncated list. */
    size_t first = 4 + 8;   /* cases, then case 1's count */
    unsigned char *copy = malloc(fixture.size);
    ck_assert_ptr_nonnull(copy);
    for (int damage = 0; damage < 3; damage++) {
        memcpy(copy, fixture.data, fixture.size);
        size_t size = fixture.size;
        if (damage == 0)
            copy[first] = 9;              /* link */
        else if (damage == 1)
            copy[first + 12] = 77;        /* kink */
        else
            size -= 5;
        dg_reader_init(&reader, copy, size);
        ck_assert(!dg_get_coordinates(&reader, pair, &back, &counts, &cases));
        ck_assert(reader.failed);
        ck_assert_ptr_null(back);
    }
    free(copy);
    dg_writer_release(&fixture);
    run_finish(&r);
}
END_TEST

/* On seeded inputs the reference passes the whole path (request, answer,
 * judge) for every pair, and nothing is skipped but in the image-like
 * cases: N(0, 1) never puts a value at a kink. Double only: in float the
 * smooth pairs' central differences are noise. */
#if NN_REAL_IS_DOUBLE
static bool has_image_like_case(const dg_kernel *kernel)
{
    for (int c = 0; c < kernel->case_count; c++)
        if (kernel->cases[c].input_fill == DG_FILL_QUANTISED)
            return true;
    return false;
}
#endif

START_TEST(every_pair_passes_with_the_reference_on_seeded_inputs)
{
#if NN_REAL_IS_DOUBLE
    for (size_t p = 0; p < dg_gradient_pair_count; p++) {
        const dg_gradient_pair *pair = &dg_gradient_pairs[p];
        int cases = dg_kernel_find(pair->forward)->case_count;
        dg_coordinate **coordinates = calloc((size_t)cases, sizeof *coordinates);
        size_t *counts = calloc((size_t)cases, sizeof *counts);
        ck_assert(coordinates != NULL && counts != NULL);
        dg_check_config config = gradcheck_config(pair->backward, 8);
        dg_writer request, response;
        dg_writer_init(&request);
        dg_writer_init(&response);
        nn_error err;
        ck_assert_int_eq(dg_build_gradcheck_request(&request, coordinates, counts, &config, 11,
                                                    &err), NN_OK);
        ck_assert_int_eq(dg_runner_serve(request.data, request.size, &response), 0);
        dg_check_result check;
        memset(&check, 0, sizeof check);
        check.max_score = 1;
        dg_judge_gradcheck(&check, pair, cases, (const dg_coordinate *const *)coordinates,
                           counts, response.data, response.size, 1e-5);
        ck_assert_msg(check.outcome == DG_OUTCOME_PASSED, "%s: %s", pair->backward,
                      check.output);
        if (!has_image_like_case(dg_kernel_find(pair->forward)))
            ck_assert_msg(strstr(check.output, "skipped") == NULL, "%s", check.output);
        free(check.output);
        dg_coordinates_free(coordinates, counts, cases);
        dg_writer_release(&request);
        dg_writer_release(&response);
    }
#endif
}
END_TEST


/* ---- image-like inputs in real checks -------------------------------------------- */

/* Ties in a 2x2, stride-2 max-pool case: windows whose maximum is shared. */
static size_t tied_windows(const dg_call_buffers *in, const int *d)
{
    size_t ties = 0, planes = (size_t)d[0] * (size_t)d[1];
    for (size_t p = 0; p < planes; p++)
        for (int i = 0; i + 1 < d[2]; i += 2)
            for (int j = 0; j + 1 < d[3]; j += 2) {
                double v[4];
                for (int k = 0; k < 4; k++)
                    v[k] = dg_call_buffer_value(in, 2, (p * (size_t)d[2] + (size_t)(i + k / 2))
                                                               * (size_t)d[3]
                                                           + (size_t)(j + k % 2));
                double best = fmax(fmax(v[0], v[1]), fmax(v[2], v[3]));
                int at_best = (v[0] == best) + (v[1] == best) + (v[2] == best) + (v[3] == best);
                ties += at_best > 1;
            }
    return ties;
}

START_TEST(image_like_inputs_hold_exact_zeros_and_ties)
{
    /* The last case of ReLU and of max pooling, and only those. */
    const char *const kernels[] = { "nn_relu_forward", "nn_max_pool2d_forward" };
    const int x_of[] = { 1, 2 };
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int f = 0; f < 2; f++) {
        const dg_kernel *kernel = dg_kernel_find(kernels[f]);
        ck_assert_ptr_nonnull(kernel);
        for (int c = 0; c < kernel->case_count; c++) {
            const dg_kernel_case *kc = &kernel->cases[c];
            bool image_like = c == kernel->case_count - 1;
            ck_assert_int_eq(kc->input_fill, image_like ? DG_FILL_QUANTISED : DG_FILL_NORMAL);
            dg_call_buffers in;
            ck_assert_int_eq(dg_call_buffers_new(&in, kernel, kc, DG_JUDGE_MAX_ELEMENTS, NULL),
                             NN_OK);
            dg_call_buffers_fill(&in, kc, &rng);
            size_t n = in.counts[x_of[f]], zeros = 0, off_grid = 0, negative = 0;
            for (size_t k = 0; k < n; k++) {
                double v = dg_call_buffer_value(&in, x_of[f], k);
                zeros += v == 0;
                negative += v < 0;
                off_grid += 2 * v != floor(2 * v);
            }
            if (image_like) {
                ck_assert_uint_eq(negative, 0);
                ck_assert_uint_eq(off_grid, 0);
                ck_assert_msg(zeros > n * 2 / 5 && zeros < n * 3 / 5, "%s: %zu zeros of %zu",
                              kernels[f], zeros, n);
            } else {
                ck_assert_uint_eq(zeros, 0);
            }
            if (f == 1)
                ck_assert_int_eq(tied_windows(&in, kc->dims) > 0, image_like);
            dg_call_buffers_release(&in);
        }
    }
}
END_TEST

/* The cnn assignment's pool-gradcheck as the grader runs it (its samples
 * and tolerance, no adjusted inputs), answered by the reference: it
 * passes and says it skipped ties, which all come from the image-like
 * case; answers of a wrong backward (the sign, or nothing added) fail. */
START_TEST(the_cnn_pool_gradcheck_skips_ties_and_still_catches_a_wrong_backward)
{
    dg_config *config = malloc(sizeof *config);
    ck_assert_ptr_nonnull(config);
    nn_error err;
    ck_assert_msg(dg_config_load(config, "assignments/cnn/assignment.yaml", NULL, &err) == NN_OK,
                  "%s", err.message);
    int index = dg_config_find_check(config, "pool-gradcheck");
    ck_assert_int_ge(index, 0);
    const dg_check_config *check_config = &config->checks[index];
    ck_assert_int_eq(check_config->kind, DG_CHECK_GRADCHECK);
    const dg_gradient_pair *pair = dg_gradient_pair_find(check_config->function);
    ck_assert_ptr_nonnull(pair);
    for (unsigned long long seed = 1; seed <= 8; seed++) {
        run r;
        memset(&r, 0, sizeof r);
        r.function = pair->backward;
        r.cases = dg_kernel_find(pair->forward)->case_count;
        r.coordinates = calloc((size_t)r.cases, sizeof *r.coordinates);
        r.counts = calloc((size_t)r.cases, sizeof *r.counts);
        ck_assert(r.coordinates != NULL && r.counts != NULL);
        dg_writer request;
        dg_writer_init(&request);
        ck_assert_int_eq(dg_build_gradcheck_request(&request, r.coordinates, r.counts,
                                                    check_config, seed * 7919, &err),
                         NN_OK);
        dg_writer_init(&r.response);
        ck_assert_int_eq(dg_runner_serve(request.data, request.size, &r.response), 0);
        dg_writer_release(&request);
        size_t marked = 0;
        for (int c = 0; c < r.cases; c++)
            for (size_t k = 0; k < r.counts[c]; k++)
                if (r.coordinates[c][k].kink != DG_KINK_NONE) {
                    ck_assert_int_eq(c, r.cases - 1);   /* the image-like case */
                    marked++;
                }
        ck_assert_uint_gt(marked, 0);

        dg_check_result check;
        memset(&check, 0, sizeof check);
        check.max_score = 1;
        dg_judge_gradcheck(&check, pair, r.cases, (const dg_coordinate *const *)r.coordinates,
                           r.counts, r.response.data, r.response.size, check_config->tolerance);
        ck_assert_msg(check.outcome == DG_OUTCOME_PASSED, "seed %llu: %s", seed, check.output);
        size_t checked, total, skipped;
        read_pass_message(check.output, &checked, &total, &skipped);
        ck_assert_uint_eq(skipped, marked);
        ck_assert_msg(strstr(check.output, "skipped: the max-pool choice switches inside the "
                                           "step") != NULL, "%s", check.output);
        free(check.output);

        dg_writer wrong;
        negate_analytic(&wrong, &r);
        memset(&check, 0, sizeof check);
        check.max_score = 1;
        dg_judge_gradcheck(&check, pair, r.cases, (const dg_coordinate *const *)r.coordinates,
                           r.counts, wrong.data, wrong.size, check_config->tolerance);
        ck_assert_msg(check.outcome == DG_OUTCOME_FAILED, "%s", check.output);
        ck_assert_ptr_nonnull(strstr(check.output, "nn_max_pool2d_backward: dx at ["));
        free(check.output);
        dg_writer_release(&wrong);

        /* A backward that adds nothing: zero where the numbers are not. */
        scale_analytic(&wrong, &r, 0.0);
        memset(&check, 0, sizeof check);
        check.max_score = 1;
        dg_judge_gradcheck(&check, pair, r.cases, (const dg_coordinate *const *)r.coordinates,
                           r.counts, wrong.data, wrong.size, check_config->tolerance);
        ck_assert_msg(check.outcome == DG_OUTCOME_FAILED, "%s", check.output);
        ck_assert_msg(strstr(check.output, "fails the gradient check: analytic 0,") != NULL
                          || strstr(check.output, "fails the gradient check: analytic -0,")
                                 != NULL, "%s", check.output);
        free(check.output);
        dg_writer_release(&wrong);
        run_finish(&r);
    }
    free(config);
}
END_TEST

Suite *kinks_suite(void);
Suite *kinks_suite(void)
{
    Suite *s = suite_create("kinks");
    TCase *tc = tcase_create("kinks");
    tcase_set_timeout(tc, 60);
    int kinds = (int)(sizeof kinked_cases / sizeof kinked_cases[0]);
    tcase_add_loop_test(tc, a_correct_backward_passes_with_the_kinks_skipped_and_counted, 0,
                        kinds);
    tcase_add_loop_test(tc, without_the_kink_marks_the_same_correct_backward_fails, 0, kinds);
    tcase_add_loop_test(tc, a_wrong_backward_on_the_same_inputs_still_fails, 0, kinds);
    tcase_add_test(tc, a_small_tensor_mostly_at_kinks_is_inconclusive_not_failed);
    tcase_add_test(tc, a_sampled_tensor_mostly_at_kinks_gets_replacement_coordinates);
    tcase_add_test(tc, the_kink_test_is_strict_at_the_ends_of_the_step);
    tcase_add_test(tc, the_fixture_format_keeps_the_kink_marks);
    tcase_add_test(tc, every_pair_passes_with_the_reference_on_seeded_inputs);
    tcase_add_test(tc, image_like_inputs_hold_exact_zeros_and_ties);
    tcase_add_test(tc, the_cnn_pool_gradcheck_skips_ties_and_still_catches_a_wrong_backward);
    suite_add_tcase(s, tc);
    return s;
}
