/*
 * gemm.c - the single place where libnnref calls BLAS, so that the float and
 * double builds differ in one line each.
 */
#include "nn/gemm.h"

#include <cblas.h>

void nn_gemm(bool transpose_a, bool transpose_b, int m, int n, int k,
             nn_real alpha, const nn_real *a, int lda, const nn_real *b, int ldb,
             nn_real beta, nn_real *c, int ldc)
{
    enum CBLAS_TRANSPOSE op_a = transpose_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE op_b = transpose_b ? CblasTrans : CblasNoTrans;
#if NN_REAL_IS_DOUBLE
    cblas_dgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
    cblas_sgemm(CblasRowMajor, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

void nn_matmul(bool transpose_a, bool transpose_b, int m, int n, int k,
               nn_real alpha, const nn_real *a, const nn_real *b,
               nn_real beta, nn_real *c)
{
    int lda = transpose_a ? m : k;
    int ldb = transpose_b ? k : n;
    nn_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

void nn_gemm_set_threads(int threads)
{
    openblas_set_num_threads(threads);
}
