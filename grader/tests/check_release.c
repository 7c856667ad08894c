/*
 * check_release.c - the student templates, end to end: what `dlgrade
 * release` writes, what it must never write, and what a student and a CI
 * job get when they use it.
 *
 *   - the committed student-template/<name> is exactly a fresh release;
 *   - no solution line, hidden check, quiz key or data file is in it;
 *   - an untouched template: `make test` says TODO per check and 0 points,
 *     lists the functions left to write, and the grader gives 0 with "not
 *     implemented" per check (exit 1, never a crash);
 *   - with the reference sources pasted in: every public check passes in
 *     `make test`, and the grader gives full marks to `make submit`'s
 *     archive (with correct quiz answers written from the key here);
 *   - the grading of both kinds is repeated for every other assignment,
 *     from its template's files (no build needed: the grader builds);
 *   - `make submit` packs exactly the graded files (a trained model's spec
 *     and weights included, which the fixture trains with the template's
 *     trainer); `make train` shows its epochs and the final test accuracy
 *     and saves the weights;
 *   - ci/run-checks, run with the very command the workflow files give,
 *     fails an untouched template (junit.xml, summary, annotations on the
 *     stubs' lines) and passes the reference;
 *   - a mistake the numbers show is told alike by `make test` and by the
 *     grader (a weight indexed transposed), and the demo's buggy Adam
 *     sample is told which bias correction it lacks.
 *
 * These tests run programs (dlgrade, make, cc, tar) from the repository's
 * root, build a template and grade four submissions, one to two minutes in
 * all (the first build and the gradings dominate): they run only
 * when DLGRADE_INTEGRATION is set, which `make test-integration` does once
 * (not in each of the float, double and sanitizer builds). The templates
 * are built once, in an unchecked fixture: `untouched` is a copy of
 * student-template/fc-networks, `solved` the same with the reference units
 * and a correct answers.yaml.
 */
#include "config.h"
#include "kernels.h"

#include "nn/yaml.h"

#include "../../reference/tests/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>

#define TEMPLATE_ASSIGNMENT "fc-networks"
#define STATUS_TIMED_OUT (-2)

/* ---- running programs ------------------------------------------------------------ */

typedef struct run_result {
    int status;      /* exit status; 128 + signal; -1 not started; STATUS_TIMED_OUT */
    char *output;    /* stdout and stderr, interleaved, NUL-terminated */
    size_t size;
} run_result;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs argv in directory (NULL: here) with the environment changed by
 * settings ("NAME=VALUE" sets, "NAME" unsets), in its own process group,
 * killed with the group after seconds. A parent make's jobserver and the
 * CI variables of the machine running the tests are not passed on. */
static void run_in(run_result *r, const char *directory, const char *const *argv,
                   const char *const *settings, double seconds)
{
    *r = (run_result){ .status = -1 };
    size_t capacity = 1 << 16;
    r->output = calloc(capacity, 1);
    ck_assert_ptr_nonnull(r->output);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        close(fds[0]);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
            _exit(126);
        static const char *const cleared[] = { "MAKEFLAGS", "MFLAGS", "MAKELEVEL",
                                               "MAKEOVERRIDES", "GITHUB_ACTIONS",
                                               "GITHUB_STEP_SUMMARY", NULL };
        for (int i = 0; cleared[i] != NULL; i++)
            unsetenv(cleared[i]);
        for (int i = 0; settings != NULL && settings[i] != NULL; i++) {
            const char *equals = strchr(settings[i], '=');
            if (equals == NULL) {
                unsetenv(settings[i]);
            } else {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)(equals - settings[i]), settings[i]);
                setenv(name, equals + 1, 1);
            }
        }
        if (directory != NULL && chdir(directory) != 0)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    double deadline = now_seconds() + seconds;
    bool timed_out = false;
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0) {
            timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int ready = poll(&p, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        if (r->size + 1 >= capacity) {
            char *bigger = realloc(r->output, capacity * 2);
            ck_assert_ptr_nonnull(bigger);
            r->output = bigger;
            capacity *= 2;
        }
        ssize_t n = read(fds[0], r->output + r->size, capacity - r->size - 1);
        if (n <= 0)
            break;
        r->size += (size_t)n;
    }
    r->output[r->size] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (timed_out)
        r->status = STATUS_TIMED_OUT;
    else if (WIFEXITED(status))
        r->status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->status = 128 + WTERMSIG(status);
}

static void run_release(run_result *r)
{
    free(r->output);
    r->output = NULL;
}

/* The last part of a program's output, for failure messages. */
static const char *tail_of(const run_result *r)
{
    return r->size > 3000 ? r->output + r->size - 3000 : r->output;
}

#define ck_assert_ran(r, expected)                                                          \
    ck_assert_msg((r)->status == (expected), "exit status %d, expected %d; output ends:\n%s", \
                  (r)->status, (expected), tail_of(r))

static const char *build_folder(void)
{
    const char *build = getenv("DLGRADE_BUILD");
    return build != NULL && build[0] != '\0' ? build : "build";
}

/* The repository's dlgrade, as an absolute path (programs run elsewhere). */
static void dlgrade_path(char *out, size_t size)
{
    char here[1024];
    ck_assert_ptr_nonnull(getcwd(here, sizeof here));
    snprintf(out, size, "%s/%s/float/dlgrade", here, build_folder());
    ck_assert_msg(access(out, X_OK) == 0, "%s is missing: run `make all` first", out);
}

/* ---- files ---------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *size_out)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    size_t capacity = 4096, size = 0;
    char *data = malloc(capacity);
    size_t n;
    while (data != NULL && (n = fread(data + size, 1, capacity - size - 1, file)) > 0) {
        size += n;
        if (size + 1 == capacity) {
            char *bigger = realloc(data, capacity * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    fclose(file);
    if (data != NULL)
        data[size] = '\0';
    if (size_out != NULL)
        *size_out = size;
    return data;
}

static char *slurp_gzip(const char *path, size_t *size_out)
{
    gzFile file = gzopen(path, "rb");
    if (file == NULL)
        return NULL;
    size_t capacity = 1 << 16, size = 0;
    char *data = malloc(capacity);
    int n;
    while (data != NULL && (n = gzread(file, data + size, (unsigned)(capacity - size - 1))) > 0) {
        size += (size_t)n;
        if (size + 1 == capacity) {
            char *bigger = realloc(data, capacity * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    gzclose(file);
    if (data != NULL)
        data[size] = '\0';
    *size_out = size;
    return data;
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    ck_assert_msg(file != NULL, "cannot write %s", path);
    fputs(text, file);
    ck_assert_int_eq(fclose(file), 0);
}

/* The files below a folder (relative paths), collected by nftw. */
typedef struct file_list {
    char **paths;
    size_t count, capacity;
} file_list;

static file_list *walking;
static size_t walking_prefix;

static int collect_file(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    (void)info;
    (void)ftw;
    if (type != FTW_F)
        return 0;
    if (walking->count == walking->capacity) {
        walking->capacity = walking->capacity ? 2 * walking->capacity : 256;
        walking->paths = realloc(walking->paths, walking->capacity * sizeof *walking->paths);
        if (walking->paths == NULL)
            return 1;
    }
    walking->paths[walking->count++] = strdup(path + walking_prefix);
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file below root, relative to it, sorted. */
static void list_files(file_list *list, const char *root)
{
    *list = (file_list){ 0 };
    walking = list;
    walking_prefix = strlen(root) + 1;
    ck_assert_msg(nftw(root, collect_file, 16, FTW_PHYS) == 0, "cannot walk %s", root);
    qsort(list->paths, list->count, sizeof *list->paths, compare_strings);
}

static void list_release(file_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
}

static bool ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

static dg_config *load_assignment(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "assignments/%s/assignment.yaml", name);
    dg_config *config = malloc(sizeof *config);
    ck_assert_ptr_nonnull(config);
    nn_error err = { 0 };
    ck_assert_msg(dg_config_load(config, path, NULL, &err) == NN_OK, "%s: %s", path, err.message);
    return config;
}

/* The assignments: every folder of assignments/ with an assignment.yaml. */
static int assignment_names(char names[][64], int capacity)
{
    DIR *folder = opendir("assignments");
    ck_assert_ptr_nonnull(folder);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(folder)) != NULL && count < capacity) {
        char path[600];
        snprintf(path, sizeof path, "assignments/%s/assignment.yaml", entry->d_name);
        if (entry->d_name[0] != '.' && access(path, R_OK) == 0)
            snprintf(names[count++], 64, "%s", entry->d_name);
    }
    closedir(folder);
    ck_assert_int_gt(count, 0);
    return count;
}

/* A correct answers file, written from the quiz key. */
static void write_correct_answers(const char *key_path, const char *out_path)
{
    nn_yaml_document *key;
    nn_error err = { 0 };
    ck_assert_msg(nn_yaml_load(&key, key_path, &err) == NN_OK, "%s", err.message);
    nn_yaml_node *questions = nn_yaml_get(key, nn_yaml_root(key), "questions");
    ck_assert(nn_yaml_is_sequence(questions));
    FILE *out = fopen(out_path, "w");
    ck_assert_ptr_nonnull(out);
    for (int q = 0; q < nn_yaml_sequence_size(questions); q++) {
        nn_yaml_node *item = nn_yaml_sequence_item(key, questions, q);
        fprintf(out, "\"%s\": ", nn_yaml_scalar(nn_yaml_get(key, item, "id")));
        nn_yaml_node *correct = nn_yaml_get(key, item, "correct");
        if (nn_yaml_is_sequence(correct)) {
            fputc('[', out);
            for (int c = 0; c < nn_yaml_sequence_size(correct); c++)
                fprintf(out, "%s%s", c ? ", " : "",
                        nn_yaml_scalar(nn_yaml_sequence_item(key, correct, c)));
            fputs("]\n", out);
        } else {
            const char *answer = nn_yaml_scalar(nn_yaml_get(key, item, "answer"));
            ck_assert_ptr_nonnull(answer);
            fprintf(out, "%s\n", answer);
        }
    }
    ck_assert_int_eq(fclose(out), 0);
    nn_yaml_free(key);
}

static const dg_check_config *quiz_of(const dg_config *config)
{
    for (int i = 0; i < config->check_count; i++)
        if (config->checks[i].kind == DG_CHECK_QUIZ)
            return &config->checks[i];
    return NULL;
}

/* The checks `make test` runs: the public compare, gradcheck and train
 * checks, and the public model checks on Fashion-MNIST. */
static bool runs_locally(const dg_check_config *c)
{
    return c->visibility == DG_VISIBLE_PUBLIC
           && (c->kind == DG_CHECK_COMPARE || c->kind == DG_CHECK_GRADCHECK
               || c->kind == DG_CHECK_TRAIN
               || (c->kind == DG_CHECK_MODEL && strcmp(c->data, "fashion-mnist") == 0));
}

/* The assignment's model check, or NULL. */
static const dg_check_config *model_of(const dg_config *config)
{
    for (int i = 0; i < config->check_count; i++)
        if (config->checks[i].kind == DG_CHECK_MODEL)
            return &config->checks[i];
    return NULL;
}

static int public_local_check_count(const dg_config *config)
{
    int count = 0;
    for (int i = 0; i < config->check_count; i++)
        count += runs_locally(&config->checks[i]);
    return count;
}

static double public_local_points(const dg_config *config)
{
    double points = 0;
    for (int i = 0; i < config->check_count; i++)
        if (runs_locally(&config->checks[i]))
            points += config->checks[i].points;
    return points;
}

/* The names of the model check's files, when there is one. */
static bool model_files(const dg_config *config, char *spec, char *weights, size_t size)
{
    const dg_check_config *model = model_of(config);
    if (model == NULL)
        return false;
    snprintf(spec, size, "%s", model->spec_file);
    snprintf(weights, size, "%s", model->weights_file);
    return true;
}

/* ---- the shared templates (unchecked fixture, in the parent) --------------------- */

static char scratch[512];        /* removed by the teardown */
static char untouched[600];      /* student-template/fc-networks, built */
static char solved[600];         /* the same with the reference units, built */
static char setup_problem[4096]; /* why the fixture could not be made */

static bool integration_enabled(void)
{
    const char *flag = getenv("DLGRADE_INTEGRATION");
    return flag != NULL && flag[0] != '\0' && strcmp(flag, "0") != 0;
}

/* Runs a step of the setup; records the first failure. */
static bool setup_step(const char *directory, const char *const *argv, double seconds)
{
    if (setup_problem[0] != '\0')
        return false;
    run_result r;
    run_in(&r, directory, argv, NULL, seconds);
    if (r.status != 0) {
        snprintf(setup_problem, sizeof setup_problem, "`%s %s` in %s: exit status %d:\n%s",
                 argv[0], argv[1] ? argv[1] : "", directory ? directory : ".", r.status,
                 tail_of(&r));
    }
    run_release(&r);
    return setup_problem[0] == '\0';
}

static void templates_setup(void)
{
    setup_problem[0] = '\0';
    snprintf(scratch, sizeof scratch, "%s/dlgrade-release-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(scratch) == NULL) {
        snprintf(setup_problem, sizeof setup_problem, "cannot create %s", scratch);
        scratch[0] = '\0';
        return;
    }
    snprintf(untouched, sizeof untouched, "%s/untouched", scratch);
    snprintf(solved, sizeof solved, "%s/solved", scratch);
    setup_step(NULL, (const char *const[]){ "cp", "-r", "student-template/" TEMPLATE_ASSIGNMENT,
                                            untouched, NULL }, 60);
    /* The first build, as a student's first `make` (both precisions). */
    setup_step(untouched, (const char *const[]){ "make", "-j2", "all", NULL }, 300);
    setup_step(NULL, (const char *const[]){ "cp", "-a", untouched, solved, NULL }, 60);
    if (setup_problem[0] != '\0')
        return;
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    for (int u = 0; u < config->unit_count; u++) {
        char source[256];
        snprintf(source, sizeof source, "reference/src/%s", config->units[u].file);
        setup_step(NULL, (const char *const[]){ "cp", source, solved, NULL }, 60);
    }
    char answers[700];
    snprintf(answers, sizeof answers, "%s/answers.yaml", solved);
    write_correct_answers(quiz_of(config)->key, answers);
    char model_spec[64] = "", model_weights[64] = "";
    bool has_model = model_files(config, model_spec, model_weights, sizeof model_spec);
    free(config);
    setup_step(solved, (const char *const[]){ "make", "-j2", "all", NULL }, 300);
    /* The trained model a student hands in: the template's own trainer
     * (what `make train` runs) on the starter the template ships, three
     * epochs (0.857 test accuracy with seed 1; the check's target is
     * 0.83), one BLAS thread on a machine the tests share. */
    if (has_model)
        setup_step(solved, (const char *const[]){ "./build/train", model_spec, "--data",
                                                  "fashion-mnist", "--epochs", "3", "--seed",
                                                  "1", "--threads", "1", "--save",
                                                  model_weights, NULL },
                   300);
}

static void templates_teardown(void)
{
    if (scratch[0] != '\0') {
        run_result r;
        run_in(&r, NULL, (const char *const[]){ "rm", "-rf", scratch, NULL }, NULL, 60);
        run_release(&r);
    }
}

#define REQUIRE_TEMPLATES() \
    ck_assert_msg(setup_problem[0] == '\0', "the templates could not be built: %s", setup_problem)

/* ---- 1. the committed templates are a fresh release -------------------------------- */

START_TEST(each_committed_template_is_exactly_a_fresh_release)
{
    char dlgrade[1200], temporary[512];
    dlgrade_path(dlgrade, sizeof dlgrade);
    test_make_temp_dir(temporary, sizeof temporary);
    char names[16][64];
    int count = assignment_names(names, 16);
    for (int a = 0; a < count; a++) {
        char fresh[700], committed[256];
        snprintf(fresh, sizeof fresh, "%s/%s", temporary, names[a]);
        snprintf(committed, sizeof committed, "student-template/%s", names[a]);
        run_result r;
        run_in(&r, NULL, (const char *const[]){ dlgrade, "release", names[a], "-o", fresh, NULL },
               NULL, 120);
        ck_assert_ran(&r, 0);
        run_release(&r);
        /* What the template's .gitignore keeps out of git may lie around
         * in a working copy; everything else must be identical. */
        run_in(&r, NULL, (const char *const[]){ "diff", "-r", "-x", "build", "-x",
                                                "submission.tar.gz", "-x", "junit.xml", "-x",
                                                "ci-summary.md", committed, fresh, NULL },
               NULL, 60);
        ck_assert_msg(r.status == 0, "%s differs from a fresh `dlgrade release %s` (run `make "
                      "student-template` and commit):\n%s", committed, names[a], tail_of(&r));
        run_release(&r);
        /* The executable bits matter too (ci/run-checks is run by path). */
        file_list files;
        list_files(&files, fresh);
        ck_assert_uint_gt(files.count, 10);
        for (size_t i = 0; i < files.count; i++) {
            char one[1200], other[1200];
            struct stat a_stat, b_stat;
            snprintf(one, sizeof one, "%s/%s", fresh, files.paths[i]);
            snprintf(other, sizeof other, "%s/%s", committed, files.paths[i]);
            ck_assert_int_eq(stat(one, &a_stat), 0);
            ck_assert_msg(stat(other, &b_stat) == 0, "%s is missing", other);
            ck_assert_msg((a_stat.st_mode & S_IXUSR) == (b_stat.st_mode & S_IXUSR),
                          "%s: executable bit differs from the release", other);
        }
        list_release(&files);
    }
    test_remove_dir(temporary);
}
END_TEST

/* ---- 2. nothing secret reaches a template ------------------------------------------ */

/* A sorted set of trimmed lines. */
typedef struct line_set {
    char **lines;
    size_t count, capacity;
} line_set;

static void set_add(line_set *set, const char *line, size_t length)
{
    while (length > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        length--;
    }
    while (length > 0 && (line[length - 1] == ' ' || line[length - 1] == '\t'
                          || line[length - 1] == '\r' || line[length - 1] == '\n'))
        length--;
    if (length == 0)
        return;
    if (set->count == set->capacity) {
        set->capacity = set->capacity ? 2 * set->capacity : 1024;
        set->lines = realloc(set->lines, set->capacity * sizeof *set->lines);
        ck_assert_ptr_nonnull(set->lines);
    }
    set->lines[set->count++] = strndup(line, length);
}

static void set_finish(line_set *set)
{
    qsort(set->lines, set->count, sizeof *set->lines, compare_strings);
}

static bool set_has(const line_set *set, const char *trimmed)
{
    return set->count > 0
           && bsearch(&trimmed, set->lines, set->count, sizeof *set->lines, compare_strings)
                  != NULL;
}

static void set_release(line_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->lines[i]);
    free(set->lines);
    *set = (line_set){ 0 };
}

/* Adds the lines of text inside solution regions to inside and the others
 * to outside (either may be NULL). The marker lines belong to neither. */
static void split_regions(const char *text, line_set *inside, line_set *outside)
{
    bool in = false;
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        char copy[1024];
        snprintf(copy, sizeof copy, "%.*s", (int)(length < 1023 ? length : 1023), line);
        if (strstr(copy, "BEGIN SOLUTION") != NULL)
            in = true;
        else if (strstr(copy, "END SOLUTION") != NULL)
            in = false;
        else if (in && inside != NULL)
            set_add(inside, line, length);
        else if (!in && outside != NULL)
            set_add(outside, line, length);
        line += length + (line[length] == '\n');
    }
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

/* The secret lines of an assignment: inside a solution region of a
 * reference unit that does not ship whole, at least 8 characters, and
 * found nowhere that ships legitimately (outside the regions, in provided
 * units, in the headers and the grader's own sources and templates). */
static void secret_lines(line_set *secret, const dg_config *config)
{
    line_set inside = { 0 }, allowed = { 0 };
    static const char *const folders[] = { "reference/src", "reference/src/network",
                                           "reference/include/nn", "grader/src",
                                           "grader/template", "grader/runner", NULL };
    for (int f = 0; folders[f] != NULL; f++) {
        DIR *folder = opendir(folders[f]);
        ck_assert_ptr_nonnull(folder);
        struct dirent *entry;
        while ((entry = readdir(folder)) != NULL) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", folders[f], entry->d_name);
            struct stat info;
            if (entry->d_name[0] == '.' || stat(path, &info) != 0 || !S_ISREG(info.st_mode))
                continue;
            char *text = slurp(path, NULL);
            ck_assert_ptr_nonnull(text);
            bool unit = strncmp(folders[f], "reference/src", 13) == 0
                        && strstr(text, "BEGIN SOLUTION") != NULL;
            if (unit && !is_provided(config, entry->d_name))
                split_regions(text, &inside, &allowed);
            else
                split_regions(text, &allowed, &allowed);
            free(text);
        }
        closedir(folder);
    }
    set_finish(&allowed);
    *secret = (line_set){ 0 };
    for (size_t i = 0; i < inside.count; i++)
        if (strlen(inside.lines[i]) >= 8 && !set_has(&allowed, inside.lines[i]))
            set_add(secret, inside.lines[i], strlen(inside.lines[i]));
    set_finish(secret);
    set_release(&inside);
    set_release(&allowed);
}

/* The first line of text in the set, or NULL; *line_number is 1-based. */
static const char *first_secret(const line_set *secret, const char *text, int *line_number)
{
    static char found[1024];
    *line_number = 0;
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        (*line_number)++;
        line_set one = { 0 };
        set_add(&one, line, length);
        bool hit = one.count == 1 && set_has(secret, one.lines[0]);
        if (hit)
            snprintf(found, sizeof found, "%s", one.lines[0]);
        set_release(&one);
        if (hit)
            return found;
        line += length + (line[length] == '\n');
    }
    return NULL;
}

/* Is needle (a hidden check's id or name) also part of a public one's? */
static bool shared_with_public(const dg_config *config, const char *needle)
{
    for (int i = 0; i < config->check_count; i++)
        if (config->checks[i].visibility == DG_VISIBLE_PUBLIC
            && (strstr(config->checks[i].id, needle) || strstr(config->checks[i].name, needle)))
            return true;
    return false;
}

static void check_no_leaks(const char *name)
{
    dg_config *config = load_assignment(name);
    char root[256];
    snprintf(root, sizeof root, "student-template/%s", name);
    line_set secret;
    secret_lines(&secret, config);
    /* The detector must see something to hide, and see it in the reference
     * source of the first graded unit. */
    ck_assert_msg(secret.count >= 20, "%s: only %zu solution lines to look for", name,
                  secret.count);
    char reference[256];
    snprintf(reference, sizeof reference, "reference/src/%s", config->units[0].file);
    char *reference_text = slurp(reference, NULL);
    int line_number;
    ck_assert_ptr_nonnull(first_secret(&secret, reference_text, &line_number));
    free(reference_text);

    file_list files;
    list_files(&files, root);
    for (size_t i = 0; i < files.count; i++) {
        const char *relative = files.paths[i];
        char path[700];
        snprintf(path, sizeof path, "%s/%s", root, relative);
        bool gzip = ends_with(relative, ".gz");
        /* Data: the only compressed files are the public checks' fixtures,
         * and no file, compressed or not, is in IDX format (Fashion-MNIST's:
         * two zero bytes, then the element type 0x08-0x0E). */
        if (gzip) {
            bool fixture = false;
            for (int c = 0; c < config->check_count; c++) {
                char expected[128];
                snprintf(expected, sizeof expected, "checks/%s.fixture.gz", config->checks[c].id);
                fixture |= config->checks[c].visibility == DG_VISIBLE_PUBLIC
                           && strcmp(relative, expected) == 0;
            }
            ck_assert_msg(fixture, "%s: %s is compressed but is no public fixture", name,
                          relative);
        }
        size_t size;
        char *text = gzip ? slurp_gzip(path, &size) : slurp(path, &size);
        ck_assert_msg(text != NULL, "cannot read %s", path);
        const unsigned char *bytes = (const unsigned char *)text;
        bool idx = size >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] >= 0x08
                   && bytes[2] <= 0x0E;
        ck_assert_msg(!idx && strstr(relative, "ubyte") == NULL,
                      "%s: %s is an IDX dataset file", name, relative);
        ck_assert_msg(size < (4u << 20), "%s: %s holds %zu bytes: data?", name, relative, size);
        /* Solutions: no secret line, as a whole line, in any text file. */
        if (!gzip) {
            const char *leaked = first_secret(&secret, text, &line_number);
            ck_assert_msg(leaked == NULL, "%s:%d holds a line of a solution: %s", path,
                          line_number, leaked ? leaked : "");
        }
        /* Hidden and after-due checks: not their ids, not their names. */
        for (int c = 0; c < config->check_count; c++) {
            const dg_check_config *check = &config->checks[c];
            if (check->visibility == DG_VISIBLE_PUBLIC)
                continue;
            if (!shared_with_public(config, check->id))
                ck_assert_msg(memmem(text, size, check->id, strlen(check->id)) == NULL,
                              "%s names the %s check %s", path,
                              dg_visibility_name(check->visibility), check->id);
            if (!shared_with_public(config, check->name))
                ck_assert_msg(memmem(text, size, check->name, strlen(check->name)) == NULL,
                              "%s names the %s check \"%s\"", path,
                              dg_visibility_name(check->visibility), check->name);
        }
        /* The quiz key: none of its answer lines. */
        for (int c = 0; c < config->check_count; c++) {
            if (config->checks[c].kind != DG_CHECK_QUIZ)
                continue;
            char *key = slurp(config->checks[c].key, NULL);
            ck_assert_ptr_nonnull(key);
            line_set answers = { 0 }, key_lines = { 0 };
            split_regions(key, NULL, &key_lines);
            for (size_t k = 0; k < key_lines.count; k++)
                if (strncmp(key_lines.lines[k], "correct:", 8) == 0
                    || strncmp(key_lines.lines[k], "answer:", 7) == 0)
                    set_add(&answers, key_lines.lines[k], strlen(key_lines.lines[k]));
            set_finish(&answers);
            ck_assert_uint_gt(answers.count, 0);
            if (!gzip) {
                const char *leaked = first_secret(&answers, text, &line_number);
                ck_assert_msg(leaked == NULL, "%s:%d copies the quiz key: %s", path,
                              line_number, leaked ? leaked : "");
            }
            set_release(&answers);
            set_release(&key_lines);
            free(key);
        }
        free(text);
    }
    list_release(&files);

    /* Nothing of the assignment's own folder (key, samples) is copied. */
    char assignment_folder[256];
    snprintf(assignment_folder, sizeof assignment_folder, "assignments/%s", name);
    file_list own;
    list_files(&own, assignment_folder);
    list_files(&files, root);
    for (size_t i = 0; i < own.count; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", assignment_folder, own.paths[i]);
        size_t own_size;
        char *own_text = slurp(path, &own_size);
        for (size_t j = 0; j < files.count; j++) {
            char shipped[700];
            snprintf(shipped, sizeof shipped, "%s/%s", root, files.paths[j]);
            size_t size;
            char *text = slurp(shipped, &size);
            ck_assert_msg(!(size == own_size && memcmp(text, own_text, size) == 0),
                          "%s is a copy of %s", shipped, path);
            free(text);
        }
        free(own_text);
    }
    list_release(&own);
    list_release(&files);

    /* The answers file: every question, none answered. */
    const dg_check_config *quiz = quiz_of(config);
    if (quiz != NULL) {
        char path[700];
        snprintf(path, sizeof path, "%s/answers.yaml", root);
        nn_yaml_document *answers, *key;
        nn_error err = { 0 };
        ck_assert_msg(nn_yaml_load(&answers, path, &err) == NN_OK, "%s", err.message);
        ck_assert_int_eq(nn_yaml_load(&key, quiz->key, &err), NN_OK);
        nn_yaml_node *questions = nn_yaml_get(key, nn_yaml_root(key), "questions");
        ck_assert_int_eq(nn_yaml_mapping_size(nn_yaml_root(answers)),
                         nn_yaml_sequence_size(questions));
        for (int q = 0; q < nn_yaml_sequence_size(questions); q++) {
            const char *id = nn_yaml_scalar(
                nn_yaml_get(key, nn_yaml_sequence_item(key, questions, q), "id"));
            nn_yaml_node *answer = nn_yaml_get(answers, nn_yaml_root(answers), id);
            ck_assert_msg(answer != NULL, "%s lacks question %s", path, id);
            bool blank = nn_yaml_is_sequence(answer) ? nn_yaml_sequence_size(answer) == 0
                                                     : strcmp(nn_yaml_scalar(answer), "null") == 0;
            ck_assert_msg(blank, "%s: question %s comes answered", path, id);
        }
        nn_yaml_free(answers);
        nn_yaml_free(key);
    }
    set_release(&secret);
    free(config);
}

START_TEST(no_solution_hidden_check_quiz_key_or_data_reaches_a_template)
{
    char names[16][64];
    int count = assignment_names(names, 16);
    for (int a = 0; a < count; a++)
        check_no_leaks(names[a]);
}
END_TEST

/* The leak detector itself: a template with a solution line, a hidden
 * check's name or a key line pasted in is caught. */
START_TEST(the_leak_detector_catches_a_pasted_solution_line)
{
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    line_set secret;
    secret_lines(&secret, config);
    char source[256];
    snprintf(source, sizeof source, "reference/src/%s", config->units[0].file);
    char *text = slurp(source, NULL);
    line_set inside = { 0 };
    split_regions(text, &inside, NULL);
    /* Some line of the region is secret; pasted into an innocent file it is
     * found at the line where it was pasted. */
    const char *pasted = NULL;
    for (size_t i = 0; i < inside.count && pasted == NULL; i++)
        if (set_has(&secret, inside.lines[i]))
            pasted = inside.lines[i];
    ck_assert_ptr_nonnull(pasted);
    char innocent[2048];
    snprintf(innocent, sizeof innocent, "int a;\n    %s\nint b;\n", pasted);
    int line_number;
    ck_assert_ptr_nonnull(first_secret(&secret, innocent, &line_number));
    ck_assert_int_eq(line_number, 2);
    ck_assert_ptr_null(first_secret(&secret, "int a;\nreturn NN_OK;\n}\n", &line_number));
    set_release(&inside);
    set_release(&secret);
    free(text);
    free(config);
}
END_TEST

/* ---- 3. an untouched template ------------------------------------------------------- */

/* The "[MARK] id" lines of local_check's output, counted by mark. */
static int count_marked(const char *output, const char *mark)
{
    int count = 0;
    for (const char *at = output; (at = strstr(at, mark)) != NULL; at++)
        count += at == output || at[-1] == '\n';
    return count;
}

START_TEST(make_test_in_an_untouched_template_says_todo_for_every_check)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    int checks = public_local_check_count(config);
    run_result r;
    run_in(&r, untouched, (const char *const[]){ "make", "test", NULL }, NULL, 120);
    /* make says 2 for any failed recipe; the checker's own status is 1. */
    ck_assert_ran(&r, 2);
    ck_assert_msg(strstr(r.output, "Error 1") != NULL, "%s", tail_of(&r));
    ck_assert_int_eq(count_marked(r.output, "[TODO] "), checks);
    ck_assert_int_eq(count_marked(r.output, "[PASS] "), 0);
    ck_assert_int_eq(count_marked(r.output, "[FAIL] "), 0);
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *c = &config->checks[i];
        char line[160];
        snprintf(line, sizeof line, "[TODO] %s ", c->id);
        ck_assert_msg((strstr(r.output, line) != NULL) == runs_locally(c), "%s: %s", c->id,
                      r.output);
    }
    ck_assert_ptr_nonnull(strstr(r.output, "not implemented yet"));
    char total[96];
    snprintf(total, sizeof total, "public checks: 0 of %g points", public_local_points(config));
    ck_assert_msg(strstr(r.output, total) != NULL, "no \"%s\" in:\n%s", total, r.output);
    /* Every function to write is listed with its file and line, hidden
     * checks' functions too. */
    ck_assert_ptr_nonnull(strstr(r.output, "still to write"));
    for (int u = 0; u < config->unit_count; u++)
        for (int f = 0; f < config->units[u].function_count; f++) {
            char listed[200];
            snprintf(listed, sizeof listed, "  %s:", config->units[u].file);
            const char *at = strstr(r.output, listed);
            bool found = false;
            for (; at != NULL && !found; at = strstr(at + 1, listed)) {
                size_t length = strcspn(at, "\n");
                char one[256];
                snprintf(one, sizeof one, "%.*s", (int)(length < 255 ? length : 255), at);
                found = ends_with(one, config->units[u].functions[f]);
            }
            ck_assert_msg(found, "%s is not listed as left to write:\n%s",
                          config->units[u].functions[f], tail_of(&r));
        }
    run_release(&r);

    /* The checker's own exit status. */
    run_in(&r, untouched, (const char *const[]){ "./build/check", NULL }, NULL, 60);
    ck_assert_ran(&r, 1);
    run_release(&r);
    free(config);
}
END_TEST

/* ---- 3 and 4. grading: untouched 0, reference full marks, every assignment ---------- */

/* Grades submission (a folder or an archive) into out; returns the exit
 * status and loads results.json into *results. */
static int grade(json_t **results, const char *submission, const char *assignment,
                 const char *out)
{
    char dlgrade[1200];
    dlgrade_path(dlgrade, sizeof dlgrade);
    run_result r;
    run_in(&r, NULL, (const char *const[]){ dlgrade, "grade", submission, "-a", assignment, "-o",
                                            out, "--quiet", NULL },
           NULL, 300);
    int status = r.status;
    ck_assert_msg(status == 0 || status == 1, "dlgrade grade %s: exit status %d:\n%s", assignment,
                  status, tail_of(&r));
    run_release(&r);
    char path[800];
    snprintf(path, sizeof path, "%s/results.json", out);
    json_error_t error;
    *results = json_load_file(path, 0, &error);
    ck_assert_msg(*results != NULL, "%s: %s", path, error.text);
    return status;
}

/* Grades a template folder's `make submit` archive (the student's way). */
static int grade_submission(json_t **results, const char *dir, const char *assignment)
{
    run_result r;
    run_in(&r, dir, (const char *const[]){ "make", "submit", NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    char archive[700], out[700];
    snprintf(archive, sizeof archive, "%s/submission.tar.gz", dir);
    snprintf(out, sizeof out, "%s/graded", dir);
    return grade(results, archive, assignment, out);
}

/* Grades, for an assignment other than the built one, a folder of its
 * template's unit files and answers.yaml (untouched), or of the reference
 * units and correct answers (solved). */
static int grade_files(json_t **results, const dg_config *config, bool reference)
{
    char folder[700], out[800];
    snprintf(folder, sizeof folder, "%s/%s-%s", scratch, config->name,
             reference ? "solved" : "untouched");
    snprintf(out, sizeof out, "%s-graded", folder);
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    for (int u = 0; u < config->unit_count; u++) {
        char source[256];
        if (reference)
            snprintf(source, sizeof source, "reference/src/%s", config->units[u].file);
        else
            snprintf(source, sizeof source, "student-template/%s/%s", config->name,
                     config->units[u].file);
        run_result r;
        run_in(&r, NULL, (const char *const[]){ "cp", source, folder, NULL }, NULL, 60);
        ck_assert_ran(&r, 0);
        run_release(&r);
    }
    char answers[800];
    snprintf(answers, sizeof answers, "%s/answers.yaml", folder);
    if (reference) {
        write_correct_answers(quiz_of(config)->key, answers);
    } else {
        char source[256];
        snprintf(source, sizeof source, "student-template/%s/answers.yaml", config->name);
        run_result r;
        run_in(&r, NULL, (const char *const[]){ "cp", source, answers, NULL }, NULL, 60);
        ck_assert_ran(&r, 0);
        run_release(&r);
    }
    return grade(results, folder, config->name, out);
}

/* Score 0, every check failed, each saying "not implemented" (the quiz:
 * nothing answered). */
static void assert_graded_zero(json_t *results, const dg_config *config)
{
    ck_assert_double_eq(json_number_value(json_object_get(results, "score")), 0);
    json_t *tests = json_object_get(results, "tests");
    ck_assert_int_eq((int)json_array_size(tests), config->check_count);
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const char *id = json_string_value(json_object_get(test, "number"));
        const char *output = json_string_value(json_object_get(test, "output"));
        const char *status = json_string_value(json_object_get(test, "status"));
        ck_assert_ptr_nonnull(id);
        ck_assert_ptr_nonnull(output);
        ck_assert_msg(json_number_value(json_object_get(test, "score")) == 0, "%s: %s scores",
                      config->name, id);
        ck_assert_msg(strcmp(status, "failed") == 0, "%s: %s: %s", config->name, id, status);
        int index = dg_config_find_check(config, id);
        ck_assert_int_ge(index, 0);
        if (config->checks[index].kind == DG_CHECK_QUIZ)
            ck_assert_msg(strstr(output, "not answered") || strstr(output, "ticked nothing"),
                          "%s: %s: %s", config->name, id, output);
        else if (config->checks[index].kind == DG_CHECK_MODEL)
            ck_assert_msg(strstr(output, "is not in the submission") != NULL, "%s: %s: %s",
                          config->name, id, output);
        else
            ck_assert_msg(strstr(output, "not implemented") != NULL, "%s: %s: %s", config->name,
                          id, output);
    }
}

static void assert_full_marks(json_t *results, const dg_config *config)
{
    double score = json_number_value(json_object_get(results, "score"));
    double max_score = json_number_value(json_object_get(results, "max_score"));
    ck_assert_double_gt(max_score, 0);
    ck_assert_msg(score == max_score, "%s: score %g of %g: %s", config->name, score, max_score,
                  json_string_value(json_object_get(results, "output")));
    json_t *tests = json_object_get(results, "tests");
    ck_assert_int_eq((int)json_array_size(tests), config->check_count);
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        ck_assert_msg(strcmp(json_string_value(json_object_get(test, "status")), "passed") == 0,
                      "%s: %s: %s", config->name,
                      json_string_value(json_object_get(test, "number")),
                      json_string_value(json_object_get(test, "output")));
    }
}

START_TEST(an_untouched_template_is_graded_zero_with_not_implemented_per_check)
{
    REQUIRE_TEMPLATES();
    char names[16][64];
    int count = assignment_names(names, 16);
    for (int a = 0; a < count; a++) {
        dg_config *config = load_assignment(names[a]);
        json_t *results;
        bool built = strcmp(names[a], TEMPLATE_ASSIGNMENT) == 0;
        int status = built ? grade_submission(&results, untouched, names[a])
                           : grade_files(&results, config, false);
        ck_assert_int_eq(status, 1);
        assert_graded_zero(results, config);
        json_decref(results);
        free(config);
    }
    /* The markdown report names the outcome per check, never a crash. */
    char path[800];
    snprintf(path, sizeof path, "%s/graded/report.md", untouched);
    char *report = slurp(path, NULL);
    ck_assert_ptr_nonnull(report);
    ck_assert_ptr_null(strstr(report, "| crashed |"));
    ck_assert_ptr_null(strstr(report, "| passed |"));
    ck_assert_ptr_nonnull(strstr(report, "| not implemented |"));
    free(report);
}
END_TEST

/* The gradient checks of kinked pairs whose forward has an image-like
 * case (kernels.h): real grading puts ties or zeros inside their steps,
 * so the reference passes them saying what it skipped. Returns how many
 * there were. */
static int assert_image_like_kinks_skipped(json_t *results, const dg_config *config)
{
    int seen = 0;
    json_t *tests = json_object_get(results, "tests");
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const char *id = json_string_value(json_object_get(test, "number"));
        const char *output = json_string_value(json_object_get(test, "output"));
        int index = dg_config_find_check(config, id);
        ck_assert_int_ge(index, 0);
        if (config->checks[index].kind != DG_CHECK_GRADCHECK)
            continue;
        const dg_gradient_pair *pair = dg_gradient_pair_find(config->checks[index].function);
        const dg_kernel *forward = dg_kernel_find(pair->forward);
        bool image_like = false, kinked = false;
        for (int c = 0; c < forward->case_count; c++)
            image_like |= forward->cases[c].input_fill == DG_FILL_QUANTISED;
        for (int l = 0; l < pair->link_count; l++)
            kinked |= pair->kinks[l] != DG_KINK_NONE;
        if (!image_like || !kinked)
            continue;
        ck_assert_msg(strstr(output, " skipped: ") != NULL && strstr(output, "(a kink of ") != NULL,
                      "%s: %s skips nothing: %s", config->name, id, output);
        seen++;
    }
    return seen;
}

START_TEST(the_reference_units_and_correct_answers_get_full_marks)
{
    REQUIRE_TEMPLATES();
    char names[16][64];
    int kinked_checks = 0;
    int count = assignment_names(names, 16);
    for (int a = 0; a < count; a++) {
        dg_config *config = load_assignment(names[a]);
        json_t *results;
        bool built = strcmp(names[a], TEMPLATE_ASSIGNMENT) == 0;
        int status = built ? grade_submission(&results, solved, names[a])
                           : grade_files(&results, config, true);
        ck_assert_int_eq(status, 0);
        assert_full_marks(results, config);
        kinked_checks += assert_image_like_kinks_skipped(results, config);
        json_decref(results);
        free(config);
    }
    ck_assert_int_ge(kinked_checks, 1);   /* cnn's pool-gradcheck */
}
END_TEST

/* ---- 4. make test with the reference pasted in ------------------------------------------ */

START_TEST(make_test_passes_every_public_check_with_the_reference_units)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    run_result r;
    run_in(&r, solved, (const char *const[]){ "make", "test", NULL }, NULL, 240);
    ck_assert_ran(&r, 0);
    ck_assert_int_eq(count_marked(r.output, "[PASS] "), public_local_check_count(config));
    ck_assert_int_eq(count_marked(r.output, "[TODO] ") + count_marked(r.output, "[FAIL] ")
                         + count_marked(r.output, "[PART] "),
                     0);
    ck_assert_msg(strstr(r.output, "all passed") != NULL, "%s", tail_of(&r));
    ck_assert_ptr_null(strstr(r.output, "still to write"));
    double points = public_local_points(config);
    char total[96];
    snprintf(total, sizeof total, "public checks: %g of %g points", points, points);
    ck_assert_msg(strstr(r.output, total) != NULL, "no \"%s\" in:\n%s", total, tail_of(&r));
    run_release(&r);
    free(config);
}
END_TEST

/* ---- 4b. a file the grader refuses ------------------------------------------------------ */

/* The output of the check `id` in results.json. */
static const char *output_of(json_t *results, const char *id)
{
    json_t *tests = json_object_get(results, "tests");
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        if (strcmp(json_string_value(json_object_get(test, "number")), id) == 0)
            return json_string_value(json_object_get(test, "output"));
    }
    return NULL;
}

START_TEST(make_test_refuses_a_file_as_the_grader_does_with_the_same_words)
{
    REQUIRE_TEMPLATES();
    /* The reference units, with a helper calling fork() added to linear.c. */
    char hostile[700], source[800];
    snprintf(hostile, sizeof hostile, "%s/hostile", scratch);
    run_result r;
    run_in(&r, NULL, (const char *const[]){ "cp", "-a", solved, hostile, NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    snprintf(source, sizeof source, "%s/linear.c", hostile);
    size_t size;
    char *text = slurp(source, &size);
    ck_assert_ptr_nonnull(text);
    char *edited = malloc(size + 256);
    ck_assert_ptr_nonnull(edited);
    snprintf(edited, size + 256, "%s\n#include <unistd.h>\nstatic int spawn(void) { return "
             "fork(); }\n__attribute__((used)) static int (*keep)(void) = spawn;\n", text);
    write_text(source, edited);
    free(edited);
    free(text);
    const char *sentence = "linear.c calls fork, which is not available to a layer";

    run_in(&r, hostile, (const char *const[]){ "make", "test", NULL }, NULL, 240);
    ck_assert_ran(&r, 2);
    const char *line = strstr(r.output, "[FAIL] linear-forward ");
    ck_assert_msg(line != NULL, "%s", tail_of(&r));
    ck_assert_msg(strstr(line, sentence) != NULL, "%s", tail_of(&r));
    ck_assert_ptr_nonnull(strstr(r.output, "[PASS] relu-forward "));
    run_release(&r);

    /* The grader, on what `make submit` packs (the public checks: the
     * hidden ones add nothing here). */
    run_in(&r, hostile, (const char *const[]){ "make", "submit", NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    char dlgrade[1200], out[800], archive[800];
    dlgrade_path(dlgrade, sizeof dlgrade);
    snprintf(out, sizeof out, "%s/graded", hostile);
    snprintf(archive, sizeof archive, "%s/submission.tar.gz", hostile);
    run_in(&r, NULL, (const char *const[]){ dlgrade, "grade", archive, "-a", TEMPLATE_ASSIGNMENT,
                                            "-o", out, "--public-only", "--quiet", NULL },
           NULL, 300);
    ck_assert_ran(&r, 1);
    run_release(&r);
    char path[900];
    snprintf(path, sizeof path, "%s/results.json", out);
    json_error_t error;
    json_t *results = json_load_file(path, 0, &error);
    ck_assert_msg(results != NULL, "%s: %s", path, error.text);
    const char *output = output_of(results, "linear-forward");
    ck_assert_msg(output != NULL && strstr(output, sentence) != NULL, "%s",
                  output ? output : "no linear-forward");
    output = output_of(results, "relu-forward");
    ck_assert_msg(output != NULL && strstr(output, "agrees with the reference") != NULL, "%s",
                  output ? output : "no relu-forward");
    json_decref(results);
}
END_TEST

/* ---- 5. make submit ------------------------------------------------------------------ */

START_TEST(make_submit_packs_exactly_the_graded_files_and_says_so)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    /* A stray file must stay out. */
    char stray[700];
    snprintf(stray, sizeof stray, "%s/notes.txt", solved);
    write_text(stray, "my notes\n");
    run_result r;
    run_in(&r, solved, (const char *const[]){ "make", "submit", NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    const char *packed = strstr(r.output, "packed into submission.tar.gz");
    ck_assert_msg(packed != NULL, "%s", r.output);
    char *expected[DG_MAX_UNITS + 3];
    int count = 0;
    for (int u = 0; u < config->unit_count; u++)
        expected[count++] = config->units[u].file;
    expected[count++] = "answers.yaml";
    /* The trained model, which the fixture made. */
    const dg_check_config *model = model_of(config);
    if (model != NULL) {
        expected[count++] = (char *)model->spec_file;
        expected[count++] = (char *)model->weights_file;
    }
    for (int i = 0; i < count; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n  %s\n", expected[i]);
        ck_assert_msg(strstr(packed, line) != NULL, "%s is not said to be packed:\n%s",
                      expected[i], r.output);
    }
    run_release(&r);
    run_in(&r, solved, (const char *const[]){ "tar", "tzf", "submission.tar.gz", NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    qsort(expected, (size_t)count, sizeof *expected, compare_strings);
    char *listed[64];
    int listed_count = 0;
    for (char *line = strtok(r.output, "\n"); line != NULL && listed_count < 64;
         line = strtok(NULL, "\n"))
        listed[listed_count++] = line;
    qsort(listed, (size_t)listed_count, sizeof *listed, compare_strings);
    ck_assert_int_eq(listed_count, count);
    for (int i = 0; i < count; i++)
        ck_assert_str_eq(listed[i], expected[i]);
    run_release(&r);
    unlink(stray);
    free(config);
}
END_TEST

/* ---- 6. CI ----------------------------------------------------------------------------- */

/* The command of the workflow files that runs the checks: the GitHub
 * step's `run:` and the GitLab job's script line naming ci/run-checks,
 * which must be the same. */
static void ci_command(char *out, size_t size, const char *template_dir)
{
    char path[800];
    nn_yaml_document *github, *gitlab;
    nn_error err = { 0 };
    snprintf(path, sizeof path, "%s/.github/workflows/checks.yml", template_dir);
    ck_assert_msg(nn_yaml_load(&github, path, &err) == NN_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/.gitlab-ci.yml", template_dir);
    ck_assert_msg(nn_yaml_load(&gitlab, path, &err) == NN_OK, "%s", err.message);
    const char *from_github = NULL, *from_gitlab = NULL;
    nn_yaml_node *jobs = nn_yaml_get(github, nn_yaml_root(github), "jobs");
    for (int j = 0; nn_yaml_is_mapping(jobs) && j < nn_yaml_mapping_size(jobs); j++) {
        nn_yaml_node *steps = nn_yaml_get(github, nn_yaml_mapping_value(github, jobs, j), "steps");
        for (int s = 0; nn_yaml_is_sequence(steps) && s < nn_yaml_sequence_size(steps); s++) {
            const char *run = nn_yaml_scalar(
                nn_yaml_get(github, nn_yaml_sequence_item(github, steps, s), "run"));
            if (run != NULL && strstr(run, "ci/run-checks") != NULL)
                from_github = run;
        }
    }
    nn_yaml_node *root = nn_yaml_root(gitlab);
    for (int j = 0; nn_yaml_is_mapping(root) && j < nn_yaml_mapping_size(root); j++) {
        nn_yaml_node *script = nn_yaml_get(gitlab, nn_yaml_mapping_value(gitlab, root, j),
                                           "script");
        for (int s = 0; nn_yaml_is_sequence(script) && s < nn_yaml_sequence_size(script); s++) {
            const char *line = nn_yaml_scalar(nn_yaml_sequence_item(gitlab, script, s));
            if (line != NULL && strstr(line, "ci/run-checks") != NULL)
                from_gitlab = line;
        }
    }
    ck_assert_msg(from_github != NULL, "the GitHub workflow does not run ci/run-checks");
    ck_assert_msg(from_gitlab != NULL, ".gitlab-ci.yml does not run ci/run-checks");
    ck_assert_str_eq(from_github, from_gitlab);
    snprintf(out, size, "%s", from_github);
    /* Both keep junit.xml. */
    char *text = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "junit: junit.xml"));
    free(text);
    snprintf(path, sizeof path, "%s/.github/workflows/checks.yml", template_dir);
    text = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "path: junit.xml"));
    free(text);
    nn_yaml_free(github);
    nn_yaml_free(gitlab);
}

/* The value of attribute in the first element of xml that has it. */
static long xml_count(const char *xml, const char *attribute)
{
    char needle[64];
    snprintf(needle, sizeof needle, " %s=\"", attribute);
    const char *at = strstr(xml, needle);
    ck_assert_msg(at != NULL, "no %s in junit.xml", attribute);
    return strtol(at + strlen(needle), NULL, 10);
}

/* The 1-based line where function's definition starts in path. */
static int definition_line(const char *path, const char *function)
{
    char *text = slurp(path, NULL);
    ck_assert_ptr_nonnull(text);
    char needle[96];
    snprintf(needle, sizeof needle, " %s(", function);
    int number = 1;
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)(length < 1023 ? length : 1023), line);
        if (strstr(one, needle) != NULL && strchr(one, ';') == NULL && one[0] != ' ') {
            free(text);
            return number;
        }
        number++;
        line += length + (line[length] == '\n');
    }
    free(text);
    ck_abort_msg("no definition of %s in %s", function, path);
    return 0;
}

START_TEST(ci_run_checks_fails_an_untouched_template_with_junit_summary_and_annotations)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    int checks = public_local_check_count(config);
    char command[256];
    ci_command(command, sizeof command, untouched);
    char junit[700], summary[700];
    snprintf(junit, sizeof junit, "%s/junit.xml", untouched);
    snprintf(summary, sizeof summary, "%s/ci-summary.md", untouched);
    unlink(junit);
    unlink(summary);

    /* Outside GitHub: text output, the summary in ci-summary.md. */
    run_result r;
    run_in(&r, untouched, (const char *const[]){ "sh", "-c", command, NULL }, NULL, 240);
    ck_assert_ran(&r, 1);
    ck_assert_ptr_null(strstr(r.output, "::error"));
    run_release(&r);
    char *xml = slurp(junit, NULL);
    ck_assert_msg(xml != NULL, "no junit.xml written");
    ck_assert_int_eq(xml_count(xml, "tests"), checks);
    ck_assert_int_eq(xml_count(xml, "failures") + xml_count(xml, "errors"), checks);
    free(xml);
    char *markdown = slurp(summary, NULL);
    ck_assert_msg(markdown != NULL, "no ci-summary.md written");
    ck_assert_ptr_nonnull(strstr(markdown, "not implemented"));
    free(markdown);

    /* On GitHub: annotations on the stubs' lines, the job summary where
     * GitHub says. */
    char github_summary[700], setting[800];
    snprintf(github_summary, sizeof github_summary, "%s/step-summary.md", scratch);
    snprintf(setting, sizeof setting, "GITHUB_STEP_SUMMARY=%s", github_summary);
    run_in(&r, untouched, (const char *const[]){ "sh", "-c", command, NULL },
           (const char *const[]){ "GITHUB_ACTIONS=true", setting, NULL }, 240);
    ck_assert_ran(&r, 1);
    for (int i = 0; i < config->check_count; i++) {
        const dg_check_config *c = &config->checks[i];
        if (c->visibility != DG_VISIBLE_PUBLIC
            || (c->kind != DG_CHECK_COMPARE && c->kind != DG_CHECK_GRADCHECK))
            continue;
        const char *file = config->units[c->unit].file;
        char path[800], annotation[300];
        snprintf(path, sizeof path, "%s/%s", untouched, file);
        snprintf(annotation, sizeof annotation, "::error file=%s,line=%d,title=%s::", file,
                 definition_line(path, c->function), c->id);
        const char *at = strstr(r.output, annotation);
        ck_assert_msg(at != NULL, "no \"%s\" in:\n%s", annotation, r.output);
        /* One line, ending with the message, not with an escaped newline. */
        size_t length = strcspn(at, "\n");
        ck_assert_msg(length > 3 && strncmp(at + length - 3, "%0A", 3) != 0, "%.*s",
                      (int)length, at);
        ck_assert_ptr_nonnull(strstr(at, "not implemented"));
    }
    run_release(&r);
    markdown = slurp(github_summary, NULL);
    ck_assert_msg(markdown != NULL, "no job summary at $GITHUB_STEP_SUMMARY");
    ck_assert_msg(strstr(markdown, "Score 0 / ") != NULL, "%s", markdown);
    free(markdown);

    /* The packages are installed by the script the workflows call. */
    char script[700];
    snprintf(script, sizeof script, "%s/ci/run-checks", untouched);
    char *text = slurp(script, NULL);
    ck_assert_ptr_nonnull(strstr(text, "ensure-deps"));
    free(text);
    free(config);
}
END_TEST

START_TEST(ci_run_checks_passes_the_reference_units)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    char command[256], junit[700];
    ci_command(command, sizeof command, solved);
    snprintf(junit, sizeof junit, "%s/junit.xml", solved);
    unlink(junit);
    run_result r;
    run_in(&r, solved, (const char *const[]){ "sh", "-c", command, NULL },
           (const char *const[]){ "GITHUB_ACTIONS=true", NULL }, 240);
    ck_assert_ran(&r, 0);
    ck_assert_ptr_null(strstr(r.output, "::error"));
    run_release(&r);
    char *xml = slurp(junit, NULL);
    ck_assert_ptr_nonnull(xml);
    ck_assert_int_eq(xml_count(xml, "tests"), public_local_check_count(config));
    ck_assert_int_eq(xml_count(xml, "failures") + xml_count(xml, "errors"), 0);
    free(xml);
    free(config);
}
END_TEST

/* ---- 7. make train ----------------------------------------------------------------------- */

START_TEST(make_train_shows_epochs_and_the_final_test_accuracy)
{
    REQUIRE_TEMPLATES();
    run_result r;
    /* WEIGHTS elsewhere: the fixture's trained model.weights stays. */
    run_in(&r, solved, (const char *const[]){ "make", "train", "EPOCHS=1", "LIMIT=5000",
                                              "WEIGHTS=quick.weights", NULL },
           NULL, 120);
    ck_assert_ran(&r, 0);
    ck_assert_msg(strstr(r.output, "5000 train") != NULL, "%s", r.output);
    ck_assert_msg(strstr(r.output, "weights written to quick.weights") != NULL, "%s", r.output);
    char quick[700];
    snprintf(quick, sizeof quick, "%s/quick.weights", solved);
    ck_assert_int_eq(access(quick, R_OK), 0);
    unlink(quick);
    const char *epoch = strstr(r.output, "epoch   1/1");
    ck_assert_msg(epoch != NULL, "no progress line in:\n%s", r.output);
    ck_assert_ptr_nonnull(strstr(epoch, "loss"));
    const char *final = strstr(r.output, "final test accuracy ");
    ck_assert_msg(final != NULL, "%s", r.output);
    double accuracy = strtod(final + strlen("final test accuracy "), NULL);
    /* Ten classes: chance is 0.1; one short epoch of a working network
     * is far above it. */
    ck_assert_msg(accuracy > 0.5 && accuracy <= 1, "accuracy %g", accuracy);
    run_release(&r);

    /* An untouched template stops at once and says why, as a failure of
     * the student's code (1), not of the tool (3). */
    run_in(&r, untouched, (const char *const[]){ "./build/train", "checks/mlp-accuracy.model.yaml",
                                                 "--epochs", "1", "--limit", "1000", NULL },
           NULL, 120);
    ck_assert_ran(&r, 1);
    ck_assert_msg(strstr(r.output, "not implemented") != NULL, "%s", r.output);
    run_release(&r);
}
END_TEST

/* ---- 7. mistakes told by their numbers, here and at grading --------------------------- */

/* The "looks like ..." lines of text, each up to its end, one a line. */
static void looks_like_lines(char *out, size_t size, const char *text)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *at = text; (at = strstr(at, "looks like ")) != NULL; at++) {
        int length = (int)strcspn(at, "\n");
        int wrote = snprintf(out + used, size - used, "%.*s\n", length, at);
        ck_assert_msg(wrote > 0 && (size_t)wrote < size - used, "too many lines");
        used += (size_t)wrote;
    }
}

/* The entry of check id in results.json's tests. */
static json_t *test_of(json_t *results, const char *id)
{
    json_t *tests = json_object_get(results, "tests");
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        if (strcmp(json_string_value(json_object_get(test, "number")), id) == 0)
            return test;
    }
    ck_abort_msg("results.json has no check %s", id);
    return NULL;
}

/* Writes into folder (under scratch) an assignment.yaml holding the unit
 * `linear` of fc-networks and its two public compare checks, each as
 * fc-networks declares it (function, points, tolerance), and nothing
 * else. */
static void write_linear_only_assignment(char *folder, size_t size)
{
    dg_config *config = load_assignment(TEMPLATE_ASSIGNMENT);
    snprintf(folder, size, "%s/linear-only", scratch);
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    char path[900];
    snprintf(path, sizeof path, "%s/assignment.yaml", folder);
    FILE *file = fopen(path, "w");
    ck_assert_msg(file != NULL, "cannot write %s", path);
    int unit = dg_config_find_unit(config, "linear");
    ck_assert_int_ge(unit, 0);
    fprintf(file, "assignment: linear-only\ntitle: %s's linear layer\nunits:\n  linear:\n"
                  "    file: %s\n    functions: [",
            TEMPLATE_ASSIGNMENT, config->units[unit].file);
    for (int f = 0; f < config->units[unit].function_count; f++)
        fprintf(file, "%s%s", f > 0 ? ", " : "", config->units[unit].functions[f]);
    fprintf(file, "]\nchecks:\n");
    const char *ids[] = { "linear-forward", "linear-backward" };
    for (int i = 0; i < 2; i++) {
        int index = dg_config_find_check(config, ids[i]);
        ck_assert_int_ge(index, 0);
        const dg_check_config *check = &config->checks[index];
        ck_assert_int_eq(check->kind, DG_CHECK_COMPARE);
        ck_assert_int_eq(check->visibility, DG_VISIBLE_PUBLIC);
        fprintf(file, "  - id: %s\n    name: %s\n    kind: compare\n    function: %s\n"
                      "    points: %.17g\n    tolerance: %.17g\n",
                check->id, check->id, check->function, check->points, check->tolerance);
    }
    ck_assert_int_eq(fclose(file), 0);
    free(config);
}

START_TEST(make_test_and_the_grader_tell_a_transposed_weight_alike)
{
    REQUIRE_TEMPLATES();
    char folder[700];
    snprintf(folder, sizeof folder, "%s/transposed", scratch);
    run_result r;
    run_in(&r, NULL, (const char *const[]){ "cp", "-a", solved, folder, NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    run_in(&r, NULL, (const char *const[]){ "cp",
                                            "grader/tests/corpus/submissions/weight-transposed/"
                                            "linear.c", folder, NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    run_in(&r, folder, (const char *const[]){ "make", "build/check", NULL }, NULL, 120);
    ck_assert_ran(&r, 0);
    run_release(&r);
    run_in(&r, folder, (const char *const[]){ "./build/check", "linear-forward",
                                              "linear-backward", NULL }, NULL, 60);
    ck_assert_ran(&r, 1);
    char local[2048];
    looks_like_lines(local, sizeof local, r.output);
    run_release(&r);

    /* The grader on the same two checks, from `make submit`'s archive as
     * ever, with an assignment of just them (all of fc-networks would
     * also train its network on this slow layer, half a minute that says
     * nothing about these messages). */
    char assignment[800];
    write_linear_only_assignment(assignment, sizeof assignment);
    run_in(&r, folder, (const char *const[]){ "make", "submit", NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    char archive[800], out[800];
    snprintf(archive, sizeof archive, "%s/submission.tar.gz", folder);
    snprintf(out, sizeof out, "%s/graded", folder);
    json_t *results;
    ck_assert_int_eq(grade(&results, archive, assignment, out), 1);
    ck_assert_int_eq((int)json_array_size(json_object_get(results, "tests")), 2);
    char outputs[8192];
    snprintf(outputs, sizeof outputs, "%s\n%s",
             json_string_value(json_object_get(test_of(results, "linear-forward"), "output")),
             json_string_value(json_object_get(test_of(results, "linear-backward"), "output")));
    char graded[2048];
    looks_like_lines(graded, sizeof graded, outputs);
    json_decref(results);
    /* One line a check, the grader's words, on other inputs. */
    ck_assert_msg(strstr(local, "looks like the weight is read transposed") != NULL, "%s", local);
    ck_assert_msg(strstr(local, "looks like the weight is indexed transposed") != NULL, "%s",
                  local);
    ck_assert_str_eq(local, graded);
}
END_TEST

/* The buggy sample of `make demo` (scripts/demo: the reference units
 * edited by the assignment's samples/buggy.sed) leaves out Adam's
 * second-moment bias correction; grading says exactly that. */
START_TEST(the_demos_buggy_adam_is_told_which_bias_correction_it_lacks)
{
    REQUIRE_TEMPLATES();
    dg_config *config = load_assignment("optimizers");
    char folder[700], out[800];
    snprintf(folder, sizeof folder, "%s/optimizers-buggy", scratch);
    snprintf(out, sizeof out, "%s-graded", folder);
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    for (int u = 0; u < config->unit_count; u++) {
        char command[1600];
        snprintf(command, sizeof command,
                 "sed -f assignments/optimizers/samples/buggy.sed reference/src/%s > %s/%s",
                 config->units[u].file, folder, config->units[u].file);
        run_result r;
        run_in(&r, NULL, (const char *const[]){ "sh", "-c", command, NULL }, NULL, 60);
        ck_assert_ran(&r, 0);
        run_release(&r);
    }
    run_result r;
    run_in(&r, NULL, (const char *const[]){ "cp", "assignments/optimizers/samples/answers.yaml",
                                            folder, NULL }, NULL, 60);
    ck_assert_ran(&r, 0);
    run_release(&r);
    json_t *results;
    ck_assert_int_eq(grade(&results, folder, "optimizers", out), 1);
    json_t *adam = test_of(results, "adam-step");
    const char *output = json_string_value(json_object_get(adam, "output"));
    ck_assert_str_eq(json_string_value(json_object_get(adam, "status")), "failed");
    char lines[2048];
    looks_like_lines(lines, sizeof lines, output);
    ck_assert_msg(strcmp(lines, "looks like the second moment's bias correction is left out: "
                                "sqrt(v) is used where sqrt(v / (1 - beta2^t)) belongs\n") == 0,
                  "%s", output);
    ck_assert_str_eq(json_string_value(json_object_get(test_of(results, "rmsprop-step"),
                                                       "status")),
                     "passed");
    json_decref(results);
    free(config);
}
END_TEST

Suite *release_suite(void);
Suite *release_suite(void)
{
    Suite *suite = suite_create("release");
    if (!integration_enabled()) {
        fprintf(stderr, "release_suite: SKIPPED: the student-template tests build and run the "
                        "templates (one to two minutes); they run once in `make test-integration` "
                        "(part of `make test`), or with DLGRADE_INTEGRATION=1\n");
        return suite;
    }
    TCase *release = tcase_create("release");
    tcase_set_timeout(release, 240);
    tcase_add_test(release, each_committed_template_is_exactly_a_fresh_release);
    tcase_add_test(release, no_solution_hidden_check_quiz_key_or_data_reaches_a_template);
    tcase_add_test(release, the_leak_detector_catches_a_pasted_solution_line);
    suite_add_tcase(suite, release);

    TCase *templates = tcase_create("templates");
    tcase_set_timeout(templates, 300);
    tcase_add_unchecked_fixture(templates, templates_setup, templates_teardown);
    tcase_add_test(templates, make_test_in_an_untouched_template_says_todo_for_every_check);
    tcase_add_test(templates, an_untouched_template_is_graded_zero_with_not_implemented_per_check);
    tcase_add_test(templates, make_test_passes_every_public_check_with_the_reference_units);
    tcase_add_test(templates, the_reference_units_and_correct_answers_get_full_marks);
    tcase_add_test(templates, make_test_refuses_a_file_as_the_grader_does_with_the_same_words);
    tcase_add_test(templates, make_submit_packs_exactly_the_graded_files_and_says_so);
    tcase_add_test(templates,
                   ci_run_checks_fails_an_untouched_template_with_junit_summary_and_annotations);
    tcase_add_test(templates, ci_run_checks_passes_the_reference_units);
    tcase_add_test(templates, make_train_shows_epochs_and_the_final_test_accuracy);
    tcase_add_test(templates, make_test_and_the_grader_tell_a_transposed_weight_alike);
    tcase_add_test(templates, the_demos_buggy_adam_is_told_which_bias_correction_it_lacks);
    suite_add_tcase(suite, templates);
    return suite;
}
