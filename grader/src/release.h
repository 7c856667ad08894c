/*
 * release.h - `dlgrade release ASSIGNMENT -o DIR`: the student template of
 * an assignment, generated from the reference and assignment.yaml.
 *
 * What DIR receives:
 *   <unit>.c                 the stubs students fill in (solution regions
 *                            replaced, see stub.h)
 *   answers.yaml             the quiz, questions as comments, to answer
 *   README.md                the handout: functions, shapes, formulas,
 *                            how points are earned, how to test and submit
 *   Makefile                 make, make test, make train, make submit
 *   checks/checks.yaml       the public checks, and their fixtures
 *   checks/<id>.fixture.gz   the request and the reference's answer
 *   framework/               headers and sources students build against:
 *                            the library's infrastructure, every other
 *                            unit as a stub (or whole, when the assignment
 *                            lists it as provided), the local checker
 *   .github/workflows/checks.yml, .gitlab-ci.yml, ci/run-checks
 *
 * Never shipped: a solution region of a graded unit, a hidden or
 * after-due check (not even its name), the quiz's answer key, test data.
 * The folder is written under a temporary name and renamed into place.
 */
#ifndef DG_RELEASE_H
#define DG_RELEASE_H

#include "config.h"

/* source_root is the repository (reference/, grader/ below it). */
nn_status dg_release(const dg_config *config, const char *source_root, const char *directory,
                     nn_error *err);

#endif
