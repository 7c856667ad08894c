/*
 * gemm.h - matrix products through OpenBLAS's CBLAS, for either precision.
 *
 * C = alpha * op(A) * op(B) + beta * C, all row-major; op transposes when the
 * matching flag is set. A is (M, K) after op, B is (K, N) after op, C is
 * (M, N). Leading dimensions are those of the stored (untransposed) arrays.
 * beta = 1 accumulates, which is what backward passes want.
 */
#ifndef NN_GEMM_H
#define NN_GEMM_H

#include "nn/core.h"

#include <stdbool.h>

void nn_gemm(bool transpose_a, bool transpose_b, int m, int n, int k,
             nn_real alpha, const nn_real *a, int lda, const nn_real *b, int ldb,
             nn_real beta, nn_real *c, int ldc);

/* The same product with contiguous arrays: lda, ldb, ldc follow from the
 * shapes. */
void nn_matmul(bool transpose_a, bool transpose_b, int m, int n, int k,
               nn_real alpha, const nn_real *a, const nn_real *b,
               nn_real beta, nn_real *c);

/* Limits OpenBLAS to `threads` threads (1 for reproducible timings). */
void nn_gemm_set_threads(int threads);

#endif
