/*
 * corpus: includes the assignment (the hidden checks) and /etc/shadow.
 */
#include "@ASSIGNMENT@/assignment.yaml"
#include "/etc/shadow"
