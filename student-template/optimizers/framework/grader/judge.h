/*
 * judge.h - turning a runner's answer into an outcome, a score and the
 * messages a student reads. See judge.c.
 */
#ifndef DG_JUDGE_H
#define DG_JUDGE_H

#include "kernel_call.h"
#include "kernels.h"
#include "report.h"

#include <stdint.h>

/* Bound on the values of one call's buffers. */
#define DG_JUDGE_MAX_ELEMENTS (16u << 20)

/* A coordinate of a gradient check: which link of the pair, which value,
 * and whether the step around it crosses a kink of the forward (a dg_kink,
 * DG_KINK_NONE when not; decided by the grader, which knows the inputs,
 * and stored in the template's fixtures). */
typedef struct dg_coordinate {
    uint32_t link;
    uint64_t index;
    uint32_t kink;
} dg_coordinate;

/* Judges the answer to a compare request over kernel's cases; expected[c]
 * holds every buffer after the reference ran on case c, and, where kept,
 * what the gradients held before (initial) and what the kernel's mistakes
 * leave (mistakes; see kernel_call.h): with them a failure is told as the
 * mistake its numbers show. Sets the outcome, the score (all or nothing)
 * and the messages. An error return means the judge itself could not work
 * (memory). */
nn_status dg_judge_compare(dg_check_result *check, const dg_kernel *kernel,
                           const dg_call_buffers *expected, const void *response,
                           size_t response_size, double tolerance, nn_error *err);

/* Judges the answer to a gradient-check request whose case c asked for
 * counts[c] coordinates. Coordinates at a kink are skipped and counted,
 * never failed (unless their analytic value is not a number); when fewer
 * than half of a case's coordinates of one gradient are left to check,
 * the check is inconclusive (DG_OUTCOME_GRADER_ERROR) unless a checked
 * one fails. */
void dg_judge_gradcheck(dg_check_result *check, const dg_gradient_pair *pair, int cases,
                        const dg_coordinate *const *coordinates, const size_t *counts,
                        const void *response, size_t response_size, double tolerance);

/* The coordinates of a gradient check's cases as the template's fixtures
 * hold them (release.c writes, local_check.c reads): the case count, then
 * per case the count and each coordinate's link, index and kink. */
void dg_put_coordinates(dg_writer *writer, const dg_coordinate *const *coordinates,
                        const size_t *counts, int cases);
/* Reads them back for pair: *coordinates (cases arrays) and *counts are
 * malloc'd, released with dg_coordinates_free. On a damaged or truncated
 * record, or a link or kink out of range, sets reader->failed and its
 * problem and returns false with nothing allocated. */
bool dg_get_coordinates(dg_reader *reader, const dg_gradient_pair *pair,
                        dg_coordinate ***coordinates, size_t **counts, int *cases);
void dg_coordinates_free(dg_coordinate **coordinates, size_t *counts, int cases);

/* What happens at a coordinate with this kink, for a message: "x crosses
 * 0 inside the step". forward names the buffers. */
void dg_describe_kink(char *out, size_t size, dg_kink kink, const dg_kernel *forward,
                      int buffer);

/* Scores an accuracy between floor (0 points) and target (full points),
 * linearly: points * clamp((accuracy - floor) / (target - floor), 0, 1).
 * measured_on names the data: "test", "validation". */
void dg_judge_accuracy(dg_check_result *check, double accuracy, double floor, double target,
                       const char *measured_on);

/* "[2, 3]" for a flat index of a buffer whose shape reads "(O, I)". */
void dg_format_index(char *out, size_t size, const dg_kernel *kernel, const dg_kernel_case *kc,
                     int buffer, size_t index);
void dg_report_not_implemented(dg_check_result *check, const char *function);

#endif
