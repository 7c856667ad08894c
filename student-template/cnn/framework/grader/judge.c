/*
 * judge.c - deciding what a runner's answer is worth, shared by the grader
 * (expected values from the reference it links) and the student template's
 * local checks (expected values from the fixtures the release step wrote),
 * so that both print the same messages.
 *
 * Compare: a value passes when |got - expected| <= tolerance * max(1,
 * |expected|): relative for large values, absolute near zero, where a
 * relative error means nothing. Gradient buffers arrive pre-filled with
 * random values, so a backward that assigns instead of adding fails. The
 * first buffer that fails is reported, and what its numbers look like when
 * they are those of a known mistake (below).
 *
 * Gradcheck: numeric = (L+ - L-) / (actual step); the relative error
 * |a - n| / max(|a|, |n|, floor) with floor 1e-4 is absolute for tiny
 * entries, where rounding noise of the difference quotient would fail a
 * correct backward. A gradient that is zero wherever it is checked proves
 * nothing and fails. Coordinates whose step crosses a kink of the forward
 * (a ReLU's 0, a max-pool's choice, |p - t|; kernels.h) are skipped and
 * counted in the message: there the difference quotient blends two slopes
 * and would fail a correct backward. A pass needs at least half of each
 * case's coordinates of each gradient checked; with fewer the check is
 * inconclusive, the grader's fault (request.c draws replacements where
 * it can, so this takes a small tensor mostly at kinks).
 */
#include "judge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRADCHECK_FLOOR 1e-4

/* "[2, 3]" for a flat index of a buffer whose shape reads "(O, I)". */
void dg_format_index(char *out, size_t size, const dg_kernel *kernel, const dg_kernel_case *kc,
                     int buffer, size_t index)
{
    const char *shape = kernel->buffers[buffer].shape;
    size_t dims[8];
    int rank = 0;
    bool known = shape != NULL && shape[0] == '(';
    for (const char *c = known ? shape + 1 : ""; known && *c && *c != ')' && rank < 8;) {
        while (*c == ' ' || *c == ',')
            c++;
        size_t length = strcspn(c, ",)");
        char token[16];
        snprintf(token, sizeof token, "%.*s", (int)length, c);
        c += length;
        size_t value = 0;
        bool found = false;
        for (int d = 0; d < kernel->dim_count; d++)
            if (strcmp(kernel->dim_names[d], token) == 0) {
                value = (size_t)kc->dims[d];
                found = true;
            }
        if (!found && token[0] >= '0' && token[0] <= '9') {
            value = (size_t)strtoul(token, NULL, 10);
            found = true;
        }
        if (!found || value == 0)
            known = false;
        dims[rank++] = value;
    }
    if (!known || rank == 0) {
        snprintf(out, size, "[%zu]", index);
        return;
    }
    size_t position[8];
    for (int d = rank - 1; d >= 0; d--) {
        position[d] = index % dims[d];
        index /= dims[d];
    }
    size_t used = (size_t)snprintf(out, size, "[");
    for (int d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(out + used, size - used, "%s%zu", d ? ", " : "", position[d]);
    if (used < size)
        snprintf(out + used, size - used, "]");
}

void dg_report_not_implemented(dg_check_result *check, const char *function)
{
    check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
    dg_check_printf(check, "%s is not implemented yet (it returns NN_ERR_NOT_IMPLEMENTED)\n",
                    function);
}

/* ---- telling a mistake by its numbers ----------------------------------------
 * After a buffer fails, the judge tries the mistakes that could explain it:
 * the kernel's own (kernels.h), then assigning a gradient instead of adding
 * to it, then the constant factors any kernel can get wrong (the batch
 * size, the sign, a 2). Each candidate gives values for the whole buffer;
 * it is told ("looks like ...") only when every value of the answer is
 * within the compare tolerance of it, and it differs from the reference
 * somewhere by more than that tolerance: an answer that matches the
 * reference, or noise, is never told a mistake. The kernel's mistakes that
 * fit are told (each of them, should two give the same numbers on the
 * case); failing those, the first common one that fits. */

typedef enum candidate_form {
    FROM_BUFFERS,   /* an apply mistake's own buffers */
    SCALED,         /* the reference's output (for a gradient: its change) times factor */
    ASSIGNED        /* a gradient's change alone, as if it arrived holding zeros */
} candidate_form;

typedef struct candidate {
    candidate_form form;
    const dg_call_buffers *buffers;   /* FROM_BUFFERS */
    double factor;                    /* SCALED */
} candidate;

static double candidate_value(const candidate *c, const dg_call_buffers *expected, int i,
                              size_t k)
{
    if (c->form == FROM_BUFFERS)
        return dg_call_buffer_value(c->buffers, i, k);
    bool increments = expected->kernel->buffers[i].role == DG_BUFFER_ACCUMULATE;
    double base = increments ? dg_call_buffer_initial(expected, i, k) : 0.0;
    double change = dg_call_buffer_value(expected, i, k) - base;
    return c->form == ASSIGNED ? change : base + c->factor * change;
}

static bool within(double have, double want, double tolerance)
{
    return fabs(have - want) <= tolerance * fmax(1.0, fabs(want));   /* NaN: false */
}

/* Whether got's buffer i is candidate c's, which is not the reference's. */
static bool fits(const candidate *c, const dg_call_buffers *expected, const dg_call_buffers *got,
                 int i, double tolerance)
{
    /* A change needs what the buffer held before (the grader keeps it, the
     * fixtures carry it). */
    if (c->form != FROM_BUFFERS && expected->kernel->buffers[i].role == DG_BUFFER_ACCUMULATE
        && expected->initial[i] == NULL)
        return false;
    bool distinct = false;
    for (size_t k = 0; k < expected->counts[i]; k++) {
        double want = candidate_value(c, expected, i, k);
        if (!within(dg_call_buffer_value(got, i, k), want, tolerance))
            return false;
        distinct |= !within(want, dg_call_buffer_value(expected, i, k), tolerance);
    }
    return distinct;
}

/* The kernel's own mistakes; true when one was told. Two mistakes can give
 * the same numbers on a case (both of Adam's corrections are about 1 late
 * in training): then each that fits is named, none preferred. */
static bool tell_kernel_mistake(dg_check_result *check, const dg_kernel *kernel,
                                const dg_kernel_case *kc, const dg_call_buffers *expected,
                                const dg_call_buffers *got, int i, double tolerance)
{
    candidate fitting[DG_KERNEL_MAX_MISTAKES];
    int which[DG_KERNEL_MAX_MISTAKES], count = 0;
    for (int m = 0; m < kernel->mistake_count && m < DG_KERNEL_MAX_MISTAKES; m++) {
        const dg_mistake *mistake = &kernel->mistakes[m];
        candidate c = { .form = FROM_BUFFERS };
        if (mistake->factor != NULL) {
            c = (candidate){ .form = SCALED,
                             .factor = mistake->factor(i, kc->dims, kc->params) };
            if (c.factor == 1.0 || !isfinite(c.factor))
                continue;
        } else if (dg_call_buffers_has_mistake(expected, m)) {
            c.buffers = &expected->mistakes[m];
        } else {
            continue;
        }
        if (fits(&c, expected, got, i, tolerance)) {
            fitting[count] = c;
            which[count++] = m;
        }
    }
    if (count > 1)
        dg_check_printf(check, "  looks like one of these mistakes, which give the same "
                        "numbers here:\n");
    for (int f = 0; f < count; f++) {
        dg_check_printf(check, count > 1 ? "  - %s" : "  looks like %s",
                        kernel->mistakes[which[f]].what);
        if (fitting[f].form == SCALED)
            dg_check_printf(check, " (every value of %s is %.6g times the expected one)",
                            kernel->buffers[i].name, fitting[f].factor);
        dg_check_printf(check, "\n");
    }
    return count > 0;
}

/* Mistakes any kernel can make: = instead of +=, and constant factors. */
static bool tell_common_mistake(dg_check_result *check, const dg_kernel *kernel,
                                const dg_kernel_case *kc, const dg_call_buffers *expected,
                                const dg_call_buffers *got, int i, double tolerance)
{
    const char *name = kernel->buffers[i].name;
    candidate assigned = { .form = ASSIGNED };
    if (kernel->buffers[i].role == DG_BUFFER_ACCUMULATE
        && fits(&assigned, expected, got, i, tolerance)) {
        dg_check_printf(check, "  looks like %s was assigned (=) instead of added to (+=): %s "
                        "arrives holding values, and a backward pass must add its gradient to "
                        "them\n", name, name);
        return true;
    }
    int batch = 0;
    for (int d = 0; d < kernel->dim_count; d++)
        if (strcmp(kernel->dim_names[d], "N") == 0)
            batch = kc->dims[d];
    const double factors[] = { batch, batch > 0 ? 1.0 / batch : 0, -1, 2, 0.5 };
    for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++) {
        candidate scaled = { .form = SCALED, .factor = factors[f] };
        if ((f < 2 && batch < 2) || !fits(&scaled, expected, got, i, tolerance))
            continue;
        if (f == 0)
            dg_check_printf(check, "  looks like %s is not divided by the batch size (every "
                            "value is %d times the expected one)\n", name, batch);
        else if (f == 1)
            dg_check_printf(check, "  looks like %s is divided by the batch size once too "
                            "often (every value is 1/%d of the expected one)\n", name, batch);
        else if (f == 2)
            dg_check_printf(check, "  looks like the sign of %s is flipped\n", name);
        else
            dg_check_printf(check, "  looks like a factor of 2 is off: every value of %s is %g "
                            "times the expected one\n", name, factors[f]);
        return true;
    }
    return false;
}

/* No mistake fits: say what the numbers still show, with no "looks like":
 * a constant factor nobody named, and for a gradient the rule it may have
 * broken. */
static void describe_difference(dg_check_result *check, const dg_kernel *kernel,
                                const dg_call_buffers *expected, const dg_call_buffers *got,
                                int i, double tolerance)
{
    const char *name = kernel->buffers[i].name;
    bool increments = kernel->buffers[i].role == DG_BUFFER_ACCUMULATE;
    if (!increments || expected->initial[i] != NULL) {
        /* The least-squares factor between the changes, then whether it
         * fits every value. */
        double cross = 0, square = 0;
        for (size_t k = 0; k < expected->counts[i]; k++) {
            double base = increments ? dg_call_buffer_initial(expected, i, k) : 0.0;
            double want = dg_call_buffer_value(expected, i, k) - base;
            cross += want * (dg_call_buffer_value(got, i, k) - base);
            square += want * want;
        }
        candidate scaled = { .form = SCALED, .factor = square > 0 ? cross / square : 1 };
        if (fabs(scaled.factor) > 1e-12 && fabs(scaled.factor - 1) > 1e-6
            && fits(&scaled, expected, got, i, 10 * tolerance))
            dg_check_printf(check, "  every value of %s is %.6g times the expected one: a "
                            "constant factor is off\n", name, scaled.factor);
    }
    if (increments)
        dg_check_printf(check, "  (%s arrives holding values: a backward pass must add its "
                        "gradient to them, not overwrite them)\n", name);
}

static void diagnose(dg_check_result *check, const dg_kernel *kernel, const dg_kernel_case *kc,
                     const dg_call_buffers *expected, const dg_call_buffers *got, int i,
                     double tolerance)
{
    if (!tell_kernel_mistake(check, kernel, kc, expected, got, i, tolerance)
        && !tell_common_mistake(check, kernel, kc, expected, got, i, tolerance))
        describe_difference(check, kernel, expected, got, i, tolerance);
}

/* Compares one case; prints the first difference and what it looks like.
 * Returns whether it passed. */
static bool compare_case(dg_check_result *check, const dg_kernel *kernel, int case_index,
                         const dg_call_buffers *expected, const dg_call_buffers *got,
                         double tolerance, bool report)
{
    const dg_kernel_case *kc = &kernel->cases[case_index];
    for (int i = 0; i < kernel->buffer_count; i++) {
        if (!dg_buffer_is_result(kernel->buffers[i].role))
            continue;
        size_t bad = 0, first = 0;
        double worst = 0;
        for (size_t k = 0; k < expected->counts[i]; k++) {
            double want = dg_call_buffer_value(expected, i, k);
            double have = dg_call_buffer_value(got, i, k);
            double error = fabs(have - want) / fmax(1.0, fabs(want));
            if (!(error <= tolerance)) {   /* NaN fails too */
                if (bad++ == 0)
                    first = k;
                if (!(error <= worst))
                    worst = error;
            }
        }
        if (bad > 0 && !report)
            return false;
        if (bad > 0) {
            char where[96];
            dg_format_index(where, sizeof where, kernel, kc, i, first);
            double want = dg_call_buffer_value(expected, i, first);
            double have = dg_call_buffer_value(got, i, first);
            dg_check_printf(check, "%s: %s differs at %s: got %.6g, expected %.6g (error %.1e > "
                            "%.0e), %zu of %zu values wrong, in case %d (",
                            kernel->function, kernel->buffers[i].name, where, have, want,
                            fabs(have - want) / fmax(1.0, fabs(want)), tolerance, bad,
                            expected->counts[i], case_index + 1);
            for (int d = 0; d < kernel->dim_count; d++)
                dg_check_printf(check, "%s%s=%d", d ? ", " : "", kernel->dim_names[d],
                                kc->dims[d]);
            /* The settings too (p, training, learning_rate...): for dropout
             * or batch norm, the mode is what tells two cases apart. */
            for (int p = 0; p < kernel->param_count; p++)
                dg_check_printf(check, ", %s=%g", kernel->param_names[p], kc->params[p]);
            dg_check_printf(check, ")\n");
            if (!isfinite(have))
                dg_check_printf(check, "  (%s is not a number there: look for a division by "
                                "zero, the log of 0, or an exp that overflows)\n",
                                kernel->buffers[i].name);
            else
                diagnose(check, kernel, kc, expected, got, i, tolerance);
            return false;
        }
    }
    return true;
}

nn_status dg_judge_compare(dg_check_result *check, const dg_kernel *kernel,
                           const dg_call_buffers *expected, const void *response,
                           size_t response_size, double tolerance, nn_error *err)
{
    nn_status status = NN_OK;
    dg_reader reader;
    dg_reader_init(&reader, response, response_size);
    bool header = dg_get_u32(&reader) == DG_RESPONSE_MAGIC
                  && dg_get_u32(&reader) == (uint32_t)kernel->case_count;
    int passed = 0;
    bool not_implemented = false, wrote_input = false;
    for (int c = 0; header && c < kernel->case_count && !reader.failed; c++) {
        dg_call_buffers got;
        status = dg_call_buffers_new(&got, kernel, &kernel->cases[c], DG_JUDGE_MAX_ELEMENTS, err);
        if (status != NN_OK)
            break;
        int32_t code = dg_get_i32(&reader);
        for (int i = 0; i < kernel->buffer_count; i++)
            if (dg_buffer_is_result(kernel->buffers[i].role))
                dg_call_buffer_get(&reader, &got, i);
        if (reader.failed) {
            dg_call_buffers_release(&got);
            break;
        }
        bool wrote = code >= DG_STATUS_WROTE_INPUT
                     && code < DG_STATUS_WROTE_INPUT + kernel->buffer_count;
        if (code == NN_ERR_NOT_IMPLEMENTED) {
            not_implemented = true;
        } else if (wrote) {
            if (!wrote_input)   /* once is enough */
                dg_check_printf(check, "%s wrote into its input %s, a const argument, in case "
                                "%d; the caller still needs it\n", kernel->function,
                                kernel->buffers[code - DG_STATUS_WROTE_INPUT].name, c + 1);
            wrote_input = true;
        } else if (code != NN_OK) {
            dg_check_printf(check, "%s returned %s in case %d; the reference returns ok\n",
                            kernel->function,
                            code > 0 && code <= NN_ERR_NUMERIC ? nn_status_name(code)
                                                               : "an unknown status",
                            c + 1);
        } else if (compare_case(check, kernel, c, &expected[c], &got, tolerance,
                                passed == c)) {
            passed++;
        }
        dg_call_buffers_release(&got);
    }
    if (status == NN_OK) {
        if (response_size == 0) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "the runner exited without answering; does the code call "
                            "exit()?\n");
        } else if (!header || !dg_reader_done(&reader)) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "the runner's answer was malformed (%s); did the code "
                            "print on stdout, or write past the end of a buffer?\n",
                            header ? reader.problem : "bad header");
        } else if (not_implemented) {
            dg_report_not_implemented(check, kernel->function);
        } else if (passed == kernel->case_count) {
            check->outcome = DG_OUTCOME_PASSED;
            check->score = check->max_score;
            dg_check_printf(check, "%s agrees with the reference on %d cases (tolerance "
                            "%.0e)\n", kernel->function, passed, tolerance);
        } else {
            check->outcome = DG_OUTCOME_FAILED;
        }
    }
    return status;
}

/* The gradient buffer's name and the index formatted with the forward
 * input's shape. */
static void describe(char *out, size_t size, const dg_gradient_pair *pair,
                     const dg_kernel *forward, const dg_kernel *backward,
                     const dg_kernel_case *kc, const dg_coordinate *where)
{
    char index[96];
    const dg_buffer_link *link = &pair->links[where->link];
    dg_format_index(index, sizeof index, forward, kc, link->forward, where->index);
    snprintf(out, size, "%s at %s", backward->buffers[link->backward].name, index);
}

void dg_put_coordinates(dg_writer *writer, const dg_coordinate *const *coordinates,
                        const size_t *counts, int cases)
{
    dg_put_u32(writer, (uint32_t)cases);
    for (int c = 0; c < cases; c++) {
        dg_put_u64(writer, counts[c]);
        for (size_t k = 0; k < counts[c]; k++) {
            dg_put_u32(writer, coordinates[c][k].link);
            dg_put_u64(writer, coordinates[c][k].index);
            dg_put_u32(writer, coordinates[c][k].kink);
        }
    }
}

void dg_coordinates_free(dg_coordinate **coordinates, size_t *counts, int cases)
{
    for (int c = 0; coordinates != NULL && c < cases; c++)
        free(coordinates[c]);
    free(coordinates);
    free(counts);
}

/* Marks reader failed with a problem of its own (the reader's are about
 * bytes; these are about values). */
static bool damaged(dg_reader *reader, const char *problem, int case_index, size_t k)
{
    if (!reader->failed)
        snprintf(reader->problem, sizeof reader->problem, "%s (case %d, coordinate %zu)",
                 problem, case_index + 1, k + 1);
    reader->failed = true;
    return false;
}

bool dg_get_coordinates(dg_reader *reader, const dg_gradient_pair *pair,
                        dg_coordinate ***coordinates, size_t **counts, int *cases)
{
    *coordinates = NULL;
    *counts = NULL;
    *cases = 0;
    uint32_t count = dg_get_u32(reader);
    /* Each coordinate takes 16 bytes: a count beyond what is left is
     * damage, not a reason to allocate. */
    size_t left = reader->size - reader->offset;
    if (reader->failed || count > left / 8)
        return damaged(reader, "bad number of cases", 0, 0);
    dg_coordinate **lists = calloc((size_t)count + 1, sizeof *lists);
    size_t *sizes = calloc((size_t)count + 1, sizeof *sizes);
    bool ok = lists != NULL && sizes != NULL;
    if (!ok)
        damaged(reader, "out of memory", 0, 0);
    for (uint32_t c = 0; ok && c < count; c++) {
        uint64_t n = dg_get_u64(reader);
        if (reader->failed || n > (reader->size - reader->offset) / 16) {
            ok = damaged(reader, "bad number of coordinates", (int)c, 0);
            break;
        }
        sizes[c] = (size_t)n;
        lists[c] = calloc((size_t)n + 1, sizeof **lists);
        if (lists[c] == NULL) {
            ok = damaged(reader, "out of memory", (int)c, 0);
            break;
        }
        for (size_t k = 0; ok && k < n; k++) {
            dg_coordinate *where = &lists[c][k];
            where->link = dg_get_u32(reader);
            where->index = dg_get_u64(reader);
            where->kink = dg_get_u32(reader);
            if (reader->failed)
                ok = false;
            else if (where->link >= (uint32_t)pair->link_count)
                ok = damaged(reader, "link out of range", (int)c, k);
            else if (where->kink >= DG_KINK_KINDS)
                ok = damaged(reader, "unknown kink", (int)c, k);
        }
    }
    if (!ok) {
        dg_coordinates_free(lists, sizes, (int)count);
        return false;
    }
    *coordinates = lists;
    *counts = sizes;
    *cases = (int)count;
    return true;
}

void dg_describe_kink(char *out, size_t size, dg_kink kink, const dg_kernel *forward,
                      int buffer)
{
    const char *name = buffer >= 0 && buffer < forward->buffer_count
                           ? forward->buffers[buffer].name : "the input";
    switch (kink) {
    case DG_KINK_SIGN:
        snprintf(out, size, "%s crosses 0 inside the step", name);
        return;
    case DG_KINK_DIFFERENCE:
        snprintf(out, size, "%s - target changes sign inside the step", name);
        return;
    case DG_KINK_WINDOW_MAX:
        snprintf(out, size, "the max-pool choice switches inside the step");
        return;
    case DG_KINK_NONE:
    case DG_KINK_KINDS:
        break;
    }
    snprintf(out, size, "the forward switches branch inside the step");
}

/* Coordinates skipped at kinks, by link and kind, for the messages. */
typedef struct kink_tally {
    size_t total;
    size_t by[4][DG_KINK_KINDS];   /* [link][kind] */
} kink_tally;

/* "2 skipped: the max-pool choice switches inside the step", or with
 * several reasons "3 skipped: 2 where ..., 1 where ...". */
static void print_skipped(dg_check_result *check, const dg_gradient_pair *pair,
                          const dg_kernel *forward, const kink_tally *tally)
{
    int reasons = 0;
    for (int l = 0; l < pair->link_count && l < 4; l++)
        for (int k = 1; k < DG_KINK_KINDS; k++)
            reasons += tally->by[l][k] > 0;
    dg_check_printf(check, "%zu skipped:", tally->total);
    int printed = 0;
    for (int l = 0; l < pair->link_count && l < 4; l++)
        for (int k = 1; k < DG_KINK_KINDS; k++) {
            if (tally->by[l][k] == 0)
                continue;
            char what[160];
            dg_describe_kink(what, sizeof what, (dg_kink)k, forward, pair->links[l].forward);
            if (reasons == 1)
                dg_check_printf(check, " %s", what);
            else
                dg_check_printf(check, "%s %zu where %s", printed ? "," : "", tally->by[l][k],
                                what);
            printed++;
        }
}

/* The first gradient of a case left with fewer than half of its
 * coordinates to check, the rest being at kinks (case_index -1: none). */
typedef struct thin_gradient {
    int case_index, link;
    size_t asked, checked;
} thin_gradient;

void dg_judge_gradcheck(dg_check_result *check, const dg_gradient_pair *pair, int cases,
                        const dg_coordinate *const *coordinates, const size_t *counts,
                        const void *response, size_t response_size, double tolerance)
{
    const dg_kernel *forward = dg_kernel_find(pair->forward);
    const dg_kernel *backward = dg_kernel_find(pair->backward);
    dg_reader reader;
    dg_reader_init(&reader, response, response_size);
    bool header = dg_get_u32(&reader) == DG_RESPONSE_MAGIC
                  && dg_get_u32(&reader) == (uint32_t)cases;
    bool not_implemented = false, failed = false, all_zero = true;
    size_t checked = 0;
    kink_tally tally = { 0 };
    thin_gradient thin = { -1, 0, 0, 0 };
    for (int c = 0; header && c < cases && !reader.failed && !failed; c++) {
        int32_t forward_status = dg_get_i32(&reader);
        int32_t backward_status = dg_get_i32(&reader);
        size_t asked[4] = { 0 }, judged[4] = { 0 };
        for (size_t k = 0; k < counts[c]; k++) {
            const dg_coordinate *where = &coordinates[c][k];
            double analytic = dg_get_f64(&reader);
            double plus = dg_get_f64(&reader), minus = dg_get_f64(&reader);
            double step = dg_get_f64(&reader);
            if (reader.failed || forward_status != NN_OK || backward_status != NN_OK
                || failed)
                continue;
            char place[160];
            uint32_t l = where->link < 4 ? where->link : 3;
            asked[l]++;
            if (where->kink != DG_KINK_NONE && where->kink < DG_KINK_KINDS) {
                /* Central differences mean nothing here, but a gradient
                 * that is not a number is wrong on either side. */
                tally.total++;
                tally.by[l][where->kink]++;
                if (!isfinite(analytic)) {
                    describe(place, sizeof place, pair, forward, backward, &forward->cases[c],
                             where);
                    dg_check_printf(check, "%s: %s is not a number (%g), case %d\n",
                                    backward->function, place, analytic, c + 1);
                    failed = true;
                }
                continue;
            }
            double numeric = (plus - minus) / step;
            double scale = fmax(fmax(fabs(analytic), fabs(numeric)), GRADCHECK_FLOOR);
            double relative = fabs(analytic - numeric) / scale;
            checked++;
            judged[l]++;
            if (fabs(analytic) > GRADCHECK_FLOOR || fabs(numeric) > GRADCHECK_FLOOR)
                all_zero = false;
            if (!(relative <= tolerance) || !isfinite(step) || step <= 0) {
                describe(place, sizeof place, pair, forward, backward, &forward->cases[c],
                         where);
                dg_check_printf(check, "%s: %s fails the gradient check: analytic %.6g, "
                                "numeric %.6g (relative error %.1e > %.0e), case %d\n",
                                backward->function, place, analytic, numeric, relative,
                                tolerance, c + 1);
                failed = true;
            }
        }
        for (int l = 0; l < 4 && thin.case_index < 0; l++)
            if (2 * judged[l] < asked[l])
                thin = (thin_gradient){ c, l, asked[l], judged[l] };
        if (forward_status == NN_ERR_NOT_IMPLEMENTED || backward_status == NN_ERR_NOT_IMPLEMENTED)
            not_implemented = true;
        else if ((forward_status != NN_OK || backward_status != NN_OK) && !failed) {
            dg_check_printf(check, "%s returned an error status in case %d\n",
                            forward_status != NN_OK ? forward->function : backward->function,
                            c + 1);
            failed = true;
        }
    }
    if (response_size == 0) {
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "the runner exited without answering; does the code call "
                        "exit()?\n");
    } else if (!header || (!failed && !dg_reader_done(&reader))) {
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "the runner's answer was malformed (%s)\n",
                        header ? reader.problem : "bad header");
    } else if (not_implemented) {
        dg_report_not_implemented(check, failed ? backward->function : pair->forward);
    } else if (failed) {
        check->outcome = DG_OUTCOME_FAILED;
    } else if (thin.case_index >= 0) {
        /* Not the submission's doing: the inputs put too many coordinates
         * at kinks for a pass to mean anything. */
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "%s: the gradient check is inconclusive: in case %d only %zu "
                        "of %zu coordinates of %s could be checked (the checked ones agree); "
                        "the others sit at kinks of %s, where central differences mean "
                        "nothing. ", backward->function, thin.case_index + 1, thin.checked,
                        thin.asked, backward->buffers[pair->links[thin.link].backward].name,
                        forward->function);
        print_skipped(check, pair, forward, &tally);
        dg_check_printf(check, ". The grader's inputs are to blame, not your code\n");
    } else if (all_zero) {
        check->outcome = DG_OUTCOME_FAILED;
        dg_check_printf(check, "%s: the gradients are zero at all %zu checked coordinates, "
                        "and so are the numeric ones: nothing was checked\n",
                        backward->function, checked);
    } else {
        check->outcome = DG_OUTCOME_PASSED;
        check->score = check->max_score;
        if (tally.total == 0) {
            dg_check_printf(check, "%s passes the gradient check at %zu coordinates "
                            "(tolerance %.0e)\n", backward->function, checked, tolerance);
        } else {
            dg_check_printf(check, "%s passes the gradient check at %zu of %zu coordinates "
                            "(tolerance %.0e); ", backward->function, checked,
                            checked + tally.total, tolerance);
            print_skipped(check, pair, forward, &tally);
            dg_check_printf(check, " (a kink of %s: central differences mean nothing "
                            "there)\n", forward->function);
        }
    }
}

void dg_judge_accuracy(dg_check_result *check, double accuracy, double floor, double target,
                       const char *measured_on)
{
    double fraction = (accuracy - floor) / (target - floor);
    fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
    if (!(accuracy == accuracy))   /* NaN */
        fraction = 0;
    check->score = check->max_score * fraction;
    check->outcome = fraction >= 1 ? DG_OUTCOME_PASSED
                     : fraction > 0 ? DG_OUTCOME_PARTIAL
                                    : DG_OUTCOME_FAILED;
    if (fraction >= 1)
        dg_check_printf(check, "%s accuracy %.4f, at or above the target %.2f (%g of %g)\n",
                        measured_on, accuracy, target, check->score, check->max_score);
    else
        dg_check_printf(check, "%s accuracy %.4f, needed %.2f for full points and %.2f for any "
                        "(%.1f of %g)\n", measured_on, accuracy, target, floor, check->score,
                        check->max_score);
}
