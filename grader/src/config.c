/*
 * config.c - reading and validating assignment.yaml.
 *
 * Validation collects every problem instead of stopping at the first, so
 * an instructor fixes a config in one round; each problem is located at the
 * YAML node it is about.
 */
#include "config.h"

#include "dlgrade.h"
#include "kernels.h"
#include "nn/network.h"
#include "nn/yaml.h"
#include "submission.h"

#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct parser {
    dg_config *config;
    nn_yaml_document *document;
    char *problems;     /* one per line */
    size_t length;
    int problem_count;
    nn_error first;
    bool units_broken;  /* units: was no mapping; checks naming functions would only echo it */
} parser;

static void problem(parser *p, const nn_yaml_node *node, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(parser *p, const nn_yaml_node *node, const char *format, ...)
{
    char message[400], line[600];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (node != NULL)
        snprintf(line, sizeof line, "%s:%d:%d: %s", p->config->path, nn_yaml_line(node),
                 nn_yaml_column(node), message);
    else
        snprintf(line, sizeof line, "%s: %s", p->config->path, message);
    if (p->problem_count++ == 0)
        nn_error_set(&p->first, NN_ERR_FORMAT, "%s", line);
    size_t add = strlen(line) + 1;
    char *grown = realloc(p->problems, p->length + add + 1);
    if (grown == NULL)
        return;
    p->problems = grown;
    memcpy(p->problems + p->length, line, add - 1);
    p->problems[p->length + add - 1] = '\n';
    p->length += add;
    p->problems[p->length] = '\0';
}

/* A typed-accessor failure becomes a problem; returns whether it worked. */
static bool accept(parser *p, nn_status status, const nn_error *err)
{
    if (status == NN_OK)
        return true;
    /* The accessor's message is already "path:line:col: ...". */
    if (p->problem_count++ == 0)
        p->first = *err;
    size_t add = strlen(err->message) + 1;
    char *grown = realloc(p->problems, p->length + add + 1);
    if (grown != NULL) {
        p->problems = grown;
        memcpy(p->problems + p->length, err->message, add - 1);
        p->problems[p->length + add - 1] = '\n';
        p->length += add;
        p->problems[p->length] = '\0';
    }
    return false;
}

static bool key_known(const char *key, const char *const *keys)
{
    for (int i = 0; keys[i] != NULL; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

/* The number of single-character edits from a to b (for suggestions). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    size_t row[32];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Reports keys the mapping should not have; returns how many. */
static int check_keys(parser *p, const nn_yaml_node *mapping, const char *what,
                      const char *const *keys)
{
    int unknown = 0;
    for (int i = 0; i < nn_yaml_mapping_size(mapping); i++) {
        nn_yaml_node *key_node;
        const char *key = nn_yaml_mapping_key(p->document, mapping, i, &key_node);
        if (key == NULL) {
            problem(p, key_node, "%s: keys must be plain names", what);
            unknown++;
        } else if (!key_known(key, keys)) {
            const char *closest = NULL;
            for (int k = 0; keys[k] != NULL; k++)
                if (edit_distance(key, keys[k]) <= 2
                    && (closest == NULL || edit_distance(key, keys[k]) < edit_distance(key, closest)))
                    closest = keys[k];
            if (closest != NULL)
                problem(p, key_node, "%s: unknown key '%s' (did you mean '%s'?)", what, key,
                        closest);
            else
                problem(p, key_node, "%s: unknown key '%s'", what, key);
            unknown++;
        }
    }
    return unknown;
}

/* A key given twice in one mapping is refused anywhere in the document:
 * the YAML reader keeps both, and which one a lookup finds is an
 * accident. Aliases make the document a graph, so the walk is bounded. */
static void check_duplicate_keys(parser *p, nn_yaml_node *node, int depth, long *budget)
{
    if (node == NULL || depth > 64 || --*budget < 0)
        return;
    if (nn_yaml_is_sequence(node)) {
        for (int i = 0; i < nn_yaml_sequence_size(node) && *budget >= 0; i++)
            check_duplicate_keys(p, nn_yaml_sequence_item(p->document, node, i), depth + 1,
                                 budget);
        return;
    }
    if (!nn_yaml_is_mapping(node))
        return;
    int size = nn_yaml_mapping_size(node);
    for (int i = 0; i < size && *budget >= 0; i++) {
        nn_yaml_node *key_node;
        const char *key = nn_yaml_mapping_key(p->document, node, i, &key_node);
        for (int j = 0; key != NULL && j < i; j++) {
            nn_yaml_node *earlier_node;
            const char *earlier = nn_yaml_mapping_key(p->document, node, j, &earlier_node);
            if (earlier != NULL && strcmp(earlier, key) == 0) {
                problem(p, key_node, "key '%s' is given twice in one mapping (first at line %d)",
                        key, nn_yaml_line(earlier_node));
                break;
            }
        }
        check_duplicate_keys(p, nn_yaml_mapping_value(p->document, node, i), depth + 1, budget);
    }
}

static void copy_string(parser *p, char *out, size_t size, const nn_yaml_node *node,
                        const char *what)
{
    const char *text;
    nn_error err;
    if (!accept(p, nn_yaml_to_string(&text, p->document, node, what, &err), &err))
        return;
    if (strlen(text) >= size)
        problem(p, node, "%s is longer than %zu characters", what, size - 1);
    else
        snprintf(out, size, "%s", text);
}

static double get_number(parser *p, const nn_yaml_node *map, const char *key, double fallback,
                         double minimum, double maximum)
{
    nn_yaml_node *node = nn_yaml_get(p->document, map, key);
    if (node == NULL)
        return fallback;
    double value = fallback;
    nn_error err;
    accept(p, nn_yaml_to_double(&value, p->document, node, key, minimum, maximum, &err), &err);
    return value;
}

static void parse_limits(parser *p, const nn_yaml_node *node, dg_sandbox_limits *limits)
{
    static const char *const keys[] = { "cpu_seconds", "wall_seconds", "memory_mb", "processes",
                                        "file_size_mb", "open_files", "output_kb", NULL };
    if (!nn_yaml_is_mapping(node)) {
        problem(p, node, "limits must be a mapping, e.g. {cpu_seconds: 10, memory_mb: 512}");
        return;
    }
    check_keys(p, node, "limits", keys);
    limits->cpu_seconds = get_number(p, node, "cpu_seconds", limits->cpu_seconds, 0.1, 3600);
    limits->wall_seconds = get_number(p, node, "wall_seconds", 2 * limits->cpu_seconds + 1, 0.1,
                                      7200);
    limits->memory_bytes = (size_t)(get_number(p, node, "memory_mb",
                                               (double)(limits->memory_bytes >> 20), 16, 16384))
                           << 20;
    limits->max_processes = (int)get_number(p, node, "processes", limits->max_processes, 1, 256);
    limits->max_file_bytes = (size_t)(get_number(p, node, "file_size_mb",
                                                 (double)(limits->max_file_bytes >> 20), 0, 4096))
                             << 20;
    limits->max_open_files = (int)get_number(p, node, "open_files", limits->max_open_files, 8,
                                             4096);
    limits->max_output_bytes = (size_t)(get_number(p, node, "output_kb",
                                                   (double)(limits->max_output_bytes >> 10), 1,
                                                   1 << 20))
                               << 10;
}

static void parse_units(parser *p, const nn_yaml_node *node)
{
    static const char *const keys[] = { "file", "functions", NULL };
    dg_config *config = p->config;
    if (!nn_yaml_is_mapping(node)) {
        problem(p, node, "units must be a mapping from unit name to {file, functions}");
        p->units_broken = true;
        return;
    }
    for (int i = 0; i < nn_yaml_mapping_size(node) && config->unit_count < DG_MAX_UNITS; i++) {
        nn_yaml_node *key_node;
        const char *name = nn_yaml_mapping_key(p->document, node, i, &key_node);
        nn_yaml_node *value = nn_yaml_mapping_value(p->document, node, i);
        dg_unit *unit = &config->units[config->unit_count++];
        unit->line = nn_yaml_line(key_node);
        if (name == NULL || strlen(name) >= sizeof unit->name) {
            problem(p, key_node, "a unit needs a plain name");
            continue;
        }
        snprintf(unit->name, sizeof unit->name, "%s", name);
        if (!nn_yaml_is_mapping(value)) {
            problem(p, value, "unit %s must be a mapping with file and functions", name);
            continue;
        }
        check_keys(p, value, name, keys);
        nn_yaml_node *file = nn_yaml_get(p->document, value, "file");
        if (file == NULL)
            problem(p, value, "unit %s has no file", name);
        else
            copy_string(p, unit->file, sizeof unit->file, file, "file");
        if (unit->file[0] != '\0'
            && (strchr(unit->file, '/') != NULL || strlen(unit->file) < 3
                || strcmp(unit->file + strlen(unit->file) - 2, ".c") != 0))
            problem(p, file, "unit %s: file must be a plain name ending in .c, not '%s'", name,
                    unit->file);
        nn_yaml_node *functions = nn_yaml_get(p->document, value, "functions");
        if (!nn_yaml_is_sequence(functions) || nn_yaml_sequence_size(functions) == 0) {
            problem(p, functions ? functions : value, "unit %s needs a list of functions", name);
            continue;
        }
        for (int f = 0; f < nn_yaml_sequence_size(functions); f++) {
            nn_yaml_node *item = nn_yaml_sequence_item(p->document, functions, f);
            if (unit->function_count == DG_MAX_UNIT_FUNCTIONS) {
                problem(p, item, "unit %s: more than %d functions", name,
                        DG_MAX_UNIT_FUNCTIONS);
                break;
            }
            char *function = unit->functions[unit->function_count];
            copy_string(p, function, 64, item, "a function name");
            if (function[0] == '\0')
                continue;
            const dg_kernel *kernel = dg_kernel_find(function);
            if (kernel == NULL)
                problem(p, item, "unit %s: '%s' is not a function the grader knows", name,
                        function);
            else if (strcmp(kernel->unit, name) != 0)
                problem(p, item, "unit %s: %s belongs to unit %s", name, function,
                        kernel->unit);
            unit->function_count++;
        }
    }
}

/* Resolves a path given relative to the assignment folder. */
static void resolve(parser *p, char *out, size_t size, const nn_yaml_node *node,
                    const char *what)
{
    char relative[256] = "";
    copy_string(p, relative, sizeof relative, node, what);
    if (relative[0] == '\0')
        return;
    if (relative[0] == '/')
        snprintf(out, size, "%s", relative);
    else
        snprintf(out, size, "%s/%s", p->config->directory, relative);
    if (access(out, R_OK) != 0)
        problem(p, node, "%s '%s' cannot be read (looked for %s)", what, relative, out);
}

/* The library unit whose solution a layer type, loss or optimizer of a
 * model spec runs (what the network code calls), or NULL for one that
 * runs no solution. */
static const char *unit_of_part(const char *part)
{
    static const char *const parts[][2] = {
        { "linear", "linear" },           { "relu", "relu" },
        { "leaky_relu", "leaky_relu" },   { "prelu", "prelu" },
        { "sigmoid", "sigmoid" },         { "tanh", "tanh" },
        { "softmax", "softmax" },         { "dropout", "dropout" },
        { "batchnorm", "batchnorm" },     { "flatten", "flatten" },
        { "max_pool", "max_pool2d" },     { "avg_pool", "avg_pool2d" },
        { "global_avg_pool", "global_avg_pool2d" }, { "upsample", "upsample2d" },
        { "softmax_cross_entropy", "softmax_cross_entropy" },
        { "bce_with_logits", "bce_with_logits_loss" }, { "mse", "mse_loss" },
        { "l1", "l1_loss" },              { "sgd", "sgd" },
        { "adam", "adam" },               { "rmsprop", "rmsprop" },
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strcmp(parts[i][0], part) == 0)
            return parts[i][1];
    return NULL;
}

/* Whether the training runner of check has unit's solution: the check
 * links the student's, or the assignment provides the reference's. Any
 * other unit comes as a stub (see dg_link_runner). */
static bool unit_available(const dg_config *config, const dg_check_config *check,
                           const char *unit)
{
    for (int u = 0; u < check->unit_count; u++)
        if (strcmp(config->units[check->units[u]].name, unit) == 0)
            return true;
    for (int i = 0; i < config->provided_count; i++)
        if (strcmp(config->provided[i], unit) == 0)
            return true;
    return false;
}

/* "path:line:col: " of a top-level key of a spec (or of a key inside
 * `within`), or "path: ". */
static void spec_place(char *out, size_t size, const char *path, const char *within,
                       const char *key)
{
    nn_yaml_document *document = NULL;
    nn_error ignored;
    nn_yaml_node *node = NULL;
    if (nn_yaml_load(&document, path, &ignored) == NN_OK) {
        node = nn_yaml_root(document);
        if (within != NULL)
            node = nn_yaml_is_mapping(node) ? nn_yaml_get(document, node, within) : NULL;
        node = nn_yaml_is_mapping(node) ? nn_yaml_get(document, node, key) : NULL;
    }
    if (node != NULL)
        snprintf(out, size, "%s:%d:%d: ", path, nn_yaml_line(node), nn_yaml_column(node));
    else
        snprintf(out, size, "%s: ", path);
    nn_yaml_free(document);
}

/* A train check's model spec must load, a network must be buildable from
 * it (its layers' shapes agree), and every unit it runs must be one the
 * check grades or the assignment provides: the runner holds only stubs
 * of the others. A broken spec is the instructor's error, never a
 * student's failed check. Messages are located in the spec. */
static void validate_model(parser *p, const dg_check_config *check)
{
    nn_model_spec *spec = NULL;
    nn_network *network = NULL;
    nn_error err;
    nn_error_clear(&err);
    nn_status status = nn_model_spec_load(&spec, check->model, &err);
    if (status == NN_OK) {
        nn_rng rng;
        nn_rng_seed(&rng, 1);
        status = nn_network_new(&network, spec, 1, &rng, &err);
    }
    if (!accept(p, status, &err)) {
        nn_network_free(network);
        nn_model_spec_free(spec);
        return;
    }
    char line[700];
    for (int l = 0; l < spec->layer_count; l++) {
        const nn_layer_spec *layer = &spec->layers[l];
        const char *unit = unit_of_part(layer->type);
        if (unit != NULL && !unit_available(p->config, check, unit)) {
            snprintf(line, sizeof line, "%s:%d:%d: layer %s runs unit %s, which check %s does "
                     "not grade and the assignment does not provide (add it to provided:)",
                     check->model, layer->line, layer->column, layer->name, unit, check->id);
            nn_error_set(&err, NN_ERR_FORMAT, "%s", line);
            accept(p, NN_ERR_FORMAT, &err);
        }
    }
    const char *parts[][3] = { { nn_loss_kind_name(spec->loss), NULL, "loss" },
                               { nn_optimizer_kind_name(spec->train.optimizer.kind), "train",
                                 "optimizer" } };
    for (int i = 0; i < 2; i++) {
        const char *unit = unit_of_part(parts[i][0]);
        if (unit == NULL || unit_available(p->config, check, unit))
            continue;
        char place[600];
        spec_place(place, sizeof place, check->model, parts[i][1], parts[i][2]);
        snprintf(line, sizeof line, "%s%s %s runs unit %s, which check %s does not grade and "
                 "the assignment does not provide (add it to provided:)", place, parts[i][2],
                 parts[i][0], unit, check->id);
        nn_error_set(&err, NN_ERR_FORMAT, "%s", line);
        accept(p, NN_ERR_FORMAT, &err);
    }
    nn_network_free(network);
    nn_model_spec_free(spec);
}

/* An accuracy check's threshold: {floor: F, target: T}, T above F. */
static void parse_threshold(parser *p, dg_check_config *check, const nn_yaml_node *node)
{
    nn_yaml_node *threshold = nn_yaml_get(p->document, node, "threshold");
    if (!nn_yaml_is_mapping(threshold)) {
        problem(p, threshold ? threshold : node, "check %s (%s) needs threshold: {floor: F, "
                "target: T}", check->id, dg_check_kind_name(check->kind));
        return;
    }
    static const char *const threshold_keys[] = { "floor", "target", NULL };
    check_keys(p, threshold, "threshold", threshold_keys);
    check->floor = get_number(p, threshold, "floor", 0, 0, 1);
    check->target = get_number(p, threshold, "target", 1, 0, 1);
    if (check->target <= check->floor)
        problem(p, threshold, "check %s: target %g must be above floor %g", check->id,
                check->target, check->floor);
}

/* A file name of the submission: plain, no folder. */
static void submission_name(parser *p, char *out, size_t size, const nn_yaml_node *node,
                            const char *what, const char *fallback, const char *id)
{
    snprintf(out, size, "%s", fallback);
    if (node == NULL)
        return;
    out[0] = '\0';
    copy_string(p, out, size, node, what);
    if (out[0] != '\0' && (strchr(out, '/') != NULL || out[0] == '.'))
        problem(p, node, "check %s: %s must be a plain file name of the submission, not '%s'",
                id, what, out);
}

/* The starter spec of a model check is what students train with `make
 * train`: it must load within the check's bounds, and every unit it runs
 * must be one the students have (graded, so theirs, or provided).
 * Located in the starter file. */
static void validate_starter(parser *p, const dg_check_config *check)
{
    nn_model_spec *spec = NULL;
    nn_error err;
    nn_error_clear(&err);
    nn_status status = nn_model_spec_load(&spec, check->starter, &err);
    if (status == NN_OK) {
        nn_network_plan plan;
        nn_network_limits limits = { .max_parameters = check->max_parameters,
                                     .max_flops = check->max_flops };
        status = nn_network_plan_spec(&plan, spec, &limits, &err);
    }
    if (!accept(p, status, &err)) {
        nn_model_spec_free(spec);
        return;
    }
    dg_check_config everything = { .unit_count = p->config->unit_count };
    for (int u = 0; u < p->config->unit_count; u++)
        everything.units[u] = u;
    char line[700];
    for (int l = 0; l < spec->layer_count; l++) {
        const nn_layer_spec *layer = &spec->layers[l];
        const char *unit = unit_of_part(layer->type);
        if (unit != NULL && !unit_available(p->config, &everything, unit)) {
            snprintf(line, sizeof line, "%s:%d:%d: layer %s runs unit %s, which the assignment "
                     "neither grades nor provides: students cannot train this starter (check "
                     "%s)", check->starter, layer->line, layer->column, layer->name, unit,
                     check->id);
            nn_error_set(&err, NN_ERR_FORMAT, "%s", line);
            accept(p, NN_ERR_FORMAT, &err);
        }
    }
    const char *parts[][3] = { { nn_loss_kind_name(spec->loss), NULL, "loss" },
                               { nn_optimizer_kind_name(spec->train.optimizer.kind), "train",
                                 "optimizer" } };
    for (int i = 0; i < 2; i++) {
        const char *unit = unit_of_part(parts[i][0]);
        if (unit == NULL || unit_available(p->config, &everything, unit))
            continue;
        char place[600];
        spec_place(place, sizeof place, check->starter, parts[i][1], parts[i][2]);
        snprintf(line, sizeof line, "%s%s %s runs unit %s, which the assignment neither grades "
                 "nor provides: students cannot train this starter (check %s)", place,
                 parts[i][2], parts[i][0], unit, check->id);
        nn_error_set(&err, NN_ERR_FORMAT, "%s", line);
        accept(p, NN_ERR_FORMAT, &err);
    }
    nn_model_spec_free(spec);
}

/* kind: model - a spec and weights file from the submission. */
static void parse_model_check(parser *p, dg_check_config *check, const nn_yaml_node *node)
{
    submission_name(p, check->spec_file, sizeof check->spec_file,
                    nn_yaml_get(p->document, node, "spec"), "spec", "model.yaml", check->id);
    submission_name(p, check->weights_file, sizeof check->weights_file,
                    nn_yaml_get(p->document, node, "weights"), "weights", "model.weights",
                    check->id);
    if (check->spec_file[0] != '\0' && strcmp(check->spec_file, check->weights_file) == 0)
        problem(p, nn_yaml_get(p->document, node, "weights"), "check %s: the spec and the "
                "weights cannot both be '%s'", check->id, check->spec_file);
    snprintf(check->data, sizeof check->data, "fashion-mnist");
    nn_yaml_node *data = nn_yaml_get(p->document, node, "data");
    if (data != NULL)
        copy_string(p, check->data, sizeof check->data, data, "data");
    if (check->data[0] != '\0' && !dg_dataset_known(check->data))
        problem(p, data ? data : node, "check %s: unknown dataset '%s' (known: %s)", check->id,
                check->data, dg_dataset_names());
    /* A weights file takes 4 bytes a parameter: the bound must leave room
     * for it under the submission's own bound on a file. */
    size_t file_limit = dg_submission_default_limits().max_file_bytes;
    double most = (double)(file_limit - (64u << 10)) / 4;
    check->max_parameters = (size_t)get_number(p, node, "max_parameters", 1000000, 1, 1e9);
    if ((double)check->max_parameters > most)
        problem(p, nn_yaml_get(p->document, node, "max_parameters"), "check %s: "
                "max_parameters %zu needs weights files of up to %zu bytes, more than the %zu "
                "a submitted file may have (at most %.0f parameters)", check->id,
                check->max_parameters, 4 * check->max_parameters, file_limit, most);
    check->max_flops = get_number(p, node, "max_flops", 1e7, 1, 1e11);
    nn_yaml_node *starter = nn_yaml_get(p->document, node, "starter");
    if (starter != NULL)
        resolve(p, check->starter, sizeof check->starter, starter, "starter");
    if (check->starter[0] != '\0' && access(check->starter, R_OK) == 0)
        validate_starter(p, check);
    parse_threshold(p, check, node);
}

static int unit_of_function(const dg_config *config, const char *function)
{
    for (int u = 0; u < config->unit_count; u++)
        for (int f = 0; f < config->units[u].function_count; f++)
            if (strcmp(config->units[u].functions[f], function) == 0)
                return u;
    return -1;
}

static void parse_check(parser *p, dg_check_config *check, const nn_yaml_node *node,
                        const dg_sandbox_limits *defaults)
{
    static const char *const keys[] = {
        "id", "name", "kind", "points", "visibility", "limits", "function", "tolerance",
        "samples", "model", "data", "units", "epochs", "train_samples", "threshold", "checks",
        "key", "answers", "spec", "weights", "starter", "max_parameters", "max_flops", NULL
    };
    dg_config *config = p->config;
    check->line = nn_yaml_line(node);
    check->unit = -1;
    check->limits = *defaults;
    if (!nn_yaml_is_mapping(node)) {
        problem(p, node, "a check must be a mapping with id, kind and points");
        return;
    }
    int unknown_keys = check_keys(p, node, "check", keys);
    nn_yaml_node *id = nn_yaml_get(p->document, node, "id");
    if (id == NULL)
        problem(p, node, "a check has no id");
    else
        copy_string(p, check->id, sizeof check->id, id, "id");
    for (int i = 0; check->id[0] && &config->checks[i] != check; i++)
        if (strcmp(config->checks[i].id, check->id) == 0)
            problem(p, id, "check id '%s' is used twice (first at line %d)", check->id,
                    config->checks[i].line);
    nn_yaml_node *name = nn_yaml_get(p->document, node, "name");
    if (name != NULL)
        copy_string(p, check->name, sizeof check->name, name, "name");
    else
        memcpy(check->name, check->id, sizeof check->id); /* id is the shorter */

    const char *kinds[] = { "compare", "gradcheck", "train", "memcheck", "quiz", "model" };
    nn_yaml_node *kind = nn_yaml_get(p->document, node, "kind");
    const char *kind_text = kind ? nn_yaml_scalar(kind) : NULL;
    int kind_index = -1;
    for (int k = 0; kind_text != NULL && k < 6; k++)
        if (strcmp(kind_text, kinds[k]) == 0)
            kind_index = k;
    if (kind_index < 0) {
        problem(p, kind ? kind : node, "check %s: kind must be one of compare, gradcheck, "
                "train, memcheck, quiz, model", check->id);
        return;
    }
    check->kind = (dg_check_kind)kind_index;

    nn_yaml_node *points = nn_yaml_get(p->document, node, "points");
    if (points == NULL && check->kind != DG_CHECK_QUIZ && unknown_keys == 0)
        problem(p, node, "check %s has no points", check->id);   /* else: misspelt, said */
    check->points = get_number(p, node, "points", 0, 0, 1000);

    check->visibility = DG_VISIBLE_PUBLIC;
    nn_yaml_node *visibility = nn_yaml_get(p->document, node, "visibility");
    if (visibility != NULL) {
        const char *text = nn_yaml_scalar(visibility);
        if (text != NULL && strcmp(text, "public") == 0)
            check->visibility = DG_VISIBLE_PUBLIC;
        else if (text != NULL && strcmp(text, "hidden") == 0)
            check->visibility = DG_VISIBLE_HIDDEN;
        else if (text != NULL && strcmp(text, "after_due") == 0)
            check->visibility = DG_VISIBLE_AFTER_DUE;
        else
            problem(p, visibility, "check %s: visibility must be public, hidden or after_due",
                    check->id);
    }
    nn_yaml_node *limits = nn_yaml_get(p->document, node, "limits");
    if (limits != NULL)
        parse_limits(p, limits, &check->limits);

    if (check->kind == DG_CHECK_COMPARE || check->kind == DG_CHECK_GRADCHECK) {
        nn_yaml_node *function = nn_yaml_get(p->document, node, "function");
        if (function == NULL) {
            problem(p, node, "check %s (%s) needs a function", check->id, kinds[kind_index]);
            return;
        }
        copy_string(p, check->function, sizeof check->function, function, "function");
        check->unit = unit_of_function(config, check->function);
        if (check->unit < 0 && !p->units_broken)
            problem(p, function, "check %s: function %s is not in any unit", check->id,
                    check->function);
        if (check->kind == DG_CHECK_GRADCHECK) {
            const dg_gradient_pair *pair = dg_gradient_pair_find(check->function);
            if (pair == NULL || strcmp(pair->backward, check->function) != 0)
                problem(p, function, "check %s: %s is not a backward function with a gradient "
                        "check", check->id, check->function);
            else if (unit_of_function(config, pair->forward) < 0)
                problem(p, function, "check %s: its forward %s is not in any unit", check->id,
                        pair->forward);
        }
        check->tolerance = get_number(p, node, "tolerance",
                                      check->kind == DG_CHECK_COMPARE ? 1e-6 : 1e-5, 1e-15, 1);
        check->samples = (int)get_number(p, node, "samples", 32, 1, 4096);
    } else if (check->kind == DG_CHECK_TRAIN) {
        nn_yaml_node *model = nn_yaml_get(p->document, node, "model");
        if (model == NULL)
            problem(p, node, "check %s (train) needs a model spec", check->id);
        else
            resolve(p, check->model, sizeof check->model, model, "model");
        snprintf(check->data, sizeof check->data, "fashion-mnist");
        nn_yaml_node *data = nn_yaml_get(p->document, node, "data");
        if (data != NULL)
            copy_string(p, check->data, sizeof check->data, data, "data");
        if (check->data[0] != '\0' && !dg_dataset_known(check->data))
            problem(p, data ? data : node, "check %s: unknown dataset '%s' (known: %s)",
                    check->id, check->data, dg_dataset_names());
        nn_yaml_node *units = nn_yaml_get(p->document, node, "units");
        if (!nn_yaml_is_sequence(units)) {
            problem(p, units ? units : node, "check %s (train) needs a list of units",
                    check->id);
        } else {
            for (int u = 0; u < nn_yaml_sequence_size(units) && check->unit_count < DG_MAX_UNITS;
                 u++) {
                nn_yaml_node *item = nn_yaml_sequence_item(p->document, units, u);
                const char *unit = nn_yaml_scalar(item);
                int index = unit ? dg_config_find_unit(config, unit) : -1;
                if (index < 0)
                    problem(p, item, "check %s: unknown unit '%s'", check->id,
                            unit ? unit : "?");
                else
                    check->units[check->unit_count++] = index;
            }
        }
        if (check->model[0] != '\0' && access(check->model, R_OK) == 0)
            validate_model(p, check);
        check->epochs = (int)get_number(p, node, "epochs", 1, 1, 1000);
        check->train_samples = (int)get_number(p, node, "train_samples", 0, 0, 1e7);
        parse_threshold(p, check, node);
    } else if (check->kind == DG_CHECK_MODEL) {
        parse_model_check(p, check, node);
    } else if (check->kind == DG_CHECK_MEMCHECK) {
        nn_yaml_node *checks = nn_yaml_get(p->document, node, "checks");
        if (!nn_yaml_is_sequence(checks) || nn_yaml_sequence_size(checks) == 0) {
            problem(p, checks ? checks : node, "check %s (memcheck) needs a list of checks to "
                    "rerun", check->id);
            return;
        }
        for (int c = 0; c < nn_yaml_sequence_size(checks)
                        && check->reference_count < DG_MAX_CHECK_REFERENCES;
             c++) {
            nn_yaml_node *item = nn_yaml_sequence_item(p->document, checks, c);
            const char *target = nn_yaml_scalar(item);
            int index = target ? dg_config_find_check(config, target) : -1;
            if (index < 0)
                problem(p, item, "check %s: '%s' is not an earlier check", check->id,
                        target ? target : "?");
            else if (config->checks[index].kind != DG_CHECK_COMPARE
                     && config->checks[index].kind != DG_CHECK_GRADCHECK)
                problem(p, item, "check %s: memcheck reruns compare and gradcheck checks, not "
                        "%s", check->id, dg_check_kind_name(config->checks[index].kind));
            else
                check->references[check->reference_count++] = index;
        }
    } else if (check->kind == DG_CHECK_QUIZ) {
        nn_yaml_node *key = nn_yaml_get(p->document, node, "key");
        if (key == NULL)
            problem(p, node, "check %s (quiz) needs an answer key file", check->id);
        else
            resolve(p, check->key, sizeof check->key, key, "key");
        snprintf(check->answers, sizeof check->answers, "answers.yaml");
        nn_yaml_node *answers = nn_yaml_get(p->document, node, "answers");
        if (answers != NULL)
            copy_string(p, check->answers, sizeof check->answers, answers, "answers");
    }
}

static void parse_root(parser *p)
{
    static const char *const keys[] = { "assignment", "title", "total_points", "units", "limits",
                                        "build_limits", "checks", "provided", NULL };
    dg_config *config = p->config;
    nn_yaml_node *root = nn_yaml_root(p->document);
    if (!nn_yaml_is_mapping(root)) {
        problem(p, root, "assignment.yaml must be a mapping with assignment, units and checks");
        return;
    }
    long budget = 100000;
    check_duplicate_keys(p, root, 0, &budget);
    check_keys(p, root, "assignment", keys);
    nn_yaml_node *name = nn_yaml_get(p->document, root, "assignment");
    if (name == NULL)
        problem(p, root, "no assignment name (assignment: NAME)");
    else
        copy_string(p, config->name, sizeof config->name, name, "assignment");
    nn_yaml_node *title = nn_yaml_get(p->document, root, "title");
    if (title != NULL)
        copy_string(p, config->title, sizeof config->title, title, "title");
    config->total_points = get_number(p, root, "total_points", 0, 0, 100000);

    nn_yaml_node *units = nn_yaml_get(p->document, root, "units");
    if (units == NULL)
        problem(p, root, "no units: list the files students implement");
    else
        parse_units(p, units);

    nn_yaml_node *provided = nn_yaml_get(p->document, root, "provided");
    if (provided != NULL && !nn_yaml_is_sequence(provided))
        problem(p, provided, "provided must be a list of reference units, e.g. [sgd, flatten]");
    for (int i = 0; provided != NULL && nn_yaml_is_sequence(provided)
                    && i < nn_yaml_sequence_size(provided) && config->provided_count < DG_MAX_UNITS;
         i++) {
        nn_yaml_node *item = nn_yaml_sequence_item(p->document, provided, i);
        char *unit = config->provided[config->provided_count];
        copy_string(p, unit, 48, item, "a provided unit");
        if (unit[0] == '\0')
            continue;
        if (dg_config_find_unit(config, unit) >= 0)
            problem(p, item, "unit %s is both provided and graded", unit);
        bool known = false;
        for (size_t k = 0; k < dg_kernel_count; k++)
            known |= strcmp(dg_kernels[k].unit, unit) == 0;
        if (!known)
            problem(p, item, "provided unit '%s' is not a unit of the reference", unit);
        config->provided_count++;
    }

    dg_sandbox_limits defaults = dg_sandbox_default_limits();
    nn_yaml_node *limits = nn_yaml_get(p->document, root, "limits");
    if (limits != NULL)
        parse_limits(p, limits, &defaults);

    config->build_limits = dg_sandbox_default_limits();
    config->build_limits.cpu_seconds = 30;
    config->build_limits.wall_seconds = 60;
    config->build_limits.memory_bytes = (size_t)1 << 30;
    config->build_limits.max_processes = 16;
    config->build_limits.max_output_bytes = 64 << 10;
    nn_yaml_node *build_limits = nn_yaml_get(p->document, root, "build_limits");
    if (build_limits != NULL)
        parse_limits(p, build_limits, &config->build_limits);

    nn_yaml_node *checks = nn_yaml_get(p->document, root, "checks");
    if (!nn_yaml_is_sequence(checks) || nn_yaml_sequence_size(checks) == 0) {
        problem(p, checks ? checks : root, "checks must be a non-empty list");
        return;
    }
    for (int i = 0; i < nn_yaml_sequence_size(checks); i++) {
        nn_yaml_node *item = nn_yaml_sequence_item(p->document, checks, i);
        if (config->check_count == DG_MAX_CHECKS) {
            problem(p, item, "more than %d checks", DG_MAX_CHECKS);
            break;
        }
        parse_check(p, &config->checks[config->check_count++], item, &defaults);
    }
}

/* Quiz points come from the key; the rest from the checks. */
double dg_quiz_total_points(const char *key_path);

static void check_totals(parser *p)
{
    dg_config *config = p->config;
    double sum = 0;
    for (int i = 0; i < config->check_count; i++) {
        dg_check_config *check = &config->checks[i];
        if (check->kind == DG_CHECK_QUIZ && check->key[0] != '\0' && check->points == 0)
            check->points = dg_quiz_total_points(check->key);
        sum += check->points;
    }
    /* A submitted model's files must not be a unit's file or quiz answers:
     * one file cannot be graded as two things. */
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        if (check->kind != DG_CHECK_MODEL)
            continue;
        const char *names[2] = { check->spec_file, check->weights_file };
        const char *keys[2] = { "spec", "weights" };
        nn_yaml_node *item = nn_yaml_sequence_item(
            p->document, nn_yaml_get(p->document, nn_yaml_root(p->document), "checks"), i);
        for (int n = 0; n < 2; n++) {
            nn_yaml_node *where = nn_yaml_get(p->document, item, keys[n]);
            where = where != NULL ? where : item;
            for (int u = 0; u < config->unit_count; u++)
                if (strcmp(names[n], config->units[u].file) == 0)
                    problem(p, where, "check %s: '%s' is also the file of unit %s", check->id,
                            names[n], config->units[u].name);
            for (int q = 0; q < config->check_count; q++)
                if (config->checks[q].kind == DG_CHECK_QUIZ
                    && strcmp(names[n], config->checks[q].answers) == 0)
                    problem(p, where, "check %s: '%s' is also the answers file of check %s",
                            check->id, names[n], config->checks[q].id);
        }
    }
    if (config->total_points > 0 && fabs(sum - config->total_points) > 1e-9)
        problem(p, nn_yaml_get(p->document, nn_yaml_root(p->document), "total_points"),
                "the checks' points add up to %g, but total_points is %g", sum,
                config->total_points);
    for (int u = 0; u < config->unit_count; u++) {
        bool graded = false;
        for (int i = 0; i < config->check_count; i++) {
            const dg_check_config *check = &config->checks[i];
            graded |= check->unit == u;
            for (int k = 0; k < check->unit_count; k++)
                graded |= check->units[k] == u;
        }
        if (!graded) {
            /* units[u] came from the u-th key of the units mapping */
            nn_yaml_node *units = nn_yaml_get(p->document, nn_yaml_root(p->document), "units");
            nn_yaml_node *key_node = NULL;
            if (nn_yaml_is_mapping(units) && u < nn_yaml_mapping_size(units))
                nn_yaml_mapping_key(p->document, units, u, &key_node);
            problem(p, key_node, "unit %s is never graded by a check", config->units[u].name);
        }
    }
}

nn_status dg_config_load(dg_config *config, const char *path, char **problems, nn_error *err)
{
    memset(config, 0, sizeof *config);
    if (problems != NULL)
        *problems = NULL;
    snprintf(config->path, sizeof config->path, "%s", path);
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(config->directory, sizeof config->directory, "%s", dirname(copy));

    parser p = { .config = config };
    nn_status status = nn_yaml_load(&p.document, path, err);
    if (status != NN_OK) {
        if (problems != NULL && err != NULL)
            *problems = strdup(err->message);
        return status;
    }
    parse_root(&p);
    if (p.problem_count == 0)
        check_totals(&p);
    nn_yaml_free(p.document);
    if (p.problem_count > 0) {
        if (err != NULL)
            *err = p.first;
        if (problems != NULL)
            *problems = p.problems;
        else
            free(p.problems);
        return NN_ERR_FORMAT;
    }
    free(p.problems);
    return NN_OK;
}

int dg_config_find_unit(const dg_config *config, const char *name)
{
    for (int u = 0; u < config->unit_count; u++)
        if (strcmp(config->units[u].name, name) == 0)
            return u;
    return -1;
}

int dg_config_find_check(const dg_config *config, const char *id)
{
    for (int i = 0; i < config->check_count; i++)
        if (strcmp(config->checks[i].id, id) == 0)
            return i;
    return -1;
}

const char *dg_check_kind_name(dg_check_kind kind)
{
    switch (kind) {
    case DG_CHECK_COMPARE: return "compare";
    case DG_CHECK_GRADCHECK: return "gradcheck";
    case DG_CHECK_TRAIN: return "train";
    case DG_CHECK_MEMCHECK: return "memcheck";
    case DG_CHECK_QUIZ: return "quiz";
    case DG_CHECK_MODEL: return "model";
    }
    return "unknown";
}
