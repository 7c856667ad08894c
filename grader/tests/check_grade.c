/*
 * check_grade.c - the grader end to end, as instructors and CI run it:
 * build/double/dlgrade grade in a child process, on the corpus of hostile
 * and broken input under grader/tests/corpus/, with a fixed seed, a private
 * output folder and a private TMPDIR.
 *
 *   corpus/assignment/     the test assignment (linear layer, short limits)
 *   corpus/submissions/X/  a hostile or broken linear.c and expect.txt:
 *                              mode public-only | all
 *                              exit N
 *                              check ID OUTCOME POINTS [text in its output]
 *                              build TEXT      (in report.md's build log)
 *                              missing TEXT    (in no report file)
 *                              absent PATH     (must not exist afterwards)
 *                          OUTCOME as in the reports, with '-' for ' '
 *                          ("build-error"). In the sources and in
 *                          expect.txt, @REPO@, @OUT@, @SENTINEL@, @SECRET@,
 *                          @ASSIGNMENT@ and @KIT@ stand for real paths, so
 *                          that an attack aims at the right place.
 *   corpus/configs/X/      a broken assignment.yaml (and model spec, data)
 *                          with expect.txt: exit 2, the message (@DIR@ is
 *                          the folder), and DLGRADE_DATA when it matters.
 *   corpus/model-assignment/  a model check on the blobs (nothing to compile)
 *   corpus/models/X/       a submitted model (spec and weights, damaged or
 *                          hostile; make_weights.py wrote the weights) with
 *                          expect.txt: exit N, the message or the check.
 * Hostile archives are written by the tests themselves (libarchive).
 *
 * Whatever the case, every grading must also: leave no process of its
 * sandbox uids (60000 + slot, for the GRADE_JOBS slots from its first: each
 * grading has slots of its own, and grades GRADE_JOBS checks at once), leave
 * nothing in its TMPDIR (the workspace is removed), create nothing in the
 * sentinel folder the attacks aim at, keep every report valid (results.json
 * loads, no control characters, no script in the HTML) and free of secrets
 * (a line of the reference source, of the hidden assignment, of a host
 * file the submission tries to read, /etc/shadow's first line).
 *
 * The grader under test is the double build next to this test program's
 * own folder (build/<variant>/check-all -> build/double/dlgrade).
 */
#include "../../reference/tests/testutil.h"

#include "inspect.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* The program under test is build/double/dlgrade whichever build runs
 * these tests: the long runs (the corpus, whole runs) are made once, by
 * the double build without sanitizers; the others keep the quick
 * refusals of broken input. */
#if NN_REAL_IS_DOUBLE && !defined(__SANITIZE_ADDRESS__)
#define LONG_RUNS 1
#else
#define LONG_RUNS 0
#endif

#define CORPUS "grader/tests/corpus"
#define SENTINEL "/tmp/dlgrade-corpus-sentinel"
#define SECRET_FILE "/tmp/dlgrade-corpus-secret"
#define SECRET_TEXT "dlgrade-corpus-secret-6e1f0b2d"
/* Lines that exist in files no report may quote (checked to exist). */
#define REFERENCE_LINE "Writing the bias into every row first lets the GEMM add onto it"
#define ASSIGNMENT_LINE "The grader's own test assignment"
#define SEED "7"
#define MAX_CASES 64
#define REPORT_COUNT 4
/* Every grading here runs this many checks at once (--jobs), unless a test
 * says otherwise, and so uses this many slots. */
#define GRADE_JOBS 2
#define GRADE_JOBS_TEXT "2"

static const char *const report_names[REPORT_COUNT] = { "results.json", "junit.xml",
                                                        "report.md", "report.html" };

/* ---- small helpers --------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    size_t capacity = 4096, used = 0;
    char *text = malloc(capacity);
    size_t got;
    while (text != NULL && (got = fread(text + used, 1, capacity - used - 1, file)) > 0) {
        used += got;
        if (used + 1 == capacity) {
            char *bigger = realloc(text, capacity * 2);
            if (bigger == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
    }
    fclose(file);
    if (text != NULL)
        text[used] = '\0';
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "wb");
    ck_assert_msg(file != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_int_eq(fputs(text, file) >= 0, 1);
    ck_assert_int_eq(fclose(file), 0);
}

/* text with every `from` replaced by `to` (malloc'd). */
static char *replace_all(const char *text, const char *from, const char *to)
{
    size_t count = 0, from_length = strlen(from), to_length = strlen(to);
    for (const char *at = strstr(text, from); at != NULL; at = strstr(at + from_length, from))
        count++;
    char *out = malloc(strlen(text) + count * to_length + 1);
    ck_assert_ptr_nonnull(out);
    char *end = out;
    for (const char *at; (at = strstr(text, from)) != NULL; text = at + from_length) {
        memcpy(end, text, (size_t)(at - text));
        end += at - text;
        memcpy(end, to, to_length);
        end += to_length;
    }
    strcpy(end, text);
    return out;
}

static bool exists(const char *path)
{
    struct stat info;
    return lstat(path, &info) == 0;
}

/* Entries of a folder other than . and .. (0 when it does not exist). */
static int count_entries(const char *path, char *first, size_t first_size)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (count++ == 0 && first != NULL)
            snprintf(first, first_size, "%s", entry->d_name);
    }
    closedir(dir);
    return count;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted names of the folders under path (at most MAX_CASES); files
 * beside them (a script that made their data) are not cases. */
static int list_cases(char names[][64], const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < MAX_CASES) {
        char full[PATH_MAX];
        struct stat info;
        snprintf(full, sizeof full, "%s/%s", path, entry->d_name);
        if (entry->d_name[0] != '.' && strlen(entry->d_name) < 64 && stat(full, &info) == 0
            && S_ISDIR(info.st_mode))
            snprintf(names[count++], 64, "%s", entry->d_name);
    }
    closedir(dir);
    const char *order[MAX_CASES];
    char copy[MAX_CASES][64];
    for (int i = 0; i < count; i++) {
        memcpy(copy[i], names[i], 64);
        order[i] = copy[i];
    }
    qsort(order, (size_t)count, sizeof order[0], compare_strings);
    for (int i = 0; i < count; i++)
        snprintf(names[i], 64, "%s", order[i]);
    return count;
}

/* ---- the program under test ------------------------------------------------- */

static char repository[PATH_MAX];
static char dlgrade[PATH_MAX];

/* The repository is the current folder (tests run from its root); the
 * grader is build/double/dlgrade beside this program's build folder. */
static void find_programs(void)
{
    ck_assert_ptr_nonnull(getcwd(repository, sizeof repository));
    char self[PATH_MAX], sibling[PATH_MAX + 32];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(length, 0);
    self[length] = '\0';
    snprintf(sibling, sizeof sibling, "%s/../double/dlgrade", dirname(self));
    ck_assert_msg(realpath(sibling, dlgrade) != NULL && access(dlgrade, X_OK) == 0,
                  "the grader %s is not built (make all)", sibling);
    ck_assert_msg(exists(CORPUS "/assignment/assignment.yaml"),
                  "run the tests from the repository's root: no " CORPUS " here");
}

/* Slots of its own for each grading, so that the processes left (there
 * must be none) are this grading's and nobody else's. */
static int next_slot(void)
{
    static int counter;
    return 100 + GRADE_JOBS * (int)((getpid() * 7 + counter++) % (3900 / GRADE_JOBS));
}

/* Processes whose real uid is uid (and whose name is `name`, unless
 * NULL); zombies counted only when asked. */
static int processes_of(uid_t uid, const char *name, bool zombies, char *example,
                        size_t example_size)
{
    DIR *proc = opendir("/proc");
    ck_assert_ptr_nonnull(proc);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/status", entry->d_name);
        char *status = read_text(path);
        if (status == NULL)
            continue;
        const char *uid_line = strstr(status, "\nUid:");
        char command[32] = "";
        sscanf(status, "Name:%31s", command);
        const char *state = strstr(status, "\nState:");
        unsigned long real = 0;
        char letter = '?';
        if (uid_line != NULL)
            real = strtoul(uid_line + 5, NULL, 10);
        if (state != NULL)
            sscanf(state + 7, " %c", &letter);
        if (uid_line != NULL && real == uid && (zombies || letter != 'Z')
            && (name == NULL || strcmp(command, name) == 0)) {
            if (count++ == 0 && example != NULL)
                snprintf(example, example_size, "pid %s, state %c, %s", entry->d_name, letter,
                         command);
        }
        free(status);
    }
    closedir(proc);
    return count;
}

/* Waits up to `seconds` for the uids of the grading's slots (slot to slot
 * + GRADE_JOBS - 1) to own no process. */
static void assert_no_process_left(int slot, double seconds, bool zombies, const char *what)
{
    uid_t uid = (uid_t)(60000 + slot);
    char example[128] = "";
    int left = 0;
    for (int waited_ms = 0;; waited_ms += 50) {
        left = 0;
        for (int k = 0; k < GRADE_JOBS; k++)
            if (left == 0) {
                uid = (uid_t)(60000 + slot + k);
                left = processes_of(uid, NULL, zombies, example, sizeof example);
            }
        if (left == 0 || waited_ms >= seconds * 1000)
            break;
        struct timespec pause = { 0, 50 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    ck_assert_msg(left == 0, "%s: %d process(es) of uid %d left after %.1f s (%s)", what, left,
                  (int)uid, seconds, example);
}

typedef struct grading {
    char base[512];          /* private folder of this grading */
    char submission[600];    /* base/submission (or an archive path) */
    char out[600];           /* base/out: the reports */
    char tmp[600];           /* base/tmp: the grader's TMPDIR */
    char stderr_path[600];
    int slot;
    pid_t pid;
    int status;              /* exit status, or 128 + signal */
    char *errors;            /* what the grader printed on stderr */
    json_t *results;         /* results.json, when there is one */
} grading;

static void grading_init(grading *g)
{
    memset(g, 0, sizeof *g);
    test_make_temp_dir(g->base, sizeof g->base);
    /* the sandbox's uid must reach the workspace under base/tmp */
    ck_assert_int_eq(chmod(g->base, 0755), 0);
    snprintf(g->submission, sizeof g->submission, "%s/submission", g->base);
    snprintf(g->out, sizeof g->out, "%s/out", g->base);
    snprintf(g->tmp, sizeof g->tmp, "%s/tmp", g->base);
    snprintf(g->stderr_path, sizeof g->stderr_path, "%s/stderr", g->base);
    ck_assert_int_eq(mkdir(g->tmp, 0755), 0);
    g->slot = next_slot();
}

static void grading_release(grading *g)
{
    free(g->errors);
    json_decref(g->results);
    test_remove_dir(g->base);
}

/* Starts dlgrade grade on g->submission; extra arguments end with NULL. */
static void grading_start(grading *g, const char *assignment, const char *data,
                          const char *const *extra)
{
    char slot[16];
    snprintf(slot, sizeof slot, "%d", g->slot);
    /* The options of extra come last, and win. */
    const char *argv[24] = { dlgrade, "grade", g->submission, "-a", assignment, "-o", g->out,
                             "--seed", SEED, "--slot", slot, "--quiet", "--jobs",
                             GRADE_JOBS_TEXT };
    int argc = 14;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 23; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    fflush(NULL);
    g->pid = fork();
    ck_assert_int_ge(g->pid, 0);
    if (g->pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int errors = open(g->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null < 0 || errors < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0
            || dup2(errors, 2) < 0)
            _exit(126);
        setenv("TMPDIR", g->tmp, 1);
        if (data != NULL)
            setenv("DLGRADE_DATA", data, 1);
        else
            unsetenv("DLGRADE_DATA");
        execv(dlgrade, (char *const *)argv);
        _exit(127);
    }
}

/* Waits for the grader; reads stderr and results.json. */
static void grading_wait(grading *g)
{
    int status;
    ck_assert_int_eq(waitpid(g->pid, &status, 0), g->pid);
    g->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    g->errors = read_text(g->stderr_path);
    ck_assert_ptr_nonnull(g->errors);
    char path[700];
    snprintf(path, sizeof path, "%s/results.json", g->out);
    if (exists(path)) {
        json_error_t error;
        g->results = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
        ck_assert_msg(g->results != NULL, "results.json does not load: %s at line %d",
                      error.text, error.line);
    }
}

static void grade(grading *g, const char *assignment, const char *data,
                  const char *const *extra)
{
    grading_start(g, assignment, data, extra);
    grading_wait(g);
}

/* The test of results.json with the given id, or NULL. */
static json_t *find_test(const grading *g, const char *id)
{
    json_t *tests = json_object_get(g->results, "tests");
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const char *number = json_string_value(json_object_get(test, "number"));
        if (number != NULL && strcmp(number, id) == 0)
            return test;
    }
    return NULL;
}

static const char *test_string(json_t *test, const char *key)
{
    const char *value = json_string_value(json_object_get(test, key));
    return value != NULL ? value : "";
}

static const char *test_outcome(json_t *test)
{
    const char *value = json_string_value(json_object_get(json_object_get(test, "extra_data"),
                                                          "outcome"));
    return value != NULL ? value : "";
}

/* Asserts one "check ID OUTCOME POINTS [text]" line of expect.txt. */
static void assert_check_line(const grading *g, const char *name, const char *line)
{
    char id[64], outcome[64];
    double points;
    int used = 0;
    ck_assert_msg(sscanf(line, "%63s %63s %lf %n", id, outcome, &points, &used) >= 3,
                  "%s: bad expectation '%s'", name, line);
    for (char *c = outcome; *c; c++)
        if (*c == '-')
            *c = ' ';
    json_t *test = find_test(g, id);
    ck_assert_msg(test != NULL, "%s: no check %s in results.json", name, id);
    ck_assert_msg(strcmp(test_outcome(test), outcome) == 0,
                  "%s: check %s is '%s', expected '%s'; its output:\n%s", name, id,
                  test_outcome(test), outcome, test_string(test, "output"));
    double score = json_number_value(json_object_get(test, "score"));
    ck_assert_msg(fabs(score - points) < 1e-9, "%s: check %s scored %g, expected %g", name, id,
                  score, points);
    const char *text = line + used;
    if (text[0] != '\0')
        ck_assert_msg(strstr(test_string(test, "output"), text) != NULL,
                      "%s: check %s's output lacks '%s'; it is:\n%s", name, id, text,
                      test_string(test, "output"));
    bool passed = strcmp(outcome, "passed") == 0;
    ck_assert_str_eq(test_string(test, "status"), passed ? "passed" : "failed");
}

/* ---- what every grading must leave behind ------------------------------------ */

static char *shadow_line;

static void make_fixtures(void)
{
    find_programs();
    /* The folder the write attacks aim at, open to everyone: only the
     * sandbox can keep it empty. */
    if (mkdir(SENTINEL, 0777) != 0)
        ck_assert_int_eq(errno, EEXIST);
    ck_assert_int_eq(chmod(SENTINEL, 0777), 0);
    char temporary[64];
    snprintf(temporary, sizeof temporary, "%s.%ld", SECRET_FILE, (long)getpid());
    write_text(temporary, SECRET_TEXT "\n");
    ck_assert_int_eq(chmod(temporary, 0644), 0);
    ck_assert_int_eq(rename(temporary, SECRET_FILE), 0);
    /* The secrets must be where the attacks look, or the test proves
     * nothing. */
    char *reference = read_text("reference/src/linear.c");
    char *assignment = read_text(CORPUS "/assignment/assignment.yaml");
    ck_assert_msg(reference != NULL && strstr(reference, REFERENCE_LINE) != NULL,
                  "reference/src/linear.c no longer holds the line the test looks for");
    ck_assert_msg(assignment != NULL && strstr(assignment, ASSIGNMENT_LINE) != NULL,
                  "the corpus assignment no longer holds the line the test looks for");
    free(reference);
    free(assignment);
    free(shadow_line);
    shadow_line = read_text("/etc/shadow");
    if (shadow_line != NULL)
        shadow_line[strcspn(shadow_line, "\n")] = '\0';
    if (shadow_line != NULL && strlen(shadow_line) < 8) {
        free(shadow_line);
        shadow_line = NULL;
    }
}

/* Reports exist as four complete files (no temporary beside them), hold
 * no secret and no control character, and the HTML no script. */
static void assert_reports_clean(const grading *g, const char *label)
{
    char stray[256] = "";
    DIR *dir = opendir(g->out);
    ck_assert_msg(dir != NULL, "%s: no report folder", label);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        if (strstr(entry->d_name, ".tmp") != NULL)
            snprintf(stray, sizeof stray, "%s", entry->d_name);
    closedir(dir);
    ck_assert_msg(stray[0] == '\0', "%s: a temporary report was left: %s", label, stray);
    const char *secrets[] = { SECRET_TEXT, REFERENCE_LINE, ASSIGNMENT_LINE, shadow_line };
    for (int r = 0; r < REPORT_COUNT; r++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", g->out, report_names[r]);
        char *text = read_text(path);
        ck_assert_msg(text != NULL, "%s: %s is missing", label, report_names[r]);
        for (size_t s = 0; s < sizeof secrets / sizeof secrets[0]; s++)
            ck_assert_msg(secrets[s] == NULL || strstr(text, secrets[s]) == NULL,
                          "%s: %s quotes a secret: %s", label, report_names[r], secrets[s]);
        for (const unsigned char *c = (const unsigned char *)text; *c; c++)
            ck_assert_msg(*c >= 0x20 || *c == '\n' || *c == '\t' || *c == '\r',
                          "%s: %s holds the control character 0x%02x at byte %ld", label,
                          report_names[r], *c, (long)(c - (const unsigned char *)text));
        if (strcmp(report_names[r], "report.html") == 0)
            ck_assert_msg(strstr(text, "<script") == NULL, "%s: report.html holds a script",
                          label);
        free(text);
    }
}

/* No process left, nothing in TMPDIR, nothing in the sentinel folder. */
static void assert_nothing_left(const grading *g, const char *label)
{
    assert_no_process_left(g->slot, 3.0, true, label);
    char first[300] = "";
    ck_assert_msg(count_entries(g->tmp, first, sizeof first) == 0,
                  "%s: the grader left %s in its TMPDIR", label, first);
    ck_assert_msg(count_entries(SENTINEL, first, sizeof first) == 0,
                  "%s: something created %s in %s", label, first, SENTINEL);
}

/* ---- the corpus of hostile submissions ---------------------------------------- */

#if LONG_RUNS
/* Folder names under corpus/submissions, sorted. */
static char submission_cases[MAX_CASES][64];
static int submission_case_count;
#endif

/* Paths the corpus files name with @WORDS@. */
static char *substitute(const char *text, const grading *g)
{
    char assignment[PATH_MAX + 64], kit[PATH_MAX + 64], build[PATH_MAX];
    snprintf(assignment, sizeof assignment, "%s/" CORPUS "/assignment", repository);
    snprintf(build, sizeof build, "%s", dlgrade);      /* BUILD/double/dlgrade */
    snprintf(kit, sizeof kit, "%s/double/runner-kit", dirname(dirname(build)));
    const char *words[][2] = { { "@REPO@", repository }, { "@OUT@", g->out },
                               { "@SENTINEL@", SENTINEL }, { "@SECRET@", SECRET_FILE },
                               { "@ASSIGNMENT@", assignment }, { "@KIT@", kit } };
    char *result = strdup(text);
    ck_assert_ptr_nonnull(result);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        char *next = replace_all(result, words[w][0], words[w][1]);
        free(result);
        result = next;
    }
    return result;
}

/* Copies the files of folder (but expect.txt) into g->submission, with
 * the @WORDS@ replaced. */
static void stage_folder(grading *g, const char *folder)
{
    ck_assert_int_eq(mkdir(g->submission, 0755), 0);
    DIR *dir = opendir(folder);
    ck_assert_ptr_nonnull(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, "expect.txt") == 0)
            continue;
        char from[700], to[900];
        snprintf(from, sizeof from, "%s/%s", folder, entry->d_name);
        snprintf(to, sizeof to, "%s/%s", g->submission, entry->d_name);
        char *text = read_text(from);
        ck_assert_ptr_nonnull(text);
        char *staged = substitute(text, g);
        write_text(to, staged);
        free(staged);
        free(text);
    }
    closedir(dir);
}

/* Copies a corpus case's files (but expect.txt) into g->submission. */
static void stage_submission(grading *g, const char *name)
{
    char folder[400];
    snprintf(folder, sizeof folder, CORPUS "/submissions/%s", name);
    stage_folder(g, folder);
}

#if LONG_RUNS
/* A text that must be in no report file. */
static void assert_missing_everywhere(const grading *g, const char *name, const char *text)
{
    for (int r = 0; r < REPORT_COUNT; r++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", g->out, report_names[r]);
        char *report = read_text(path);
        ck_assert_ptr_nonnull(report);
        ck_assert_msg(strstr(report, text) == NULL, "%s: %s holds '%s'", name, report_names[r],
                      text);
        free(report);
    }
}

/* The corpus is graded before its tests, several gradings at once (they
 * are independent, each with its own slot, folders and TMPDIR): one at a
 * time would take minutes. Each test then checks one grading. */
#define CORPUS_JOBS 3

static grading corpus_gradings[MAX_CASES];
static bool corpus_public_only[MAX_CASES];

static void corpus_setup(void)
{
    make_fixtures();
    int running = 0, started = 0, finished = 0;
    pid_t pids[MAX_CASES];
    while (finished < submission_case_count) {
        while (running < CORPUS_JOBS && started < submission_case_count) {
            grading *g = &corpus_gradings[started];
            grading_init(g);
            stage_submission(g, submission_cases[started]);
            char path[400];
            snprintf(path, sizeof path, CORPUS "/submissions/%s/expect.txt",
                     submission_cases[started]);
            char *expect = read_text(path);
            corpus_public_only[started] = expect != NULL
                                          && strstr(expect, "mode public-only\n") != NULL;
            free(expect);
            const char *public_flag[] = { "--public-only", NULL };
            grading_start(g, CORPUS "/assignment", NULL,
                          corpus_public_only[started] ? public_flag : NULL);
            pids[started++] = g->pid;
            running++;
        }
        int status;
        pid_t done = waitpid(-1, &status, 0);
        for (int i = 0; i < started && done > 0; i++)
            if (pids[i] == done) {
                corpus_gradings[i].status = WIFEXITED(status) ? WEXITSTATUS(status)
                                                              : 128 + WTERMSIG(status);
                corpus_gradings[i].pid = 0;
                running--;
                finished++;
            }
        if (done < 0 && errno != EINTR)
            break;
    }
}

static void corpus_teardown(void)
{
    for (int i = 0; i < submission_case_count; i++)
        if (corpus_gradings[i].base[0] != '\0')
            grading_release(&corpus_gradings[i]);
    memset(corpus_gradings, 0, sizeof corpus_gradings);
}

START_TEST(hostile_submission_gets_exactly_its_expected_outcomes)
{
    ck_assert_msg(submission_case_count >= 30, "the corpus holds %d submissions, not 30",
                  submission_case_count);
    ck_assert_int_lt(_i, submission_case_count);
    const char *name = submission_cases[_i];
    grading *gp = &corpus_gradings[_i];
    ck_assert_msg(gp->base[0] != '\0' && gp->pid == 0, "%s was not graded", name);
    /* what grading_wait does, for a grader the fixture waited for */
    gp->errors = read_text(gp->stderr_path);
    ck_assert_ptr_nonnull(gp->errors);
    char results_path[700];
    snprintf(results_path, sizeof results_path, "%s/results.json", gp->out);
    json_error_t error;
    gp->results = json_load_file(results_path, JSON_REJECT_DUPLICATES, &error);
    grading g = *gp;
    char expect_path[400];
    snprintf(expect_path, sizeof expect_path, CORPUS "/submissions/%s/expect.txt", name);
    char *raw = read_text(expect_path);
    ck_assert_msg(raw != NULL, "%s: no expect.txt", name);
    char *expect = substitute(raw, &g);
    free(raw);
    bool public_only = corpus_public_only[_i];
    ck_assert_msg(public_only || strstr(expect, "mode all\n") != NULL, "%s: no mode line", name);
    int exit_status = -1;
    const char *exit_line = strstr(expect, "exit ");
    ck_assert_msg(exit_line != NULL && sscanf(exit_line, "exit %d", &exit_status) == 1,
                  "%s: no exit line", name);
    ck_assert_msg(g.status == exit_status, "%s: exit status %d, expected %d; stderr:\n%s", name,
                  g.status, exit_status, g.errors);
    ck_assert_msg(g.results != NULL, "%s: no results.json (%s); stderr:\n%s", name, error.text,
                  g.errors);

    /* Exactly the checks the mode runs, and a total that is their sum. */
    json_t *tests = json_object_get(g.results, "tests");
    ck_assert_int_eq(json_array_size(tests), public_only ? 2 : 4);
    double sum = 0;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        sum += json_number_value(json_object_get(test, "score"));
        if (public_only)
            ck_assert_str_eq(test_string(test, "visibility"), "visible");
    }
    ck_assert_double_eq_tol(json_number_value(json_object_get(g.results, "score")), sum, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(g.results, "max_score")),
                            public_only ? 7 : 12, 1e-9);

    char *report_md = NULL;
    for (char *line = expect; *line;) {
        size_t length = strcspn(line, "\n");
        char saved = line[length];
        line[length] = '\0';
        if (strncmp(line, "check ", 6) == 0) {
            assert_check_line(&g, name, line + 6);
        } else if (strncmp(line, "missing ", 8) == 0) {
            assert_missing_everywhere(&g, name, line + 8);
        } else if (strncmp(line, "absent ", 7) == 0) {
            ck_assert_msg(!exists(line + 7), "%s: %s was created", name, line + 7);
        } else if (strncmp(line, "build ", 6) == 0) {
            if (report_md == NULL) {
                char path[700];
                snprintf(path, sizeof path, "%s/report.md", g.out);
                report_md = read_text(path);
                ck_assert_ptr_nonnull(report_md);
            }
            const char *log = strstr(report_md, "## Build log");
            ck_assert_msg(log != NULL && strstr(log, line + 6) != NULL,
                          "%s: the build log lacks '%s'; report.md:\n%s", name, line + 6,
                          report_md);
        } else {
            ck_assert_msg(length == 0 || strncmp(line, "mode ", 5) == 0
                              || strncmp(line, "exit ", 5) == 0,
                          "%s: unknown expectation '%s'", name, line);
        }
        line[length] = saved;
        line += length + (saved != '\0');
    }
    free(report_md);
    free(expect);
    assert_reports_clean(&g, name);
    assert_nothing_left(&g, name);
}
END_TEST


#endif /* LONG_RUNS */

/* ---- broken assignments -------------------------------------------------------- */

static char config_cases[MAX_CASES][64];
static int config_case_count;

START_TEST(broken_assignment_is_refused_with_its_file_line_and_column)
{
    make_fixtures();
    ck_assert_int_lt(_i, config_case_count);
    const char *name = config_cases[_i];
    char folder[400], expect_path[500];
    snprintf(folder, sizeof folder, "%s/" CORPUS "/configs/%s", repository, name);
    snprintf(expect_path, sizeof expect_path, "%s/expect.txt", folder);
    char *raw = read_text(expect_path);
    ck_assert_msg(raw != NULL, "%s: no expect.txt", name);
    char *expect = replace_all(raw, "@DIR@", folder);
    free(raw);

    grading g;
    grading_init(&g);
    stage_submission(&g, "reference-naive");
    char data[600] = "";
    const char *env = strstr(expect, "env DLGRADE_DATA ");
    if (env != NULL) {
        char relative[200];
        ck_assert_int_eq(sscanf(env, "env DLGRADE_DATA %199s", relative), 1);
        snprintf(data, sizeof data, "%s/%s", folder, relative);
    }
    grade(&g, folder, env != NULL ? data : NULL, NULL);

    const char *message = strstr(expect, "message ");
    ck_assert_msg(message != NULL, "%s: no message line", name);
    message += strlen("message ");
    char wanted[1200];
    snprintf(wanted, sizeof wanted, "%.*s", (int)strcspn(message, "\n"), message);
    ck_assert_msg(g.status == 2, "%s: exit status %d, expected 2; stderr:\n%s", name, g.status,
                  g.errors);
    ck_assert_msg(strstr(g.errors, wanted) != NULL, "%s: stderr lacks\n  %s\nit is:\n%s", name,
                  wanted, g.errors);
    /* One problem, one message: a heading and the located line at most. */
    int lines = 0;
    for (const char *c = g.errors; *c; c++)
        lines += *c == '\n';
    ck_assert_msg(lines <= 2, "%s: %d lines on stderr, expected one message:\n%s", name, lines,
                  g.errors);
    ck_assert_msg(!exists(g.out), "%s: a report was written for a broken assignment", name);
    assert_nothing_left(&g, name);
    free(expect);
    grading_release(&g);
}
END_TEST

/* ---- submitted models ------------------------------------------------------------ */

/* corpus/models/X/ holds a submission (model.yaml and model.weights, either
 * possibly missing, binary files copied as they are) for the assignment
 * corpus/model-assignment, and expect.txt: `exit N`, then for exit 2 the
 * `message` that must be the grader's one message, or else `check ID
 * OUTCOME POINTS [text]` lines about the graded check. No student code
 * runs in these gradings, so they run in every build. */
static char model_cases[MAX_CASES][64];
static int model_case_count;

static void copy_binary(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    ck_assert_msg(in != NULL, "cannot read %s: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    ck_assert_msg(out != NULL, "cannot write %s: %s", to, strerror(errno));
    char buffer[65536];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, in)) > 0)
        ck_assert_uint_eq(fwrite(buffer, 1, got, out), got);
    ck_assert_int_eq(ferror(in), 0);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

START_TEST(submitted_model_gets_exactly_its_expected_outcome)
{
    make_fixtures();
    ck_assert_msg(model_case_count >= 12, "the model corpus holds %d cases, not 12",
                  model_case_count);
    ck_assert_int_lt(_i, model_case_count);
    const char *name = model_cases[_i];
    char folder[400], path[500];
    snprintf(folder, sizeof folder, CORPUS "/models/%s", name);
    snprintf(path, sizeof path, "%s/expect.txt", folder);
    char *expect = read_text(path);
    ck_assert_msg(expect != NULL, "%s: no expect.txt", name);

    grading g;
    grading_init(&g);
    ck_assert_int_eq(mkdir(g.submission, 0755), 0);
    const char *files[] = { "model.yaml", "model.weights" };
    for (int f = 0; f < 2; f++) {
        char from[600], to[700];
        snprintf(from, sizeof from, "%s/%s", folder, files[f]);
        snprintf(to, sizeof to, "%s/%s", g.submission, files[f]);
        if (exists(from))
            copy_binary(from, to);
    }
    grade(&g, CORPUS "/model-assignment", NULL, NULL);

    int exit_status = -1;
    ck_assert_msg(sscanf(expect, "exit %d", &exit_status) == 1, "%s: no exit line first", name);
    ck_assert_msg(g.status == exit_status, "%s: exit status %d, expected %d; stderr:\n%s", name,
                  g.status, exit_status, g.errors);
    if (exit_status == 2) {
        const char *message = strstr(expect, "\nmessage ");
        ck_assert_msg(message != NULL, "%s: no message line", name);
        message += strlen("\nmessage ");
        char wanted[1200];
        snprintf(wanted, sizeof wanted, "%.*s", (int)strcspn(message, "\n"), message);
        ck_assert_msg(strstr(g.errors, wanted) != NULL, "%s: stderr lacks\n  %s\nit is:\n%s",
                      name, wanted, g.errors);
        int lines = 0;
        for (const char *c = g.errors; *c; c++)
            lines += *c == '\n';
        ck_assert_msg(lines == 1, "%s: %d lines on stderr, expected one message:\n%s", name,
                      lines, g.errors);
        ck_assert_msg(!exists(g.out), "%s: a report was written for bad input", name);
    } else {
        ck_assert_msg(g.results != NULL, "%s: no results.json; stderr:\n%s", name, g.errors);
        int checks = 0;
        for (char *line = expect; *line;) {
            size_t length = strcspn(line, "\n");
            char saved = line[length];
            line[length] = '\0';
            if (strncmp(line, "check ", 6) == 0) {
                assert_check_line(&g, name, line + 6);
                checks++;
            } else {
                ck_assert_msg(length == 0 || strncmp(line, "exit ", 5) == 0,
                              "%s: unknown expectation '%s'", name, line);
            }
            line[length] = saved;
            line += length + (saved != '\0');
        }
        ck_assert_msg(checks > 0, "%s: no check line", name);
        assert_reports_clean(&g, name);
    }
    assert_nothing_left(&g, name);
    free(expect);
    grading_release(&g);
}
END_TEST

/* ---- hostile archives ------------------------------------------------------------ */

typedef struct archive_member {
    const char *name;
    char type;               /* 'f' file, 'l' symlink, 'h' hard link, 'c' device */
    const char *target;      /* link target */
    size_t zeros;            /* a file of this many zero bytes instead of linear.c */
} archive_member;

typedef struct archive_case {
    const char *label;
    archive_member members[4];
    int thousands;           /* extra small files */
    const char *message;     /* in the single line on stderr */
} archive_case;

static const archive_case archive_cases[] = {
    { "dotdot", { { "linear.c", 'f', NULL, 0 }, { "../escape.c", 'f', NULL, 0 } }, 0,
      "entry 2 '../escape.c': has a '..' component" },
    { "absolute", { { "linear.c", 'f', NULL, 0 }, { SENTINEL "/escape.c", 'f', NULL, 0 } }, 0,
      "entry 2 '" SENTINEL "/escape.c': is an absolute path" },
    { "symlink", { { "linear.c", 'l', "/etc/passwd", 0 } }, 0,
      "entry 1 'linear.c': is a symbolic link" },
    { "hard-link", { { "other.c", 'f', NULL, 0 }, { "linear.c", 'h', "other.c", 0 } }, 0,
      "entry 2 'linear.c': is a hard link" },
    { "device", { { "linear.c", 'f', NULL, 0 }, { "null", 'c', NULL, 0 } }, 0,
      "entry 2 'null': is a character device" },
    { "gzip-bomb", { { "linear.c", 'f', NULL, 0 }, { "zeros.bin", 'f', NULL, 8u << 20 } }, 0,
      "entry 2 'zeros.bin': is 8388608 bytes, more than 4194304" },
    { "thousands-of-files", { { "linear.c", 'f', NULL, 0 } }, 3000,
      "the archive has more than 200 entries" },
    { "long-name",
      { { "linear.c", 'f', NULL, 0 },
        { "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.c",
          'f', NULL, 0 } },
      0, "the name is 322 bytes long, more than 200" },
    { "non-utf8-name", { { "linear.c", 'f', NULL, 0 }, { "lin\xff" "ear.c", 'f', NULL, 0 } }, 0,
      "entry 2 'lin\\xffear.c': the name is not valid UTF-8 (byte 3 is 0xff)" },
    { "truncated-gzip", { { "linear.c", 'f', NULL, 0 } }, 0,
      "cannot read the archive: truncated gzip input" },
};
#define ARCHIVE_CASE_COUNT ((int)(sizeof archive_cases / sizeof archive_cases[0]))

static void add_member(struct archive *a, const archive_member *m, const char *source)
{
    struct archive_entry *entry = archive_entry_new();
    archive_entry_set_pathname(entry, m->name);
    archive_entry_set_mtime(entry, 1700000000, 0);
    size_t size = m->type == 'f' ? (m->zeros > 0 ? m->zeros : strlen(source)) : 0;
    switch (m->type) {
    case 'f':
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        archive_entry_set_size(entry, (la_int64_t)size);
        break;
    case 'l':
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_perm(entry, 0777);
        archive_entry_set_symlink(entry, m->target);
        break;
    case 'h':
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        archive_entry_set_hardlink(entry, m->target);
        archive_entry_set_size(entry, 0);
        break;
    default:
        archive_entry_set_filetype(entry, AE_IFCHR);
        archive_entry_set_perm(entry, 0666);
        archive_entry_set_rdev(entry, (dev_t)((1u << 8) | 3u));
        break;
    }
    ck_assert_msg(archive_write_header(a, entry) == ARCHIVE_OK, "writing '%s': %s", m->name,
                  archive_error_string(a));
    if (m->type == 'f' && m->zeros > 0) {
        static const char block[65536];
        for (size_t done = 0; done < m->zeros; done += sizeof block)
            ck_assert_int_eq(archive_write_data(a, block, sizeof block), (la_ssize_t)sizeof block);
    } else if (size > 0) {
        ck_assert_int_eq(archive_write_data(a, source, size), (la_ssize_t)size);
    }
    archive_entry_free(entry);
}

/* Writes path as a .tar.gz of the members (and `thousands` tiny files):
 * pax, or ustar, which stores names as raw bytes, UTF-8 or not. */
static void write_archive(const char *path, const archive_member *members, int thousands,
                          bool ustar)
{
    char *source = read_text(CORPUS "/submissions/reference-naive/linear.c");
    ck_assert_ptr_nonnull(source);
    struct archive *a = archive_write_new();
    ck_assert_int_eq(ustar ? archive_write_set_format_ustar(a)
                           : archive_write_set_format_pax_restricted(a),
                     ARCHIVE_OK);
    ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < 4 && members[i].name != NULL; i++)
        add_member(a, &members[i], source);
    for (int k = 0; k < thousands; k++) {
        char name[32];
        snprintf(name, sizeof name, "extra/f%04d.c", k);
        archive_member extra = { name, 'f', NULL, 0 };
        add_member(a, &extra, "int x;\n");
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    free(source);
}

START_TEST(hostile_archive_is_refused_with_one_clear_message)
{
    make_fixtures();
    const archive_case *c = &archive_cases[_i];
    grading g;
    grading_init(&g);
    snprintf(g.submission, sizeof g.submission, "%s/%s.tar.gz", g.base, c->label);
    write_archive(g.submission, c->members, c->thousands,
                  strcmp(c->label, "non-utf8-name") == 0);
    if (strcmp(c->label, "truncated-gzip") == 0) {
        struct stat info;
        ck_assert_int_eq(stat(g.submission, &info), 0);
        ck_assert_int_eq(truncate(g.submission, info.st_size / 2), 0);
    }
    const char *public_flag[] = { "--public-only", NULL };
    grade(&g, CORPUS "/assignment", NULL, public_flag);
    ck_assert_msg(g.status == 2, "%s: exit status %d, expected 2; stderr:\n%s", c->label,
                  g.status, g.errors);
    char named[800];
    snprintf(named, sizeof named, "dlgrade grade: submission %s: ", g.submission);
    ck_assert_msg(strncmp(g.errors, named, strlen(named)) == 0 && strstr(g.errors, c->message),
                  "%s: stderr is not\n  %s...%s...\nit is:\n%s", c->label, named, c->message,
                  g.errors);
    ck_assert_msg(strchr(g.errors, '\n') == g.errors + strlen(g.errors) - 1,
                  "%s: more than one line on stderr:\n%s", c->label, g.errors);
    ck_assert_msg(!exists(g.out), "%s: a report was written for a refused archive", c->label);
    assert_nothing_left(&g, c->label);
    grading_release(&g);
}
END_TEST

#if LONG_RUNS
/* ---- the same submission, several ways ------------------------------------------- */

/* results.json without what may differ between two gradings of the same
 * submission: the time fields, and the submission's path (also inside the
 * replay command). The CRC-32 of the graded files stays: an archive and
 * its folder must hash the same. */
static char *comparable_results(const grading *g)
{
    json_t *copy = json_deep_copy(g->results);
    ck_assert_ptr_nonnull(copy);
    json_object_del(copy, "execution_time");
    json_t *extra = json_object_get(copy, "extra_data");
    json_object_del(extra, "started_at");
    json_object_del(extra, "submission");
    json_object_del(extra, "replay");
    char *text = json_dumps(copy, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(copy);
    ck_assert_ptr_nonnull(text);
    return text;
}

static void assert_same_results(const grading *a, const grading *b, const char *what)
{
    ck_assert_ptr_nonnull(a->results);
    ck_assert_ptr_nonnull(b->results);
    char *left = comparable_results(a), *right = comparable_results(b);
    ck_assert_msg(strcmp(left, right) == 0, "%s:\n%s\n--- versus ---\n%s", what, left, right);
    free(left);
    free(right);
}

START_TEST(same_submission_and_seed_give_the_same_results)
{
    make_fixtures();
    grading first, second;
    grading_init(&first);
    grading_init(&second);
    stage_submission(&first, "reference-naive");
    stage_submission(&second, "reference-naive");
    grading_start(&first, CORPUS "/assignment", NULL, NULL);
    grading_start(&second, CORPUS "/assignment", NULL, NULL);
    grading_wait(&first);
    grading_wait(&second);
    ck_assert_int_eq(first.status, 0);
    ck_assert_int_eq(second.status, 0);
    ck_assert_int_eq(json_array_size(json_object_get(first.results, "tests")), 4);
    assert_same_results(&first, &second, "two gradings of one submission differ");
    assert_nothing_left(&first, "first grading");
    assert_nothing_left(&second, "second grading");
    grading_release(&first);
    grading_release(&second);
}
END_TEST

START_TEST(public_only_runs_only_the_public_checks)
{
    make_fixtures();
    grading g;
    grading_init(&g);
    stage_submission(&g, "reference-naive");
    const char *public_flag[] = { "--public-only", NULL };
    grade(&g, CORPUS "/assignment", NULL, public_flag);
    ck_assert_int_eq(g.status, 0);
    json_t *tests = json_object_get(g.results, "tests");
    ck_assert_int_eq(json_array_size(tests), 2);
    ck_assert_ptr_nonnull(find_test(&g, "linear-forward"));
    ck_assert_ptr_nonnull(find_test(&g, "linear-backward"));
    ck_assert_ptr_null(find_test(&g, "linear-gradcheck"));   /* hidden */
    ck_assert_ptr_null(find_test(&g, "linear-memcheck"));    /* after the deadline */
    ck_assert_double_eq_tol(json_number_value(json_object_get(g.results, "max_score")), 7,
                            1e-9);
    assert_reports_clean(&g, "public only");
    assert_nothing_left(&g, "public only");
    grading_release(&g);
}
END_TEST

START_TEST(archive_of_a_submission_grades_like_its_folder)
{
    make_fixtures();
    grading folder, archive;
    grading_init(&folder);
    grading_init(&archive);
    stage_submission(&folder, "reference-naive");
    snprintf(archive.submission, sizeof archive.submission, "%s/submission.tar.gz",
             archive.base);
    archive_member members[4] = { { "linear.c", 'f', NULL, 0 } };
    write_archive(archive.submission, members, 0, false);
    const char *public_flag[] = { "--public-only", NULL };
    grading_start(&folder, CORPUS "/assignment", NULL, public_flag);
    grading_start(&archive, CORPUS "/assignment", NULL, public_flag);
    grading_wait(&folder);
    grading_wait(&archive);
    ck_assert_int_eq(folder.status, 0);
    ck_assert_int_eq(archive.status, 0);
    assert_same_results(&folder, &archive, "the archive and the folder grade differently");
    assert_nothing_left(&archive, "archive");
    grading_release(&folder);
    grading_release(&archive);
}
END_TEST

START_TEST(graders_running_at_once_on_one_submission_do_not_interfere)
{
    make_fixtures();
    /* Four graders at once on one submission folder: two with folders of
     * their own, two writing into the same folder. */
    grading g[4];
    for (int i = 0; i < 4; i++)
        grading_init(&g[i]);
    stage_submission(&g[0], "backward-overwrites");
    for (int i = 1; i < 4; i++)
        snprintf(g[i].submission, sizeof g[i].submission, "%s", g[0].submission);
    snprintf(g[3].out, sizeof g[3].out, "%s", g[2].out);
    const char *public_flag[] = { "--public-only", NULL };
    for (int i = 0; i < 4; i++)
        grading_start(&g[i], CORPUS "/assignment", NULL, public_flag);
    for (int i = 0; i < 4; i++)
        grading_wait(&g[i]);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(g[i].status == 1, "grader %d: exit status %d; stderr:\n%s", i,
                      g[i].status, g[i].errors);
        ck_assert_ptr_nonnull(g[i].results);
        json_t *forward = find_test(&g[i], "linear-forward");
        json_t *backward = find_test(&g[i], "linear-backward");
        ck_assert_str_eq(test_outcome(forward), "passed");
        ck_assert_str_eq(test_outcome(backward), "failed");
        ck_assert_double_eq_tol(json_number_value(json_object_get(g[i].results, "score")), 3,
                                1e-9);
        assert_reports_clean(&g[i], "concurrent grader");
        assert_nothing_left(&g[i], "concurrent grader");
    }
    assert_same_results(&g[0], &g[1], "graders with their own folders differ");
    assert_same_results(&g[0], &g[2], "graders sharing a folder differ");
    /* The shared folder holds one grader's four files, not a mix. */
    char path[700];
    snprintf(path, sizeof path, "%s/report.md", g[2].out);
    char *markdown = read_text(path);
    ck_assert_ptr_nonnull(markdown);
    char expected_line[200];
    snprintf(expected_line, sizeof expected_line, "- Seed: %s", SEED);
    ck_assert_ptr_nonnull(strstr(markdown, expected_line));
    free(markdown);
    for (int i = 0; i < 4; i++)
        grading_release(&g[i]);
}
END_TEST

/* ---- several checks at once (--jobs) ---------------------------------------------- */

#define TWO_UNITS CORPUS "/two-units"

/* report.md without its two lines that vary from run to run. */
static char *comparable_markdown(const grading *g)
{
    char path[700];
    snprintf(path, sizeof path, "%s/report.md", g->out);
    char *text = read_text(path);
    ck_assert_ptr_nonnull(text);
    char *out = calloc(strlen(text) + 1, 1);
    ck_assert_ptr_nonnull(out);
    for (const char *line = text; *line;) {
        size_t length = strcspn(line, "\n");
        length += line[length] == '\n';
        if (strncmp(line, "- Graded at: ", 13) != 0 && strncmp(line, "- Grading time: ", 16) != 0)
            strncat(out, line, length);
        line += length;
    }
    free(text);
    return out;
}

/* Two submissions of the two-unit assignment, all checks: one whose ReLU
 * does not compile while its linear.c draws a warning (both units write to
 * the build log, whose order must not follow the builds' timing), one whose
 * ReLU backward overwrites (messages with numbers; a memcheck of both
 * units). One worker and two give the same reports. */
static const char *const parallel_cases[] = { "relu-does-not-compile",
                                              "relu-backward-overwrites" };

START_TEST(two_workers_grade_exactly_like_one)
{
    make_fixtures();
    const char *name = parallel_cases[_i];
    char folder[300];
    snprintf(folder, sizeof folder, TWO_UNITS "/submissions/%s", name);
    grading one, two;
    grading_init(&one);
    grading_init(&two);
    stage_folder(&one, folder);
    /* The same path for both: it is in the replay line of the reports. */
    snprintf(two.submission, sizeof two.submission, "%s", one.submission);
    const char *one_job[] = { "--jobs", "1", NULL };
    const char *two_jobs[] = { "--jobs", "2", NULL };
    grading_start(&one, TWO_UNITS, NULL, one_job);
    grading_start(&two, TWO_UNITS, NULL, two_jobs);
    grading_wait(&one);
    grading_wait(&two);
    ck_assert_msg(one.status == 1 && two.status == 1, "%s: exit statuses %d and %d; stderr:\n%s%s",
                  name, one.status, two.status, one.errors, two.errors);
    ck_assert_int_eq(json_array_size(json_object_get(one.results, "tests")), 6);
    assert_same_results(&one, &two, "--jobs 1 and --jobs 2 give different results.json");
    char *left = comparable_markdown(&one), *right = comparable_markdown(&two);
    ck_assert_msg(strcmp(left, right) == 0, "%s: report.md differs:\n%s\n--- versus ---\n%s", name,
                  left, right);
    free(left);
    free(right);
    assert_reports_clean(&two, name);
    assert_nothing_left(&one, name);
    assert_nothing_left(&two, name);
    grading_release(&one);
    grading_release(&two);
}
END_TEST

START_TEST(unit_that_fails_to_build_costs_only_its_checks_with_two_workers)
{
    make_fixtures();
    grading g;
    grading_init(&g);
    stage_folder(&g, TWO_UNITS "/submissions/relu-does-not-compile");
    const char *two_jobs[] = { "--jobs", "2", NULL };
    grade(&g, TWO_UNITS, NULL, two_jobs);
    ck_assert_msg(g.status == 1, "exit status %d; stderr:\n%s", g.status, g.errors);
    /* linear passes whole; every check that needs relu.c (the memcheck
     * reruns a ReLU check too) is a build error, and nothing else. */
    const char *expected[][2] = { { "linear-forward", "passed" },
                                  { "relu-forward", "build error" },
                                  { "linear-backward", "passed" },
                                  { "relu-backward", "build error" },
                                  { "relu-gradcheck", "build error" },
                                  { "both-memcheck", "build error" } };
    json_t *tests = json_object_get(g.results, "tests");
    ck_assert_int_eq(json_array_size(tests), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *test = json_array_get(tests, i);
        ck_assert_str_eq(test_string(test, "number"), expected[i][0]);   /* config order */
        ck_assert_msg(strcmp(test_outcome(test), expected[i][1]) == 0, "%s is '%s', not '%s': %s",
                      expected[i][0], test_outcome(test), expected[i][1],
                      test_string(test, "output"));
    }
    ck_assert_double_eq_tol(json_number_value(json_object_get(g.results, "score")), 7, 1e-9);
    ck_assert_ptr_nonnull(strstr(test_string(json_array_get(tests, 1), "output"),
                                 "relu.c did not compile"));
    /* The build log: linear's warning, then relu's error, whoever built
     * first. */
    char *markdown = comparable_markdown(&g);
    const char *log = strstr(markdown, "## Build log");
    ck_assert_ptr_nonnull(log);
    const char *linear = strstr(log, "== linear (double build)");
    const char *relu = strstr(log, "== relu (double build)");
    ck_assert_msg(linear != NULL && relu != NULL && linear < relu, "build log:\n%s", log);
    ck_assert_ptr_nonnull(strstr(relu, "expected ';'"));
    free(markdown);
    assert_reports_clean(&g, "parallel compile error");
    assert_nothing_left(&g, "parallel compile error");
    grading_release(&g);
}
END_TEST

/* ---- killing the grader ---------------------------------------------------------- */

static char *read_report(const grading *g, int r)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", g->out, report_names[r]);
    return read_text(path);
}

/* Starts a grading of a submission that takes seconds (an endless loop),
 * kills the grader with SIGKILL while its runner is in the sandbox. */
static void kill_mid_run(grading *g)
{
    const char *public_flag[] = { "--public-only", NULL };
    grading_start(g, CORPUS "/assignment", NULL, public_flag);
    /* Wait for the runner of the looping check, in the sandbox as the
     * slot's uid. */
    bool seen = false;
    for (int waited_ms = 0; waited_ms < 20000 && !seen; waited_ms += 20) {
        for (int k = 0; k < GRADE_JOBS; k++)
            seen |= processes_of((uid_t)(60000 + g->slot + k), "runner", false, NULL, 0) > 0;
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    ck_assert_msg(seen, "the grader never started a sandbox");
    struct timespec settle = { 0, 300 * 1000 * 1000 };
    nanosleep(&settle, NULL);
    ck_assert_int_eq(kill(g->pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(g->pid, &status, 0), g->pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* Folders called `name` under path, down to a few levels (cgroups). */
static int folders_named(const char *path, const char *name, int depth)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    int found = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_type != DT_DIR || entry->d_name[0] == '.')
            continue;
        if (strcmp(entry->d_name, name) == 0)
            found++;
        else if (depth > 0) {
            char below[1024];
            snprintf(below, sizeof below, "%s/%s", path, entry->d_name);
            found += folders_named(below, name, depth - 1);
        }
    }
    closedir(dir);
    return found;
}

START_TEST(sigkill_mid_run_keeps_the_old_report_and_leaves_no_process)
{
    make_fixtures();
    grading g;
    grading_init(&g);
    stage_submission(&g, "infinite-loop");
    const char *public_flag[] = { "--public-only", NULL };
    grade(&g, CORPUS "/assignment", NULL, public_flag);   /* the old report */
    ck_assert_int_eq(g.status, 1);
    char *old[REPORT_COUNT];
    for (int r = 0; r < REPORT_COUNT; r++) {
        old[r] = read_report(&g, r);
        ck_assert_ptr_nonnull(old[r]);
    }
    json_decref(g.results);
    g.results = NULL;
    free(g.errors);
    g.errors = NULL;

    kill_mid_run(&g);
    pid_t killed = g.pid;
    /* The sandbox dies with its grader (PR_SET_PDEATHSIG on its pid 1, or
     * bubblewrap's --die-with-parent); its pid 1 may stay a zombie until the host's
     * init reaps it, so only live processes count here. */
    assert_no_process_left(g.slot, 3.0, false, "after SIGKILL");
    for (int r = 0; r < REPORT_COUNT; r++) {
        char *now = read_report(&g, r);
        ck_assert_msg(now != NULL && strcmp(now, old[r]) == 0,
                      "%s changed under a grader killed before writing it", report_names[r]);
        free(now);
    }
    char first[300] = "";
    ck_assert_int_eq(count_entries(g.out, first, sizeof first), REPORT_COUNT);
    /* What SIGKILL cannot clean: the killed grader's workspace. */
    ck_assert_int_eq(count_entries(g.tmp, first, sizeof first), 1);
    ck_assert_msg(strncmp(first, "dlgrade-", 8) == 0, "unexpected leftover %s", first);

    /* Running it again gives the same scores, and clears what the killed
     * grader left behind. */
    grade(&g, CORPUS "/assignment", NULL, public_flag);
    ck_assert_int_eq(g.status, 1);
    char *again = read_report(&g, 0);
    json_error_t error;
    json_t *old_results = json_loads(old[0], 0, &error);
    ck_assert_ptr_nonnull(old_results);
    grading before = { .results = old_results };
    assert_same_results(&before, &g, "the rerun after SIGKILL differs");
    json_decref(old_results);
    free(again);
    assert_reports_clean(&g, "rerun after SIGKILL");
    assert_nothing_left(&g, "rerun after SIGKILL");   /* the old workspace too */
    for (int k = 0; k < GRADE_JOBS; k++) {
        char cgroup_name[64];
        snprintf(cgroup_name, sizeof cgroup_name, "dlgrade-%ld-%d", (long)killed, g.slot + k);
        ck_assert_msg(folders_named("/sys/fs/cgroup", cgroup_name, 6) == 0,
                      "the killed grader's cgroup %s is still there", cgroup_name);
    }
    for (int r = 0; r < REPORT_COUNT; r++)
        free(old[r]);
    grading_release(&g);
}
END_TEST

START_TEST(sigkill_before_any_report_leaves_none)
{
    make_fixtures();
    grading g;
    grading_init(&g);
    stage_submission(&g, "infinite-loop");
    kill_mid_run(&g);
    assert_no_process_left(g.slot, 3.0, false, "after SIGKILL");
    ck_assert_msg(count_entries(g.out, NULL, 0) == 0, "a killed grader left files in %s",
                  g.out);
    grading_release(&g);
}
END_TEST

START_TEST(temporary_reports_of_a_dead_grader_are_removed)
{
    make_fixtures();
    grading g;
    grading_init(&g);
    stage_submission(&g, "reference-naive");
    ck_assert_int_eq(mkdir(g.out, 0755), 0);
    /* A grader killed between writing and renaming leaves these; the pid
     * in the name tells whether it is gone. */
    pid_t dead = fork();
    ck_assert_int_ge(dead, 0);
    if (dead == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
    char stale[800], alive[800];
    snprintf(stale, sizeof stale, "%s/.results.json.tmp-%ld-Ab12Cd", g.out, (long)dead);
    snprintf(alive, sizeof alive, "%s/.report.md.tmp-%ld-Ab12Cd", g.out, (long)getpid());
    write_text(stale, "{\"score\": 12");
    write_text(alive, "# half");
    const char *public_flag[] = { "--public-only", NULL };
    grade(&g, CORPUS "/assignment", NULL, public_flag);
    ck_assert_int_eq(g.status, 0);
    ck_assert_msg(!exists(stale), "the dead grader's temporary report is still there");
    ck_assert_msg(exists(alive), "a live writer's temporary report was removed");
    ck_assert_int_eq(unlink(alive), 0);
    assert_reports_clean(&g, "after stale temporaries");
    grading_release(&g);
}
END_TEST

/* ---- the runner kit ---------------------------------------------------------------- */

/* Undefined and defined symbol names of an archive, as nm prints them. */
static char *nm_output(const char *options, const char *archive)
{
    char command[PATH_MAX + 64];
    snprintf(command, sizeof command, "nm %s '%s' 2>/dev/null", options, archive);
    FILE *pipe = popen(command, "r");
    ck_assert_ptr_nonnull(pipe);
    size_t capacity = 1 << 16, used = 0, got;
    char *text = malloc(capacity);
    ck_assert_ptr_nonnull(text);
    while ((got = fread(text + used, 1, capacity - used - 1, pipe)) > 0) {
        used += got;
        if (used + 1 == capacity) {
            text = realloc(text, capacity *= 2);
            ck_assert_ptr_nonnull(text);
        }
    }
    text[used] = '\0';
    pclose(pipe);
    return text;
}

START_TEST(the_runner_kit_holds_no_reference_only_code)
{
    /* The reference library calls the convolution engine; the kit a
     * submission is compiled and linked with has neither the engine, nor
     * its header, nor a unit that calls it, and lists its functions for
     * the inspection to refuse. */
    find_programs();
    char program[PATH_MAX], build[PATH_MAX], kit[PATH_MAX + 64], path[PATH_MAX + 128];
    snprintf(program, sizeof program, "%s", dlgrade);    /* BUILD/double/dlgrade */
    snprintf(build, sizeof build, "%s", dirname(dirname(program)));
    snprintf(kit, sizeof kit, "%s/double/runner-kit", build);
    snprintf(path, sizeof path, "%s/include/nn/conv.h", kit);
    ck_assert_msg(exists(path), "%s is missing", path);
    snprintf(path, sizeof path, "%s/include/nn/conv_engine.h", kit);
    ck_assert_msg(!exists(path), "%s is in the kit", path);

    char own[PATH_MAX + 64];
    snprintf(own, sizeof own, "%s/double/libnnref.a", build);
    snprintf(path, sizeof path, "%s/lib/libnnref.a", kit);
    dg_names names = { 0 };
    nn_error err;
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, own, "conv_engine.o", &err), NN_OK);
    ck_assert(dg_names_has(&names, "nn_conv_engine_forward"));
    dg_names_release(&names);
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, path, "conv_engine.o", &err), NN_OK);
    ck_assert_uint_eq(names.count, 0);
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, path, "conv2d.o", &err), NN_OK);
    ck_assert(dg_names_has(&names, "nn_conv2d_forward"));
    dg_names_release(&names);
    char *reference_undefined = nm_output("-u", own), *kit_undefined = nm_output("-u", path);
    ck_assert_ptr_nonnull(strstr(reference_undefined, "U nn_conv_engine_forward"));
    ck_assert_msg(strstr(kit_undefined, "nn_conv_engine") == NULL,
                  "the kit's libnnref.a needs the engine:\n%s", kit_undefined);
    free(reference_undefined);
    free(kit_undefined);

    snprintf(path, sizeof path, "%s/lib/reference-only", kit);
    ck_assert_int_eq(dg_inspect_load_list(&names, path, &err), NN_OK);
    ck_assert(dg_names_has(&names, "nn_conv_engine_forward"));
    ck_assert(dg_names_has(&names, "nn_conv_engine_backward"));
    ck_assert(dg_names_has(&names, "nn_conv_engine_workspace_size"));
    ck_assert(!dg_names_has(&names, "nn_conv2d_forward"));
    dg_names_release(&names);
}
END_TEST
#endif /* LONG_RUNS */

Suite *grade_suite(void);
Suite *grade_suite(void)
{
    Suite *suite = suite_create("grade");
#if !LONG_RUNS
    fprintf(stderr, "grade_suite: the hostile corpus and the whole runs run once, in the double "
                    "build without sanitizers (`make test-double`); this build runs the refusals "
                    "of broken input\n");
#endif
    config_case_count = list_cases(config_cases, CORPUS "/configs");

    TCase *inputs = tcase_create("broken input");
    tcase_set_timeout(inputs, 60);
    tcase_add_loop_test(inputs, broken_assignment_is_refused_with_its_file_line_and_column, 0,
                        config_case_count > 0 ? config_case_count : 1);
    tcase_add_loop_test(inputs, hostile_archive_is_refused_with_one_clear_message, 0,
                        ARCHIVE_CASE_COUNT);
    model_case_count = list_cases(model_cases, CORPUS "/models");
    tcase_add_loop_test(inputs, submitted_model_gets_exactly_its_expected_outcome, 0,
                        model_case_count > 0 ? model_case_count : 1);
    suite_add_tcase(suite, inputs);

#if LONG_RUNS
    submission_case_count = list_cases(submission_cases, CORPUS "/submissions");
    TCase *corpus = tcase_create("corpus");
    tcase_set_timeout(corpus, 60);
    tcase_add_unchecked_fixture(corpus, corpus_setup, corpus_teardown);
    /* At least the thirty hostile submissions the grader promises to
     * survive; a smaller corpus fails the first iteration. */
    tcase_add_loop_test(corpus, hostile_submission_gets_exactly_its_expected_outcomes, 0,
                        submission_case_count >= 30 ? submission_case_count : 1);
    suite_add_tcase(suite, corpus);

    TCase *whole = tcase_create("whole runs");
    tcase_set_timeout(whole, 120);
    tcase_add_test(whole, same_submission_and_seed_give_the_same_results);
    tcase_add_test(whole, public_only_runs_only_the_public_checks);
    tcase_add_test(whole, archive_of_a_submission_grades_like_its_folder);
    tcase_add_test(whole, graders_running_at_once_on_one_submission_do_not_interfere);
    tcase_add_test(whole, sigkill_mid_run_keeps_the_old_report_and_leaves_no_process);
    tcase_add_test(whole, sigkill_before_any_report_leaves_none);
    tcase_add_test(whole, temporary_reports_of_a_dead_grader_are_removed);
    tcase_add_loop_test(whole, two_workers_grade_exactly_like_one, 0,
                        (int)(sizeof parallel_cases / sizeof parallel_cases[0]));
    tcase_add_test(whole, unit_that_fails_to_build_costs_only_its_checks_with_two_workers);
    tcase_add_test(whole, the_runner_kit_holds_no_reference_only_code);
    suite_add_tcase(suite, whole);
#endif
    return suite;
}
