/*
 * fixture.h - reading the reference values that reference/tests/fixtures/make_*.py
 * computed with PyTorch. Tests read the committed files; torch is never
 * needed to run them.
 *
 * Format (text, one fixture file per unit, reference/tests/fixtures/UNIT.txt):
 *
 *     # comment lines start with '#'
 *     tensor NAME RANK D0 D1 ...
 *     v0 v1 v2 ...            (prod(D) values, %.17g, any line breaks)
 *
 * A scalar has RANK 0 and one value.
 */
#ifndef NN_FIXTURE_H
#define NN_FIXTURE_H

#include "nn/core.h"
#include "nn/tensor.h"

typedef struct fixture_tensor {
    char name[64];
    nn_shape shape;
    size_t size;
    double *values;
} fixture_tensor;

typedef struct fixture_file {
    char path[512];
    size_t count;
    fixture_tensor *tensors;
} fixture_file;

/* Loads reference/tests/fixtures/<name>.txt; fails the current test with the
 * file, line and reason when it cannot. */
fixture_file *fixture_load(const char *name);
void fixture_free(fixture_file *file);

/* The tensor called name; fails the current test if there is none. */
const fixture_tensor *fixture_get(const fixture_file *file, const char *name);

/* Copies a fixture tensor into nn_real storage of the same size. */
void fixture_copy(nn_real *destination, const fixture_tensor *tensor);

/* Asserts that got (tensor->size values) agrees with the fixture to within
 * tolerance, relative to max(1, |expected|), naming the first differing
 * index. */
void fixture_assert_close(const nn_real *got, const fixture_tensor *expected, double tolerance);

#endif
