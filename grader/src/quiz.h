/*
 * quiz.h - grading a quiz from an answer key (in the assignment folder) and
 * the student's answers file (in the submission).
 *
 * Key (quiz.yaml):
 *     questions:
 *       - id: "2.7"
 *         text: Parameters of a 3-to-5-channel 4x4 convolution with bias?
 *         kind: numeric
 *         answer: 245
 *         tolerance: 0
 *         points: 2
 *       - id: "1.7"
 *         text: Which of these add non-linearity?
 *         kind: choice
 *         options: {a: LeakyReLU with slope 0, b: convolution, c: batch norm, d: a skip connection}
 *         correct: [a]
 *         points: 2
 * Answers (answers.yaml):  "2.7": 245   and   "1.7": [a]
 *
 * Multiple choice follows the exam's rule: any number of options may be
 * correct (zero included), and a question earns its points only when the
 * set ticked is exactly the correct set.
 */
#ifndef DG_QUIZ_H
#define DG_QUIZ_H

#include "config.h"
#include "report.h"

/* Sum of the key's points; 0 when the key cannot be read (validation
 * reports that separately). */
double dg_quiz_total_points(const char *key_path);

/* Validates a key fully (for dlgrade validate): problems appended as
 * "file:line:col: message" lines to *problems. Returns the number found. */
int dg_quiz_validate(const char *key_path, char **problems);

/* Grades the answers file found in the submission folder into result.
 * A missing or malformed answers file scores 0 with a message saying what
 * is wrong and where; it is never the grader's error. */
nn_status dg_quiz_grade(dg_check_result *result, const dg_check_config *check,
                        const char *submission_root, nn_error *err);

#endif
