/*
 * kernel_call.h - buffers for one call of a table entry (kernels.h):
 * allocation by the entry's sizes, seeded filling by its fill rules, and
 * the call itself. Shared by the grader and the runner, so both sides fill
 * and lay out buffers the same way.
 */
#ifndef DG_KERNEL_CALL_H
#define DG_KERNEL_CALL_H

#include "kernels.h"
#include "protocol.h"

typedef struct dg_call_buffers {
    const dg_kernel *kernel;
    size_t counts[DG_KERNEL_MAX_BUFFERS];
    void *data[DG_KERNEL_MAX_BUFFERS];   /* nn_real, int or double by type */
    /* What ACCUMULATE buffers held before the call, when the caller kept
     * it (the grader's expected values do; NULL otherwise): it lets the
     * judge tell "assigned instead of added" from other mistakes. */
    void *initial[DG_KERNEL_MAX_BUFFERS];
    /* What each of the kernel's mistakes (kernels.h) leaves after the same
     * call, when the caller computed them (the grader, request.c) or read
     * them (the template, from its fixtures); NULL when none were kept.
     * mistakes[m] holds no data when mistake m has no `apply`, does not
     * apply to the case, or gives the reference's own numbers. */
    struct dg_call_buffers *mistakes;
} dg_call_buffers;

/* Allocates every buffer of kernel for the case; refuses sizes over
 * max_elements in total (a hostile request must not exhaust memory). */
nn_status dg_call_buffers_new(dg_call_buffers *buffers, const dg_kernel *kernel,
                              const dg_kernel_case *kernel_case, size_t max_elements,
                              nn_error *err);
void dg_call_buffers_release(dg_call_buffers *buffers);

/* Fills inputs, states and accumulators by their fill rules from rng, and
 * outputs with NaN (ints with INT_MIN), so that an output the function
 * never writes shows up. */
void dg_call_buffers_fill(dg_call_buffers *buffers, const dg_kernel_case *kernel_case,
                          nn_rng *rng);

/* Copies every buffer of source into destination (same kernel and case). */
void dg_call_buffers_copy(dg_call_buffers *destination, const dg_call_buffers *source);

/* Writes buffer i as a counted array; reads it back (count must match). */
void dg_call_buffer_put(dg_writer *writer, const dg_call_buffers *buffers, int i);
void dg_call_buffer_get(dg_reader *reader, dg_call_buffers *buffers, int i);

/* True for buffers whose contents the function produces (compared). */
bool dg_buffer_is_result(dg_buffer_role role);

/* Bytes held by buffer i. */
size_t dg_call_buffer_bytes(const dg_call_buffers *buffers, int i);

/* Keeps a copy of the ACCUMULATE buffers' current values (initial[]), and
 * reads one back (NaN when none was kept). */
void dg_call_buffers_keep_initial(dg_call_buffers *buffers);
double dg_call_buffer_initial(const dg_call_buffers *buffers, int i, size_t index);

/* Reads the value at index as a double, whatever the buffer's type. */
double dg_call_buffer_value(const dg_call_buffers *buffers, int i, size_t index);

/* Whether mistake m's buffers were kept (see `mistakes` above). */
bool dg_call_buffers_has_mistake(const dg_call_buffers *buffers, int m);

/* The expected values of one case as the student template's fixtures hold
 * them, for the judge to work there as in the grader: every result
 * buffer, the initial values of the ACCUMULATE buffers (a flag first),
 * then for each of the kernel's mistakes a flag and, if kept, its result
 * buffers (each a flag first: 0 when it is the reference's). get fills buffers made by dg_call_buffers_new for the case;
 * a damaged stream fails the reader (reader->failed). */
void dg_call_buffers_put_expected(dg_writer *writer, const dg_call_buffers *buffers);
nn_status dg_call_buffers_get_expected(dg_reader *reader, dg_call_buffers *buffers,
                                       const dg_kernel_case *kernel_case, nn_error *err);

#endif
