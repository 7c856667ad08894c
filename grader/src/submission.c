/*
 * submission.c - safe extraction of a student's archive or folder into a
 * private work folder (the rules are listed in submission.h).
 *
 * Theory of operation. The destination is opened once, as a directory file
 * descriptor, and every later operation is relative to a descriptor: an
 * entry `a/b/c.c` is created by walking `a` then `b` with mkdirat() +
 * openat(O_DIRECTORY | O_NOFOLLOW) and creating `c.c` with openat(O_CREAT |
 * O_EXCL | O_NOFOLLOW). Names are checked before anything is created (no
 * `..`, not absolute), so the walk can only go down; O_NOFOLLOW makes sure
 * that a symbolic link planted in the destination (by anyone, at any time)
 * ends the walk with an error instead of leading somewhere else.
 *
 * Sizes are never taken from a header for the bounds that matter: the
 * copy loop counts the bytes it actually receives and stops before writing
 * a chunk that would pass a bound. A header's declared size is only used to
 * refuse early, which saves decompressing a file that is too big anyway.
 *
 * Archive entries that repeat a path are found with a small hash set of the
 * normalised paths seen so far.
 */
#include "submission.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MODE 0644
#define FOLDER_MODE 0755
#define COPY_CHUNK 65536
/* Bytes of an entry name shown in a message before "...". */
#define SHOWN_NAME_BYTES 60
/* Bytes of a libarchive message kept in ours. */
#define SHOWN_ERROR_BYTES 200

dg_submission_limits dg_submission_default_limits(void)
{
    dg_submission_limits limits = {
        .max_total_bytes = (size_t)16 << 20,
        .max_file_bytes = (size_t)4 << 20,
        .max_files = 200,
        .max_depth = 8,
    };
    return limits;
}

/* ---- names in messages ---------------------------------------------- */

/* Length of the valid UTF-8 sequence starting at s (at most `left` bytes),
 * or 0 if there is none; overlong forms and surrogates count as invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    size_t length;
    unsigned int code;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        length = 2;
        code = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        length = 3;
        code = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        length = 4;
        code = s[0] & 0x07;
    } else {
        return 0;
    }
    if (length > left)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (s[i] & 0x3f);
    }
    static const unsigned int smallest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (code < smallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return length;
}

/* Text as it may appear in a message (and from there in JSON and HTML
 * reports): valid UTF-8 with control characters and backslashes escaped
 * (\xNN), at most `limit` bytes of the first `length` bytes of text,
 * followed by "..." when cut. */
static void show_text(char *out, size_t size, const char *text, size_t length, size_t limit)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0, i = 0;
    while (i < length && i < limit) {
        size_t n = utf8_sequence(s + i, length - i);
        char piece[8];
        if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\'))
            n = 0;
        if (n == 0) {
            snprintf(piece, sizeof piece, "\\x%02x", s[i]);
            n = 1;
        } else {
            memcpy(piece, s + i, n);
            piece[n] = '\0';
        }
        size_t piece_length = strlen(piece);
        if (used + piece_length + 4 > size)
            break;
        memcpy(out + used, piece, piece_length);
        used += piece_length;
        i += n;
    }
    if (i < length && used + 4 <= size) {
        memcpy(out + used, "...", 3);
        used += 3;
    }
    out[used] = '\0';
}

static void show_name(char *out, size_t size, const char *name)
{
    show_text(out, size, name, strlen(name), SHOWN_NAME_BYTES);
}

/* libarchive's message for the last error, without its trailing newline
 * (some messages have one) and made safe like a name. */
static void show_archive_error(char *out, size_t size, struct archive *archive)
{
    const char *message = archive_error_string(archive);
    if (message == NULL)
        message = "unknown libarchive error";
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == ' ' ||
                          message[length - 1] == '\r'))
        length--;
    show_text(out, size, message, length, SHOWN_ERROR_BYTES);
}

/* ---- the set of paths seen ------------------------------------------ */

typedef struct path_set {
    char **paths;     /* capacity slots, NULL when free */
    size_t *entries;  /* the entry index that brought each path */
    size_t capacity;  /* a power of two */
    size_t count;
} path_set;

static uint64_t hash_path(const char *path)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void path_set_free(path_set *set)
{
    for (size_t i = 0; i < set->capacity; i++)
        free(set->paths[i]);
    free(set->paths);
    free(set->entries);
    memset(set, 0, sizeof *set);
}

/* Slot of path, or of the free slot where it would go. */
static size_t path_set_slot(const path_set *set, const char *path)
{
    size_t mask = set->capacity - 1, i = (size_t)hash_path(path) & mask;
    while (set->paths[i] != NULL && strcmp(set->paths[i], path) != 0)
        i = (i + 1) & mask;
    return i;
}

static nn_status path_set_grow(path_set *set)
{
    path_set bigger = { 0 };
    bigger.capacity = set->capacity ? 2 * set->capacity : 64;
    bigger.paths = calloc(bigger.capacity, sizeof *bigger.paths);
    bigger.entries = calloc(bigger.capacity, sizeof *bigger.entries);
    if (bigger.paths == NULL || bigger.entries == NULL) {
        free(bigger.paths);
        free(bigger.entries);
        return NN_ERR_MEMORY;
    }
    for (size_t i = 0; i < set->capacity; i++) {
        if (set->paths[i] == NULL)
            continue;
        size_t j = path_set_slot(&bigger, set->paths[i]);
        bigger.paths[j] = set->paths[i];
        bigger.entries[j] = set->entries[i];
    }
    bigger.count = set->count;
    free(set->paths);
    free(set->entries);
    *set = bigger;
    return NN_OK;
}

/* Adds path; if it was there already, returns false and sets *first to the
 * entry that brought it. */
static nn_status path_set_add(path_set *set, const char *path, size_t entry, bool *added,
                              size_t *first)
{
    if (2 * (set->count + 1) > set->capacity && path_set_grow(set) != NN_OK)
        return NN_ERR_MEMORY;
    size_t i = path_set_slot(set, path);
    if (set->paths[i] != NULL) {
        *added = false;
        *first = set->entries[i];
        return NN_OK;
    }
    set->paths[i] = strdup(path);
    if (set->paths[i] == NULL)
        return NN_ERR_MEMORY;
    set->entries[i] = entry;
    set->count++;
    *added = true;
    return NN_OK;
}

/* ---- extraction state ----------------------------------------------- */

typedef struct unpacker {
    dg_submission_limits limits;
    int root;              /* the destination folder */
    dev_t root_device;     /* its identity, so that a folder copy never */
    ino_t root_inode;      /* walks into its own output */
    size_t entries;        /* entries met so far: the index of the current one */
    size_t files;          /* regular files written */
    size_t total_bytes;    /* bytes written into all files */
    path_set seen;         /* archive paths, normalised */
    unsigned char *buffer; /* COPY_CHUNK bytes */
    nn_error *err;
} unpacker;

/* Refuses the current entry: "entry <index> '<name>': <rule>". */
static nn_status refuse(unpacker *u, nn_status status, const char *name, const char *format,
                        ...) __attribute__((format(printf, 4, 5)));
static nn_status refuse(unpacker *u, nn_status status, const char *name, const char *format,
                        ...)
{
    char shown[4 * SHOWN_NAME_BYTES + 8];
    char rule[NN_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(rule, sizeof rule, format, args);
    va_end(args);
    show_name(shown, sizeof shown, name);
    return nn_error_set(u->err, status, "entry %zu '%s': %s", u->entries, shown, rule);
}

static nn_status memory_error(unpacker *u)
{
    return nn_error_set(u->err, NN_ERR_MEMORY, "out of memory while unpacking the submission");
}

/* The checks on a name's bytes shared by archives and folders. */
static nn_status check_name_bytes(unpacker *u, const char *name)
{
    size_t length = strlen(name);
    if (length > DG_SUBMISSION_MAX_NAME)
        return refuse(u, NN_ERR_FORMAT, name, "the name is %zu bytes long, more than %d",
                      length, DG_SUBMISSION_MAX_NAME);
    for (size_t i = 0; i < length;) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return refuse(u, NN_ERR_FORMAT, name,
                          "the name holds a control character (byte %zu is 0x%02x)", i, c);
        /* Names reach reports and compiler command lines: UTF-8 only, so
         * that every tool shows the same name. */
        size_t n = utf8_sequence((const unsigned char *)name + i, length - i);
        if (n == 0)
            return refuse(u, NN_ERR_FORMAT, name,
                          "the name is not valid UTF-8 (byte %zu is 0x%02x)", i, c);
        i += n;
    }
    return NN_OK;
}

/* Checks an archive entry's name and writes it into normal without `.`
 * and empty components ("./a//b/" becomes "a/b"; "./" becomes ""); *depth
 * is its number of components. normal has room for strlen(name) + 1. */
static nn_status normalise_name(unpacker *u, const char *name, char *normal, int *depth)
{
    nn_status status = check_name_bytes(u, name);
    if (status != NN_OK)
        return status;
    if (name[0] == '/')
        return refuse(u, NN_ERR_FORMAT, name,
                      "is an absolute path; entries must be relative to the archive");
    size_t used = 0;
    *depth = 0;
    const char *p = name;
    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t length = end ? (size_t)(end - p) : strlen(p);
        if (length == 2 && p[0] == '.' && p[1] == '.')
            return refuse(u, NN_ERR_FORMAT, name,
                          "has a '..' component, which could lead outside the submission");
        if (length > 0 && !(length == 1 && p[0] == '.')) {
            if (used > 0)
                normal[used++] = '/';
            memcpy(normal + used, p, length);
            used += length;
            (*depth)++;
        }
        p += length;
        if (*p == '/')
            p++;
    }
    normal[used] = '\0';
    return NN_OK;
}

/* ---- the destination side ------------------------------------------- */

/* Opens the folder `name` under dir, making it first if it is missing.
 * entry_name is the whole entry's name, for messages. */
static nn_status enter_folder(unpacker *u, int dir, const char *name, const char *entry_name,
                              int *out)
{
    char shown[4 * SHOWN_NAME_BYTES + 8];
    show_name(shown, sizeof shown, name);
    bool made = mkdirat(dir, name, FOLDER_MODE) == 0;
    if (!made && errno != EEXIST)
        return refuse(u, NN_ERR_IO, entry_name, "cannot make the folder '%s': %s", shown,
                      strerror(errno));
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* ELOOP: a link where the folder should be, which no entry can
         * have made; refused all the same. */
        if (errno == ENOTDIR || errno == ELOOP)
            return refuse(u, NN_ERR_FORMAT, entry_name,
                          "'%s' is already a file, so it cannot be a folder too", shown);
        return refuse(u, NN_ERR_IO, entry_name, "cannot open the folder '%s': %s", shown,
                      strerror(errno));
    }
    /* mkdirat() applies the umask; the mode is set exactly, once. */
    if (made && fchmod(fd, FOLDER_MODE) != 0) {
        int saved = errno;
        close(fd);
        return refuse(u, NN_ERR_IO, entry_name, "cannot set the mode of '%s': %s", shown,
                      strerror(saved));
    }
    *out = fd;
    return NN_OK;
}

/* Walks the folders of a normalised path (all components but the last),
 * making them as needed. On success *parent is an open descriptor that the
 * caller closes and *leaf points at the last component inside `path`. */
static nn_status open_parent(unpacker *u, char *path, const char *entry_name, int *parent,
                             const char **leaf)
{
    int dir = dup(u->root);
    if (dir < 0)
        return refuse(u, NN_ERR_IO, entry_name, "cannot duplicate a descriptor: %s",
                      strerror(errno));
    char *p = path;
    char *slash;
    while ((slash = strchr(p, '/')) != NULL) {
        *slash = '\0';
        int next = -1;
        nn_status status = enter_folder(u, dir, p, entry_name, &next);
        *slash = '/';
        close(dir);
        if (status != NN_OK)
            return status;
        dir = next;
        p = slash + 1;
    }
    *parent = dir;
    *leaf = p;
    return NN_OK;
}

/* Where a file's bytes come from: an archive entry or an open file. */
typedef struct data_source {
    struct archive *archive; /* NULL for a file */
    int fd;
} data_source;

static nn_status write_all(unpacker *u, int fd, const char *entry_name, const void *data,
                           size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return refuse(u, NN_ERR_IO, entry_name, "cannot write the file: %s",
                          n < 0 ? strerror(errno) : "no progress");
        p += n;
        size -= (size_t)n;
    }
    return NN_OK;
}

/* Copies a file's bytes from source to out, counting them against the
 * bounds before each write. */
static nn_status copy_data(unpacker *u, int out, const char *entry_name, data_source *source)
{
    size_t file_bytes = 0;
    for (;;) {
        ssize_t n;
        if (source->archive != NULL) {
            n = archive_read_data(source->archive, u->buffer, COPY_CHUNK);
            if (n < 0) {
                char message[4 * SHOWN_ERROR_BYTES + 8];
                show_archive_error(message, sizeof message, source->archive);
                return refuse(u, NN_ERR_FORMAT, entry_name, "cannot read its data: %s",
                              message);
            }
        } else {
            n = read(source->fd, u->buffer, COPY_CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return refuse(u, NN_ERR_IO, entry_name, "cannot read the file: %s",
                              strerror(errno));
        }
        if (n == 0)
            return NN_OK;
        size_t got = (size_t)n;
        if (got > u->limits.max_file_bytes - file_bytes)
            return refuse(u, NN_ERR_ARGUMENT, entry_name,
                          "holds more than %zu bytes, the limit for one file",
                          u->limits.max_file_bytes);
        if (got > u->limits.max_total_bytes - u->total_bytes)
            return refuse(u, NN_ERR_ARGUMENT, entry_name,
                          "brings the files past %zu bytes, the limit for the whole submission",
                          u->limits.max_total_bytes);
        nn_status status = write_all(u, out, entry_name, u->buffer, got);
        if (status != NN_OK)
            return status;
        file_bytes += got;
        u->total_bytes += got;
    }
}

/* Creates the regular file `leaf` in dir (which must not exist) and fills
 * it from source. */
static nn_status create_file(unpacker *u, int dir, const char *leaf, const char *entry_name,
                             data_source *source)
{
    int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
    if (fd < 0) {
        if (errno == EEXIST)
            return refuse(u, NN_ERR_FORMAT, entry_name,
                          "something of that name exists already (a folder made for an "
                          "earlier entry)");
        return refuse(u, NN_ERR_IO, entry_name, "cannot create the file: %s", strerror(errno));
    }
    nn_status status = NN_OK;
    if (fchmod(fd, FILE_MODE) != 0)
        status = refuse(u, NN_ERR_IO, entry_name, "cannot set the file's mode: %s",
                        strerror(errno));
    if (status == NN_OK)
        status = copy_data(u, fd, entry_name, source);
    if (close(fd) != 0 && status == NN_OK)
        status = refuse(u, NN_ERR_IO, entry_name, "cannot write the file: %s", strerror(errno));
    if (status == NN_OK)
        u->files++;
    return status;
}

/* ---- archives ------------------------------------------------------- */

/* The rule an entry's type breaks, or NULL for a regular file or folder. */
static const char *type_rule(struct archive_entry *entry)
{
    if (archive_entry_hardlink(entry) != NULL)
        return "is a hard link";
    if (archive_entry_symlink(entry) != NULL)
        return "is a symbolic link";
    switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
    case AE_IFDIR:
        return NULL;
    case AE_IFLNK:
        return "is a symbolic link";
    case AE_IFCHR:
        return "is a character device";
    case AE_IFBLK:
        return "is a block device";
    case AE_IFIFO:
        return "is a FIFO (named pipe)";
    case AE_IFSOCK:
        return "is a socket";
    default:
        return "has an unknown type";
    }
}

static nn_status unpack_entry(unpacker *u, struct archive *archive, struct archive_entry *entry)
{
    const char *name = archive_entry_pathname(entry);
    if (name == NULL)
        name = archive_entry_pathname_utf8(entry);
    if (name == NULL)
        return refuse(u, NN_ERR_FORMAT, "?", "its name cannot be read");

    char *normal = malloc(strlen(name) + 1);
    if (normal == NULL)
        return memory_error(u);
    int depth = 0;
    int parent = -1;
    nn_status status = normalise_name(u, name, normal, &depth);
    if (status != NN_OK)
        goto out_free_normal;

    const char *rule = type_rule(entry);
    if (rule != NULL) {
        status = refuse(u, NN_ERR_FORMAT, name,
                        "%s; only regular files and folders are accepted", rule);
        goto out_free_normal;
    }
    bool folder = archive_entry_filetype(entry) == AE_IFDIR;
    if (normal[0] == '\0') {
        /* "./", the archive's own top folder: nothing to make. */
        if (!folder)
            status = refuse(u, NN_ERR_FORMAT, name, "a file needs a name");
        goto out_free_normal;
    }
    if (depth > u->limits.max_depth) {
        status = refuse(u, NN_ERR_ARGUMENT, name,
                        "is %d levels deep, more than the limit of %d", depth,
                        u->limits.max_depth);
        goto out_free_normal;
    }
    bool added = false;
    size_t first = 0;
    if (path_set_add(&u->seen, normal, u->entries, &added, &first) != NN_OK) {
        status = memory_error(u);
        goto out_free_normal;
    }
    if (!added) {
        status = refuse(u, NN_ERR_FORMAT, name,
                        "the archive holds this path twice (first as entry %zu)", first);
        goto out_free_normal;
    }
    la_int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (folder && declared > 0) {
        status = refuse(u, NN_ERR_FORMAT, name, "is a folder entry that carries %lld bytes",
                        (long long)declared);
        goto out_free_normal;
    }
    /* An early refusal only; the real bound is counted in copy_data(). */
    if (declared > 0 && (uint64_t)declared > (uint64_t)u->limits.max_file_bytes) {
        status = refuse(u, NN_ERR_ARGUMENT, name,
                        "is %lld bytes, more than %zu, the limit for one file",
                        (long long)declared, u->limits.max_file_bytes);
        goto out_free_normal;
    }

    const char *leaf = NULL;
    status = open_parent(u, normal, name, &parent, &leaf);
    if (status != NN_OK)
        goto out_free_normal;
    if (folder) {
        int fd = -1;
        status = enter_folder(u, parent, leaf, name, &fd);
        if (status == NN_OK)
            close(fd);
    } else {
        data_source source = { .archive = archive, .fd = -1 };
        status = create_file(u, parent, leaf, name, &source);
    }
    close(parent);
out_free_normal:
    free(normal);
    return status;
}

static nn_status archive_failure(unpacker *u, struct archive *archive, const char *what)
{
    char message[4 * SHOWN_ERROR_BYTES + 8];
    show_archive_error(message, sizeof message, archive);
    int number = archive_errno(archive);
    nn_status status = NN_ERR_FORMAT;
    if (number == ENOMEM)
        status = NN_ERR_MEMORY;
    else if (number == EIO || number == EACCES || number == ENOENT || number == EISDIR)
        status = NN_ERR_IO;
    return nn_error_set(u->err, status, "%s: %s", what, message);
}

static nn_status unpack_archive(unpacker *u, const char *source)
{
    struct archive *archive = archive_read_new();
    if (archive == NULL)
        return memory_error(u);
    /* Only what students plausibly send; every one of these is built into
     * Debian's libarchive, so no external program ever sees the input. */
    archive_read_support_filter_gzip(archive);
    archive_read_support_filter_bzip2(archive);
    archive_read_support_filter_xz(archive);
    archive_read_support_format_tar(archive);
    archive_read_support_format_zip(archive);

    nn_status status = NN_OK;
    if (archive_read_open_filename(archive, source, COPY_CHUNK) != ARCHIVE_OK) {
        status = archive_failure(u, archive, "cannot read the archive");
        goto out_free_archive;
    }
    for (;;) {
        struct archive_entry *entry = NULL;
        int result = archive_read_next_header(archive, &entry);
        if (result == ARCHIVE_EOF)
            break;
        /* ARCHIVE_WARN still gives a usable entry (a name in an odd
         * character set, say): it goes through the same checks. RETRY
         * means a damaged header that libarchive could skip: refused. */
        if (result != ARCHIVE_OK && result != ARCHIVE_WARN) {
            char what[64];
            if (u->entries == 0)
                snprintf(what, sizeof what, "cannot read the archive");
            else
                snprintf(what, sizeof what, "the archive is damaged after entry %zu",
                         u->entries);
            status = archive_failure(u, archive, what);
            goto out_close;
        }
        u->entries++;
        if (u->entries > u->limits.max_files) {
            const char *name = archive_entry_pathname(entry);
            status = refuse(u, NN_ERR_ARGUMENT, name ? name : "?",
                            "the archive has more than %zu entries, the limit",
                            u->limits.max_files);
            goto out_close;
        }
        status = unpack_entry(u, archive, entry);
        if (status != NN_OK)
            goto out_close;
    }
    if (u->files == 0)
        status = nn_error_set(u->err, NN_ERR_FORMAT,
                              u->entries == 0 ? "the archive is empty"
                                              : "the archive is empty: it holds folders only");
out_close:
    archive_read_close(archive);
out_free_archive:
    archive_read_free(archive);
    return status;
}

/* ---- folders -------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* The names in folder fd except `.` and `..`, sorted; the caller frees
 * them with free_names(). Reads through a duplicate so fd stays usable. */
static nn_status list_names(int fd, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    int copy = dup(fd);
    if (copy < 0)
        return NN_ERR_IO;
    DIR *dir = fdopendir(copy);
    if (dir == NULL) {
        close(copy);
        return NN_ERR_IO;
    }
    /* Duplicates share the file offset: start from the beginning. */
    rewinddir(dir);
    char **names = NULL;
    size_t used = 0, capacity = 0;
    nn_status status = NN_OK;
    struct dirent *d;
    errno = 0;
    while ((d = readdir(dir)) != NULL) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        if (used == capacity) {
            size_t bigger = capacity ? 2 * capacity : 16;
            char **grown = realloc(names, bigger * sizeof *grown);
            if (grown == NULL) {
                status = NN_ERR_MEMORY;
                break;
            }
            names = grown;
            capacity = bigger;
        }
        names[used] = strdup(d->d_name);
        if (names[used] == NULL) {
            status = NN_ERR_MEMORY;
            break;
        }
        used++;
        errno = 0;
    }
    if (status == NN_OK && errno != 0)
        status = NN_ERR_IO;
    closedir(dir);
    if (status != NN_OK) {
        free_names(names, used);
        return status;
    }
    if (used > 1)
        qsort(names, used, sizeof *names, compare_names);
    *out = names;
    *count = used;
    return NN_OK;
}

static nn_status copy_folder(unpacker *u, int from, int to, const char *prefix, int depth);

/* Copies one entry `name` of folder `from` into folder `to`; `path` is
 * its path relative to the submission, for messages and checks. */
static nn_status copy_entry(unpacker *u, int from, int to, const char *name, const char *path,
                            int depth)
{
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return refuse(u, NN_ERR_IO, path, "cannot read its status: %s", strerror(errno));
    if (S_ISDIR(st.st_mode) && strcmp(name, ".git") == 0)
        return NN_OK;
    u->entries++;
    if (u->entries > u->limits.max_files)
        return refuse(u, NN_ERR_ARGUMENT, path, "the folder has more than %zu entries, the limit",
                      u->limits.max_files);
    nn_status status = check_name_bytes(u, path);
    if (status != NN_OK)
        return status;
    if (depth > u->limits.max_depth)
        return refuse(u, NN_ERR_ARGUMENT, path, "is %d levels deep, more than the limit of %d",
                      depth, u->limits.max_depth);

    if (S_ISLNK(st.st_mode))
        return refuse(u, NN_ERR_FORMAT, path,
                      "is a symbolic link; only regular files and folders are accepted");
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ||
        S_ISSOCK(st.st_mode))
        return refuse(u, NN_ERR_FORMAT, path,
                      "is a %s; only regular files and folders are accepted",
                      S_ISCHR(st.st_mode)    ? "character device"
                      : S_ISBLK(st.st_mode)  ? "block device"
                      : S_ISFIFO(st.st_mode) ? "FIFO (named pipe)"
                                             : "socket");
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev == u->root_device && st.st_ino == u->root_inode)
            return refuse(u, NN_ERR_ARGUMENT, path,
                          "is the work folder itself, which must not be inside the submission");
        int source = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (source < 0)
            return refuse(u, NN_ERR_IO, path, "cannot open the folder: %s", strerror(errno));
        int target = -1;
        status = enter_folder(u, to, name, path, &target);
        if (status == NN_OK) {
            status = copy_folder(u, source, target, path, depth);
            close(target);
        }
        close(source);
        return status;
    }
    if (!S_ISREG(st.st_mode))
        return refuse(u, NN_ERR_FORMAT, path, "has an unknown type");
    if (st.st_nlink > 1)
        return refuse(u, NN_ERR_FORMAT, path,
                      "is a hard link (the file has %lu names); only plain files are accepted",
                      (unsigned long)st.st_nlink);
    if ((uint64_t)st.st_size > (uint64_t)u->limits.max_file_bytes)
        return refuse(u, NN_ERR_ARGUMENT, path,
                      "is %lld bytes, more than %zu, the limit for one file",
                      (long long)st.st_size, u->limits.max_file_bytes);
    /* O_NONBLOCK: should a FIFO be swapped in after fstatat(), opening it
     * must not hang; the fstat() below then refuses it. */
    int fd = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return refuse(u, NN_ERR_IO, path, "cannot open the file: %s", strerror(errno));
    struct stat opened;
    if (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_ino != st.st_ino ||
        opened.st_dev != st.st_dev) {
        close(fd);
        return refuse(u, NN_ERR_FORMAT, path, "changed while it was being copied");
    }
    data_source source = { .archive = NULL, .fd = fd };
    status = create_file(u, to, name, path, &source);
    close(fd);
    return status;
}

/* Copies the contents of folder `from` (at `prefix`, "" for the top, `depth`
 * components deep) into folder `to`. */
static nn_status copy_folder(unpacker *u, int from, int to, const char *prefix, int depth)
{
    char **names = NULL;
    size_t count = 0;
    nn_status status = list_names(from, &names, &count);
    if (status == NN_ERR_MEMORY)
        return memory_error(u);
    if (status != NN_OK)
        return nn_error_set(u->err, NN_ERR_IO, "cannot list the folder '%s': %s",
                            prefix[0] ? prefix : ".", strerror(errno));
    for (size_t i = 0; i < count && status == NN_OK; i++) {
        size_t length = strlen(prefix) + strlen(names[i]) + 2;
        char *path = malloc(length);
        if (path == NULL) {
            status = memory_error(u);
            break;
        }
        snprintf(path, length, "%s%s%s", prefix, prefix[0] ? "/" : "", names[i]);
        status = copy_entry(u, from, to, names[i], path, depth + 1);
        free(path);
    }
    free_names(names, count);
    return status;
}

/* ---- the entry point ------------------------------------------------ */

static bool folder_is_empty(int fd)
{
    char **names = NULL;
    size_t count = 0;
    if (list_names(fd, &names, &count) != NN_OK)
        return false;
    free_names(names, count);
    return count == 0;
}

nn_status dg_submission_unpack(const char *source, const char *destination,
                               const dg_submission_limits *limits, nn_error *err)
{
    unpacker u = { .limits = limits ? *limits : dg_submission_default_limits(),
                   .root = -1,
                   .err = err };
    if (u.limits.max_files == 0 || u.limits.max_depth < 1 || u.limits.max_file_bytes == 0 ||
        u.limits.max_total_bytes == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "submission limits must be positive (files %zu, depth %d, "
                            "file bytes %zu, total bytes %zu)",
                            u.limits.max_files, u.limits.max_depth, u.limits.max_file_bytes,
                            u.limits.max_total_bytes);
    struct stat st;
    if (stat(source, &st) != 0)
        return nn_error_set(err, NN_ERR_IO, "cannot read the submission '%s': %s", source,
                            strerror(errno));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "the submission '%s' is neither a folder nor an archive file",
                            source);

    u.root = open(destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (u.root < 0)
        return nn_error_set(err, NN_ERR_IO, "cannot open the work folder '%s': %s",
                            destination, strerror(errno));
    nn_status status = NN_OK;
    struct stat root_st;
    if (fstat(u.root, &root_st) != 0) {
        status = nn_error_set(err, NN_ERR_IO, "cannot read the work folder '%s': %s",
                              destination, strerror(errno));
        goto out_close_root;
    }
    u.root_device = root_st.st_dev;
    u.root_inode = root_st.st_ino;
    if (!folder_is_empty(u.root)) {
        status = nn_error_set(err, NN_ERR_ARGUMENT, "the work folder '%s' is not empty",
                              destination);
        goto out_close_root;
    }
    u.buffer = malloc(COPY_CHUNK);
    if (u.buffer == NULL) {
        status = memory_error(&u);
        goto out_close_root;
    }

    if (S_ISREG(st.st_mode)) {
        if (st.st_size == 0)
            status = nn_error_set(err, NN_ERR_FORMAT, "the archive is empty (0 bytes)");
        else
            status = unpack_archive(&u, source);
    } else {
        int from = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (from < 0) {
            status = nn_error_set(err, NN_ERR_IO, "cannot open the submission folder '%s': %s",
                                  source, strerror(errno));
        } else {
            status = copy_folder(&u, from, u.root, "", 0);
            close(from);
            if (status == NN_OK && u.files == 0)
                status = nn_error_set(err, NN_ERR_FORMAT,
                                      "the submission folder holds no files");
        }
    }
    free(u.buffer);
    path_set_free(&u.seen);
out_close_root:
    close(u.root);
    return status;
}

/* ---- finding a file ------------------------------------------------- */

static nn_status join_path(char *buffer, size_t size, const char *a, const char *b,
                           const char *c, nn_error *err)
{
    int n = c ? snprintf(buffer, size, "%s/%s/%s", a, b, c) : snprintf(buffer, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return nn_error_set(err, NN_ERR_ARGUMENT, "the path to '%s' in '%s' is longer than %zu bytes",
                            c ? c : b, a, size - 1);
    return NN_OK;
}

/* True if path names a regular file, symbolic links not followed. (The
 * components of the path are our own unpacked folders, which hold none.) */
static bool is_regular_file(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

nn_status dg_submission_find(char *buffer, size_t buffer_size, const char *root,
                             const char *name, nn_error *err)
{
    if (buffer_size > 0)
        buffer[0] = '\0';
    if (name[0] == '\0' || name[0] == '/' || strcmp(name, "..") == 0 ||
        strncmp(name, "../", 3) == 0 || strstr(name, "/../") != NULL ||
        (strlen(name) >= 3 && strcmp(name + strlen(name) - 3, "/..") == 0))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "'%s' is not a relative path inside the submission", name);
    if (buffer_size == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "no room for the path to '%s'", name);

    nn_status status = join_path(buffer, buffer_size, root, name, NULL, err);
    if (status != NN_OK)
        return status;
    if (is_regular_file(buffer))
        return NN_OK;

    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        buffer[0] = '\0';
        return nn_error_set(err, NN_ERR_IO, "cannot open the submission folder '%s': %s", root,
                            strerror(errno));
    }
    char **names = NULL;
    size_t count = 0;
    status = list_names(fd, &names, &count);
    if (status != NN_OK) {
        close(fd);
        buffer[0] = '\0';
        return nn_error_set(err, status, "cannot list the submission folder '%s'", root);
    }
    const char *single = NULL;
    size_t visible = 0;
    for (size_t i = 0; i < count; i++) {
        if (names[i][0] == '.' || strcmp(names[i], "__MACOSX") == 0)
            continue;
        visible++;
        struct stat st;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            single = names[i];
    }
    close(fd);
    if (visible == 1 && single != NULL) {
        status = join_path(buffer, buffer_size, root, single, name, err);
        if (status == NN_OK && !is_regular_file(buffer))
            status = nn_error_set(err, NN_ERR_IO,
                                  "the submission has no file '%s', neither at the top nor in "
                                  "its folder '%s'",
                                  name, single);
    } else {
        status = nn_error_set(err, NN_ERR_IO, "the submission has no file '%s' at its top",
                              name);
    }
    free_names(names, count);
    if (status != NN_OK)
        buffer[0] = '\0';
    return status;
}

/* ---- removing a tree ------------------------------------------------ */

/* One folder on the way down: its name in its parent (NULL for the top)
 * and its identity, checked when climbing back through "..". */
typedef struct level {
    char *name;
    dev_t device;
    ino_t inode;
} level;

/* Opens the folder `name` under dir without following a link, making it
 * readable first if it is not (a sandboxed program may chmod 000 its
 * folders). */
static int open_folder_for_removal(int dir, const char *name)
{
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES &&
        fchmodat(dir, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0)
        fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

static int unlink_in(int dir, const char *name, int flags)
{
    if (unlinkat(dir, name, flags) == 0)
        return 0;
    /* A read-only folder cannot lose entries: make it writable, once. */
    if (errno == EACCES && fchmod(dir, S_IRWXU) == 0)
        return unlinkat(dir, name, flags);
    return -1;
}

/* Removes every entry of folder fd that is not a folder; *subfolder gets
 * (owned) the name of one folder inside, or NULL; *removed counts what was
 * removed. */
static nn_status clear_files(int fd, char **subfolder, size_t *removed, const char *top,
                             nn_error *err)
{
    *subfolder = NULL;
    *removed = 0;
    char **names = NULL;
    size_t count = 0;
    nn_status status = list_names(fd, &names, &count);
    if (status != NN_OK)
        return nn_error_set(err, status, "removing '%s': cannot list a folder in it", top);
    for (size_t i = 0; i < count && status == NN_OK; i++) {
        struct stat st;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue;
            status = nn_error_set(err, NN_ERR_IO, "removing '%s': cannot read '%s': %s", top,
                                  names[i], strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (*subfolder == NULL) {
                *subfolder = names[i];
                names[i] = NULL;
            }
        } else if (unlink_in(fd, names[i], 0) != 0 && errno != ENOENT) {
            status = nn_error_set(err, NN_ERR_IO, "removing '%s': cannot remove '%s': %s", top,
                                  names[i], strerror(errno));
        } else {
            (*removed)++;
        }
    }
    free_names(names, count);
    if (status != NN_OK) {
        free(*subfolder);
        *subfolder = NULL;
    }
    return status;
}

/* Empties the folder fd (consumed), going down one folder at a time and
 * back up through "..", so the depth costs memory, not descriptors. */
static nn_status empty_tree(int fd, const char *top, nn_error *err)
{
    level *levels = NULL;
    size_t depth = 0, capacity = 0;
    nn_status status = NN_OK;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return nn_error_set(err, NN_ERR_IO, "removing '%s': %s", top, strerror(errno));
    }
    const dev_t device = st.st_dev;
    levels = malloc(16 * sizeof *levels);
    if (levels == NULL) {
        close(fd);
        return nn_error_set(err, NN_ERR_MEMORY, "removing '%s': out of memory", top);
    }
    capacity = 16;
    levels[0] = (level){ NULL, st.st_dev, st.st_ino };

    for (;;) {
        char *subfolder = NULL;
        size_t removed = 0;
        status = clear_files(fd, &subfolder, &removed, top, err);
        if (status != NN_OK)
            break;
        if (subfolder != NULL) {
            int child = open_folder_for_removal(fd, subfolder);
            if (child < 0 || fstat(child, &st) != 0) {
                status = nn_error_set(err, NN_ERR_IO, "removing '%s': cannot open '%s': %s",
                                      top, subfolder, strerror(errno));
                if (child >= 0)
                    close(child);
                free(subfolder);
                break;
            }
            if (st.st_dev != device) {
                status = nn_error_set(err, NN_ERR_IO,
                                      "removing '%s': '%s' is on another filesystem (a mount "
                                      "point?); not crossing into it",
                                      top, subfolder);
                close(child);
                free(subfolder);
                break;
            }
            if (depth + 1 == capacity) {
                level *grown = realloc(levels, 2 * capacity * sizeof *grown);
                if (grown == NULL) {
                    status = nn_error_set(err, NN_ERR_MEMORY, "removing '%s': out of memory",
                                          top);
                    close(child);
                    free(subfolder);
                    break;
                }
                levels = grown;
                capacity *= 2;
            }
            depth++;
            levels[depth] = (level){ subfolder, st.st_dev, st.st_ino };
            close(fd);
            fd = child;
            continue;
        }
        if (removed > 0)
            continue; /* look again: readdir may miss entries while we unlink */
        if (depth == 0)
            break;
        int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0 || fstat(parent, &st) != 0 || st.st_dev != levels[depth - 1].device ||
            st.st_ino != levels[depth - 1].inode) {
            status = nn_error_set(err, NN_ERR_IO,
                                  "removing '%s': the tree moved while it was being removed",
                                  top);
            if (parent >= 0)
                close(parent);
            break;
        }
        close(fd);
        fd = parent;
        if (unlink_in(fd, levels[depth].name, AT_REMOVEDIR) != 0) {
            status = nn_error_set(err, NN_ERR_IO, "removing '%s': cannot remove '%s': %s", top,
                                  levels[depth].name, strerror(errno));
            break;
        }
        free(levels[depth].name);
        depth--;
    }
    close(fd);
    for (size_t i = 1; i <= depth; i++)
        free(levels[i].name);
    free(levels);
    return status;
}

static nn_status remove_path(const char *path, nn_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return NN_OK;
        return nn_error_set(err, NN_ERR_IO, "removing '%s': %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0)
            return nn_error_set(err, NN_ERR_IO, "removing '%s': %s", path, strerror(errno));
        return NN_OK;
    }
    int fd = open_folder_for_removal(AT_FDCWD, path);
    if (fd < 0)
        return nn_error_set(err, NN_ERR_IO, "removing '%s': cannot open it: %s", path,
                            strerror(errno));
    nn_status status = empty_tree(fd, path, err);
    if (status != NN_OK)
        return status;
    if (rmdir(path) != 0)
        return nn_error_set(err, NN_ERR_IO, "removing '%s': %s", path, strerror(errno));
    return NN_OK;
}

nn_status dg_remove_tree(const char *given, nn_error *err)
{
    /* "link/" would make lstat() and open() resolve the link: drop
     * trailing slashes so that the last component is looked at itself. */
    size_t length = strlen(given);
    while (length > 1 && given[length - 1] == '/')
        length--;
    char *path = strndup(given, length);
    if (path == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "removing '%s': out of memory", given);
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    nn_status status;
    if (strcmp(path, "/") == 0 || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 ||
        last[0] == '\0')
        status = nn_error_set(err, NN_ERR_ARGUMENT,
                              "removing '%s': refusing to remove the root, '.' or '..'", given);
    else
        status = remove_path(path, err);
    free(path);
    return status;
}
