/*
 * stub.c - replacing solution regions by stubs.
 */
#include "stub.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEGIN_MARK "BEGIN SOLUTION"
#define END_MARK "END SOLUTION"
#define REFERENCE_ONLY_MARK "dlgrade: reference only"

int dg_has_solution(const char *text)
{
    return strstr(text, BEGIN_MARK) != NULL;
}

int dg_is_reference_only(const char *text)
{
    return strstr(text, REFERENCE_ONLY_MARK) != NULL;
}

typedef struct text_buffer {
    char *data;
    size_t size, capacity;
    bool failed;
} text_buffer;

static void add(text_buffer *t, const char *bytes, size_t count)
{
    if (t->failed)
        return;
    if (t->size + count + 1 > t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 4096;
        while (capacity < t->size + count + 1)
            capacity *= 2;
        char *data = realloc(t->data, capacity);
        if (data == NULL) {
            t->failed = true;
            return;
        }
        t->data = data;
        t->capacity = capacity;
    }
    memcpy(t->data + t->size, bytes, count);
    t->size += count;
    t->data[t->size] = '\0';
}

static void add_text(text_buffer *t, const char *text)
{
    add(t, text, strlen(text));
}

/* The parameter names of the function whose body contains `at`: the last
 * parenthesised list before the body's opening brace. Writes the (void)
 * casts into t, indented. */
static void add_void_casts(text_buffer *t, const char *source, const char *at,
                           const char *indent)
{
    const char *brace = at;
    while (brace > source && *brace != '{')
        brace--;
    const char *close = brace;
    while (close > source && *close != ')')
        close--;
    int depth = 0;
    const char *open = close;
    for (; open > source; open--) {
        if (*open == ')')
            depth++;
        else if (*open == '(' && --depth == 0)
            break;
    }
    if (*open != '(' || close <= open)
        return;
    /* Each comma-separated parameter's name is its last identifier. */
    const char *start = open + 1;
    while (start < close) {
        const char *end = start;
        int nested = 0;
        while (end < close && (nested > 0 || *end != ',')) {
            if (*end == '(')
                nested++;
            else if (*end == ')')
                nested--;
            end++;
        }
        /* The parameter's text without comments such as shape notes. */
        char parameter[256];
        size_t n = 0;
        for (const char *c = start; c < end && n < sizeof parameter - 1; c++) {
            if (c[0] == '/' && c + 1 < end && c[1] == '*') {
                const char *closing = strstr(c + 2, "*/");
                if (closing == NULL || closing >= end)
                    break;
                c = closing + 1;
                parameter[n++] = ' ';
                continue;
            }
            parameter[n++] = *c;
        }
        parameter[n] = '\0';
        size_t name_end = n;
        while (name_end > 0 && !(isalnum((unsigned char)parameter[name_end - 1])
                                 || parameter[name_end - 1] == '_'))
            name_end--;
        size_t name_start = name_end;
        while (name_start > 0 && (isalnum((unsigned char)parameter[name_start - 1])
                                  || parameter[name_start - 1] == '_'))
            name_start--;
        size_t length = name_end - name_start;
        if (length > 0 && !(length == 4 && strncmp(parameter + name_start, "void", 4) == 0)) {
            add_text(t, indent);
            add_text(t, "(void)");
            add(t, parameter + name_start, length);
            add_text(t, ";\n");
        }
        start = end + 1;
    }
}

nn_status dg_stub_source(char **out, int *regions, const char *name, const char *source,
                         nn_error *err)
{
    *out = NULL;
    *regions = 0;
    text_buffer t = { 0 };
    const char *line = source;
    int line_number = 1, begin_line = 0;
    const char *begin_at = NULL;
    bool no_stub = false;
    char custom_stub[512] = "";
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line + 1) : strlen(line);
        char text[1024];
        snprintf(text, sizeof text, "%.*s", (int)(length < 1023 ? length : 1023), line);
        bool begins = strstr(text, BEGIN_MARK) != NULL;
        bool ends = strstr(text, END_MARK) != NULL;
        if (begins && begin_at != NULL) {
            free(t.data);
            return nn_error_set(err, NN_ERR_FORMAT, "%s:%d: a solution region begins inside the "
                                "one that begins at line %d", name, line_number, begin_line);
        }
        if (ends && begin_at == NULL) {
            free(t.data);
            return nn_error_set(err, NN_ERR_FORMAT, "%s:%d: END SOLUTION without BEGIN SOLUTION",
                                name, line_number);
        }
        if (begins) {
            begin_at = line;
            begin_line = line_number;
            /* "BEGIN SOLUTION (no stub)": the region goes and nothing takes
             * its place (reference-only code inside a framework function). */
            no_stub = strstr(text, "(no stub)") != NULL;
            /* "BEGIN SOLUTION (stub: TEXT)": TEXT replaces the region. */
            const char *given = strstr(text, "(stub: ");
            custom_stub[0] = '\0';
            if (given != NULL) {
                const char *close = strstr(given, ") */");
                size_t n = close ? (size_t)(close - given - 7) : 0;
                snprintf(custom_stub, sizeof custom_stub, "%.*s", (int)n, given + 7);
            }
        } else if (ends && no_stub) {
            begin_at = NULL;
            (*regions)++;
        } else if (ends) {
            /* The indentation of the BEGIN line. */
            char indent[64];
            size_t spaces = strspn(begin_at, " \t");
            snprintf(indent, sizeof indent, "%.*s", (int)(spaces < 63 ? spaces : 63), begin_at);
            add_text(&t, indent);
            add_text(&t, "/* TODO: write this function (the handout, README.md, says what it "
                         "must do). */\n");
            add_void_casts(&t, source, begin_at, indent);
            add_text(&t, indent);
            add_text(&t, custom_stub[0] ? custom_stub : "return NN_ERR_NOT_IMPLEMENTED;");
            add_text(&t, "\n");
            begin_at = NULL;
            (*regions)++;
        } else if (begin_at == NULL) {
            add(&t, line, length);
        }
        line += length;
        line_number++;
    }
    if (begin_at != NULL) {
        free(t.data);
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d: BEGIN SOLUTION is never closed", name,
                            begin_line);
    }
    if (t.failed) {
        free(t.data);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", name);
    }
    if (t.data == NULL)
        add_text(&t, "");
    *out = t.data;
    return NN_OK;
}
