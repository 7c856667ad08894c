/*
 * valgrind_xml.c - memcheck's XML output (protocol 4) into findings, with
 * expat, in one pass; and the lines a student reads about them.
 *
 * What Valgrind writes, and what is read of it:
 *
 *   <valgrindoutput>
 *     <protocoltool>memcheck</protocoltool>      must be memcheck
 *     <status><state>RUNNING</state>...</status>
 *     <error>                                    one per distinct error
 *       <unique>0x0</unique> <kind>InvalidWrite</kind>
 *       <what>Invalid write of size 4</what>     or, for leaks,
 *       <xwhat><text>..</text><leakedbytes>128</leakedbytes>
 *              <leakedblocks>1</leakedblocks></xwhat>
 *       <stack><frame><fn/><dir/><file/><line/></frame>...</stack>
 *       <auxwhat>Address 0x.. is 0 bytes after ..</auxwhat> <stack>..</stack>
 *     </error>
 *     <fatal_signal><signo/><signame/><event/><stack/></fatal_signal>
 *     <status><state>FINISHED</state>...</status>  the program ended
 *     <errorcounts><pair><count>3</count><unique>0x0</unique></pair>
 *     </errorcounts>                             repeats (leaks not listed)
 *   </valgrindoutput>
 *
 * Why the checks are strict where they are (see valgrind_xml.h): bytes
 * the program adds to the stream can hide an <error> only inside a
 * comment, a CDATA section or a processing instruction, so any of those
 * (and a DOCTYPE, stray text between Valgrind's elements, an <error>
 * out of place) marks the report damaged, as does anything expat finds
 * not well-formed, a second document (a forked child's or an exec'd
 * program's Valgrind) included. Elements Valgrind may add in later
 * versions are skipped.
 */
#include "valgrind_xml.h"

#include <ctype.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Valgrind nests six deep; more means someone else's markup. */
#define MAX_DEPTH 24
/* Text of one leaf element kept; the rest is cut. */
#define TEXT_SIZE 512

typedef enum element {
    E_OTHER,            /* unknown: skipped, with what it holds */
    E_ROOT,             /* valgrindoutput */
    E_CONTAINER,        /* known, holds only elements: preamble, args, vargv, argv,
                           suppcounts */
    E_PROTOCOLTOOL,
    E_STATUS,
    E_STATE,
    E_ERROR,
    E_UNIQUE,
    E_KIND,
    E_WHAT,
    E_XWHAT,
    E_TEXT,
    E_LEAKEDBYTES,
    E_LEAKEDBLOCKS,
    E_AUXWHAT,
    E_STACK,
    E_FRAME,
    E_FN,
    E_DIR,
    E_FILE,
    E_LINE,
    E_ERRORCOUNTS,
    E_PAIR,
    E_COUNT,
    E_FATAL,
    E_SIGNO,
    E_SIGNAME,
    E_EVENT
} element;

static const struct {
    const char *name;
    element id;
} element_names[] = {
    { "valgrindoutput", E_ROOT }, { "preamble", E_CONTAINER }, { "args", E_CONTAINER },
    { "vargv", E_CONTAINER },     { "argv", E_CONTAINER },     { "suppcounts", E_CONTAINER },
    { "protocoltool", E_PROTOCOLTOOL }, { "status", E_STATUS }, { "state", E_STATE },
    { "error", E_ERROR },         { "unique", E_UNIQUE },      { "kind", E_KIND },
    { "what", E_WHAT },           { "xwhat", E_XWHAT },        { "text", E_TEXT },
    { "leakedbytes", E_LEAKEDBYTES }, { "leakedblocks", E_LEAKEDBLOCKS },
    { "auxwhat", E_AUXWHAT },     { "stack", E_STACK },        { "frame", E_FRAME },
    { "fn", E_FN },               { "dir", E_DIR },            { "file", E_FILE },
    { "line", E_LINE },           { "errorcounts", E_ERRORCOUNTS }, { "pair", E_PAIR },
    { "count", E_COUNT },         { "fatal_signal", E_FATAL }, { "signo", E_SIGNO },
    { "signame", E_SIGNAME },     { "event", E_EVENT },
};

typedef struct parse_state {
    XML_Parser parser;
    dg_valgrind_report *report;
    bool stopped;               /* a handler found damage and stopped expat */
    int depth;                  /* elements open */
    element stack[MAX_DEPTH];
    bool root_seen, root_closed, tool_seen, finished;
    char text[TEXT_SIZE];       /* the open leaf's text, cut to fit */
    size_t text_length;
    /* the <error> or <fatal_signal> being read */
    dg_valgrind_finding *current;
    dg_valgrind_finding scratch; /* for errors past the limit: read, counted, dropped */
    int stacks;                 /* <stack>s seen in the current one: only the first counts */
    bool in_frame;              /* a frame of the first stack is open and kept */
    /* the <pair> being read */
    char pair_unique[24];
    unsigned long long pair_count;
} parse_state;

static element element_of(const char *name)
{
    for (size_t i = 0; i < sizeof element_names / sizeof element_names[0]; i++)
        if (strcmp(element_names[i].name, name) == 0)
            return element_names[i].id;
    return E_OTHER;
}

static element parent(const parse_state *s, int up)
{
    int at = s->depth - 1 - up;
    return at >= 0 && at < MAX_DEPTH ? s->stack[at] : E_OTHER;
}

/* Marks the report damaged (the first reason wins) and stops expat. */
static void damaged(parse_state *s, const char *format, ...)
{
    if (s->stopped)
        return;
    s->stopped = true;
    s->report->status = DG_VALGRIND_DAMAGED;
    char reason[200];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    snprintf(s->report->problem, sizeof s->report->problem, "line %lu, column %lu: %s",
             (unsigned long)XML_GetCurrentLineNumber(s->parser),
             (unsigned long)XML_GetCurrentColumnNumber(s->parser) + 1, reason);
    XML_StopParser(s->parser, XML_FALSE);
}

/* Copies text into a fixed field, control characters as spaces. */
static void set_field(char *field, size_t size, const char *text)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c && n + 1 < size; c++)
        field[n++] = *c < 0x20 || *c == 0x7f ? ' ' : (char)*c;
    field[n] = '\0';
}

/* A decimal number, or false when text is not one (no sign, no junk). */
static bool parse_count(unsigned long long *value, const char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    if (!isdigit((unsigned char)*text))
        return false;
    unsigned long long v = 0;
    for (; isdigit((unsigned char)*text); text++) {
        unsigned digit = (unsigned)(*text - '0');
        if (v > (~0ull - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    while (isspace((unsigned char)*text))
        text++;
    *value = v;
    return *text == '\0';
}

/* Text with the white space at both ends removed, in place. */
static char *trimmed(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        text[--n] = '\0';
    return text;
}

static unsigned long long saturating_add(unsigned long long a, unsigned long long b)
{
    return a > ~0ull - b ? ~0ull : a + b;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attributes)
{
    (void)attributes;   /* Valgrind's elements have none; others are skipped */
    parse_state *s = data;
    if (s->stopped)
        return;
    element id = element_of(name);
    if (s->depth == 0) {
        if (id != E_ROOT) {
            damaged(s, "the document is <%.40s>, not Valgrind's <valgrindoutput>", name);
            return;
        }
        s->root_seen = true;
    }
    if (s->depth >= MAX_DEPTH) {
        damaged(s, "elements nested deeper than Valgrind ever writes them");
        return;
    }
    element up = parent(s, 0);   /* the element this one opens inside */
    if (id == E_ROOT && s->depth != 0) {
        damaged(s, "a <valgrindoutput> inside the document");
        return;
    }
    if (id == E_ERROR || id == E_FATAL) {
        if (up != E_ROOT) {
            damaged(s, "an <%s> where Valgrind never writes one", name);
            return;
        }
        if (id == E_FATAL) {
            s->current = &s->report->fatal;
        } else {
            s->current = s->report->finding_count < DG_VALGRIND_MAX_FINDINGS
                             ? &s->report->findings[s->report->finding_count]
                             : &s->scratch;
        }
        memset(s->current, 0, sizeof *s->current);
        s->current->count = 1;
        s->stacks = 0;
    }
    if (id == E_STACK && s->current != NULL && (up == E_ERROR || up == E_FATAL))
        s->stacks++;
    if (id == E_FRAME) {
        s->in_frame = s->current != NULL && up == E_STACK && s->stacks == 1
                      && (parent(s, 1) == E_ERROR || parent(s, 1) == E_FATAL)
                      && s->current->frame_count < DG_VALGRIND_MAX_FRAMES;
        if (s->in_frame)
            memset(&s->current->frames[s->current->frame_count], 0, sizeof(dg_valgrind_frame));
    }
    if (id == E_PAIR && up == E_ERRORCOUNTS) {
        s->pair_unique[0] = '\0';
        s->pair_count = 0;
    }
    s->stack[s->depth++] = id;
    s->text_length = 0;
    s->text[0] = '\0';
}

/* Elements that hold only elements: text in them is someone else's. */
static bool holds_only_elements(element id)
{
    switch (id) {
    case E_ROOT:
    case E_CONTAINER:
    case E_STATUS:
    case E_ERROR:
    case E_XWHAT:
    case E_STACK:
    case E_FRAME:
    case E_ERRORCOUNTS:
    case E_PAIR:
    case E_FATAL:
        return true;
    default:
        return false;
    }
}

static void XMLCALL on_text(void *data, const XML_Char *text, int length)
{
    parse_state *s = data;
    if (s->stopped || s->depth == 0)
        return;
    if (holds_only_elements(s->stack[s->depth - 1])) {
        for (int i = 0; i < length; i++)
            if (!isspace((unsigned char)text[i])) {
                damaged(s, "text between Valgrind's elements");
                return;
            }
        return;
    }
    /* expat hands text over in pieces (entities, buffer ends): gather. */
    size_t room = sizeof s->text - 1 - s->text_length;
    size_t n = (size_t)length < room ? (size_t)length : room;
    memcpy(s->text + s->text_length, text, n);
    s->text_length += n;
    s->text[s->text_length] = '\0';
}

/* Where a finished <pair> goes: the kept finding with its unique, and
 * the repeats into the total either way. */
static void end_pair(parse_state *s)
{
    if (s->pair_count <= 1)
        return;
    dg_valgrind_report *r = s->report;
    for (int i = 0; i < r->finding_count; i++)
        if (strcmp(r->findings[i].unique, s->pair_unique) == 0) {
            if (dg_valgrind_is_leak(&r->findings[i]))
                return;
            r->findings[i].count = s->pair_count;
            break;
        }
    r->error_count = saturating_add(r->error_count, s->pair_count - 1);
}

static void end_error(parse_state *s)
{
    dg_valgrind_report *r = s->report;
    dg_valgrind_finding *f = s->current;
    s->current = NULL;
    if (dg_valgrind_is_leak(f)) {
        r->leak_count = saturating_add(r->leak_count, 1);
        r->leaked_bytes = saturating_add(r->leaked_bytes, f->leaked_bytes);
        r->leaked_blocks = saturating_add(r->leaked_blocks, f->leaked_blocks);
    } else {
        r->error_count = saturating_add(r->error_count, 1);
    }
    if (f == &s->scratch)
        r->dropped++;
    else
        r->finding_count++;
}

static void end_fatal(parse_state *s)
{
    dg_valgrind_report *r = s->report;
    dg_valgrind_finding *f = &r->fatal;
    s->current = NULL;
    r->has_fatal_signal = true;
    char event[sizeof f->what];
    snprintf(event, sizeof event, "%s", f->what);
    if (event[0] != '\0' && isupper((unsigned char)event[0]) && islower((unsigned char)event[1]))
        event[0] = (char)tolower((unsigned char)event[0]);
    snprintf(f->what, sizeof f->what, "killed by %s%s%s%s", f->kind[0] ? f->kind : "a signal",
             event[0] ? " (" : "", event, event[0] ? ")" : "");
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    (void)name;
    parse_state *s = data;
    if (s->stopped || s->depth == 0)
        return;
    element id = s->stack[--s->depth];
    element up = parent(s, 0), above = parent(s, 1);
    char *text = trimmed(s->text);
    dg_valgrind_finding *f = s->current;
    dg_valgrind_frame *frame = f != NULL && s->in_frame ? &f->frames[f->frame_count] : NULL;
    unsigned long long number = 0;
    switch (id) {
    case E_ROOT:
        s->root_closed = true;
        break;
    case E_PROTOCOLTOOL:
        if (up == E_ROOT) {
            if (strcmp(text, "memcheck") != 0)
                damaged(s, "the report is %.40s's, not memcheck's", text);
            s->tool_seen = true;
        }
        break;
    case E_STATE:
        if (up == E_STATUS && above == E_ROOT && strcmp(text, "FINISHED") == 0)
            s->finished = true;
        break;
    case E_ERROR:
        end_error(s);
        break;
    case E_FATAL:
        end_fatal(s);
        break;
    case E_UNIQUE:
        if (up == E_ERROR && f != NULL)
            set_field(f->unique, sizeof f->unique, text);
        else if (up == E_PAIR)
            set_field(s->pair_unique, sizeof s->pair_unique, text);
        break;
    case E_COUNT:
        if (up == E_PAIR && parse_count(&number, text))
            s->pair_count = number;
        break;
    case E_PAIR:
        if (up == E_ERRORCOUNTS)
            end_pair(s);
        break;
    case E_KIND:
        if (up == E_ERROR && f != NULL)
            set_field(f->kind, sizeof f->kind, text);
        break;
    case E_SIGNAME:
        if (up == E_FATAL && f != NULL)
            set_field(f->kind, sizeof f->kind, text);
        break;
    case E_SIGNO:
        if (up == E_FATAL && parse_count(&number, text) && number < 1024)
            s->report->fatal_signal = (int)number;
        break;
    case E_WHAT:
    case E_EVENT:
        if ((up == E_ERROR || up == E_FATAL) && f != NULL)
            set_field(f->what, sizeof f->what, text);
        break;
    case E_TEXT:
        if (up == E_XWHAT && above == E_ERROR && f != NULL)
            set_field(f->what, sizeof f->what, text);
        break;
    case E_AUXWHAT:
        if (up == E_ERROR && f != NULL && f->auxwhat[0] == '\0')
            set_field(f->auxwhat, sizeof f->auxwhat, text);
        break;
    case E_LEAKEDBYTES:
        if (up == E_XWHAT && f != NULL && parse_count(&number, text))
            f->leaked_bytes = number;
        break;
    case E_LEAKEDBLOCKS:
        if (up == E_XWHAT && f != NULL && parse_count(&number, text))
            f->leaked_blocks = number;
        break;
    case E_FN:
        if (up == E_FRAME && frame != NULL)
            set_field(frame->fn, sizeof frame->fn, text);
        break;
    case E_DIR:
        if (up == E_FRAME && frame != NULL)
            set_field(frame->dir, sizeof frame->dir, text);
        break;
    case E_FILE:
        if (up == E_FRAME && frame != NULL)
            set_field(frame->file, sizeof frame->file, text);
        break;
    case E_LINE:
        if (up == E_FRAME && frame != NULL && parse_count(&number, text) && number < 1u << 30)
            frame->line = (int)number;
        break;
    case E_FRAME:
        if (frame != NULL) {
            f->frame_count++;
            s->in_frame = false;
        }
        break;
    default:
        break;
    }
    s->text_length = 0;
    s->text[0] = '\0';
}

/* What Valgrind never writes: each means the stream holds other bytes. */
static void XMLCALL on_comment(void *data, const XML_Char *text)
{
    (void)text;
    damaged(data, "a comment, which Valgrind never writes");
}

static void XMLCALL on_cdata(void *data)
{
    damaged(data, "a CDATA section, which Valgrind never writes");
}

static void XMLCALL on_instruction(void *data, const XML_Char *target, const XML_Char *text)
{
    (void)target;
    (void)text;
    damaged(data, "a processing instruction, which Valgrind never writes");
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *system_id,
                               const XML_Char *public_id, int has_internal_subset)
{
    (void)name;
    (void)system_id;
    (void)public_id;
    (void)has_internal_subset;
    damaged(data, "a DOCTYPE, which Valgrind never writes");
}

static void finish(parse_state *s, const char *xml, size_t size)
{
    dg_valgrind_report *r = s->report;
    if (s->stopped)
        return;
    if (!s->root_seen) {
        bool blank = true;
        for (size_t i = 0; i < size && blank; i++)
            blank = isspace((unsigned char)xml[i]) != 0;
        r->status = blank ? DG_VALGRIND_EMPTY : DG_VALGRIND_TRUNCATED;
        snprintf(r->problem, sizeof r->problem, "%s",
                 blank ? "Valgrind wrote nothing" : "the report stops before it begins");
        return;
    }
    if (!s->root_closed) {
        r->status = DG_VALGRIND_TRUNCATED;
        snprintf(r->problem, sizeof r->problem, "the report stops after %zu bytes, before "
                 "Valgrind's final status", size);
        return;
    }
    if (!s->tool_seen || !s->finished) {
        r->status = DG_VALGRIND_DAMAGED;
        snprintf(r->problem, sizeof r->problem, "the document ends without %s",
                 !s->tool_seen ? "saying which tool wrote it" : "Valgrind's final status");
        return;
    }
    r->status = DG_VALGRIND_COMPLETE;
}

nn_status dg_valgrind_parse(dg_valgrind_report *report, const char *xml, size_t size,
                            nn_error *err)
{
    if (report == NULL || (xml == NULL && size > 0))
        return nn_error_set(err, NN_ERR_ARGUMENT, "dg_valgrind_parse: no report or no input");
    memset(report, 0, sizeof *report);
    if (size > DG_VALGRIND_MAX_BYTES) {
        report->status = DG_VALGRIND_TOO_LARGE;
        snprintf(report->problem, sizeof report->problem,
                 "the report is %zu bytes, more than the %u read", size,
                 (unsigned)DG_VALGRIND_MAX_BYTES);
        return NN_OK;
    }
    parse_state *s = calloc(1, sizeof *s);
    XML_Parser parser = XML_ParserCreate("UTF-8");
    if (s == NULL || parser == NULL) {
        free(s);
        if (parser != NULL)
            XML_ParserFree(parser);
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory for Valgrind's report");
    }
    s->parser = parser;
    s->report = report;
    XML_SetUserData(parser, s);
    XML_SetElementHandler(parser, on_start, on_end);
    XML_SetCharacterDataHandler(parser, on_text);
    XML_SetCommentHandler(parser, on_comment);
    XML_SetStartCdataSectionHandler(parser, on_cdata);
    XML_SetProcessingInstructionHandler(parser, on_instruction);
    XML_SetStartDoctypeDeclHandler(parser, on_doctype);
    /* Not final first: a document cut short is then told apart from one
     * that is not well-formed (expat would call both "no element found"). */
    enum XML_Status status = XML_Parse(parser, size > 0 ? xml : "", (int)size, XML_FALSE);
    if (status == XML_STATUS_OK && s->root_closed)
        status = XML_Parse(parser, "", 0, XML_TRUE);
    if (status != XML_STATUS_OK && !s->stopped) {
        s->stopped = true;
        report->status = DG_VALGRIND_DAMAGED;
        snprintf(report->problem, sizeof report->problem,
                 "line %lu, column %lu: not well-formed XML (%s)",
                 (unsigned long)XML_GetCurrentLineNumber(parser),
                 (unsigned long)XML_GetCurrentColumnNumber(parser) + 1,
                 XML_ErrorString(XML_GetErrorCode(parser)));
    }
    finish(s, xml, size);
    XML_ParserFree(parser);
    free(s);
    return NN_OK;
}

bool dg_valgrind_is_leak(const dg_valgrind_finding *finding)
{
    return strncmp(finding->kind, "Leak_", 5) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

const dg_valgrind_frame *dg_valgrind_frame_shown(const dg_valgrind_finding *finding,
                                                 const char *const *files)
{
    if (finding->frame_count == 0)
        return NULL;
    for (int i = 0; files != NULL && i < finding->frame_count; i++)
        for (int k = 0; files[k] != NULL; k++)
            if (finding->frames[i].file[0] != '\0'
                && strcmp(base_name(finding->frames[i].file), base_name(files[k])) == 0)
                return &finding->frames[i];
    for (int i = 0; i < finding->frame_count; i++)
        if (finding->frames[i].file[0] != '\0')
            return &finding->frames[i];
    return &finding->frames[0];
}

/* A finding's line in two parts, so that a count can go between them:
 * head "linear.c:42: invalid write of size 4 in nn_linear_forward", detail
 * " (0 bytes after a block of size 8 alloc'd)" or "". */
static void describe_parts(char *head, size_t head_size, char *detail, size_t detail_size,
                           const dg_valgrind_finding *finding, const char *const *files)
{
    const dg_valgrind_frame *frame = dg_valgrind_frame_shown(finding, files);
    char place[200] = "", function[200] = "", what[300];
    detail[0] = '\0';
    if (frame != NULL && frame->file[0] != '\0') {
        if (frame->line > 0)
            snprintf(place, sizeof place, "%s:%d: ", frame->file, frame->line);
        else
            snprintf(place, sizeof place, "%s: ", frame->file);
    }
    bool leak = dg_valgrind_is_leak(finding);
    if (frame != NULL && frame->fn[0] != '\0')
        snprintf(function, sizeof function, leak ? ", allocated in %s" : " in %s", frame->fn);
    if (leak) {
        snprintf(what, sizeof what, "%llu bytes definitely lost in %llu block%s",
                 finding->leaked_bytes, finding->leaked_blocks,
                 finding->leaked_blocks == 1 ? "" : "s");
    } else {
        snprintf(what, sizeof what, "%s", finding->what[0] ? finding->what : finding->kind);
        /* "Invalid write" reads as a sentence start; mid-line it is lower
         * case (but not "SIGSEGV", nor a kind such as "InvalidWrite"). */
        if (finding->what[0] && isupper((unsigned char)what[0])
            && islower((unsigned char)what[1]))
            what[0] = (char)tolower((unsigned char)what[0]);
        /* "Address 0x4a47048 is 0 bytes after a block of size 8 alloc'd":
         * the address helps nobody and need not stay the same from one
         * run to the next; the rest says what was missed. */
        const char *is = strstr(finding->auxwhat, " is ");
        if (strncmp(finding->auxwhat, "Address 0x", 10) == 0 && is != NULL)
            snprintf(detail, detail_size, " (%s)", is + 4);
    }
    snprintf(head, head_size, "%s%s%s", place, what, function);
}

/* ", 3 times" for a repeated error; "" otherwise (a leak's count is its
 * blocks, already said). */
static void times(char *out, size_t size, const dg_valgrind_finding *finding,
                  unsigned long long count)
{
    out[0] = '\0';
    if (!dg_valgrind_is_leak(finding) && count > 1)
        snprintf(out, size, ", %llu times", count);
}

void dg_valgrind_describe(char *out, size_t size, const dg_valgrind_finding *finding,
                          const char *const *files)
{
    char head[400], detail[220], count[40];
    describe_parts(head, sizeof head, detail, sizeof detail, finding, files);
    times(count, sizeof count, finding, finding->count);
    snprintf(out, size, "%s%s%s", head, count, detail);
}

void dg_valgrind_totals(char *out, size_t size, const dg_valgrind_report *report)
{
    char errors[64] = "", leaks[128] = "";
    if (report->error_count > 0)
        snprintf(errors, sizeof errors, "%llu error%s", report->error_count,
                 report->error_count == 1 ? "" : "s");
    if (report->leak_count > 0)
        snprintf(leaks, sizeof leaks, "%llu bytes definitely lost in %llu block%s",
                 report->leaked_bytes, report->leaked_blocks,
                 report->leaked_blocks == 1 ? "" : "s");
    if (errors[0] == '\0' && leaks[0] == '\0')
        snprintf(out, size, "no errors");
    else
        snprintf(out, size, "%s%s%s", errors, errors[0] && leaks[0] ? ", " : "", leaks);
}

/* Appends to a bounded buffer; stops quietly when it is full. */
static void append(char *out, size_t size, size_t *used, const char *format, ...)
{
    if (*used + 1 >= size)
        return;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(out + *used, size - *used, format, args);
    va_end(args);
    if (n > 0)
        *used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

int dg_valgrind_list(char *out, size_t size, const dg_valgrind_report *report,
                     const char *const *files, const char *indent, int max_lines)
{
    /* Findings that read the same (one line reached from two callers)
     * become one line with their counts added. */
    typedef struct line {
        char head[400], detail[220];
        unsigned long long count;
        const dg_valgrind_finding *first;
    } line;
    line *lines = calloc(DG_VALGRIND_MAX_FINDINGS, sizeof *lines);
    if (size > 0)
        out[0] = '\0';
    if (lines == NULL)
        return 0;
    int distinct = 0;
    for (int i = 0; i < report->finding_count && i < DG_VALGRIND_MAX_FINDINGS; i++) {
        line *next = &lines[distinct];
        describe_parts(next->head, sizeof next->head, next->detail, sizeof next->detail,
                       &report->findings[i], files);
        int at = 0;
        while (at < distinct && (strcmp(lines[at].head, next->head) != 0
                                 || strcmp(lines[at].detail, next->detail) != 0))
            at++;
        if (at == distinct) {
            next->first = &report->findings[i];
            distinct++;
        }
        lines[at].count = saturating_add(lines[at].count, report->findings[i].count);
    }
    size_t used = 0;
    for (int i = 0; i < distinct && i < max_lines; i++) {
        char count[40];
        times(count, sizeof count, lines[i].first, lines[i].count);
        append(out, size, &used, "%s%s%s%s\n", indent, lines[i].head, count, lines[i].detail);
    }
    int hidden = (distinct > max_lines ? distinct - max_lines : 0) + report->dropped;
    if (hidden > 0)
        append(out, size, &used, "%s... and %d more (not shown)\n", indent, hidden);
    free(lines);
    return distinct;
}
