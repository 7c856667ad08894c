/*
 * idx.h - reading and writing IDX files (the MNIST container format),
 * gzip-compressed or plain.
 *
 * An IDX file is a header followed by the elements, row-major:
 *
 *     byte 0, 1    0x00 0x00
 *     byte 2       element type; 0x08 (unsigned byte) is the only one read
 *     byte 3       rank r, 1..NN_IDX_MAX_RANK here
 *     bytes 4..    r dimensions, 32-bit big-endian, outermost first
 *     then         prod(dims) elements, nothing after them
 *
 * The reader goes through zlib's gzopen/gzread, which takes gzip and plain
 * files alike. It trusts nothing in the file: every header field is checked,
 * the data must be exactly as long as the header says, and the compressed
 * stream is read to its end so that gzip's CRC-32 and length check runs.
 * Byte offsets in messages count bytes of the decompressed content.
 *
 * Errors: NN_ERR_IO when the file cannot be opened or read, NN_ERR_FORMAT
 * for anything wrong with its contents (including a corrupted gzip stream),
 * NN_ERR_MEMORY when the data does not fit in memory. Every message starts
 * with the file's path.
 */
#ifndef NN_IDX_H
#define NN_IDX_H

#include "nn/core.h"

#include <stdint.h>

#define NN_IDX_MAX_RANK 4
#define NN_IDX_TYPE_UBYTE 0x08
/* The reader refuses headers that declare more elements than this (2^31),
 * so that a damaged header cannot ask for an absurd amount of memory. */
#define NN_IDX_MAX_ELEMENTS ((size_t)1 << 31)

typedef struct nn_idx {
    int rank;                      /* 1..NN_IDX_MAX_RANK */
    size_t dims[NN_IDX_MAX_RANK];  /* dims[0] is the outermost; unused ones are 1 */
    size_t size;                   /* prod(dims), number of elements and bytes */
    unsigned char *data;           /* size elements, row-major, owned */
} nn_idx;

/* Reads the IDX file at path into a new nn_idx (*out, owned by the caller,
 * released with nn_idx_free). On failure *out is NULL. */
nn_status nn_idx_load(nn_idx **out, const char *path, nn_error *err);

/* Releases an nn_idx and its data; accepts NULL. */
void nn_idx_free(nn_idx *idx);

/* Writes rank dimensions and prod(dims) unsigned bytes as a gzip-compressed
 * IDX file (type 0x08). For tests and tools; replaces an existing file. */
nn_status nn_idx_save_gz(const char *path, int rank, const size_t *dims,
                         const unsigned char *data, nn_error *err);

/* The zlib CRC-32 of a file's decompressed content (the whole of it: header
 * and data for an IDX file) and that content's length in bytes. A plain file
 * is read as it is. A corrupted gzip stream is an NN_ERR_FORMAT error. */
nn_status nn_idx_content_crc32(const char *path, uint32_t *crc, size_t *length,
                               nn_error *err);

/* Checks files against a checksum list. Each line of the list is
 *
 *     CRC32  LENGTH  NAME
 *
 * (CRC32 eight hex digits, as nn_idx_content_crc32 computes it; LENGTH the
 * decompressed length in bytes; NAME a file in directory). Blank lines and
 * lines starting with '#' are ignored. Fails on the first file that is
 * missing or differs, naming it, the list's line, and both values. */
nn_status nn_idx_verify_checksums(const char *directory, const char *list_path,
                                  nn_error *err);

#endif
