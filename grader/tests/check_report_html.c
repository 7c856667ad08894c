/*
 * check_report_html.c - report.html: self-contained (no script, nothing
 * fetched), user text escaped, hidden checks without details or curves,
 * and the training curves as SVG whose lines follow the data.
 */
#include "report_internal.h"
#include "report_fixture.h"

#include <math.h>

static char *html_of(const dg_report *report, size_t *size)
{
    char dir[256];
    test_make_temp_dir(dir, sizeof dir);
    char path[512];
    snprintf(path, sizeof path, "%s/report.html", dir);
    nn_error err = { 0 };
    ck_assert_msg(dg_report_write_html(report, path, &err) == NN_OK, "%s", err.message);
    char *text = fixture_read(path, size);
    remove(path);
    test_remove_dir(dir);
    return text;
}

START_TEST(html_is_self_contained)
{
    dg_report report;
    fixture_report(&report);
    size_t size = 0;
    char *html = html_of(&report, &size);
    ck_assert(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
    ck_assert_ptr_nonnull(strstr(html, "<meta charset=\"utf-8\">"));
    ck_assert_ptr_nonnull(strstr(html, "<style>"));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "<link"));
    ck_assert_ptr_null(strstr(html, "src="));
    ck_assert_ptr_null(strstr(html, "url("));
    ck_assert_ptr_null(strstr(html, "http://"));
    ck_assert_ptr_null(strstr(html, "https://"));
    ck_assert_ptr_nonnull(strstr(html, "default-src 'none'"));
    ck_assert(strstr(html, "</html>\n") == html + size - strlen("</html>\n"));
    fixture_assert_no_control_bytes(html, size, "report.html");
    ck_assert(fixture_valid_utf8(html, size));
    free(html);
    dg_report_release(&report);
}
END_TEST

START_TEST(html_escapes_user_text)
{
    dg_report report;
    fixture_report(&report);
    char *html = html_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; | pipes"));
    ck_assert_ptr_nonnull(strstr(html, "got &quot;0.512&quot; &lt; expected 0.498 &amp; "
                                       "&#39;rel&#39; &gt; 1e-5\n"));
    ck_assert_ptr_nonnull(strstr(html, "<title>dlgrade report: mlp-basics &lt;1&gt; &amp; "
                                       "&quot;co&quot;</title>"));
    ck_assert_ptr_nonnull(strstr(html, "/tmp/student&#39;s &quot;sub&quot; &lt;dir&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "linear_backward: gradients | &lt;dx&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "return x &lt;- 1"));
    ck_assert_ptr_nonnull(strstr(html, "control:[31mred\n"));
    ck_assert_ptr_null(strstr(html, "<dx>"));
    free(html);
    dg_report_release(&report);
}
END_TEST

START_TEST(html_has_the_markdown_content)
{
    dg_report report;
    fixture_report(&report);
    char *html = html_of(&report, NULL);
    ck_assert_ptr_nonnull(strstr(html, "Score 11.6 / 34: 2 of 12 checks passed."));
    for (size_t i = 0; i < report.check_count; i++) {
        char cell[128];
        snprintf(cell, sizeof cell, "<tr><td><code>%s</code></td>", report.checks[i].id);
        ck_assert_msg(strstr(html, cell) != NULL, "no row for %s", report.checks[i].id);
    }
    ck_assert_ptr_nonnull(strstr(html, "<td class=\"num\">7.1 / 10</td><td><span class=\"outcome "
                                       "o-partial\">partial</span>"));
    ck_assert_ptr_nonnull(strstr(html, "<h2>Checks not passed</h2>"));
    ck_assert_ptr_nonnull(strstr(html, "Units that did not build: conv2d."));
    ck_assert_ptr_nonnull(strstr(html, "<h2>Sandbox</h2>\n<pre>bubblewrap: in force\n"));
    ck_assert_ptr_nonnull(strstr(html, "<span style=\"width:34.1%\">"));
    free(html);
    dg_report_release(&report);
}
END_TEST

START_TEST(html_withholds_hidden_details_and_curves)
{
    dg_report report;
    fixture_report(&report);
    char *html = html_of(&report, NULL);
    ck_assert_msg(strstr(html, "SECRET") == NULL, "hidden output leaked into report.html");
    ck_assert_uint_eq(fixture_count(html, DG_HIDDEN_DETAILS), 2); /* the two failing hidden */
    /* Two checks have curves; only the public one is drawn. */
    ck_assert_uint_eq(fixture_count(html, "<svg"), 1);
    ck_assert_ptr_nonnull(strstr(html, "<figcaption>train-mlp: MLP on blobs</figcaption>"));
    ck_assert_ptr_null(strstr(html, "<figcaption>hidden-gradcheck"));
    free(html);
    dg_report_release(&report);
}
END_TEST

/* The points="x,y x,y ..." of the n-th polyline (0-based). */
static size_t polyline_points(const char *html, size_t n, double *x, double *y, size_t capacity)
{
    const char *at = html;
    for (size_t i = 0; i <= n; i++) {
        at = strstr(at, "<polyline");
        ck_assert_ptr_nonnull(at);
        at += 1;
    }
    at = strstr(at, "points=\"");
    ck_assert_ptr_nonnull(at);
    at += strlen("points=\"");
    size_t count = 0;
    while (*at != '"' && count < capacity) {
        char *end;
        x[count] = strtod(at, &end);
        ck_assert(*end == ',');
        y[count] = strtod(end + 1, &end);
        count++;
        at = end;
        while (*at == ' ')
            at++;
    }
    return count;
}

START_TEST(html_curves_follow_the_data)
{
    dg_report report;
    fixture_report(&report);
    char *html = html_of(&report, NULL);
    const char *svg = strstr(html, "<svg");
    ck_assert_ptr_nonnull(svg);
    ck_assert_ptr_nonnull(strstr(svg, "</svg>"));
    /* Axis labels and legend. */
    ck_assert_ptr_nonnull(strstr(svg, ">epoch</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">loss</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">accuracy</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">train loss</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">train accuracy</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">test accuracy</text>"));
    /* Accuracy ticks run from 0 to 1 in steps of 0.2. */
    ck_assert_ptr_nonnull(strstr(svg, ">0.2</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">1.0</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">8</text>")); /* the last epoch */
    ck_assert_uint_eq(fixture_count(svg, "<polyline"), 3);

    double x[16], y[16];
    /* Loss falls every epoch: SVG y grows downwards, so y rises. */
    size_t count = polyline_points(svg, 0, x, y, 16);
    ck_assert_uint_eq(count, 8);
    for (size_t i = 1; i < count; i++) {
        ck_assert_double_gt(x[i], x[i - 1]);
        ck_assert_double_gt(y[i], y[i - 1]);
    }
    /* Accuracies rise: y falls; test accuracy is below train accuracy, so
     * its line lies lower on the page (larger y). */
    double test_x[16], test_y[16];
    size_t train_count = polyline_points(svg, 1, x, y, 16);
    size_t test_count = polyline_points(svg, 2, test_x, test_y, 16);
    ck_assert_uint_eq(train_count, 8);
    ck_assert_uint_eq(test_count, 8);
    for (size_t i = 1; i < train_count; i++)
        ck_assert_double_lt(y[i], y[i - 1]);
    for (size_t i = 0; i < train_count; i++) {
        ck_assert_double_eq_tol(test_x[i], x[i], 1e-9);
        ck_assert_double_gt(test_y[i], y[i]);
    }
    free(html);
    dg_report_release(&report);
}
END_TEST

START_TEST(html_curve_breaks_at_values_that_are_not_finite)
{
    dg_report report = { 0 };
    dg_check_result *check = dg_report_add_check(&report);
    snprintf(check->id, sizeof check->id, "diverges");
    check->visibility = DG_VISIBLE_PUBLIC;
    check->outcome = DG_OUTCOME_FAILED;
    fixture_curve(check, 6);
    check->curve[2].train_loss = NAN;
    check->curve[3].train_loss = INFINITY;
    for (size_t i = 0; i < 6; i++)
        check->curve[i].test_accuracy = NAN; /* never measured */
    char *html = html_of(&report, NULL);
    /* Loss: epochs 1-2 and 5-6 as two lines; train accuracy one line; no
     * line nor legend for test accuracy, which a note says was not
     * measured. */
    ck_assert_uint_eq(fixture_count(html, "<polyline"), 3);
    ck_assert_ptr_null(strstr(html, ">test accuracy</text>"));
    ck_assert_ptr_nonnull(strstr(html, ">train accuracy</text>"));
    ck_assert_ptr_nonnull(strstr(html, "The test accuracy was not measured."));
    ck_assert_ptr_nonnull(strstr(html, "not a finite number at 2 epochs (first at epoch 3)"));
    ck_assert_ptr_null(strstr(html, "nan"));
    ck_assert_ptr_null(strstr(html, "inf\""));
    double x[8], y[8];
    ck_assert_uint_eq(polyline_points(html, 0, x, y, 8), 2);
    ck_assert_uint_eq(polyline_points(html, 1, x, y, 8), 2);
    free(html);
    dg_report_release(&report);
}
END_TEST

START_TEST(html_curve_of_a_single_epoch_shows_a_point)
{
    dg_report report = { 0 };
    dg_check_result *check = dg_report_add_check(&report);
    snprintf(check->id, sizeof check->id, "one-epoch");
    check->visibility = DG_VISIBLE_PUBLIC;
    check->outcome = DG_OUTCOME_PASSED;
    fixture_curve(check, 1);
    char *html = html_of(&report, NULL);
    ck_assert_uint_eq(fixture_count(html, "<svg"), 1);
    ck_assert_uint_eq(fixture_count(html, "<polyline"), 0);
    ck_assert_uint_eq(fixture_count(html, "<circle"), 3); /* loss, train and test accuracy */
    ck_assert_ptr_null(strstr(html, "nan"));
    free(html);
    dg_report_release(&report);
}
END_TEST

Suite *report_html_suite(void);
Suite *report_html_suite(void)
{
    Suite *suite = suite_create("report_html");
    TCase *tc = tcase_create("report.html");
    tcase_add_test(tc, html_is_self_contained);
    tcase_add_test(tc, html_escapes_user_text);
    tcase_add_test(tc, html_has_the_markdown_content);
    tcase_add_test(tc, html_withholds_hidden_details_and_curves);
    tcase_add_test(tc, html_curves_follow_the_data);
    tcase_add_test(tc, html_curve_breaks_at_values_that_are_not_finite);
    tcase_add_test(tc, html_curve_of_a_single_epoch_shows_a_point);
    suite_add_tcase(suite, tc);
    return suite;
}
