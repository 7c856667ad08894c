/*
 * weights.c - saving and loading a network's parameters and buffers.
 *
 * The file is gzip (zlib's gz* functions); its uncompressed content is
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

    char temporary[4200];
    snprintf(temporary, sizeof temporary, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(temporary);
    if (fd < 0) {
        free(entries);
        return nn_error_set(err, NN_ERR_IO, "%s: cannot create a temporary file: %s", path,
                            strerror(errno));
    }
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

/* ---- reading --------------------------------------------------------------- */

typedef struct reader {
    gzFile file;
    const char *path;
    size_t offset;   /* in the uncompressed stream */
    uLong crc;
} reader;

static nn_status get_bytes(reader *r, void *bytes, size_t count, const char *what,
                           nn_error *err)
{
    int got = gzread(r->file, bytes, (unsigned)count);
    if (got < 0) {
        int code;
        const char *message = gzerror(r->file, &code);
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the compressed data is "
                            "damaged (%s) while reading %s", r->path, r->offset, message, what);
    }
    if ((size_t)got != count)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: the file ends while reading %s "
                            "(%d of %zu bytes)", r->path, r->offset + (size_t)got, what, got,
                            count);
    r->crc = crc32(r->crc, bytes, (uInt)count);
    r->offset += count;
    return NN_OK;
}

static nn_status get_u32(reader *r, uint32_t *value, const char *what, nn_error *err)
{
    unsigned char b[4];
    nn_status status = get_bytes(r, b, 4, what, err);
    *value = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return status;
}

static nn_status read_entry(reader *r, const weights_entry *expected, nn_real *staging,
                            size_t index, nn_error *err)
{
    size_t start = r->offset;
    unsigned char header[2];
    nn_status status = get_bytes(r, header, 2, "a tensor name length", err);
    if (status != NN_OK)
        return status;
    size_t length = (size_t)header[0] | (size_t)header[1] << 8;
    char name[256];
    if (length == 0 || length >= sizeof name)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor %zu has a name of %zu "
                            "bytes", r->path, start, index + 1, length);
    status = get_bytes(r, name, length, "a tensor name", err);
    if (status != NN_OK)
        return status;
    name[length] = '\0';
    if (strcmp(name, expected->name) != 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor %zu is '%s', but the "
                            "model expects '%s' there", r->path, start, index + 1, name,
                            expected->name);
    unsigned char rank;
    status = get_bytes(r, &rank, 1, "a tensor rank", err);
    if (status != NN_OK)
        return status;
    nn_shape shape = { .rank = rank, .dims = { 1, 1, 1, 1 } };
    if (rank > NN_MAX_DIMS)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor '%s' has rank %u",
                            r->path, r->offset - 1, name, rank);
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
    for (size_t i = 0; i < expected->count; i++) {
        unsigned char b[4];
        size_t at = r->offset;
        status = get_bytes(r, b, 4, "tensor values", err);
        if (status != NN_OK)
            return status;
        uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16
                        | (uint32_t)b[3] << 24;
        float value;
        memcpy(&value, &bits, 4);
        if (!isfinite(value))
            return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: tensor '%s' value %zu is "
                                "not finite", r->path, at, name, i);
        staging[i] = (nn_real)value;
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
    if (memcmp(magic, WEIGHTS_MAGIC, 8) != 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 0: not a dlgrade weights file "
                            "(no DLGRADEW header)", r->path);
    uint32_t version, stored_count;
    status = get_u32(r, &version, "the version", err);
    if (status != NN_OK)
        return status;
    if (version != WEIGHTS_VERSION)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 8: format version %u, this dlgrade "
                            "reads version %u", r->path, version, WEIGHTS_VERSION);
    status = get_u32(r, &stored_count, "the tensor count", err);
    if (status != NN_OK)
        return status;
    if (stored_count != count)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset 12: the file holds %u tensors, the "
                            "model has %zu", r->path, stored_count, count);
    for (size_t i = 0; i < count; i++) {
        status = read_entry(r, &entries[i], staging[i], i, err);
        if (status != NN_OK)
            return status;
    }
    uLong computed = r->crc;
    uint32_t stored_crc;
    size_t at = r->offset;
    status = get_u32(r, &stored_crc, "the checksum", err);
    if (status != NN_OK)
        return status;
    if (stored_crc != (uint32_t)computed)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: checksum mismatch (stored "
                            "%08x, computed %08lx): the file is damaged", r->path, at, stored_crc,
                            computed);
    unsigned char extra;
    int more = gzread(r->file, &extra, 1);
    if (more != 0)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: offset %zu: %s after the checksum",
                            r->path, r->offset,
                            more < 0 ? "the compressed data is damaged" : "unexpected bytes");
    return NN_OK;
}

nn_status nn_weights_load(nn_network *network, const char *path, nn_error *err)
{
    weights_entry *entries;
    size_t count;
    nn_status status = list_network(&entries, &count, network, err);
    if (status != NN_OK)
        return status;
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
    reader r = { .file = gzopen(path, "rb"), .path = path, .crc = crc32(0L, Z_NULL, 0) };
    if (r.file == NULL) {
        status = nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path,
                              errno ? strerror(errno) : "out of memory");
        goto out_free_staging;
    }
    status = read_all(&r, entries, count, staging, err);
    gzclose(r.file);
    if (status == NN_OK)
        for (size_t i = 0; i < count; i++)
            memcpy(entries[i].values, staging[i], entries[i].count * sizeof(nn_real));

out_free_staging:
    for (size_t i = 0; staging != NULL && i < count; i++)
        free(staging[i]);
    free(staging);
    free(entries);
    return status;
}
