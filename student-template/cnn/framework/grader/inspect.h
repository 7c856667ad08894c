/*
 * inspect.h - looking at a student's compiled unit before it is linked.
 *
 * A unit is a set of layer functions: it computes on the buffers it is
 * given. Its object file says what it defines and what it needs, by name,
 * so the grader (and `make test` in the student template, with the same
 * code and messages) refuses before linking:
 *
 *   - a definition with external linkage (global or weak, function or
 *     data) other than the unit's own functions: a C library or runtime
 *     name (memcmp, main, _start), a harness name (dg_*), another unit's
 *     nn_* function, or a helper that should be static;
 *   - a weak definition, even of the unit's own function;
 *   - a reference to anything outside the allowed calls: the library's
 *     nn_* API (its headers) and the C runtime a layer needs (math,
 *     memory and string functions, printing, assert), listed in one table
 *     in inspect.c; a call into the reference's own code (its
 *     reference-only files, which no submission is linked with) is named
 *     as such;
 *   - code that runs before or after main: constructor and destructor
 *     sections (.init_array, .fini_array, .preinit_array, .ctors, .dtors,
 *     .init, .fini) and ifunc resolvers.
 *
 * The object is read whole into memory (at most DG_INSPECT_MAX_OBJECT_BYTES)
 * and parsed with libelf; an object that is not a readable ELF relocatable
 * file is refused with a message, never a crash. Inline assembly can still
 * make system calls without naming any function: the sandbox, not this
 * inspection, is what contains a submission (docs/SECURITY.md).
 */
#ifndef DG_INSPECT_H
#define DG_INSPECT_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>

/* No unit compiles to more than this; a bigger object is refused unread. */
#define DG_INSPECT_MAX_OBJECT_BYTES (64u << 20)

/* A set of symbol names (sorted and unique once dg_names_sort has run). */
typedef struct dg_names {
    char **names;
    size_t count, capacity;
} dg_names;

nn_status dg_names_add(dg_names *set, const char *name, nn_error *err);
void dg_names_sort(dg_names *set);
bool dg_names_has(const dg_names *set, const char *name);
void dg_names_release(dg_names *set);

/* What one unit's object may define and call. */
typedef struct dg_inspect_rules {
    const char *file;    /* the unit's source file ("linear.c"), named in messages */
    dg_names own;        /* what the unit defines: its functions, as the reference's
                          * file of the same name defines them */
    dg_names api;        /* the nn_* functions the library's headers declare */
    dg_names reference_only; /* functions of the reference's own code (the runner
                              * kit's lib/reference-only), refused by name even
                              * if declared: sorted, may be empty */
} dg_inspect_rules;

/* Adds to api every nn_* name that a header (*.h) in directory declares
 * as a function (`nn_name(`). */
nn_status dg_inspect_load_api(dg_names *api, const char *directory, nn_error *err);

/* Adds to set the names listed in the file at path, one a line (an
 * identifier at the start of each line; anything else is skipped), and
 * sorts it. */
nn_status dg_inspect_load_list(dg_names *set, const char *path, nn_error *err);

/* Adds to defined the names that the member `member` ("linear.o") of the
 * ar archive at path defines with external linkage (how the grader learns
 * a unit's functions from the reference library of its runner kit). A
 * missing member adds nothing. */
nn_status dg_inspect_archive_definitions(dg_names *defined, const char *path,
                                         const char *member, nn_error *err);

void dg_inspect_rules_release(dg_inspect_rules *rules);

#define DG_INSPECT_MAX_PROBLEMS 64

typedef struct dg_inspection {
    bool refused;
    int problem_count;     /* every problem found, even past those listed */
    char first[256];       /* the first problem, one sentence naming the file:
                            * "linear.c calls fork, which is not available to a layer" */
    char *details;         /* every listed problem, one per line (malloc'd; NULL when
                            * accepted) */
} dg_inspection;

/* Inspects the object file at path against rules. NN_OK whenever the
 * object could be judged, the verdict in *result (a malformed or
 * oversized object is refused there); an error return only for the
 * inspector's own failures (out of memory). */
nn_status dg_inspect_object(dg_inspection *result, const char *path,
                            const dg_inspect_rules *rules, nn_error *err);

/* The same for an object already in memory (tests feed it garbage). */
nn_status dg_inspect_memory(dg_inspection *result, const unsigned char *bytes, size_t size,
                            const dg_inspect_rules *rules, nn_error *err);

void dg_inspection_release(dg_inspection *result);

/* The allowed library calls as the handout states them: one line per
 * group, "`math.h`: ...", NULL-terminated. */
const char *const *dg_inspect_allowed_summary(void);

/* Whether name is one of the allowed library calls (the table of
 * inspect.c; the nn_* API is not in it). */
bool dg_inspect_call_allowed(const char *name);

#endif
