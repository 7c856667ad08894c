/*
 * check_stub.c - solution regions become stubs that compile, and nothing
 * inside them survives.
 */
#include "stub.h"

#include "../../reference/tests/testutil.h"

#include <dirent.h>
#include <stdbool.h>

static const char *const sample =
    "/* a unit */\n"
    "nn_status nn_scale_forward(nn_real *out /* (N) */, const nn_real *x, int count)\n"
    "{\n"
    "    /* BEGIN SOLUTION */\n"
    "    for (int i = 0; i < count; i++)\n"
    "        out[i] = 2 * x[i]; /* secret_line */\n"
    "    return NN_OK;\n"
    "    /* END SOLUTION */\n"
    "}\n";

START_TEST(a_region_becomes_a_not_implemented_stub)
{
    char *out;
    int regions;
    nn_error err;
    ck_assert_int_eq(dg_stub_source(&out, &regions, "scale.c", sample, &err), NN_OK);
    ck_assert_int_eq(regions, 1);
    ck_assert_ptr_null(strstr(out, "secret_line"));
    ck_assert_ptr_null(strstr(out, "SOLUTION"));
    ck_assert_ptr_nonnull(strstr(out, "    return NN_ERR_NOT_IMPLEMENTED;\n"));
    ck_assert_ptr_nonnull(strstr(out, "    (void)out;\n    (void)x;\n    (void)count;\n"));
    ck_assert_ptr_nonnull(strstr(out, "/* a unit */\n"));
    free(out);
}
END_TEST

START_TEST(a_region_can_give_its_own_stub_or_none)
{
    const char *source = "size_t nn_size(int n)\n"
                         "{\n"
                         "    /* BEGIN SOLUTION (stub: return 0;) */\n"
                         "    return (size_t)n * 4; /* secret_size */\n"
                         "    /* END SOLUTION */\n"
                         "}\n"
                         "size_t nn_room(void)\n"
                         "{\n"
                         "    size_t extra = 0;\n"
                         "    /* BEGIN SOLUTION (no stub) */\n"
                         "    extra = 64; /* secret_extra */\n"
                         "    /* END SOLUTION */\n"
                         "    return extra;\n"
                         "}\n";
    char *out;
    int regions;
    nn_error err;
    ck_assert_int_eq(dg_stub_source(&out, &regions, "size.c", source, &err), NN_OK);
    ck_assert_int_eq(regions, 2);
    ck_assert_ptr_null(strstr(out, "secret_"));
    ck_assert_ptr_nonnull(strstr(out, "    (void)n;\n    return 0;\n}"));
    ck_assert_ptr_null(strstr(out, "NN_ERR_NOT_IMPLEMENTED"));
    ck_assert_ptr_nonnull(strstr(out, "    size_t extra = 0;\n    return extra;\n"));
    free(out);
}
END_TEST

START_TEST(unpaired_markers_are_refused_with_their_line)
{
    char *out;
    int regions;
    nn_error err;
    ck_assert_int_eq(dg_stub_source(&out, &regions, "a.c", "x\n/* BEGIN SOLUTION */\ny\n", &err),
                     NN_ERR_FORMAT);
    ck_assert_str_eq(err.message, "a.c:2: BEGIN SOLUTION is never closed");
    ck_assert_int_eq(dg_stub_source(&out, &regions, "b.c", "/* END SOLUTION */\n", &err),
                     NN_ERR_FORMAT);
    ck_assert_str_eq(err.message, "b.c:1: END SOLUTION without BEGIN SOLUTION");
    ck_assert_int_eq(dg_stub_source(&out, &regions, "c.c",
                                    "/* BEGIN SOLUTION */\n/* BEGIN SOLUTION */\n", &err),
                     NN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "c.c:2:"));
}
END_TEST

/* Every reference unit stubs, and no line of any solution region is left. */
START_TEST(every_reference_unit_stubs_without_leaking)
{
    DIR *folder = opendir("reference/src");
    ck_assert_ptr_nonnull(folder);
    struct dirent *entry;
    int units = 0;
    while ((entry = readdir(folder)) != NULL) {
        size_t length = strlen(entry->d_name);
        if (length < 3 || strcmp(entry->d_name + length - 2, ".c") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "reference/src/%s", entry->d_name);
        FILE *file = fopen(path, "r");
        ck_assert_ptr_nonnull(file);
        static char text[1 << 18];
        size_t got = fread(text, 1, sizeof text - 1, file);
        fclose(file);
        text[got] = '\0';
        if (!dg_has_solution(text))
            continue;
        char *out;
        int regions;
        nn_error err;
        ck_assert_msg(dg_stub_source(&out, &regions, path, text, &err) == NN_OK, "%s",
                      err.message);
        ck_assert_int_gt(regions, 0);
        /* Each non-trivial line inside a region must be gone. */
        bool inside = false;
        for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            if (strstr(line, "BEGIN SOLUTION")) {
                inside = true;
                continue;
            }
            if (strstr(line, "END SOLUTION")) {
                inside = false;
                continue;
            }
            size_t indent = strspn(line, " ");
            if (inside && strlen(line + indent) > 24 && strstr(line, "return") == NULL)
                ck_assert_msg(strstr(out, line) == NULL, "%s: solution line survives: %s", path,
                              line);
        }
        free(out);
        units++;
    }
    closedir(folder);
    ck_assert_int_gt(units, 20);
}
END_TEST

Suite *stub_suite(void);
Suite *stub_suite(void)
{
    Suite *suite = suite_create("stub");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_region_becomes_a_not_implemented_stub);
    tcase_add_test(tc, a_region_can_give_its_own_stub_or_none);
    tcase_add_test(tc, unpaired_markers_are_refused_with_their_line);
    tcase_add_test(tc, every_reference_unit_stubs_without_leaking);
    suite_add_tcase(suite, tc);
    return suite;
}
