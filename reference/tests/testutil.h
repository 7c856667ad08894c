/*
 * testutil.h - helpers shared by the Check suites: tolerances for the
 * precision under test, random fills, and scratch files.
 */
#ifndef NN_TESTUTIL_H
#define NN_TESTUTIL_H

#include "nn/core.h"
#include "nn/rng.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Agreement expected between two computations of the same value. */
#if NN_REAL_IS_DOUBLE
#define TEST_TOLERANCE 1e-10
#else
#define TEST_TOLERANCE 1e-4
#endif

#define ck_assert_real_near(got, expected, tolerance)                                   \
    do {                                                                               \
        double got_ = (double)(got), expected_ = (double)(expected);                  \
        double scale_ = fmax(1.0, fmax(fabs(got_), fabs(expected_)));                 \
        ck_assert_msg(fabs(got_ - expected_) <= (tolerance) * scale_,                  \
                      "%s = %.12g, expected %s = %.12g (tolerance %.1e)", #got, got_,  \
                      #expected, expected_, (double)(tolerance));                       \
    } while (0)

static inline void test_fill_uniform(nn_real *data, size_t count, nn_rng *rng,
                                     double low, double high)
{
    for (size_t i = 0; i < count; i++)
        data[i] = (nn_real)nn_rng_uniform_range(rng, low, high);
}

/* A fresh private directory for a test's files; the caller removes what it
 * creates and then the directory (test_remove_dir). */
static inline void test_make_temp_dir(char *path, size_t size)
{
    snprintf(path, size, "%s/dlgrade-test-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(path));
}

static inline void test_remove_dir(const char *path)
{
    char command[4200];
    snprintf(command, sizeof command, "rm -rf '%s'", path);
    ck_assert_int_eq(system(command), 0);
}

#endif
