/*
 * submission.h - turning what a student hands in (a folder or a .tar.gz)
 * into a private work folder holding only regular files, safely.
 *
 * Archives are read with libarchive and refused (with the entry named) when
 * they hold an absolute path, a `..` component, a link, a device, a FIFO or
 * anything but regular files and folders, or when they exceed the size and
 * file-count bounds. A folder is copied under the same rules (symlinks in
 * it are refused, never followed).
 */
#ifndef DG_SUBMISSION_H
#define DG_SUBMISSION_H

#include "nn/core.h"

#include <stddef.h>

typedef struct dg_submission_limits {
    size_t max_total_bytes;   /* uncompressed, all files: e.g. 16 MiB */
    size_t max_file_bytes;    /* one file: e.g. 4 MiB */
    size_t max_files;         /* e.g. 200 */
    int max_depth;            /* folder nesting, e.g. 8 */
} dg_submission_limits;

dg_submission_limits dg_submission_default_limits(void);

/* Extracts (archive) or copies (folder) source into destination, which must
 * exist and be empty. A single top-level folder in an archive (students
 * often pack `submission/`) is kept as is; dg_submission_find() looks inside
 * it. Refusals are NN_ERR_FORMAT (bad entry: "entry 3 '../x': ...") or
 * NN_ERR_ARGUMENT (limits); I/O failures NN_ERR_IO. On failure destination
 * may hold a partial copy, which the caller removes. */
nn_status dg_submission_unpack(const char *source, const char *destination,
                               const dg_submission_limits *limits, nn_error *err);

/* Finds file `name` (e.g. "linear.c") in an unpacked submission: at the top,
 * or inside a single top-level folder. Writes the path into buffer; returns
 * NN_ERR_IO when absent. */
nn_status dg_submission_find(char *buffer, size_t buffer_size, const char *root,
                             const char *name, nn_error *err);

/* Removes a folder tree (never following symlinks). */
nn_status dg_remove_tree(const char *path, nn_error *err);

#endif
