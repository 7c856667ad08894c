/*
 * idx.c - IDX files through zlib: a strict reader, a gzip writer, and the
 * checksum of a file's decompressed content.
 *
 * Reading is one gzread of the whole data into one buffer (zlib inflates
 * straight into it when the request is larger than its own buffer), so a
 * 47 MB Fashion-MNIST image file costs one inflate pass and no copies.
 * The data buffer starts at no more than FIRST_CHUNK bytes and doubles as
 * the data arrives: a header that promises gigabytes on a short file gets
 * a "truncated" message, not a huge allocation.
 *
 * zlib's gzread stops early without an error at a truncated gzip stream;
 * gzerror then reports Z_BUF_ERROR ("unexpected end of file"). Every short
 * read below therefore asks gzerror why it was short. After the last
 * element the reader keeps reading to the end of the stream: that finds
 * trailing data and makes zlib compare the gzip trailer's CRC-32 and length
 * with what it inflated.
 */
#include "nn/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

/* zlib's input buffer. Its default, 8 KiB, costs a read() call per 8 KiB;
 * 256 KiB makes that cost negligible and is still small for a label file. */
#define GZ_BUFFER_SIZE (256u * 1024u)
/* The first allocation for the data; see the purpose block. */
#define FIRST_CHUNK ((size_t)64 << 20)
/* gzread takes an unsigned count and returns an int: ask for at most this. */
#define MAX_READ ((size_t)1 << 30)
#define MAGIC_SIZE 4
#define HEADER_MAX (MAGIC_SIZE + 4 * NN_IDX_MAX_RANK)

typedef struct reader {
    gzFile file;
    const char *path;
    size_t offset; /* bytes of decompressed content consumed so far */
} reader;

/* gzerror's text starts with the path given to gzopen; the messages here
 * already start with it, so drop the repetition. */
static const char *zlib_message(const reader *r, int *errnum)
{
    const char *message = gzerror(r->file, errnum);
    size_t length = strlen(r->path);
    if (strncmp(message, r->path, length) == 0 && message[length] == ':' &&
        message[length + 1] == ' ')
        message += length + 2;
    return message;
}

/* Explains a gzread that returned -1: the system failed to read, or the
 * compressed stream is damaged (bad code, bad CRC-32, bad length). */
static nn_status stream_error(const reader *r, nn_error *err)
{
    int errnum = Z_OK;
    const char *message = zlib_message(r, &errnum);
    if (errnum == Z_ERRNO)
        return nn_error_set(err, NN_ERR_IO, "%s: read error at byte %zu: %s", r->path,
                            r->offset, message);
    if (errnum == Z_MEM_ERROR)
        return nn_error_set(err, NN_ERR_MEMORY, "%s: zlib ran out of memory", r->path);
    /* zlib inflates ahead of what was asked for, so the offset is only a
     * lower bound on where the damage is. */
    if (r->offset == 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: corrupted gzip stream (zlib: %s)",
                            r->path, message);
    return nn_error_set(err, NN_ERR_FORMAT,
                        "%s: corrupted gzip stream at or after byte %zu of the content "
                        "(zlib: %s)",
                        r->path, r->offset, message);
}

/* Reads up to `wanted` bytes; *got < wanted means the content ended. */
static nn_status read_some(reader *r, unsigned char *buffer, size_t wanted, size_t *got,
                           nn_error *err)
{
    *got = 0;
    while (*got < wanted) {
        size_t request = wanted - *got < MAX_READ ? wanted - *got : MAX_READ;
        int n = gzread(r->file, buffer + *got, (unsigned)request);
        if (n < 0)
            return stream_error(r, err);
        if (n == 0)
            break;
        *got += (size_t)n;
        r->offset += (size_t)n;
    }
    return NN_OK;
}

/* True when the last short read was short because the gzip stream itself
 * was cut off, rather than because the content was complete. */
static int stream_cut_short(const reader *r)
{
    int errnum = Z_OK;
    zlib_message(r, &errnum);
    return errnum == Z_BUF_ERROR;
}

static const char *cut_short_note(const reader *r)
{
    return stream_cut_short(r) ? "; the gzip stream itself is cut short "
                                 "(zlib: unexpected end of file)"
                               : "";
}

static char *format_dims(char *buffer, size_t size, int rank, const size_t *dims)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (int i = 0; i < rank && used < size; i++) {
        int n = snprintf(buffer + used, size - used, "%s%zu", i == 0 ? "(" : ", ", dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (used < size)
        snprintf(buffer + used, size - used, ")");
    return buffer;
}

static const char *type_name(unsigned char type)
{
    switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "32-bit float";
    case 0x0E: return "64-bit float";
    }
    return "not an IDX type";
}

static uint32_t read_be32(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
           (uint32_t)bytes[3];
}

/* Parses and checks the header; fills rank, dims and size of idx. */
static nn_status read_header(reader *r, nn_idx *idx, nn_error *err)
{
    unsigned char header[HEADER_MAX];
    size_t got;
    nn_status status = read_some(r, header, MAGIC_SIZE, &got, err);
    if (status != NN_OK)
        return status;
    if (got == 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: no content (an empty file or gzip stream)%s", r->path,
                            cut_short_note(r));
    if (got < MAGIC_SIZE)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: truncated header: the content ends after %zu bytes, an IDX "
                            "header needs at least %d%s",
                            r->path, got, MAGIC_SIZE, cut_short_note(r));
    if (header[0] != 0 || header[1] != 0)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: bad magic at byte 0: 0x%02x 0x%02x, an IDX file starts with "
                            "0x00 0x00 (%s)",
                            r->path, header[0], header[1],
                            header[0] == 0x1f && header[1] == 0x8b
                                ? "this is gzip data inside gzip: compressed twice?"
                                : "not an IDX file");
    if (header[2] != NN_IDX_TYPE_UBYTE)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: unsupported element type 0x%02x (%s) at byte 2; only 0x08 "
                            "(unsigned byte) is read",
                            r->path, header[2], type_name(header[2]));
    int rank = header[3];
    if (rank < 1 || rank > NN_IDX_MAX_RANK)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: rank %d at byte 3 is outside 1..%d",
                            r->path, rank, NN_IDX_MAX_RANK);
    size_t header_size = MAGIC_SIZE + 4 * (size_t)rank;
    status = read_some(r, header + MAGIC_SIZE, header_size - MAGIC_SIZE, &got, err);
    if (status != NN_OK)
        return status;
    if (got < header_size - MAGIC_SIZE)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: truncated header: rank %d needs %zu header bytes, the content "
                            "ends after %zu%s",
                            r->path, rank, header_size, MAGIC_SIZE + got, cut_short_note(r));
    idx->rank = rank;
    idx->size = 1;
    for (int i = 0; i < NN_IDX_MAX_RANK; i++)
        idx->dims[i] = 1;
    for (int i = 0; i < rank; i++)
        idx->dims[i] = read_be32(header + MAGIC_SIZE + 4 * i);
    for (int i = 0; i < rank; i++) {
        size_t offset = MAGIC_SIZE + 4 * (size_t)i;
        if (idx->dims[i] == 0)
            return nn_error_set(err, NN_ERR_FORMAT, "%s: dimension %d (bytes %zu..%zu) is zero",
                                r->path, i, offset, offset + 3);
        if (idx->size > NN_IDX_MAX_ELEMENTS / idx->dims[i]) {
            char shape[128];
            return nn_error_set(err, NN_ERR_FORMAT,
                                "%s: shape %s declares more elements than the 2^31 this "
                                "reader accepts",
                                r->path, format_dims(shape, sizeof shape, rank, idx->dims));
        }
        idx->size *= idx->dims[i];
    }
    return NN_OK;
}

/* Transparent huge pages are on "madvise" in Debian's default kernel
 * configuration: asking for them on the data buffer replaces some 11000
 * 4 KiB page faults of a 47 MB file by a few dozen. Only a hint; nothing
 * depends on it being honoured. */
static void advise_huge_pages(void *start, size_t length)
{
#ifdef MADV_HUGEPAGE
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0)
        return;
    uintptr_t page = (uintptr_t)page_size;
    uintptr_t first = ((uintptr_t)start + page - 1) & ~(page - 1);
    uintptr_t last = ((uintptr_t)start + length) & ~(page - 1);
    if (last > first)
        (void)madvise((void *)first, last - first, MADV_HUGEPAGE);
#else
    (void)start;
    (void)length;
#endif
}

/* Reads the idx->size data bytes into a new idx->data. */
static nn_status read_data(reader *r, nn_idx *idx, nn_error *err)
{
    size_t data_start = r->offset;
    size_t capacity = idx->size < FIRST_CHUNK ? idx->size : FIRST_CHUNK;
    size_t got = 0;
    idx->data = malloc(capacity);
    if (idx->data == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory for %zu bytes of data",
                            r->path, capacity);
    advise_huge_pages(idx->data, capacity);
    for (;;) {
        size_t n;
        nn_status status = read_some(r, idx->data + got, capacity - got, &n, err);
        if (status != NN_OK)
            return status;
        got += n;
        if (got < capacity || capacity == idx->size)
            break;
        size_t grown = capacity > idx->size / 2 ? idx->size : 2 * capacity;
        unsigned char *data = realloc(idx->data, grown);
        if (data == NULL)
            return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory for %zu bytes of data",
                                r->path, grown);
        idx->data = data;
        capacity = grown;
        advise_huge_pages(idx->data, capacity);
    }
    if (got < idx->size) {
        char shape[128];
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: truncated data: shape %s needs %zu bytes after the %zu-byte "
                            "header, found only %zu (the content ends at byte %zu)%s",
                            r->path, format_dims(shape, sizeof shape, idx->rank, idx->dims),
                            idx->size, data_start, got, r->offset, cut_short_note(r));
    }
    return NN_OK;
}

/* After the last element: reads to the end of the stream, so that zlib
 * checks the gzip trailer, and counts what should not be there. */
static nn_status read_to_end(reader *r, const nn_idx *idx, nn_error *err)
{
    size_t data_end = r->offset;
    unsigned char scratch[4096];
    size_t got;
    do {
        nn_status status = read_some(r, scratch, sizeof scratch, &got, err);
        if (status != NN_OK)
            return status;
    } while (got == sizeof scratch);
    if (stream_cut_short(r))
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: the gzip stream is cut short after byte %zu of the content "
                            "(zlib: unexpected end of file), so its checksum cannot be "
                            "verified",
                            r->path, r->offset);
    if (r->offset > data_end) {
        char shape[128];
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: trailing data at byte %zu: %zu byte%s after the last "
                            "element of shape %s",
                            r->path, data_end, r->offset - data_end,
                            r->offset - data_end == 1 ? "" : "s",
                            format_dims(shape, sizeof shape, idx->rank, idx->dims));
    }
    return NN_OK;
}

static nn_status open_for_reading(reader *r, const char *path, nn_error *err)
{
    r->path = path;
    r->offset = 0;
    errno = 0;
    r->file = gzopen(path, "rb");
    if (r->file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path,
                            errno != 0 ? strerror(errno) : "out of memory");
    /* Must come before the first read; a failure only costs speed. */
    (void)gzbuffer(r->file, GZ_BUFFER_SIZE);
    return NN_OK;
}

nn_status nn_idx_load(nn_idx **out, const char *path, nn_error *err)
{
    *out = NULL;
    reader r;
    nn_status status = open_for_reading(&r, path, err);
    if (status != NN_OK)
        return status;
    nn_idx *idx = calloc(1, sizeof *idx);
    if (idx == NULL) {
        gzclose(r.file);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", path);
    }
    status = read_header(&r, idx, err);
    if (status == NN_OK)
        status = read_data(&r, idx, err);
    if (status == NN_OK)
        status = read_to_end(&r, idx, err);
    int closed = gzclose(r.file);
    if (status == NN_OK && closed != Z_OK)
        status = nn_error_set(err, NN_ERR_IO, "%s: closing failed (zlib status %d)", path,
                              closed);
    if (status != NN_OK) {
        nn_idx_free(idx);
        return status;
    }
    *out = idx;
    return NN_OK;
}

void nn_idx_free(nn_idx *idx)
{
    if (idx == NULL)
        return;
    free(idx->data);
    free(idx);
}

nn_status nn_idx_save_gz(const char *path, int rank, const size_t *dims,
                         const unsigned char *data, nn_error *err)
{
    if (rank < 1 || rank > NN_IDX_MAX_RANK)
        return nn_error_set(err, NN_ERR_ARGUMENT, "%s: cannot write rank %d, only 1..%d", path,
                            rank, NN_IDX_MAX_RANK);
    unsigned char header[HEADER_MAX] = { 0, 0, NN_IDX_TYPE_UBYTE, (unsigned char)rank };
    size_t size = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0 || dims[i] > UINT32_MAX || size > NN_IDX_MAX_ELEMENTS / dims[i])
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "%s: cannot write dimension %d of size %zu", path, i, dims[i]);
        size *= dims[i];
        for (int b = 0; b < 4; b++)
            header[MAGIC_SIZE + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    }
    errno = 0;
    gzFile file = gzopen(path, "wb");
    if (file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot create: %s", path,
                            errno != 0 ? strerror(errno) : "out of memory");
    int ok = gzwrite(file, header, (unsigned)(MAGIC_SIZE + 4 * rank)) > 0;
    for (size_t done = 0; ok && done < size;) {
        size_t chunk = size - done < MAX_READ ? size - done : MAX_READ;
        ok = gzwrite(file, data + done, (unsigned)chunk) == (int)chunk;
        done += chunk;
    }
    int errnum = Z_OK;
    const char *message = ok ? "" : gzerror(file, &errnum);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", message);
    int closed = gzclose(file);
    if (!ok)
        return nn_error_set(err, NN_ERR_IO, "%s: write failed: %s", path, saved);
    if (closed != Z_OK)
        return nn_error_set(err, NN_ERR_IO, "%s: closing failed: %s", path,
                            closed == Z_ERRNO ? strerror(errno) : "zlib error");
    return NN_OK;
}

nn_status nn_idx_content_crc32(const char *path, uint32_t *crc, size_t *length,
                               nn_error *err)
{
    *crc = 0;
    *length = 0;
    reader r;
    nn_status status = open_for_reading(&r, path, err);
    if (status != NN_OK)
        return status;
    unsigned char *buffer = malloc(GZ_BUFFER_SIZE);
    if (buffer == NULL) {
        gzclose(r.file);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", path);
    }
    uLong sum = crc32(0L, Z_NULL, 0);
    size_t got;
    do {
        status = read_some(&r, buffer, GZ_BUFFER_SIZE, &got, err);
        if (status != NN_OK)
            break;
        sum = crc32(sum, buffer, (uInt)got);
    } while (got == GZ_BUFFER_SIZE);
    if (status == NN_OK && stream_cut_short(&r))
        status = nn_error_set(err, NN_ERR_FORMAT,
                              "%s: the gzip stream is cut short after byte %zu of the content "
                              "(zlib: unexpected end of file)",
                              path, r.offset);
    free(buffer);
    gzclose(r.file);
    if (status != NN_OK)
        return status;
    *crc = (uint32_t)sum;
    *length = r.offset;
    return NN_OK;
}

/* Parses "CRC32 LENGTH NAME" (CRC32 exactly eight hex digits). */
static int parse_checksum_line(const char *line, uint32_t *crc, size_t *length,
                               char name[256])
{
    char crc_text[16], extra[2];
    unsigned long long value;
    if (sscanf(line, "%15s %llu %255s %1s", crc_text, &value, name, extra) != 3)
        return 0;
    if (strlen(crc_text) != 8 || strspn(crc_text, "0123456789abcdefABCDEF") != 8)
        return 0;
    *crc = (uint32_t)strtoul(crc_text, NULL, 16);
    *length = (size_t)value;
    return 1;
}

nn_status nn_idx_verify_checksums(const char *directory, const char *list_path,
                                  nn_error *err)
{
    FILE *list = fopen(list_path, "r");
    if (list == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open the checksum list: %s", list_path,
                            strerror(errno));
    char line[1024], name[256], path[4096];
    unsigned line_number = 0, entries = 0;
    nn_status status = NN_OK;
    while (status == NN_OK && fgets(line, sizeof line, list) != NULL) {
        line_number++;
        const char *text = line + strspn(line, " \t\r\n");
        if (*text == '\0' || *text == '#')
            continue;
        uint32_t expected_crc, crc;
        size_t expected_length, length;
        if (!parse_checksum_line(text, &expected_crc, &expected_length, name)) {
            status = nn_error_set(err, NN_ERR_FORMAT,
                                  "%s:%u: expected 'CRC32 LENGTH NAME' (CRC32 as 8 hex digits)",
                                  list_path, line_number);
            break;
        }
        if ((size_t)snprintf(path, sizeof path, "%s/%s", directory, name) >= sizeof path) {
            status = nn_error_set(err, NN_ERR_ARGUMENT, "%s:%u: path too long for %s",
                                  list_path, line_number, name);
            break;
        }
        status = nn_idx_content_crc32(path, &crc, &length, err);
        if (status == NN_OK && (crc != expected_crc || length != expected_length))
            status = nn_error_set(err, NN_ERR_FORMAT,
                                  "%s: decompressed content has CRC-32 %08x and %zu bytes, "
                                  "but %s:%u expects %08x and %zu bytes",
                                  path, (unsigned)crc, length, list_path, line_number,
                                  (unsigned)expected_crc, expected_length);
        entries++;
    }
    if (status == NN_OK && ferror(list))
        status = nn_error_set(err, NN_ERR_IO, "%s: read error", list_path);
    if (status == NN_OK && entries == 0)
        status = nn_error_set(err, NN_ERR_FORMAT, "%s: no checksums in the list", list_path);
    fclose(list);
    return status;
}
