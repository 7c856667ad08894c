/*
 * submission.h - turning what a student hands in (a folder or an archive)
 * into a private work folder holding only regular files and folders,
 * safely: a submission is treated as hostile input.
 *
 * Archives are read with libarchive. Accepted: tar (ustar, pax, GNU) plain
 * or compressed with gzip, bzip2 or xz, and zip; the format is detected
 * from the contents, never from the file name. Every entry is refused, with
 * its index (from 1, in the archive's order) and its name in the message,
 * when it
 *   - is an absolute path, or has a `..` component;
 *   - is a symbolic link, a hard link, a device, a FIFO, a socket, or
 *     anything else that is not a regular file or a folder;
 *   - has a name longer than DG_SUBMISSION_MAX_NAME bytes, holding a
 *     control character (bytes 1-31 and 127), or not valid UTF-8;
 *   - appears twice (the same path after removing `.` and empty components);
 *   - collides with an earlier entry of the other kind (a file where a folder
 *     is, or a folder under a file);
 *   - is nested deeper than max_depth, or is one entry more than max_files,
 *     or makes a file larger than max_file_bytes or all files larger than
 *     max_total_bytes. The bytes are counted as they are written, so a
 *     header that understates a size cannot get past the bounds.
 * An archive with no regular file in it ("the archive is empty") and an
 * archive libarchive cannot read (garbage, truncated, encrypted) are
 * refused too.
 *
 * Modes in the archive, including setuid and setgid bits, are ignored, not
 * refused: files are created 0644 and folders 0755 whatever the archive
 * says, so there is nothing to strip. Owners and times are ignored as well.
 *
 * On the destination side nothing is ever resolved through a path: folders
 * are made with mkdirat() and opened with openat(O_NOFOLLOW | O_DIRECTORY)
 * one component at a time, files with openat(O_CREAT | O_EXCL |
 * O_NOFOLLOW), so even a destination changed under our feet by someone else
 * cannot redirect a write outside it.
 *
 * A folder is copied under the same rules, walked with fstatat(
 * AT_SYMLINK_NOFOLLOW) in name order (entry indices are then stable): a
 * symbolic link, device, FIFO or socket inside it is refused, never
 * followed or opened; a file with more than one hard link is refused. One
 * exception: a folder named `.git`, at any level, is skipped unread (a
 * student's repository checkout is a fair thing to grade). The source path
 * itself (the folder or archive named by the caller) may be a symbolic link.
 */
#ifndef DG_SUBMISSION_H
#define DG_SUBMISSION_H

#include "nn/core.h"

#include <stddef.h>

/* Longest entry name accepted, in bytes, as stored in the archive (for a
 * folder, the path relative to it). */
#define DG_SUBMISSION_MAX_NAME 200

typedef struct dg_submission_limits {
    size_t max_total_bytes;   /* uncompressed, all files: default 16 MiB */
    size_t max_file_bytes;    /* one file: default 4 MiB */
    size_t max_files;         /* entries, files and folders alike: default 200 */
    int max_depth;            /* path components of an entry: default 8
                                 (`a/b/c.c` has 3) */
} dg_submission_limits;

dg_submission_limits dg_submission_default_limits(void);

/* Extracts (archive) or copies (folder) source into destination, which must
 * exist and be empty. limits may be NULL for the defaults. A single
 * top-level folder in an archive (students often pack `submission/`) is
 * kept as is; dg_submission_find() looks inside it.
 *
 * Statuses: NN_ERR_FORMAT for a bad entry ("entry 3 '../x': has a '..'
 * component ...") or an unreadable or empty archive (with libarchive's own
 * message); NN_ERR_ARGUMENT when a limit is exceeded ("entry 201 'x.c':
 * more than 200 entries ...") or for bad arguments (destination not empty,
 * source neither a folder nor a file); NN_ERR_IO when source cannot be read
 * or destination written; NN_ERR_MEMORY. Messages do not repeat source:
 * the caller prefixes it. Names in messages are shown with unprintable
 * bytes escaped (\xNN) and cut after 60 bytes.
 *
 * On failure destination may hold a partial copy, which the caller removes
 * (dg_remove_tree). */
nn_status dg_submission_unpack(const char *source, const char *destination,
                               const dg_submission_limits *limits, nn_error *err);

/* Finds the regular file `name` (e.g. "linear.c", or a relative path
 * without `..`) in an unpacked submission: at the top of root, or else
 * inside root's single top-level folder (hidden entries, starting with a
 * dot, and macOS's `__MACOSX` folder do not count when deciding that there
 * is a single folder). Writes the path (root/name or root/folder/name) into
 * buffer. Returns NN_ERR_IO when absent, NN_ERR_ARGUMENT when the name is
 * unsafe or buffer too small. Never follows a symbolic link. */
nn_status dg_submission_find(char *buffer, size_t buffer_size, const char *root,
                             const char *name, nn_error *err);

/* Removes a folder tree, like `rm -rf`, never following symlinks: a link is
 * removed, never what it points to, and that includes path itself (trailing
 * slashes are ignored, so "link/" removes the link). Works at any depth with
 * a few file descriptors (it climbs back through `..` and checks that it
 * lands where it came from), makes unreadable or read-only folders writable
 * so that it can empty them, and refuses to cross into another filesystem
 * (a mount point left in the tree). A path that does not exist is NN_OK; a
 * path that is not a folder is unlinked; "/", and paths ending in "." or
 * "..", are NN_ERR_ARGUMENT. NN_ERR_IO when something cannot be removed. */
nn_status dg_remove_tree(const char *path, nn_error *err);

#endif
