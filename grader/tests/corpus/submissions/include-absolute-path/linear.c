/*
 * corpus: includes a reference source by its absolute path: the compiler, in the
 * sandbox, cannot see it.
 */
#include "@REPO@/reference/src/linear.c"
