/*
 * runner_serve.h - answering a grader request (protocol.h) with whatever
 * implementation of the units is linked in.
 */
#ifndef DG_RUNNER_SERVE_H
#define DG_RUNNER_SERVE_H

#include "protocol.h"

#include <stddef.h>

/* Reads the request, computes, writes the response into writer. Returns 0,
 * or 2 for a request it cannot read (with a line on stderr). */
int dg_runner_serve(const unsigned char *request, size_t size, dg_writer *writer);

#endif
