/*
 * check_report_json.c - results.json: it parses back, has Gradescope's
 * fields with the right types and values, the test scores add up, hidden
 * checks are marked hidden, strings survive (invalid UTF-8 as U+FFFD),
 * and the same report gives the same bytes.
 */
#include "report_internal.h"
#include "report_fixture.h"

#include <jansson.h>
#include <math.h>

static char json_dir[256];

static void json_setup(void)
{
    test_make_temp_dir(json_dir, sizeof json_dir);
}

static void json_teardown(void)
{
    test_remove_dir(json_dir);
}

static char *json_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", json_dir, name);
    return path;
}

static json_t *write_and_load(const dg_report *report, const char *name)
{
    nn_error err = { 0 };
    ck_assert_msg(dg_report_write_json(report, json_path(name), &err) == NN_OK, "%s",
                  err.message);
    json_error_t error;
    json_t *root = json_load_file(json_path(name), 0, &error);
    ck_assert_msg(root != NULL, "results.json does not parse: %s at line %d", error.text,
                  error.line);
    return root;
}

static const char *string_member(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    ck_assert_msg(json_is_string(value), "\"%s\" is not a string", key);
    return json_string_value(value);
}

static double number_member(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    ck_assert_msg(json_is_number(value), "\"%s\" is not a number", key);
    return json_number_value(value);
}

START_TEST(results_json_has_the_gradescope_fields_and_types)
{
    dg_report report;
    fixture_report(&report);
    json_t *root = write_and_load(&report, "results.json");
    ck_assert(json_is_object(root));
    ck_assert_double_eq_tol(number_member(root, "score"), 11.6, 1e-9);
    ck_assert_double_eq_tol(number_member(root, "max_score"), 34.0, 1e-9);
    ck_assert_double_eq_tol(number_member(root, "execution_time"), 12.346, 1e-9);
    ck_assert_str_eq(string_member(root, "output"), "Score 11.6 / 34: 2 of 12 checks passed.");
    ck_assert_str_eq(string_member(root, "visibility"), "visible");
    const char *stdout_visibility = string_member(root, "stdout_visibility");
    ck_assert(strcmp(stdout_visibility, "hidden") == 0 || strcmp(stdout_visibility, "visible") == 0);
    ck_assert_ptr_null(json_object_get(root, "leaderboard"));
    json_t *extra = json_object_get(root, "extra_data");
    ck_assert(json_is_object(extra));
    ck_assert_str_eq(string_member(extra, "seed"), "12345678901234567890");
    ck_assert_str_eq(string_member(extra, "started_at"), FIXTURE_STARTED_AT);
    ck_assert_str_eq(string_member(extra, "assignment"), report.assignment);

    json_t *tests = json_object_get(root, "tests");
    ck_assert(json_is_array(tests));
    ck_assert_uint_eq(json_array_size(tests), FIXTURE_CHECKS);
    double sum = 0.0, max_sum = 0.0;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const dg_check_result *check = &report.checks[i];
        ck_assert(json_is_object(test));
        ck_assert_str_eq(string_member(test, "name"), check->name);
        ck_assert_str_eq(string_member(test, "number"), check->id);
        ck_assert_double_eq_tol(number_member(test, "score"), check->score, 1e-9);
        ck_assert_double_eq_tol(number_member(test, "max_score"), check->max_score, 1e-9);
        sum += number_member(test, "score");
        max_sum += number_member(test, "max_score");
        ck_assert_str_eq(string_member(test, "status"),
                         check->outcome == DG_OUTCOME_PASSED ? "passed" : "failed");
        ck_assert(strlen(string_member(test, "output")) > 0);
        const char *expected_visibility = check->visibility == DG_VISIBLE_PUBLIC ? "visible"
                                          : check->visibility == DG_VISIBLE_HIDDEN ? "hidden"
                                                                                   : "after_due_date";
        ck_assert_str_eq(string_member(test, "visibility"), expected_visibility);
        json_t *tags = json_object_get(test, "tags");
        ck_assert(json_is_array(tags));
        ck_assert_uint_eq(json_array_size(tags), 2);
        ck_assert_str_eq(json_string_value(json_array_get(tags, 0)), check->kind);
        ck_assert_str_eq(json_string_value(json_array_get(tags, 1)), check->unit);
    }
    /* The top-level score is the sum of the tests' (Gradescope shows both). */
    ck_assert_double_eq_tol(sum, number_member(root, "score"), 1e-9);
    ck_assert_double_eq_tol(max_sum, number_member(root, "max_score"), 1e-9);
    json_decref(root);
    dg_report_release(&report);
}
END_TEST

START_TEST(results_json_keeps_hidden_output_for_the_instructor)
{
    dg_report report;
    fixture_report(&report);
    json_t *root = write_and_load(&report, "results.json");
    json_t *test = json_array_get(json_object_get(root, "tests"), 7);
    ck_assert_str_eq(string_member(test, "number"), "hidden-gradcheck");
    ck_assert_str_eq(string_member(test, "visibility"), "hidden");
    ck_assert_str_eq(string_member(test, "output"), report.checks[7].output);
    /* A check without a message names its outcome instead. */
    test = json_array_get(json_object_get(root, "tests"), 3);
    ck_assert_str_eq(string_member(test, "output"), "not implemented");
    json_decref(root);
    dg_report_release(&report);
}
END_TEST

START_TEST(results_json_strings_survive_with_invalid_utf8_replaced)
{
    dg_report report;
    fixture_report(&report);
    json_t *root = write_and_load(&report, "results.json");
    json_t *test = json_array_get(json_object_get(root, "tests"), 1);
    /* Quotes, <, &, newlines and control bytes come back exactly (jansson
     * escaped them); each broken UTF-8 sequence comes back as U+FFFD. */
    const char *expected =
        "dW differs at [2,3]: got \"0.512\" < expected 0.498 & 'rel' > 1e-5\n"
        "<script>alert(1)</script> | pipes | and *stars*\n"
        "control:\x01\x1b[31mred\x7f\r\n"
        "broken utf-8: \xef\xbf\xbd|\xef\xbf\xbd(|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
        "\xef\xbf\xbd\n"
        "```\nnot the end of the block\n````\n"
        "tab\there, accent \xc3\xa9, emoji \xf0\x9f\x98\x80";
    ck_assert_str_eq(string_member(test, "output"), expected);
    json_t *extra = json_object_get(root, "extra_data");
    ck_assert_str_eq(string_member(extra, "submission"), report.submission);
    json_decref(root);

    /* The raw file holds no C0 control byte but its own newlines: jansson
     * wrote \u0001 etc. (DEL may stay raw: JSON allows it.) */
    size_t size = 0;
    char *text = fixture_read(json_path("results.json"), &size);
    for (size_t i = 0; i < size; i++)
        ck_assert_msg((unsigned char)text[i] >= 0x20 || text[i] == '\n',
                      "control byte 0x%02x at offset %zu", (unsigned char)text[i], i);
    ck_assert(fixture_valid_utf8(text, size));
    ck_assert_ptr_nonnull(strstr(text, "\\u001B[31m"));
    free(text);
    dg_report_release(&report);
}
END_TEST

START_TEST(results_json_is_byte_identical_apart_from_the_timestamp)
{
    dg_report report;
    fixture_report(&report);
    json_decref(write_and_load(&report, "first.json"));
    json_decref(write_and_load(&report, "second.json"));
    snprintf(report.started_at, sizeof report.started_at, "2030-12-31T23:59:59Z");
    json_decref(write_and_load(&report, "third.json"));
    size_t first_size, second_size, third_size;
    char *first = fixture_read(json_path("first.json"), &first_size);
    char *second = fixture_read(json_path("second.json"), &second_size);
    char *third = fixture_read(json_path("third.json"), &third_size);
    ck_assert_uint_eq(first_size, second_size);
    ck_assert(memcmp(first, second, first_size) == 0);
    /* With another timestamp, only the timestamp differs (same length). */
    ck_assert_uint_eq(first_size, third_size);
    char *at = strstr(third, "2030-12-31T23:59:59Z");
    ck_assert_ptr_nonnull(at);
    memcpy(at, FIXTURE_STARTED_AT, strlen(FIXTURE_STARTED_AT));
    ck_assert(memcmp(first, third, first_size) == 0);
    /* Keys come in a fixed order, Gradescope's top-level fields first. */
    const char *keys[] = { "\"score\"", "\"max_score\"", "\"execution_time\"", "\"output\"",
                           "\"visibility\"", "\"stdout_visibility\"", "\"extra_data\"",
                           "\"tests\"" };
    const char *previous = first;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *found = strstr(previous, keys[i]);
        ck_assert_msg(found != NULL, "%s missing or out of order", keys[i]);
        previous = found;
    }
    ck_assert_msg(strstr(first, "7.1,") != NULL, "7.1 should print as 7.1");
    free(first);
    free(second);
    free(third);
    dg_report_release(&report);
}
END_TEST

START_TEST(results_json_refuses_a_score_that_is_not_a_number)
{
    dg_report report;
    fixture_report(&report);
    report.checks[5].max_score = INFINITY;
    nn_error err = { 0 };
    ck_assert_int_eq(dg_report_write_json(&report, json_path("results.json"), &err),
                     NN_ERR_NUMERIC);
    ck_assert_msg(strstr(err.message, "pool-forward") != NULL, "message: %s", err.message);
    ck_assert_uint_eq(fixture_entries(json_dir), 0);
    dg_report_release(&report);
}
END_TEST

START_TEST(results_json_of_an_empty_report_is_valid)
{
    dg_report report = { 0 };
    json_t *root = write_and_load(&report, "results.json");
    ck_assert_double_eq(number_member(root, "score"), 0.0);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "tests")), 0);
    json_decref(root);
}
END_TEST

Suite *report_json_suite(void);
Suite *report_json_suite(void)
{
    Suite *suite = suite_create("report_json");
    TCase *tc = tcase_create("results.json");
    tcase_add_checked_fixture(tc, json_setup, json_teardown);
    tcase_add_test(tc, results_json_has_the_gradescope_fields_and_types);
    tcase_add_test(tc, results_json_keeps_hidden_output_for_the_instructor);
    tcase_add_test(tc, results_json_strings_survive_with_invalid_utf8_replaced);
    tcase_add_test(tc, results_json_is_byte_identical_apart_from_the_timestamp);
    tcase_add_test(tc, results_json_refuses_a_score_that_is_not_a_number);
    tcase_add_test(tc, results_json_of_an_empty_report_is_valid);
    suite_add_tcase(suite, tc);
    return suite;
}
