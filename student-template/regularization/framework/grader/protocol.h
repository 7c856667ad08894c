/*
 * protocol.h - the byte format between the grader and a runner.
 *
 * The grader writes one request to the runner's stdin and reads one
 * response from its stdout. Both are little-endian streams of tagged
 * fields, built and parsed here. The grader parses what an untrusted
 * process wrote, so every read is bounds-checked and every count is
 * compared with what the grader expects: a short, long or malformed
 * response is the submission's failure ("the runner's output was
 * malformed"), never a crash of the grader.
 *
 * Values travel as doubles whatever nn_real is, so float and double runners
 * speak the same protocol.
 */
#ifndef DG_PROTOCOL_H
#define DG_PROTOCOL_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_REQUEST_MAGIC 0x51524744u   /* "DGRQ" */
#define DG_RESPONSE_MAGIC 0x53524744u  /* "DGRS" */
#define DG_PROTOCOL_VERSION 1u

typedef enum dg_command {
    DG_COMMAND_CALL = 1,      /* call a function on given buffers, return outputs */
    DG_COMMAND_GRADCHECK = 2, /* return analytic gradients and perturbed losses */
    DG_COMMAND_TRAIN = 3      /* train a model spec, return test predictions */
} dg_command;

/* A call's status in a response is an nn_status, or this plus the index
 * of an input buffer (a const argument) that the function wrote into:
 * its outputs may be right, but a caller relying on its input is not. */
#define DG_STATUS_WROTE_INPUT 1000

/* A growable byte buffer for building messages. */
typedef struct dg_writer {
    unsigned char *data;
    size_t size, capacity;
    bool failed;              /* an allocation failed; everything after is dropped */
} dg_writer;

void dg_writer_init(dg_writer *writer);
void dg_writer_release(dg_writer *writer);
void dg_put_u32(dg_writer *writer, uint32_t value);
void dg_put_i32(dg_writer *writer, int32_t value);
void dg_put_u64(dg_writer *writer, uint64_t value);
void dg_put_f64(dg_writer *writer, double value);
void dg_put_string(dg_writer *writer, const char *text);
/* Raw bytes, no count (the reader knows how many to take). */
void dg_put_bytes(dg_writer *writer, const void *bytes, size_t count);
/* A count followed by that many values. */
void dg_put_reals(dg_writer *writer, const nn_real *values, size_t count);
void dg_put_doubles(dg_writer *writer, const double *values, size_t count);
void dg_put_ints(dg_writer *writer, const int *values, size_t count);

/* A cursor over received bytes. The first failure sticks: later reads
 * return zeros, and `problem` says what went wrong first and where. */
typedef struct dg_reader {
    const unsigned char *data;
    size_t size, offset;
    bool failed;
    char problem[160];
} dg_reader;

void dg_reader_init(dg_reader *reader, const void *data, size_t size);
uint32_t dg_get_u32(dg_reader *reader);
int32_t dg_get_i32(dg_reader *reader);
uint64_t dg_get_u64(dg_reader *reader);
double dg_get_f64(dg_reader *reader);
/* Copies a string of at most size - 1 bytes into buffer. */
void dg_get_string(dg_reader *reader, char *buffer, size_t size);
void dg_get_bytes(dg_reader *reader, void *bytes, size_t count);
/* Reads a count that must equal `expected`, then the values. */
void dg_get_reals(dg_reader *reader, nn_real *values, size_t expected);
void dg_get_doubles(dg_reader *reader, double *values, size_t expected);
void dg_get_ints(dg_reader *reader, int *values, size_t expected);
/* True when every byte was consumed and nothing failed. */
bool dg_reader_done(dg_reader *reader);

#endif
