/*
 * check_kernels.c - the kernel table (grader/src/kernels.c) against the
 * reference library it is linked with here.
 *
 * The table is the grader's only knowledge of a student function's
 * signature, so these tests check it the ways a mistake in it would show:
 *   - every student function of the fully-connected units has exactly one
 *     entry, whose buffers are those of the signature, in order (the list
 *     below is copied from the headers by hand, independently of the table);
 *   - every entry is well formed and every case gives nonzero sizes;
 *   - calling an entry on buffers filled by its rules succeeds, overwrites
 *     every OUTPUT, adds into every ACCUMULATE and leaves INPUTs alone;
 *   - every parameter changes what a call writes, and the adaptors pass
 *     buffers, sizes and parameters as their names say (compared with the
 *     kernels called directly, arguments looked up by name);
 *   - every gradient pair, driven by the table alone (fills, forward, shares,
 *     upstream r, backward), gives gradients that agree with central
 *     differences of L through the forward; and a pair wired wrongly fails.
 * The gradient checks run in the double build only: in float the step
 * (1e-2) straddles the kinks of ReLU-like functions and of |p - t| often
 * enough to fail correct code, and the grader checks gradients in double.
 */
#include "kernels.h"
#include "nn/gradcheck.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "../../reference/tests/testutil.h"

#include <limits.h>
#include <stdint.h>

/* ---- the signatures, copied from layers.h, loss.h and optim.h ------------- */

typedef struct signature {
    const char *function;
    int pointers;  /* data pointers the function takes (not config, rng, err) */
    const char *names[DG_KERNEL_MAX_BUFFERS];
} signature;

static const signature signatures[] = {
    { "nn_linear_forward", 4, { "out", "x", "weight", "bias" } },
    { "nn_linear_backward", 6, { "dx", "dweight", "dbias", "dout", "x", "weight" } },
    { "nn_relu_forward", 2, { "out", "x" } },
    { "nn_relu_backward", 3, { "dx", "dout", "x" } },
    { "nn_leaky_relu_forward", 2, { "out", "x" } },
    { "nn_leaky_relu_backward", 3, { "dx", "dout", "x" } },
    { "nn_prelu_forward", 3, { "out", "x", "slope" } },
    { "nn_prelu_backward", 5, { "dx", "dslope", "dout", "x", "slope" } },
    { "nn_sigmoid_forward", 2, { "out", "x" } },
    { "nn_sigmoid_backward", 3, { "dx", "dout", "out" } },
    { "nn_tanh_forward", 2, { "out", "x" } },
    { "nn_tanh_backward", 3, { "dx", "dout", "out" } },
    { "nn_softmax_forward", 2, { "out", "x" } },
    { "nn_softmax_backward", 3, { "dx", "dout", "out" } },
    { "nn_dropout_forward", 3, { "out", "mask", "x" } },
    { "nn_dropout_backward", 3, { "dx", "dout", "mask" } },
    { "nn_batchnorm_forward", 8,
      { "out", "saved_mean", "saved_inv_std", "x", "gamma", "beta", "running_mean",
        "running_var" } },
    { "nn_batchnorm_backward", 8,
      { "dx", "dgamma", "dbeta", "dout", "x", "saved_mean", "saved_inv_std", "gamma" } },
    { "nn_flatten_forward", 2, { "out", "x" } },
    { "nn_flatten_backward", 2, { "dx", "dout" } },
    { "nn_l1_loss_forward", 3, { "loss", "prediction", "target" } },
    { "nn_l1_loss_backward", 3, { "dprediction", "prediction", "target" } },
    { "nn_mse_loss_forward", 3, { "loss", "prediction", "target" } },
    { "nn_mse_loss_backward", 3, { "dprediction", "prediction", "target" } },
    { "nn_bce_loss_forward", 3, { "loss", "probability", "target" } },
    { "nn_bce_loss_backward", 3, { "dprobability", "probability", "target" } },
    { "nn_bce_with_logits_loss_forward", 3, { "loss", "logits", "target" } },
    { "nn_bce_with_logits_loss_backward", 3, { "dlogits", "logits", "target" } },
    { "nn_softmax_cross_entropy_forward", 4, { "loss", "probabilities", "logits", "labels" } },
    { "nn_softmax_cross_entropy_backward", 3, { "dlogits", "probabilities", "labels" } },
    { "nn_sgd_step", 3, { "weights", "velocity", "grad" } },
    { "nn_rmsprop_step", 3, { "weights", "square_average", "grad" } },
    { "nn_adam_step", 4, { "weights", "first_moment", "second_moment", "grad" } },
    { "nn_l2_penalty_forward", 2, { "loss", "weights" } },
    { "nn_l2_penalty_backward", 2, { "dweights", "weights" } },
    { "nn_conv2d_forward", 5, { "out", "columns", "x", "weight", "bias" } },
    { "nn_conv2d_backward", 7, { "dx", "dweight", "dbias", "columns", "dout", "x", "weight" } },
    { "nn_max_pool2d_forward", 3, { "out", "argmax", "x" } },
    { "nn_max_pool2d_backward", 3, { "dx", "dout", "argmax" } },
};

#define SIGNATURE_COUNT (sizeof signatures / sizeof signatures[0])

/* ---- buffers filled by the table's rules ------------------------------------ */

typedef struct kernel_buffers {
    const dg_kernel *kernel;
    int dims[DG_KERNEL_MAX_DIMS];
    double params[DG_KERNEL_MAX_PARAMS];
    size_t counts[DG_KERNEL_MAX_BUFFERS];
    void *data[DG_KERNEL_MAX_BUFFERS];
} kernel_buffers;

static size_t type_size(dg_buffer_type type)
{
    switch (type) {
    case DG_BUFFER_REAL:
        return sizeof(nn_real);
    case DG_BUFFER_INT:
        return sizeof(int);
    case DG_BUFFER_DOUBLE:
        return sizeof(double);
    }
    ck_abort_msg("unknown buffer type %d", (int)type);
    return 0;
}

static double get_value(const kernel_buffers *b, int i, size_t at)
{
    switch (b->kernel->buffers[i].type) {
    case DG_BUFFER_REAL:
        return ((const nn_real *)b->data[i])[at];
    case DG_BUFFER_INT:
        return ((const int *)b->data[i])[at];
    case DG_BUFFER_DOUBLE:
        return ((const double *)b->data[i])[at];
    }
    return NAN;
}

static void set_value(kernel_buffers *b, int i, size_t at, double value)
{
    switch (b->kernel->buffers[i].type) {
    case DG_BUFFER_REAL:
        ((nn_real *)b->data[i])[at] = (nn_real)value;
        break;
    case DG_BUFFER_INT:
        ((int *)b->data[i])[at] = (int)value;
        break;
    case DG_BUFFER_DOUBLE:
        ((double *)b->data[i])[at] = value;
        break;
    }
}

static size_t buffer_bytes(const kernel_buffers *b, int i)
{
    return b->counts[i] * type_size(b->kernel->buffers[i].type);
}

static void buffers_alloc(kernel_buffers *b, const dg_kernel *k, const int *dims,
                          const double *params)
{
    memset(b, 0, sizeof *b);
    b->kernel = k;
    memcpy(b->dims, dims, sizeof b->dims);
    memcpy(b->params, params, sizeof b->params);
    k->sizes(b->counts, b->dims, b->params);
    for (int i = 0; i < k->buffer_count; i++) {
        ck_assert_msg(b->counts[i] > 0, "%s: buffer %s has no values", k->function,
                      k->buffers[i].name);
        b->data[i] = malloc(buffer_bytes(b, i));
        ck_assert_ptr_nonnull(b->data[i]);
    }
}

static void buffers_free(kernel_buffers *b)
{
    for (int i = 0; i < DG_KERNEL_MAX_BUFFERS; i++)
        free(b->data[i]);
}

/* One value drawn by a buffer's fill rule (kernels.h). */
static double fill_value(const kernel_buffers *b, int i, nn_rng *rng)
{
    const dg_buffer_spec *spec = &b->kernel->buffers[i];
    switch (spec->fill) {
    case DG_FILL_NORMAL:
        return nn_rng_normal(rng);
    case DG_FILL_UNIFORM:
        return nn_rng_uniform_range(rng, -1, 1);
    case DG_FILL_PROBABILITY:
        return nn_rng_uniform_range(rng, 0.05, 0.95);
    case DG_FILL_BINARY:
        return (double)nn_rng_below(rng, 2);
    case DG_FILL_POSITIVE:
        return nn_rng_uniform_range(rng, 0.5, 1.5);
    case DG_FILL_LABELS:
        return (double)nn_rng_below(rng, (uint64_t)b->dims[spec->fill_dim]);
    case DG_FILL_DROPOUT_MASK: {
        double p = b->params[spec->fill_dim];
        return nn_rng_uniform(rng) < p ? 0.0 : 1.0 / (1.0 - p);
    }
    case DG_FILL_ZERO:
        return 0.0;
    case DG_FILL_QUANTISED:   /* a case's input_fill, never a buffer's own */
        break;
    }
    ck_abort_msg("unknown fill %d", (int)spec->fill);
    return 0;
}

static void fill_by_rule(kernel_buffers *b, int i, nn_rng *rng)
{
    for (size_t at = 0; at < b->counts[i]; at++)
        set_value(b, i, at, fill_value(b, i, rng));
}

/* NaN where the type has one; an int output gets INT_MIN. */
static void fill_poison(kernel_buffers *b, int i)
{
    for (size_t at = 0; at < b->counts[i]; at++) {
        if (b->kernel->buffers[i].type == DG_BUFFER_INT)
            ((int *)b->data[i])[at] = INT_MIN;
        else
            set_value(b, i, at, NAN);
    }
}

static bool is_poison(const kernel_buffers *b, int i, size_t at)
{
    if (b->kernel->buffers[i].type == DG_BUFFER_INT)
        return ((const int *)b->data[i])[at] == INT_MIN;
    return isnan(get_value(b, i, at));
}

static int buffer_index(const dg_kernel *k, const char *name)
{
    for (int i = 0; i < k->buffer_count; i++)
        if (strcmp(k->buffers[i].name, name) == 0)
            return i;
    return -1;
}

static int param_index(const dg_kernel *k, const char *name)
{
    for (int i = 0; i < k->param_count; i++)
        if (strcmp(k->param_names[i], name) == 0)
            return i;
    return -1;
}

static int dim_index(const dg_kernel *k, const char *name)
{
    for (int i = 0; i < k->dim_count; i++)
        if (strcmp(k->dim_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- the table against the signatures --------------------------------------- */

START_TEST(every_student_function_has_one_entry_matching_its_signature)
{
    const signature *s = &signatures[_i];
    const dg_kernel *k = dg_kernel_find(s->function);
    ck_assert_msg(k != NULL, "%s has no entry in the kernel table", s->function);
    ck_assert_msg(k->buffer_count == s->pointers, "%s: %d buffers in the table, %d pointers",
                  s->function, k->buffer_count, s->pointers);
    for (int i = 0; i < s->pointers; i++)
        ck_assert_msg(strcmp(k->buffers[i].name, s->names[i]) == 0,
                      "%s: buffer %d is %s in the table, %s in the signature", s->function, i,
                      k->buffers[i].name, s->names[i]);
    int entries = 0;
    for (size_t j = 0; j < dg_kernel_count; j++)
        entries += strcmp(dg_kernels[j].function, s->function) == 0;
    ck_assert_msg(entries == 1, "%s has %d entries", s->function, entries);
}
END_TEST

START_TEST(the_table_has_no_entry_beyond_the_signatures)
{
    ck_assert_uint_eq(dg_kernel_count, SIGNATURE_COUNT);
}
END_TEST

static void assert_unique_names(const char *function, const char *what,
                                const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        ck_assert_msg(names[i] != NULL && names[i][0] != '\0', "%s: %s %d has no name",
                      function, what, i);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(names[i], names[j]) != 0, "%s: two %ss named %s", function,
                          what, names[i]);
    }
}

START_TEST(entries_are_well_formed)
{
    const dg_kernel *k = &dg_kernels[_i];
    ck_assert_ptr_nonnull(k->function);
    ck_assert_ptr_nonnull(k->unit);
    /* The unit is the file the function lives in: nn_<unit>_<verb>. */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "nn_%s_", k->unit);
    ck_assert_msg(strncmp(k->function, prefix, strlen(prefix)) == 0, "%s is not in unit %s",
                  k->function, k->unit);
    ck_assert(k->dim_count >= 1 && k->dim_count <= DG_KERNEL_MAX_DIMS);
    ck_assert(k->param_count >= 0 && k->param_count <= DG_KERNEL_MAX_PARAMS);
    ck_assert(k->buffer_count >= 1 && k->buffer_count <= DG_KERNEL_MAX_BUFFERS);
    ck_assert_ptr_nonnull(k->sizes);
    ck_assert_ptr_nonnull(k->call);
    assert_unique_names(k->function, "dim", k->dim_names, k->dim_count);
    assert_unique_names(k->function, "param", k->param_names, k->param_count);
    const char *buffer_names[DG_KERNEL_MAX_BUFFERS];
    bool writes = false;
    for (int i = 0; i < k->buffer_count; i++) {
        const dg_buffer_spec *b = &k->buffers[i];
        buffer_names[i] = b->name;
        ck_assert_msg(b->shape != NULL && b->shape[0] == '(', "%s: %s has no shape",
                      k->function, b->name);
        writes |= b->role != DG_BUFFER_INPUT;
        if (b->fill == DG_FILL_LABELS)
            ck_assert_msg(b->fill_dim >= 0 && b->fill_dim < k->dim_count,
                          "%s: %s bounds its labels by a missing dim", k->function, b->name);
        if (b->fill == DG_FILL_DROPOUT_MASK)
            ck_assert_msg(b->fill_dim >= 0 && b->fill_dim < k->param_count,
                          "%s: %s takes p from a missing param", k->function, b->name);
        if (b->type == DG_BUFFER_INT)
            ck_assert_msg(b->role == DG_BUFFER_OUTPUT || b->fill == DG_FILL_LABELS,
                          "%s: int input %s is not filled with labels", k->function, b->name);
    }
    ck_assert_msg(writes, "%s writes no buffer", k->function);
    assert_unique_names(k->function, "buffer", buffer_names, k->buffer_count);

    /* Two sizes at least (a small one to read, a realistic one). */
    ck_assert_msg(k->case_count >= 2, "%s has %d cases", k->function, k->case_count);
    for (int c = 0; c < k->case_count; c++) {
        const dg_kernel_case *kc = &k->cases[c];
        for (int d = 0; d < DG_KERNEL_MAX_DIMS; d++)
            ck_assert_msg(d < k->dim_count ? kc->dims[d] > 0 : kc->dims[d] == 0,
                          "%s case %d: dim %d is %d", k->function, c, d, kc->dims[d]);
        for (int p = k->param_count; p < DG_KERNEL_MAX_PARAMS; p++)
            ck_assert_msg(kc->params[p] == 0, "%s case %d sets unnamed param %d", k->function,
                          c, p);
        size_t counts[DG_KERNEL_MAX_BUFFERS] = { 0 };
        k->sizes(counts, kc->dims, kc->params);
        for (int i = 0; i < k->buffer_count; i++) {
            ck_assert_msg(counts[i] > 0, "%s case %d: %s has no values", k->function, c,
                          k->buffers[i].name);
            if (k->buffers[i].type == DG_BUFFER_DOUBLE)
                ck_assert_msg(counts[i] == 1, "%s: double %s is not a scalar", k->function,
                              k->buffers[i].name);
        }
        for (int i = k->buffer_count; i < DG_KERNEL_MAX_BUFFERS; i++)
            ck_assert_msg(counts[i] == 0, "%s: sizes writes past its buffers", k->function);
    }
}
END_TEST

START_TEST(kernel_find_returns_the_named_entry_or_null)
{
    for (size_t i = 0; i < dg_kernel_count; i++)
        ck_assert_ptr_eq(dg_kernel_find(dg_kernels[i].function), &dg_kernels[i]);
    ck_assert_ptr_null(dg_kernel_find("nn_no_such_forward"));
    ck_assert_ptr_null(dg_kernel_find("nn_relu"));  /* a prefix is not a name */
    ck_assert_ptr_null(dg_kernel_find(""));
}
END_TEST

/* ---- calling through the table ------------------------------------------------ */

START_TEST(calls_through_the_table_write_outputs_and_add_into_gradients)
{
    const dg_kernel *k = &dg_kernels[_i];
    for (int c = 0; c < k->case_count; c++) {
        nn_rng rng;
        nn_rng_seed(&rng, 1000 + 17 * (uint64_t)_i + (uint64_t)c);
        kernel_buffers b;
        void *before[DG_KERNEL_MAX_BUFFERS] = { 0 };
        buffers_alloc(&b, k, k->cases[c].dims, k->cases[c].params);
        for (int i = 0; i < k->buffer_count; i++) {
            if (k->buffers[i].role == DG_BUFFER_OUTPUT
                || k->buffers[i].role == DG_BUFFER_WORKSPACE)
                fill_poison(&b, i);
            else
                fill_by_rule(&b, i, &rng);
            before[i] = malloc(buffer_bytes(&b, i));
            ck_assert_ptr_nonnull(before[i]);
            memcpy(before[i], b.data[i], buffer_bytes(&b, i));
        }

        nn_rng draws;
        nn_rng_seed(&draws, 7);
        nn_status status = k->call(b.data, b.dims, b.params, &draws);
        ck_assert_msg(status == NN_OK, "%s case %d: %s", k->function, c,
                      nn_status_name(status));

        for (int i = 0; i < k->buffer_count; i++) {
            const dg_buffer_spec *spec = &k->buffers[i];
            /* Counted first and asserted once: Check records every
             * assertion, which would dominate the run inside this loop. */
            size_t changed = 0, unwritten = 0, not_finite = 0, first_bad = SIZE_MAX;
            for (size_t at = 0; at < b.counts[i]; at++) {
                bool bad_output = spec->role == DG_BUFFER_OUTPUT && is_poison(&b, i, at);
                bool bad_value = spec->role != DG_BUFFER_WORKSPACE
                                 && !isfinite(get_value(&b, i, at));
                unwritten += bad_output;
                not_finite += bad_value;
                if ((bad_output || bad_value) && first_bad == SIZE_MAX)
                    first_bad = at;
                changed += memcmp((char *)before[i] + at * type_size(spec->type),
                                  (char *)b.data[i] + at * type_size(spec->type),
                                  type_size(spec->type))
                           != 0;
            }
            ck_assert_msg(unwritten == 0, "%s case %d: %zu values of %s not written, first [%zu]",
                          k->function, c, unwritten, spec->name, first_bad);
            if (not_finite != 0)
                ck_abort_msg("%s case %d: %s[%zu] = %g, not finite", k->function, c, spec->name,
                             first_bad, get_value(&b, i, first_bad));
            if (spec->role == DG_BUFFER_INPUT)
                ck_assert_msg(changed == 0, "%s case %d: input %s was written", k->function, c,
                              spec->name);
            if (spec->role == DG_BUFFER_ACCUMULATE)
                ck_assert_msg(changed > 0, "%s case %d: nothing added into %s", k->function, c,
                              spec->name);
            free(before[i]);
        }
        buffers_free(&b);
    }
}
END_TEST

/* ---- parameters and sizes reach the kernel under their names ---------------
 * Every parameter matters: changed (a 0/1 flag flipped, any other value
 * moved to 0.5 v + 0.05, which keeps p, betas and decays valid), it changes
 * what the call writes in at least one case, with the same seed for fills. */

static double moved(double value)
{
    return value == 0 || value == 1 ? 1 - value : 0.5 * value + 0.05;
}

/* Fills by the rules (outputs poisoned) from seed and calls the entry. */
static void filled_call(kernel_buffers *b, const dg_kernel *k, const int *dims,
                        const double *params, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    buffers_alloc(b, k, dims, params);
    for (int i = 0; i < k->buffer_count; i++) {
        if (k->buffers[i].role == DG_BUFFER_OUTPUT || k->buffers[i].role == DG_BUFFER_WORKSPACE)
            fill_poison(b, i);
        else
            fill_by_rule(b, i, &rng);
    }
    nn_rng draws;
    nn_rng_seed(&draws, seed + 1);
    ck_assert_int_eq(k->call(b->data, b->dims, b->params, &draws), NN_OK);
}

static bool same_contents(const kernel_buffers *a, const kernel_buffers *b)
{
    for (int i = 0; i < a->kernel->buffer_count; i++) {
        if (a->kernel->buffers[i].role == DG_BUFFER_WORKSPACE)
            continue;
        if (a->counts[i] != b->counts[i] || memcmp(a->data[i], b->data[i], buffer_bytes(a, i)))
            return false;
    }
    return true;
}

START_TEST(every_parameter_changes_what_the_call_writes)
{
    const dg_kernel *k = &dg_kernels[_i];
    for (int p = 0; p < k->param_count; p++) {
        bool changes = false;
        for (int c = 0; c < k->case_count && !changes; c++) {
            double params[DG_KERNEL_MAX_PARAMS];
            memcpy(params, k->cases[c].params, sizeof params);
            kernel_buffers plain, other;
            filled_call(&plain, k, k->cases[c].dims, params, 77 + (uint64_t)c);
            params[p] = moved(params[p]);
            filled_call(&other, k, k->cases[c].dims, params, 77 + (uint64_t)c);
            changes = !same_contents(&plain, &other);
            buffers_free(&plain);
            buffers_free(&other);
        }
        ck_assert_msg(changes, "%s: param %s changes nothing in any case", k->function,
                      k->param_names[p]);
    }
}
END_TEST

/* The same kernels called directly, their arguments looked up by name in
 * the entry (buffers, dims, params): a call adaptor that passes arguments
 * in another order than the names say disagrees with these. */

static void *buffer_named(const kernel_buffers *b, const char *name)
{
    int i = buffer_index(b->kernel, name);
    ck_assert_msg(i >= 0, "%s has no buffer %s", b->kernel->function, name);
    return b->data[i];
}

static int dim_named(const kernel_buffers *b, const char *name)
{
    int i = dim_index(b->kernel, name);
    ck_assert_msg(i >= 0, "%s has no dim %s", b->kernel->function, name);
    return b->dims[i];
}

static double param_named(const kernel_buffers *b, const char *name)
{
    int i = param_index(b->kernel, name);
    ck_assert_msg(i >= 0, "%s has no param %s", b->kernel->function, name);
    return b->params[i];
}

#define BUF(name) buffer_named(b, name)
#define DIM(name) dim_named(b, name)
#define PARAM(name) param_named(b, name)

static nn_status direct_call(kernel_buffers *b, nn_rng *rng)
{
    const char *f = b->kernel->function;
    if (strcmp(f, "nn_linear_forward") == 0)
        return nn_linear_forward(BUF("out"), BUF("x"), BUF("weight"), BUF("bias"), DIM("N"),
                                 DIM("I"), DIM("O"));
    if (strcmp(f, "nn_linear_backward") == 0)
        return nn_linear_backward(BUF("dx"), BUF("dweight"), BUF("dbias"), BUF("dout"), BUF("x"),
                                  BUF("weight"), DIM("N"), DIM("I"), DIM("O"));
    if (strcmp(f, "nn_prelu_forward") == 0)
        return nn_prelu_forward(BUF("out"), BUF("x"), BUF("slope"), DIM("N"), DIM("C"),
                                DIM("S"));
    if (strcmp(f, "nn_prelu_backward") == 0)
        return nn_prelu_backward(BUF("dx"), BUF("dslope"), BUF("dout"), BUF("x"), BUF("slope"),
                                 DIM("N"), DIM("C"), DIM("S"));
    if (strcmp(f, "nn_softmax_forward") == 0)
        return nn_softmax_forward(BUF("out"), BUF("x"), DIM("N"), DIM("K"));
    if (strcmp(f, "nn_softmax_backward") == 0)
        return nn_softmax_backward(BUF("dx"), BUF("dout"), BUF("out"), DIM("N"), DIM("K"));
    if (strcmp(f, "nn_dropout_forward") == 0)
        return nn_dropout_forward(BUF("out"), BUF("mask"), BUF("x"), (size_t)DIM("count"),
                                  (nn_real)PARAM("drop_probability"), PARAM("training") != 0,
                                  rng);
    if (strcmp(f, "nn_batchnorm_forward") == 0) {
        nn_batchnorm_config config = {
            .momentum = (nn_real)PARAM("momentum"),
            .epsilon = (nn_real)PARAM("epsilon"),
            .training = PARAM("training") != 0,
        };
        return nn_batchnorm_forward(BUF("out"), BUF("saved_mean"), BUF("saved_inv_std"),
                                    BUF("x"), BUF("gamma"), BUF("beta"), BUF("running_mean"),
                                    BUF("running_var"), DIM("N"), DIM("C"), DIM("S"), &config);
    }
    if (strcmp(f, "nn_batchnorm_backward") == 0) {
        /* momentum and epsilon (any values) are not the backward's to read */
        nn_batchnorm_config config = {
            .momentum = (nn_real)0.7, .epsilon = (nn_real)0.3,
            .training = PARAM("training") != 0,
        };
        return nn_batchnorm_backward(BUF("dx"), BUF("dgamma"), BUF("dbeta"), BUF("dout"),
                                     BUF("x"), BUF("saved_mean"), BUF("saved_inv_std"),
                                     BUF("gamma"), DIM("N"), DIM("C"), DIM("S"), &config);
    }
    if (strcmp(f, "nn_softmax_cross_entropy_forward") == 0)
        return nn_softmax_cross_entropy_forward(BUF("loss"), BUF("probabilities"), BUF("logits"),
                                                BUF("labels"), DIM("N"), DIM("C"), DIM("S"),
                                                NULL);
    if (strcmp(f, "nn_softmax_cross_entropy_backward") == 0)
        return nn_softmax_cross_entropy_backward(BUF("dlogits"), BUF("probabilities"),
                                                 BUF("labels"), DIM("N"), DIM("C"), DIM("S"),
                                                 (nn_real)PARAM("scale"));
    if (strcmp(f, "nn_sgd_step") == 0) {
        nn_sgd_config config = {
            .learning_rate = PARAM("learning_rate"),
            .momentum = PARAM("momentum"),
            .nesterov = PARAM("nesterov") != 0,
            .weight_decay = PARAM("weight_decay"),
        };
        return nn_sgd_step(BUF("weights"), BUF("velocity"), BUF("grad"), (size_t)DIM("count"),
                           &config);
    }
    if (strcmp(f, "nn_rmsprop_step") == 0) {
        nn_rmsprop_config config = {
            .learning_rate = PARAM("learning_rate"),
            .decay = PARAM("decay"),
            .epsilon = PARAM("epsilon"),
            .weight_decay = PARAM("weight_decay"),
        };
        return nn_rmsprop_step(BUF("weights"), BUF("square_average"), BUF("grad"),
                               (size_t)DIM("count"), &config);
    }
    if (strcmp(f, "nn_adam_step") == 0) {
        nn_adam_config config = {
            .learning_rate = PARAM("learning_rate"),
            .beta1 = PARAM("beta1"),
            .beta2 = PARAM("beta2"),
            .epsilon = PARAM("epsilon"),
            .weight_decay = PARAM("weight_decay"),
            .decoupled = PARAM("decoupled") != 0,
            .bias_correction = PARAM("bias_correction") != 0,
        };
        return nn_adam_step(BUF("weights"), BUF("first_moment"), BUF("second_moment"),
                            BUF("grad"), (size_t)DIM("count"), (long)DIM("step"), &config);
    }
    ck_abort_msg("no direct call for %s", f);
    return NN_ERR_ARGUMENT;
}

/* The entries with more than one size or parameter of a kind, where an
 * adaptor could swap two; the others take one of each at most. */
static const char *const named_call_functions[] = {
    "nn_linear_forward", "nn_linear_backward", "nn_prelu_forward", "nn_prelu_backward",
    "nn_softmax_forward", "nn_softmax_backward", "nn_dropout_forward", "nn_batchnorm_forward",
    "nn_batchnorm_backward", "nn_softmax_cross_entropy_forward",
    "nn_softmax_cross_entropy_backward", "nn_sgd_step", "nn_rmsprop_step", "nn_adam_step",
};

START_TEST(calls_pass_buffers_sizes_and_parameters_as_named)
{
    const dg_kernel *k = dg_kernel_find(named_call_functions[_i]);
    ck_assert_ptr_nonnull(k);
    for (int c = 0; c < k->case_count; c++) {
        kernel_buffers table, direct;
        filled_call(&table, k, k->cases[c].dims, k->cases[c].params, 500 + (uint64_t)c);
        /* The same fills, then the direct call with the entry's rng seed. */
        nn_rng rng;
        nn_rng_seed(&rng, 500 + (uint64_t)c);
        buffers_alloc(&direct, k, k->cases[c].dims, k->cases[c].params);
        for (int i = 0; i < k->buffer_count; i++) {
            if (k->buffers[i].role == DG_BUFFER_OUTPUT || k->buffers[i].role == DG_BUFFER_WORKSPACE)
                fill_poison(&direct, i);
            else
                fill_by_rule(&direct, i, &rng);
        }
        nn_rng draws;
        nn_rng_seed(&draws, 500 + (uint64_t)c + 1);
        ck_assert_int_eq(direct_call(&direct, &draws), NN_OK);
        ck_assert_msg(same_contents(&table, &direct),
                      "%s case %d: the table's call differs from the call by names",
                      k->function, c);
        buffers_free(&table);
        buffers_free(&direct);
    }
}
END_TEST

/* ---- gradient pairs: structure ----------------------------------------------- */

/* The backward's sizes and parameters for one forward case, by name (the
 * convention at the end of kernels.c): a loss's scale is 1. */
static void backward_case(int *dims, double *params, const dg_kernel *fk, const dg_kernel *bk,
                          const dg_kernel_case *forward_case)
{
    memset(dims, 0, sizeof(int) * DG_KERNEL_MAX_DIMS);
    memset(params, 0, sizeof(double) * DG_KERNEL_MAX_PARAMS);
    for (int d = 0; d < bk->dim_count; d++) {
        int from = dim_index(fk, bk->dim_names[d]);
        ck_assert_msg(from >= 0, "%s: dim %s is not the forward's", bk->function,
                      bk->dim_names[d]);
        dims[d] = forward_case->dims[from];
    }
    for (int p = 0; p < bk->param_count; p++) {
        int from = param_index(fk, bk->param_names[p]);
        if (from < 0)
            ck_assert_msg(strcmp(bk->param_names[p], "scale") == 0,
                          "%s: param %s is neither the forward's nor a loss scale",
                          bk->function, bk->param_names[p]);
        params[p] = from >= 0 ? forward_case->params[from] : 1.0;
    }
}

START_TEST(gradient_pairs_are_well_formed)
{
    const dg_gradient_pair *pair = &dg_gradient_pairs[_i];
    const dg_kernel *fk = dg_kernel_find(pair->forward);
    const dg_kernel *bk = dg_kernel_find(pair->backward);
    ck_assert_msg(fk != NULL && bk != NULL, "pair %s/%s names a missing kernel", pair->forward,
                  pair->backward);
    ck_assert_str_eq(fk->unit, bk->unit);

    ck_assert(pair->forward_output >= 0 && pair->forward_output < fk->buffer_count);
    const dg_buffer_spec *output = &fk->buffers[pair->forward_output];
    ck_assert_msg(output->role == DG_BUFFER_OUTPUT || output->role == DG_BUFFER_ACCUMULATE,
                  "%s: L comes from %s, which the forward does not write", pair->forward,
                  output->name);
    if (pair->backward_upstream < 0) {
        ck_assert_msg(output->type == DG_BUFFER_DOUBLE, "%s: a loss pair needs a scalar L",
                      pair->forward);
    } else {
        ck_assert(pair->backward_upstream < bk->buffer_count);
        ck_assert_int_eq(output->type, DG_BUFFER_REAL);
        ck_assert_int_eq(bk->buffers[pair->backward_upstream].role, DG_BUFFER_INPUT);
        ck_assert_int_eq(bk->buffers[pair->backward_upstream].type, DG_BUFFER_REAL);
    }

    /* Every gradient the backward adds into is checked, once. */
    int linked[DG_KERNEL_MAX_BUFFERS] = { 0 }, shared[DG_KERNEL_MAX_BUFFERS] = { 0 };
    ck_assert(pair->link_count >= 1 && pair->link_count <= 4);
    for (int l = 0; l < pair->link_count; l++) {
        dg_buffer_link link = pair->links[l];
        ck_assert(link.backward >= 0 && link.backward < bk->buffer_count);
        ck_assert(link.forward >= 0 && link.forward < fk->buffer_count);
        ck_assert_int_eq(bk->buffers[link.backward].role, DG_BUFFER_ACCUMULATE);
        ck_assert_int_eq(bk->buffers[link.backward].type, DG_BUFFER_REAL);
        ck_assert_int_eq(fk->buffers[link.forward].role, DG_BUFFER_INPUT);
        ck_assert_int_eq(fk->buffers[link.forward].type, DG_BUFFER_REAL);
        linked[link.backward]++;
    }
    /* Every other input of the backward is the upstream r or the forward's. */
    ck_assert(pair->share_count >= 0 && pair->share_count <= 8);
    for (int s = 0; s < pair->share_count; s++) {
        dg_buffer_link share = pair->shares[s];
        ck_assert(share.backward >= 0 && share.backward < bk->buffer_count);
        ck_assert(share.forward >= 0 && share.forward < fk->buffer_count);
        ck_assert_int_eq(bk->buffers[share.backward].role, DG_BUFFER_INPUT);
        ck_assert_int_eq(bk->buffers[share.backward].type, fk->buffers[share.forward].type);
        ck_assert_msg(share.backward != pair->backward_upstream, "%s: r is also shared",
                      pair->backward);
        shared[share.backward]++;
    }
    for (int i = 0; i < bk->buffer_count; i++) {
        const dg_buffer_spec *b = &bk->buffers[i];
        if (b->role == DG_BUFFER_ACCUMULATE)
            ck_assert_msg(linked[i] == 1, "%s: %s is linked %d times", bk->function, b->name,
                          linked[i]);
        if (b->role == DG_BUFFER_INPUT && i != pair->backward_upstream)
            ck_assert_msg(shared[i] == 1, "%s: input %s is shared %d times", bk->function,
                          b->name, shared[i]);
    }

    /* In every case the linked and shared buffers have the same lengths. */
    for (int c = 0; c < fk->case_count; c++) {
        int dims[DG_KERNEL_MAX_DIMS];
        double params[DG_KERNEL_MAX_PARAMS];
        backward_case(dims, params, fk, bk, &fk->cases[c]);
        size_t fcounts[DG_KERNEL_MAX_BUFFERS] = { 0 }, bcounts[DG_KERNEL_MAX_BUFFERS] = { 0 };
        fk->sizes(fcounts, fk->cases[c].dims, fk->cases[c].params);
        bk->sizes(bcounts, dims, params);
        for (int l = 0; l < pair->link_count; l++)
            ck_assert_uint_eq(bcounts[pair->links[l].backward], fcounts[pair->links[l].forward]);
        for (int s = 0; s < pair->share_count; s++)
            ck_assert_uint_eq(bcounts[pair->shares[s].backward],
                              fcounts[pair->shares[s].forward]);
        if (pair->backward_upstream >= 0)
            ck_assert_uint_eq(bcounts[pair->backward_upstream], fcounts[pair->forward_output]);
    }
}
END_TEST

START_TEST(every_layer_and_loss_has_a_gradient_pair)
{
    /* Every forward of the table, each with its own backward; the
     * optimizer steps (nn_*_step) have no gradient to check. */
    const dg_kernel *k = &dg_kernels[_i];
    const char *suffix = "_forward";
    size_t length = strlen(k->function), suffix_length = strlen(suffix);
    if (length < suffix_length || strcmp(k->function + length - suffix_length, suffix) != 0)
        return;
    const dg_gradient_pair *pair = dg_gradient_pair_find(k->function);
    ck_assert_msg(pair != NULL, "%s has no gradient pair", k->function);
    ck_assert_str_eq(pair->forward, k->function);
    char backward[128];
    snprintf(backward, sizeof backward, "%.*s_backward", (int)(length - suffix_length),
             k->function);
    ck_assert_str_eq(pair->backward, backward);
}
END_TEST

START_TEST(gradient_pair_find_returns_the_pair_by_either_function)
{
    for (size_t i = 0; i < dg_gradient_pair_count; i++) {
        ck_assert_ptr_eq(dg_gradient_pair_find(dg_gradient_pairs[i].forward),
                         &dg_gradient_pairs[i]);
        ck_assert_ptr_eq(dg_gradient_pair_find(dg_gradient_pairs[i].backward),
                         &dg_gradient_pairs[i]);
    }
    ck_assert_ptr_null(dg_gradient_pair_find("nn_adam_step"));
    ck_assert_ptr_null(dg_gradient_pair_find("nn_no_such_backward"));
    ck_assert_ptr_null(dg_gradient_pair_find(""));
}
END_TEST

/* ---- gradient pairs: central differences through the table ----------------- */

#if NN_REAL_IS_DOUBLE /* see the top of the file */


/* One forward case of a pair, set up from the table alone. */
typedef struct pair_run {
    const dg_gradient_pair *pair;
    kernel_buffers forward, backward;
    void *initial[DG_KERNEL_MAX_BUFFERS];  /* the forward's STATE before any call */
    nn_real *r;                            /* upstream gradient; NULL for losses */
    nn_rng draws;                          /* given to every forward call */
    nn_status last_status;
} pair_run;

/* L at the current forward inputs: state restored and accumulators zeroed
 * first, so each rerun differs from the first only by the perturbation. */
static double pair_loss(void *context)
{
    pair_run *run = context;
    kernel_buffers *f = &run->forward;
    const dg_kernel *k = f->kernel;
    for (int i = 0; i < k->buffer_count; i++) {
        if (k->buffers[i].role == DG_BUFFER_STATE)
            memcpy(f->data[i], run->initial[i], buffer_bytes(f, i));
        if (k->buffers[i].role == DG_BUFFER_ACCUMULATE)
            memset(f->data[i], 0, buffer_bytes(f, i));
    }
    run->last_status = k->call(f->data, f->dims, f->params, &run->draws);
    if (run->last_status != NN_OK)
        return NAN;
    int o = run->pair->forward_output;
    if (run->r == NULL)
        return get_value(f, o, 0);
    double loss = 0;
    const nn_real *out = f->data[o];
    for (size_t at = 0; at < f->counts[o]; at++)
        loss += (double)out[at] * (double)run->r[at];
    return loss;
}

static void pair_run_setup(pair_run *run, const dg_gradient_pair *pair, int which, nn_rng *rng)
{
    const dg_kernel *fk = dg_kernel_find(pair->forward);
    const dg_kernel *bk = dg_kernel_find(pair->backward);
    ck_assert(fk != NULL && bk != NULL);
    memset(run, 0, sizeof *run);
    run->pair = pair;
    nn_rng_seed(&run->draws, 99);

    kernel_buffers *f = &run->forward;
    buffers_alloc(f, fk, fk->cases[which].dims, fk->cases[which].params);
    for (int i = 0; i < fk->buffer_count; i++) {
        switch (fk->buffers[i].role) {
        case DG_BUFFER_INPUT:
        case DG_BUFFER_STATE:
            fill_by_rule(f, i, rng);
            break;
        case DG_BUFFER_ACCUMULATE:
            memset(f->data[i], 0, buffer_bytes(f, i));
            break;
        case DG_BUFFER_OUTPUT:
        case DG_BUFFER_WORKSPACE:
            fill_poison(f, i);
            break;
        }
        if (fk->buffers[i].role == DG_BUFFER_STATE) {
            run->initial[i] = malloc(buffer_bytes(f, i));
            ck_assert_ptr_nonnull(run->initial[i]);
            memcpy(run->initial[i], f->data[i], buffer_bytes(f, i));
        }
    }
    if (pair->backward_upstream >= 0) {
        size_t count = f->counts[pair->forward_output];
        run->r = malloc(count * sizeof *run->r);
        ck_assert_ptr_nonnull(run->r);
        for (size_t at = 0; at < count; at++)
            run->r[at] = (nn_real)nn_rng_normal(rng);
    }
    ck_assert(isfinite(pair_loss(run)));
    ck_assert_int_eq(run->last_status, NN_OK);

    int dims[DG_KERNEL_MAX_DIMS];
    double params[DG_KERNEL_MAX_PARAMS];
    backward_case(dims, params, fk, bk, &fk->cases[which]);
    kernel_buffers *b = &run->backward;
    buffers_alloc(b, bk, dims, params);
    for (int i = 0; i < bk->buffer_count; i++) {
        if (bk->buffers[i].role == DG_BUFFER_ACCUMULATE)
            memset(b->data[i], 0, buffer_bytes(b, i));
        else if (bk->buffers[i].role == DG_BUFFER_INPUT)
            fill_by_rule(b, i, rng);  /* replaced below by r or a share */
        else
            fill_poison(b, i);
    }
    if (pair->backward_upstream >= 0)
        memcpy(b->data[pair->backward_upstream], run->r, buffer_bytes(b, pair->backward_upstream));
    for (int s = 0; s < pair->share_count; s++)
        memcpy(b->data[pair->shares[s].backward], f->data[pair->shares[s].forward],
               buffer_bytes(b, pair->shares[s].backward));
    nn_rng unused;
    nn_rng_seed(&unused, 5);
    ck_assert_int_eq(bk->call(b->data, b->dims, b->params, &unused), NN_OK);
}

static void pair_run_free(pair_run *run)
{
    buffers_free(&run->forward);
    buffers_free(&run->backward);
    for (int i = 0; i < DG_KERNEL_MAX_BUFFERS; i++)
        free(run->initial[i]);
    free(run->r);
}

/* Checks every link of one forward case; true when all pass, else message
 * says which failed. Sampling 64 coordinates a gradient is plenty to catch
 * wiring: a wrong share or link is wrong nearly everywhere. */
static bool pair_passes(const dg_gradient_pair *pair, int which, char *message, size_t size)
{
    nn_rng rng;
    nn_rng_seed(&rng, 4242 + (uint64_t)which);
    pair_run run;
    pair_run_setup(&run, pair, which, &rng);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 64;
    bool passed = true;
    for (int l = 0; l < pair->link_count && passed; l++) {
        int fi = pair->links[l].forward, bi = pair->links[l].backward;
        nn_gradcheck_result result;
        nn_error err = { 0 };
        nn_status status = nn_gradcheck(&result, run.forward.data[fi], run.backward.data[bi],
                                        run.forward.counts[fi], pair_loss, &run, &config, &rng,
                                        &err);
        ck_assert_msg(status == NN_OK, "%s case %d, %s: %s", pair->backward, which,
                      run.backward.kernel->buffers[bi].name, err.message);
        if (!result.passed) {
            char line[512];
            snprintf(message, size, "%s case %d: %s", pair->backward, which,
                     nn_gradcheck_describe(line, sizeof line,
                                           run.backward.kernel->buffers[bi].name, NULL,
                                           &result, &config));
            passed = false;
        }
    }
    pair_run_free(&run);
    return passed;
}

START_TEST(gradient_pairs_pass_gradcheck_through_the_table)
{
    const dg_gradient_pair *pair = &dg_gradient_pairs[_i];
    const dg_kernel *fk = dg_kernel_find(pair->forward);
    ck_assert_ptr_nonnull(fk);
    for (int c = 0; c < fk->case_count; c++) {
        char message[600] = "";
        ck_assert_msg(pair_passes(pair, c, message, sizeof message), "%s", message);
    }
}
END_TEST

START_TEST(gradcheck_through_the_table_catches_a_wrongly_wired_pair)
{
    /* sigmoid's backward given x where it needs the forward's output. */
    dg_gradient_pair sigmoid = *dg_gradient_pair_find("nn_sigmoid_backward");
    ck_assert_int_eq(sigmoid.shares[0].forward, 0);
    sigmoid.shares[0].forward = 1;
    char message[600];
    ck_assert(!pair_passes(&sigmoid, 1, message, sizeof message));

    /* batchnorm's saved mean and 1/std swapped, in training (case 0). */
    dg_gradient_pair batchnorm = *dg_gradient_pair_find("nn_batchnorm_backward");
    const dg_kernel *bk = dg_kernel_find("nn_batchnorm_backward");
    const dg_kernel *fk = dg_kernel_find("nn_batchnorm_forward");
    ck_assert(fk->cases[0].params[param_index(fk, "training")] != 0);
    int swapped = 0;
    for (int s = 0; s < batchnorm.share_count; s++) {
        if (batchnorm.shares[s].backward == buffer_index(bk, "saved_mean"))
            batchnorm.shares[s].backward = buffer_index(bk, "saved_inv_std"), swapped++;
        else if (batchnorm.shares[s].backward == buffer_index(bk, "saved_inv_std"))
            batchnorm.shares[s].backward = buffer_index(bk, "saved_mean"), swapped++;
    }
    ck_assert_int_eq(swapped, 2);
    ck_assert(!pair_passes(&batchnorm, 0, message, sizeof message));
}
END_TEST

#endif

Suite *kernels_suite(void);
Suite *kernels_suite(void)
{
    Suite *suite = suite_create("kernels");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_student_function_has_one_entry_matching_its_signature, 0,
                        (int)SIGNATURE_COUNT);
    tcase_add_test(tc, the_table_has_no_entry_beyond_the_signatures);
    tcase_add_loop_test(tc, entries_are_well_formed, 0, (int)dg_kernel_count);
    tcase_add_test(tc, kernel_find_returns_the_named_entry_or_null);
    tcase_add_loop_test(tc, calls_through_the_table_write_outputs_and_add_into_gradients, 0,
                        (int)dg_kernel_count);
    tcase_add_loop_test(tc, every_parameter_changes_what_the_call_writes, 0,
                        (int)dg_kernel_count);
    tcase_add_loop_test(tc, calls_pass_buffers_sizes_and_parameters_as_named, 0,
                        (int)(sizeof named_call_functions / sizeof named_call_functions[0]));
    tcase_add_loop_test(tc, gradient_pairs_are_well_formed, 0, (int)dg_gradient_pair_count);
    tcase_add_loop_test(tc, every_layer_and_loss_has_a_gradient_pair, 0, (int)dg_kernel_count);
    tcase_add_test(tc, gradient_pair_find_returns_the_pair_by_either_function);
#if NN_REAL_IS_DOUBLE
    tcase_add_loop_test(tc, gradient_pairs_pass_gradcheck_through_the_table, 0,
                        (int)dg_gradient_pair_count);
    tcase_add_test(tc, gradcheck_through_the_table_catches_a_wrongly_wired_pair);
#endif
    suite_add_tcase(suite, tc);
    return suite;
}
