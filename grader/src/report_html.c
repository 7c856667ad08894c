/*
 * report_html.c - report.html: the content of report.md as one
 * self-contained page (inline CSS, no scripts, nothing fetched: it must
 * open from a CI artifact or an e-mail attachment as it is), plus the
 * training curves of each check that has one, drawn as inline SVG.
 *
 * Safety: every string from the report goes through
 * dg_buffer_append_markup (HTML-escaped, control characters dropped,
 * invalid UTF-8 replaced). As a second line of defence the page carries a
 * Content-Security-Policy that forbids scripts and every external
 * resource, so even an escaping bug could not run code in a reader's
 * browser. Hidden checks show their outcome and points, never their
 * message or curve.
 *
 * The plots: one SVG per check, two panels side by side, the training
 * loss per epoch on the left and the training and test accuracy per epoch
 * on the right (loss and accuracy have different scales, so one shared
 * axis would flatten one of them). Each panel has axes with "nice" ticks
 * (1, 2 or 5 times a power of ten), axis labels and a legend. Points that
 * are not finite (a diverged loss, an accuracy not measured) are left out
 * and break the line there, and a note below the plot says so.
 */
#include "report_internal.h"

#include <math.h>
#include <string.h>

/* ---- plotting ---------------------------------------------------------- */

typedef enum series_kind { SERIES_LOSS, SERIES_TRAIN_ACCURACY, SERIES_TEST_ACCURACY } series_kind;

static const struct {
    const char *label;
    const char *color;
    const char *dash;   /* stroke-dasharray, "" for solid */
} series_style[] = {
    [SERIES_LOSS] = { "train loss", "#1f6fb4", "" },
    [SERIES_TRAIN_ACCURACY] = { "train accuracy", "#2f9e44", "" },
    [SERIES_TEST_ACCURACY] = { "test accuracy", "#d9480f", "6 4" },
};

static double series_value(const dg_curve_point *point, series_kind kind)
{
    switch (kind) {
    case SERIES_LOSS: return point->train_loss;
    case SERIES_TRAIN_ACCURACY: return point->train_accuracy;
    case SERIES_TEST_ACCURACY: return point->test_accuracy;
    }
    return NAN;
}

typedef struct axis {
    double low, high, step;
} axis;

/* The smallest of 1, 2, 5 (times a power of ten) at least raw. */
static double nice_step(double raw)
{
    double power = pow(10.0, floor(log10(raw)));
    double fraction = raw / power;
    double nice = fraction <= 1.0 + 1e-9 ? 1.0 : fraction <= 2.0 + 1e-9 ? 2.0
                  : fraction <= 5.0 + 1e-9 ? 5.0 : 10.0;
    return nice * power;
}

/* An axis covering [low, high] with about five intervals whose ends are
 * multiples of the step. */
static axis make_axis(double low, double high, bool integer_steps)
{
    if (!(high > low)) {
        low -= 0.5;
        high += 0.5;
    }
    double step = nice_step((high - low) / 5.0);
    if (integer_steps && step < 1.0)
        step = 1.0;
    /* The small slack keeps 1.0 / 0.2 = 5.000000000000001 from adding a
     * whole empty interval. */
    axis a = { floor(low / step + 1e-9) * step, ceil(high / step - 1e-9) * step, step };
    if (!(a.high > a.low))
        a.high = a.low + step;
    return a;
}

static void format_tick(char *out, size_t size, double value, const axis *a)
{
    if (fabs(value) < a->step * 1e-9)
        value = 0.0;
    if (fmax(fabs(a->low), fabs(a->high)) >= 1e6 || a->step < 1e-6) {
        snprintf(out, size, "%.3g", value);
        return;
    }
    int decimals = a->step >= 1.0 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
    snprintf(out, size, "%.*f", decimals, value);
}

/* A panel's plotting rectangle, in SVG user units. */
typedef struct panel {
    double left, right, top, bottom;
    axis x, y;
} panel;

static double to_x(const panel *p, double value)
{
    return p->left + (value - p->x.low) / (p->x.high - p->x.low) * (p->right - p->left);
}

static double to_y(const panel *p, double value)
{
    double y = p->bottom - (value - p->y.low) / (p->y.high - p->y.low) * (p->bottom - p->top);
    return fmin(p->bottom, fmax(p->top, y));
}

static void append_axes(dg_buffer *svg, const panel *p, double origin, const char *title,
                        const char *y_label)
{
    dg_buffer_printf(svg, "<text x=\"%.1f\" y=\"18\" class=\"title\">%s</text>\n", p->left, title);
    /* Grid lines and tick labels. */
    int y_ticks = (int)lround((p->y.high - p->y.low) / p->y.step);
    for (int i = 0; i <= y_ticks && i <= 20; i++) {
        double value = p->y.low + i * p->y.step;
        double y = to_y(p, value);
        char label[32];
        format_tick(label, sizeof label, value, &p->y);
        dg_buffer_printf(svg,
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
                         "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                         p->left, y, p->right, y, p->left - 5, y, p->left, y, p->left - 8, y + 4,
                         label);
    }
    int x_ticks = (int)lround((p->x.high - p->x.low) / p->x.step);
    for (int i = 0; i <= x_ticks && i <= 40; i++) {
        double value = p->x.low + i * p->x.step;
        double x = to_x(p, value);
        char label[32];
        format_tick(label, sizeof label, value, &p->x);
        dg_buffer_printf(svg,
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
                         "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                         x, p->bottom, x, p->bottom + 5, x, p->bottom + 18, label);
    }
    dg_buffer_printf(svg,
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
                     p->left, p->top, p->left, p->bottom, p->left, p->bottom, p->right, p->bottom);
    dg_buffer_printf(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n",
                     (p->left + p->right) / 2, p->bottom + 36);
    double middle = (p->top + p->bottom) / 2;
    dg_buffer_printf(svg,
                     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                     "transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
                     origin + 12, middle, origin + 12, middle, y_label);
}

static bool series_measured(const dg_curve_point *curve, size_t count, series_kind kind)
{
    for (size_t i = 0; i < count; i++)
        if (isfinite(series_value(&curve[i], kind)))
            return true;
    return false;
}

/* One series: a polyline per run of finite points, and a dot on each
 * point when there are few (or when a run has a single point, which a
 * polyline would not show). */
static void append_series(dg_buffer *svg, const panel *p, const dg_curve_point *curve,
                          size_t count, series_kind kind)
{
    const char *color = series_style[kind].color;
    bool dots = count <= 40;
    size_t i = 0;
    while (i < count) {
        while (i < count && !isfinite(series_value(&curve[i], kind)))
            i++;
        size_t start = i;
        while (i < count && isfinite(series_value(&curve[i], kind)))
            i++;
        if (i - start >= 2) {
            dg_buffer_printf(svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"",
                             color);
            if (series_style[kind].dash[0] != '\0')
                dg_buffer_printf(svg, " stroke-dasharray=\"%s\"", series_style[kind].dash);
            dg_buffer_puts(svg, " points=\"");
            for (size_t j = start; j < i; j++)
                dg_buffer_printf(svg, "%s%.1f,%.1f", j > start ? " " : "",
                                 to_x(p, curve[j].epoch), to_y(p, series_value(&curve[j], kind)));
            dg_buffer_puts(svg, "\"/>\n");
        }
        if (dots || i - start == 1)
            for (size_t j = start; j < i; j++)
                dg_buffer_printf(svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                                 to_x(p, curve[j].epoch), to_y(p, series_value(&curve[j], kind)),
                                 color);
        if (i > start)
            dg_buffer_puts(svg, "\n");
    }
}

/* The legend names the series that have at least one point; the others
 * are named in the note under the plot (a legend entry for a line that is
 * not there would only puzzle). */
static void append_legend(dg_buffer *svg, const panel *p, const dg_curve_point *curve,
                          size_t count, const series_kind *kinds, size_t kind_count)
{
    double x = p->left;
    for (size_t k = 0; k < kind_count; k++) {
        series_kind kind = kinds[k];
        if (!series_measured(curve, count, kind))
            continue;
        const char *dash = series_style[kind].dash;
        dg_buffer_printf(svg,
                         "<line x1=\"%.1f\" y1=\"31\" x2=\"%.1f\" y2=\"31\" stroke=\"%s\" "
                         "stroke-width=\"2\"%s%s%s/>"
                         "<text x=\"%.1f\" y=\"35\">%s</text>\n",
                         x, x + 18, series_style[kind].color,
                         dash[0] != '\0' ? " stroke-dasharray=\"" : "", dash,
                         dash[0] != '\0' ? "\"" : "", x + 22, series_style[kind].label);
        /* About 7 units per character at the 12px font. */
        x += 22 + 7.0 * (double)strlen(series_style[kind].label) + 16;
    }
}

#define PANEL_WIDTH 380.0
#define PLOT_HEIGHT 300.0

static void append_panel(dg_buffer *svg, double origin, const dg_curve_point *curve, size_t count,
                         const series_kind *kinds, size_t kind_count, const char *title,
                         const char *y_label, bool accuracy)
{
    double epoch_low = curve[0].epoch, epoch_high = curve[0].epoch;
    double low = INFINITY, high = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        epoch_low = fmin(epoch_low, curve[i].epoch);
        epoch_high = fmax(epoch_high, curve[i].epoch);
        for (size_t k = 0; k < kind_count; k++) {
            double value = series_value(&curve[i], kinds[k]);
            if (isfinite(value)) {
                low = fmin(low, value);
                high = fmax(high, value);
            }
        }
    }
    if (epoch_high == epoch_low) {
        /* One epoch: an axis two epochs wide around it, or starting at 0
         * for epoch 0 (a negative epoch would puzzle). */
        epoch_high = epoch_low + 1;
        if (epoch_low >= 1)
            epoch_low -= 1;
    }
    if (!(low <= high)) { /* nothing measured */
        low = 0.0;
        high = 1.0;
    }
    /* Both panels start at zero: a loss going from 0.31 to 0.30 must not
     * look like a collapse. Accuracy always shows the whole [0, 1]. */
    low = fmin(low, 0.0);
    if (accuracy)
        high = fmax(high, 1.0);
    panel p = {
        .left = origin + 70, .right = origin + PANEL_WIDTH - 16, .top = 44,
        .bottom = PLOT_HEIGHT - 48,
        .x = make_axis(epoch_low, epoch_high, true), .y = make_axis(low, high, false),
    };
    append_axes(svg, &p, origin, title, y_label);
    append_legend(svg, &p, curve, count, kinds, kind_count);
    for (size_t k = 0; k < kind_count; k++)
        append_series(svg, &p, curve, count, kinds[k]);
}

static void append_curve(dg_buffer *html, const dg_check_result *check)
{
    dg_buffer_puts(html, "<figure>\n<figcaption>");
    dg_buffer_append_markup(html, check->id, true);
    dg_buffer_puts(html, ": ");
    dg_buffer_append_markup(html, dg_check_display_name(check), true);
    dg_buffer_printf(html,
                     "</figcaption>\n<svg class=\"curve\" width=\"%.0f\" height=\"%.0f\" "
                     "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n<title>Training curves of ",
                     2 * PANEL_WIDTH, PLOT_HEIGHT, 2 * PANEL_WIDTH, PLOT_HEIGHT);
    dg_buffer_append_markup(html, check->id, true);
    dg_buffer_puts(html, "</title>\n");
    static const series_kind loss[] = { SERIES_LOSS };
    static const series_kind accuracy[] = { SERIES_TRAIN_ACCURACY, SERIES_TEST_ACCURACY };
    append_panel(html, 0.0, check->curve, check->curve_count, loss, 1, "Loss per epoch", "loss",
                 false);
    append_panel(html, PANEL_WIDTH, check->curve, check->curve_count, accuracy, 2,
                 "Accuracy per epoch", "accuracy", true);
    dg_buffer_puts(html, "</svg>\n");

    size_t missing = 0;
    int first_missing = 0;
    for (size_t i = 0; i < check->curve_count; i++)
        if (!isfinite(check->curve[i].train_loss) && missing++ == 0)
            first_missing = check->curve[i].epoch;
    if (missing == check->curve_count)
        dg_buffer_puts(html, "<p class=\"note\">The training loss was not measured.</p>\n");
    else if (missing > 0)
        dg_buffer_printf(html,
                         "<p class=\"note\">The training loss was not a finite number at %zu "
                         "epoch%s (first at epoch %d); the plot leaves %s out.</p>\n",
                         missing, missing == 1 ? "" : "s", first_missing,
                         missing == 1 ? "it" : "them");
    static const series_kind accuracies[] = { SERIES_TRAIN_ACCURACY, SERIES_TEST_ACCURACY };
    for (size_t k = 0; k < 2; k++)
        if (!series_measured(check->curve, check->curve_count, accuracies[k]))
            dg_buffer_printf(html, "<p class=\"note\">The %s was not measured.</p>\n",
                             series_style[accuracies[k]].label);
    dg_buffer_puts(html, "</figure>\n");
}

/* ---- the page ---------------------------------------------------------- */

static const char page_style[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "margin:0;background:#f6f7f9;color:#1d2330;line-height:1.45}\n"
    "main{max-width:1000px;margin:0 auto;padding:24px}\n"
    "h1{font-size:1.6em;margin:0 0 .4em}\n"
    "h2{font-size:1.25em;margin:1.6em 0 .6em;border-bottom:1px solid #d8dce3;padding-bottom:.2em}\n"
    "h3{font-size:1.05em;margin:1.2em 0 .4em}\n"
    ".summary{font-size:1.15em;font-weight:600;margin:.2em 0 .5em}\n"
    ".bar{height:10px;background:#e3e6eb;border-radius:5px;overflow:hidden;max-width:420px}\n"
    ".bar span{display:block;height:100%;background:#2f9e44}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:1em 0}\n"
    "dl.meta dt{color:#5b6475}\n"
    "dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    "table{border-collapse:collapse;width:100%;background:#fff}\n"
    "th,td{border:1px solid #d8dce3;padding:6px 10px;text-align:left;vertical-align:top}\n"
    "th{background:#eef0f4}\n"
    "td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    ".tag{font-size:.8em;color:#5b6475;border:1px solid #c5cad3;border-radius:3px;"
    "padding:0 4px;margin-left:6px}\n"
    ".outcome{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.9em;"
    "font-weight:600;white-space:nowrap}\n"
    ".o-passed{background:#d3f9d8;color:#1b5e20}\n"
    ".o-partial{background:#fff3bf;color:#7a5b00}\n"
    ".o-failed{background:#ffe3e3;color:#a61e1e}\n"
    ".o-error{background:#f3d9fa;color:#6b1f7a}\n"
    ".o-grader{background:#e9ecef;color:#343a40}\n"
    "pre{background:#fff;border:1px solid #d8dce3;border-radius:4px;padding:10px;"
    "overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9em}\n"
    ".withheld,.note{color:#5b6475;font-style:italic}\n"
    "figure{margin:1em 0;background:#fff;border:1px solid #d8dce3;border-radius:4px;"
    "padding:10px}\n"
    "figcaption{font-weight:600;margin-bottom:6px}\n"
    "svg.curve{max-width:100%;height:auto;font-size:12px;fill:#1d2330}\n"
    "svg.curve .title{font-weight:600;font-size:13px}\n"
    "svg.curve .axis{stroke:#5b6475;stroke-width:1}\n"
    "svg.curve .grid{stroke:#e3e6eb;stroke-width:1}\n";

static const char *outcome_class(dg_outcome outcome)
{
    switch (outcome) {
    case DG_OUTCOME_PASSED: return "o-passed";
    case DG_OUTCOME_PARTIAL: return "o-partial";
    case DG_OUTCOME_FAILED:
    case DG_OUTCOME_NOT_IMPLEMENTED: return "o-failed";
    case DG_OUTCOME_BUILD_ERROR:
    case DG_OUTCOME_CRASHED:
    case DG_OUTCOME_TIMEOUT:
    case DG_OUTCOME_MEMORY: return "o-error";
    case DG_OUTCOME_GRADER_ERROR: return "o-grader";
    }
    return "o-grader";
}

static void append_points(dg_buffer *out, double score, double max_score)
{
    char got[32], of[32];
    dg_format_points(got, sizeof got, score);
    dg_format_points(of, sizeof of, max_score);
    dg_buffer_printf(out, "%s / %s", got, of);
}

static void append_outcome(dg_buffer *out, dg_outcome outcome)
{
    dg_buffer_printf(out, "<span class=\"outcome %s\">%s</span>", outcome_class(outcome),
                     dg_outcome_name(outcome));
}

static void append_pre(dg_buffer *out, const char *text)
{
    dg_buffer_puts(out, "<pre>");
    dg_buffer_append_markup(out, text, false);
    dg_buffer_puts(out, "</pre>\n");
}

static void append_head(dg_buffer *html, const dg_report *report)
{
    const char *assignment = report->assignment[0] != '\0' ? report->assignment : "assignment";
    dg_buffer_puts(html,
                   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>dlgrade report: ");
    dg_buffer_append_markup(html, assignment, true);
    dg_buffer_printf(html, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", page_style);
    dg_buffer_puts(html, "<h1>dlgrade report: ");
    dg_buffer_append_markup(html, assignment, true);
    dg_buffer_puts(html, "</h1>\n<p class=\"summary\">");
    dg_buffer summary = { 0 };
    dg_report_summary(report, &summary);
    if (summary.failed)
        html->failed = true;
    else
        dg_buffer_append_markup(html, summary.data, true);
    dg_buffer_release(&summary);
    double percent = report->max_score > 0.0 ? 100.0 * report->score / report->max_score : 0.0;
    if (!isfinite(percent))
        percent = 0.0;
    dg_buffer_printf(html, "</p>\n<div class=\"bar\"><span style=\"width:%.1f%%\"></span></div>\n",
                     fmin(100.0, fmax(0.0, percent)));
    dg_buffer_puts(html, "<dl class=\"meta\">\n");
    if (report->submission[0] != '\0') {
        dg_buffer_puts(html, "<dt>Submission</dt><dd>");
        dg_buffer_append_markup(html, report->submission, true);
        dg_buffer_puts(html, "</dd>\n");
    }
    dg_buffer_printf(html, "<dt>Seed</dt><dd>%llu</dd>\n", report->seed);
    if (report->replay[0] != '\0') {
        dg_buffer_puts(html, "<dt>Reproduce</dt><dd><code>");
        dg_buffer_append_markup(html, report->replay, true);
        dg_buffer_puts(html, "</code> (dlgrade ");
        dg_buffer_append_markup(html, report->grader_version, true);
        dg_buffer_printf(html, ", assignment.yaml CRC-32 %s, graded files CRC-32 %s)</dd>\n",
                         report->config_hash, report->submission_hash);
    }
    if (report->started_at[0] != '\0') {
        dg_buffer_puts(html, "<dt>Graded at</dt><dd>");
        dg_buffer_append_markup(html, report->started_at, true);
        dg_buffer_puts(html, "</dd>\n");
    }
    dg_buffer_printf(html, "<dt>Grading time</dt><dd>%.1f s</dd>\n</dl>\n",
                     report->execution_time);
}

static void append_table(dg_buffer *html, const dg_report *report)
{
    dg_buffer_puts(html, "<h2>Checks</h2>\n");
    if (report->check_count == 0) {
        dg_buffer_puts(html, "<p>No checks were run.</p>\n");
        return;
    }
    dg_buffer_puts(html, "<table>\n<thead><tr><th>Check</th><th>Name</th><th>Points</th>"
                         "<th>Outcome</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        dg_buffer_puts(html, "<tr><td><code>");
        dg_buffer_append_markup(html, check->id, true);
        dg_buffer_puts(html, "</code></td><td>");
        dg_buffer_append_markup(html, dg_check_display_name(check), true);
        if (!dg_check_shows_details(check))
            dg_buffer_puts(html, "<span class=\"tag\">hidden</span>");
        dg_buffer_puts(html, "</td><td class=\"num\">");
        append_points(html, check->score, check->max_score);
        dg_buffer_puts(html, "</td><td>");
        append_outcome(html, check->outcome);
        dg_buffer_puts(html, "</td></tr>\n");
    }
    dg_buffer_puts(html, "</tbody>\n</table>\n");
}

static void append_details(dg_buffer *html, const dg_report *report)
{
    if (dg_report_passed_count(report) == report->check_count)
        return;
    dg_buffer_puts(html, "<h2>Checks not passed</h2>\n");
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        if (check->outcome == DG_OUTCOME_PASSED)
            continue;
        dg_buffer_puts(html, "<h3><code>");
        dg_buffer_append_markup(html, check->id, true);
        dg_buffer_puts(html, "</code> ");
        dg_buffer_append_markup(html, dg_check_display_name(check), true);
        dg_buffer_puts(html, " (");
        append_points(html, check->score, check->max_score);
        dg_buffer_puts(html, ") ");
        append_outcome(html, check->outcome);
        dg_buffer_puts(html, "</h3>\n");
        if (!dg_check_shows_details(check))
            dg_buffer_puts(html, "<p class=\"withheld\">" DG_HIDDEN_DETAILS "</p>\n");
        else if (check->output == NULL || check->output[0] == '\0')
            dg_buffer_puts(html, "<p class=\"note\">No message.</p>\n");
        else
            append_pre(html, check->output);
    }
}

static void append_curves(dg_buffer *html, const dg_report *report)
{
    bool any = false;
    for (size_t i = 0; i < report->check_count; i++) {
        const dg_check_result *check = &report->checks[i];
        if (check->curve_count == 0 || check->curve == NULL || !dg_check_shows_details(check))
            continue;
        if (!any)
            dg_buffer_puts(html, "<h2>Training curves</h2>\n");
        any = true;
        append_curve(html, check);
    }
}

static void append_build_log(dg_buffer *html, const dg_report *report)
{
    dg_buffer units = { 0 };
    dg_report_unbuilt_units(report, &units);
    bool has_log = report->build_log != NULL && report->build_log[0] != '\0';
    if (units.failed)
        html->failed = true;
    if (units.length != 0 || has_log) {
        dg_buffer_puts(html, "<h2>Build log</h2>\n");
        if (units.length != 0) {
            dg_buffer_puts(html, "<p>Units that did not build: ");
            dg_buffer_append_markup(html, units.data, true);
            dg_buffer_puts(html, ".</p>\n");
        }
        if (has_log)
            append_pre(html, report->build_log);
    }
    dg_buffer_release(&units);
}

nn_status dg_report_emit_html(const dg_report *report, FILE *out, nn_error *err)
{
    dg_buffer html = { 0 };
    append_head(&html, report);
    append_table(&html, report);
    append_details(&html, report);
    append_curves(&html, report);
    append_build_log(&html, report);
    if (report->sandbox_notes != NULL && report->sandbox_notes[0] != '\0') {
        dg_buffer_puts(&html, "<h2>Sandbox</h2>\n");
        append_pre(&html, report->sandbox_notes);
    }
    dg_buffer_puts(&html, "</main>\n</body>\n</html>\n");
    nn_status status = dg_buffer_write(&html, out, err);
    dg_buffer_release(&html);
    return status;
}

nn_status dg_report_write_html(const dg_report *report, const char *path, nn_error *err)
{
    return dg_report_write_with(report, path, dg_report_emit_html, err);
}
