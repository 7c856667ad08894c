/*
 * files.h - reading a whole file into memory, for the grader's modules
 * (model specs, reference sources, quiz keys).
 */
#ifndef DG_FILES_H
#define DG_FILES_H

#include "nn/core.h"

#include <stddef.h>

/* The file's bytes, NUL-terminated (malloc'd), at most max_bytes of them:
 * a longer file is NN_ERR_FORMAT naming the path and the bound. NULL on
 * failure, with err set. *size (when not NULL) receives the length. */
char *dg_read_file(const char *path, size_t max_bytes, size_t *size, nn_error *err);

#endif
