/*
 * valgrind_xml.h - reading what Valgrind's memcheck found from its XML
 * output (--xml=yes, protocol 4), and saying it to a student.
 *
 * The XML arrives on a descriptor Valgrind shares with the program it
 * watches, and Valgrind does not keep the program away from it: write()
 * on the descriptor's number is refused, but a dup() of it, sendfile()
 * into it, or reopening /proc/self/fd/N all work (measured on Valgrind
 * 3.19 in the sandbox). So the parser trusts only what a program cannot
 * forge by adding bytes: an <error> element anywhere counts (added
 * bytes cannot hide one without a comment, a CDATA section or a
 * processing instruction, which Valgrind never writes, or without
 * breaking the document), and anything but one well-formed memcheck
 * document, complete with Valgrind's final status, is reported as such
 * (DG_VALGRIND_DAMAGED, DG_VALGRIND_TRUNCATED), never as clean.
 *
 * Parsing streams the bytes through expat once; it is bounded in input
 * size, in findings kept (the rest still counted), in stack depth and in
 * text length, ignores elements it does not know, and never fails on
 * hostile input: the outcome is in dg_valgrind_report.status.
 */
#ifndef DG_VALGRIND_XML_H
#define DG_VALGRIND_XML_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>

/* Larger input is not parsed (DG_VALGRIND_TOO_LARGE). */
#define DG_VALGRIND_MAX_BYTES (16u << 20)
/* Findings kept in full; later ones are only counted. */
#define DG_VALGRIND_MAX_FINDINGS 32
/* Frames kept of a stack (the grader runs --num-callers=12). */
#define DG_VALGRIND_MAX_FRAMES 12

typedef struct dg_valgrind_frame {
    char fn[160];              /* "nn_linear_forward", or "" when unknown */
    char dir[192];             /* compilation folder, or "" */
    char file[128];            /* source file as compiled, "linear.c", or "" */
    int line;                  /* 1-based; 0 when unknown */
} dg_valgrind_frame;

typedef struct dg_valgrind_finding {
    char kind[48];             /* "InvalidWrite", "UninitCondition", "Leak_DefinitelyLost",
                                  ...; for the fatal signal its name, "SIGSEGV" */
    char what[256];            /* <what>, or <xwhat><text>: "Invalid write of size 4";
                                  for the fatal signal its <event> */
    char auxwhat[192];         /* the first <auxwhat>, "Address 0x... is 0 bytes after a
                                  block of size 8 alloc'd", or "" */
    char unique[24];           /* "0x3": the key of <errorcounts> */
    unsigned long long count;  /* times it happened (<errorcounts>), at least 1 */
    unsigned long long leaked_bytes, leaked_blocks;   /* leaks only */
    int frame_count;
    dg_valgrind_frame frames[DG_VALGRIND_MAX_FRAMES]; /* where it happened, innermost
                                                         first (the first <stack>) */
} dg_valgrind_finding;

typedef enum dg_valgrind_status {
    DG_VALGRIND_COMPLETE,      /* one whole memcheck document, final status included */
    DG_VALGRIND_EMPTY,         /* nothing but white space: Valgrind did not start */
    DG_VALGRIND_TRUNCATED,     /* well-formed as far as it goes, but it stops early
                                  (Valgrind killed at a limit, or its output cut) */
    DG_VALGRIND_DAMAGED,       /* not well-formed, or holding what Valgrind never writes
                                  (a comment, CDATA, a processing instruction, a DOCTYPE,
                                  text between its elements, a second document), or not
                                  memcheck's: something else wrote into the descriptor */
    DG_VALGRIND_TOO_LARGE      /* over DG_VALGRIND_MAX_BYTES: not parsed */
} dg_valgrind_status;

/* About 200 KiB: allocate it, do not put it on a small stack. */
typedef struct dg_valgrind_report {
    dg_valgrind_status status;
    char problem[256];         /* when not COMPLETE: what is wrong, with line:column */
    int finding_count;         /* findings kept, in the order Valgrind reported them */
    dg_valgrind_finding findings[DG_VALGRIND_MAX_FINDINGS];
    int dropped;               /* findings past the limit, counted below but not kept */
    /* Totals over every finding, kept or not. */
    unsigned long long error_count;   /* memory errors other than leaks, repeats included */
    unsigned long long leak_count;    /* loss records of memory definitely lost */
    unsigned long long leaked_bytes, leaked_blocks;
    /* The signal that ended the program, when Valgrind saw one (kind holds
     * its name, frames where it came); has_fatal_signal false otherwise. */
    bool has_fatal_signal;
    int fatal_signal;
    dg_valgrind_finding fatal;
} dg_valgrind_report;

/* Parses size bytes of Valgrind's XML into report (which needs no
 * release: it holds no pointer). Returns NN_OK whenever report is filled,
 * whatever the input (see report->status); NN_ERR_MEMORY when expat could
 * not be set up, NN_ERR_ARGUMENT for a NULL report. Findings before a
 * fault stay in report. */
nn_status dg_valgrind_parse(dg_valgrind_report *report, const char *xml, size_t size,
                            nn_error *err);

/* Whether a finding is a leak (its kind starts with "Leak_"). */
bool dg_valgrind_is_leak(const dg_valgrind_finding *finding);

/* The frame a student should look at: the first whose file is one of
 * `files` (NULL-terminated, compared by base name), else the first with a
 * file, else the first; NULL for an empty stack. */
const dg_valgrind_frame *dg_valgrind_frame_shown(const dg_valgrind_finding *finding,
                                                 const char *const *files);

/* One line for a finding, no newline:
 *   "linear.c:42: invalid write of size 4 in nn_linear_forward (0 bytes
 *    after a block of size 8 alloc'd)"
 *   "linear.c:17: 128 bytes definitely lost in 1 block, allocated in
 *    nn_linear_forward"
 * without the place or the function when Valgrind did not know them. */
void dg_valgrind_describe(char *out, size_t size, const dg_valgrind_finding *finding,
                          const char *const *files);

/* The totals: "1 error, 128 bytes definitely lost in 1 block", "3 errors",
 * "16 bytes definitely lost in 2 blocks", or "no errors". */
void dg_valgrind_totals(char *out, size_t size, const dg_valgrind_report *report);

/* Up to max_lines lines "<indent>DESCRIPTION[ (N times)]\n", findings that
 * read the same merged (their counts added), then "<indent>... and N more
 * (not shown)\n" when some are left out. Returns the number of distinct
 * lines (shown or not) among the kept findings. */
int dg_valgrind_list(char *out, size_t size, const dg_valgrind_report *report,
                     const char *const *files, const char *indent, int max_lines);

#endif
