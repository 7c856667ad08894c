/*
 * report_internal.h - what the four report writers share, and nothing the
 * rest of the grader needs: a growing text buffer, UTF-8 repair, markup
 * escaping, number formatting, and files written under a temporary name
 * then renamed into place.
 *
 * Each writer renders the whole report into an open stream (an "emitter");
 * report.c owns the files. dg_report_write_all opens four temporary files,
 * runs the four emitters and renames only when all four succeeded.
 */
#ifndef DG_REPORT_INTERNAL_H
#define DG_REPORT_INTERNAL_H

#include "report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What the student-facing files print instead of a hidden check's output. */
#define DG_HIDDEN_DETAILS "hidden check: details are withheld"

/* A growing NUL-terminated string. An allocation failure sets `failed` and
 * makes every later append a no-op, so that a renderer can append freely
 * and test once at the end. Start zeroed. */
typedef struct dg_buffer {
    char *data;        /* NULL until the first append */
    size_t length;     /* bytes, without the NUL */
    size_t capacity;
    bool failed;
} dg_buffer;

void dg_buffer_append(dg_buffer *buffer, const char *text, size_t length);
void dg_buffer_puts(dg_buffer *buffer, const char *text);
void dg_buffer_printf(dg_buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void dg_buffer_append_codepoint(dg_buffer *buffer, uint32_t codepoint);
void dg_buffer_release(dg_buffer *buffer);

/* Decodes one code point at *cursor (before end) and advances past it. An
 * ill-formed sequence (stray continuation byte, overlong form, surrogate,
 * beyond U+10FFFF, cut short) yields U+FFFD and advances past its maximal
 * well-formed prefix, at least one byte: one replacement per broken
 * sequence, as the Unicode standard recommends (chapter 3, "U+FFFD
 * substitution of maximal subparts"). */
uint32_t dg_utf8_next(const char **cursor, const char *end);

/* A copy of text (NULL reads as "") that is valid UTF-8: each ill-formed
 * sequence replaced by U+FFFD. Owned by the caller; NULL when out of
 * memory. jansson refuses invalid UTF-8, so every string bound for
 * results.json passes through here. */
char *dg_utf8_sanitize(const char *text);

/* Whether a code point may appear in the text files (XML 1.0's Char
 * production, narrowed): tab and newline, and everything from U+0020 on,
 * except DEL and the C1 controls (terminal escapes when report.md is
 * cat'ed), U+FFFE and U+FFFF. Carriage returns are dropped too: a CR LF
 * output reads the same with LF alone. */
bool dg_text_allowed(uint32_t codepoint);

/* Appends text (NULL reads as "") escaped for XML and HTML alike, both in
 * element content and in double- or single-quoted attributes: & < > " '
 * become references, disallowed characters are dropped, invalid UTF-8
 * becomes U+FFFD. With one_line, newlines and tabs become spaces (for
 * attributes, whose newlines a parser would turn into spaces anyway). */
void dg_buffer_append_markup(dg_buffer *buffer, const char *text, bool one_line);

/* Appends at most max_bytes of text's first line, cut at a character
 * boundary, with "..." when something was left out. Raw: the caller
 * escapes (this is for messages built before escaping). */
void dg_buffer_append_first_line(dg_buffer *buffer, const char *text, size_t max_bytes);

/* Points for people: at most two decimals, no trailing zeros ("7.5",
 * "10", "2.33"); non-finite values print as "nan"/"inf". */
void dg_format_points(char *out, size_t size, double value);

/* Whether the student-facing files may show a check's output and curve. */
bool dg_check_shows_details(const dg_check_result *check);

/* Number of checks with outcome DG_OUTCOME_PASSED. */
size_t dg_report_passed_count(const dg_report *report);

/* One line for students: "Score 7.5 / 10: 3 of 5 checks passed." */
void dg_report_summary(const dg_report *report, dg_buffer *out);

/* The units that did not build (compile errors, refused before linking,
 * link failure), each once, in check order, joined by
 * ", " (raw text; the caller escapes). Appends nothing when there are none. */
void dg_report_unbuilt_units(const dg_report *report, dg_buffer *out);

/* A non-empty display name for a check: its name, else its id. */
const char *dg_check_display_name(const dg_check_result *check);

/* Renders one format into out. The caller names the file in errors. */
typedef nn_status (*dg_report_emitter)(const dg_report *report, FILE *out, nn_error *err);
nn_status dg_report_emit_json(const dg_report *report, FILE *out, nn_error *err);
nn_status dg_report_emit_junit(const dg_report *report, FILE *out, nn_error *err);
nn_status dg_report_emit_markdown(const dg_report *report, FILE *out, nn_error *err);
nn_status dg_report_emit_html(const dg_report *report, FILE *out, nn_error *err);

/* Writes one report to path atomically with the given emitter. */
nn_status dg_report_write_with(const dg_report *report, const char *path,
                               dg_report_emitter emit, nn_error *err);

/* Writes size bytes of data to path atomically: a temporary file beside it
 * (".NAME.tmp-PID-XXXXXX", 0644), flushed to disk, renamed over it. On
 * failure path is untouched and the temporary file removed. */
nn_status dg_write_atomically(const char *path, const char *data, size_t size, nn_error *err);

/* Appends text as inline Markdown (a table cell, a list item): escaped as
 * report.md's cells are (report_markdown.c), on one line. */
void dg_markdown_append_inline(dg_buffer *out, const char *text);

/* Writes a buffer's bytes to out; NN_ERR_MEMORY if the buffer failed to
 * grow, NN_ERR_IO if the write failed. */
nn_status dg_buffer_write(const dg_buffer *buffer, FILE *out, nn_error *err);

#endif
