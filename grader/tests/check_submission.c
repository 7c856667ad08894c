/*
 * check_submission.c - unpacking submissions: well-formed archives (tar in
 * every accepted compression, zip) and folders come out exactly, with fixed
 * modes; every hostile archive or folder is refused with the right status
 * and a message naming the entry and the rule, and nothing ever appears
 * outside the destination; finding files in an unpacked submission;
 * removing trees without following links.
 *
 * Every archive is written by the test itself: with libarchive's writer
 * where it can express the case, by hand (ustar blocks, zip records) where
 * a header must lie. Each test works in a private temporary folder holding
 * `dest` (the destination), `sentinel` (an empty folder that the escape
 * attempts aim at) and the submission; after a refusal the test checks that
 * the temporary folder holds nothing else and that the sentinel is empty.
 */
#include "submission.h"
#include "../../reference/tests/testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <zlib.h>

/* ---- the scratch area ------------------------------------------------ */

/* out = dir/name, which must fit. */
static void join_path(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < size);
}
#define JOIN(out, dir, name) join_path(out, sizeof out, dir, name)

static char base[256];
static char dest[512];
static char sentinel[512];
static char source[512];

static void setup(void)
{
    test_make_temp_dir(base, sizeof base);
    JOIN(dest, base, "dest");
    JOIN(sentinel, base, "sentinel");
    JOIN(source, base, "submission");
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    ck_assert_int_eq(mkdir(sentinel, 0755), 0);
}

static void teardown(void)
{
    test_remove_dir(base);
}

/* ---- writing archives ------------------------------------------------ */

typedef enum archive_kind { TAR_GZ, TAR_BZ2, TAR_XZ, TAR_PLAIN, ZIP } archive_kind;

typedef struct test_entry {
    const char *path;
    char type;        /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link,
                         'c' character device, 'p' FIFO */
    const char *data; /* a file's contents, or a link's target */
    int mode;         /* permission bits; 0 for 0644 (files) or 0755 */
} test_entry;

static void write_archive(const char *path, archive_kind kind, const test_entry *entries,
                          size_t count)
{
    struct archive *a = archive_write_new();
    ck_assert_ptr_nonnull(a);
    if (kind == ZIP) {
        ck_assert_int_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    } else {
        ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        int filter = kind == TAR_GZ    ? archive_write_add_filter_gzip(a)
                     : kind == TAR_BZ2 ? archive_write_add_filter_bzip2(a)
                     : kind == TAR_XZ  ? archive_write_add_filter_xz(a)
                                       : archive_write_add_filter_none(a);
        ck_assert_int_eq(filter, ARCHIVE_OK);
    }
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < count; i++) {
        const test_entry *e = &entries[i];
        struct archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, e->path);
        archive_entry_set_mtime(entry, 1700000000, 0);
        size_t size = 0;
        switch (e->type) {
        case 'f':
            size = strlen(e->data);
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, e->mode ? (mode_t)e->mode : 0644);
            archive_entry_set_size(entry, (la_int64_t)size);
            break;
        case 'd':
            archive_entry_set_filetype(entry, AE_IFDIR);
            archive_entry_set_perm(entry, e->mode ? (mode_t)e->mode : 0755);
            break;
        case 'l':
            archive_entry_set_filetype(entry, AE_IFLNK);
            archive_entry_set_perm(entry, 0777);
            archive_entry_set_symlink(entry, e->data);
            break;
        case 'h':
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, 0644);
            archive_entry_set_hardlink(entry, e->data);
            archive_entry_set_size(entry, 0);
            break;
        case 'c':
            archive_entry_set_filetype(entry, AE_IFCHR);
            archive_entry_set_perm(entry, 0666);
            archive_entry_set_rdev(entry, makedev(1, 3));
            break;
        case 'p':
            archive_entry_set_filetype(entry, AE_IFIFO);
            archive_entry_set_perm(entry, 0644);
            break;
        default:
            ck_abort_msg("bad test entry type '%c'", e->type);
        }
        ck_assert_msg(archive_write_header(a, entry) == ARCHIVE_OK, "writing '%s': %s", e->path,
                      archive_error_string(a));
        if (size > 0)
            ck_assert_int_eq(archive_write_data(a, e->data, size), (la_ssize_t)size);
        archive_entry_free(entry);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

#define WRITE_TGZ(entries) write_archive(source, TAR_GZ, entries, sizeof entries / sizeof entries[0])

static void write_bytes(const char *path, const void *bytes, size_t count)
{
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    if (count > 0)
        ck_assert_uint_eq(fwrite(bytes, 1, count, file), count);
    ck_assert_int_eq(fclose(file), 0);
}

/* A string of `count` bytes cycling through the alphabet, NUL-terminated. */
static char *make_text(size_t count)
{
    char *text = malloc(count + 1);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < count; i++)
        text[i] = (char)('a' + i % 26);
    text[count] = '\0';
    return text;
}

/* ---- reading what came out ------------------------------------------- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the paths under root/relative to lines: folders end in '/',
 * anything neither a file nor a folder in '?'. Adds file sizes to *bytes. */
static void walk(const char *root, const char *relative, char **lines, size_t *count,
                 size_t capacity, size_t *bytes)
{
    char path[4096];
    JOIN(path, root, relative);
    DIR *dir = opendir(path);
    ck_assert_ptr_nonnull(dir);
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        char child[4096], full[4096];
        if (relative[0])
            JOIN(child, relative, d->d_name);
        else
            snprintf(child, sizeof child, "%s", d->d_name);
        JOIN(full, root, child);
        struct stat st;
        ck_assert_int_eq(lstat(full, &st), 0);
        ck_assert_uint_lt(*count, capacity);
        size_t length = strlen(child) + 2;
        lines[*count] = malloc(length);
        ck_assert_ptr_nonnull(lines[*count]);
        snprintf(lines[*count], length, "%s%s", child,
                 S_ISDIR(st.st_mode) ? "/" : S_ISREG(st.st_mode) ? "" : "?");
        (*count)++;
        if (S_ISREG(st.st_mode))
            *bytes += (size_t)st.st_size;
        if (S_ISDIR(st.st_mode))
            walk(root, child, lines, count, capacity, bytes);
    }
    closedir(dir);
}

/* The tree under root as sorted lines joined by spaces, e.g.
 * "a.c sub/ sub/b.c"; *bytes (may be NULL) gets the files' total size. */
static void list_tree(const char *root, char *out, size_t size, size_t *bytes)
{
    char *lines[256];
    size_t count = 0, total = 0;
    walk(root, "", lines, &count, 256, &total);
    qsort(lines, count, sizeof *lines, compare_strings);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, lines[i], size - strlen(out) - 1);
        free(lines[i]);
    }
    if (bytes != NULL)
        *bytes = total;
}

static void assert_file(const char *relative, const char *expected, mode_t mode)
{
    char path[1024];
    JOIN(path, dest, relative);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file", relative);
    ck_assert_uint_eq(st.st_mode & 07777, mode);
    size_t length = strlen(expected);
    ck_assert_uint_eq((size_t)st.st_size, length);
    char *got = malloc(length + 1);
    ck_assert_ptr_nonnull(got);
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fread(got, 1, length, file), length);
    fclose(file);
    ck_assert_int_eq(memcmp(got, expected, length), 0);
    free(got);
}

static void assert_folder_mode(const char *relative, mode_t mode)
{
    char path[1024];
    JOIN(path, dest, relative);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, mode);
}

/* The scratch folder holds dest, the submission and an empty sentinel:
 * nothing was created beside or above the destination. */
static void assert_nothing_escaped(void)
{
    char listing[4096];
    list_tree(sentinel, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "");
    DIR *dir = opendir(base);
    ck_assert_ptr_nonnull(dir);
    struct dirent *d;
    while ((d = readdir(dir)) != NULL)
        ck_assert_msg(strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
                          strcmp(d->d_name, "dest") == 0 ||
                          strcmp(d->d_name, "sentinel") == 0 ||
                          strncmp(d->d_name, "submission", 10) == 0 ||
                          strcmp(d->d_name, "outside") == 0,
                      "'%s' appeared beside the destination", d->d_name);
    closedir(dir);
}

/* Unpacks source and checks the refusal: status, the message fragment
 * (entry index, name, rule), and that nothing escaped. */
static void expect_refused(const dg_submission_limits *limits, nn_status status,
                           const char *fragment1, const char *fragment2)
{
    nn_error err = { 0 };
    nn_status got = dg_submission_unpack(source, dest, limits, &err);
    ck_assert_msg(got == status, "status %s, expected %s (%s)", nn_status_name(got),
                  nn_status_name(status), err.message);
    ck_assert_msg(strstr(err.message, fragment1) != NULL, "'%s' not in the message '%s'",
                  fragment1, err.message);
    if (fragment2 != NULL)
        ck_assert_msg(strstr(err.message, fragment2) != NULL, "'%s' not in the message '%s'",
                      fragment2, err.message);
    assert_nothing_escaped();
}

static void expect_unpacked(const dg_submission_limits *limits)
{
    nn_error err = { 0 };
    nn_status got = dg_submission_unpack(source, dest, limits, &err);
    ck_assert_msg(got == NN_OK, "refused: %s", err.message);
    assert_nothing_escaped();
}

static dg_submission_limits small_limits(size_t files, size_t file_bytes, size_t total_bytes)
{
    dg_submission_limits limits = dg_submission_default_limits();
    limits.max_files = files;
    limits.max_file_bytes = file_bytes;
    limits.max_total_bytes = total_bytes;
    return limits;
}

/* ---- well-formed archives -------------------------------------------- */

static const archive_kind kinds[] = { TAR_GZ, TAR_BZ2, TAR_XZ, TAR_PLAIN, ZIP };
static const char *const kind_names[] = { "tar.gz", "tar.bz2", "tar.xz", "tar", "zip" };

START_TEST(archive_extracts_exactly_its_files_with_fixed_modes)
{
    /* Odd modes in the archive (setuid, group-writable, a private folder)
     * must not survive: files 0644, folders 0755, even under umask 077. */
    const test_entry entries[] = {
        { "./", 'd', NULL, 0 },
        { "./linear.c", 'f', "int linear(void) { return 1; }\n", 0 },
        { "sub/", 'd', NULL, 0700 },
        { "sub/relu.c", 'f', "/* relu */\n", 04755 },
        { "sub/deeper/notes.txt", 'f', "implicit parent folder\n", 0666 },
        { "sub//odd/./name.h", 'f', "#pragma once\n", 02775 },
        { "empty.txt", 'f', "", 0 },
    };
    write_archive(source, kinds[_i], entries, sizeof entries / sizeof entries[0]);
    mode_t old_mask = umask(077);
    nn_error err = { 0 };
    nn_status status = dg_submission_unpack(source, dest, NULL, &err);
    umask(old_mask);
    ck_assert_msg(status == NN_OK, "%s refused: %s", kind_names[_i], err.message);

    char listing[4096];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "empty.txt linear.c sub/ sub/deeper/ sub/deeper/notes.txt "
                              "sub/odd/ sub/odd/name.h sub/relu.c");
    assert_file("linear.c", "int linear(void) { return 1; }\n", 0644);
    assert_file("sub/relu.c", "/* relu */\n", 0644);
    assert_file("sub/deeper/notes.txt", "implicit parent folder\n", 0644);
    assert_file("sub/odd/name.h", "#pragma once\n", 0644);
    assert_file("empty.txt", "", 0644);
    assert_folder_mode("sub", 0755);
    assert_folder_mode("sub/deeper", 0755);
    assert_nothing_escaped();
}
END_TEST

START_TEST(folder_entry_after_its_files_is_accepted)
{
    /* Some tools list a folder after its contents: not a duplicate. */
    const test_entry entries[] = {
        { "sub/a.c", 'f', "a\n", 0 },
        { "sub/", 'd', NULL, 0 },
    };
    WRITE_TGZ(entries);
    expect_unpacked(NULL);
    assert_file("sub/a.c", "a\n", 0644);
}
END_TEST

START_TEST(limits_are_inclusive)
{
    /* Exactly max_files entries, a file of exactly max_file_bytes, a total
     * of exactly max_total_bytes and a path exactly max_depth deep pass. */
    char *hundred = make_text(100);
    const test_entry entries[] = {
        { "a/", 'd', NULL, 0 },
        { "a/b/c.txt", 'f', hundred, 0 },
        { "d.txt", 'f', hundred, 0 },
    };
    WRITE_TGZ(entries);
    dg_submission_limits limits = small_limits(3, 100, 200);
    limits.max_depth = 3;
    expect_unpacked(&limits);
    assert_file("a/b/c.txt", hundred, 0644);
    free(hundred);
}
END_TEST

START_TEST(single_top_level_folder_is_found)
{
    const test_entry entries[] = {
        { "submission/", 'd', NULL, 0 },
        { "submission/linear.c", 'f', "linear\n", 0 },
        { "submission/layers/relu.c", 'f', "relu\n", 0 },
        { "__MACOSX/submission/._linear.c", 'f', "resource fork\n", 0 },
        { ".DS_Store", 'f', "finder\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_unpacked(NULL);

    char path[1024], expected[1024];
    nn_error err = { 0 };
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "linear.c", &err), NN_OK);
    JOIN(expected, dest, "submission/linear.c");
    ck_assert_str_eq(path, expected);
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "layers/relu.c", &err), NN_OK);
    JOIN(expected, dest, "submission/layers/relu.c");
    ck_assert_str_eq(path, expected);

    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "conv.c", &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "'conv.c'"));
    ck_assert_ptr_nonnull(strstr(err.message, "'submission'"));
    ck_assert_str_eq(path, "");
    /* A folder is not a file. */
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "layers", &err), NN_ERR_IO);
}
END_TEST

START_TEST(find_prefers_the_top_and_needs_a_single_folder)
{
    const test_entry entries[] = {
        { "linear.c", 'f', "top\n", 0 },
        { "one/relu.c", 'f', "one\n", 0 },
        { "two/relu.c", 'f', "two\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_unpacked(NULL);
    char path[1024], expected[1024];
    nn_error err = { 0 };
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "linear.c", &err), NN_OK);
    JOIN(expected, dest, "linear.c");
    ck_assert_str_eq(path, expected);
    /* Two folders: which one would be the submission? Neither. */
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "relu.c", &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "'relu.c'"));
}
END_TEST

START_TEST(find_refuses_unsafe_names_and_small_buffers)
{
    const test_entry entries[] = { { "linear.c", 'f', "x\n", 0 } };
    WRITE_TGZ(entries);
    expect_unpacked(NULL);
    char path[1024];
    nn_error err = { 0 };
    const char *unsafe[] = { "../sentinel", "/etc/passwd", "a/../../x", "..", "sub/..", "" };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++)
        ck_assert_msg(dg_submission_find(path, sizeof path, dest, unsafe[i], &err) ==
                          NN_ERR_ARGUMENT,
                      "'%s' accepted", unsafe[i]);
    char tiny[8];
    ck_assert_int_eq(dg_submission_find(tiny, sizeof tiny, dest, "linear.c", &err),
                     NN_ERR_ARGUMENT);
}
END_TEST

START_TEST(find_does_not_follow_a_symlink)
{
    /* An unpacked tree never holds links, but find must not trust that. */
    write_bytes(source, "x", 1);
    char target[1024], link[1024], path[1024];
    JOIN(target, sentinel, "linear.c");
    write_bytes(target, "outside\n", 8);
    JOIN(link, dest, "linear.c");
    ck_assert_int_eq(symlink(target, link), 0);
    nn_error err = { 0 };
    ck_assert_int_eq(dg_submission_find(path, sizeof path, dest, "linear.c", &err), NN_ERR_IO);
}
END_TEST

/* ---- hostile archives -------------------------------------------------- */

START_TEST(absolute_path_is_refused)
{
    char target[1024];
    JOIN(target, sentinel, "absolute.txt");
    const test_entry entries[] = {
        { "fine.c", 'f', "fine\n", 0 },
        { target, 'f', "escaped\n", 0 },
    };
    WRITE_TGZ(entries);
    char expected[1100];
    snprintf(expected, sizeof expected, "entry 2 '%s': is an absolute path", target);
    expect_refused(NULL, NN_ERR_FORMAT, expected, NULL);
}
END_TEST

START_TEST(dotdot_escape_is_refused)
{
    const test_entry entries[] = { { "../sentinel/escaped.txt", 'f', "escaped\n", 0 } };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 '../sentinel/escaped.txt': has a '..'", NULL);
}
END_TEST

START_TEST(nested_dotdot_escape_is_refused)
{
    const test_entry entries[] = {
        { "a/", 'd', NULL, 0 },
        { "a/../../sentinel/nested.txt", 'f', "escaped\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'a/../../sentinel/nested.txt': has a '..'",
                   NULL);
}
END_TEST

START_TEST(dotdot_that_stays_inside_is_still_refused)
{
    /* a/../b.c would land inside, but a `..` is never needed. */
    const test_entry entries[] = { { "a/../b.c", 'f', "b\n", 0 } };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'a/../b.c': has a '..'", NULL);
}
END_TEST

START_TEST(symlink_entry_is_refused)
{
    /* If the link were made, the second entry would write through it. */
    const test_entry entries[] = {
        { "link", 'l', sentinel, 0 },
        { "link/owned.txt", 'f', "escaped\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'link': is a symbolic link", NULL);
    char listing[256];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "");
}
END_TEST

START_TEST(symlink_entry_in_a_zip_is_refused)
{
    const test_entry entries[] = {
        { "a.c", 'f', "a\n", 0 },
        { "link", 'l', "/etc/passwd", 0 },
    };
    write_archive(source, ZIP, entries, 2);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'link': is a symbolic link", NULL);
}
END_TEST

START_TEST(hardlink_entry_is_refused)
{
    const test_entry entries[] = {
        { "a.txt", 'f', "a\n", 0 },
        { "b.txt", 'h', "a.txt", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'b.txt': is a hard link", NULL);
}
END_TEST

START_TEST(character_device_is_refused)
{
    const test_entry entries[] = { { "null", 'c', NULL, 0 } };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'null': is a character device", NULL);
    char listing[256];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "");
}
END_TEST

START_TEST(fifo_is_refused)
{
    const test_entry entries[] = {
        { "a.c", 'f', "a\n", 0 },
        { "sub/pipe", 'p', NULL, 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'sub/pipe': is a FIFO", NULL);
}
END_TEST

START_TEST(too_many_entries_are_refused)
{
    const test_entry entries[] = {
        { "f1.txt", 'f', "1", 0 },
        { "f2.txt", 'f', "2", 0 },
        { "f3.txt", 'f', "3", 0 },
        { "f4.txt", 'f', "4", 0 },
    };
    WRITE_TGZ(entries);
    dg_submission_limits limits = small_limits(3, 100, 1000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 4 'f4.txt': ", "more than 3 entries");
    char listing[256];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "f1.txt f2.txt f3.txt");
}
END_TEST

START_TEST(file_over_the_size_bound_is_refused)
{
    char *big = make_text(101);
    const test_entry entries[] = {
        { "small.txt", 'f', "small\n", 0 },
        { "big.txt", 'f', big, 0 },
    };
    WRITE_TGZ(entries);
    dg_submission_limits limits = small_limits(10, 100, 1000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 2 'big.txt': is 101 bytes", "100");
    free(big);
}
END_TEST

START_TEST(total_over_the_bound_is_refused)
{
    char *hundred = make_text(100);
    const test_entry entries[] = {
        { "a.txt", 'f', hundred, 0 },
        { "b.txt", 'f', hundred, 0 },
        { "c.txt", 'f', hundred, 0 },
    };
    WRITE_TGZ(entries);
    dg_submission_limits limits = small_limits(10, 100, 250);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 3 'c.txt': ",
                   "limit for the whole submission");
    size_t bytes = 0;
    char listing[256];
    list_tree(dest, listing, sizeof listing, &bytes);
    ck_assert_uint_le(bytes, 250);
    free(hundred);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
    const test_entry entries[] = { { "a/b/c/d.txt", 'f', "deep\n", 0 } };
    WRITE_TGZ(entries);
    dg_submission_limits limits = dg_submission_default_limits();
    limits.max_depth = 3;
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 1 'a/b/c/d.txt': is 4 levels deep",
                   "limit of 3");
}
END_TEST

START_TEST(duplicate_entries_are_refused)
{
    const test_entry entries[] = {
        { "a.c", 'f', "first\n", 0 },
        { "b.c", 'f', "b\n", 0 },
        { "./a.c", 'f', "second\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 3 './a.c': ", "twice (first as entry 1)");
    assert_file("a.c", "first\n", 0644);
}
END_TEST

START_TEST(duplicate_folder_entries_are_refused)
{
    const test_entry entries[] = {
        { "sub/", 'd', NULL, 0 },
        { "sub/a.c", 'f', "a\n", 0 },
        { "sub", 'd', NULL, 0 },
    };
    WRITE_TGZ(entries);
    /* libarchive's writer spells the third name "sub/". */
    expect_refused(NULL, NN_ERR_FORMAT, "entry 3 'sub/': ", "twice (first as entry 1)");
}
END_TEST

START_TEST(file_under_a_file_is_refused)
{
    const test_entry entries[] = {
        { "a", 'f', "a file\n", 0 },
        { "a/b.c", 'f', "b\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'a/b.c': 'a' is already a file", NULL);
}
END_TEST

START_TEST(file_over_a_folder_is_refused)
{
    const test_entry entries[] = {
        { "a/b.c", 'f', "b\n", 0 },
        { "a", 'f', "a file\n", 0 },
    };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'a': something of that name exists", NULL);
}
END_TEST

START_TEST(control_characters_in_names_are_refused)
{
    const test_entry entries[] = { { "bad\nname.c", 'f', "x\n", 0 } };
    WRITE_TGZ(entries);
    /* The newline is shown escaped, never raw. */
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'bad\\x0aname.c': ", "control character");
}
END_TEST

START_TEST(long_names_are_refused)
{
    char name[DG_SUBMISSION_MAX_NAME + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const test_entry entries[] = { { name, 'f', "x\n", 0 } };
    WRITE_TGZ(entries);
    char expected[64];
    snprintf(expected, sizeof expected, "is %d bytes long, more than %d",
             DG_SUBMISSION_MAX_NAME + 1, DG_SUBMISSION_MAX_NAME);
    /* The name in the message is cut short. */
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'nnnnnnnnnn", expected);

    /* Exactly the limit passes. */
    test_remove_dir(dest);
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    name[DG_SUBMISSION_MAX_NAME - 2] = '\0';
    char path[DG_SUBMISSION_MAX_NAME + 1];
    JOIN(path, "d", name); /* 200 bytes, two components */
    const test_entry fits[] = { { path, 'f', "x\n", 0 } };
    WRITE_TGZ(fits);
    expect_unpacked(NULL);
}
END_TEST

/* ---- lying headers ----------------------------------------------------- */

static void put16(unsigned char *p, unsigned int v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* A zip with one deflated entry whose local and central headers both
 * declare `declared` uncompressed bytes, while the deflate stream holds
 * `actual` bytes: a zip bomb in miniature. */
static void write_lying_zip(const char *path, const char *name, size_t declared, size_t actual)
{
    char *data = make_text(actual);
    unsigned char *packed = malloc(actual + 1024);
    ck_assert_ptr_nonnull(packed);
    z_stream z = { 0 };
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)actual;
    z.next_out = packed;
    z.avail_out = (unsigned)(actual + 1024);
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t packed_size = z.total_out;
    deflateEnd(&z);
    uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)data, (unsigned)actual);

    size_t name_length = strlen(name);
    size_t size = 30 + name_length + packed_size + 46 + name_length + 22;
    unsigned char *zip = calloc(1, size);
    ck_assert_ptr_nonnull(zip);
    unsigned char *p = zip;
    put32(p, 0x04034b50);
    put16(p + 4, 20);
    put16(p + 8, 8);
    put32(p + 14, crc);
    put32(p + 18, (uint32_t)packed_size);
    put32(p + 22, (uint32_t)declared);
    put16(p + 26, (unsigned)name_length);
    memcpy(p + 30, name, name_length);
    memcpy(p + 30 + name_length, packed, packed_size);
    unsigned char *central = p + 30 + name_length + packed_size;
    put32(central, 0x02014b50);
    put16(central + 4, 0x031e); /* made on Unix */
    put16(central + 6, 20);
    put16(central + 10, 8);
    put32(central + 16, crc);
    put32(central + 20, (uint32_t)packed_size);
    put32(central + 24, (uint32_t)declared);
    put16(central + 28, (unsigned)name_length);
    put32(central + 38, (uint32_t)0100644 << 16);
    put32(central + 42, 0);
    memcpy(central + 46, name, name_length);
    unsigned char *end = central + 46 + name_length;
    put32(end, 0x06054b50);
    put16(end + 8, 1);
    put16(end + 10, 1);
    put32(end + 12, (uint32_t)(46 + name_length));
    put32(end + 16, (uint32_t)(central - zip));
    write_bytes(path, zip, size);
    free(zip);
    free(packed);
    free(data);
}

START_TEST(zip_entry_understating_its_size_is_bounded)
{
    /* Declares 10 bytes, inflates to 2 MiB: the header check passes, so
     * only counting the bytes written can stop it. (libarchive notices the
     * lie itself, but only at the end of the entry, after handing over
     * all the data; a bomb smaller than its 256 KiB buffer would be caught
     * by that check instead.) */
    write_lying_zip(source, "bomb.txt", 10, (size_t)2 << 20);
    dg_submission_limits limits = small_limits(10, 1000, 100000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 1 'bomb.txt': holds more than 1000 bytes",
                   NULL);
    size_t bytes = 0;
    char listing[256];
    list_tree(dest, listing, sizeof listing, &bytes);
    ck_assert_uint_le(bytes, 1000);
}
END_TEST

START_TEST(zip_entry_understating_its_size_is_bounded_in_total)
{
    write_lying_zip(source, "bomb.txt", 10, (size_t)2 << 20);
    dg_submission_limits limits = small_limits(10, (size_t)8 << 20, 5000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 1 'bomb.txt': ",
                   "limit for the whole submission");
    size_t bytes = 0;
    char listing[256];
    list_tree(dest, listing, sizeof listing, &bytes);
    ck_assert_uint_le(bytes, 5000);
}
END_TEST

/* One ustar header block for a regular file of `declared` bytes. */
static void ustar_header(unsigned char block[512], const char *name, size_t declared)
{
    memset(block, 0, 512);
    snprintf((char *)block, 100, "%s", name);
    memcpy(block + 100, "0000644", 8);
    memcpy(block + 108, "0000000", 8);
    memcpy(block + 116, "0000000", 8);
    snprintf((char *)block + 124, 12, "%011zo", declared);
    memcpy(block + 136, "14544440400", 12);
    block[156] = '0';
    memcpy(block + 257, "ustar", 6);
    memcpy(block + 263, "00", 2);
    memset(block + 148, ' ', 8);
    unsigned int sum = 0;
    for (int i = 0; i < 512; i++)
        sum += block[i];
    snprintf((char *)block + 148, 8, "%06o", sum);
    block[155] = ' ';
}

START_TEST(tar_entry_understating_its_size_is_refused)
{
    /* Declares 10 bytes and is followed by 4096 more: libarchive takes the
     * rest for a header, which is damaged. The extra bytes never land. */
    size_t size = 512 + 4096 + 1024;
    unsigned char *tar = calloc(1, size);
    ck_assert_ptr_nonnull(tar);
    ustar_header(tar, "liar.txt", 10);
    memset(tar + 512, 'A', 4096);
    gzFile file = gzopen(source, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(gzwrite(file, tar, (unsigned)size), (int)size);
    ck_assert_int_eq(gzclose(file), Z_OK);
    free(tar);
    dg_submission_limits limits = small_limits(10, 1000, 100000);
    expect_refused(&limits, NN_ERR_FORMAT, "damaged after entry 1", NULL);
    size_t bytes = 0;
    char listing[256];
    list_tree(dest, listing, sizeof listing, &bytes);
    ck_assert_uint_le(bytes, 10);
}
END_TEST

START_TEST(tar_hand_made_header_is_read)
{
    /* The hand-made header of the test above is well formed: with an
     * honest size the same bytes extract. */
    size_t size = 512 + 512 + 1024;
    unsigned char *tar = calloc(1, size);
    ck_assert_ptr_nonnull(tar);
    ustar_header(tar, "honest.txt", 5);
    memcpy(tar + 512, "hello", 5);
    write_bytes(source, tar, size);
    free(tar);
    expect_unpacked(NULL);
    assert_file("honest.txt", "hello", 0644);
}
END_TEST

START_TEST(mutated_archives_never_escape)
{
    /* Damage a well-formed archive one byte at a time, 150 times: every
     * result is an extraction or a refusal (no crash, which ASan would
     * report), and never a file outside the destination. */
    const test_entry entries[] = {
        { "sub/", 'd', NULL, 0 },
        { "sub/a.c", 'f', "int a;\n", 0 },
        { "b.c", 'f', "int b;\n", 0 },
    };
    archive_kind kind = _i == 0 ? TAR_PLAIN : ZIP;
    write_archive(source, kind, entries, 3);
    FILE *file = fopen(source, "rb");
    ck_assert_ptr_nonnull(file);
    unsigned char original[16384];
    size_t size = fread(original, 1, sizeof original, file);
    fclose(file);
    ck_assert_uint_gt(size, 0);
    ck_assert_uint_lt(size, sizeof original);
    /* In a tar only the first 1.5 KiB carry headers and data; the rest is
     * end-of-archive padding. */
    size_t span = kind == TAR_PLAIN ? 1536 : size;
    nn_rng rng;
    nn_rng_seed(&rng, 2024 + (uint64_t)_i);
    unsigned char damaged[16384];
    size_t extracted = 0;
    for (int trial = 0; trial < 150; trial++) {
        memcpy(damaged, original, size);
        size_t flips = 1 + nn_rng_below(&rng, 3);
        for (size_t k = 0; k < flips; k++)
            damaged[nn_rng_below(&rng, span)] = (unsigned char)nn_rng_below(&rng, 256);
        write_bytes(source, damaged, size);
        nn_error err = { 0 };
        nn_status status = dg_submission_unpack(source, dest, NULL, &err);
        ck_assert_msg(status == NN_OK || status == NN_ERR_FORMAT || status == NN_ERR_ARGUMENT,
                      "trial %d: %s: %s", trial, nn_status_name(status), err.message);
        if (status == NN_OK)
            extracted++;
        assert_nothing_escaped();
        ck_assert_int_eq(dg_remove_tree(dest, &err), NN_OK);
        ck_assert_int_eq(mkdir(dest, 0755), 0);
    }
    /* Both outcomes occur, or the damage was not exercising anything. */
    ck_assert_uint_gt(extracted, 0);
    ck_assert_uint_lt(extracted, 150);
}
END_TEST

/* ---- damaged and empty archives -------------------------------------- */

START_TEST(truncated_archive_is_a_format_error)
{
    /* 512 KiB of noise barely compresses, so half the archive cuts the
     * file's data short, well after its header. */
    size_t count = (size_t)512 << 10;
    char *noise = malloc(count + 1);
    ck_assert_ptr_nonnull(noise);
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    for (size_t i = 0; i < count; i++)
        noise[i] = (char)(1 + nn_rng_below(&rng, 255));
    noise[count] = '\0';
    const test_entry entries[] = { { "noise.bin", 'f', noise, 0 } };
    WRITE_TGZ(entries);
    free(noise);
    struct stat st;
    ck_assert_int_eq(stat(source, &st), 0);
    ck_assert_int_eq(truncate(source, st.st_size / 2), 0);
    /* libarchive's own words name the problem. */
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'noise.bin': cannot read its data: ",
                   "runcated");
}
END_TEST

START_TEST(truncated_plain_tar_is_a_format_error)
{
    char *text = make_text(2000);
    const test_entry entries[] = {
        { "a.c", 'f', "a\n", 0 },
        { "b.c", 'f', text, 0 },
    };
    write_archive(source, TAR_PLAIN, entries, 2);
    free(text);
    /* a.c's header and data, b.c's header, 100 bytes of b.c's data. */
    ck_assert_int_eq(truncate(source, 512 + 512 + 512 + 100), 0);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 2 'b.c': cannot read its data: ", "runcated");
}
END_TEST

START_TEST(garbage_is_a_format_error)
{
    unsigned char noise[4096];
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)nn_rng_below(&rng, 256);
    noise[0] = 0x55; /* no accidental gzip or zip magic */
    write_bytes(source, noise, sizeof noise);
    expect_refused(NULL, NN_ERR_FORMAT, "cannot read the archive: ", "nrecognized");
}
END_TEST

START_TEST(gzip_of_garbage_is_a_format_error)
{
    unsigned char noise[4096];
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)nn_rng_below(&rng, 256);
    gzFile file = gzopen(source, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(gzwrite(file, noise, sizeof noise), (int)sizeof noise);
    ck_assert_int_eq(gzclose(file), Z_OK);
    expect_refused(NULL, NN_ERR_FORMAT, "cannot read the archive: ", NULL);
}
END_TEST

START_TEST(empty_archive_is_refused)
{
    write_archive(source, kinds[_i], NULL, 0);
    expect_refused(NULL, NN_ERR_FORMAT, "the archive is empty", NULL);
}
END_TEST

START_TEST(archive_of_folders_only_is_refused)
{
    const test_entry entries[] = { { "sub/", 'd', NULL, 0 } };
    WRITE_TGZ(entries);
    expect_refused(NULL, NN_ERR_FORMAT, "the archive is empty: it holds folders only", NULL);
}
END_TEST

START_TEST(zero_byte_file_is_refused)
{
    write_bytes(source, "", 0);
    expect_refused(NULL, NN_ERR_FORMAT, "the archive is empty", NULL);
}
END_TEST

START_TEST(destination_must_be_empty)
{
    const test_entry entries[] = { { "a.c", 'f', "a\n", 0 } };
    WRITE_TGZ(entries);
    char stray[1024];
    JOIN(stray, dest, "stray");
    write_bytes(stray, "x", 1);
    expect_refused(NULL, NN_ERR_ARGUMENT, "is not empty", NULL);
}
END_TEST

START_TEST(missing_source_is_an_io_error)
{
    nn_error err = { 0 };
    ck_assert_int_eq(dg_submission_unpack(source, dest, NULL, &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, source));
}
END_TEST

/* ---- folders ------------------------------------------------------------ */

static void make_file(const char *relative, const char *text)
{
    char path[1024];
    JOIN(path, source, relative);
    write_bytes(path, text, strlen(text));
}

static void make_folder(const char *relative)
{
    char path[1024];
    JOIN(path, source, relative);
    ck_assert_int_eq(mkdir(path, 0700), 0);
}

START_TEST(folder_is_copied_exactly)
{
    make_folder("");
    make_file("linear.c", "linear\n");
    make_folder("sub");
    make_file("sub/relu.c", "relu\n");
    ck_assert_int_eq(chmod(source, 0700), 0);
    char path[1024];
    JOIN(path, source, "sub/relu.c");
    ck_assert_int_eq(chmod(path, 04750), 0);
    /* A repository checkout: .git is skipped, even with a link inside. */
    make_folder(".git");
    make_file(".git/HEAD", "ref: refs/heads/main\n");
    char link[1024];
    JOIN(link, source, ".git/link");
    ck_assert_int_eq(symlink(sentinel, link), 0);

    expect_unpacked(NULL);
    char listing[1024];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "linear.c sub/ sub/relu.c");
    assert_file("linear.c", "linear\n", 0644);
    assert_file("sub/relu.c", "relu\n", 0644);
    assert_folder_mode("sub", 0755);
    /* The source is left as it was. */
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(folder_with_a_symlink_is_refused)
{
    char outside[1024], secret[1024];
    JOIN(outside, base, "outside");
    ck_assert_int_eq(mkdir(outside, 0755), 0);
    JOIN(secret, outside, "secret.txt");
    write_bytes(secret, "secret\n", 7);
    make_folder("");
    make_file("a.c", "a\n");
    make_folder("sub");
    char link[1024];
    JOIN(link, source, "sub/escape");
    ck_assert_int_eq(symlink(outside, link), 0);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 3 'sub/escape': is a symbolic link", NULL);
    /* Nothing of the outside folder was copied. */
    char listing[1024];
    list_tree(dest, listing, sizeof listing, NULL);
    ck_assert_str_eq(listing, "a.c sub/");
}
END_TEST

START_TEST(folder_with_a_fifo_is_refused_without_blocking)
{
    make_folder("");
    char path[1024];
    JOIN(path, source, "pipe");
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    make_file("z.c", "z\n");
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'pipe': is a FIFO", NULL);
}
END_TEST

START_TEST(folder_with_a_hard_link_is_refused)
{
    make_folder("");
    make_file("a.c", "a\n");
    char from[1024], to[1024];
    JOIN(from, source, "a.c");
    JOIN(to, source, "b.c");
    ck_assert_int_eq(link(from, to), 0);
    expect_refused(NULL, NN_ERR_FORMAT, "entry 1 'a.c': is a hard link", NULL);
}
END_TEST

START_TEST(folder_bounds_are_enforced)
{
    make_folder("");
    make_file("a.txt", "0123456789");
    make_file("b.txt", "0123456789");
    make_file("c.txt", "0123456789");
    dg_submission_limits limits = small_limits(2, 100, 1000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 3 'c.txt': ", "more than 2 entries");

    test_remove_dir(dest);
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    limits = small_limits(10, 9, 1000);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 1 'a.txt': is 10 bytes", NULL);

    test_remove_dir(dest);
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    limits = small_limits(10, 10, 25);
    expect_refused(&limits, NN_ERR_ARGUMENT, "entry 3 'c.txt': ",
                   "limit for the whole submission");
}
END_TEST

START_TEST(work_folder_inside_the_folder_is_refused)
{
    make_folder("");
    make_file("a.c", "a\n");
    make_folder("work");
    char work[1024];
    JOIN(work, source, "work");
    nn_error err = { 0 };
    ck_assert_int_eq(dg_submission_unpack(source, work, NULL, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "entry 2 'work': is the work folder itself"));
}
END_TEST

START_TEST(empty_folder_is_refused)
{
    make_folder("");
    make_folder("sub");
    expect_refused(NULL, NN_ERR_FORMAT, "holds no files", NULL);
}
END_TEST

/* ---- removing trees ----------------------------------------------------- */

START_TEST(remove_tree_does_not_follow_symlinks)
{
    char outside[1024], kept[1024], path[1024];
    JOIN(outside, base, "outside");
    ck_assert_int_eq(mkdir(outside, 0755), 0);
    JOIN(kept, outside, "kept.txt");
    write_bytes(kept, "kept\n", 5);

    make_folder("");
    make_file("a.c", "a\n");
    make_folder("sub");
    make_folder("sub/inner");
    make_file("sub/inner/b.c", "b\n");
    JOIN(path, source, "sub/to-folder");
    ck_assert_int_eq(symlink(outside, path), 0);
    JOIN(path, source, "sub/inner/to-file");
    ck_assert_int_eq(symlink(kept, path), 0);
    JOIN(path, source, "sub/inner/pipe");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    /* Folders a sandboxed program locked: unreadable, read-only. */
    JOIN(path, source, "sub/inner");
    ck_assert_int_eq(chmod(path, 0), 0);
    JOIN(path, source, "sub");
    ck_assert_int_eq(chmod(path, 0555), 0);

    nn_error err = { 0 };
    ck_assert_msg(dg_remove_tree(source, &err) == NN_OK, "%s", err.message);
    struct stat st;
    ck_assert_int_eq(lstat(source, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(lstat(outside, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    char listing[256];
    size_t bytes = 0;
    list_tree(outside, listing, sizeof listing, &bytes);
    ck_assert_str_eq(listing, "kept.txt");
    ck_assert_uint_eq(bytes, 5);
}
END_TEST

START_TEST(remove_tree_removes_a_link_not_its_target)
{
    char link[1024];
    JOIN(link, base, "link");
    char kept[1024];
    JOIN(kept, sentinel, "kept.txt");
    write_bytes(kept, "kept\n", 5);
    ck_assert_int_eq(symlink(sentinel, link), 0);
    nn_error err = { 0 };
    ck_assert_int_eq(dg_remove_tree(link, &err), NN_OK);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), -1);
    ck_assert_int_eq(lstat(kept, &st), 0);
    /* A missing path is already removed. */
    ck_assert_int_eq(dg_remove_tree(link, &err), NN_OK);
}
END_TEST

START_TEST(remove_tree_with_a_trailing_slash_removes_only_the_link)
{
    /* "link/" makes path lookup resolve the link; it must still be the
     * link that goes. */
    char link[1024], kept[1024], given[1100];
    JOIN(link, base, "link");
    JOIN(kept, sentinel, "kept.txt");
    write_bytes(kept, "kept\n", 5);
    ck_assert_int_eq(symlink(sentinel, link), 0);
    snprintf(given, sizeof given, "%s//", link);
    nn_error err = { 0 };
    ck_assert_msg(dg_remove_tree(given, &err) == NN_OK, "%s", err.message);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), -1);
    ck_assert_int_eq(lstat(kept, &st), 0);
}
END_TEST

START_TEST(remove_tree_refuses_dot_and_dotdot)
{
    char path[1024];
    nn_error err = { 0 };
    JOIN(path, dest, "..");
    ck_assert_int_eq(dg_remove_tree(path, &err), NN_ERR_ARGUMENT);
    JOIN(path, sentinel, ".");
    ck_assert_int_eq(dg_remove_tree(path, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(dg_remove_tree("", &err), NN_ERR_ARGUMENT);
    struct stat st;
    ck_assert_int_eq(lstat(dest, &st), 0);
    ck_assert_int_eq(lstat(sentinel, &st), 0);
}
END_TEST

START_TEST(remove_tree_goes_deeper_than_the_descriptor_limit)
{
    /* 100 nested folders with at most 32 descriptors open: the walk must
     * not hold one descriptor per level. */
    make_folder("");
    int fd = open(source, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(fd, 0);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
        int file = openat(fd, "f", O_WRONLY | O_CREAT | O_EXCL, 0644);
        ck_assert_int_ge(file, 0);
        close(file);
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(next, 0);
        close(fd);
        fd = next;
    }
    close(fd);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 32;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    nn_error err = { 0 };
    nn_status status = dg_remove_tree(source, &err);
    setrlimit(RLIMIT_NOFILE, &old);
    ck_assert_msg(status == NN_OK, "%s", err.message);
    struct stat st;
    ck_assert_int_eq(lstat(source, &st), -1);
}
END_TEST

Suite *submission_suite(void);
Suite *submission_suite(void)
{
    Suite *suite = suite_create("submission");

    TCase *good = tcase_create("well_formed");
    tcase_add_checked_fixture(good, setup, teardown);
    tcase_add_loop_test(good, archive_extracts_exactly_its_files_with_fixed_modes, 0,
                        (int)(sizeof kinds / sizeof kinds[0]));
    tcase_add_test(good, folder_entry_after_its_files_is_accepted);
    tcase_add_test(good, limits_are_inclusive);
    tcase_add_test(good, single_top_level_folder_is_found);
    tcase_add_test(good, find_prefers_the_top_and_needs_a_single_folder);
    tcase_add_test(good, find_refuses_unsafe_names_and_small_buffers);
    tcase_add_test(good, find_does_not_follow_a_symlink);
    tcase_add_test(good, tar_hand_made_header_is_read);
    suite_add_tcase(suite, good);

    TCase *hostile = tcase_create("hostile_archives");
    tcase_add_checked_fixture(hostile, setup, teardown);
    tcase_add_test(hostile, absolute_path_is_refused);
    tcase_add_test(hostile, dotdot_escape_is_refused);
    tcase_add_test(hostile, nested_dotdot_escape_is_refused);
    tcase_add_test(hostile, dotdot_that_stays_inside_is_still_refused);
    tcase_add_test(hostile, symlink_entry_is_refused);
    tcase_add_test(hostile, symlink_entry_in_a_zip_is_refused);
    tcase_add_test(hostile, hardlink_entry_is_refused);
    tcase_add_test(hostile, character_device_is_refused);
    tcase_add_test(hostile, fifo_is_refused);
    tcase_add_test(hostile, too_many_entries_are_refused);
    tcase_add_test(hostile, file_over_the_size_bound_is_refused);
    tcase_add_test(hostile, total_over_the_bound_is_refused);
    tcase_add_test(hostile, deep_nesting_is_refused);
    tcase_add_test(hostile, duplicate_entries_are_refused);
    tcase_add_test(hostile, duplicate_folder_entries_are_refused);
    tcase_add_test(hostile, file_under_a_file_is_refused);
    tcase_add_test(hostile, file_over_a_folder_is_refused);
    tcase_add_test(hostile, control_characters_in_names_are_refused);
    tcase_add_test(hostile, long_names_are_refused);
    tcase_add_test(hostile, zip_entry_understating_its_size_is_bounded);
    tcase_add_test(hostile, zip_entry_understating_its_size_is_bounded_in_total);
    tcase_add_test(hostile, tar_entry_understating_its_size_is_refused);
    tcase_add_loop_test(hostile, mutated_archives_never_escape, 0, 2);
    suite_add_tcase(suite, hostile);

    TCase *damaged = tcase_create("damaged_archives");
    tcase_add_checked_fixture(damaged, setup, teardown);
    tcase_add_test(damaged, truncated_archive_is_a_format_error);
    tcase_add_test(damaged, truncated_plain_tar_is_a_format_error);
    tcase_add_test(damaged, garbage_is_a_format_error);
    tcase_add_test(damaged, gzip_of_garbage_is_a_format_error);
    tcase_add_loop_test(damaged, empty_archive_is_refused, 0,
                        (int)(sizeof kinds / sizeof kinds[0]));
    tcase_add_test(damaged, archive_of_folders_only_is_refused);
    tcase_add_test(damaged, zero_byte_file_is_refused);
    tcase_add_test(damaged, destination_must_be_empty);
    tcase_add_test(damaged, missing_source_is_an_io_error);
    suite_add_tcase(suite, damaged);

    TCase *folders = tcase_create("folders");
    tcase_add_checked_fixture(folders, setup, teardown);
    tcase_add_test(folders, folder_is_copied_exactly);
    tcase_add_test(folders, folder_with_a_symlink_is_refused);
    tcase_add_test(folders, folder_with_a_fifo_is_refused_without_blocking);
    tcase_add_test(folders, folder_with_a_hard_link_is_refused);
    tcase_add_test(folders, folder_bounds_are_enforced);
    tcase_add_test(folders, work_folder_inside_the_folder_is_refused);
    tcase_add_test(folders, empty_folder_is_refused);
    suite_add_tcase(suite, folders);

    TCase *removal = tcase_create("remove_tree");
    tcase_add_checked_fixture(removal, setup, teardown);
    tcase_add_test(removal, remove_tree_does_not_follow_symlinks);
    tcase_add_test(removal, remove_tree_removes_a_link_not_its_target);
    tcase_add_test(removal, remove_tree_with_a_trailing_slash_removes_only_the_link);
    tcase_add_test(removal, remove_tree_refuses_dot_and_dotdot);
    tcase_add_test(removal, remove_tree_goes_deeper_than_the_descriptor_limit);
    suite_add_tcase(suite, removal);
    return suite;
}
