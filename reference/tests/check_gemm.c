/*
 * check_gemm.c - nn_gemm and nn_matmul against a naive triple loop: every
 * transpose combination, non-square shapes, alpha and beta, and leading
 * dimensions wider than the row (products of submatrices).
 */
#include "nn/gemm.h"
#include "testutil.h"

/* Element (i, j) of op(X) for a row-major X stored with leading dimension ld. */
static double op_at(const nn_real *x, int ld, bool transpose, int i, int j)
{
    return transpose ? (double)x[(size_t)j * ld + i] : (double)x[(size_t)i * ld + j];
}

/* C = alpha op(A) op(B) + beta C in double, the definition in gemm.h. */
static void naive_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const nn_real *a,
                       int lda, const nn_real *b, int ldb, double beta, double *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += op_at(a, lda, ta, i, p) * op_at(b, ldb, tb, p, j);
            c[(size_t)i * ldc + j] = alpha * sum + beta * c[(size_t)i * ldc + j];
        }
}

/* Sums of k products of values in [-1, 1]: the float error grows with k. */
static double gemm_tolerance(int k)
{
    return TEST_TOLERANCE * (k > 10 ? k / 10.0 : 1.0);
}

typedef struct gemm_case {
    int m, n, k;
    double alpha, beta;
} gemm_case;

static const gemm_case cases[] = {
    { 1, 1, 1, 1.0, 0.0 },
    { 3, 5, 7, 1.0, 0.0 },
    { 7, 3, 5, 1.0, 0.0 },
    { 5, 7, 3, -0.5, 0.0 },
    { 16, 1, 9, 2.0, 0.0 },
    { 1, 16, 9, 1.0, 1.0 },
    { 13, 11, 17, 0.75, 1.0 },
    { 8, 8, 8, 1.0, -2.5 },
    { 33, 29, 65, 1.0, 0.5 },
};

/* Runs one case with leading dimensions padded by `pad` columns; the padding
 * holds a sentinel that must neither be read into C nor be overwritten. */
static void run_case(const gemm_case *tc, bool ta, bool tb, int pad, bool use_matmul,
                     nn_rng *rng)
{
    const int m = tc->m, n = tc->n, k = tc->k;
    /* Stored shapes: A is (M, K) or (K, M) when transposed; B is (K, N) or
     * (N, K); C is (M, N). */
    const int a_rows = ta ? k : m, a_cols = ta ? m : k;
    const int b_rows = tb ? n : k, b_cols = tb ? k : n;
    const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    const nn_real sentinel = (nn_real)1e6;

    size_t a_size = (size_t)a_rows * lda, b_size = (size_t)b_rows * ldb;
    size_t c_size = (size_t)m * ldc;
    nn_real *a = malloc(a_size * sizeof *a);
    nn_real *b = malloc(b_size * sizeof *b);
    nn_real *c = malloc(c_size * sizeof *c);
    double *expected = malloc(c_size * sizeof *expected);
    ck_assert(a && b && c && expected);
    for (size_t i = 0; i < a_size; i++)
        a[i] = (i % (size_t)lda) < (size_t)a_cols ? (nn_real)nn_rng_uniform_range(rng, -1, 1)
                                                   : sentinel;
    for (size_t i = 0; i < b_size; i++)
        b[i] = (i % (size_t)ldb) < (size_t)b_cols ? (nn_real)nn_rng_uniform_range(rng, -1, 1)
                                                   : sentinel;
    for (size_t i = 0; i < c_size; i++) {
        c[i] = (i % (size_t)ldc) < (size_t)n ? (nn_real)nn_rng_uniform_range(rng, -1, 1)
                                              : sentinel;
        expected[i] = c[i];
    }

    naive_gemm(ta, tb, m, n, k, tc->alpha, a, lda, b, ldb, tc->beta, expected, ldc);
    if (use_matmul)
        nn_matmul(ta, tb, m, n, k, (nn_real)tc->alpha, a, b, (nn_real)tc->beta, c);
    else
        nn_gemm(ta, tb, m, n, k, (nn_real)tc->alpha, a, lda, b, ldb, (nn_real)tc->beta, c,
                ldc);

    double tolerance = gemm_tolerance(k) * (1 + fabs(tc->alpha) + fabs(tc->beta));
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < ldc; j++) {
            size_t at = (size_t)i * ldc + j;
            if (j >= n) {
                ck_assert_msg(c[at] == sentinel,
                              "m=%d n=%d k=%d ta=%d tb=%d: padding C[%d][%d] was overwritten",
                              m, n, k, ta, tb, i, j);
                continue;
            }
            ck_assert_msg(fabs((double)c[at] - expected[at]) <= tolerance,
                          "m=%d n=%d k=%d ta=%d tb=%d pad=%d alpha=%g beta=%g: C[%d][%d] = "
                          "%.10g, expected %.10g",
                          m, n, k, ta, tb, pad, tc->alpha, tc->beta, i, j, (double)c[at],
                          expected[at]);
        }
    }
    free(a);
    free(b);
    free(c);
    free(expected);
}

START_TEST(gemm_matches_naive_product_for_every_transpose_combination)
{
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                run_case(&cases[i], ta, tb, 0, false, &rng);
}
END_TEST

START_TEST(matmul_matches_naive_product_for_every_transpose_combination)
{
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                run_case(&cases[i], ta, tb, 0, true, &rng);
}
END_TEST

START_TEST(gemm_honours_leading_dimensions_wider_than_the_row)
{
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int pad = 1; pad <= 3; pad += 2)
                    run_case(&cases[i], ta, tb, pad, false, &rng);
}
END_TEST

START_TEST(gemm_on_a_submatrix_of_a_larger_array)
{
    /* The middle 2x3 block of a 4x6 array (offset 1 row, 2 columns) times a
     * 3x2 matrix, into the top-left 2x2 of a 3x5 array. */
    nn_real big[4 * 6], b[3 * 2] = { 1, 2, 3, 4, 5, 6 }, c[3 * 5];
    for (int i = 0; i < 24; i++)
        big[i] = (nn_real)i;
    for (int i = 0; i < 15; i++)
        c[i] = (nn_real)-1;
    nn_gemm(false, false, 2, 2, 3, 1, big + 1 * 6 + 2, 6, b, 2, 0, c, 5);
    /* Rows of the block: (8, 9, 10) and (14, 15, 16). */
    ck_assert_real_near(c[0], 8 * 1 + 9 * 3 + 10 * 5, TEST_TOLERANCE);
    ck_assert_real_near(c[1], 8 * 2 + 9 * 4 + 10 * 6, TEST_TOLERANCE);
    ck_assert_real_near(c[5], 14 * 1 + 15 * 3 + 16 * 5, TEST_TOLERANCE);
    ck_assert_real_near(c[6], 14 * 2 + 15 * 4 + 16 * 6, TEST_TOLERANCE);
    for (int i = 0; i < 15; i++)
        if (i != 0 && i != 1 && i != 5 && i != 6)
            ck_assert(c[i] == (nn_real)-1);
}
END_TEST

START_TEST(gemm_with_beta_one_accumulates)
{
    /* Two products into the same buffer with beta = 1 add up, as backward
     * passes need: C = A1 B1 + A2 B2. */
    nn_rng rng;
    nn_rng_seed(&rng, 14);
    enum { M = 4, N = 6, K = 5 };
    nn_real a1[M * K], b1[K * N], a2[M * K], b2[K * N], c[M * N];
    double expected[M * N] = { 0 };
    test_fill_uniform(a1, M * K, &rng, -1, 1);
    test_fill_uniform(b1, K * N, &rng, -1, 1);
    test_fill_uniform(a2, M * K, &rng, -1, 1);
    test_fill_uniform(b2, K * N, &rng, -1, 1);
    for (int i = 0; i < M * N; i++)
        c[i] = 0;
    nn_matmul(false, false, M, N, K, 1, a1, b1, 1, c);
    nn_matmul(false, false, M, N, K, 1, a2, b2, 1, c);
    naive_gemm(false, false, M, N, K, 1, a1, K, b1, N, 1, expected, N);
    naive_gemm(false, false, M, N, K, 1, a2, K, b2, N, 1, expected, N);
    for (int i = 0; i < M * N; i++)
        ck_assert_real_near(c[i], expected[i], TEST_TOLERANCE);
}
END_TEST

START_TEST(gemm_with_beta_zero_ignores_what_c_held)
{
    /* BLAS semantics: beta = 0 overwrites C without reading it, so garbage
     * (even NaN) in an uninitialised output buffer does not leak through. */
    nn_real a[2 * 3] = { 1, 2, 3, 4, 5, 6 }, b[3 * 2] = { 1, 0, 0, 1, 1, 1 };
    nn_real c[2 * 2] = { (nn_real)NAN, (nn_real)INFINITY, (nn_real)NAN, (nn_real)-1e30 };
    nn_matmul(false, false, 2, 2, 3, 1, a, b, 0, c);
    ck_assert_real_near(c[0], 4, TEST_TOLERANCE);
    ck_assert_real_near(c[1], 5, TEST_TOLERANCE);
    ck_assert_real_near(c[2], 10, TEST_TOLERANCE);
    ck_assert_real_near(c[3], 11, TEST_TOLERANCE);
}
END_TEST

START_TEST(matmul_transposes_against_explicit_transposes)
{
    /* A^T B computed with the flag equals A' B with A' = A^T written out. */
    nn_rng rng;
    nn_rng_seed(&rng, 15);
    enum { M = 3, N = 4, K = 6 };
    nn_real a_t[K * M], a[M * K], b[K * N], with_flag[M * N], explicit_t[M * N];
    test_fill_uniform(a_t, K * M, &rng, -1, 1);
    test_fill_uniform(b, K * N, &rng, -1, 1);
    for (int i = 0; i < M; i++)
        for (int p = 0; p < K; p++)
            a[i * K + p] = a_t[p * M + i];
    nn_matmul(true, false, M, N, K, 1, a_t, b, 0, with_flag);
    nn_matmul(false, false, M, N, K, 1, a, b, 0, explicit_t);
    for (int i = 0; i < M * N; i++)
        ck_assert_real_near(with_flag[i], explicit_t[i], TEST_TOLERANCE);
}
END_TEST

Suite *gemm_suite(void);
Suite *gemm_suite(void)
{
    Suite *suite = suite_create("gemm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gemm_matches_naive_product_for_every_transpose_combination);
    tcase_add_test(tc, matmul_matches_naive_product_for_every_transpose_combination);
    tcase_add_test(tc, gemm_honours_leading_dimensions_wider_than_the_row);
    tcase_add_test(tc, gemm_on_a_submatrix_of_a_larger_array);
    tcase_add_test(tc, gemm_with_beta_one_accumulates);
    tcase_add_test(tc, gemm_with_beta_zero_ignores_what_c_held);
    tcase_add_test(tc, matmul_transposes_against_explicit_transposes);
    suite_add_tcase(suite, tc);
    return suite;
}
