/*
 * check_batch.c - `dlgrade batch` on a small class, run as instructors run
 * it: the program in a child process, with a private TMPDIR and sandbox
 * slots of its own, on the two-unit test assignment
 * (grader/tests/corpus/two-units) with --public-only (four compare checks,
 * 11 points), so that a class grades in seconds.
 *
 * The class: alice/ (correct), "alice copy"/ (the same files), bob/ (his
 * ReLU backward overwrites the gradient: 2 points lost), carol.tar.gz (a
 * hostile archive whose entry climbs out with ../), notes.txt (not a
 * submission). The expected grades.csv is written out in full here; the
 * CRC-32 of the graded files is computed from its definition (each unit's
 * file name, a NUL, its bytes, in the assignment's order).
 *
 * The program under test is the dlgrade beside this test program (the
 * AddressSanitizer build grades with its own dlgrade, whose children are
 * then checked for leaks too), else build/double/dlgrade. The float build
 * runs only the quick refusals.
 */
#include "../../reference/tests/testutil.h"

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
#include <zlib.h>

#if NN_REAL_IS_DOUBLE
#define LONG_RUNS 1
#else
#define LONG_RUNS 0
#endif

#define TWO_UNITS "grader/tests/corpus/two-units"
#define BATCH_JOBS 2

/* ---- helpers ----------------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    size_t capacity = 4096, used = 0, got;
    char *text = malloc(capacity);
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

static bool exists(const char *path)
{
    struct stat info;
    return lstat(path, &info) == 0;
}

static void copy_file(const char *from, const char *to)
{
    char *text = read_text(from);
    ck_assert_msg(text != NULL, "cannot read %s", from);
    write_text(to, text);
    free(text);
}

/* A folder submission: linear.c and relu.c of a two-units case. */
static void make_folder_submission(const char *folder, const char *name)
{
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    const char *files[] = { "linear.c", "relu.c" };
    for (int f = 0; f < 2; f++) {
        char from[512], to[PATH_MAX];
        snprintf(from, sizeof from, TWO_UNITS "/submissions/%s/%s", name, files[f]);
        snprintf(to, sizeof to, "%s/%s", folder, files[f]);
        copy_file(from, to);
    }
}

/* A .tar.gz whose one entry is ../linear.c. */
static void make_hostile_archive(const char *path)
{
    static const char source[] = "int escaped;\n";
    struct archive *a = archive_write_new();
    ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *entry = archive_entry_new();
    archive_entry_set_pathname(entry, "../linear.c");
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, (la_int64_t)strlen(source));
    ck_assert_int_eq(archive_write_header(a, entry), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(a, source, strlen(source)), (la_ssize_t)strlen(source));
    archive_entry_free(entry);
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

#if LONG_RUNS
/* The submission hash of a two-units case, by its definition. */
static void expected_hash(char *out, size_t size, const char *name)
{
    unsigned long crc = crc32(0L, Z_NULL, 0);
    const char *files[] = { "linear.c", "relu.c" };
    for (int f = 0; f < 2; f++) {
        char path[512];
        snprintf(path, sizeof path, TWO_UNITS "/submissions/%s/%s", name, files[f]);
        char *text = read_text(path);
        ck_assert_ptr_nonnull(text);
        crc = crc32(crc, (const unsigned char *)files[f], (uInt)strlen(files[f]) + 1);
        crc = crc32(crc, (const unsigned char *)text, (uInt)strlen(text));
        free(text);
    }
    snprintf(out, size, "%08lx", crc);
}
#endif

/* ---- the program under test ------------------------------------------------------ */

static char dlgrade[PATH_MAX];

static void find_dlgrade(void)
{
    char self[PATH_MAX], candidate[PATH_MAX + 32];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(length, 0);
    self[length] = '\0';
    char *folder = dirname(self);
#if defined(__SANITIZE_ADDRESS__)
    snprintf(candidate, sizeof candidate, "%s/dlgrade", folder);
    if (access(candidate, X_OK) != 0)
#endif
        snprintf(candidate, sizeof candidate, "%s/../double/dlgrade", folder);
    ck_assert_msg(realpath(candidate, dlgrade) != NULL && access(dlgrade, X_OK) == 0,
                  "the grader %s is not built (make all)", candidate);
    ck_assert_msg(exists(TWO_UNITS "/assignment.yaml"),
                  "run the tests from the repository's root: no " TWO_UNITS " here");
}

typedef struct run {
    char base[512];       /* private folder: class/, out/, tmp/ */
    char class_dir[600];
    char out[600];
    char tmp[600];
    char errors_path[600];
    int slot;
    const char *kits;     /* DLGRADE_KITS for the graders, when not NULL */
    pid_t pid;
    int status;           /* exit status, or 128 + signal */
    char *errors;         /* stderr */
    char *output;         /* stdout */
} run;

static int next_slot(void)
{
    static int counter;
    return 2000 + 4 * (int)((getpid() * 7 + counter++) % 400);
}

static void run_init(run *r)
{
    memset(r, 0, sizeof *r);
    test_make_temp_dir(r->base, sizeof r->base);
    ck_assert_int_eq(chmod(r->base, 0755), 0);   /* the sandbox's uid enters tmp/ */
    snprintf(r->class_dir, sizeof r->class_dir, "%s/class", r->base);
    snprintf(r->out, sizeof r->out, "%s/out", r->base);
    snprintf(r->tmp, sizeof r->tmp, "%s/tmp", r->base);
    snprintf(r->errors_path, sizeof r->errors_path, "%s/stderr", r->base);
    ck_assert_int_eq(mkdir(r->tmp, 0755), 0);
    ck_assert_int_eq(mkdir(r->class_dir, 0755), 0);
    r->slot = next_slot();
}

static void run_release(run *r)
{
    free(r->errors);
    free(r->output);
    test_remove_dir(r->base);
}

/* The class described at the top of this file. */
static void make_class(const run *r)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/alice", r->class_dir);
    make_folder_submission(path, "reference");
    snprintf(path, sizeof path, "%s/alice copy", r->class_dir);
    make_folder_submission(path, "reference");
    snprintf(path, sizeof path, "%s/bob", r->class_dir);
    make_folder_submission(path, "relu-backward-overwrites");
    snprintf(path, sizeof path, "%s/carol.tar.gz", r->class_dir);
    make_hostile_archive(path);
    snprintf(path, sizeof path, "%s/notes.txt", r->class_dir);
    write_text(path, "grading notes, not a submission\n");
}

/* Starts dlgrade batch CLASS -a TWO_UNITS -o OUT --public-only --slot S
 * plus extra (NULL-terminated); stdout goes to base/stdout. */
static void batch_start(run *r, const char *class_dir, const char *assignment,
                        const char *const *extra)
{
    char slot[16];
    snprintf(slot, sizeof slot, "%d", r->slot);
    const char *argv[24] = { dlgrade, "batch", class_dir, "-a", assignment, "-o", r->out,
                             "--public-only", "--slot", slot };
    int argc = 10;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 23; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    char output_path[700];
    snprintf(output_path, sizeof output_path, "%s/stdout", r->base);
    fflush(NULL);
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        int output = open(output_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int errors = open(r->errors_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null < 0 || output < 0 || errors < 0 || dup2(null, 0) < 0 || dup2(output, 1) < 0
            || dup2(errors, 2) < 0)
            _exit(126);
        setenv("TMPDIR", r->tmp, 1);
        if (r->kits != NULL)
            setenv("DLGRADE_KITS", r->kits, 1);
        execv(dlgrade, (char *const *)argv);
        _exit(127);
    }
}

static void batch_wait(run *r)
{
    int status;
    ck_assert_int_eq(waitpid(r->pid, &status, 0), r->pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    free(r->errors);
    free(r->output);
    r->errors = read_text(r->errors_path);
    char output_path[700];
    snprintf(output_path, sizeof output_path, "%s/stdout", r->base);
    r->output = read_text(output_path);
    ck_assert_ptr_nonnull(r->errors);
    ck_assert_ptr_nonnull(r->output);
}

static void batch(run *r, const char *const *extra)
{
    batch_start(r, r->class_dir, TWO_UNITS, extra);
    batch_wait(r);
}

#if LONG_RUNS
static char *out_file(const run *r, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", r->out, name);
    return read_text(path);
}

/* Processes owned by the uids of the run's slots (zombies included). */
static int processes_left(const run *r, char *example, size_t size)
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
        const char *uid_line = status != NULL ? strstr(status, "\nUid:") : NULL;
        long uid = uid_line != NULL ? strtol(uid_line + 5, NULL, 10) : -1;
        if (uid >= 60000 + r->slot && uid < 60000 + r->slot + BATCH_JOBS) {
            if (count++ == 0)
                snprintf(example, size, "pid %s, uid %ld", entry->d_name, uid);
        }
        free(status);
    }
    closedir(proc);
    return count;
}

/* Files under path (recursively) whose name holds `part`; the first in
 * found. */
static int files_named(const char *path, const char *part, char *found, size_t size)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char below[PATH_MAX];
        snprintf(below, sizeof below, "%s/%s", path, entry->d_name);
        if (part == NULL || strstr(entry->d_name, part) != NULL) {
            if (count++ == 0)
                snprintf(found, size, "%s", below);
        }
        struct stat info;
        char first[PATH_MAX] = "";
        int inside = lstat(below, &info) == 0 && S_ISDIR(info.st_mode)
                         ? files_named(below, part, first, sizeof first)
                         : 0;
        if (count == 0 && inside > 0)
            snprintf(found, size, "%s", first);
        count += inside;
    }
    closedir(dir);
    return count;
}

/* No process of the slots after a moment, nothing in TMPDIR, no temporary
 * file in OUTDIR. */
static void assert_nothing_left(const run *r, const char *what)
{
    char example[PATH_MAX] = "";
    int left = 0;
    for (int waited_ms = 0; waited_ms <= 3000; waited_ms += 50) {
        left = processes_left(r, example, sizeof example);
        if (left == 0)
            break;
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
    }
    ck_assert_msg(left == 0, "%s: %d process(es) of the batch's slots left (%s)", what, left,
                  example);
    ck_assert_msg(files_named(r->tmp, NULL, example, sizeof example) == 0,
                  "%s: %s left in TMPDIR", what, example);
    ck_assert_msg(files_named(r->out, ".tmp", example, sizeof example) == 0,
                  "%s: a temporary file was left: %s", what, example);
}

/* grades.csv as it must be for the class (CRLF line ends, RFC 4180). */
static char *expected_grades(const run *r)
{
    char reference[16], overwrites[16];
    expected_hash(reference, sizeof reference, "reference");
    expected_hash(overwrites, sizeof overwrites, "relu-backward-overwrites");
    char *text = malloc(4096);
    ck_assert_ptr_nonnull(text);
    snprintf(text, 4096,
             "name,score,max_score,status,linear-forward,relu-forward,linear-backward,"
             "relu-backward,submission_hash,message\r\n"
             "alice,11,11,graded,3,2,4,2,%s,\r\n"
             "alice_copy,11,11,graded,3,2,4,2,%s,\r\n"
             "bob,9,11,graded,3,2,4,0,%s,\r\n"
             "carol,,11,rejected,,,,,,\"submission %s/carol.tar.gz: entry 1 '../linear.c': has "
             "a '..' component, which could lead outside the submission\"\r\n",
             reference, reference, overwrites, r->class_dir);
    return text;
}

/* The stat of OUTDIR/NAME/results.json and its started_at. */
typedef struct report_identity {
    struct stat info;
    char started_at[64];
} report_identity;

static report_identity identity_of(const run *r, const char *name)
{
    report_identity id;
    memset(&id, 0, sizeof id);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/results.json", r->out, name);
    ck_assert_msg(stat(path, &id.info) == 0, "no %s", path);
    json_t *root = json_load_file(path, 0, NULL);
    ck_assert_ptr_nonnull(root);
    const char *started = json_string_value(
        json_object_get(json_object_get(root, "extra_data"), "started_at"));
    ck_assert_ptr_nonnull(started);
    snprintf(id.started_at, sizeof id.started_at, "%s", started);
    json_decref(root);
    return id;
}

static bool same_identity(const report_identity *a, const report_identity *b)
{
    return a->info.st_ino == b->info.st_ino && a->info.st_mtim.tv_sec == b->info.st_mtim.tv_sec
           && a->info.st_mtim.tv_nsec == b->info.st_mtim.tv_nsec
           && strcmp(a->started_at, b->started_at) == 0;
}

/* ---- tests ------------------------------------------------------------------------- */

START_TEST(class_gets_exact_rows_and_statuses_and_exit_1_for_a_rejected_archive)
{
    find_dlgrade();
    run r;
    run_init(&r);
    make_class(&r);
    const char *jobs[] = { "--jobs", "2", NULL };
    batch(&r, jobs);
    ck_assert_msg(r.status == 1, "exit status %d, not 1; stderr:\n%s", r.status, r.errors);

    char *grades = out_file(&r, "grades.csv"), *expected = expected_grades(&r);
    ck_assert_msg(grades != NULL && strcmp(grades, expected) == 0,
                  "grades.csv is\n%s\nnot\n%s", grades ? grades : "(missing)", expected);
    free(grades);
    free(expected);

    /* One progress line per submission, with its score or why not. */
    const char *lines[] = { "/4] alice: 11/11 (", "/4] alice_copy: 11/11 (", "/4] bob: 9/11 (",
                            "/4] carol: rejected: submission " };
    for (int i = 0; i < 4; i++)
        ck_assert_msg(strstr(r.errors, lines[i]) != NULL, "stderr lacks '%s':\n%s", lines[i],
                      r.errors);
    ck_assert_ptr_nonnull(strstr(r.output, "4 submissions: 3 graded, 1 rejected, 0 not gradable"));

    char *summary = out_file(&r, "summary.md");
    ck_assert_ptr_nonnull(summary);
    const char *rows[] = { "| **total** | 11 | 10.33 | 11 | 2 | 0 |",
                           "| relu-backward | 2 | 1.33 | 2 | 2 | 1 |",
                           "| linear-forward | 3 | 3 | 3 | 3 | 0 |",
                           "| carol | rejected | submission ", "- notes.txt" };
    for (int i = 0; i < 5; i++)
        ck_assert_msg(strstr(summary, rows[i]) != NULL, "summary.md lacks '%s':\n%s", rows[i],
                      summary);
    free(summary);

    /* Each graded submission has its reports; the rejected one its log only. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bob/report.md", r.out);
    ck_assert(exists(path));
    snprintf(path, sizeof path, "%s/carol/results.json", r.out);
    ck_assert(!exists(path));
    snprintf(path, sizeof path, "%s/carol/grade.log", r.out);
    char *log = read_text(path);
    ck_assert_msg(log != NULL && strstr(log, "has a '..' component") != NULL, "carol's log: %s",
                  log ? log : "(missing)");
    free(log);
    snprintf(path, sizeof path, "%s/notes", r.out);
    ck_assert(!exists(path));
    assert_nothing_left(&r, "class");
    run_release(&r);
}
END_TEST

START_TEST(two_at_once_give_the_same_grades_as_one_at_a_time)
{
    find_dlgrade();
    run one, two;
    run_init(&one);
    run_init(&two);
    make_class(&one);
    /* the same class folder for both: its path is in carol's message */
    const char *one_job[] = { "--jobs", "1", NULL };
    const char *two_jobs[] = { "--jobs", "2", NULL };
    batch_start(&one, one.class_dir, TWO_UNITS, one_job);
    batch_start(&two, one.class_dir, TWO_UNITS, two_jobs);
    batch_wait(&one);
    batch_wait(&two);
    ck_assert_msg(one.status == 1 && two.status == 1, "exit statuses %d and %d:\n%s\n%s",
                  one.status, two.status, one.errors, two.errors);
    char *first = out_file(&one, "grades.csv"), *second = out_file(&two, "grades.csv");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(second);
    ck_assert_msg(strcmp(first, second) == 0, "--jobs 1:\n%s\n--jobs 2:\n%s", first, second);
    char *expected = expected_grades(&one);
    ck_assert_str_eq(first, expected);
    free(expected);
    free(first);
    free(second);
    assert_nothing_left(&one, "--jobs 1");
    assert_nothing_left(&two, "--jobs 2");
    run_release(&one);
    run_release(&two);
}
END_TEST

START_TEST(resume_keeps_unchanged_submissions_and_regrades_a_changed_one)
{
    find_dlgrade();
    run r;
    run_init(&r);
    make_class(&r);
    const char *jobs[] = { "--jobs", "2", NULL };
    batch(&r, jobs);
    ck_assert_int_eq(r.status, 1);
    report_identity alice = identity_of(&r, "alice"), copy = identity_of(&r, "alice_copy");
    report_identity bob = identity_of(&r, "bob");

    /* bob fixes his ReLU; started_at has a resolution of a second */
    sleep(1);
    char from[512], to[PATH_MAX];
    snprintf(from, sizeof from, TWO_UNITS "/submissions/reference/relu.c");
    snprintf(to, sizeof to, "%s/bob/relu.c", r.class_dir);
    copy_file(from, to);
    const char *resume[] = { "--jobs", "2", "--resume", NULL };
    batch(&r, resume);
    ck_assert_msg(r.status == 1, "exit status %d; stderr:\n%s", r.status, r.errors);

    report_identity alice_after = identity_of(&r, "alice"), copy_after = identity_of(&r, "alice_copy");
    report_identity bob_after = identity_of(&r, "bob");
    ck_assert_msg(same_identity(&alice, &alice_after) && same_identity(&copy, &copy_after),
                  "an unchanged submission was graded again (started_at %s -> %s)",
                  alice.started_at, alice_after.started_at);
    ck_assert_msg(!same_identity(&bob, &bob_after), "bob's changed submission was not regraded");
    ck_assert_ptr_nonnull(strstr(r.errors, "] alice: 11/11 (kept)"));
    ck_assert_ptr_nonnull(strstr(r.errors, "] bob: 11/11 ("));
    ck_assert_ptr_null(strstr(r.errors, "] bob: 11/11 (kept)"));

    /* bob's row now has his new files' hash and every point */
    char reference[16], row[128];
    expected_hash(reference, sizeof reference, "reference");
    snprintf(row, sizeof row, "\r\nbob,11,11,graded,3,2,4,2,%s,\r\n", reference);
    char *grades = out_file(&r, "grades.csv");
    ck_assert_msg(grades != NULL && strstr(grades, row) != NULL, "grades.csv:\n%s", grades);
    free(grades);

    /* Another seed is another grading: nothing is kept. */
    const char *other_seed[] = { "--jobs", "2", "--resume", "--seed", "2", NULL };
    batch(&r, other_seed);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_null(strstr(r.errors, "(kept)"));
    assert_nothing_left(&r, "resume");
    run_release(&r);
}
END_TEST

START_TEST(grader_failure_is_not_gradable_and_exit_3_while_others_are_listed)
{
    find_dlgrade();
    run r;
    run_init(&r);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/alice", r.class_dir);
    make_folder_submission(path, "reference");
    snprintf(path, sizeof path, "%s/carol.tar.gz", r.class_dir);
    make_hostile_archive(path);
    /* No runner kit where the graders look: every build fails, the
     * grader's fault, never the student's; the bad archive is still bad. */
    char kits[700];
    snprintf(kits, sizeof kits, "%s/no-kits", r.base);
    r.kits = kits;
    const char *jobs[] = { "--jobs", "2", NULL };
    batch(&r, jobs);
    ck_assert_msg(r.status == 3, "exit status %d, not 3; stderr:\n%s", r.status, r.errors);
    char *grades = out_file(&r, "grades.csv");
    ck_assert_ptr_nonnull(grades);
    char row[1024];
    snprintf(row, sizeof row, "\r\nalice,,11,not-gradable,,,,,,the grader failed (exit status "
             "3): check linear-forward: the runner kit %s/double/runner-kit is incomplete "
             "(run make)\r\n", kits);
    ck_assert_msg(strstr(grades, row) != NULL, "grades.csv lacks\n%s\nit is:\n%s", row, grades);
    ck_assert_msg(strstr(grades, "\r\ncarol,,11,rejected,") != NULL, "grades.csv:\n%s", grades);
    free(grades);
    char *summary = out_file(&r, "summary.md");
    ck_assert_ptr_nonnull(summary);
    ck_assert_ptr_nonnull(strstr(summary, "| alice | not-gradable | the grader failed"));
    free(summary);
    assert_nothing_left(&r, "grader failure");
    run_release(&r);
}
END_TEST

START_TEST(interrupted_batch_kills_its_graders_and_leaves_no_half_written_file)
{
    find_dlgrade();
    run r;
    run_init(&r);
    make_class(&r);
    const char *jobs[] = { "--jobs", "2", NULL };
    batch_start(&r, r.class_dir, TWO_UNITS, jobs);
    /* Wait for a grader to be at work in the sandbox. */
    char example[PATH_MAX] = "";
    bool busy = false;
    for (int waited_ms = 0; waited_ms < 20000 && !busy; waited_ms += 10) {
        busy = processes_left(&r, example, sizeof example) > 0;
        if (!busy)
            nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
    ck_assert_msg(busy, "no grader reached the sandbox");
    ck_assert_int_eq(kill(r.pid, SIGINT), 0);
    batch_wait(&r);
    ck_assert_msg(r.status == 128 + SIGINT, "status %d after SIGINT; stderr:\n%s", r.status,
                  r.errors);
    ck_assert_ptr_nonnull(strstr(r.errors, "interrupted"));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/grades.csv", r.out);
    ck_assert_msg(!exists(path), "an interrupted batch wrote grades.csv");
    snprintf(path, sizeof path, "%s/summary.md", r.out);
    ck_assert(!exists(path));
    assert_nothing_left(&r, "after SIGINT");
    run_release(&r);
}
END_TEST
#endif /* LONG_RUNS */

START_TEST(missing_submissions_folder_is_exit_2_naming_it)
{
    find_dlgrade();
    run r;
    run_init(&r);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-class", r.base);
    batch_start(&r, missing, TWO_UNITS, NULL);
    batch_wait(&r);
    ck_assert_msg(r.status == 2, "exit status %d; stderr:\n%s", r.status, r.errors);
    ck_assert_msg(strstr(r.errors, missing) != NULL && strstr(r.errors, "No such file") != NULL,
                  "the message does not name %s: %s", missing, r.errors);
    ck_assert_msg(strchr(r.errors, '\n') == r.errors + strlen(r.errors) - 1,
                  "more than one line:\n%s", r.errors);
    ck_assert_msg(!exists(r.out), "OUTDIR was created for nothing");
    run_release(&r);
}
END_TEST

START_TEST(two_entries_with_one_name_are_exit_2_naming_both)
{
    find_dlgrade();
    run r;
    run_init(&r);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/dave", r.class_dir);
    make_folder_submission(path, "reference");
    snprintf(path, sizeof path, "%s/dave.tar.gz", r.class_dir);
    make_hostile_archive(path);
    batch(&r, NULL);
    ck_assert_msg(r.status == 2, "exit status %d; stderr:\n%s", r.status, r.errors);
    ck_assert_msg(strstr(r.errors, "'dave' and 'dave.tar.gz'") != NULL
                      && strstr(r.errors, "submission 'dave'") != NULL,
                  "the message does not name both: %s", r.errors);
    ck_assert(!exists(r.out));
    run_release(&r);
}
END_TEST

START_TEST(invalid_assignment_is_exit_2_and_grades_nothing)
{
    find_dlgrade();
    run r;
    run_init(&r);
    make_class(&r);
    char broken[700];
    snprintf(broken, sizeof broken, "%s/assignment.yaml", r.base);
    write_text(broken, "assignment: broken\nunits: [\n");
    batch_start(&r, r.class_dir, broken, NULL);
    batch_wait(&r);
    ck_assert_msg(r.status == 2, "exit status %d; stderr:\n%s", r.status, r.errors);
    ck_assert_msg(strstr(r.errors, "the assignment is not valid") != NULL
                      && strstr(r.errors, broken) != NULL,
                  "stderr:\n%s", r.errors);
    ck_assert(!exists(r.out));
    run_release(&r);
}
END_TEST

Suite *batch_suite(void);
Suite *batch_suite(void)
{
    Suite *suite = suite_create("batch");
#if !LONG_RUNS
    fprintf(stderr, "batch_suite: the class gradings run in the double builds (`make "
                    "test-double`, and `make test-asan` with its own dlgrade); this build runs "
                    "the refusals\n");
#endif
    TCase *refusals = tcase_create("refusals");
    tcase_set_timeout(refusals, 30);
    tcase_add_test(refusals, missing_submissions_folder_is_exit_2_naming_it);
    tcase_add_test(refusals, two_entries_with_one_name_are_exit_2_naming_both);
    tcase_add_test(refusals, invalid_assignment_is_exit_2_and_grades_nothing);
    suite_add_tcase(suite, refusals);
#if LONG_RUNS
    TCase *classes = tcase_create("classes");
    tcase_set_timeout(classes, 120);
    tcase_add_test(classes, class_gets_exact_rows_and_statuses_and_exit_1_for_a_rejected_archive);
    tcase_add_test(classes, two_at_once_give_the_same_grades_as_one_at_a_time);
    tcase_add_test(classes, resume_keeps_unchanged_submissions_and_regrades_a_changed_one);
    tcase_add_test(classes, grader_failure_is_not_gradable_and_exit_3_while_others_are_listed);
    tcase_add_test(classes, interrupted_batch_kills_its_graders_and_leaves_no_half_written_file);
    suite_add_tcase(suite, classes);
#endif
    return suite;
}
