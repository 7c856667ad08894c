/*
 * kernel_call.c - allocating, filling and moving the buffers of a call,
 * and the expected values of a call as the template's fixtures hold them.
 */
#include "kernel_call.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t element_size(dg_buffer_type type)
{
    switch (type) {
    case DG_BUFFER_REAL: return sizeof(nn_real);
    case DG_BUFFER_INT: return sizeof(int);
    case DG_BUFFER_DOUBLE: return sizeof(double);
    }
    return sizeof(double);
}

nn_status dg_call_buffers_new(dg_call_buffers *buffers, const dg_kernel *kernel,
                              const dg_kernel_case *kernel_case, size_t max_elements,
                              nn_error *err)
{
    *buffers = (dg_call_buffers){ .kernel = kernel };
    for (int d = 0; d < kernel->dim_count; d++)
        if (kernel_case->dims[d] < 1 || kernel_case->dims[d] > (1 << 24))
            return nn_error_set(err, NN_ERR_ARGUMENT, "%s: size %s = %d is out of range",
                                kernel->function, kernel->dim_names[d], kernel_case->dims[d]);
    kernel->sizes(buffers->counts, kernel_case->dims, kernel_case->params);
    size_t total = 0;
    for (int i = 0; i < kernel->buffer_count; i++) {
        if (buffers->counts[i] > max_elements || total > max_elements - buffers->counts[i])
            return nn_error_set(err, NN_ERR_ARGUMENT, "%s: buffers exceed %zu values",
                                kernel->function, max_elements);
        total += buffers->counts[i];
    }
    for (int i = 0; i < kernel->buffer_count; i++) {
        size_t count = buffers->counts[i] ? buffers->counts[i] : 1;
        buffers->data[i] = calloc(count, element_size(kernel->buffers[i].type));
        if (buffers->data[i] == NULL) {
            dg_call_buffers_release(buffers);
            return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory for %s",
                                kernel->function, kernel->buffers[i].name);
        }
    }
    return NN_OK;
}

void dg_call_buffers_release(dg_call_buffers *buffers)
{
    if (buffers->mistakes != NULL) {
        for (int m = 0; m < buffers->kernel->mistake_count; m++)
            dg_call_buffers_release(&buffers->mistakes[m]);
        free(buffers->mistakes);
        buffers->mistakes = NULL;
    }
    for (int i = 0; i < DG_KERNEL_MAX_BUFFERS; i++) {
        free(buffers->data[i]);
        free(buffers->initial[i]);
        buffers->data[i] = NULL;
        buffers->initial[i] = NULL;
    }
}

static double draw(const dg_buffer_spec *spec, const dg_kernel_case *kernel_case, nn_rng *rng)
{
    dg_fill fill = spec->fill;
    if (fill == DG_FILL_NORMAL && spec->role == DG_BUFFER_INPUT)
        fill = kernel_case->input_fill;
    switch (fill) {
    case DG_FILL_NORMAL: return nn_rng_normal(rng);
    case DG_FILL_UNIFORM: return nn_rng_uniform_range(rng, -1, 1);
    case DG_FILL_PROBABILITY: return nn_rng_uniform_range(rng, 0.05, 0.95);
    case DG_FILL_BINARY: return (double)nn_rng_below(rng, 2);
    case DG_FILL_POSITIVE: return nn_rng_uniform_range(rng, 0.5, 1.5);
    case DG_FILL_LABELS:
        return (double)nn_rng_below(rng, (uint64_t)kernel_case->dims[spec->fill_dim]);
    case DG_FILL_DROPOUT_MASK: {
        double p = kernel_case->params[spec->fill_dim];
        return nn_rng_uniform(rng) < p ? 0.0 : 1.0 / (1.0 - p);
    }
    case DG_FILL_ZERO: return 0.0;
    case DG_FILL_QUANTISED: {
        double value = round(2 * (nn_rng_normal(rng) + 0.25)) / 2;
        return value > 0 ? value : 0.0;
    }
    }
    return 0.0;
}

bool dg_buffer_is_result(dg_buffer_role role)
{
    return role == DG_BUFFER_OUTPUT || role == DG_BUFFER_ACCUMULATE || role == DG_BUFFER_STATE;
}

void dg_call_buffers_fill(dg_call_buffers *buffers, const dg_kernel_case *kernel_case,
                          nn_rng *rng)
{
    const dg_kernel *kernel = buffers->kernel;
    for (int i = 0; i < kernel->buffer_count; i++) {
        const dg_buffer_spec *spec = &kernel->buffers[i];
        bool unwritten = spec->role == DG_BUFFER_OUTPUT || spec->role == DG_BUFFER_WORKSPACE;
        for (size_t k = 0; k < buffers->counts[i]; k++) {
            double value = unwritten ? NAN : draw(spec, kernel_case, rng);
            switch (spec->type) {
            case DG_BUFFER_REAL: ((nn_real *)buffers->data[i])[k] = (nn_real)value; break;
            case DG_BUFFER_INT:
                ((int *)buffers->data[i])[k] = unwritten ? INT_MIN : (int)value;
                break;
            case DG_BUFFER_DOUBLE: ((double *)buffers->data[i])[k] = value; break;
            }
        }
    }
}

void dg_call_buffers_copy(dg_call_buffers *destination, const dg_call_buffers *source)
{
    const dg_kernel *kernel = source->kernel;
    for (int i = 0; i < kernel->buffer_count; i++)
        memcpy(destination->data[i], source->data[i],
               source->counts[i] * element_size(kernel->buffers[i].type));
}

/* Workspace never travels: each side allocates its own. */
void dg_call_buffer_put(dg_writer *writer, const dg_call_buffers *buffers, int i)
{
    if (buffers->kernel->buffers[i].role == DG_BUFFER_WORKSPACE)
        return;
    switch (buffers->kernel->buffers[i].type) {
    case DG_BUFFER_REAL: dg_put_reals(writer, buffers->data[i], buffers->counts[i]); break;
    case DG_BUFFER_INT: dg_put_ints(writer, buffers->data[i], buffers->counts[i]); break;
    case DG_BUFFER_DOUBLE: dg_put_doubles(writer, buffers->data[i], buffers->counts[i]); break;
    }
}

void dg_call_buffer_get(dg_reader *reader, dg_call_buffers *buffers, int i)
{
    if (buffers->kernel->buffers[i].role == DG_BUFFER_WORKSPACE)
        return;
    switch (buffers->kernel->buffers[i].type) {
    case DG_BUFFER_REAL: dg_get_reals(reader, buffers->data[i], buffers->counts[i]); break;
    case DG_BUFFER_INT: dg_get_ints(reader, buffers->data[i], buffers->counts[i]); break;
    case DG_BUFFER_DOUBLE: dg_get_doubles(reader, buffers->data[i], buffers->counts[i]); break;
    }
}

void dg_call_buffers_keep_initial(dg_call_buffers *buffers)
{
    for (int i = 0; i < buffers->kernel->buffer_count; i++) {
        if (buffers->kernel->buffers[i].role != DG_BUFFER_ACCUMULATE)
            continue;
        size_t bytes = dg_call_buffer_bytes(buffers, i);
        buffers->initial[i] = malloc(bytes ? bytes : 1);
        if (buffers->initial[i] != NULL)
            memcpy(buffers->initial[i], buffers->data[i], bytes);
    }
}

double dg_call_buffer_initial(const dg_call_buffers *buffers, int i, size_t index)
{
    if (buffers->initial[i] == NULL)
        return NAN;
    switch (buffers->kernel->buffers[i].type) {
    case DG_BUFFER_REAL: return (double)((const nn_real *)buffers->initial[i])[index];
    case DG_BUFFER_INT: return (double)((const int *)buffers->initial[i])[index];
    case DG_BUFFER_DOUBLE: return ((const double *)buffers->initial[i])[index];
    }
    return NAN;
}

double dg_call_buffer_value(const dg_call_buffers *buffers, int i, size_t index)
{
    switch (buffers->kernel->buffers[i].type) {
    case DG_BUFFER_REAL: return (double)((const nn_real *)buffers->data[i])[index];
    case DG_BUFFER_INT: return (double)((const int *)buffers->data[i])[index];
    case DG_BUFFER_DOUBLE: return ((const double *)buffers->data[i])[index];
    }
    return NAN;
}

size_t dg_call_buffer_bytes(const dg_call_buffers *buffers, int i)
{
    return buffers->counts[i] * element_size(buffers->kernel->buffers[i].type);
}

bool dg_call_buffers_has_mistake(const dg_call_buffers *buffers, int m)
{
    return buffers->mistakes != NULL && m >= 0 && m < buffers->kernel->mistake_count
           && buffers->mistakes[m].data[0] != NULL;
}

/* A counted array of count values of the given type at data. */
static void put_typed(dg_writer *writer, dg_buffer_type type, const void *data, size_t count)
{
    switch (type) {
    case DG_BUFFER_REAL: dg_put_reals(writer, data, count); break;
    case DG_BUFFER_INT: dg_put_ints(writer, data, count); break;
    case DG_BUFFER_DOUBLE: dg_put_doubles(writer, data, count); break;
    }
}

static void get_typed(dg_reader *reader, dg_buffer_type type, void *data, size_t count)
{
    switch (type) {
    case DG_BUFFER_REAL: dg_get_reals(reader, data, count); break;
    case DG_BUFFER_INT: dg_get_ints(reader, data, count); break;
    case DG_BUFFER_DOUBLE: dg_get_doubles(reader, data, count); break;
    }
}

/* A flag of the stream that must be 0 or 1. */
static bool get_flag(dg_reader *reader)
{
    uint32_t flag = dg_get_u32(reader);
    if (flag > 1 && !reader->failed) {
        reader->failed = true;
        snprintf(reader->problem, sizeof reader->problem, "a flag reads %u at byte %zu",
                 (unsigned)flag, reader->offset);
    }
    return flag == 1;
}

void dg_call_buffers_put_expected(dg_writer *writer, const dg_call_buffers *buffers)
{
    const dg_kernel *kernel = buffers->kernel;
    for (int i = 0; i < kernel->buffer_count; i++)
        if (dg_buffer_is_result(kernel->buffers[i].role))
            dg_call_buffer_put(writer, buffers, i);
    for (int i = 0; i < kernel->buffer_count; i++) {
        if (kernel->buffers[i].role != DG_BUFFER_ACCUMULATE)
            continue;
        dg_put_u32(writer, buffers->initial[i] != NULL);
        if (buffers->initial[i] != NULL)
            put_typed(writer, kernel->buffers[i].type, buffers->initial[i], buffers->counts[i]);
    }
    /* A mistake's buffer that is the reference's (Adam's moments, when only
     * the step is wrong) travels as a flag alone. */
    dg_put_u32(writer, (uint32_t)kernel->mistake_count);
    for (int m = 0; m < kernel->mistake_count; m++) {
        bool kept = dg_call_buffers_has_mistake(buffers, m);
        dg_put_u32(writer, kept);
        for (int i = 0; kept && i < kernel->buffer_count; i++) {
            if (!dg_buffer_is_result(kernel->buffers[i].role))
                continue;
            bool differs = memcmp(buffers->mistakes[m].data[i], buffers->data[i],
                                  dg_call_buffer_bytes(buffers, i)) != 0;
            dg_put_u32(writer, differs);
            if (differs)
                dg_call_buffer_put(writer, &buffers->mistakes[m], i);
        }
    }
}

nn_status dg_call_buffers_get_expected(dg_reader *reader, dg_call_buffers *buffers,
                                       const dg_kernel_case *kernel_case, nn_error *err)
{
    const dg_kernel *kernel = buffers->kernel;
    for (int i = 0; i < kernel->buffer_count; i++)
        if (dg_buffer_is_result(kernel->buffers[i].role))
            dg_call_buffer_get(reader, buffers, i);
    for (int i = 0; i < kernel->buffer_count && !reader->failed; i++) {
        if (kernel->buffers[i].role != DG_BUFFER_ACCUMULATE || !get_flag(reader))
            continue;
        size_t bytes = dg_call_buffer_bytes(buffers, i);
        free(buffers->initial[i]);
        buffers->initial[i] = malloc(bytes ? bytes : 1);
        if (buffers->initial[i] == NULL)
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
        get_typed(reader, kernel->buffers[i].type, buffers->initial[i], buffers->counts[i]);
    }
    uint32_t count = dg_get_u32(reader);
    if (reader->failed)
        return NN_OK;
    if (count != (uint32_t)kernel->mistake_count) {
        reader->failed = true;
        snprintf(reader->problem, sizeof reader->problem, "%u mistakes of %s, the table has %d",
                 (unsigned)count, kernel->function, kernel->mistake_count);
        return NN_OK;
    }
    if (count == 0 || buffers->mistakes != NULL)
        return NN_OK;
    buffers->mistakes = calloc(count, sizeof *buffers->mistakes);
    if (buffers->mistakes == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    for (uint32_t m = 0; m < count && !reader->failed; m++) {
        if (!get_flag(reader))
            continue;
        /* The sizes were bounded when buffers was made for this case. */
        nn_status status = dg_call_buffers_new(&buffers->mistakes[m], kernel, kernel_case,
                                               SIZE_MAX, err);
        if (status != NN_OK)
            return status;
        for (int i = 0; i < kernel->buffer_count; i++) {
            if (!dg_buffer_is_result(kernel->buffers[i].role))
                continue;
            if (get_flag(reader))
                dg_call_buffer_get(reader, &buffers->mistakes[m], i);
            else
                memcpy(buffers->mistakes[m].data[i], buffers->data[i],
                       dg_call_buffer_bytes(buffers, i));
        }
    }
    return NN_OK;
}
