/*
 * report_markdown.c - report.md, the summary a student reads first (in a
 * terminal, or rendered by GitLab/GitHub): the total, a table of checks,
 * the message of every check that did not pass, the compiler's messages
 * and the inspection's refusals for units that did not build, and the
 * sandbox notes.
 *
 * Escaping, for CommonMark with GitHub's tables:
 * - inline text (table cells, headings) backslash-escapes the ASCII
 *   punctuation that means something in Markdown, writes & < > as
 *   character references (renderers pass raw HTML through otherwise), and
 *   turns newlines into spaces (a newline would end a table row);
 * - a block of output goes into a fenced code block whose fence is one
 *   backtick longer than the longest run of backticks in the text (at
 *   least three), so nothing in the text can close it (CommonMark 0.30,
 *   section 4.5: a closing fence is at least as long as the opening one);
 * - everywhere, invalid UTF-8 becomes U+FFFD and the control characters
 *   dg_text_allowed rejects are dropped, so `cat report.md` cannot send
 *   escape sequences to a terminal.
 */
#include "report_internal.h"

#include <string.h>

static void append_inline(dg_buffer *out, const char *text)
{
    if (text == NULL)
        return;
    const char *cursor = text, *end = text + strlen(text);
    while (cursor < end) {
        uint32_t codepoint = dg_utf8_next(&cursor, end);
        if (codepoint == '\n' || codepoint == '\t')
            codepoint = ' ';
        if (!dg_text_allowed(codepoint))
            continue;
        switch (codepoint) {
        case '&': dg_buffer_puts(out, "&amp;"); break;
        case '<': dg_buffer_puts(out, "&lt;"); break;
        case '>': dg_buffer_puts(out, "&gt;"); break;
        case '\\': case '`': case '*': case '_': case '[': case ']': case '|':
        case '#': case '!': case '~': case '{': case '}':
            dg_buffer_printf(out, "\\%c", (char)codepoint);
            break;
        default: dg_buffer_append_codepoint(out, codepoint); break;
        }
    }
}

void dg_markdown_append_inline(dg_buffer *out, const char *text)
{
    append_inline(out, text);
}

/* The text of a code block: valid UTF-8, allowed characters only. */
static void clean_block(dg_buffer *out, const char *text)
{
    const char *cursor = text, *end = text + strlen(text);
    while (cursor < end) {
        uint32_t codepoint = dg_utf8_next(&cursor, end);
        if (dg_text_allowed(codepoint))
            dg_buffer_append_codepoint(out, codepoint);
    }
}

static void append_fenced(dg_buffer *out, const char *text)
{
    dg_buffer clean = { 0 };
    clean_block(&clean, text != NULL ? text : "");
    if (clean.failed) {
        out->failed = true;
        dg_buffer_release(&clean);
        return;
    }
    size_t longest = 0, run = 0;
    for (size_t i = 0; i < clean.length; i++) {
        run = clean.data[i] == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    for (size_t i = 0; i < fence; i++)
        dg_buffer_puts(out, "`");
    dg_buffer_puts(out, "text\n");
    if (clean.length != 0) {
        dg_buffer_append(out, clean.data, clean.length);
        if (clean.data[clean.length - 1] != '\n')
            dg_buffer_puts(out, "\n");
    }
    for (size_t i = 0; i < fence; i++)
        dg_buffer_puts(out, "`");
    dg_buffer_puts(out, "\n\n");
    dg_buffer_release(&clean);
}

static void append_points(dg_buffer *out, double score, double max_score)
{
    char got[32], of[32];
    dg_format_points(got, sizeof got, score);
    dg_format_points(of, sizeof of, max_score);
    dg_buffer_printf(out, "%s / %s", got, of);
}

static void append_header(dg_buffer *md, const dg_report *report)
{
    dg_buffer_puts(md, "# dlgrade report: ");
    append_inline(md, report->assignment[0] != '\0' ? report->assignment : "assignment");
    dg_buffer_puts(md, "\n\n**");
    dg_report_summary(report, md);
    dg_buffer_puts(md, "**\n\n");
    if (report->submission[0] != '\0') {
        dg_buffer_puts(md, "- Submission: ");
        append_inline(md, report->submission);
        dg_buffer_puts(md, "\n");
    }
    dg_buffer_printf(md, "- Seed: %llu\n", report->seed);
    if (report->replay[0] != '\0') {
        dg_buffer_puts(md, "- Reproduce: `");
        append_inline(md, report->replay);
        dg_buffer_printf(md, "` (dlgrade %s, assignment.yaml CRC-32 %s, graded files CRC-32 %s)\n",
                         report->grader_version, report->config_hash, report->submission_hash);
    }
    if (report->started_at[0] != '\0') {
        dg_buffer_puts(md, "- Graded at: ");
        append_inline(md, report->started_at);
        dg_buffer_puts(md, "\n");
    }
    dg_buffer_printf(md, "- Grading time: %.1f s\n\n", report->execution_time);
}

static void append_table(dg_buffer *md, const dg_report *report)
{
    dg_buffer_puts(md, "## Checks\n\n");
    if (report->check_count == 0) {
        dg_buffer_puts(md, "No checks were run.\n\n");
        return;
    }
    dg_buffer_puts(md, "| Check | Name | Points | Outcome |\n|---|---|--:|---|\n");
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        dg_buffer_puts(md, "| ");
        append_inline(md, check->id);
        dg_buffer_puts(md, " | ");
        append_inline(md, dg_check_display_name(check));
        if (!dg_check_shows_details(check))
            dg_buffer_puts(md, " (hidden)");
        dg_buffer_puts(md, " | ");
        append_points(md, check->score, check->max_score);
        dg_buffer_printf(md, " | %s |\n", dg_outcome_name(check->outcome));
    }
    dg_buffer_puts(md, "\n");
}

static void append_details(dg_buffer *md, const dg_report *report)
{
    if (dg_report_passed_count(report) == report->check_count)
        return;
    dg_buffer_puts(md, "## Checks not passed\n\n");
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        if (check->outcome == DG_OUTCOME_PASSED)
            continue;
        dg_buffer_puts(md, "### ");
        append_inline(md, check->id);
        dg_buffer_puts(md, ": ");
        append_inline(md, dg_check_display_name(check));
        dg_buffer_puts(md, " (");
        append_points(md, check->score, check->max_score);
        dg_buffer_printf(md, ", %s)\n\n", dg_outcome_name(check->outcome));
        if (!dg_check_shows_details(check))
            dg_buffer_puts(md, DG_HIDDEN_DETAILS "\n\n");
        else if (check->output == NULL || check->output[0] == '\0')
            dg_buffer_puts(md, "No message.\n\n");
        else
            append_fenced(md, check->output);
    }
}

static void append_build_log(dg_buffer *md, const dg_report *report)
{
    dg_buffer units = { 0 };
    dg_report_unbuilt_units(report, &units);
    bool has_log = report->build_log != NULL && report->build_log[0] != '\0';
    if (units.length == 0 && !has_log) {
        dg_buffer_release(&units);
        return;
    }
    dg_buffer_puts(md, "## Build log\n\n");
    if (units.failed)
        md->failed = true;
    if (units.length != 0) {
        dg_buffer_puts(md, "Units that did not build: ");
        append_inline(md, units.data);
        dg_buffer_puts(md, ".\n\n");
    }
    if (has_log)
        append_fenced(md, report->build_log);
    dg_buffer_release(&units);
}

nn_status dg_report_emit_markdown(const dg_report *report, FILE *out, nn_error *err)
{
    dg_buffer md = { 0 };
    append_header(&md, report);
    append_table(&md, report);
    append_details(&md, report);
    append_build_log(&md, report);
    if (report->sandbox_notes != NULL && report->sandbox_notes[0] != '\0') {
        dg_buffer_puts(&md, "## Sandbox\n\n");
        append_fenced(&md, report->sandbox_notes);
    }
    /* One trailing newline, not the blank line the sections leave. */
    if (md.length >= 2 && md.data[md.length - 1] == '\n' && md.data[md.length - 2] == '\n')
        md.data[--md.length] = '\0';
    nn_status status = dg_buffer_write(&md, out, err);
    dg_buffer_release(&md);
    return status;
}

nn_status dg_report_write_markdown(const dg_report *report, const char *path, nn_error *err)
{
    return dg_report_write_with(report, path, dg_report_emit_markdown, err);
}
