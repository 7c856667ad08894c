/*
 * error.c - filling nn_error records. Messages are truncated, never
 * overflowed: NN_ERROR_MESSAGE_SIZE bounds every write.
 */
#include "nn/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

nn_status nn_error_set(nn_error *err, nn_status status, const char *format, ...)
{
    if (err == NULL)
        return status;
    /* Format into a scratch buffer first: an argument may be err->message
     * itself ("%s (line %d)", err->message, ...), and vsnprintf must not
     * read from the buffer it is writing. */
    char text[NN_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    err->status = status;
    memcpy(err->message, text, strlen(text) + 1);
    return status;
}

nn_status nn_error_prefix(nn_error *err, const char *format, ...)
{
    if (err == NULL)
        return NN_OK;
    char prefix[NN_ERROR_MESSAGE_SIZE];
    char old[NN_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(prefix, sizeof prefix, format, args);
    va_end(args);
    memcpy(old, err->message, sizeof old);
    /* Truncation is intended: the message keeps its first 511 bytes. */
    int used = snprintf(err->message, sizeof err->message, "%s: ", prefix);
    if (used >= 0 && (size_t)used < sizeof err->message)
        snprintf(err->message + used, sizeof err->message - (size_t)used, "%.*s",
                 (int)(sizeof err->message - (size_t)used - 1), old);
    return err->status;
}

void nn_error_clear(nn_error *err)
{
    if (err == NULL)
        return;
    err->status = NN_OK;
    err->message[0] = '\0';
}

const char *nn_status_name(nn_status status)
{
    switch (status) {
    case NN_OK: return "ok";
    case NN_ERR_ARGUMENT: return "invalid argument";
    case NN_ERR_SHAPE: return "shape error";
    case NN_ERR_MEMORY: return "out of memory";
    case NN_ERR_IO: return "I/O error";
    case NN_ERR_FORMAT: return "format error";
    case NN_ERR_NOT_IMPLEMENTED: return "not implemented";
    case NN_ERR_NUMERIC: return "numeric error";
    }
    return "unknown status";
}
