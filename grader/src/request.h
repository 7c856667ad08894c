/*
 * request.h - building the requests of compare and gradcheck checks.
 */
#ifndef DG_REQUEST_H
#define DG_REQUEST_H

#include "config.h"
#include "judge.h"
#include "kernel_call.h"
#include "protocol.h"

/* The compare request of check config, its inputs drawn from seed. When
 * expected is not NULL (one per case of the kernel), each is filled with
 * every buffer after the implementation linked into this program ran on
 * the same inputs: the reference, in the grader. */
nn_status dg_build_compare_request(dg_writer *request, dg_call_buffers *expected,
                                   const dg_check_config *config, unsigned long long seed,
                                   nn_error *err);

/* The gradcheck request; when coordinates is not NULL, coordinates[c]
 * (malloc'd) and counts[c] receive the coordinates asked for in case c,
 * each with the kink its step crosses (see dg_gradcheck_kink). */
nn_status dg_build_gradcheck_request(dg_writer *request, dg_coordinate **coordinates,
                                     size_t *counts, const dg_check_config *config,
                                     unsigned long long seed, nn_error *err);

/* Changes the forward's inputs of case case_index after they were drawn
 * and before anything is taken from them. */
typedef void (*dg_adjust_inputs)(dg_call_buffers *forward, int case_index, void *context);

/* The same request with the inputs changed by adjust (when not NULL):
 * for tests that need inputs at kinks, which seeded draws never give. */
nn_status dg_build_gradcheck_request_adjusted(dg_writer *request, dg_coordinate **coordinates,
                                              size_t *counts, const dg_check_config *config,
                                              unsigned long long seed,
                                              dg_adjust_inputs adjust, void *context,
                                              nn_error *err);

/* The kink of pair's forward that the central difference at where, over
 * [x - step, x + step], crosses on the forward inputs given; DG_KINK_NONE
 * when the step stays on one linear piece (or the link has no kinks). */
dg_kink dg_gradcheck_kink(const dg_gradient_pair *pair, const dg_call_buffers *forward,
                          const dg_kernel_case *kc, const dg_coordinate *where, double step);

#endif
