/*
 * stub.h - turning a reference unit into the student's starting point.
 *
 * Every region between a line holding BEGIN SOLUTION and a line holding
 * END SOLUTION (both C comments) is replaced by a stub that compiles
 * cleanly under -Wall -Wextra -Werror: a TODO comment, a (void) cast of
 * each parameter of the enclosing function (so unused parameters do not
 * warn), and `return NN_ERR_NOT_IMPLEMENTED;`, or the stub body the
 * BEGIN line gives in parentheses, "BEGIN SOLUTION (stub: return 0.0;)".
 * A region whose BEGIN line says "(no stub)" is removed with nothing in
 * its place. Nothing between the markers survives, and a file whose
 * markers do not pair up is refused with the line of the problem.
 *
 * Reference-only code, one mechanism throughout: a source or header whose
 * purpose block says "dlgrade: reference only" (the fast convolution
 * engine) holds answers outside any region. It is never shipped (dlgrade
 * release), never in the runner kit (the Makefile greps the same words),
 * and its functions are refused by the inspection of a compiled unit.
 * Other files use it only inside solution regions, under
 * `#ifdef NN_REFERENCE_ONLY`, which the Makefile defines when it compiles
 * libnnref and nowhere else; compiled without it (the runner kit, the
 * template, a submission holding a copy of the reference file) they take
 * the path a student would write.
 */
#ifndef DG_STUB_H
#define DG_STUB_H

#include "nn/core.h"

/* Writes the stubbed text of source into *out (malloc'd). name is the file
 * name for messages. *regions receives the number of regions replaced. */
nn_status dg_stub_source(char **out, int *regions, const char *name, const char *source,
                         nn_error *err);

/* True when text holds a solution marker (a reference unit). */
int dg_has_solution(const char *text);

/* True when text carries the reference-only mark (never shipped). */
int dg_is_reference_only(const char *text);

#endif
