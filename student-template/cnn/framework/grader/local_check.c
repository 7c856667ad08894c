/*
 * local_check.c - `make test` in the student template: the public checks of
 * the assignment, run on the student's own units (linked into this
 * program) and judged by the grader's own judge (judge.c), so that a
 * student reads here the messages and points the grader will give.
 *
 * What differs from the grader, and why:
 *   - no sandbox: this is the student's own machine and code; each check
 *     still runs in a child process, so a crash or an endless loop costs
 *     only that check;
 *   - no reference: compare checks read the reference's answers from the
 *     fixtures the release step wrote (checks/<id>.fixture.gz), and
 *     gradient checks read there which coordinates sit at a kink of the
 *     forward (skipped and counted, as the grader does);
 *   - the public accuracy check trains and measures on a validation split
 *     of the training set; the grader uses the real test set;
 *   - a trained model (the model kind) is evaluated on the test set, as
 *     the grader does, by the grader's own loader (model_eval.c), but with
 *     your units in the layers, where the grader runs the reference's.
 *
 * Before any check runs, each unit's object (build/double/<unit>.o, where
 * the Makefile compiles it for the checks) is inspected as the grader
 * inspects it (inspect.c, shipped whole): a unit that defines or calls
 * what a layer may not is refused, and its checks fail with the grader's
 * words, without running.
 *
 * After the checks it lists the functions whose body still returns
 * NN_ERR_NOT_IMPLEMENTED (checks.yaml's `units:`), hidden checks' functions
 * included, so a first `make test` says what there is to write.
 *
 * Usage: check [--format text|github] [--junit FILE] [--summary FILE] [ID...]
 * Exit status: 0 every check run passed, 1 some failed, 2 bad usage or
 * missing files.
 */
#include "inspect.h"
#include "judge.h"
#include "kernel_call.h"
#include "kernels.h"
#include "model_eval.h"
#include "protocol.h"
#include "report.h"
#include "runner_serve.h"

#include "nn/fashion_mnist.h"
#include "nn/gemm.h"
#include "nn/network.h"
#include "nn/train.h"
#include "nn/yaml.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define CHECKS_FILE "checks/checks.yaml"
#define FIXTURE_MAGIC 0x33464744u  /* "DGF3" (release.c) */
/* Where the Makefile compiles the units for build/check, and the
 * library's headers (the API a unit may call). */
#define UNIT_OBJECTS "build/double"
#define API_HEADERS "framework/include/nn"
#define MAX_TRAIN_FILES 16

typedef struct local_check {
    char id[64], name[160], kind[16], function[64], unit_file[64], fixture[160];
    char model[256];
    double points, tolerance, seconds_limit, floor, target;
    int epochs, train_samples;
    int file_count;                        /* train: the units the network runs */
    char files[MAX_TRAIN_FILES][64];
    /* model: the trained model's files here, and the grader's bounds */
    char spec[64], weights[64];
    double max_parameters, max_flops;
} local_check;

/* A unit's inspection: refused units fail their checks unrun. */
typedef struct unit_verdict {
    char file[64];
    dg_inspection inspection;
} unit_verdict;

/* A function students write, from checks.yaml's `units:`. */
typedef struct unit_function {
    char file[64], function[64];
} unit_function;

typedef struct options {
    bool github;
    const char *junit, *summary;
    char **only;
    int only_count;
} options;

/* ---- reading checks/checks.yaml -------------------------------------------- */

static const char *text_of(nn_yaml_document *document, nn_yaml_node *map, const char *key)
{
    const char *text = nn_yaml_scalar(nn_yaml_get(document, map, key));
    return text != NULL ? text : "";
}

static double number_of(nn_yaml_document *document, nn_yaml_node *map, const char *key,
                        double fallback)
{
    const char *text = nn_yaml_scalar(nn_yaml_get(document, map, key));
    return text != NULL ? strtod(text, NULL) : fallback;
}

static int load_checks(local_check **out, nn_error *err)
{
    nn_yaml_document *document;
    if (nn_yaml_load(&document, CHECKS_FILE, err) != NN_OK)
        return -1;
    nn_yaml_node *list = nn_yaml_get(document, nn_yaml_root(document), "checks");
    int count = nn_yaml_is_sequence(list) ? nn_yaml_sequence_size(list) : 0;
    local_check *checks = calloc(count ? (size_t)count : 1, sizeof *checks);
    for (int i = 0; checks != NULL && i < count; i++) {
        nn_yaml_node *item = nn_yaml_sequence_item(document, list, i);
        local_check *c = &checks[i];
        snprintf(c->id, sizeof c->id, "%s", text_of(document, item, "id"));
        snprintf(c->name, sizeof c->name, "%s", text_of(document, item, "name"));
        snprintf(c->kind, sizeof c->kind, "%s", text_of(document, item, "kind"));
        snprintf(c->function, sizeof c->function, "%s", text_of(document, item, "function"));
        snprintf(c->unit_file, sizeof c->unit_file, "%s", text_of(document, item, "file"));
        snprintf(c->fixture, sizeof c->fixture, "%s", text_of(document, item, "fixture"));
        snprintf(c->model, sizeof c->model, "%s", text_of(document, item, "model"));
        c->points = number_of(document, item, "points", 0);
        c->tolerance = number_of(document, item, "tolerance", 1e-6);
        c->seconds_limit = number_of(document, item, "cpu_seconds", 10);
        c->floor = number_of(document, item, "floor", 0);
        c->target = number_of(document, item, "target", 1);
        c->epochs = (int)number_of(document, item, "epochs", 1);
        c->train_samples = (int)number_of(document, item, "train_samples", 0);
        nn_yaml_node *files = nn_yaml_get(document, item, "files");
        for (int f = 0; nn_yaml_is_sequence(files) && f < nn_yaml_sequence_size(files)
                        && c->file_count < MAX_TRAIN_FILES;
             f++) {
            const char *file = nn_yaml_scalar(nn_yaml_sequence_item(document, files, f));
            snprintf(c->files[c->file_count++], sizeof c->files[0], "%s", file ? file : "");
        }
        snprintf(c->spec, sizeof c->spec, "%s", text_of(document, item, "spec"));
        snprintf(c->weights, sizeof c->weights, "%s", text_of(document, item, "weights"));
        c->max_parameters = number_of(document, item, "max_parameters", 1e6);
        c->max_flops = number_of(document, item, "max_flops", 1e7);
    }
    nn_yaml_free(document);
    *out = checks;
    return checks ? count : -1;
}

/* The functions of checks.yaml's `units:` list; -1 when the file is
 * unreadable (load_checks reports that). */
static int load_unit_functions(unit_function **out)
{
    nn_error err = { 0 };
    nn_yaml_document *document;
    *out = NULL;
    if (nn_yaml_load(&document, CHECKS_FILE, &err) != NN_OK)
        return -1;
    nn_yaml_node *units = nn_yaml_get(document, nn_yaml_root(document), "units");
    int total = 0;
    for (int u = 0; nn_yaml_is_sequence(units) && u < nn_yaml_sequence_size(units); u++) {
        nn_yaml_node *functions = nn_yaml_get(document, nn_yaml_sequence_item(document, units, u),
                                              "functions");
        total += nn_yaml_is_sequence(functions) ? nn_yaml_sequence_size(functions) : 0;
    }
    unit_function *list = calloc(total ? (size_t)total : 1, sizeof *list);
    int count = 0;
    for (int u = 0; list != NULL && nn_yaml_is_sequence(units) && u < nn_yaml_sequence_size(units);
         u++) {
        nn_yaml_node *unit = nn_yaml_sequence_item(document, units, u);
        nn_yaml_node *functions = nn_yaml_get(document, unit, "functions");
        for (int f = 0; nn_yaml_is_sequence(functions) && f < nn_yaml_sequence_size(functions);
             f++) {
            const char *name = nn_yaml_scalar(nn_yaml_sequence_item(document, functions, f));
            snprintf(list[count].file, sizeof list[count].file, "%s",
                     text_of(document, unit, "file"));
            snprintf(list[count].function, sizeof list[count].function, "%s", name ? name : "");
            count++;
        }
    }
    nn_yaml_free(document);
    *out = list;
    return list != NULL ? count : -1;
}

/* ---- inspecting the units' objects ---------------------------------------------- */

/* Adds the names of a sequence of checks.yaml to set. */
static nn_status add_names(dg_names *set, nn_yaml_document *document, nn_yaml_node *list,
                           nn_error *err)
{
    nn_status status = NN_OK;
    int count = nn_yaml_is_sequence(list) ? nn_yaml_sequence_size(list) : 0;
    for (int i = 0; status == NN_OK && i < count; i++) {
        const char *name = nn_yaml_scalar(nn_yaml_sequence_item(document, list, i));
        if (name != NULL)
            status = dg_names_add(set, name, err);
    }
    return status;
}

/* Inspects every unit of checks.yaml's `units:` as the grader does; the
 * count of units, or -1 with err set when the inspection itself failed. */
static int inspect_units(unit_verdict **out, nn_error *err)
{
    *out = NULL;
    nn_yaml_document *document;
    if (nn_yaml_load(&document, CHECKS_FILE, err) != NN_OK)
        return -1;
    dg_names api = { 0 };
    nn_status status = dg_inspect_load_api(&api, API_HEADERS, err);
    nn_yaml_node *units = nn_yaml_get(document, nn_yaml_root(document), "units");
    int count = nn_yaml_is_sequence(units) ? nn_yaml_sequence_size(units) : 0;
    unit_verdict *verdicts = calloc(count ? (size_t)count : 1, sizeof *verdicts);
    if (verdicts == NULL && status == NN_OK)
        status = nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    for (int u = 0; status == NN_OK && u < count; u++) {
        nn_yaml_node *unit = nn_yaml_sequence_item(document, units, u);
        const char *file = text_of(document, unit, "file");
        snprintf(verdicts[u].file, sizeof verdicts[u].file, "%s", file);
        dg_inspect_rules rules = { .file = verdicts[u].file, .api = api };
        status = add_names(&rules.own, document, nn_yaml_get(document, unit, "functions"), err);
        if (status == NN_OK)
            status = add_names(&rules.own, document, nn_yaml_get(document, unit, "defines"), err);
        dg_names_sort(&rules.own);
        char object[256];
        snprintf(object, sizeof object, "%s/%.*s.o", UNIT_OBJECTS,
                 (int)strlen(verdicts[u].file) - 2, verdicts[u].file);
        if (status == NN_OK)
            status = dg_inspect_object(&verdicts[u].inspection, object, &rules, err);
        dg_names_release(&rules.own);
    }
    dg_names_release(&api);
    nn_yaml_free(document);
    if (status != NN_OK) {
        for (int u = 0; verdicts != NULL && u < count; u++)
            dg_inspection_release(&verdicts[u].inspection);
        free(verdicts);
        return -1;
    }
    *out = verdicts;
    return count;
}

/* The inspection that refuses check c (its unit's, or for training the
 * first refused unit of the network), or NULL. */
static const dg_inspection *refusal_of(const local_check *c, const unit_verdict *verdicts,
                                       int count)
{
    for (int u = 0; u < count; u++) {
        bool involved = strcmp(verdicts[u].file, c->unit_file) == 0;
        for (int f = 0; f < c->file_count; f++)
            involved |= strcmp(verdicts[u].file, c->files[f]) == 0;
        if (involved && verdicts[u].inspection.refused)
            return &verdicts[u].inspection;
    }
    return NULL;
}

/* A refused unit's check: the grader's first sentence, then every problem. */
static void refuse_check(dg_check_result *check, const dg_inspection *refusal)
{
    check->outcome = DG_OUTCOME_BUILD_ERROR;
    if (refusal->problem_count == 1) {
        dg_check_printf(check, "%s\n", refusal->first);
    } else {
        dg_check_printf(check, "%s (and %d more problem%s: see below)\n", refusal->first,
                        refusal->problem_count - 1, refusal->problem_count > 2 ? "s" : "");
        const char *rest = strchr(refusal->details, '\n');
        dg_check_printf(check, "%s", rest != NULL ? rest + 1 : "");
    }
    dg_check_printf(check, "the grader refuses this file before linking it, as here: see "
                           "\"Rules for your files\" in README.md\n");
}

/* ---- fixtures ---------------------------------------------------------------- */

static unsigned char *read_gzip(const char *path, size_t *size, nn_error *err)
{
    gzFile file = gzopen(path, "rb");
    if (file == NULL) {
        nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 1 << 16, used = 0;
    unsigned char *data = malloc(capacity);
    int got;
    while (data != NULL && (got = gzread(file, data + used, (unsigned)(capacity - used))) > 0) {
        used += (size_t)got;
        if (used == capacity) {
            unsigned char *bigger = realloc(data, capacity * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    int code = Z_OK;
    const char *message = gzerror(file, &code);
    if (data != NULL && code != Z_OK && code != Z_STREAM_END) {
        nn_error_set(err, NN_ERR_FORMAT, "%s: damaged: %s", path, message);
        free(data);
        data = NULL;
    }
    gzclose(file);
    *size = used;
    return data;
}

/* ---- running one request in a child ------------------------------------------ */

typedef struct child_answer {
    unsigned char *data;
    size_t size;
    int status;        /* from waitpid */
    bool timed_out;
} child_answer;

/* Runs work(context, writer) in a child process and collects what it wrote,
 * killing it after seconds. */
static void run_child(child_answer *answer, int (*work)(void *, dg_writer *), void *context,
                      double seconds)
{
    *answer = (child_answer){ 0 };
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        answer->status = -1;
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        dg_writer writer;
        dg_writer_init(&writer);
        int code = work(context, &writer);
        size_t sent = 0;
        while (sent < writer.size) {
            ssize_t n = write(pipe_fds[1], writer.data + sent, writer.size - sent);
            if (n <= 0)
                _exit(3);
            sent += (size_t)n;
        }
        _exit(code);
    }
    close(pipe_fds[1]);
    if (pid < 0) {
        close(pipe_fds[0]);
        answer->status = -1;
        return;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t capacity = 1 << 16;
    answer->data = malloc(capacity);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = seconds - ((double)(now.tv_sec - start.tv_sec)
                                 + 1e-9 * (double)(now.tv_nsec - start.tv_nsec));
        if (left <= 0) {
            answer->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd poll_fd = { .fd = pipe_fds[0], .events = POLLIN };
        if (poll(&poll_fd, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        if (answer->size == capacity) {
            unsigned char *bigger = realloc(answer->data, capacity * 2);
            if (bigger == NULL)
                break;
            answer->data = bigger;
            capacity *= 2;
        }
        ssize_t n = read(pipe_fds[0], answer->data + answer->size, capacity - answer->size);
        if (n <= 0)
            break;
        answer->size += (size_t)n;
    }
    close(pipe_fds[0]);
    waitpid(pid, &answer->status, 0);
}

/* Sets the outcome of a child that did not answer; false if it did. */
static bool child_failed(dg_check_result *check, const child_answer *answer)
{
    if (answer->timed_out) {
        check->outcome = DG_OUTCOME_TIMEOUT;
        dg_check_printf(check, "ran out of time; look for an endless loop\n");
        return true;
    }
    if (answer->status == -1) {
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "could not start the check (fork or pipe failed)\n");
        return true;
    }
    if (WIFSIGNALED(answer->status)) {
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "crashed: %s (signal %d)\n", strsignal(WTERMSIG(answer->status)),
                        WTERMSIG(answer->status));
        return true;
    }
    if (WEXITSTATUS(answer->status) != 0) {
        check->outcome = DG_OUTCOME_CRASHED;
        dg_check_printf(check, "exited with status %d before answering\n",
                        WEXITSTATUS(answer->status));
        return true;
    }
    return false;
}

typedef struct serve_context {
    const unsigned char *request;
    size_t size;
} serve_context;

static int serve(void *context, dg_writer *writer)
{
    serve_context *s = context;
    return dg_runner_serve(s->request, s->size, writer);
}

/* ---- the check kinds -------------------------------------------------------------- */

static void run_fixture_check(dg_check_result *check, const local_check *c)
{
    nn_error err = { 0 };
    size_t size;
    unsigned char *fixture = read_gzip(c->fixture, &size, &err);
    if (fixture == NULL) {
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "%s\n", err.message);
        return;
    }
    dg_reader reader;
    dg_reader_init(&reader, fixture, size);
    bool valid = dg_get_u32(&reader) == FIXTURE_MAGIC;
    uint64_t request_size = dg_get_u64(&reader);
    const unsigned char *request = fixture + reader.offset;
    valid = valid && !reader.failed && request_size <= size - reader.offset;
    if (valid)
        reader.offset += request_size;
    child_answer answer;
    if (valid) {
        serve_context context = { request, request_size };
        run_child(&answer, serve, &context, c->seconds_limit);
    }
    if (!valid) {
        check->outcome = DG_OUTCOME_GRADER_ERROR;
        dg_check_printf(check, "%s is not a fixture of this template\n", c->fixture);
    } else if (!child_failed(check, &answer)) {
        const dg_kernel *kernel = dg_kernel_find(c->function);
        if (strcmp(c->kind, "compare") == 0 && kernel != NULL) {
            /* The reference's answers, and what the judge needs to tell
             * a mistake by its numbers as the grader does. */
            dg_call_buffers *expected = calloc((size_t)kernel->case_count, sizeof *expected);
            nn_status status = expected != NULL ? NN_OK : NN_ERR_MEMORY;
            for (int k = 0; status == NN_OK && k < kernel->case_count && !reader.failed; k++) {
                status = dg_call_buffers_new(&expected[k], kernel, &kernel->cases[k],
                                             DG_JUDGE_MAX_ELEMENTS, &err);
                if (status == NN_OK)
                    status = dg_call_buffers_get_expected(&reader, &expected[k],
                                                          &kernel->cases[k], &err);
            }
            if (status != NN_OK) {
                check->outcome = DG_OUTCOME_GRADER_ERROR;
                dg_check_printf(check, "%s: %s\n", c->fixture, err.message);
            } else if (!reader.failed)
                dg_judge_compare(check, kernel, expected, answer.data, answer.size, c->tolerance,
                                 &err);
            for (int k = 0; expected != NULL && k < kernel->case_count; k++)
                dg_call_buffers_release(&expected[k]);
            free(expected);
        } else if (strcmp(c->kind, "gradcheck") == 0) {
            const dg_gradient_pair *pair = dg_gradient_pair_find(c->function);
            dg_coordinate **coordinates;
            size_t *counts;
            int cases;
            if (pair != NULL && dg_get_coordinates(&reader, pair, &coordinates, &counts, &cases)) {
                dg_judge_gradcheck(check, pair, cases, (const dg_coordinate *const *)coordinates,
                                   counts, answer.data, answer.size, c->tolerance);
                dg_coordinates_free(coordinates, counts, cases);
            }
        }
        if (reader.failed) {
            check->outcome = DG_OUTCOME_GRADER_ERROR;
            dg_check_printf(check, "%s is damaged (%s)\n", c->fixture, reader.problem);
        }
    }
    if (valid)
        free(answer.data);
    free(fixture);
}

/* Trains the assignment's model with the student's units on the training
 * set minus its last 10000 images, and measures on those. */
static int train_on_validation_split(void *context, dg_writer *writer)
{
    const local_check *c = context;
    nn_error err = { 0 };
    nn_dataset *full = NULL, *train = NULL, *validation = NULL;
    nn_model_spec *spec = NULL;
    nn_network *network = NULL;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_rng init_rng = nn_rng_split(&rng, 0);
    double accuracy = -1;
    nn_status status = nn_fashion_mnist_load(&full, NULL, NULL, &err);
    size_t held_out = 10000;
    if (status == NN_OK) {
        size_t available = full->count - held_out;
        size_t used = c->train_samples > 0 && (size_t)c->train_samples < available
                          ? (size_t)c->train_samples : available;
        status = nn_dataset_slice(&train, full, 0, used, &err);
    }
    if (status == NN_OK)
        status = nn_dataset_slice(&validation, full, full->count - held_out, held_out, &err);
    if (status == NN_OK)
        status = nn_model_spec_load(&spec, c->model, &err);
    if (status == NN_OK)
        status = nn_network_new(&network, spec, 256, &init_rng, &err);
    if (status == NN_OK) {
        nn_train_options train_options = { .epochs = c->epochs };
        status = nn_train(network, train, NULL, &train_options, &rng, NULL, NULL, &err);
    }
    if (status == NN_OK)
        status = nn_evaluate(network, validation, NULL, NULL, &accuracy, NULL, &err);
    dg_put_i32(writer, (int32_t)status);
    dg_put_string(writer, status == NN_OK ? "" : err.message);
    dg_put_f64(writer, accuracy);
    nn_network_free(network);
    nn_model_spec_free(spec);
    nn_dataset_free(train);
    nn_dataset_free(validation);
    nn_dataset_free(full);
    return 0;
}

static void run_train_check(dg_check_result *check, const local_check *c)
{
    child_answer answer;
    run_child(&answer, train_on_validation_split, (void *)c, c->seconds_limit);
    if (!child_failed(check, &answer)) {
        dg_reader reader;
        dg_reader_init(&reader, answer.data, answer.size);
        int32_t code = dg_get_i32(&reader);
        char message[512];
        dg_get_string(&reader, message, sizeof message);
        double accuracy = dg_get_f64(&reader);
        if (reader.failed) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "training answered nothing readable\n");
        } else if (code == NN_ERR_NOT_IMPLEMENTED) {
            check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
            dg_check_printf(check, "training stopped: %s\n", message);
        } else if (code != NN_OK) {
            check->outcome = DG_OUTCOME_FAILED;
            dg_check_printf(check, "training failed: %s\n", message);
        } else {
            dg_judge_accuracy(check, accuracy, c->floor, c->target, "validation");
        }
    }
    free(answer.data);
}

/* Evaluates the trained model (spec and weights in this folder) on the
 * Fashion-MNIST test set, within the grader's bounds. */
static int evaluate_model(void *context, dg_writer *writer)
{
    const local_check *c = context;
    nn_error err = { 0 };
    nn_dataset *test = NULL;
    nn_network *network = NULL;
    nn_network_plan plan = { 0 };
    double accuracy = -1;
    nn_status status = nn_fashion_mnist_load(NULL, &test, NULL, &err);
    if (status == NN_OK) {
        dg_model_limits limits = dg_model_limits_of((size_t)c->max_parameters, c->max_flops);
        dg_model_file spec = { c->spec, c->spec }, weights = { c->weights, c->weights };
        status = dg_model_load(&network, &plan, &spec, &weights, test, &limits, &err);
    }
    if (status == NN_OK)
        status = dg_model_accuracy(&accuracy, network, test, &err);
    dg_put_i32(writer, (int32_t)status);
    dg_put_string(writer, status == NN_OK ? "" : err.message);
    dg_put_f64(writer, accuracy);
    dg_put_u32(writer, (uint32_t)plan.layer_count);
    dg_put_u64(writer, plan.parameters + plan.buffers);
    dg_put_f64(writer, plan.flops);
    dg_put_u64(writer, test != NULL ? test->count : 0);
    nn_network_free(network);
    nn_dataset_free(test);
    return 0;
}

static void run_model_check(dg_check_result *check, const local_check *c)
{
    const char *missing = access(c->spec, R_OK) != 0      ? c->spec
                          : access(c->weights, R_OK) != 0 ? c->weights
                                                          : NULL;
    if (missing != NULL) {
        check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
        dg_check_printf(check, "%s is not here yet: `make train` trains %s with your units and "
                        "writes %s; `make submit` then hands both in\n", missing, c->spec,
                        c->weights);
        return;
    }
    child_answer answer;
    run_child(&answer, evaluate_model, (void *)c, c->seconds_limit);
    if (!child_failed(check, &answer)) {
        dg_reader reader;
        dg_reader_init(&reader, answer.data, answer.size);
        int32_t code = dg_get_i32(&reader);
        char message[512];
        dg_get_string(&reader, message, sizeof message);
        double accuracy = dg_get_f64(&reader);
        uint32_t layers = dg_get_u32(&reader);
        uint64_t parameters = dg_get_u64(&reader);
        double flops = dg_get_f64(&reader);
        uint64_t samples = dg_get_u64(&reader);
        if (reader.failed) {
            check->outcome = DG_OUTCOME_CRASHED;
            dg_check_printf(check, "the evaluation answered nothing readable\n");
        } else if (code == NN_ERR_NOT_IMPLEMENTED) {
            check->outcome = DG_OUTCOME_NOT_IMPLEMENTED;
            dg_check_printf(check, "evaluation stopped: %s\n", message);
        } else if (code != NN_OK) {
            /* The grader refuses such a model before grading anything. */
            check->outcome = DG_OUTCOME_FAILED;
            dg_check_printf(check, "%s\nthe grader would refuse this submission (exit status "
                            "2): fix the model or leave it out\n", message);
        } else {
            dg_check_printf(check, "%s: %u layers, %llu parameters, %.0f FLOPs per sample; "
                            "evaluated on the %llu test images with your units (the grader "
                            "uses the reference layers)\n", c->spec, layers,
                            (unsigned long long)parameters, flops, (unsigned long long)samples);
            dg_judge_accuracy(check, accuracy, c->floor, c->target, "test");
        }
    }
    free(answer.data);
}

/* ---- output ------------------------------------------------------------------------- */

/* Whether line opens the definition of function: a declaration at column 0
 * naming it, with no ';' (a prototype) on the line. */
static bool opens_definition(const char *line, const char *function)
{
    const char *at = strstr(line, function);
    size_t length = strlen(function);
    return at != NULL && at[length] == '(' && (at == line || at[-1] == ' ' || at[-1] == '*')
           && line[0] != ' ' && line[0] != '\t' && line[0] != '/' && line[0] != '*'
           && strchr(line, ';') == NULL;
}

/* The line of `function`'s definition in the student's file (0 when it
 * cannot be found); *stubbed tells whether its body, up to the `}` at
 * column 0 that closes it, still returns NN_ERR_NOT_IMPLEMENTED. */
static int find_definition(const char *file, const char *function, bool *stubbed)
{
    *stubbed = false;
    FILE *in = function[0] != '\0' ? fopen(file, "r") : NULL;
    if (in == NULL)
        return 0;
    char line[1024];
    int number = 0, found = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        number++;
        if (found == 0 && opens_definition(line, function)) {
            found = number;
        } else if (found > 0) {
            if (line[0] == '}')
                break;
            if (strstr(line, "NN_ERR_NOT_IMPLEMENTED") != NULL)
                *stubbed = true;
        }
    }
    fclose(in);
    return found;
}

/* The line for a CI annotation: the definition, or the file's first line. */
static int definition_line(const char *file, const char *function)
{
    bool stubbed;
    int line = find_definition(file, function, &stubbed);
    return line > 0 ? line : 1;
}

static void print_check(const dg_check_result *check, const local_check *c, bool github)
{
    const char *mark = check->outcome == DG_OUTCOME_PASSED ? "PASS"
                       : check->outcome == DG_OUTCOME_PARTIAL ? "PART"
                       : check->outcome == DG_OUTCOME_NOT_IMPLEMENTED ? "TODO"
                                                                        : "FAIL";
    printf("[%s] %-28s %5.1f/%-5g %s\n", mark, check->id, check->score, check->max_score,
           check->name);
    const char *output = check->output ? check->output : "";
    for (const char *line = output; *line;) {
        size_t length = strcspn(line, "\n");
        printf("       %.*s\n", (int)length, line);
        line += length + (line[length] == '\n');
    }
    if (github && check->outcome != DG_OUTCOME_PASSED) {
        /* GitHub turns this line into an annotation on the file. Its
         * message must be one line: newlines are escaped as %0A. */
        printf("::error file=%s,line=%d,title=%s::", c->unit_file[0] ? c->unit_file : CHECKS_FILE,
               c->unit_file[0] ? definition_line(c->unit_file, c->function) : 1, check->id);
        size_t length = strlen(output);
        while (length > 0 && output[length - 1] == '\n')
            length--;
        for (const char *p = output; p < output + length; p++) {
            if (*p == '\n')
                fputs("%0A", stdout);
            else if (*p == '%')
                fputs("%25", stdout);
            else
                putchar(*p);
        }
        putchar('\n');
    }
}

/* Lists the functions whose bodies still hold the stub's return. */
static void print_left_to_write(void)
{
    unit_function *functions;
    int count = load_unit_functions(&functions);
    int left = 0;
    for (int i = 0; i < count; i++) {
        bool stubbed;
        int line = find_definition(functions[i].file, functions[i].function, &stubbed);
        if (!stubbed)
            continue;
        if (left++ == 0)
            printf("\nstill to write (they return NN_ERR_NOT_IMPLEMENTED):\n");
        printf("  %s:%d: %s\n", functions[i].file, line, functions[i].function);
    }
    free(functions);
}

static bool selected(const options *o, const char *id)
{
    if (o->only_count == 0)
        return true;
    for (int i = 0; i < o->only_count; i++)
        if (strcmp(o->only[i], id) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    options o = { 0 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            o.github = strcmp(argv[++i], "github") == 0;
        } else if (strcmp(argv[i], "--junit") == 0 && i + 1 < argc) {
            o.junit = argv[++i];
        } else if (strcmp(argv[i], "--summary") == 0 && i + 1 < argc) {
            o.summary = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: check [--format text|github] [--junit FILE] "
                            "[--summary FILE] [CHECK_ID...]\n");
            return 2;
        } else {
            o.only = argv + i;
            o.only_count = argc - i;
            break;
        }
    }
    nn_gemm_set_threads(1);
    nn_error err = { 0 };
    local_check *checks;
    int count = load_checks(&checks, &err);
    if (count < 0) {
        fprintf(stderr, "check: %s (run make test from the assignment's folder)\n",
                err.message);
        return 2;
    }
    unit_verdict *verdicts;
    int unit_count = inspect_units(&verdicts, &err);
    if (unit_count < 0) {
        fprintf(stderr, "check: %s\n", err.message);
        free(checks);
        return 2;
    }
    dg_report report = { 0 };
    snprintf(report.assignment, sizeof report.assignment, "public checks");
    snprintf(report.submission, sizeof report.submission, ".");
    report.sandbox_notes = strdup("local run: no sandbox (your own code on your own machine)");
    bool all_passed = true;
    for (int i = 0; i < count; i++) {
        const local_check *c = &checks[i];
        if (!selected(&o, c->id))
            continue;
        dg_check_result *check = dg_report_add_check(&report);
        if (check == NULL)
            return 2;
        snprintf(check->id, sizeof check->id, "%s", c->id);
        snprintf(check->name, sizeof check->name, "%s", c->name);
        snprintf(check->kind, sizeof check->kind, "%s", c->kind);
        snprintf(check->unit, sizeof check->unit, "%s", c->unit_file);
        check->visibility = DG_VISIBLE_PUBLIC;
        check->max_score = c->points;
        check->score = 0;
        check->outcome = DG_OUTCOME_FAILED;
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        const dg_inspection *refusal = refusal_of(c, verdicts, unit_count);
        if (refusal != NULL)
            refuse_check(check, refusal);
        else if (strcmp(c->kind, "train") == 0)
            run_train_check(check, c);
        else if (strcmp(c->kind, "model") == 0)
            run_model_check(check, c);
        else
            run_fixture_check(check, c);
        clock_gettime(CLOCK_MONOTONIC, &end);
        check->seconds = (double)(end.tv_sec - start.tv_sec)
                         + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
        report.execution_time += check->seconds;
        all_passed &= check->outcome == DG_OUTCOME_PASSED;
        print_check(check, c, o.github);
        fflush(stdout);
    }
    dg_report_total(&report);
    printf("\npublic checks: %g of %g points", report.score, report.max_score);
    printf("%s\n", all_passed ? ", all passed" : "; hidden checks add more at grading");
    print_left_to_write();
    nn_status status = NN_OK;
    if (o.junit != NULL)
        status = dg_report_write_junit(&report, o.junit, &err);
    if (status == NN_OK && o.summary != NULL)
        status = dg_report_write_markdown(&report, o.summary, &err);
    if (status != NN_OK)
        fprintf(stderr, "check: %s\n", err.message);
    dg_report_release(&report);
    for (int u = 0; u < unit_count; u++)
        dg_inspection_release(&verdicts[u].inspection);
    free(verdicts);
    free(checks);
    return status != NN_OK ? 2 : all_passed ? 0 : 1;
}
