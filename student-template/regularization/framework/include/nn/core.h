/*
 * core.h - the scalar type, status codes and error record shared by every
 * module of libnnref.
 *
 * The same sources build twice: with NN_REAL_DOUBLE defined, nn_real is
 * double (gradient checks, grading); without it, float (training). Code that
 * must know the difference tests NN_REAL_IS_DOUBLE, never sizeof.
 *
 * Every function that can fail returns an nn_status and, when given a
 * non-NULL nn_error, fills it with a one-line message that says what went
 * wrong and where (file, offset, index or shape). Functions never exit().
 */
#ifndef NN_CORE_H
#define NN_CORE_H

#include <math.h>
#include <stddef.h>

#ifdef NN_REAL_DOUBLE
typedef double nn_real;
#define NN_REAL_IS_DOUBLE 1
#define NN_REAL_NAME "double"
#else
typedef float nn_real;
#define NN_REAL_IS_DOUBLE 0
#define NN_REAL_NAME "float"
#endif

/* Elementary functions in the build's precision, so that hot loops stay in
 * nn_real (and vectorise) instead of widening to double. */
static inline nn_real sqrt_real(nn_real x)
{
#if NN_REAL_IS_DOUBLE
    return sqrt(x);
#else
    return sqrtf(x);
#endif
}

static inline nn_real exp_real(nn_real x)
{
#if NN_REAL_IS_DOUBLE
    return exp(x);
#else
    return expf(x);
#endif
}

typedef enum nn_status {
    NN_OK = 0,
    NN_ERR_ARGUMENT,        /* a caller passed something out of range */
    NN_ERR_SHAPE,           /* tensor shapes do not fit together */
    NN_ERR_MEMORY,          /* an allocation failed */
    NN_ERR_IO,              /* a file could not be opened, read or written */
    NN_ERR_FORMAT,          /* a file's contents are malformed */
    NN_ERR_NOT_IMPLEMENTED, /* a student stub that has not been written yet */
    NN_ERR_NUMERIC          /* a NaN, an infinity or a failed check */
} nn_status;

#define NN_ERROR_MESSAGE_SIZE 512

typedef struct nn_error {
    nn_status status;
    char message[NN_ERROR_MESSAGE_SIZE];
} nn_error;

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so that callers can write `return nn_error_set(...)`. */
nn_status nn_error_set(nn_error *err, nn_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message with more context ("loading model.bin: ...") and
 * returns its status. With a NULL err there is no status to return and the
 * result is NN_OK: write `nn_error_prefix(err, ...); return status;`, not
 * `return nn_error_prefix(err, ...);`, where err may be NULL. */
nn_status nn_error_prefix(nn_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

void nn_error_clear(nn_error *err);

/* A short constant name for a status: "shape error", "I/O error"... */
const char *nn_status_name(nn_status status);

#endif
