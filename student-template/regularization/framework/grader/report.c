/*
 * report.c - the dg_report record (adding checks, their messages, totals),
 * the helpers the four writers share (report_internal.h), and the files:
 * each report is written to a temporary file beside its final name and
 * renamed over it, so that a reader (a CI job, Gradescope, a browser) sees
 * the old report or the new one, never a mix.
 *
 * dg_report_write_all renders all four files before renaming any of them:
 * a failure while rendering or writing leaves the folder as it was.
 * Only a failure of rename(2) itself (rare: a folder in the way is
 * checked for beforehand) can leave some files new and some old; the
 * error then names the file.
 */
#include "report_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the record -------------------------------------------------------- */

dg_check_result *dg_report_add_check(dg_report *report)
{
    /* One realloc per check: a report has tens of checks, not millions,
     * and a capacity field would be one more thing callers could break. */
    dg_check_result *grown = realloc(report->checks,
                                     (report->check_count + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    report->checks = grown;
    dg_check_result *check = &grown[report->check_count++];
    memset(check, 0, sizeof *check);
    check->visibility = DG_VISIBLE_HIDDEN;
    check->outcome = DG_OUTCOME_GRADER_ERROR;
    return check;
}

void dg_check_printf(dg_check_result *check, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed <= 0)
        return;
    size_t old = check->output != NULL ? strlen(check->output) : 0;
    char *grown = realloc(check->output, old + (size_t)needed + 1);
    if (grown == NULL)
        return;
    check->output = grown;
    va_start(args, format);
    vsnprintf(grown + old, (size_t)needed + 1, format, args);
    va_end(args);
}

void dg_report_total(dg_report *report)
{
    double score = 0.0, max_score = 0.0;
    for (size_t i = 0; i < report->check_count; i++) {
        score += report->checks[i].score;
        max_score += report->checks[i].max_score;
    }
    report->score = score;
    report->max_score = max_score;
}

void dg_report_release(dg_report *report)
{
    if (report == NULL)
        return;
    for (size_t i = 0; i < report->check_count; i++) {
        free(report->checks[i].output);
        free(report->checks[i].curve);
    }
    free(report->checks);
    free(report->build_log);
    free(report->sandbox_notes);
    memset(report, 0, sizeof *report);
}

const char *dg_outcome_name(dg_outcome outcome)
{
    switch (outcome) {
    case DG_OUTCOME_PASSED: return "passed";
    case DG_OUTCOME_PARTIAL: return "partial";
    case DG_OUTCOME_FAILED: return "failed";
    case DG_OUTCOME_NOT_IMPLEMENTED: return "not implemented";
    case DG_OUTCOME_BUILD_ERROR: return "build error";
    case DG_OUTCOME_CRASHED: return "crashed";
    case DG_OUTCOME_TIMEOUT: return "timeout";
    case DG_OUTCOME_MEMORY: return "memory limit";
    case DG_OUTCOME_GRADER_ERROR: return "grader error";
    }
    return "unknown outcome";
}

const char *dg_visibility_name(dg_visibility visibility)
{
    switch (visibility) {
    case DG_VISIBLE_PUBLIC: return "public";
    case DG_VISIBLE_HIDDEN: return "hidden";
    case DG_VISIBLE_AFTER_DUE: return "after_due";
    }
    return "unknown visibility";
}

bool dg_outcome_is_error(dg_outcome outcome)
{
    switch (outcome) {
    case DG_OUTCOME_BUILD_ERROR:
    case DG_OUTCOME_CRASHED:
    case DG_OUTCOME_TIMEOUT:
    case DG_OUTCOME_MEMORY:
    case DG_OUTCOME_GRADER_ERROR:
        return true;
    case DG_OUTCOME_PASSED:
    case DG_OUTCOME_PARTIAL:
    case DG_OUTCOME_FAILED:
    case DG_OUTCOME_NOT_IMPLEMENTED:
        return false;
    }
    return true;
}

/* ---- text -------------------------------------------------------------- */

static bool buffer_reserve(dg_buffer *buffer, size_t extra)
{
    if (buffer->failed)
        return false;
    if (extra > SIZE_MAX / 2 - buffer->length - 1) {
        buffer->failed = true;
        return false;
    }
    size_t needed = buffer->length + extra + 1;
    if (needed <= buffer->capacity)
        return true;
    size_t capacity = buffer->capacity != 0 ? buffer->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        buffer->failed = true;
        return false;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return true;
}

void dg_buffer_append(dg_buffer *buffer, const char *text, size_t length)
{
    if (!buffer_reserve(buffer, length))
        return;
    memcpy(buffer->data + buffer->length, text, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

void dg_buffer_puts(dg_buffer *buffer, const char *text)
{
    dg_buffer_append(buffer, text, strlen(text));
}

void dg_buffer_printf(dg_buffer *buffer, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0) {
        buffer->failed = true;
        return;
    }
    if (!buffer_reserve(buffer, (size_t)needed))
        return;
    va_start(args, format);
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, args);
    va_end(args);
    buffer->length += (size_t)needed;
}

void dg_buffer_append_codepoint(dg_buffer *buffer, uint32_t codepoint)
{
    char bytes[4];
    size_t count;
    if (codepoint < 0x80) {
        bytes[0] = (char)codepoint;
        count = 1;
    } else if (codepoint < 0x800) {
        bytes[0] = (char)(0xC0 | (codepoint >> 6));
        bytes[1] = (char)(0x80 | (codepoint & 0x3F));
        count = 2;
    } else if (codepoint < 0x10000) {
        bytes[0] = (char)(0xE0 | (codepoint >> 12));
        bytes[1] = (char)(0x80 | ((codepoint >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (codepoint & 0x3F));
        count = 3;
    } else {
        bytes[0] = (char)(0xF0 | (codepoint >> 18));
        bytes[1] = (char)(0x80 | ((codepoint >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((codepoint >> 6) & 0x3F));
        bytes[3] = (char)(0x80 | (codepoint & 0x3F));
        count = 4;
    }
    dg_buffer_append(buffer, bytes, count);
}

void dg_buffer_release(dg_buffer *buffer)
{
    free(buffer->data);
    memset(buffer, 0, sizeof *buffer);
}

nn_status dg_buffer_write(const dg_buffer *buffer, FILE *out, nn_error *err)
{
    if (buffer->failed)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory rendering the report");
    if (buffer->length != 0 && fwrite(buffer->data, 1, buffer->length, out) != buffer->length)
        return nn_error_set(err, NN_ERR_IO, "%s", strerror(errno));
    return NN_OK;
}

uint32_t dg_utf8_next(const char **cursor, const char *end)
{
    const unsigned char *p = (const unsigned char *)*cursor;
    const unsigned char *stop = (const unsigned char *)end;
    unsigned char lead = p[0];
    if (lead < 0x80) {
        *cursor += 1;
        return lead;
    }
    /* Table 3-7 of the Unicode standard (well-formed UTF-8 byte sequences):
     * the second byte's range depends on the lead byte, which is how
     * overlong forms, surrogates and values beyond U+10FFFF are excluded. */
    int follow;
    uint32_t codepoint;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        follow = 1;
        codepoint = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        follow = 2;
        codepoint = lead & 0x0Fu;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        follow = 3;
        codepoint = lead & 0x07u;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else {
        *cursor += 1;
        return 0xFFFD;
    }
    size_t used = 1;
    for (int i = 0; i < follow; i++) {
        if (p + used >= stop || p[used] < low || p[used] > high) {
            *cursor += used;
            return 0xFFFD;
        }
        codepoint = (codepoint << 6) | (p[used] & 0x3Fu);
        used++;
        low = 0x80;
        high = 0xBF;
    }
    *cursor += used;
    return codepoint;
}

char *dg_utf8_sanitize(const char *text)
{
    if (text == NULL)
        text = "";
    size_t length = strlen(text);
    const char *cursor = text, *end = text + length;
    dg_buffer out = { 0 };
    dg_buffer_append(&out, "", 0); /* an empty text still gets a string */
    while (cursor < end) {
        /* Valid sequences are copied byte for byte; a broken one gets the
         * replacement character (whose own encoding passes through). */
        const char *start = cursor;
        uint32_t codepoint = dg_utf8_next(&cursor, end);
        if (codepoint == 0xFFFD)
            dg_buffer_append_codepoint(&out, 0xFFFD);
        else
            dg_buffer_append(&out, start, (size_t)(cursor - start));
    }
    if (out.failed) {
        dg_buffer_release(&out);
        return NULL;
    }
    return out.data;
}

bool dg_text_allowed(uint32_t codepoint)
{
    if (codepoint == '\t' || codepoint == '\n')
        return true;
    if (codepoint < 0x20 || (codepoint >= 0x7F && codepoint < 0xA0))
        return false;
    return codepoint != 0xFFFE && codepoint != 0xFFFF;
}

void dg_buffer_append_markup(dg_buffer *buffer, const char *text, bool one_line)
{
    if (text == NULL)
        return;
    const char *cursor = text, *end = text + strlen(text);
    while (cursor < end) {
        uint32_t codepoint = dg_utf8_next(&cursor, end);
        if (one_line && (codepoint == '\n' || codepoint == '\t'))
            codepoint = ' ';
        if (!dg_text_allowed(codepoint))
            continue;
        switch (codepoint) {
        case '&': dg_buffer_puts(buffer, "&amp;"); break;
        case '<': dg_buffer_puts(buffer, "&lt;"); break;
        case '>': dg_buffer_puts(buffer, "&gt;"); break;
        case '"': dg_buffer_puts(buffer, "&quot;"); break;
        /* &apos; is not HTML 4; the numeric reference works everywhere. */
        case '\'': dg_buffer_puts(buffer, "&#39;"); break;
        default: dg_buffer_append_codepoint(buffer, codepoint); break;
        }
    }
}

void dg_buffer_append_first_line(dg_buffer *buffer, const char *text, size_t max_bytes)
{
    if (text == NULL)
        return;
    while (*text == '\n' || *text == '\r')
        text++;
    size_t line = strcspn(text, "\r\n");
    size_t keep = line < max_bytes ? line : max_bytes;
    /* Back up to the start of a character: never cut a UTF-8 sequence. */
    while (keep > 0 && keep < line && ((unsigned char)text[keep] & 0xC0) == 0x80)
        keep--;
    dg_buffer_append(buffer, text, keep);
    bool more_lines = text[line] != '\0' && text[line + strspn(text + line, "\r\n")] != '\0';
    if (keep < line || more_lines)
        dg_buffer_puts(buffer, "...");
}

void dg_format_points(char *out, size_t size, double value)
{
    if (!isfinite(value)) {
        snprintf(out, size, "%s", isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
        return;
    }
    /* Adding 0.0 turns -0.0 into 0.0, and a value that rounds to zero
     * prints as "0", not "-0". */
    snprintf(out, size, "%.2f", value + 0.0);
    char *dot = strchr(out, '.');
    if (dot == NULL)
        return;
    char *last = out + strlen(out) - 1;
    while (last > dot && *last == '0')
        *last-- = '\0';
    if (last == dot)
        *last = '\0';
    if (strcmp(out, "-0") == 0)
        snprintf(out, size, "0");
}

bool dg_check_shows_details(const dg_check_result *check)
{
    return check->visibility != DG_VISIBLE_HIDDEN;
}

size_t dg_report_passed_count(const dg_report *report)
{
    size_t passed = 0;
    for (size_t i = 0; i < report->check_count; i++)
        if (report->checks[i].outcome == DG_OUTCOME_PASSED)
            passed++;
    return passed;
}

void dg_report_summary(const dg_report *report, dg_buffer *out)
{
    char score[32], max_score[32];
    dg_format_points(score, sizeof score, report->score);
    dg_format_points(max_score, sizeof max_score, report->max_score);
    dg_buffer_printf(out, "Score %s / %s: %zu of %zu check%s passed.", score, max_score,
                     dg_report_passed_count(report), report->check_count,
                     report->check_count == 1 ? "" : "s");
}

void dg_report_unbuilt_units(const dg_report *report, dg_buffer *out)
{
    size_t listed = 0;
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        if (check->outcome != DG_OUTCOME_BUILD_ERROR)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = report->checks[j].outcome == DG_OUTCOME_BUILD_ERROR
                   && strcmp(report->checks[j].unit, check->unit) == 0;
        if (seen)
            continue;
        if (listed++ > 0)
            dg_buffer_puts(out, ", ");
        dg_buffer_puts(out, check->unit[0] != '\0' ? check->unit : check->id);
    }
}

const char *dg_check_display_name(const dg_check_result *check)
{
    return check->name[0] != '\0' ? check->name : check->id;
}

/* ---- files ------------------------------------------------------------- */

/* A report being written: an open temporary file beside its final path. */
typedef struct atomic_file {
    char *path;       /* final name, owned */
    char *temp_path;  /* ".NAME.tmp-PID-XXXXXX" in the same folder, owned */
    FILE *stream;     /* NULL once closed */
    bool temp_exists;
} atomic_file;

static void atomic_discard(atomic_file *file)
{
    if (file->stream != NULL)
        fclose(file->stream);
    if (file->temp_exists)
        unlink(file->temp_path);
    free(file->path);
    free(file->temp_path);
    memset(file, 0, sizeof *file);
}

static nn_status atomic_open(atomic_file *file, const char *path, nn_error *err)
{
    memset(file, 0, sizeof *file);
    /* The temporary file must live in the target's folder: rename(2) is
     * atomic only within one filesystem. A leading dot keeps it out of
     * casual listings; the suffix makes a leftover easy to recognise. */
    const char *slash = strrchr(path, '/');
    size_t folder_length = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + folder_length;
    size_t size = strlen(path) + sizeof ".tmp-XXXXXX" + 24;
    file->path = strdup(path);
    file->temp_path = malloc(size);
    if (file->path == NULL || file->temp_path == NULL) {
        atomic_discard(file);
        return nn_error_set(err, NN_ERR_MEMORY, "writing '%s': out of memory", path);
    }
    snprintf(file->temp_path, size, "%.*s.%s.tmp-%ld-XXXXXX", (int)folder_length, path, base,
             (long)getpid());
    int fd = mkstemp(file->temp_path);
    if (fd < 0) {
        int saved = errno;
        atomic_discard(file);
        return nn_error_set(err, NN_ERR_IO, "writing '%s': %s", path, strerror(saved));
    }
    file->temp_exists = true;
    /* mkstemp creates 0600; reports are meant to be read by others (a web
     * server, a CI artifact upload). */
    if (fchmod(fd, 0644) != 0 || (file->stream = fdopen(fd, "w")) == NULL) {
        int saved = errno;
        close(fd);
        atomic_discard(file);
        return nn_error_set(err, NN_ERR_IO, "writing '%s': %s", path, strerror(saved));
    }
    return NN_OK;
}

/* Flushes the data to disk and closes the temporary file: after a crash
 * the renamed file must hold the data, not zero bytes. */
static nn_status atomic_close(atomic_file *file, nn_error *err)
{
    FILE *stream = file->stream;
    file->stream = NULL;
    int failed = fflush(stream) != 0 || ferror(stream);
    int saved = errno;
    if (!failed && fsync(fileno(stream)) != 0) {
        failed = 1;
        saved = errno;
    }
    if (fclose(stream) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed)
        return nn_error_set(err, NN_ERR_IO, "writing '%s': %s", file->path,
                            saved != 0 ? strerror(saved) : "write error");
    return NN_OK;
}

static nn_status atomic_publish(atomic_file *file, nn_error *err)
{
    if (rename(file->temp_path, file->path) != 0)
        return nn_error_set(err, NN_ERR_IO, "writing '%s': %s", file->path, strerror(errno));
    file->temp_exists = false;
    return NN_OK;
}

nn_status dg_write_atomically(const char *path, const char *data, size_t size, nn_error *err)
{
    atomic_file file;
    nn_status status = atomic_open(&file, path, err);
    if (status != NN_OK)
        return status;
    if (size > 0 && fwrite(data, 1, size, file.stream) != size)
        status = nn_error_set(err, NN_ERR_IO, "writing '%s': %s", path, strerror(errno));
    nn_status closed = atomic_close(&file, err);
    if (status == NN_OK)
        status = closed;
    if (status == NN_OK)
        status = atomic_publish(&file, err);
    atomic_discard(&file);
    return status;
}

static nn_status emit_into(const dg_report *report, atomic_file *file, dg_report_emitter emit,
                           nn_error *err)
{
    nn_status status = emit(report, file->stream, err);
    if (status != NN_OK) {
        nn_error_prefix(err, "writing '%s'", file->path);
        return status;
    }
    return NN_OK;
}

nn_status dg_report_write_with(const dg_report *report, const char *path,
                               dg_report_emitter emit, nn_error *err)
{
    atomic_file file;
    nn_status status = atomic_open(&file, path, err);
    if (status != NN_OK)
        return status;
    status = emit_into(report, &file, emit, err);
    if (status == NN_OK)
        status = atomic_close(&file, err);
    if (status == NN_OK)
        status = atomic_publish(&file, err);
    atomic_discard(&file);
    return status;
}

/* mkdir -p: each missing component is created; an existing one must be a
 * folder. */
static nn_status make_directories(const char *directory, nn_error *err)
{
    char *path = strdup(directory);
    if (path == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "creating '%s': out of memory", directory);
    nn_status status = NN_OK;
    size_t length = strlen(path);
    for (size_t i = 1; i <= length && status == NN_OK; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        if (path[i - 1] == '/')
            continue; /* "a//b": the empty component is no folder */
        char saved = path[i];
        path[i] = '\0';
        struct stat info;
        if (mkdir(path, 0755) != 0) {
            int error = errno;
            if (error != EEXIST)
                status = nn_error_set(err, NN_ERR_IO, "creating report folder '%s': %s", path,
                                      strerror(error));
            else if (stat(path, &info) != 0 || !S_ISDIR(info.st_mode))
                status = nn_error_set(err, NN_ERR_IO, "creating report folder '%s': %s", path,
                                      "exists and is not a folder");
        }
        path[i] = saved;
    }
    free(path);
    return status;
}

static const struct {
    const char *name;
    dg_report_emitter emit;
} report_files[] = {
    { "results.json", dg_report_emit_json },
    { "junit.xml", dg_report_emit_junit },
    { "report.md", dg_report_emit_markdown },
    { "report.html", dg_report_emit_html },
};
#define REPORT_FILE_COUNT (sizeof report_files / sizeof report_files[0])

/* Removes the temporary reports of writers that are gone (a grader killed
 * with SIGKILL between writing and renaming): ".NAME.tmp-PID-XXXXXX" of
 * our four names whose PID no process has. A live writer's are kept. */
static void remove_stale_temporaries(const char *directory)
{
    DIR *dir = opendir(directory);
    if (dir == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        for (size_t i = 0; i < REPORT_FILE_COUNT; i++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, ".%s.tmp-", report_files[i].name);
            size_t length = strlen(prefix);
            long pid = -1;
            char suffix[8] = "";
            int used = 0;
            if (strncmp(entry->d_name, prefix, length) != 0
                || sscanf(entry->d_name + length, "%ld-%7[A-Za-z0-9]%n", &pid, suffix, &used)
                       != 2
                || entry->d_name[length + (size_t)used] != '\0' || strlen(suffix) != 6
                || pid <= 1)
                continue;
            if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                unlinkat(dirfd(dir), entry->d_name, 0);
        }
    }
    closedir(dir);
}

nn_status dg_report_write_all(const dg_report *report, const char *directory, nn_error *err)
{
    if (directory == NULL || directory[0] == '\0')
        return nn_error_set(err, NN_ERR_ARGUMENT, "no report folder given");
    nn_status status = make_directories(directory, err);
    if (status != NN_OK)
        return status;
    remove_stale_temporaries(directory);

    atomic_file files[REPORT_FILE_COUNT];
    memset(files, 0, sizeof files);
    for (size_t i = 0; i < REPORT_FILE_COUNT && status == NN_OK; i++) {
        size_t size = strlen(directory) + strlen(report_files[i].name) + 2;
        char *path = malloc(size);
        if (path == NULL) {
            status = nn_error_set(err, NN_ERR_MEMORY, "writing reports: out of memory");
            break;
        }
        snprintf(path, size, "%s/%s", directory, report_files[i].name);
        status = atomic_open(&files[i], path, err);
        free(path);
        if (status == NN_OK)
            status = emit_into(report, &files[i], report_files[i].emit, err);
    }
    /* After a failure, atomic_discard below closes and removes whatever
     * was opened. */
    for (size_t i = 0; i < REPORT_FILE_COUNT && status == NN_OK; i++)
        status = atomic_close(&files[i], err);
    /* A folder where a report should go would make its rename fail after
     * the others succeeded: refuse before renaming any. */
    for (size_t i = 0; i < REPORT_FILE_COUNT && status == NN_OK; i++) {
        struct stat info;
        if (lstat(files[i].path, &info) == 0 && S_ISDIR(info.st_mode))
            status = nn_error_set(err, NN_ERR_IO, "writing '%s': a folder is in the way",
                                  files[i].path);
    }
    /* Rename only once all four are safely on disk, and under a lock on
     * the folder, so that two graders writing into one folder at once
     * leave the four files of one of them, not a mix. */
    int lock = status == NN_OK ? open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (lock >= 0)
        while (flock(lock, LOCK_EX) != 0 && errno == EINTR)
            continue;
    for (size_t i = 0; i < REPORT_FILE_COUNT && status == NN_OK; i++)
        status = atomic_publish(&files[i], err);
    if (lock >= 0)
        close(lock);   /* releases the lock */
    for (size_t i = 0; i < REPORT_FILE_COUNT; i++)
        atomic_discard(&files[i]);
    return status;
}
