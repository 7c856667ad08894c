/*
 * check_valgrind_xml.c - reading memcheck's XML (valgrind_xml.c): real
 * reports captured from Valgrind 3.19 on small programs
 * (grader/tests/fixtures/valgrind/, remade by make_xml.sh there), then
 * reports cut short, broken, huge, escaped, or with bytes added by a
 * program that wants its errors hidden.
 */
#include "files.h"
#include "valgrind_xml.h"

#include "../../reference/tests/testutil.h"

#define FIXTURES "grader/tests/fixtures/valgrind/"

static char *fixture(const char *name, size_t *size)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "%s.xml", name);
    nn_error err;
    char *text = dg_read_file(path, 1 << 20, size, &err);
    ck_assert_msg(text != NULL, "%s (run the tests from the repository's root)", err.message);
    return text;
}

/* Parses text (whole) into a fresh report; the caller frees it. */
static dg_valgrind_report *parse(const char *text, size_t size)
{
    dg_valgrind_report *report = malloc(sizeof *report);
    ck_assert_ptr_nonnull(report);
    nn_error err;
    ck_assert_int_eq(dg_valgrind_parse(report, text, size, &err), NN_OK);
    return report;
}

static dg_valgrind_report *parse_fixture(const char *name)
{
    size_t size;
    char *text = fixture(name, &size);
    dg_valgrind_report *report = parse(text, size);
    free(text);
    return report;
}

static dg_valgrind_report *parse_string(const char *text)
{
    return parse(text, strlen(text));
}

/* A memcheck document around body, as Valgrind frames its errors. */
static char *document(const char *body)
{
    static const char head[] = "<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n"
                               "<protocolversion>4</protocolversion>\n"
                               "<protocoltool>memcheck</protocoltool>\n\n"
                               "<status>\n  <state>RUNNING</state>\n</status>\n\n";
    static const char tail[] = "\n<status>\n  <state>FINISHED</state>\n</status>\n\n"
                               "<errorcounts>\n</errorcounts>\n\n<suppcounts>\n</suppcounts>\n\n"
                               "</valgrindoutput>\n\n";
    char *text = malloc(sizeof head + strlen(body) + sizeof tail);
    ck_assert_ptr_nonnull(text);
    sprintf(text, "%s%s%s", head, body, tail);
    return text;
}

/* One <error> of kind with what, in fn at file:line. */
static void error_element(char *out, size_t size, const char *kind, const char *what,
                          const char *fn, const char *file, int line)
{
    snprintf(out, size,
             "<error>\n  <unique>0x0</unique>\n  <tid>1</tid>\n  <kind>%s</kind>\n"
             "  <what>%s</what>\n  <stack>\n    <frame>\n      <ip>0x109161</ip>\n"
             "      <obj>/work/runner</obj>\n      <fn>%s</fn>\n      <dir>/work</dir>\n"
             "      <file>%s</file>\n      <line>%d</line>\n    </frame>\n  </stack>\n"
             "</error>\n",
             kind, what, fn, file, line);
}

static dg_valgrind_report *parse_document(const char *body)
{
    char *text = document(body);
    dg_valgrind_report *report = parse_string(text);
    free(text);
    return report;
}

static const char *const no_files[] = { NULL };

/* ---- real reports ------------------------------------------------------------ */

START_TEST(invalid_write_names_its_file_line_and_function)
{
    dg_valgrind_report *r = parse_fixture("invalid_write");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 1);
    const dg_valgrind_finding *f = &r->findings[0];
    ck_assert_str_eq(f->kind, "InvalidWrite");
    ck_assert_str_eq(f->what, "Invalid write of size 1");
    ck_assert_int_eq(f->frame_count, 2);   /* the first stack only, not the allocation's */
    ck_assert_str_eq(f->frames[0].fn, "store");
    ck_assert_str_eq(f->frames[0].file, "invalid_write.c");
    ck_assert_int_eq(f->frames[0].line, 6);
    ck_assert_str_eq(f->frames[1].fn, "main");
    ck_assert_int_eq(f->frames[1].line, 12);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(r->error_count, 1);
    ck_assert_uint_eq(r->leak_count, 0);
    char line[512];
    const char *const files[] = { "invalid_write.c", NULL };
    dg_valgrind_describe(line, sizeof line, f, files);
    ck_assert_str_eq(line, "invalid_write.c:6: invalid write of size 1 in store "
                           "(0 bytes after a block of size 8 alloc'd)");
    dg_valgrind_totals(line, sizeof line, r);
    ck_assert_str_eq(line, "1 error");
    free(r);
}
END_TEST

START_TEST(uninitialised_branch_is_a_conditional_jump)
{
    dg_valgrind_report *r = parse_fixture("uninitialised");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 1);
    ck_assert_str_eq(r->findings[0].kind, "UninitCondition");
    char line[512];
    dg_valgrind_describe(line, sizeof line, &r->findings[0], no_files);
    ck_assert_str_eq(line, "uninitialised.c:8: conditional jump or move depends on "
                           "uninitialised value(s) in main");
    free(r);
}
END_TEST

START_TEST(leaks_are_counted_in_bytes_and_blocks_where_allocated)
{
    dg_valgrind_report *r = parse_fixture("leak");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 2);   /* the still reachable block is not one */
    ck_assert(dg_valgrind_is_leak(&r->findings[0]));
    ck_assert_str_eq(r->findings[0].kind, "Leak_DefinitelyLost");
    ck_assert_uint_eq(r->findings[0].leaked_bytes, 48);
    ck_assert_uint_eq(r->findings[0].leaked_blocks, 3);
    ck_assert_uint_eq(r->findings[1].leaked_bytes, 128);
    ck_assert_uint_eq(r->findings[1].leaked_blocks, 1);
    ck_assert_uint_eq(r->error_count, 0);
    ck_assert_uint_eq(r->leak_count, 2);
    ck_assert_uint_eq(r->leaked_bytes, 176);
    ck_assert_uint_eq(r->leaked_blocks, 4);
    /* The innermost frame is malloc, with no file: the line shown is the
     * program's, where the block was allocated. */
    char line[512];
    const char *const files[] = { "leak.c", NULL };
    dg_valgrind_describe(line, sizeof line, &r->findings[1], files);
    ck_assert_str_eq(line, "leak.c:8: 128 bytes definitely lost in 1 block, allocated in main");
    dg_valgrind_totals(line, sizeof line, r);
    ck_assert_str_eq(line, "176 bytes definitely lost in 4 blocks");
    free(r);
}
END_TEST

START_TEST(mismatched_and_double_free_are_found_in_the_caller)
{
    dg_valgrind_report *r = parse_fixture("mismatched_free");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 2);
    ck_assert_str_eq(r->findings[0].kind, "MismatchedFree");
    ck_assert_str_eq(r->findings[1].kind, "InvalidFree");
    const char *const files[] = { "mismatched_free.cc", NULL };
    const dg_valgrind_frame *frame = dg_valgrind_frame_shown(&r->findings[0], files);
    ck_assert_ptr_nonnull(frame);
    ck_assert_str_eq(frame->fn, "main");
    ck_assert_int_eq(frame->line, 7);
    ck_assert_str_eq(r->findings[0].frames[0].fn, "free");   /* Valgrind's, skipped */
    char list[2048];
    ck_assert_int_eq(dg_valgrind_list(list, sizeof list, r, files, "  ", 8), 2);
    ck_assert_str_eq(list, "  mismatched_free.cc:7: mismatched free() / delete / delete [] in "
                           "main (0 bytes inside a block of size 16 alloc'd)\n"
                           "  mismatched_free.cc:10: invalid free() / delete / delete[] / "
                           "realloc() in main (0 bytes inside a block of size 4 free'd)\n");
    free(r);
}
END_TEST

START_TEST(repeated_errors_take_their_count_from_errorcounts)
{
    dg_valgrind_report *r = parse_fixture("repeated");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 2);
    ck_assert_str_eq(r->findings[0].unique, "0x0");
    ck_assert_uint_eq(r->findings[0].count, 3);
    ck_assert_uint_eq(r->findings[1].count, 1);
    ck_assert_uint_eq(r->error_count, 4);
    char text[2048];
    dg_valgrind_list(text, sizeof text, r, no_files, "", 8);
    ck_assert_str_eq(text, "repeated.c:9: invalid read of size 4 in main, 3 times (0 bytes "
                           "after a block of size 16 alloc'd)\n"
                           "repeated.c:11: invalid read of size 4 in main (0 bytes inside a "
                           "block of size 16 free'd)\n");
    dg_valgrind_totals(text, sizeof text, r);
    ck_assert_str_eq(text, "4 errors");
    free(r);
}
END_TEST

START_TEST(clean_run_is_complete_with_nothing_found)
{
    dg_valgrind_report *r = parse_fixture("clean");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 0);
    ck_assert_uint_eq(r->error_count + r->leak_count, 0);
    ck_assert(!r->has_fatal_signal);
    char text[64];
    dg_valgrind_totals(text, sizeof text, r);
    ck_assert_str_eq(text, "no errors");
    free(r);
}
END_TEST

START_TEST(fatal_signal_says_which_and_where)
{
    dg_valgrind_report *r = parse_fixture("segfault");
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert(r->has_fatal_signal);
    ck_assert_int_eq(r->fatal_signal, 11);
    ck_assert_str_eq(r->fatal.kind, "SIGSEGV");
    ck_assert_int_eq(r->finding_count, 1);
    ck_assert_str_eq(r->findings[0].kind, "InvalidRead");
    char line[512];
    dg_valgrind_describe(line, sizeof line, &r->fatal, no_files);
    ck_assert_str_eq(line, "segfault.c:5: killed by SIGSEGV (access not within mapped region) "
                           "in main");
    free(r);
}
END_TEST

START_TEST(forked_child_report_makes_two_documents)
{
    /* The child's Valgrind ends its own document in the same stream: the
     * parent's tail is then junk after it. What came before stays. */
    dg_valgrind_report *r = parse_fixture("fork_child");
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    ck_assert_ptr_nonnull(strstr(r->problem, "junk after document element"));
    ck_assert_ptr_nonnull(strstr(r->problem, "line 95,"));
    ck_assert_int_eq(r->finding_count, 1);
    ck_assert_str_eq(r->findings[0].kind, "InvalidWrite");
    free(r);
}
END_TEST

START_TEST(exec_under_valgrind_starts_a_second_document)
{
    dg_valgrind_report *r = parse_fixture("exec_program");
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    ck_assert_ptr_nonnull(strstr(r->problem, "line 43,"));
    free(r);
}
END_TEST

/* ---- cut short --------------------------------------------------------------- */

START_TEST(every_prefix_of_a_report_is_truncated_never_clean)
{
    size_t size;
    char *text = fixture("invalid_write", &size);
    const char *root_end = strstr(text, "</valgrindoutput>");
    const char *error_end = strstr(text, "</error>");
    ck_assert_ptr_nonnull(root_end);
    ck_assert_ptr_nonnull(error_end);
    size_t complete_from = (size_t)(root_end - text) + strlen("</valgrindoutput>");
    size_t error_from = (size_t)(error_end - text) + strlen("</error>");
    dg_valgrind_report *r = malloc(sizeof *r);
    ck_assert_ptr_nonnull(r);
    for (size_t cut = 0; cut <= size; cut++) {
        nn_error err;
        ck_assert_int_eq(dg_valgrind_parse(r, text, cut, &err), NN_OK);
        if (cut >= complete_from) {
            ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "cut at %zu: %s", cut, r->problem);
        } else if (cut == 0) {
            ck_assert_int_eq(r->status, DG_VALGRIND_EMPTY);
        } else {
            ck_assert_msg(r->status == DG_VALGRIND_TRUNCATED, "cut at %zu: status %d (%s)", cut,
                          r->status, r->problem);
            ck_assert_ptr_nonnull(strstr(r->problem, "stops"));
        }
        /* what Valgrind said before the cut is kept */
        ck_assert_int_eq(r->finding_count, cut >= error_from ? 1 : 0);
    }
    free(r);
    free(text);
}
END_TEST

START_TEST(no_output_at_all_is_empty)
{
    dg_valgrind_report *r = parse_string("");
    ck_assert_int_eq(r->status, DG_VALGRIND_EMPTY);
    free(r);
    r = parse_string(" \n\n ");
    ck_assert_int_eq(r->status, DG_VALGRIND_EMPTY);
    free(r);
    dg_valgrind_report report;
    nn_error err;
    ck_assert_int_eq(dg_valgrind_parse(&report, NULL, 0, &err), NN_OK);
    ck_assert_int_eq(report.status, DG_VALGRIND_EMPTY);
    ck_assert_int_eq(dg_valgrind_parse(NULL, "", 0, &err), NN_ERR_ARGUMENT);
}
END_TEST

START_TEST(root_closed_without_final_status_is_damaged)
{
    dg_valgrind_report *r = parse_string("<valgrindoutput><protocoltool>memcheck</protocoltool>"
                                         "<status><state>RUNNING</state></status>"
                                         "</valgrindoutput>");
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    ck_assert_ptr_nonnull(strstr(r->problem, "final status"));
    free(r);
}
END_TEST

/* ---- not well-formed, or not Valgrind's -------------------------------------- */

static void assert_damaged(const char *text, const char *reason)
{
    dg_valgrind_report *r = parse_string(text);
    ck_assert_msg(r->status == DG_VALGRIND_DAMAGED, "status %d for:\n%s", r->status, text);
    ck_assert_msg(strstr(r->problem, reason) != NULL, "problem '%s' lacks '%s'", r->problem,
                  reason);
    ck_assert_msg(strncmp(r->problem, "line ", 5) == 0, "no position in '%s'", r->problem);
    free(r);
}

START_TEST(malformed_xml_is_damaged_with_its_position)
{
    assert_damaged("==12== ERROR SUMMARY: 0 errors from 0 contexts\n", "not well-formed");
    assert_damaged("<valgrindoutput><error></valgrindoutput>", "mismatched tag");
    assert_damaged("<valgrindoutput>&nosuch;</valgrindoutput>", "undefined entity");
    assert_damaged("<valgrindoutput><status a=\"1\" a=\"2\"/></valgrindoutput>", "duplicate");
    assert_damaged("<other><protocoltool>memcheck</protocoltool></other>", "<other>");
    assert_damaged("<valgrindoutput><protocoltool>helgrind</protocoltool></valgrindoutput>",
                   "helgrind");
    char nul[] = "<valgrindoutput>\0</valgrindoutput>";
    dg_valgrind_report *r = parse(nul, sizeof nul - 1);
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    free(r);
    r = parse_string("<valgrindoutput><preamble><line>\xff\xfe</line></preamble>"
                     "</valgrindoutput>");
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);   /* not UTF-8 */
    free(r);
}
END_TEST

START_TEST(markup_valgrind_never_writes_cannot_hide_an_error)
{
    char error[1024], body[2048];
    error_element(error, sizeof error, "InvalidWrite", "Invalid write of size 4",
                  "nn_linear_forward", "linear.c", 42);
    /* Bytes a program could add around Valgrind's error, each of which
     * would hide it from a parser that allowed them. */
    static const char *const wrappers[][3] = {
        { "<!--", "-->", "comment" },
        { "<![CDATA[", "]]>", "CDATA" },
        { "<?hide ", "?>", "processing instruction" },
        { "<hide>", "</hide>", "where Valgrind never writes one" },
        { "<error><kind>Nothing</kind>", "</error>", "where Valgrind never writes one" },
    };
    for (size_t w = 0; w < sizeof wrappers / sizeof wrappers[0]; w++) {
        snprintf(body, sizeof body, "%s%s%s", wrappers[w][0], error, wrappers[w][1]);
        char *text = document(body);
        dg_valgrind_report *r = parse_string(text);
        ck_assert_msg(r->status == DG_VALGRIND_DAMAGED, "%s: status %d", wrappers[w][2],
                      r->status);
        ck_assert_msg(strstr(r->problem, wrappers[w][2]) != NULL, "%s: problem '%s'",
                      wrappers[w][2], r->problem);
        free(r);
        free(text);
    }
    /* Text between Valgrind's elements (sendfile() into the descriptor). */
    snprintf(body, sizeof body, "/work%s", error);
    char *text = document(body);
    dg_valgrind_report *r = parse_string(text);
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    ck_assert_ptr_nonnull(strstr(r->problem, "text between"));
    free(r);
    free(text);
    /* A whole forged clean document after Valgrind's start. */
    text = document("<?xml version=\"1.0\"?><valgrindoutput></valgrindoutput>");
    r = parse_string(text);
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    free(r);
    free(text);
}
END_TEST

START_TEST(doctype_and_entity_expansion_are_refused)
{
    assert_damaged("<?xml version=\"1.0\"?>\n<!DOCTYPE valgrindoutput [\n"
                   "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
                   "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
                   "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
                   "]>\n<valgrindoutput>&c;&c;&c;&c;</valgrindoutput>",
                   "DOCTYPE");
    assert_damaged("<!DOCTYPE x SYSTEM \"/etc/shadow\"><valgrindoutput/>", "DOCTYPE");
}
END_TEST

/* ---- tolerant where Valgrind may change ----------------------------------------- */

START_TEST(unknown_elements_are_skipped)
{
    char error[1024], body[4096];
    error_element(error, sizeof error, "InvalidRead", "Invalid read of size 8",
                  "nn_relu_forward", "relu.c", 7);
    /* An element inside the error, one at the top, one in a frame. */
    char *inner = strstr(error, "<stack>");
    ck_assert_ptr_nonnull(inner);
    snprintf(body, sizeof body, "<newthing><deep><kind>Ignored</kind></deep></newthing>\n"
             "%.*s<hint level=\"2\">look here</hint>\n  %s",
             (int)(inner - error), error, inner);
    char *frame_end = strstr(body, "</frame>");
    ck_assert_ptr_nonnull(frame_end);
    memmove(frame_end + 22, frame_end, strlen(frame_end) + 1);
    memcpy(frame_end, "<column>12</column>\n  ", 22);
    dg_valgrind_report *r = parse_document(body);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 1);
    ck_assert_str_eq(r->findings[0].kind, "InvalidRead");
    ck_assert_str_eq(r->findings[0].frames[0].file, "relu.c");
    ck_assert_int_eq(r->findings[0].frames[0].line, 7);
    free(r);
}
END_TEST

START_TEST(escaped_names_are_decoded)
{
    char error[2048];
    error_element(error, sizeof error, "InvalidWrite",
                  "Invalid write of size 4 &amp; more &#x41;&#66;",
                  "operator&lt;&lt;(std::ostream&amp;, std::vector&lt;int&gt; const&amp;)",
                  "&quot;odd&apos; name&quot;.cc", 3);
    dg_valgrind_report *r = parse_document(error);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    const dg_valgrind_finding *f = &r->findings[0];
    ck_assert_str_eq(f->what, "Invalid write of size 4 & more AB");
    ck_assert_str_eq(f->frames[0].fn, "operator<<(std::ostream&, std::vector<int> const&)");
    ck_assert_str_eq(f->frames[0].file, "\"odd' name\".cc");
    /* White space inside the text (a newline from &#10;) is no line break
     * in a message. */
    error_element(error, sizeof error, "InvalidRead", "two&#10;lines&#9;here", "f", "a.c", 1);
    free(r);
    r = parse_document(error);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_str_eq(r->findings[0].what, "two lines here");
    free(r);
}
END_TEST

/* ---- bounds ----------------------------------------------------------------- */

START_TEST(input_over_the_bound_is_not_parsed)
{
    size_t size = (size_t)DG_VALGRIND_MAX_BYTES + 1;
    char *huge = malloc(size);
    ck_assert_ptr_nonnull(huge);
    memset(huge, ' ', size);
    dg_valgrind_report *r = parse(huge, size);
    ck_assert_int_eq(r->status, DG_VALGRIND_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(r->problem, "bytes"));
    free(r);
    free(huge);
}
END_TEST

START_TEST(findings_past_the_limit_are_counted_not_kept)
{
    enum { ERRORS = 100 };
    size_t capacity = ERRORS * 1024;
    char *body = malloc(capacity), error[1024];
    ck_assert_ptr_nonnull(body);
    body[0] = '\0';
    for (int i = 0; i < ERRORS; i++) {
        error_element(error, sizeof error, "InvalidRead", "Invalid read of size 8",
                      "nn_relu_forward", "relu.c", 100 + i);
        strcat(body, error);
    }
    dg_valgrind_report *r = parse_document(body);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, DG_VALGRIND_MAX_FINDINGS);
    ck_assert_int_eq(r->dropped, ERRORS - DG_VALGRIND_MAX_FINDINGS);
    ck_assert_uint_eq(r->error_count, ERRORS);
    char list[8192];
    ck_assert_int_eq(dg_valgrind_list(list, sizeof list, r, no_files, "  ", 3),
                     DG_VALGRIND_MAX_FINDINGS);
    char expected[128];
    snprintf(expected, sizeof expected, "  relu.c:102: invalid read of size 8 in "
             "nn_relu_forward\n  ... and %d more (not shown)\n", ERRORS - 3);
    ck_assert_msg(strstr(list, expected) != NULL, "list:\n%s", list);
    /* A list cut to its buffer stays a string. */
    ck_assert_int_eq(dg_valgrind_list(list, 40, r, no_files, "  ", 8), DG_VALGRIND_MAX_FINDINGS);
    ck_assert_uint_eq(strlen(list), 39);
    free(r);
    free(body);
}
END_TEST

START_TEST(long_text_is_cut_to_its_field)
{
    size_t length = 100000;
    char *name = malloc(length + 1);
    ck_assert_ptr_nonnull(name);
    memset(name, 'f', length);
    name[length] = '\0';
    size_t capacity = length + 2048;
    char *error = malloc(capacity);
    ck_assert_ptr_nonnull(error);
    error_element(error, capacity, "InvalidRead", "Invalid read of size 8", name, "a.c", 1);
    dg_valgrind_report *r = parse_document(error);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_uint_eq(strlen(r->findings[0].frames[0].fn), sizeof r->findings[0].frames[0].fn - 1);
    char line[512], cut[100];
    dg_valgrind_describe(line, sizeof line, &r->findings[0], no_files);
    ck_assert_str_eq(line + strlen(line) - 4, "ffff");   /* the whole kept name */
    ck_assert_uint_eq(strlen(line), strlen("a.c:1: invalid read of size 8 in ")
                                        + sizeof r->findings[0].frames[0].fn - 1);
    dg_valgrind_describe(cut, sizeof cut, &r->findings[0], no_files);
    ck_assert_uint_eq(strlen(cut), sizeof cut - 1);
    ck_assert_int_eq(strncmp(cut, line, sizeof cut - 1), 0);
    free(r);
    free(error);
    free(name);
}
END_TEST

START_TEST(deep_nesting_is_damaged)
{
    char text[4096] = "<valgrindoutput>";
    for (int i = 0; i < 100; i++)
        strcat(text, "<x>");
    dg_valgrind_report *r = parse_string(text);
    ck_assert_int_eq(r->status, DG_VALGRIND_DAMAGED);
    ck_assert_ptr_nonnull(strstr(r->problem, "nested"));
    free(r);
}
END_TEST

START_TEST(numbers_that_are_not_numbers_are_ignored)
{
    char body[2048];
    snprintf(body, sizeof body,
             "<error><unique>0x1</unique><kind>Leak_DefinitelyLost</kind><xwhat>"
             "<text>lost</text><leakedbytes>12abc</leakedbytes>"
             "<leakedblocks>99999999999999999999999</leakedblocks></xwhat></error>");
    dg_valgrind_report *r = parse_document(body);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    ck_assert_int_eq(r->finding_count, 1);
    ck_assert_uint_eq(r->findings[0].leaked_bytes, 0);
    ck_assert_uint_eq(r->findings[0].leaked_blocks, 0);
    ck_assert_uint_eq(r->leak_count, 1);   /* still a leak: it counts */
    free(r);
}
END_TEST

/* ---- which frame, which words ----------------------------------------------------- */

START_TEST(frame_shown_prefers_the_students_file)
{
    dg_valgrind_finding f;
    memset(&f, 0, sizeof f);
    f.frame_count = 3;
    snprintf(f.frames[0].fn, sizeof f.frames[0].fn, "memcpy");
    snprintf(f.frames[1].fn, sizeof f.frames[1].fn, "nn_gemm");
    snprintf(f.frames[1].file, sizeof f.frames[1].file, "gemm.c");
    f.frames[1].line = 30;
    snprintf(f.frames[2].fn, sizeof f.frames[2].fn, "nn_linear_forward");
    snprintf(f.frames[2].file, sizeof f.frames[2].file, "linear.c");
    f.frames[2].line = 42;
    const char *const linear[] = { "relu.c", "units/linear.c", NULL };
    ck_assert_ptr_eq(dg_valgrind_frame_shown(&f, linear), &f.frames[2]);
    ck_assert_ptr_eq(dg_valgrind_frame_shown(&f, no_files), &f.frames[1]);
    ck_assert_ptr_eq(dg_valgrind_frame_shown(&f, NULL), &f.frames[1]);
    f.frames[1].file[0] = f.frames[2].file[0] = '\0';
    ck_assert_ptr_eq(dg_valgrind_frame_shown(&f, linear), &f.frames[0]);
    snprintf(f.kind, sizeof f.kind, "InvalidWrite");
    char line[256];
    dg_valgrind_describe(line, sizeof line, &f, linear);
    ck_assert_str_eq(line, "InvalidWrite in memcpy");   /* no what: the kind */
    f.frame_count = 0;
    ck_assert_ptr_null(dg_valgrind_frame_shown(&f, linear));
    dg_valgrind_describe(line, sizeof line, &f, linear);
    ck_assert_str_eq(line, "InvalidWrite");
}
END_TEST

START_TEST(totals_name_errors_and_leaks_together)
{
    dg_valgrind_report *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->error_count = 1;
    r->leak_count = 1;
    r->leaked_bytes = 128;
    r->leaked_blocks = 1;
    char text[200];
    dg_valgrind_totals(text, sizeof text, r);
    ck_assert_str_eq(text, "1 error, 128 bytes definitely lost in 1 block");
    r->error_count = 2;
    r->leaked_blocks = 2;
    dg_valgrind_totals(text, sizeof text, r);
    ck_assert_str_eq(text, "2 errors, 128 bytes definitely lost in 2 blocks");
    free(r);
}
END_TEST

START_TEST(identical_lines_merge_their_counts)
{
    /* One bad line reached from two callers: two errors for Valgrind, one
     * line for the student. */
    char first[1024], second[1024], body[2200];
    error_element(first, sizeof first, "InvalidWrite", "Invalid write of size 4",
                  "nn_linear_forward", "linear.c", 42);
    error_element(second, sizeof second, "InvalidWrite", "Invalid write of size 4",
                  "nn_linear_forward", "linear.c", 42);
    snprintf(body, sizeof body, "%s%s", first, second);
    dg_valgrind_report *r = parse_document(body);
    ck_assert_msg(r->status == DG_VALGRIND_COMPLETE, "%s", r->problem);
    char list[1024];
    ck_assert_int_eq(dg_valgrind_list(list, sizeof list, r, no_files, "", 8), 1);
    ck_assert_str_eq(list, "linear.c:42: invalid write of size 4 in nn_linear_forward, 2 times\n");
    free(r);
}
END_TEST

Suite *valgrind_xml_suite(void);
Suite *valgrind_xml_suite(void)
{
    Suite *suite = suite_create("valgrind_xml");
    TCase *real = tcase_create("real reports");
    tcase_add_test(real, invalid_write_names_its_file_line_and_function);
    tcase_add_test(real, uninitialised_branch_is_a_conditional_jump);
    tcase_add_test(real, leaks_are_counted_in_bytes_and_blocks_where_allocated);
    tcase_add_test(real, mismatched_and_double_free_are_found_in_the_caller);
    tcase_add_test(real, repeated_errors_take_their_count_from_errorcounts);
    tcase_add_test(real, clean_run_is_complete_with_nothing_found);
    tcase_add_test(real, fatal_signal_says_which_and_where);
    tcase_add_test(real, forked_child_report_makes_two_documents);
    tcase_add_test(real, exec_under_valgrind_starts_a_second_document);
    suite_add_tcase(suite, real);

    TCase *broken = tcase_create("broken and hostile reports");
    tcase_set_timeout(broken, 30);
    tcase_add_test(broken, every_prefix_of_a_report_is_truncated_never_clean);
    tcase_add_test(broken, no_output_at_all_is_empty);
    tcase_add_test(broken, root_closed_without_final_status_is_damaged);
    tcase_add_test(broken, malformed_xml_is_damaged_with_its_position);
    tcase_add_test(broken, markup_valgrind_never_writes_cannot_hide_an_error);
    tcase_add_test(broken, doctype_and_entity_expansion_are_refused);
    tcase_add_test(broken, unknown_elements_are_skipped);
    tcase_add_test(broken, escaped_names_are_decoded);
    tcase_add_test(broken, input_over_the_bound_is_not_parsed);
    tcase_add_test(broken, findings_past_the_limit_are_counted_not_kept);
    tcase_add_test(broken, long_text_is_cut_to_its_field);
    tcase_add_test(broken, deep_nesting_is_damaged);
    tcase_add_test(broken, numbers_that_are_not_numbers_are_ignored);
    suite_add_tcase(suite, broken);

    TCase *words = tcase_create("messages");
    tcase_add_test(words, frame_shown_prefers_the_students_file);
    tcase_add_test(words, totals_name_errors_and_leaks_together);
    tcase_add_test(words, identical_lines_merge_their_counts);
    suite_add_tcase(suite, words);
    return suite;
}
