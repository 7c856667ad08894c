/*
 * weights.c - saving and loading a network's parameters and buffers.
 *
 * The file is gzip (written with zlib's gz* functions, read with inflate
 * itself, see below); its uncompressed content is
 *
 *     "DLGRADEW"                 8 bytes
 *     version                    u32, 1
 *     tensor count               u32
 *     per tensor: name length u16, name, rank u8, dims u32 x rank,
 *                 values float32 x prod(dims)
 *     CRC-32 of all the bytes above, u32
 *
 * all little-endian. Values are float32 whatever nn_real is, so a model
 * trained in the float build loads into the double build used for grading.
 * Loading checks everything before it changes the network: a bad file
 * leaves the network as it was.
 */
#include "nn/network.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define WEIGHTS_MAGIC "DLGRADEW"
#define WEIGHTS_VERSION 1u

/* One tensor of the network as the file lists it. */
typedef struct weights_entry {
    char name[112];
    nn_shape shape;
    nn_real *values;
    size_t count;
} weights_entry;

static size_t list_entries(const nn_network *network, weights_entry *entries)
{
    size_t n = 0;
    for (int i = 0; i < network->layer_count; i++) {
        nn_layer *layer = network->layers[i];
        for (int p = 0; p < layer->parameter_count; p++, n++) {
            if (entries == NULL)
                continue;
            snprintf(entries[n].name, sizeof entries[n].name, "%s.%s", layer->name,
                     layer->parameter_names[p]);
            entries[n].shape = layer->parameter_shapes[p];
            entries[n].values = layer->parameters[p].value;
            entries[n].count = layer->parameters[p].count;
        }
        for (int b = 0; b < layer->buffer_count; b++, n++) {
            if (entries == NULL)
                continue;
            snprintf(entries[n].name, sizeof entries[n].name, "%s.%s", layer->name,
                     layer->buffer_names[b]);
            entries[n].shape = nn_shape_1d(layer->buffer_sizes[b]);
            entries[n].values = layer->buffers[b];
            entries[n].count = layer->buffer_sizes[b];
        }
    }
    return n;
}

static nn_status list_network(weights_entry **out, size_t *count, const nn_network *network,
                              nn_error *err)
{
    *count = list_entries(network, NULL);
    *out = calloc(*count ? *count : 1, sizeof **out);
    if (*out == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "weights: out of memory");
    list_entries(network, *out);
    return NN_OK;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct writer {
    gzFile file;
    uLong crc;
    bool failed;
} writer;

static void put_bytes(writer *w, const void *bytes, size_t count)
{
    if (w->failed || count == 0)
        return;
    w->crc = crc32(w->crc, bytes, (uInt)count);
    if (gzwrite(w->file, bytes, (unsigned)count) != (int)count)
        w->failed = true;
}

static void put_u32(writer *w, uint32_t value)
{
    unsigned char b[4] = { (unsigned char)value, (unsigned char)(value >> 8),
                           (unsigned char)(value >> 16), (unsigned char)(value >> 24) };
    put_bytes(w, b, 4);
}

static void put_values(writer *w, const nn_real *values, size_t count)
{
    unsigned char chunk[4096];
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        float value = (float)values[i];
        uint32_t bits;
        memcpy(&bits, &value, 4);
        for (int k = 0; k < 4; k++)
            chunk[used++] = (unsigned char)(bits >> (8 * k));
        if (used == sizeof chunk) {
            put_bytes(w, chunk, used);
            used = 0;
        }
    }
    put_bytes(w, chunk, used);
}

nn_status nn_weights_save(const nn_network *network, const char *path, nn_error *err)
{
    weights_entry *entries;
    size_t count;
    nn_status status = list_network(&entries, &count, network, err);
    if (status != NN_OK)
        return status;

    /* A file that cannot be loaded back is worth refusing now, when the
     * training that diverged can still be told. */
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < entries[i].count; k++)
            if (!isfinite((float)entries[i].values[k])) {
                status = nn_error_set(err, NN_ERR_NUMERIC, "%s: tensor '%s' value %zu is %g; "
                                      "not saving a model that diverged", path, entries[i].name,
                                      k, (double)entries[i].values[k]);
                free(entries);
                return status;
            }
    char temporary[4200];
    if (strlen(path) + sizeof ".tmp.XXXXXX" > sizeof temporary) {
        free(entries);
        return nn_error_set(err, NN_ERR_ARGUMENT, "%.200s...: the path is too long", path);
    }
    snprintf(temporary, sizeof temporary, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(temporary);
    if (fd < 0) {
        free(entries);
        return nn_error_set(err, NN_ERR_IO, "%s: cannot create a temporary file: %s", path,
                            strerror(errno));
    }
    /* mkstemp makes the file private (0600); a weights file is an ordinary
     * result, readable like any other the user writes. */
    fchmod(fd, 0644);
    writer w = { .file = gzdopen(fd, "wb6"), .crc = crc32(0L, Z_NULL, 0) };
    if (w.file == NULL) {
        close(fd);
        unlink(temporary);
        free(entries);
        return nn_error_set(err, NN_ERR_IO, "%s: cannot start compression", path);
    }
    put_bytes(&w, WEIGHTS_MAGIC, 8);
    put_u32(&w, WEIGHTS_VERSION);
    put_u32(&w, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        uint16_t length = (uint16_t)strlen(entries[i].name);
        unsigned char header[2] = { (unsigned char)length, (unsigned char)(length >> 8) };
        put_bytes(&w, header, 2);
        put_bytes(&w, entries[i].name, length);
        unsigned char rank = (unsigned char)entries[i].shape.rank;
        put_bytes(&w, &rank, 1);
        for (int d = 0; d < rank; d++)
            put_u32(&w, (uint32_t)entries[i].shape.dims[d]);
        put_values(&w, entries[i].values, entries[i].count);
    }
    uLong crc = w.crc;
    put_u32(&w, (uint32_t)crc);
    free(entries);
    bool failed = w.failed;
    if (gzclose(w.file) != Z_OK || failed) {
        unlink(temporary);
        return nn_error_set(err, NN_ERR_IO, "%s: writing failed (disk full?)", path);
    }
    if (rename(temporary, path) != 0) {
        int saved = errno;
        unlink(temporary);
        return nn_error_set(err, NN_ERR_IO, "%s: cannot rename the finished file into place: %s",
                            path, strerror(saved));
    }
    return NN_OK;
}

/* ---- reading ----------------------------------------------------------------
 *
 * zlib's inflate directly rather than gzread: gzread passes a file that is not
 * gzip through unchanged and ignores bytes after the gzip stream, and a
 * weights file from a submission deserves neither kindness. Every offset in a
 * message is in the uncompressed content, except the one for bytes after the
 * gzip stream, which is in the file.
 *
 * A damaged file should be called damaged, not "a model with another shape":
 * when the content disagrees with the model, the rest of the file is read
 * to see whether it is intact (gzip's CRC, and the file's own CRC in its last
 * four bytes) before the disagreement is reported. For that the reader keeps
 * the CRC of everything but the last four bytes it has delivered. */

typedef struct reader {
    FILE *file;
    const char *path;
    z_stream stream;
    bool stream_ended;      /* inflate has checked the gzip trailer */
    bool stream_failed;     /* an error came from the stream, not the content */
    size_t offset;          /* uncompressed bytes delivered so far */
    size_t read_limit;      /* of content, for check_intact() */
    uLong lag_crc;          /* CRC of the delivered bytes but the last tail_size */
    unsigned char tail[4];  /* the last bytes delivered */
    size_t tail_size;
    unsigned char input[16384];
} reader;

/* Feeds delivered bytes through the four-byte delay line of the CRC.
 * Not inlined: inlined into a caller with a 2-byte buffer, GCC's -O3
 * array-bounds analysis flags the count >= 4 branch it can never take. */
__attribute__((noinline)) static void track(reader *r, const unsigned char *bytes, size_t count)
{
    if (count >= 4) {
        r->lag_crc = crc32(r->lag_crc, r->tail, (uInt)r->tail_size);
        r->lag_crc = crc32(r->lag_crc, bytes, (uInt)(count - 4));
        memcpy(r->tail, bytes + count - 4, 4);
        r->tail_size = 4;
        return;
    }
    size_t total = r->tail_size + count;
    if (total > 4) {
        size_t out = total - 4;
        r->lag_crc = crc32(r->lag_crc, r->tail, (uInt)out);
        memmove(r->tail, r->tail + out, r->tail_size - out);
        r->tail_size -= out;
    }
    memcpy(r->tail + r->tail_size, bytes, count);
    r->tail_size += count;
}

/* Refills the compressed input; false at the end of the file. */
static bool refill(reader *r)
{
    size_t got = fread(r->input, 1, sizeof r->input, r->file);
    r->stream.next_in = r->input;
    r->stream.avail_in = (uInt)got;
    return got > 0;
}

/* Inflates into out until it is full or the stream ends: 0, or 1 when the
 * file is cut short, or -1 after an error that is left in r->stream.msg
 * (Z_MEM_ERROR as -2). */
static int inflate_some(reader *r, unsigned char *out, size_t count, size_t *got)
{
    r->stream.next_out = out;
    r->stream.avail_out = (uInt)count;
    int result = 0;
    while (r->stream.avail_out > 0 && !r->stream_ended) {
        if (r->stream.avail_in == 0 && !refill(r)) {
            result = ferror(r->file) ? -3 : 1;
            break;
        }
        int code = inflate(&r->stream, Z_NO_FLUSH);
        if (code == Z_STREAM_END)
            r->stream_ended = true;
        else if (code == Z_MEM_ERROR) {
            result = -2;
            break;
        } else if (code != Z_OK && code != Z_BUF_ERROR) {
            result = -1;
            break;
        }
    }
    *got = count - r->stream.avail_out;
    return result;
}

static nn_status stream_error(reader *r, int result, size_t at, const char *what, size_t got,
                              size_t count, nn_error *err)
{
    r->stream_failed = true;
    switch (result) {
    case -3:
        return nn_error_set(err, NN_ERR_IO, "%s: offset %zu: cannot read: %s", r->path, at,
                            strerror(errno));
    case -2:
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory while decompressing",
                            r->path);
    case -1:
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the compressed data is damaged "
                            "(%s) while reading %s", r->path, at,
                            r->stream.msg ? r->stream.msg : "zlib error", what);
    }
    char progress[64] = "";
    if (count > 0)
        snprintf(progress, sizeof progress, " (%zu of %zu bytes)", got, count);
    if (result == 1)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the file is cut short while "
                            "reading %s%s", r->path, at, what, progress);
    return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the file ends while reading %s%s",
                        r->path, at, what, progress);
}

/* Exactly count bytes of the uncompressed content, or an error that says
 * which part of the file was being read. */
static nn_status get_bytes(reader *r, void *bytes, size_t count, const char *what,
                           nn_error *err)
{
    size_t got;
    int result = inflate_some(r, bytes, count, &got);
    track(r, bytes, got);
    r->offset += got;
    if (result != 0 || got < count)
        return stream_error(r, result, r->offset, what, got, count, err);
    return NN_OK;
}

static uint32_t decode_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static nn_status get_u32(reader *r, uint32_t *value, const char *what, nn_error *err)
{
    unsigned char b[4];
    nn_status status = get_bytes(r, b, 4, what, err);
    *value = decode_u32(b);
    return status;
}

/* Reads the rest of the stream: NN_OK if the file is intact (a complete
 * gzip stream whose content, when `inner`, ends with the CRC of what
 * precedes it), otherwise the damage, in err. Gives up, calling the file
 * intact, after r->read_limit bytes of content: a file for a model many
 * times larger than this one is not worth decompressing whole, and a gzip
 * bomb (a small file of gigabytes of zeros) costs no more than that. */
static nn_status check_intact(reader *r, bool inner, nn_error *err)
{
    unsigned char chunk[4096];
    while (!r->stream_ended && r->offset < r->read_limit) {
        size_t got;
        int result = inflate_some(r, chunk, sizeof chunk, &got);
        track(r, chunk, got);
        r->offset += got;
        if (result != 0)
            return stream_error(r, result, r->offset, "the rest of the file", 0, 0, err);
    }
    if (inner && r->stream_ended && (r->tail_size < 4 || decode_u32(r->tail) != (uint32_t)r->lag_crc))
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: checksum mismatch: the file is "
                            "damaged", r->path, r->offset >= 4 ? r->offset - 4 : 0);
    return NN_OK;
}

/* A tensor's name, at the reader's position. */
static nn_status read_name(reader *r, char *name, size_t size, size_t index, nn_error *err)
{
    size_t start = r->offset;
    unsigned char header[2];
    nn_status status = get_bytes(r, header, 2, "a tensor name length", err);
    if (status != NN_OK)
        return status;
    size_t length = (size_t)header[0] | (size_t)header[1] << 8;
    if (length == 0 || length >= size)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor %zu has a name of %zu "
                            "bytes", r->path, start, index + 1, length);
    status = get_bytes(r, name, length, "a tensor name", err);
    if (status != NN_OK)
        return status;
    name[length] = '\0';
    if (memchr(name, '\0', length) != NULL)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor %zu has a name with a "
                            "NUL byte", r->path, start, index + 1);
    return NN_OK;
}

static nn_status read_entry(reader *r, const weights_entry *expected, nn_real *staging,
                            size_t index, nn_error *err)
{
    size_t start = r->offset;
    char name[256];
    nn_status status = read_name(r, name, sizeof name, index, err);
    if (status != NN_OK)
        return status;
    if (strcmp(name, expected->name) != 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor %zu is '%s', but the "
                            "model expects '%s' there (a file for another model?)", r->path,
                            start, index + 1, name, expected->name);
    unsigned char rank;
    status = get_bytes(r, &rank, 1, "a tensor rank", err);
    if (status != NN_OK)
        return status;
    if (rank > NN_MAX_DIMS)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor '%s' has rank %u",
                            r->path, r->offset - 1, name, rank);
    nn_shape shape = { .rank = rank, .dims = { 1, 1, 1, 1 } };
    for (int d = 0; d < rank; d++) {
        uint32_t size;
        status = get_u32(r, &size, "a tensor dimension", err);
        if (status != NN_OK)
            return status;
        shape.dims[d] = size;
    }
    if (!nn_shape_equal(&shape, &expected->shape)) {
        char got[64], want[64];
        return nn_error_set(err, NN_ERR_SHAPE, "%s: offset %zu: tensor '%s' has shape %s, the "
                            "model expects %s", r->path, start, name,
                            nn_shape_format(got, sizeof got, &shape),
                            nn_shape_format(want, sizeof want, &expected->shape));
    }
    /* Values in chunks: one inflate call per value would be slow. */
    unsigned char chunk[4096];
    for (size_t done = 0; done < expected->count;) {
        size_t values = expected->count - done;
        if (values > sizeof chunk / 4)
            values = sizeof chunk / 4;
        size_t at = r->offset;
        status = get_bytes(r, chunk, 4 * values, "tensor values", err);
        if (status != NN_OK)
            return status;
        for (size_t i = 0; i < values; i++) {
            uint32_t bits = decode_u32(chunk + 4 * i);
            float value;
            memcpy(&value, &bits, 4);
            if (!isfinite(value))
                return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor '%s' value %zu "
                                    "is not finite", r->path, at + 4 * i, name, done + i);
            staging[done + i] = (nn_real)value;
        }
        done += values;
    }
    return NN_OK;
}

/* After the checksum: nothing more in the content, a valid gzip trailer,
 * and no bytes after the gzip stream. */
static nn_status check_end(reader *r, nn_error *err)
{
    unsigned char extra;
    size_t got;
    int result = inflate_some(r, &extra, 1, &got);
    if (got > 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: unexpected bytes after the "
                            "checksum", r->path, r->offset);
    if (result != 0)
        return stream_error(r, result, r->offset, "the end of the gzip stream", 0, 0, err);
    size_t left = r->stream.avail_in;
    while (refill(r))
        left += r->stream.avail_in;
    if (left > 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: file offset %lu: %zu unexpected bytes after "
                            "the gzip stream", r->path, r->stream.total_in, left);
    return NN_OK;
}

/* Everything after the header: the tensors, one by one against the model
 * (before the counts, so that a file for another model is refused naming
 * the first tensor that differs), then the checksum. */
static nn_status read_tensors(reader *r, weights_entry *entries, size_t count,
                              nn_real **staging, nn_error *err)
{
    uint32_t version, stored_count;
    nn_status status = get_u32(r, &version, "the version", err);
    if (status != NN_OK)
        return status;
    if (version != WEIGHTS_VERSION)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 8: format version %u, this dlgrade "
                            "reads version %u", r->path, version, WEIGHTS_VERSION);
    status = get_u32(r, &stored_count, "the tensor count", err);
    if (status != NN_OK)
        return status;
    size_t common = stored_count < count ? stored_count : count;
    for (size_t i = 0; i < common; i++) {
        status = read_entry(r, &entries[i], staging[i], i, err);
        if (status != NN_OK)
            return status;
    }
    if (stored_count < count)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the file holds %u tensors, the "
                            "model has %zu: '%s' is missing", r->path, r->offset, stored_count,
                            count, entries[stored_count].name);
    if (stored_count > count) {
        size_t at = r->offset;
        char name[256];
        status = read_name(r, name, sizeof name, count, err);
        if (status != NN_OK)
            return status;
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the file holds %u tensors, the "
                            "model has %zu: '%s' is extra", r->path, at, stored_count, count,
                            name);
    }
    return NN_OK;
}

static nn_status read_all(reader *r, weights_entry *entries, size_t count, nn_real **staging,
                          nn_error *err)
{
    char magic[8];
    nn_status status = get_bytes(r, magic, 8, "the file header", err);
    if (status != NN_OK)
        return status;
    /* Another kind of gzip file has no inner CRC to check, but a damaged
     * weights file may seem to be one: gzip's own CRC tells them apart. */
    if (memcmp(magic, WEIGHTS_MAGIC, 8) != 0) {
        nn_status damage = check_intact(r, false, err);
        if (damage != NN_OK)
            return damage;
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 0: not a dlgrade weights file "
                            "(no DLGRADEW header)", r->path);
    }
    status = read_tensors(r, entries, count, staging, err);
    if (status != NN_OK) {
        if (r->stream_failed || status == NN_ERR_MEMORY)
            return status;
        /* err keeps the disagreement unless the file proves damaged. */
        nn_status damage = check_intact(r, true, err);
        return damage != NN_OK ? damage : status;
    }
    uint32_t stored_crc;
    size_t at = r->offset;
    status = get_u32(r, &stored_crc, "the checksum", err);
    if (status != NN_OK)
        return status;
    uLong computed = r->lag_crc;  /* everything before the checksum's 4 bytes */
    if (stored_crc != (uint32_t)computed)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: checksum mismatch (stored "
                            "%08x, computed %08lx): the file is damaged", r->path, at, stored_crc,
                            computed);
    return check_end(r, err);
}

/* The content of this network's own weights file is a known size; one 16
 * times larger, plus 1 MiB, is read to its end at most. */
static size_t read_limit(const weights_entry *entries, size_t count)
{
    size_t size = 8 + 4 + 4 + 4;   /* magic, version, count, CRC */
    for (size_t i = 0; i < count; i++)
        size += 2 + strlen(entries[i].name) + 1 + 4 * (size_t)entries[i].shape.rank
                + 4 * entries[i].count;
    return 16 * size + ((size_t)1 << 20);
}

static nn_status open_reader(reader *r, const char *path, nn_error *err)
{
    r->path = path;
    r->lag_crc = crc32(0L, Z_NULL, 0);
    r->file = fopen(path, "rb");
    if (r->file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* 15 + 16: a gzip wrapper only, not zlib or raw deflate. */
    if (inflateInit2(&r->stream, 15 + 16) != Z_OK) {
        fclose(r->file);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: cannot start decompression", path);
    }
    refill(r);
    if (r->stream.avail_in >= 2 && (r->input[0] != 0x1f || r->input[1] != 0x8b)) {
        inflateEnd(&r->stream);
        fclose(r->file);
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 0: not a gzip file (weights files "
                            "are gzip-compressed)", path);
    }
    return NN_OK;
}

nn_status nn_weights_load(nn_network *network, const char *path, nn_error *err)
{
    weights_entry *entries;
    size_t count;
    nn_status status = list_network(&entries, &count, network, err);
    if (status != NN_OK)
        return status;
    reader *r = NULL;
    nn_real **staging = calloc(count ? count : 1, sizeof *staging);
    for (size_t i = 0; staging != NULL && i < count; i++) {
        staging[i] = malloc(entries[i].count * sizeof(nn_real));
        if (staging[i] == NULL)
            status = NN_ERR_MEMORY;
    }
    if (staging == NULL || status != NN_OK) {
        status = nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", path);
        goto out_free_staging;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        status = nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", path);
        goto out_free_staging;
    }
    status = open_reader(r, path, err);
    if (status != NN_OK)
        goto out_free_staging;
    r->read_limit = read_limit(entries, count);
    status = read_all(r, entries, count, staging, err);
    inflateEnd(&r->stream);
    fclose(r->file);
    /* Only a file read to its end without fault changes the network. */
    if (status == NN_OK)
        for (size_t i = 0; i < count; i++)
            memcpy(entries[i].values, staging[i], entries[i].count * sizeof(nn_real));

out_free_staging:
    free(r);
    for (size_t i = 0; staging != NULL && i < count; i++)
        free(staging[i]);
    free(staging);
    free(entries);
    return status;
}
