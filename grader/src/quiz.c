/*
 * quiz.c - multiple-choice and numeric questions.
 */
#include "quiz.h"

#include "nn/yaml.h"
#include "submission.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUIZ_MAX_OPTIONS 16

typedef struct question {
    char id[32];
    bool numeric;
    double answer, tolerance;
    int option_count;
    char options[QUIZ_MAX_OPTIONS][16];
    bool correct[QUIZ_MAX_OPTIONS];
    double points;
} question;

static void append(char **text, const char *line)
{
    size_t old = *text ? strlen(*text) : 0, add = strlen(line);
    char *grown = realloc(*text, old + add + 2);
    if (grown == NULL)
        return;
    memcpy(grown + old, line, add);
    grown[old + add] = '\n';
    grown[old + add + 1] = '\0';
    *text = grown;
}

static int option_index(const question *q, const char *name)
{
    for (int i = 0; i < q->option_count; i++)
        if (strcmp(q->options[i], name) == 0)
            return i;
    return -1;
}

/* Parses the key; every problem is appended to problems (when not NULL).
 * Returns the questions (malloc'd) and their count. */
static question *load_key(const char *path, int *count, char **problems, int *problem_count)
{
    *count = 0;
    nn_yaml_document *document;
    nn_error err;
    if (nn_yaml_load(&document, path, &err) != NN_OK) {
        if (problems != NULL)
            append(problems, err.message);
        (*problem_count)++;
        return NULL;
    }
    nn_yaml_node *list = nn_yaml_get(document, nn_yaml_root(document), "questions");
    int n = nn_yaml_is_sequence(list) ? nn_yaml_sequence_size(list) : 0;
    question *questions = calloc(n ? (size_t)n : 1, sizeof *questions);
    char line[600];
#define KEY_PROBLEM(node, ...)                                                           \
    do {                                                                                \
        char message_[400];                                                             \
        snprintf(message_, sizeof message_, __VA_ARGS__);                               \
        snprintf(line, sizeof line, "%s:%d:%d: %s", path, nn_yaml_line(node),           \
                 nn_yaml_column(node), message_);                                       \
        if (problems != NULL)                                                           \
            append(problems, line);                                                     \
        (*problem_count)++;                                                             \
    } while (0)
    if (n == 0)
        KEY_PROBLEM(list ? list : nn_yaml_root(document), "a quiz key needs a non-empty "
                    "list of questions");
    for (int i = 0; questions != NULL && i < n; i++) {
        nn_yaml_node *item = nn_yaml_sequence_item(document, list, i);
        question *q = &questions[*count];
        const char *id = nn_yaml_scalar(nn_yaml_get(document, item, "id"));
        const char *kind = nn_yaml_scalar(nn_yaml_get(document, item, "kind"));
        nn_yaml_node *points = nn_yaml_get(document, item, "points");
        if (!nn_yaml_is_mapping(item) || id == NULL || strlen(id) >= sizeof q->id) {
            KEY_PROBLEM(item, "question %d needs an id (at most 31 characters)", i + 1);
            continue;
        }
        snprintf(q->id, sizeof q->id, "%s", id);
        if (points == NULL
            || nn_yaml_to_double(&q->points, document, points, "points", 0, 1000, &err)
                   != NN_OK) {
            KEY_PROBLEM(points ? points : item, "question %s needs points (0..1000)", id);
            continue;
        }
        if (kind != NULL && strcmp(kind, "numeric") == 0) {
            q->numeric = true;
            nn_yaml_node *answer = nn_yaml_get(document, item, "answer");
            nn_yaml_node *tolerance = nn_yaml_get(document, item, "tolerance");
            if (answer == NULL
                || nn_yaml_to_double(&q->answer, document, answer, "answer", -1e300, 1e300, &err)
                       != NN_OK) {
                KEY_PROBLEM(answer ? answer : item, "question %s needs a numeric answer", id);
                continue;
            }
            if (tolerance != NULL
                && nn_yaml_to_double(&q->tolerance, document, tolerance, "tolerance", 0, 1e300,
                                     &err) != NN_OK) {
                KEY_PROBLEM(tolerance, "question %s: tolerance must be a number >= 0", id);
                continue;
            }
        } else if (kind != NULL && strcmp(kind, "choice") == 0) {
            nn_yaml_node *options = nn_yaml_get(document, item, "options");
            nn_yaml_node *correct = nn_yaml_get(document, item, "correct");
            if (!nn_yaml_is_mapping(options) || nn_yaml_mapping_size(options) < 2
                || nn_yaml_mapping_size(options) > QUIZ_MAX_OPTIONS) {
                KEY_PROBLEM(options ? options : item, "question %s needs 2 to %d options", id,
                            QUIZ_MAX_OPTIONS);
                continue;
            }
            for (int o = 0; o < nn_yaml_mapping_size(options); o++) {
                const char *name = nn_yaml_mapping_key(document, options, o, NULL);
                snprintf(q->options[q->option_count++], 16, "%s", name ? name : "?");
            }
            if (!nn_yaml_is_sequence(correct)) {
                KEY_PROBLEM(correct ? correct : item, "question %s needs `correct`, a list of "
                            "options (possibly empty)", id);
                continue;
            }
            bool bad = false;
            for (int c = 0; c < nn_yaml_sequence_size(correct); c++) {
                nn_yaml_node *choice = nn_yaml_sequence_item(document, correct, c);
                const char *name = nn_yaml_scalar(choice);
                int index = name ? option_index(q, name) : -1;
                if (index < 0) {
                    KEY_PROBLEM(choice, "question %s: '%s' is not one of its options", id,
                                name ? name : "?");
                    bad = true;
                } else {
                    q->correct[index] = true;
                }
            }
            if (bad)
                continue;
        } else {
            KEY_PROBLEM(item, "question %s: kind must be numeric or choice", id);
            continue;
        }
        (*count)++;
    }
#undef KEY_PROBLEM
    nn_yaml_free(document);
    return questions;
}

double dg_quiz_total_points(const char *key_path)
{
    int count, problem_count = 0;
    question *questions = load_key(key_path, &count, NULL, &problem_count);
    double total = 0;
    for (int i = 0; i < count; i++)
        total += questions[i].points;
    free(questions);
    return problem_count ? 0 : total;
}

int dg_quiz_validate(const char *key_path, char **problems)
{
    int count, problem_count = 0;
    free(load_key(key_path, &count, problems, &problem_count));
    return problem_count;
}

static const char *describe_choice(char *buffer, size_t size, const question *q,
                                   const bool *chosen)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (int i = 0; i < q->option_count && used < size; i++)
        if (chosen[i])
            used += (size_t)snprintf(buffer + used, size - used, "%s%s", used ? ", " : "",
                                     q->options[i]);
    if (buffer[0] == '\0')
        snprintf(buffer, size, "nothing");
    return buffer;
}

static double grade_one(dg_check_result *result, const question *q, nn_yaml_document *answers,
                        nn_yaml_node *answer)
{
    /* The released answers.yaml leaves numeric questions as `null`. */
    const char *text = nn_yaml_scalar(answer);
    if (answer == NULL || (text != NULL && (strcmp(text, "null") == 0 || strcmp(text, "~") == 0
                                            || text[0] == '\0'))) {
        dg_check_printf(result, "%s: not answered (0 of %g)\n", q->id, q->points);
        return 0;
    }
    if (q->numeric) {
        double value;
        nn_error err;
        if (nn_yaml_to_double(&value, answers, answer, "the answer", -1e300, 1e300, &err)
            != NN_OK) {
            dg_check_printf(result, "%s: %s (0 of %g)\n", q->id, err.message, q->points);
            return 0;
        }
        if (fabs(value - q->answer) <= q->tolerance) {
            dg_check_printf(result, "%s: correct (%g of %g)\n", q->id, q->points, q->points);
            return q->points;
        }
        dg_check_printf(result, "%s: answered %g, expected %g (0 of %g)\n", q->id, value,
                        q->answer, q->points);
        return 0;
    }
    bool chosen[QUIZ_MAX_OPTIONS] = { false };
    if (!nn_yaml_is_sequence(answer)) {
        dg_check_printf(result, "%s: line %d: answer with a list of options, e.g. [a, c], or [] "
                        "for none (0 of %g)\n", q->id, nn_yaml_line(answer), q->points);
        return 0;
    }
    for (int c = 0; c < nn_yaml_sequence_size(answer); c++) {
        const char *name = nn_yaml_scalar(nn_yaml_sequence_item(answers, answer, c));
        int index = name ? option_index(q, name) : -1;
        if (index < 0) {
            dg_check_printf(result, "%s: '%s' is not an option (0 of %g)\n", q->id,
                            name ? name : "?", q->points);
            return 0;
        }
        chosen[index] = true;
    }
    if (memcmp(chosen, q->correct, sizeof chosen) == 0) {
        dg_check_printf(result, "%s: correct (%g of %g)\n", q->id, q->points, q->points);
        return q->points;
    }
    char got[128], want[128];
    dg_check_printf(result, "%s: ticked %s, expected %s (0 of %g)\n", q->id,
                    describe_choice(got, sizeof got, q, chosen),
                    describe_choice(want, sizeof want, q, q->correct), q->points);
    return 0;
}

nn_status dg_quiz_grade(dg_check_result *result, const dg_check_config *check,
                        const char *submission_root, nn_error *err)
{
    int count, problem_count = 0;
    char *problems = NULL;
    question *questions = load_key(check->key, &count, &problems, &problem_count);
    if (problem_count > 0) {
        nn_error_set(err, NN_ERR_FORMAT, "quiz key: %s", problems ? problems : check->key);
        free(problems);
        free(questions);
        return NN_ERR_FORMAT;
    }
    result->max_score = 0;
    for (int i = 0; i < count; i++)
        result->max_score += questions[i].points;
    result->score = 0;

    char path[1024];
    nn_yaml_document *answers = NULL;
    nn_error local;
    if (dg_submission_find(path, sizeof path, submission_root, check->answers, &local) != NN_OK) {
        dg_check_printf(result, "no %s in the submission: every question scores 0\n",
                        check->answers);
    } else if (nn_yaml_load(&answers, path, &local) != NN_OK) {
        dg_check_printf(result, "%s cannot be read: %s\n", check->answers, local.message);
    } else if (!nn_yaml_is_mapping(nn_yaml_root(answers))) {
        dg_check_printf(result, "%s must map question ids to answers, e.g. \"2.7\": 245\n",
                        check->answers);
    } else {
        for (int i = 0; i < count; i++)
            result->score += grade_one(result, &questions[i], answers,
                                       nn_yaml_get(answers, nn_yaml_root(answers),
                                                   questions[i].id));
    }
    nn_yaml_free(answers);
    free(questions);
    result->outcome = result->score >= result->max_score ? DG_OUTCOME_PASSED
                      : result->score > 0                 ? DG_OUTCOME_PARTIAL
                                                          : DG_OUTCOME_FAILED;
    return NN_OK;
}
