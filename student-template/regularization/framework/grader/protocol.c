/*
 * protocol.c - building and parsing grader/runner messages.
 */
#include "protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dg_writer_init(dg_writer *writer)
{
    *writer = (dg_writer){ 0 };
}

void dg_writer_release(dg_writer *writer)
{
    free(writer->data);
    *writer = (dg_writer){ 0 };
}

static void put_bytes(dg_writer *writer, const void *bytes, size_t count)
{
    if (writer->failed)
        return;
    if (writer->size + count > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (capacity < writer->size + count)
            capacity *= 2;
        unsigned char *data = realloc(writer->data, capacity);
        if (data == NULL) {
            writer->failed = true;
            return;
        }
        writer->data = data;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, bytes, count);
    writer->size += count;
}

void dg_put_bytes(dg_writer *writer, const void *bytes, size_t count)
{
    put_bytes(writer, bytes, count);
}

void dg_put_u64(dg_writer *writer, uint64_t value)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(value >> (8 * i));
    put_bytes(writer, b, 8);
}

void dg_put_u32(dg_writer *writer, uint32_t value)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(value >> (8 * i));
    put_bytes(writer, b, 4);
}

void dg_put_i32(dg_writer *writer, int32_t value)
{
    dg_put_u32(writer, (uint32_t)value);
}

void dg_put_f64(dg_writer *writer, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, 8);
    dg_put_u64(writer, bits);
}

void dg_put_string(dg_writer *writer, const char *text)
{
    size_t length = strlen(text);
    dg_put_u32(writer, (uint32_t)length);
    put_bytes(writer, text, length);
}

void dg_put_reals(dg_writer *writer, const nn_real *values, size_t count)
{
    dg_put_u64(writer, count);
    for (size_t i = 0; i < count; i++)
        dg_put_f64(writer, (double)values[i]);
}

void dg_put_doubles(dg_writer *writer, const double *values, size_t count)
{
    dg_put_u64(writer, count);
    for (size_t i = 0; i < count; i++)
        dg_put_f64(writer, values[i]);
}

void dg_put_ints(dg_writer *writer, const int *values, size_t count)
{
    dg_put_u64(writer, count);
    for (size_t i = 0; i < count; i++)
        dg_put_i32(writer, values[i]);
}

void dg_reader_init(dg_reader *reader, const void *data, size_t size)
{
    *reader = (dg_reader){ .data = data, .size = size };
}

static void fail(dg_reader *reader, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(dg_reader *reader, const char *format, ...)
{
    if (reader->failed)
        return;
    reader->failed = true;
    va_list args;
    va_start(args, format);
    vsnprintf(reader->problem, sizeof reader->problem, format, args);
    va_end(args);
}

static bool take(dg_reader *reader, void *bytes, size_t count)
{
    if (reader->failed)
        return false;
    if (count > reader->size - reader->offset) {
        fail(reader, "the message ends at byte %zu, %zu bytes short", reader->size,
             count - (reader->size - reader->offset));
        return false;
    }
    memcpy(bytes, reader->data + reader->offset, count);
    reader->offset += count;
    return true;
}

void dg_get_bytes(dg_reader *reader, void *bytes, size_t count)
{
    if (!take(reader, bytes, count))
        memset(bytes, 0, count);
}

uint64_t dg_get_u64(dg_reader *reader)
{
    unsigned char b[8];
    if (!take(reader, b, 8))
        return 0;
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | b[i];
    return value;
}

uint32_t dg_get_u32(dg_reader *reader)
{
    unsigned char b[4];
    if (!take(reader, b, 4))
        return 0;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int32_t dg_get_i32(dg_reader *reader)
{
    return (int32_t)dg_get_u32(reader);
}

double dg_get_f64(dg_reader *reader)
{
    uint64_t bits = dg_get_u64(reader);
    double value;
    memcpy(&value, &bits, 8);
    return value;
}

void dg_get_string(dg_reader *reader, char *buffer, size_t size)
{
    buffer[0] = '\0';
    uint32_t length = dg_get_u32(reader);
    if (reader->failed)
        return;
    if (length >= size) {
        fail(reader, "a string of %u bytes at byte %zu exceeds %zu", length, reader->offset - 4,
             size - 1);
        return;
    }
    if (take(reader, buffer, length))
        buffer[length] = '\0';
}

static bool expect_count(dg_reader *reader, size_t expected)
{
    size_t at = reader->offset;
    uint64_t count = dg_get_u64(reader);
    if (reader->failed)
        return false;
    if (count != expected) {
        fail(reader, "byte %zu: %llu values where %zu were expected", at,
             (unsigned long long)count, expected);
        return false;
    }
    return true;
}

void dg_get_reals(dg_reader *reader, nn_real *values, size_t expected)
{
    if (!expect_count(reader, expected))
        return;
    for (size_t i = 0; i < expected; i++)
        values[i] = (nn_real)dg_get_f64(reader);
}

void dg_get_doubles(dg_reader *reader, double *values, size_t expected)
{
    if (!expect_count(reader, expected))
        return;
    for (size_t i = 0; i < expected; i++)
        values[i] = dg_get_f64(reader);
}

void dg_get_ints(dg_reader *reader, int *values, size_t expected)
{
    if (!expect_count(reader, expected))
        return;
    for (size_t i = 0; i < expected; i++)
        values[i] = dg_get_i32(reader);
}

bool dg_reader_done(dg_reader *reader)
{
    if (!reader->failed && reader->offset != reader->size)
        fail(reader, "%zu unexpected bytes after the message", reader->size - reader->offset);
    return !reader->failed;
}
