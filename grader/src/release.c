/*
 * release.c - generating the student template of an assignment.
 */
#include "release.h"

#include "dlgrade.h"
#include "files.h"
#include "inspect.h"
#include "kernel_call.h"
#include "kernels.h"
#include "request.h"
#include "stub.h"
#include "submission.h"

#include "nn/yaml.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* The seed of the fixtures' inputs: fixed, so a release is reproducible;
 * the grader draws fresh inputs from its own per-run seed. */
#define RELEASE_SEED 20261127ull
/* "DGF3", read by local_check.c: the request, then per case the expected
 * values with what the judge needs to tell mistakes there as here
 * (dg_call_buffers_put_expected); gradient-check coordinates carry their
 * kink. A new magic for each layout, so that a checker never misreads a
 * fixture of another. */
#define FIXTURE_MAGIC 0x33464744u

typedef struct release {
    const dg_config *config;
    const char *root;        /* the repository */
    char out[1024];          /* the temporary folder being filled */
    nn_error *err;
} release;

/* ---- small file helpers ----------------------------------------------------------- */

/* Reference sources, model specs and quiz keys are small: 4 MiB bounds
 * them all. */
static char *read_file(const char *path, nn_error *err)
{
    return dg_read_file(path, 4u << 20, NULL, err);
}

static nn_status write_file(const char *path, const char *text, size_t size, nn_error *err)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    bool failed = fwrite(text, 1, size, file) != size;
    failed |= fclose(file) != 0;
    return failed ? nn_error_set(err, NN_ERR_IO, "%s: writing failed", path) : NN_OK;
}

static nn_status make_folders(const char *base, const char *relative, nn_error *err)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", base, relative);
    for (char *slash = path + strlen(base) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
        *slash = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return nn_error_set(err, NN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        *slash = '/';
    }
    return NN_OK;
}

/* Writes `relative` (with folders) in the output from text. */
static nn_status emit(release *r, const char *relative, const char *text)
{
    nn_status status = make_folders(r->out, relative, r->err);
    if (status != NN_OK)
        return status;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", r->out, relative);
    return write_file(path, text, strlen(text), r->err);
}

/* Copies source to relative, unless it is marked reference-only (the
 * convolution engine's header): such a file never ships (stub.h). */
static nn_status copy_as(release *r, const char *source, const char *relative)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", r->root, source);
    char *text = read_file(path, r->err);
    if (text == NULL)
        return r->err->status;
    nn_status status = dg_is_reference_only(text) ? NN_OK : emit(r, relative, text);
    free(text);
    return status;
}

/* A growing text, for generated files. */
typedef struct text {
    char *data;
    size_t size;
} text;

static void append(text *t, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void append(text *t, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (length < 0)
        return;
    char *grown = realloc(t->data, t->size + (size_t)length + 1);
    if (grown == NULL)
        return;
    t->data = grown;
    va_start(args, format);
    vsnprintf(t->data + t->size, (size_t)length + 1, format, args);
    va_end(args);
    t->size += (size_t)length;
}

/* ---- units and framework ---------------------------------------------------------- */

static bool is_graded(const dg_config *config, const char *file)
{
    for (int u = 0; u < config->unit_count; u++)
        if (strcmp(config->units[u].file, file) == 0)
            return true;
    return false;
}

static bool is_provided(const dg_config *config, const char *file)
{
    for (int p = 0; p < config->provided_count; p++) {
        size_t n = strlen(config->provided[p]);
        if (strncmp(config->provided[p], file, n) == 0 && strcmp(file + n, ".c") == 0)
            return true;
    }
    return false;
}

/* Ships one reference source: graded units as stubs at the top, other
 * units as stubs (or whole, if provided) in the framework, infrastructure
 * as it is. */
static nn_status ship_source(release *r, const char *folder, const char *file)
{
    char source[1024], path[2048], relative[1200];
    snprintf(source, sizeof source, "%s/%s", folder, file);
    snprintf(path, sizeof path, "%s/%s", r->root, source);
    char *content = read_file(path, r->err);
    if (content == NULL)
        return r->err->status;
    /* Files marked reference-only (the fast convolution engine the
     * reference units call) hold answers outside any solution region
     * (stub.h). */
    if (dg_is_reference_only(content)) {
        free(content);
        return NN_OK;
    }
    bool unit = dg_has_solution(content);
    bool top = unit && strcmp(folder, "reference/src") == 0 && is_graded(r->config, file);
    snprintf(relative, sizeof relative, "%s%s/%s", top ? "" : "framework/src",
             strcmp(folder, "reference/src/network") == 0 ? "/network" : "",
             file);
    if (top)
        snprintf(relative, sizeof relative, "%s", file);
    nn_status status;
    if (unit && !is_provided(r->config, file)) {
        char *stubbed;
        int regions;
        status = dg_stub_source(&stubbed, &regions, source, content, r->err);
        if (status == NN_OK) {
            status = emit(r, relative, stubbed);
            free(stubbed);
        }
    } else {
        status = emit(r, relative, content);
    }
    free(content);
    return status;
}

static nn_status ship_folder(release *r, const char *folder, const char *destination,
                             const char *suffix)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", r->root, folder);
    struct dirent **entries;
    int count = scandir(path, &entries, NULL, alphasort);
    if (count < 0)
        return nn_error_set(r->err, NN_ERR_IO, "%s: cannot list: %s", path, strerror(errno));
    nn_status status = NN_OK;
    for (int i = 0; i < count; i++) {
        const char *name = entries[i]->d_name;
        size_t length = strlen(name), suffix_length = strlen(suffix);
        if (status == NN_OK && length > suffix_length
            && strcmp(name + length - suffix_length, suffix) == 0) {
            if (destination == NULL) {
                status = ship_source(r, folder, name);
            } else {
                char source[1200], relative[1200];
                snprintf(source, sizeof source, "%s/%s", folder, name);
                snprintf(relative, sizeof relative, "%s/%s", destination, name);
                status = copy_as(r, source, relative);
            }
        }
        free(entries[i]);
    }
    free(entries);
    return status;
}

/* The grader's files the local checker and `make train` are made of. */
static const char *const checker_files[] = {
    "kernels.c", "kernels.h", "kernel_call.c", "kernel_call.h", "protocol.c", "protocol.h",
    "runner_serve.c", "runner_serve.h", "judge.c", "judge.h", "report.c", "report.h",
    "report_internal.h", "report_json.c", "report_junit.c", "report_markdown.c",
    "report_html.c", "inspect.c", "inspect.h", "model_eval.c", "model_eval.h", "files.c",
    "files.h", NULL
};
static const char *const train_files[] = { "train_command.c", "datasets.c", "exit_status.c",
                                           "dlgrade.h", NULL };

static nn_status ship_framework(release *r)
{
    nn_status status = ship_folder(r, "reference/include/nn", "framework/include/nn", ".h");
    if (status == NN_OK)
        status = ship_folder(r, "reference/src", NULL, ".c");
    if (status == NN_OK)
        status = ship_folder(r, "reference/src/network", NULL, ".c");
    for (int i = 0; status == NN_OK && checker_files[i] != NULL; i++) {
        char source[256], relative[256];
        snprintf(source, sizeof source, "grader/src/%s", checker_files[i]);
        snprintf(relative, sizeof relative, "framework/grader/%s", checker_files[i]);
        status = copy_as(r, source, relative);
    }
    for (int i = 0; status == NN_OK && train_files[i] != NULL; i++) {
        char source[256], relative[256];
        snprintf(source, sizeof source, "grader/src/%s", train_files[i]);
        snprintf(relative, sizeof relative, "framework/train/%s", train_files[i]);
        status = copy_as(r, source, relative);
    }
    if (status == NN_OK)
        status = copy_as(r, "grader/template/local_check.c", "framework/grader/local_check.c");
    if (status == NN_OK)
        status = copy_as(r, "grader/template/train_main.c", "framework/train/train_main.c");
    if (status == NN_OK)
        status = copy_as(r, "grader/template/ensure-deps", "framework/ensure-deps");
    return status;
}

/* ---- public checks and fixtures ----------------------------------------------------- */

static nn_status write_fixture(release *r, const char *relative, const dg_writer *content)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", r->out, relative);
    nn_status status = make_folders(r->out, relative, r->err);
    if (status != NN_OK)
        return status;
    /* gzip without a timestamp in its header: the same release, the same
     * bytes (mtime 0 is what gzopen writes through gzdopen/gzwrite). */
    gzFile file = gzopen(path, "wb9");
    if (file == NULL)
        return nn_error_set(r->err, NN_ERR_IO, "%s: cannot write", path);
    bool failed = content->size > 0
                  && gzwrite(file, content->data, (unsigned)content->size) != (int)content->size;
    failed |= gzclose(file) != Z_OK;
    return failed ? nn_error_set(r->err, NN_ERR_IO, "%s: writing failed", path) : NN_OK;
}

static nn_status fixture_for(release *r, const dg_check_config *check, const char *relative)
{
    dg_writer request, fixture;
    dg_writer_init(&request);
    dg_writer_init(&fixture);
    nn_status status;
    dg_put_u32(&fixture, FIXTURE_MAGIC);
    if (check->kind == DG_CHECK_COMPARE) {
        const dg_kernel *kernel = dg_kernel_find(check->function);
        dg_call_buffers *expected = calloc((size_t)kernel->case_count, sizeof *expected);
        if (expected == NULL)
            return nn_error_set(r->err, NN_ERR_MEMORY, "out of memory");
        status = dg_build_compare_request(&request, expected, check, RELEASE_SEED, r->err);
        if (status == NN_OK) {
            dg_put_u64(&fixture, request.size);
            dg_put_bytes(&fixture, request.data, request.size);
            for (int c = 0; c < kernel->case_count; c++)
                dg_call_buffers_put_expected(&fixture, &expected[c]);
        }
        for (int c = 0; c < kernel->case_count; c++)
            dg_call_buffers_release(&expected[c]);
        free(expected);
    } else {
        const dg_gradient_pair *pair = dg_gradient_pair_find(check->function);
        int cases = dg_kernel_find(pair->forward)->case_count;
        dg_coordinate **coordinates = calloc((size_t)cases, sizeof *coordinates);
        size_t *counts = calloc((size_t)cases, sizeof *counts);
        if (coordinates == NULL || counts == NULL) {
            free(coordinates);
            free(counts);
            return nn_error_set(r->err, NN_ERR_MEMORY, "out of memory");
        }
        status = dg_build_gradcheck_request(&request, coordinates, counts, check, RELEASE_SEED,
                                            r->err);
        if (status == NN_OK) {
            dg_put_u64(&fixture, request.size);
            dg_put_bytes(&fixture, request.data, request.size);
            /* With each coordinate's kink: the template has no reference
             * to find them with. */
            dg_put_coordinates(&fixture, (const dg_coordinate *const *)coordinates, counts,
                               cases);
        }
        for (int c = 0; c < cases; c++)
            free(coordinates[c]);
        free(coordinates);
        free(counts);
    }
    if (status == NN_OK && (fixture.failed || request.failed))
        status = nn_error_set(r->err, NN_ERR_MEMORY, "out of memory for a fixture");
    if (status == NN_OK)
        status = write_fixture(r, relative, &fixture);
    dg_writer_release(&request);
    dg_writer_release(&fixture);
    return status;
}

static const char *unit_file_of(const dg_config *config, const dg_check_config *check)
{
    if (check->unit >= 0)
        return config->units[check->unit].file;
    return "";
}

/* `make test` runs the public compare, gradcheck and train checks, and
 * the public model checks on Fashion-MNIST (the one dataset the local
 * checker loads). */
static bool runs_locally(const dg_check_config *check)
{
    return check->visibility == DG_VISIBLE_PUBLIC
           && (check->kind == DG_CHECK_COMPARE || check->kind == DG_CHECK_GRADCHECK
               || check->kind == DG_CHECK_TRAIN
               || (check->kind == DG_CHECK_MODEL && strcmp(check->data, "fashion-mnist") == 0));
}

/* The model check whose starter the template ships, or NULL. */
static const dg_check_config *starter_check(const dg_config *config)
{
    for (int i = 0; i < config->check_count; i++)
        if (config->checks[i].kind == DG_CHECK_MODEL && config->checks[i].starter[0] != '\0')
            return &config->checks[i];
    return NULL;
}

/* The names the reference's file of unit defines with external linkage,
 * from the float runner kit's libnnref.a (what the grader reads from its
 * kit), with the unit's listed functions. */
static nn_status unit_definitions(dg_names *defined, const dg_unit *unit, nn_error *err)
{
    char kits[1024], archive[1200], member[80];
    dg_kit_directory(kits, sizeof kits);
    snprintf(archive, sizeof archive, "%s/float/runner-kit/lib/libnnref.a", kits);
    snprintf(member, sizeof member, "%.*s.o", (int)strlen(unit->file) - 2, unit->file);
    if (access(archive, R_OK) != 0)
        return nn_error_set(err, NN_ERR_IO, "the runner kit's %s is missing (run make)",
                            archive);
    nn_status status = NN_OK;
    for (int f = 0; status == NN_OK && f < unit->function_count; f++)
        status = dg_names_add(defined, unit->functions[f], err);
    if (status == NN_OK)
        status = dg_inspect_archive_definitions(defined, archive, member, err);
    return status;
}

static nn_status ship_checks(release *r)
{
    const dg_config *config = r->config;
    text yaml = { 0 };
    append(&yaml, "# The public checks of %s, run by `make test` (framework/grader/"
                  "local_check.c).\n# Generated by dlgrade release: do not edit.\n"
                  "checks:\n", config->name);
    nn_status status = NN_OK;
    for (int i = 0; status == NN_OK && i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        if (!runs_locally(check))
            continue;
        append(&yaml, "  - id: %s\n    name: \"%s\"\n    kind: %s\n    points: %g\n"
                      "    cpu_seconds: %g\n", check->id, check->name,
               dg_check_kind_name(check->kind), check->points, check->limits.cpu_seconds);
        if (check->kind == DG_CHECK_TRAIN) {
            char model[256];
            snprintf(model, sizeof model, "checks/%s.model.yaml", check->id);
            char *spec = read_file(check->model, r->err);
            if (spec == NULL) {
                status = r->err->status;
                break;
            }
            status = emit(r, model, spec);
            free(spec);
            append(&yaml, "    model: %s\n    epochs: %d\n    train_samples: %d\n"
                          "    floor: %g\n    target: %g\n", model, check->epochs,
                   check->train_samples, check->floor, check->target);
            /* The files whose code the network runs: a refused one fails
             * the check, as in the grader. */
            append(&yaml, "    files: [");
            for (int u = 0; u < check->unit_count; u++)
                append(&yaml, "%s%s", u ? ", " : "", config->units[check->units[u]].file);
            append(&yaml, "]\n");
        } else if (check->kind == DG_CHECK_MODEL) {
            append(&yaml, "    spec: %s\n    weights: %s\n    data: %s\n    max_parameters: "
                          "%zu\n    max_flops: %.0f\n    floor: %g\n    target: %g\n",
                   check->spec_file, check->weights_file, check->data, check->max_parameters,
                   check->max_flops, check->floor, check->target);
        } else {
            char fixture[256];
            snprintf(fixture, sizeof fixture, "checks/%s.fixture.gz", check->id);
            append(&yaml, "    function: %s\n    file: %s\n    tolerance: %g\n"
                          "    fixture: %s\n", check->function, unit_file_of(config, check),
                   check->tolerance, fixture);
            status = fixture_for(r, check, fixture);
        }
    }
    /* The functions to write, so that `make test` can list those still
     * stubbed, hidden checks' functions included; and every function the
     * file defines (`defines:`, from the reference library, as the
     * grader reads it), which is what the inspection of the student's
     * object lets it define (inspect.h). */
    append(&yaml, "units:\n");
    for (int u = 0; status == NN_OK && u < config->unit_count; u++) {
        append(&yaml, "  - file: %s\n    functions: [", config->units[u].file);
        for (int f = 0; f < config->units[u].function_count; f++)
            append(&yaml, "%s%s", f ? ", " : "", config->units[u].functions[f]);
        dg_names defined = { 0 };
        status = unit_definitions(&defined, &config->units[u], r->err);
        append(&yaml, "]\n    defines: [");
        for (size_t d = 0; d < defined.count; d++)
            append(&yaml, "%s%s", d ? ", " : "", defined.names[d]);
        append(&yaml, "]\n");
        dg_names_release(&defined);
    }
    if (status == NN_OK && yaml.data == NULL)
        status = nn_error_set(r->err, NN_ERR_MEMORY, "out of memory for checks.yaml");
    if (status == NN_OK)
        status = emit(r, "checks/checks.yaml", yaml.data);
    free(yaml.data);
    return status;
}

/* ---- the quiz answers file ---------------------------------------------------------- */

static nn_status ship_answers(release *r)
{
    text out = { 0 };
    append(&out, "# Your quiz answers. Multiple choice: a list of the options you tick,\n"
                 "# [] for none (any number may be correct, none included; a question\n"
                 "# scores only when exactly the right ones are ticked). Numeric: a "
                 "number.\n");
    for (int i = 0; i < r->config->check_count; i++) {
        const dg_check_config *check = &r->config->checks[i];
        if (check->kind != DG_CHECK_QUIZ)
            continue;
        nn_yaml_document *key;
        if (nn_yaml_load(&key, check->key, r->err) != NN_OK) {
            free(out.data);
            return r->err->status;
        }
        nn_yaml_node *questions = nn_yaml_get(key, nn_yaml_root(key), "questions");
        for (int q = 0; nn_yaml_is_sequence(questions) && q < nn_yaml_sequence_size(questions);
             q++) {
            nn_yaml_node *item = nn_yaml_sequence_item(key, questions, q);
            const char *id = nn_yaml_scalar(nn_yaml_get(key, item, "id"));
            const char *question = nn_yaml_scalar(nn_yaml_get(key, item, "text"));
            const char *kind = nn_yaml_scalar(nn_yaml_get(key, item, "kind"));
            const char *points = nn_yaml_scalar(nn_yaml_get(key, item, "points"));
            append(&out, "\n# %s (%s points) %s", id ? id : "?", points ? points : "?",
                   question ? question : "");
            if (question == NULL || question[strlen(question) - 1] != '\n')
                append(&out, "\n");
            nn_yaml_node *options = nn_yaml_get(key, item, "options");
            for (int o = 0; nn_yaml_is_mapping(options) && o < nn_yaml_mapping_size(options);
                 o++)
                append(&out, "#   %s: %s\n", nn_yaml_mapping_key(key, options, o, NULL),
                       nn_yaml_scalar(nn_yaml_mapping_value(key, options, o)));
            append(&out, "\"%s\": %s\n", id ? id : "?",
                   kind != NULL && strcmp(kind, "numeric") == 0 ? "null" : "[]");
        }
        nn_yaml_free(key);
    }
    nn_status status = emit(r, "answers.yaml", out.data ? out.data : "");
    free(out.data);
    return status;
}

/* ---- the handout ----------------------------------------------------------------------- */

/* The comment block and declaration of function in the library's headers. */
static void describe_function(release *r, text *out, const char *function)
{
    static const char *const headers[] = { "layers.h", "loss.h", "optim.h", "conv.h", "pool.h",
                                           "metrics.h", NULL };
    for (int h = 0; headers[h] != NULL; h++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/reference/include/nn/%s", r->root, headers[h]);
        nn_error ignored;
        char *content = read_file(path, &ignored);
        if (content == NULL)
            continue;
        char needle[96];
        snprintf(needle, sizeof needle, " %s(", function);
        char *at = strstr(content, needle);
        if (at != NULL) {
            char *line = at;
            while (line > content && line[-1] != '\n')
                line--;
            /* Back over the comment lines right above the declaration. */
            char *start = line;
            while (start > content) {
                char *previous = start - 1;
                while (previous > content && previous[-1] != '\n')
                    previous--;
                size_t indent = strspn(previous, " ");
                if (previous[indent] == '/' || previous[indent] == '*')
                    start = previous;
                else
                    break;
            }
            char *end = strchr(at, ';');
            append(out, "```c\n%.*s\n```\n\n", end ? (int)(end - start + 1) : 0, start);
            free(content);
            return;
        }
        free(content);
    }
    append(out, "`%s` (see `framework/include/nn/`).\n\n", function);
}

/* What the inspection of a compiled unit refuses (inspect.h), in the
 * handout's words; the allowed calls come from inspect.c's own table. */
static void append_rules(text *out)
{
    append(out, "## Rules for your files\n\n"
                "Before your code is linked, the grader looks at what each of your compiled "
                "files defines and calls, and refuses a file that breaks these rules: its "
                "checks score 0, with the reason. `make test` inspects your files the same "
                "way, with the same messages.\n\n"
                "- **Define only the file's own functions**: those above and the others the "
                "file came with. Helpers and global variables must be `static`, or the file "
                "is refused (`` linear.c: helper `scale_rows` has external linkage: declare "
                "it static ``). No `main`, no C library names (`memcpy`, `fabs`, ...), no "
                "functions of other files, no `__attribute__((weak))`.\n"
                "- **Nothing runs by itself**: no constructors or destructors "
                "(`__attribute__((constructor))`, `.init_array` and similar sections), no "
                "ifuncs.\n"
                "- **Call only the library and what a layer needs of C**: the functions "
                "declared in `framework/include/nn/` (other files' functions included) and "
                "these parts of the C library:\n");
    for (const char *const *group = dg_inspect_allowed_summary(); *group != NULL; group++)
        append(out, "  - %s\n", *group);
    append(out, "\n  Anything else (processes, files, sockets, signals, sleeping, the clock, "
                "`exit`) is refused: `linear.c calls fork, which is not available to a "
                "layer`.\n\n");
}

static nn_status ship_readme(release *r)
{
    const dg_config *config = r->config;
    text out = { 0 };
    append(&out, "# %s\n\n", config->title[0] ? config->title : config->name);
    append(&out, "You implement the functions below in C, in the files of this folder. "
                 "Everything else (tensors, data loading, the network container, the "
                 "training loop, the checks) is in `framework/`, ready to use.\n\n");
    append(&out, "## Quick start\n\n"
                 "    make          # build (installs Debian packages as root, or says which)\n"
                 "    make test     # run the public checks: what passes, what is missing\n"
                 "    make train    # train the assignment's network with your units\n"
                 "                  # (make train EPOCHS=1 LIMIT=5000: a quick run)\n"
                 "    make submit   # pack submission.tar.gz with exactly the graded files\n\n"
                 "A fresh copy scores 0: every function returns `NN_ERR_NOT_IMPLEMENTED` "
                 "until you write it, and `make test` says so per check.\n\n");
    append(&out, "## What to write\n\n"
                 "Conventions: arrays are row-major, their shapes are in the comments "
                 "(N batch, C channels, S = H*W positions); a backward pass **adds** its "
                 "gradients into the buffers it is given (the caller zeroes them); return "
                 "`NN_OK` when done. `framework/include/nn/` has every declaration.\n\n");
    for (int u = 0; u < config->unit_count; u++) {
        append(&out, "### `%s`\n\n", config->units[u].file);
        for (int f = 0; f < config->units[u].function_count; f++)
            describe_function(r, &out, config->units[u].functions[f]);
    }
    append_rules(&out);
    double public_points = 0, other_points = 0, quiz_points = 0;
    append(&out, "## How points are earned\n\n| check | kind | points |\n|---|---|---|\n");
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *check = &config->checks[i];
        if (check->kind == DG_CHECK_QUIZ) {
            quiz_points += check->points;
        } else if (check->visibility == DG_VISIBLE_PUBLIC) {
            append(&out, "| %s | %s | %g |\n", check->name, dg_check_kind_name(check->kind),
                   check->points);
            public_points += check->points;
        } else {
            other_points += check->points;
        }
    }
    append(&out, "\nThe public checks above (%g points) run with `make test` and in CI. ",
           public_points);
    if (quiz_points > 0)
        append(&out, "The quiz in `answers.yaml` is worth %g points. ", quiz_points);
    if (other_points > 0)
        append(&out, "Further checks worth %g points run only at grading: fresh random "
                     "inputs, other sizes, memory errors under Valgrind, and the real test "
                     "set instead of the validation split.", other_points);
    append(&out, "\n\nKinds: *compare* runs your function on seeded inputs and compares every "
                 "output with the reference (|got - expected| <= tolerance x max(1, "
                 "|expected|)); *gradcheck* compares your backward with central differences "
                 "of your own forward, skipping (and counting) the coordinates where the "
                 "step crosses a kink, such as ReLU's 0 or a tie in max pooling; *train* "
                 "trains the network with your units and scores the accuracy between a floor (0 points) and a target (full points)");
    const dg_check_config *model = NULL;
    for (int i = 0; i < config->check_count && model == NULL; i++)
        if (config->checks[i].kind == DG_CHECK_MODEL)
            model = &config->checks[i];
    if (model != NULL)
        append(&out, "; *model* evaluates the model you trained and handed in, the same way");
    append(&out, ".\n\n");
    if (model != NULL) {
        append(&out, "## Your trained model\n\n");
        if (model->starter[0] != '\0')
            append(&out, "`make train` trains `%s` with your units (the network is in that "
                         "file: you may change it) and writes the trained weights to `%s`. ",
                   model->spec_file, model->weights_file);
        else
            append(&out, "Train a model of your own and hand in its spec, `%s`, and its "
                         "weights, `%s` (`./build/train %s --data %s --save %s`). ",
                   model->spec_file, model->weights_file, model->spec_file, model->data,
                   model->weights_file);
        append(&out, "Hand in both: the grader loads them itself, with the reference layers, "
                     "and scores the accuracy on the %s test set between %g (0 points) and %g "
                     "(all %g points). It refuses, before grading anything, a model of more "
                     "than %zu parameters or %.0f FLOPs per image, or files it cannot read "
                     "whole (the message names the file and the line or byte). Without "
                     "them, the check scores 0.\n\n",
               model->data, model->floor, model->target, model->points, model->max_parameters,
               model->max_flops);
    }
    append(&out, "## Submitting\n\n`make submit` packs the graded files (");
    for (int u = 0; u < config->unit_count; u++)
        append(&out, "%s`%s`", u ? ", " : "", config->units[u].file);
    append(&out, "%s`answers.yaml`", config->unit_count > 0 ? ", " : "");
    if (model != NULL)
        append(&out, ", and `%s` and `%s` when they exist", model->spec_file,
               model->weights_file);
    append(&out, ") into `submission.tar.gz`. Only those files are graded; "
                 "functions must keep their names and signatures.\n\n"
                 "## Continuous integration\n\n`.github/workflows/checks.yml` and "
                 "`.gitlab-ci.yml` run `ci/run-checks` on every push: the public checks, "
                 "with `junit.xml` for the test report and annotations on your files.\n");
    nn_status status = emit(r, "README.md", out.data);
    free(out.data);
    return status;
}

/* ---- build and CI files ---------------------------------------------------------------- */

static nn_status ship_templates(release *r)
{
    const dg_config *config = r->config;
    char path[1200];
    snprintf(path, sizeof path, "%s/grader/template/Makefile.template", r->root);
    char *makefile = read_file(path, r->err);
    if (makefile == NULL)
        return r->err->status;
    text units = { 0 }, model = { 0 }, weights = { 0 };
    const char *data = "fashion-mnist";
    for (int u = 0; u < config->unit_count; u++)
        append(&units, "%s%s", u ? " " : "", config->units[u].file);
    /* `make train` trains the starter of a model check (the student's own
     * copy, at the top) and saves its weights to hand in; without one,
     * the model of the public train check. */
    const dg_check_config *submitted = starter_check(config);
    if (submitted != NULL) {
        append(&model, "%s", submitted->spec_file);
        append(&weights, "%s", submitted->weights_file);
        data = submitted->data;
    }
    for (int i = 0; i < config->check_count && model.data == NULL; i++)
        if (config->checks[i].kind == DG_CHECK_TRAIN
            && config->checks[i].visibility == DG_VISIBLE_PUBLIC) {
            append(&model, "checks/%s.model.yaml", config->checks[i].id);
            if (config->checks[i].data[0] != '\0')
                data = config->checks[i].data;
        }
    text filled = { 0 };
    for (char *c = makefile; *c;) {
        if (strncmp(c, "@UNITS@", 7) == 0) {
            append(&filled, "%s", units.data);
            c += 7;
        } else if (strncmp(c, "@MODEL@", 7) == 0) {
            append(&filled, "%s", model.data ? model.data : "");
            c += 7;
        } else if (strncmp(c, "@WEIGHTS@", 9) == 0) {
            append(&filled, "%s", weights.data ? weights.data : "");
            c += 9;
        } else if (strncmp(c, "@DATA@", 6) == 0) {
            append(&filled, "%s", data);
            c += 6;
        } else if (strncmp(c, "@ASSIGNMENT@", 12) == 0) {
            append(&filled, "%s", config->name);
            c += 12;
        } else {
            append(&filled, "%c", *c++);
        }
    }
    nn_status status = emit(r, "Makefile", filled.data);
    free(makefile);
    free(units.data);
    free(model.data);
    free(weights.data);
    free(filled.data);
    if (status == NN_OK && submitted != NULL) {
        char *spec = read_file(submitted->starter, r->err);
        if (spec == NULL)
            return r->err->status;
        status = emit(r, submitted->spec_file, spec);
        free(spec);
    }
    if (status == NN_OK)
        status = copy_as(r, "grader/template/checks.yml", ".github/workflows/checks.yml");
    if (status == NN_OK)
        status = copy_as(r, "grader/template/gitlab-ci.yml", ".gitlab-ci.yml");
    if (status == NN_OK)
        status = copy_as(r, "grader/template/run-checks", "ci/run-checks");
    if (status == NN_OK)
        status = copy_as(r, "grader/template/gitignore", ".gitignore");
    for (const char *const *script = (const char *const[]){ "ci/run-checks",
                                                           "framework/ensure-deps", NULL };
         status == NN_OK && *script != NULL; script++) {
        char executable[2048];
        snprintf(executable, sizeof executable, "%s/%s", r->out, *script);
        chmod(executable, 0755);
    }
    return status;
}

nn_status dg_release(const dg_config *config, const char *source_root, const char *directory,
                     nn_error *err)
{
    release r = { .config = config, .root = source_root, .err = err };
    snprintf(r.out, sizeof r.out, "%s.tmp-XXXXXX", directory);
    if (mkdtemp(r.out) == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot create: %s", r.out, strerror(errno));
    chmod(r.out, 0755);
    for (int u = 0; u < config->unit_count; u++) {
        char source[1200];
        snprintf(source, sizeof source, "%s/reference/src/%s", source_root, config->units[u].file);
        if (access(source, R_OK) != 0) {
            nn_error_set(err, NN_ERR_ARGUMENT, "unit %s: the reference has no %s",
                         config->units[u].name, source);
            goto out_remove;
        }
    }
    if (ship_framework(&r) != NN_OK || ship_checks(&r) != NN_OK || ship_answers(&r) != NN_OK
        || ship_readme(&r) != NN_OK || ship_templates(&r) != NN_OK)
        goto out_remove;
    /* Replace an older release as a whole: aside, in, then away. */
    char old[1100];
    snprintf(old, sizeof old, "%s.old-%ld", directory, (long)getpid());
    bool had_old = rename(directory, old) == 0;
    if (rename(r.out, directory) != 0) {
        nn_error_set(err, NN_ERR_IO, "%s: cannot move the new release into place: %s",
                     directory, strerror(errno));
        if (had_old)
            rename(old, directory);
        goto out_remove;
    }
    if (had_old)
        dg_remove_tree(old, err);
    return NN_OK;

out_remove:;
    nn_error ignored;
    dg_remove_tree(r.out, &ignored);
    return err->status != NN_OK ? err->status : NN_ERR_IO;
}
