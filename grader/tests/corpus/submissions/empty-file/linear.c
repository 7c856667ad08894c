/*
 * corpus: an empty unit: before the fix the grader linked the reference in its
 * place and gave full points. (ISO C wants a declaration in a file: a type
 * defines no symbol.)
 */
typedef int the_student_wrote_nothing;
