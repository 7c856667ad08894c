/*
 * corpus: an empty unit: before the fix the grader linked the reference in its
 * place and gave full points.
 */
int the_student_wrote_nothing;
