/*
 * check_yaml.c - the YAML reader: syntax errors located as name:line:col
 * (1-based, whatever libyaml counts from), node positions, mapping and
 * sequence access, and typed conversions that refuse a wrong type or a value
 * out of range with a message located at the offending node.
 */
#include "nn/yaml.h"
#include "testutil.h"

static void assert_ok(nn_status status, const nn_error *err)
{
    ck_assert_msg(status == NN_OK, "status %s: %s", nn_status_name(status), err->message);
}

static nn_yaml_document *parse(const char *text)
{
    nn_yaml_document *document;
    nn_error err;
    assert_ok(nn_yaml_load_string(&document, "doc.yaml", text, &err), &err);
    return document;
}

/* The message starts with `prefix` and contains `part` (may be NULL). */
static void assert_message(const nn_error *err, const char *prefix, const char *part)
{
    ck_assert_msg(strncmp(err->message, prefix, strlen(prefix)) == 0,
                  "message '%s' does not start with '%s'", err->message, prefix);
    if (part != NULL)
        ck_assert_msg(strstr(err->message, part) != NULL, "message '%s' does not mention '%s'",
                      err->message, part);
}

START_TEST(syntax_error_is_located_as_name_line_column)
{
    /* The flow sequence opened on line 2, column 4 is never closed: libyaml
     * notices at the ':' of line 3 (0-based 2:1), and the message also says
     * where the sequence began. */
    const char *text = "a: 1\n"
                       "b: [1, 2\n"
                       "c: 3\n";
    nn_yaml_document *document = (nn_yaml_document *)1;
    nn_error err;
    ck_assert_int_eq(nn_yaml_load_string(&document, "spec.yaml", text, &err), NN_ERR_FORMAT);
    ck_assert_ptr_null(document);
    ck_assert_int_eq(err.status, NN_ERR_FORMAT);
    assert_message(&err, "spec.yaml:3:2: ", "flow sequence that starts at 2:4");
}
END_TEST

START_TEST(tab_indentation_is_located_at_the_tab)
{
    /* YAML forbids tabs for indentation; the scanner stops on line 3 at the
     * tab itself, column 1. */
    const char *text = "a:\n"
                       "  b: 1\n"
                       "\tc: 2\n";
    nn_yaml_document *document;
    nn_error err;
    ck_assert_int_eq(nn_yaml_load_string(&document, "tabs.yaml", text, &err), NN_ERR_FORMAT);
    assert_message(&err, "tabs.yaml:3:1: ", NULL);
}
END_TEST

START_TEST(empty_document_is_refused)
{
    nn_yaml_document *document;
    nn_error err;
    ck_assert_int_eq(nn_yaml_load_string(&document, "empty.yaml", "", &err), NN_ERR_FORMAT);
    assert_message(&err, "empty.yaml:1:1: ", "empty");
    ck_assert_int_eq(nn_yaml_load_string(&document, "comment.yaml", "# nothing\n", &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "comment.yaml:1:1: ", "empty");
}
END_TEST

START_TEST(missing_file_is_an_io_error_naming_the_path)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/absent.yaml", dir);
    nn_yaml_document *document;
    nn_error err;
    ck_assert_int_eq(nn_yaml_load(&document, path, &err), NN_ERR_IO);
    ck_assert_ptr_null(document);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    test_remove_dir(dir);
}
END_TEST

START_TEST(file_errors_are_located_by_path)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    FILE *file = fopen(path, "w");
    ck_assert_ptr_nonnull(file);
    fputs("ok: 1\nlist: [1, 2]\nbad: : x\n", file);
    fclose(file);
    nn_yaml_document *document;
    nn_error err;
    ck_assert_int_eq(nn_yaml_load(&document, path, &err), NN_ERR_FORMAT);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:3:", path);
    assert_message(&err, prefix, NULL);
    test_remove_dir(dir);
}
END_TEST

START_TEST(nodes_report_one_based_line_and_column)
{
    nn_yaml_document *document = parse("top: 1\n"
                                       "nested:\n"
                                       "  inner: [4, 5]\n");
    nn_yaml_node *root = nn_yaml_root(document);
    ck_assert(nn_yaml_is_mapping(root));
    ck_assert_int_eq(nn_yaml_mapping_size(root), 2);
    nn_yaml_node *top = nn_yaml_get(document, root, "top");
    ck_assert_int_eq(nn_yaml_line(top), 1);
    ck_assert_int_eq(nn_yaml_column(top), 6);
    nn_yaml_node *inner = nn_yaml_get(document, nn_yaml_get(document, root, "nested"), "inner");
    ck_assert(nn_yaml_is_sequence(inner));
    ck_assert_int_eq(nn_yaml_line(inner), 3);
    ck_assert_int_eq(nn_yaml_column(inner), 10);
    ck_assert_int_eq(nn_yaml_sequence_size(inner), 2);
    nn_yaml_node *five = nn_yaml_sequence_item(document, inner, 1);
    ck_assert_str_eq(nn_yaml_scalar(five), "5");
    ck_assert_int_eq(nn_yaml_column(five), 14);
    nn_yaml_node *key;
    ck_assert_str_eq(nn_yaml_mapping_key(document, root, 1, &key), "nested");
    ck_assert_int_eq(nn_yaml_line(key), 2);
    ck_assert_int_eq(nn_yaml_column(key), 1);
    ck_assert_ptr_null(nn_yaml_get(document, root, "absent"));
    ck_assert_ptr_null(nn_yaml_get(document, top, "top"));  /* not a mapping */
    ck_assert_ptr_null(nn_yaml_scalar(inner));
    ck_assert_str_eq(nn_yaml_path(document), "doc.yaml");
    nn_yaml_free(document);
}
END_TEST

START_TEST(to_long_converts_and_refuses_with_location)
{
    nn_yaml_document *document = parse("good: 42\n"
                                       "negative: -7\n"
                                       "text: ten\n"
                                       "fraction: 2.5\n"
                                       "big: 100000\n"
                                       "list: [1]\n"
                                       "huge: 99999999999999999999999\n");
    nn_yaml_node *root = nn_yaml_root(document);
    nn_error err;
    long value = 0;
    assert_ok(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "good"), "good", 0,
                              100, &err),
              &err);
    ck_assert_int_eq(value, 42);
    assert_ok(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "negative"), "n",
                              -10, 10, &err),
              &err);
    ck_assert_int_eq(value, -7);

    value = 5;
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "text"),
                                     "a count", 0, 100, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:3:7: ", "a count must be an integer, not 'ten'");
    ck_assert_int_eq(value, 5);  /* untouched on error */
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "fraction"),
                                     "epochs", 0, 100, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:4:11: ", "epochs must be an integer");
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "big"),
                                     "batch", 1, 65536, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:5:6: ", "batch is 100000, outside 1..65536");
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "negative"),
                                     "size", 0, 10, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:2:11: ", "size is -7");
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "list"),
                                     "size", 0, 10, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:6:7: ", "size must be a single value, not a list");
    ck_assert_int_eq(nn_yaml_to_long(&value, document, nn_yaml_get(document, root, "huge"),
                                     "size", 0, 10, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:7:7: ", "must be an integer");
    ck_assert_int_eq(value, 5);
    nn_yaml_free(document);
}
END_TEST

START_TEST(to_double_converts_and_refuses_with_location)
{
    nn_yaml_document *document = parse("rate: 1e-3\n"
                                       "p: 1.5\n"
                                       "word: fast\n"
                                       "inf: .inf\n"
                                       "nan: nan\n"
                                       "map: {a: 1}\n");
    nn_yaml_node *root = nn_yaml_root(document);
    nn_error err;
    double value = 0;
    assert_ok(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "rate"), "rate", 0,
                                1, &err),
              &err);
    ck_assert(value == 1e-3);
    value = -1;
    ck_assert_int_eq(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "p"), "p",
                                       0, 1, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:2:4: ", "p is 1.5, outside 0..1");
    ck_assert_int_eq(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "word"),
                                       "rate", 0, 1, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:3:7: ", "rate must be a finite number, not 'fast'");
    ck_assert_int_eq(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "inf"),
                                       "rate", -1e300, 1e300, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:4:6: ", "finite");
    ck_assert_int_eq(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "nan"),
                                       "rate", -1e300, 1e300, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:5:6: ", "finite");
    ck_assert_int_eq(nn_yaml_to_double(&value, document, nn_yaml_get(document, root, "map"),
                                       "rate", 0, 1, &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:6:6: ", "rate must be a single value, not a mapping");
    ck_assert(value == -1);
    nn_yaml_free(document);
}
END_TEST

START_TEST(to_bool_accepts_yaml_spellings_only)
{
    nn_yaml_document *document = parse("[true, False, yes, NO, 1, maybe]");
    nn_yaml_node *root = nn_yaml_root(document);
    nn_error err;
    const bool expected[] = { true, false, true, false };
    for (int i = 0; i < 4; i++) {
        bool value = !expected[i];
        assert_ok(nn_yaml_to_bool(&value, document, nn_yaml_sequence_item(document, root, i),
                                  "flag", &err),
                  &err);
        ck_assert_int_eq(value, expected[i]);
    }
    bool value = true;
    ck_assert_int_eq(nn_yaml_to_bool(&value, document, nn_yaml_sequence_item(document, root, 5),
                                     "flip", &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:1:27: ", "flip must be true or false, not 'maybe'");
    ck_assert_int_eq(nn_yaml_to_bool(&value, document, nn_yaml_sequence_item(document, root, 4),
                                     "flip", &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:1:24: ", NULL);
    ck_assert(value);
    nn_yaml_free(document);
}
END_TEST

START_TEST(to_string_refuses_lists_and_mappings)
{
    nn_yaml_document *document = parse("name: mlp\n"
                                       "layers:\n"
                                       "  - a\n");
    nn_yaml_node *root = nn_yaml_root(document);
    nn_error err;
    const char *text = NULL;
    assert_ok(nn_yaml_to_string(&text, document, nn_yaml_get(document, root, "name"), "name",
                                &err),
              &err);
    ck_assert_str_eq(text, "mlp");
    text = NULL;
    ck_assert_int_eq(nn_yaml_to_string(&text, document, nn_yaml_get(document, root, "layers"),
                                       "name", &err),
                     NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:3:3: ", "name must be a single value, not a list");
    ck_assert_ptr_null(text);
    ck_assert_int_eq(nn_yaml_to_string(&text, document, root, "model", &err), NN_ERR_FORMAT);
    assert_message(&err, "doc.yaml:1:1: ", "not a mapping");
    nn_yaml_free(document);
}
END_TEST

START_TEST(yaml_error_formats_located_messages)
{
    nn_yaml_document *document = parse("a:\n  b: 3\n");
    nn_yaml_node *b = nn_yaml_get(document, nn_yaml_get(document, nn_yaml_root(document), "a"),
                                  "b");
    nn_error err;
    ck_assert_int_eq(nn_yaml_error(&err, NN_ERR_SHAPE, document, b, "bad %s %d", "value", 3),
                     NN_ERR_SHAPE);
    ck_assert_str_eq(err.message, "doc.yaml:2:6: bad value 3");
    ck_assert_int_eq(err.status, NN_ERR_SHAPE);
    nn_yaml_error(&err, NN_ERR_FORMAT, document, NULL, "whole file");
    ck_assert_str_eq(err.message, "doc.yaml: whole file");
    nn_yaml_free(document);
    nn_yaml_free(NULL);
}
END_TEST

Suite *yaml_suite(void);
Suite *yaml_suite(void)
{
    Suite *suite = suite_create("yaml");
    TCase *tc = tcase_create("syntax");
    tcase_add_test(tc, syntax_error_is_located_as_name_line_column);
    tcase_add_test(tc, tab_indentation_is_located_at_the_tab);
    tcase_add_test(tc, empty_document_is_refused);
    tcase_add_test(tc, missing_file_is_an_io_error_naming_the_path);
    tcase_add_test(tc, file_errors_are_located_by_path);
    suite_add_tcase(suite, tc);
    tc = tcase_create("access");
    tcase_add_test(tc, nodes_report_one_based_line_and_column);
    tcase_add_test(tc, to_long_converts_and_refuses_with_location);
    tcase_add_test(tc, to_double_converts_and_refuses_with_location);
    tcase_add_test(tc, to_bool_accepts_yaml_spellings_only);
    tcase_add_test(tc, to_string_refuses_lists_and_mappings);
    tcase_add_test(tc, yaml_error_formats_located_messages);
    suite_add_tcase(suite, tc);
    return suite;
}
