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
 * (malloc'd) and counts[c] receive the coordinates asked for in case c. */
nn_status dg_build_gradcheck_request(dg_writer *request, dg_coordinate **coordinates,
                                     size_t *counts, const dg_check_config *config,
                                     unsigned long long seed, nn_error *err);

#endif
