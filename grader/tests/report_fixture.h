/*
 * report_fixture.h - one report holding every outcome and visibility, with
 * the strings a submission could throw at the writers (quotes, markup,
 * ampersands, newlines, control bytes, invalid UTF-8, Markdown fences),
 * and small helpers to read back what the writers wrote.
 *
 * Hidden checks' outputs all contain the word SECRET, so that a test can
 * assert that no student-facing file mentions it.
 */
#ifndef DG_REPORT_FIXTURE_H
#define DG_REPORT_FIXTURE_H

#include "report.h"
#include "../../reference/tests/testutil.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_CHECKS 12
#define FIXTURE_FAILURES 5 /* partial x2, failed x2, not implemented */
#define FIXTURE_ERRORS 5   /* build error, crashed, timeout, memory, grader error */
#define FIXTURE_STARTED_AT "2024-05-01T10:00:00Z"

/* Visible output that tries every trick. */
#define FIXTURE_TRICKY_OUTPUT                                                                   \
    "dW differs at [2,3]: got \"0.512\" < expected 0.498 & 'rel' > 1e-5\n"                      \
    "<script>alert(1)</script> | pipes | and *stars*\n"                                          \
    "control:\x01\x1b[31mred\x7f\r\n"                                                            \
    "broken utf-8: \xff|\xc3\x28|\xed\xa0\x80|\xe2\x82\n"                                         \
    "```\nnot the end of the block\n````\n"                                                      \
    "tab\there, accent \xc3\xa9, emoji \xf0\x9f\x98\x80"

static inline dg_check_result *fixture_check(dg_report *report, const char *id, const char *name,
                                             const char *kind, const char *unit, double score,
                                             double max_score, dg_visibility visibility,
                                             dg_outcome outcome, const char *output)
{
    dg_check_result *check = dg_report_add_check(report);
    ck_assert_ptr_nonnull(check);
    snprintf(check->id, sizeof check->id, "%s", id);
    snprintf(check->name, sizeof check->name, "%s", name);
    snprintf(check->kind, sizeof check->kind, "%s", kind);
    snprintf(check->unit, sizeof check->unit, "%s", unit);
    check->score = score;
    check->max_score = max_score;
    check->visibility = visibility;
    check->outcome = outcome;
    check->seconds = 0.25;
    if (output != NULL)
        dg_check_printf(check, "%s", output);
    return check;
}

static inline void fixture_curve(dg_check_result *check, size_t count)
{
    check->curve = calloc(count, sizeof *check->curve);
    ck_assert_ptr_nonnull(check->curve);
    check->curve_count = count;
    for (size_t i = 0; i < count; i++) {
        check->curve[i].epoch = (int)i + 1;
        check->curve[i].train_loss = 2.0 / (double)(i + 1);
        check->curve[i].train_accuracy = 0.5 + 0.4 * (double)i / (double)count;
        check->curve[i].test_accuracy = 0.45 + 0.35 * (double)i / (double)count;
    }
}

static inline void fixture_report(dg_report *report)
{
    memset(report, 0, sizeof *report);
    snprintf(report->assignment, sizeof report->assignment, "mlp-basics <1> & \"co\"");
    snprintf(report->submission, sizeof report->submission, "/tmp/student's \"sub\" <dir>");
    report->seed = 12345678901234567890ULL;
    snprintf(report->started_at, sizeof report->started_at, FIXTURE_STARTED_AT);
    report->execution_time = 12.3456;

    fixture_check(report, "linear-forward", "linear_forward: values", "compare", "linear", 2, 2,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_PASSED, "all 24 values agree");
    fixture_check(report, "linear-backward", "linear_backward: gradients | <dx>", "compare",
                  "linear", 1.5, 3, DG_VISIBLE_PUBLIC, DG_OUTCOME_PARTIAL, FIXTURE_TRICKY_OUTPUT);
    fixture_check(report, "relu-backward", "relu_backward", "gradcheck", "relu", 0, 2,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_FAILED, "dx fails the gradient check at [0,1]");
    fixture_check(report, "softmax", "softmax_forward", "compare", "softmax", 0, 1,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_NOT_IMPLEMENTED, NULL);
    fixture_check(report, "conv-forward", "conv2d_forward", "compare", "conv2d", 0, 2,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_BUILD_ERROR, "conv2d.c did not compile");
    fixture_check(report, "pool-forward", "maxpool_forward", "compare", "pool", 0, 2,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_CRASHED, "killed by signal 11 (segmentation fault)");
    dg_check_result *train = fixture_check(report, "train-mlp", "MLP on blobs", "train", "network",
                                           7.1, 10, DG_VISIBLE_PUBLIC, DG_OUTCOME_PARTIAL,
                                           "test accuracy 0.81, needed 0.85 for full points");
    fixture_curve(train, 8);
    dg_check_result *hidden = fixture_check(report, "hidden-gradcheck", "conv2d_backward gradients",
                                            "gradcheck", "conv2d", 0, 4, DG_VISIBLE_HIDDEN,
                                            DG_OUTCOME_FAILED,
                                            "SECRET-expected 0.75 at [3,1] <b>hidden</b>");
    fixture_curve(hidden, 5);
    fixture_check(report, "hidden-passed", "dropout in eval mode", "compare", "dropout", 1, 1,
                  DG_VISIBLE_HIDDEN, DG_OUTCOME_PASSED, "SECRET-passed output");
    fixture_check(report, "late-memory", "batchnorm memory", "memcheck", "batchnorm", 0, 1,
                  DG_VISIBLE_AFTER_DUE, DG_OUTCOME_MEMORY, "used more than 512 MiB");
    fixture_check(report, "slow-train", "CNN training budget", "train", "network", 0, 5,
                  DG_VISIBLE_PUBLIC, DG_OUTCOME_TIMEOUT, "CPU limit of 10 s reached");
    fixture_check(report, "hidden-broken", "grader self-test", "compare", "tensor", 0, 1,
                  DG_VISIBLE_HIDDEN, DG_OUTCOME_GRADER_ERROR, "SECRET-runner protocol error");
    report->build_log = strdup("conv2d.c:12:5: error: expected ';' before '}' token\n"
                               "   12 |     return x <- 1\n");
    report->sandbox_notes = strdup("bubblewrap: in force\nseccomp: missing (no libseccomp)\n");
    ck_assert_ptr_nonnull(report->build_log);
    ck_assert_ptr_nonnull(report->sandbox_notes);
    dg_report_total(report);
}

/* The whole file as a NUL-terminated string (which may hold NULs if the
 * writer wrote them: size tells). */
static inline char *fixture_read(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    char *data = NULL;
    size_t length = 0, capacity = 0;
    for (;;) {
        if (length + 4096 + 1 > capacity) {
            capacity = capacity != 0 ? 2 * capacity : 8192;
            data = realloc(data, capacity);
            ck_assert_ptr_nonnull(data);
        }
        size_t got = fread(data + length, 1, 4096, file);
        length += got;
        if (got == 0)
            break;
    }
    fclose(file);
    data[length] = '\0';
    if (size != NULL)
        *size = length;
    return data;
}

static inline size_t fixture_count(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* Number of entries in a folder, "." and ".." aside. */
static inline size_t fixture_entries(const char *directory)
{
    DIR *dir = opendir(directory);
    ck_assert_ptr_nonnull(dir);
    size_t count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            count++;
    closedir(dir);
    return count;
}

/* Bytes no text report may contain raw: C0 controls other than tab and
 * newline, DEL, and (for the XML and HTML files) CR. */
static inline void fixture_assert_no_control_bytes(const char *text, size_t size, const char *what)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        ck_assert_msg(!((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F),
                      "%s: control byte 0x%02x at offset %zu", what, c, i);
    }
}

/* A UTF-8 validator written apart from the one under test (RFC 3629's
 * grammar, byte ranges spelled out). */
static inline bool fixture_valid_utf8(const char *text, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < size) {
        unsigned char c = s[i];
        size_t n;
        unsigned char low = 0x80, high = 0xBF;
        if (c <= 0x7F) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c == 0xE0) { n = 2; low = 0xA0; }
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 2;
        else if (c == 0xED) { n = 2; high = 0x9F; }
        else if (c == 0xF0) { n = 3; low = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) n = 3;
        else if (c == 0xF4) { n = 3; high = 0x8F; }
        else return false;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= size || s[i + k] < low || s[i + k] > high)
                return false;
            low = 0x80;
            high = 0xBF;
        }
        i += n + 1;
    }
    return true;
}

#endif
