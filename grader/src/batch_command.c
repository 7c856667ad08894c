/*
 * batch_command.c - `dlgrade batch SUBMISSIONS_DIR -a ASSIGNMENT -o OUTDIR
 * [--jobs N] [--resume] [--seed N] [--public-only] [--slot N]`: grading a
 * whole class.
 *
 * Every folder of SUBMISSIONS_DIR, and every file whose first bytes are
 * those of an archive the grader reads (tar; gzip, bzip2 or xz; zip:
 * submission.h), is one submission, named after its entry: an archive's
 * suffix (.tar.gz, .zip...) dropped, every byte but [A-Za-z0-9._-] made
 * '_', so that the name is safe as a folder and in a CSV cell. Hidden
 * entries are left out; so are other files, which the summary lists. Two
 * entries with one name are an error that names both.
 *
 * Each submission is graded by a child `dlgrade grade` (this executable)
 * into OUTDIR/NAME/, with its output in OUTDIR/NAME/grade.log: a grader
 * that crashes, hangs in the kernel or runs out of memory costs that
 * submission, never the class. N children run at once; when there are
 * fewer submissions than N, each child grades its checks with a share of
 * N (--jobs). Whole submissions are the better unit of parallel work: they
 * share nothing (a grading's checks wait for their unit's build, and its
 * training runs one at a time), and one check at a time bounds each
 * child's memory to one training's. Child k of those running at once gets
 * the sandbox slots from SLOT + k * (its jobs), so no two share a uid.
 *
 * The child's exit status says how it went: 0 or 1 graded (the scores are
 * in its results.json), 2 rejected (the submission is bad input: a hostile
 * archive, no such file...), 3 or a signal: not gradable, the grader's
 * fault (so is a check whose outcome is "grader error"). At the end, once,
 * OUTDIR/grades.csv and OUTDIR/summary.md are written atomically.
 *
 * SIGINT, SIGTERM and SIGHUP are waited for with the children (sigwaitinfo,
 * no handler): the children are killed and reaped, what they left half
 * done removed (temporary reports, their workspaces, grade.log), nothing
 * is summarised, and the batch dies of the same signal. Rerunning with
 * --resume goes on where it stopped.
 *
 * Exit status: 0 every submission graded, 1 some rejected, 2 bad input of
 * the batch itself (nothing graded), 3 some submission not gradable.
 */
#include "dlgrade.h"

#include "config.h"
#include "grade.h"
#include "report_internal.h"
#include "sandbox.h"
#include "submission.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAME_SIZE 96
#define MESSAGE_SIZE 400

typedef enum batch_status {
    BATCH_WAITING,
    BATCH_GRADED,
    BATCH_REJECTED,       /* the submission is bad input */
    BATCH_NOT_GRADABLE,   /* the grader broke on it */
    BATCH_INTERRUPTED
} batch_status;

typedef struct submission {
    char entry[NAME_MAX + 1];   /* its name in SUBMISSIONS_DIR */
    char name[NAME_SIZE];       /* safe: the folder under OUTDIR and the CSV's first cell */
    char path[PATH_MAX];        /* SUBMISSIONS_DIR/entry */
    char out[PATH_MAX];         /* OUTDIR/name */
    batch_status status;
    bool kept;                  /* --resume found it graded already */
    double score, max_score;
    double *check_scores;       /* [column count], NAN where missing */
    char hash[16];
    char message[MESSAGE_SIZE];
    /* while its grader runs */
    pid_t pid;
    int lane;                   /* which of the N at once: decides the slots */
    double started;             /* monotonic seconds */
    struct timespec started_real;
    double seconds;
    struct stat before;         /* results.json before the run (st_ino 0: none) */
} submission;

typedef struct batch {
    const char *directory;      /* SUBMISSIONS_DIR */
    const char *output;         /* OUTDIR */
    char config_path[1024];
    const dg_config *config;
    bool public_only, resume;
    unsigned long long seed;
    int jobs, slot;
    int children, child_jobs;   /* at once, and --jobs of each */
    submission *items;
    int count;
    char **skipped;             /* entries neither a folder nor an archive */
    int skipped_count;
    int columns;                /* checks graded: the CSV's score columns */
    int column_checks[DG_MAX_CHECKS];
    double max_score;           /* of the checks graded */
    char self[PATH_MAX];        /* this executable, for the children */
} batch;

static void batch_usage(FILE *out)
{
    fputs("usage: dlgrade batch SUBMISSIONS_DIR -a ASSIGNMENT -o OUTDIR [--jobs N] [--resume]\n"
          "                     [--seed N] [--public-only] [--slot N]\n"
          "  SUBMISSIONS_DIR  one folder or archive (.tar.gz, .zip...) per student; the\n"
          "                   entry's name names the submission\n"
          "  ASSIGNMENT       a folder with assignment.yaml, or a name under assignments/\n"
          "  OUTDIR           OUTDIR/NAME/ gets each submission's reports and grade.log;\n"
          "                   OUTDIR/grades.csv and OUTDIR/summary.md the class's\n"
          "  --jobs N         submissions graded at once (default: the number of cores)\n"
          "  --resume         do not grade again a submission whose OUTDIR/NAME/results.json\n"
          "                   records the same files, assignment, grader version and seed\n"
          "  --seed N         seed of every generated input (default 1)\n"
          "  --public-only    run only the public checks\n"
          "  --slot N         first sandbox slot (default 0); the batch uses N to\n"
          "                   N + jobs - 1\n"
          "exit status: 0 every submission graded, 1 some rejected (bad submissions),\n"
          "2 bad input of the batch itself (nothing graded), 3 some submission could not\n"
          "be graded through the grader's fault (the others are still graded)\n",
          out);
}

/* ---- the submissions ------------------------------------------------------ */

/* Whether the file starts like an archive submission.c reads: gzip,
 * bzip2, xz, zip, or a POSIX/GNU tar header ("ustar" at byte 257). The
 * grader itself decides from the whole contents; this only tells a
 * submission from a stray notes.txt. */
static bool looks_like_archive(const char *path)
{
    unsigned char head[512] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got < 4)
        return false;
    return (head[0] == 0x1f && head[1] == 0x8b) || memcmp(head, "BZh", 3) == 0
           || (got >= 6 && memcmp(head, "\xfd" "7zXZ\0", 6) == 0)
           || memcmp(head, "PK\3\4", 4) == 0 || memcmp(head, "PK\5\6", 4) == 0
           || (got >= 262 && memcmp(head + 257, "ustar", 5) == 0);
}

/* The submission's name for an entry: an archive's suffix dropped, bytes
 * other than [A-Za-z0-9._-] (and a leading '-' or '.') made '_'. */
static void safe_name(char *out, size_t size, const char *entry, bool archive)
{
    static const char *const suffixes[] = { ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2",
                                            ".tbz",    ".txz",     ".tar",    ".zip" };
    size_t length = strlen(entry);
    for (size_t s = 0; archive && s < sizeof suffixes / sizeof suffixes[0]; s++) {
        size_t suffix = strlen(suffixes[s]);
        if (length > suffix && strcasecmp(entry + length - suffix, suffixes[s]) == 0) {
            length -= suffix;
            break;
        }
    }
    if (length > size - 1)
        length = size - 1;
    for (size_t i = 0; i < length; i++) {
        char c = entry[i];
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || ((c == '.' || c == '-') && i > 0);
        out[i] = safe ? c : '_';
    }
    out[length] = '\0';
    if (length == 0)
        snprintf(out, size, "_");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const submission *)a)->name, ((const submission *)b)->name);
}

static bool same_file(const char *a, const char *b)
{
    struct stat first, second;
    return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev
           && first.st_ino == second.st_ino;
}

/* Lists the submissions, sorted by name; DG_EXIT_USAGE with a message
 * when the folder cannot be read, holds none, or two entries clash. */
static int find_submissions(batch *b)
{
    DIR *dir = opendir(b->directory);
    if (dir == NULL) {
        fprintf(stderr, "dlgrade batch: cannot read the submissions folder %s: %s\n",
                b->directory, strerror(errno));
        return DG_EXIT_USAGE;
    }
    int capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;   /* ., .., and hidden files (.DS_Store, .git) */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", b->directory, entry->d_name);
        struct stat info;
        if (stat(path, &info) != 0)
            continue;
        if (S_ISDIR(info.st_mode) && same_file(path, b->output))
            continue;   /* OUTDIR inside SUBMISSIONS_DIR is not a submission */
        bool archive = S_ISREG(info.st_mode) && looks_like_archive(path);
        if (!S_ISDIR(info.st_mode) && !archive) {
            char **grown = realloc(b->skipped, (size_t)(b->skipped_count + 1) * sizeof *grown);
            if (grown != NULL) {
                b->skipped = grown;
                b->skipped[b->skipped_count] = strdup(entry->d_name);
                if (b->skipped[b->skipped_count] != NULL)
                    b->skipped_count++;
            }
            continue;
        }
        if (b->count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            submission *grown = realloc(b->items, (size_t)capacity * sizeof *grown);
            if (grown == NULL) {
                closedir(dir);
                fprintf(stderr, "dlgrade batch: out of memory\n");
                return DG_EXIT_INTERNAL;
            }
            b->items = grown;
        }
        submission *s = &b->items[b->count++];
        memset(s, 0, sizeof *s);
        snprintf(s->entry, sizeof s->entry, "%s", entry->d_name);
        snprintf(s->path, sizeof s->path, "%s", path);
        safe_name(s->name, sizeof s->name, entry->d_name, archive);
    }
    closedir(dir);
    if (b->count == 0) {
        fprintf(stderr, "dlgrade batch: no submissions in %s (a folder or an archive per "
                "student)\n", b->directory);
        return DG_EXIT_USAGE;
    }
    qsort(b->items, (size_t)b->count, sizeof *b->items, by_name);
    for (int i = 0; i < b->count; i++) {
        const char *name = b->items[i].name;
        if (i > 0 && strcmp(name, b->items[i - 1].name) == 0) {
            fprintf(stderr, "dlgrade batch: the entries '%s' and '%s' of %s both become "
                    "submission '%s': rename one\n", b->items[i - 1].entry, b->items[i].entry,
                    b->directory, name);
            return DG_EXIT_USAGE;
        }
        if (strcmp(name, "grades.csv") == 0 || strcmp(name, "summary.md") == 0) {
            fprintf(stderr, "dlgrade batch: the entry '%s' of %s would become submission '%s', "
                    "which is the name of the class's own file: rename it\n",
                    b->items[i].entry, b->directory, name);
            return DG_EXIT_USAGE;
        }
        snprintf(b->items[i].out, sizeof b->items[i].out, "%s/%s", b->output, name);
    }
    return DG_EXIT_OK;
}

/* ---- the children ------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static void log_path(char *out, size_t size, const submission *s, bool temporary)
{
    snprintf(out, size, "%s/%s", s->out, temporary ? ".grade.log.tmp" : "grade.log");
}

/* Starts `dlgrade grade` on s in lane `lane`; false (s not gradable) when
 * it cannot be started. */
static bool start_child(batch *b, submission *s, int lane, const sigset_t *old_mask)
{
    s->lane = lane;
    char results[PATH_MAX + 16], log[PATH_MAX + 32], slot[16], jobs[16], seed[32];
    if (mkdir(s->out, 0755) != 0 && errno != EEXIST) {
        snprintf(s->message, sizeof s->message, "cannot create %s: %s", s->out, strerror(errno));
        s->status = BATCH_NOT_GRADABLE;
        return false;
    }
    snprintf(results, sizeof results, "%s/results.json", s->out);
    if (stat(results, &s->before) != 0)
        memset(&s->before, 0, sizeof s->before);
    log_path(log, sizeof log, s, true);
    snprintf(slot, sizeof slot, "%d", b->slot + lane * b->child_jobs);
    snprintf(jobs, sizeof jobs, "%d", b->child_jobs);
    snprintf(seed, sizeof seed, "%llu", b->seed);
    const char *argv[20] = { b->self, "grade", s->path, "-a", b->config_path, "-o", s->out,
                             "--seed", seed, "--slot", slot, "--jobs", jobs, "--quiet" };
    int argc = 14;
    if (b->public_only)
        argv[argc++] = "--public-only";
    if (b->resume)
        argv[argc++] = "--resume";
    argv[argc] = NULL;
    int output = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (output < 0) {
        snprintf(s->message, sizeof s->message, "cannot write %s: %s", log, strerror(errno));
        s->status = BATCH_NOT_GRADABLE;
        return false;
    }
    s->started = now_seconds();
    clock_gettime(CLOCK_REALTIME, &s->started_real);
    fflush(NULL);
    s->pid = fork();
    if (s->pid == 0) {
        /* The child gets the signals the batch waits for back. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0)
            _exit(DG_EXIT_INTERNAL);
        execv(b->self, (char *const *)argv);
        dprintf(2, "dlgrade batch: cannot run %s: %s\n", b->self, strerror(errno));
        _exit(DG_EXIT_INTERNAL);
    }
    int saved = errno;
    close(output);
    if (s->pid < 0) {
        snprintf(s->message, sizeof s->message, "cannot start a grader: %s", strerror(saved));
        s->status = BATCH_NOT_GRADABLE;
        s->pid = 0;
        return false;
    }
    return true;
}

/* The last 4 KiB of a file, NUL-terminated (malloc'd), or NULL. */
static char *read_tail(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat info;
    off_t start = fstat(fd, &info) == 0 && info.st_size > 4096 ? info.st_size - 4096 : 0;
    char *text = calloc(4097, 1);
    ssize_t got = text != NULL ? pread(fd, text, 4096, start) : -1;
    close(fd);
    if (got < 0) {
        free(text);
        return NULL;
    }
    text[got] = '\0';
    return text;
}

/* The last line of the child's log that says something, without the
 * "dlgrade grade: " prefix: why it rejected the submission or failed. */
static void last_message(char *out, size_t size, const char *path)
{
    out[0] = '\0';
    char *text = read_tail(path);
    if (text == NULL)
        return;
    char *line = text, *best = NULL;
    for (char *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[strspn(line, " \t\r")] != '\0')
            best = line;
    }
    if (best != NULL) {
        if (strncmp(best, "dlgrade grade: ", 15) == 0)
            best += 15;
        snprintf(out, size, "%s", best);
    }
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    free(text);
}

/* Reads OUTDIR/NAME/results.json into s; false when it is not a usable
 * report. A check with outcome "grader error" makes s not gradable. */
static bool read_results(batch *b, submission *s)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/results.json", s->out);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    json_t *tests = json_object_get(root, "tests");
    json_t *score = json_object_get(root, "score");
    json_t *max_score = json_object_get(root, "max_score");
    if (!json_is_array(tests) || !json_is_number(score) || !json_is_number(max_score)) {
        snprintf(s->message, sizeof s->message, "its results.json is missing or unreadable (%s)",
                 root == NULL ? error.text : "no scores");
        json_decref(root);
        return false;
    }
    s->score = json_number_value(score);
    s->max_score = json_number_value(max_score);
    const char *hash = json_string_value(
        json_object_get(json_object_get(root, "extra_data"), "submission_crc32"));
    snprintf(s->hash, sizeof s->hash, "%s", hash != NULL ? hash : "");
    for (int c = 0; c < b->columns; c++)
        s->check_scores[c] = NAN;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *test = json_array_get(tests, i);
        const char *id = json_string_value(json_object_get(test, "number"));
        const char *outcome = json_string_value(
            json_object_get(json_object_get(test, "extra_data"), "outcome"));
        for (int c = 0; id != NULL && c < b->columns; c++)
            if (strcmp(b->config->checks[b->column_checks[c]].id, id) == 0)
                s->check_scores[c] = json_number_value(json_object_get(test, "score"));
        if (id != NULL && outcome != NULL
            && strcmp(outcome, dg_outcome_name(DG_OUTCOME_GRADER_ERROR)) == 0
            && s->status != BATCH_NOT_GRADABLE) {
            s->status = BATCH_NOT_GRADABLE;
            snprintf(s->message, sizeof s->message, "check %s: the grader failed (see its "
                     "report)", id);
        }
    }
    json_decref(root);
    return true;
}

static void remove_reports(const submission *s)
{
    static const char *const reports[] = { "results.json", "junit.xml", "report.md",
                                           "report.html" };
    for (size_t r = 0; r < sizeof reports / sizeof reports[0]; r++) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", s->out, reports[r]);
        unlink(path);
    }
}

/* Records how s's grader ended (wait status) and prints the progress line. */
static void finish_child(batch *b, submission *s, int wait_status, int done)
{
    s->seconds = now_seconds() - s->started;
    s->pid = 0;
    char temporary[PATH_MAX + 32], log[PATH_MAX + 32];
    log_path(temporary, sizeof temporary, s, true);
    log_path(log, sizeof log, s, false);
    rename(temporary, log);
    int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    if (code == DG_EXIT_OK || code == DG_EXIT_FAILED) {
        s->status = BATCH_GRADED;
        if (!read_results(b, s))
            s->status = BATCH_NOT_GRADABLE;
        char results[PATH_MAX + 16];
        snprintf(results, sizeof results, "%s/results.json", s->out);
        struct stat after;
        s->kept = b->resume && s->before.st_ino != 0 && stat(results, &after) == 0
                  && after.st_ino == s->before.st_ino && after.st_dev == s->before.st_dev
                  && after.st_mtim.tv_sec == s->before.st_mtim.tv_sec
                  && after.st_mtim.tv_nsec == s->before.st_mtim.tv_nsec;
    } else {
        /* No grading of this submission as it is now: reports left from
         * an earlier one would contradict the row. */
        remove_reports(s);
        char said[MESSAGE_SIZE - 64];
        last_message(said, sizeof said, log);
        if (code == DG_EXIT_USAGE) {
            s->status = BATCH_REJECTED;
            snprintf(s->message, sizeof s->message, "%s", said[0] ? said : "rejected");
        } else if (code >= 0) {
            s->status = BATCH_NOT_GRADABLE;
            snprintf(s->message, sizeof s->message, "the grader failed (exit status %d)%s%s",
                     code, said[0] ? ": " : "", said);
        } else {
            s->status = BATCH_NOT_GRADABLE;
            int sig = WTERMSIG(wait_status);
            snprintf(s->message, sizeof s->message, "the grader died of signal %d (%s)", sig,
                     strsignal(sig));
        }
    }
    char score[32], max_score[32];
    dg_format_points(score, sizeof score, s->score);
    dg_format_points(max_score, sizeof max_score, s->max_score);
    if (s->status == BATCH_GRADED && s->kept)
        fprintf(stderr, "[%d/%d] %s: %s/%s (kept)\n", done, b->count, s->name, score, max_score);
    else if (s->status == BATCH_GRADED)
        fprintf(stderr, "[%d/%d] %s: %s/%s (%.1f s)\n", done, b->count, s->name, score,
                max_score, s->seconds);
    else
        fprintf(stderr, "[%d/%d] %s: %s: %s (%.1f s)\n", done, b->count, s->name,
                s->status == BATCH_REJECTED ? "rejected" : "not gradable", s->message,
                s->seconds);
}

/* Removes what a killed grader left: its temporary log and reports, its
 * workspace, and its reports if it may have been renaming them. */
static void clean_after_kill(const submission *s, pid_t pid)
{
    char path[PATH_MAX + 64];
    log_path(path, sizeof path, s, true);
    unlink(path);
    char prefix[64];
    snprintf(prefix, sizeof prefix, ".tmp-%ld-", (long)pid);
    bool touched = false;
    DIR *dir = opendir(s->out);
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", s->out, entry->d_name);
        struct stat info;
        if (entry->d_name[0] == '.' && strstr(entry->d_name, prefix) != NULL) {
            unlink(path);
        } else if (lstat(path, &info) == 0 && S_ISREG(info.st_mode)
                   && (info.st_mtim.tv_sec > s->started_real.tv_sec
                       || (info.st_mtim.tv_sec == s->started_real.tv_sec
                           && info.st_mtim.tv_nsec >= s->started_real.tv_nsec))) {
            touched = true;
        }
    }
    if (dir != NULL)
        closedir(dir);
    if (touched)
        remove_reports(s);
    const char *temporary = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(prefix, sizeof prefix, "dlgrade-%ld-", (long)pid);
    dir = opendir(temporary);
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", temporary, entry->d_name);
        nn_error ignored;
        dg_remove_tree(path, &ignored);
    }
    if (dir != NULL)
        closedir(dir);
}

/* Grades every submission, `children` at once. Returns 0, or the signal
 * that interrupted it (the children are then gone). */
static int grade_all(batch *b)
{
    sigset_t wanted, old_mask;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGCHLD);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGHUP);
    sigprocmask(SIG_BLOCK, &wanted, &old_mask);
    /* A grader killed here leaves its sandbox's processes dying: they come
     * to the batch, which reaps them, rather than to an init that may not. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    bool *lane_busy = calloc((size_t)b->children, sizeof *lane_busy);
    int next = 0, running = 0, done = 0, interrupted = 0;
    while (lane_busy != NULL && (next < b->count || running > 0)) {
        while (running < b->children && next < b->count) {
            int lane = 0;
            while (lane_busy[lane])
                lane++;
            submission *s = &b->items[next++];
            if (start_child(b, s, lane, &old_mask)) {
                lane_busy[lane] = true;
                running++;
            } else {
                fprintf(stderr, "[%d/%d] %s: not gradable: %s\n", ++done, b->count, s->name,
                        s->message);
            }
        }
        if (running == 0)
            continue;
        siginfo_t info;
        int sig = sigwaitinfo(&wanted, &info);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            interrupted = sig;
            break;
        }
        for (;;) {
            int wait_status;
            pid_t pid = waitpid(-1, &wait_status, WNOHANG);
            if (pid <= 0)
                break;
            for (int i = 0; i < b->count; i++)
                if (b->items[i].pid == pid) {
                    lane_busy[b->items[i].lane] = false;
                    running--;
                    finish_child(b, &b->items[i], wait_status, ++done);
                }
        }
    }
    if (interrupted) {
        for (int i = 0; i < b->count; i++)
            if (b->items[i].pid > 0)
                kill(b->items[i].pid, SIGTERM);
        for (int i = 0; i < b->count; i++) {
            submission *s = &b->items[i];
            if (s->pid <= 0)
                continue;
            waitpid(s->pid, NULL, 0);
            clean_after_kill(s, s->pid);
            rmdir(s->out);   /* when empty: a folder of nothing */
            s->pid = 0;
            s->status = BATCH_INTERRUPTED;
        }
        /* The killed graders' sandboxes, orphaned to the batch. */
        for (double until = now_seconds() + 3.0; now_seconds() < until;) {
            pid_t pid = waitpid(-1, NULL, WNOHANG);
            if (pid < 0 && errno == ECHILD)
                break;
            if (pid == 0)
                nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        fprintf(stderr, "dlgrade batch: interrupted (%s): %d of %d submissions done, nothing "
                "summarised; run again with --resume to go on\n", strsignal(interrupted), done,
                b->count);
    }
    free(lane_busy);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return interrupted;
}

/* ---- grades.csv and summary.md ----------------------------------------------------- */

static const char *status_name(batch_status status)
{
    switch (status) {
    case BATCH_GRADED: return "graded";
    case BATCH_REJECTED: return "rejected";
    case BATCH_NOT_GRADABLE: return "not-gradable";
    case BATCH_WAITING:
    case BATCH_INTERRUPTED: break;
    }
    return "not-graded";
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
 * break or edge spaces, quotes doubled. A text that a spreadsheet would
 * run as a formula (= + - @ first) gets a leading apostrophe. */
static void csv_text(dg_buffer *out, const char *text, bool first)
{
    if (!first)
        dg_buffer_puts(out, ",");
    bool formula = strchr("=+-@\t\r", text[0]) != NULL && text[0] != '\0';
    size_t length = strlen(text);
    bool quote = formula || strpbrk(text, ",\"\r\n") != NULL
                 || (length > 0 && (text[0] == ' ' || text[length - 1] == ' '));
    if (!quote) {
        dg_buffer_puts(out, text);
        return;
    }
    dg_buffer_puts(out, formula ? "\"'" : "\"");
    for (const char *c = text; *c; c++)
        dg_buffer_puts(out, *c == '"' ? "\"\"" : (char[]){ *c, '\0' });
    dg_buffer_puts(out, "\"");
}

static void csv_number(dg_buffer *out, double value)
{
    if (isfinite(value))
        dg_buffer_printf(out, ",%.10g", value + 0.0);
    else
        dg_buffer_puts(out, ",");
}

static nn_status write_grades(const batch *b, nn_error *err)
{
    dg_buffer csv = { 0 };
    csv_text(&csv, "name", true);
    csv_text(&csv, "score", false);
    csv_text(&csv, "max_score", false);
    csv_text(&csv, "status", false);
    for (int c = 0; c < b->columns; c++)
        csv_text(&csv, b->config->checks[b->column_checks[c]].id, false);
    csv_text(&csv, "submission_hash", false);
    csv_text(&csv, "message", false);
    dg_buffer_puts(&csv, "\r\n");
    for (int i = 0; i < b->count; i++) {
        const submission *s = &b->items[i];
        bool scored = s->status == BATCH_GRADED || (s->status == BATCH_NOT_GRADABLE
                                                    && s->hash[0] != '\0');
        csv_text(&csv, s->name, true);
        csv_number(&csv, scored ? s->score : NAN);
        csv_number(&csv, scored ? s->max_score : b->max_score);
        csv_text(&csv, status_name(s->status), false);
        for (int c = 0; c < b->columns; c++)
            csv_number(&csv, scored ? s->check_scores[c] : NAN);
        csv_text(&csv, s->hash, false);
        csv_text(&csv, s->message, false);
        dg_buffer_puts(&csv, "\r\n");
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/grades.csv", b->output);
    nn_status status = csv.failed ? nn_error_set(err, NN_ERR_MEMORY, "out of memory")
                                  : dg_write_atomically(path, csv.data, csv.length, err);
    dg_buffer_release(&csv);
    return status;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "| name | points | mean | median | full | zero |" over the graded
 * submissions' values (NaN: not counted). */
static void statistics_row(dg_buffer *md, const char *name, bool bold, double points,
                           const double *values, int count)
{
    double *sorted = malloc((size_t)(count > 0 ? count : 1) * sizeof *sorted);
    int n = 0, full = 0, zero = 0;
    double sum = 0;
    for (int i = 0; sorted != NULL && i < count; i++) {
        if (!isfinite(values[i]))
            continue;
        sorted[n++] = values[i];
        sum += values[i];
        full += values[i] >= points - 1e-9;
        zero += values[i] <= 1e-9;
    }
    char total[32], mean[32] = "-", median[32] = "-";
    dg_format_points(total, sizeof total, points);
    if (n > 0) {
        qsort(sorted, (size_t)n, sizeof *sorted, compare_doubles);
        dg_format_points(mean, sizeof mean, sum / n);
        dg_format_points(median, sizeof median,
                         n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2);
    }
    dg_buffer_puts(md, bold ? "| **" : "| ");
    dg_markdown_append_inline(md, name);
    dg_buffer_printf(md, "%s | %s | %s | %s | %d | %d |\n", bold ? "**" : "", total, mean,
                     median, full, zero);
    free(sorted);
}

static nn_status write_summary(const batch *b, nn_error *err)
{
    int counts[BATCH_INTERRUPTED + 1] = { 0 };
    for (int i = 0; i < b->count; i++)
        counts[b->items[i].status]++;
    dg_buffer md = { 0 };
    dg_buffer_puts(&md, "# Class summary: ");
    dg_markdown_append_inline(&md, b->config->name);
    dg_buffer_puts(&md, "\n\n- Assignment: ");
    dg_markdown_append_inline(&md, b->config->title);
    dg_buffer_puts(&md, " (");
    dg_markdown_append_inline(&md, b->config_path);
    dg_buffer_printf(&md, ")\n- Submissions: %d: %d graded, %d rejected, %d not gradable\n",
                     b->count, counts[BATCH_GRADED], counts[BATCH_REJECTED],
                     counts[BATCH_NOT_GRADABLE]);
    dg_buffer_printf(&md, "- Checks: %s; seed %llu\n- Grades: grades.csv; each submission's "
                     "reports and grade.log in its folder\n\n",
                     b->public_only ? "public only" : "all", b->seed);

    dg_buffer_puts(&md, "## Scores of the graded submissions\n\n"
                        "| Check | Points | Mean | Median | Full | Zero |\n"
                        "|---|--:|--:|--:|--:|--:|\n");
    double *values = calloc((size_t)b->count, sizeof *values);
    if (values != NULL) {
        for (int i = 0; i < b->count; i++)
            values[i] = b->items[i].status == BATCH_GRADED ? b->items[i].score : NAN;
        statistics_row(&md, "total", true, b->max_score, values, b->count);
        for (int c = 0; c < b->columns; c++) {
            const dg_check_config *check = &b->config->checks[b->column_checks[c]];
            for (int i = 0; i < b->count; i++)
                values[i] = b->items[i].status == BATCH_GRADED ? b->items[i].check_scores[c]
                                                                : NAN;
            statistics_row(&md, check->id, false, check->points, values, b->count);
        }
        free(values);
    }
    dg_buffer_puts(&md, "\n\"Full\" counts the submissions with every point of a check, "
                        "\"Zero\" those with none.\n");

    if (counts[BATCH_REJECTED] + counts[BATCH_NOT_GRADABLE] > 0) {
        dg_buffer_puts(&md, "\n## Not graded\n\n| Submission | Status | Why |\n|---|---|---|\n");
        for (int i = 0; i < b->count; i++) {
            const submission *s = &b->items[i];
            if (s->status == BATCH_GRADED)
                continue;
            dg_buffer_puts(&md, "| ");
            dg_markdown_append_inline(&md, s->name);
            dg_buffer_printf(&md, " | %s | ", status_name(s->status));
            dg_markdown_append_inline(&md, s->message);
            dg_buffer_puts(&md, " |\n");
        }
        dg_buffer_puts(&md, "\nRejected: the submission is bad input (fix it and grade it "
                            "again). Not gradable: the grader failed on it, not the student: "
                            "see its grade.log.\n");
    }
    if (b->skipped_count > 0) {
        dg_buffer_puts(&md, "\n## Entries left out (neither a folder nor an archive)\n\n");
        for (int i = 0; i < b->skipped_count; i++) {
            dg_buffer_puts(&md, "- ");
            dg_markdown_append_inline(&md, b->skipped[i]);
            dg_buffer_puts(&md, "\n");
        }
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.md", b->output);
    nn_status status = md.failed ? nn_error_set(err, NN_ERR_MEMORY, "out of memory")
                                 : dg_write_atomically(path, md.data, md.length, err);
    dg_buffer_release(&md);
    return status;
}

/* ---- the command ------------------------------------------------------------------ */

static void release_batch(batch *b)
{
    for (int i = 0; i < b->count; i++)
        free(b->items[i].check_scores);
    free(b->items);
    for (int i = 0; i < b->skipped_count; i++)
        free(b->skipped[i]);
    free(b->skipped);
}

/* Everything up to the first child: options, the assignment, the
 * submissions, OUTDIR. DG_EXIT_OK or the exit status. */
static int prepare(batch *b, dg_config *config, int argc, char **argv)
{
    static const struct option options[] = {
        { "assignment", required_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' },
        { "public-only", no_argument, NULL, 'p' },      { "seed", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' },       { "resume", no_argument, NULL, 'r' },
        { "slot", required_argument, NULL, 'S' },       { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *assignment = NULL;
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "a:o:", options, NULL)) != -1) {
        switch (option) {
        case 'a': assignment = optarg; break;
        case 'o': b->output = optarg; break;
        case 'p': b->public_only = true; break;
        case 'r': b->resume = true; break;
        case 's': {
            char *end;
            errno = 0;
            b->seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end != '\0' || errno != 0 || optarg[0] == '-') {
                fprintf(stderr, "dlgrade batch: --seed needs a non-negative integer, not '%s'\n",
                        optarg);
                return DG_EXIT_USAGE;
            }
            break;
        }
        case 'j':
            if (!dg_parse_int_option(&b->jobs, "batch", "--jobs", optarg, 1, DG_GRADE_MAX_JOBS))
                return DG_EXIT_USAGE;
            break;
        case 'S':
            if (!dg_parse_int_option(&b->slot, "batch", "--slot", optarg, 0,
                                     DG_SANDBOX_MAX_SLOTS - 1))
                return DG_EXIT_USAGE;
            break;
        case 'h': batch_usage(stdout); return -1;
        default: batch_usage(stderr); return DG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || assignment == NULL || b->output == NULL) {
        fprintf(stderr, "dlgrade batch: need one SUBMISSIONS_DIR, -a ASSIGNMENT and -o OUTDIR\n");
        batch_usage(stderr);
        return DG_EXIT_USAGE;
    }
    b->directory = argv[optind];
    if (b->slot + b->jobs > DG_SANDBOX_MAX_SLOTS) {
        fprintf(stderr, "dlgrade batch: --slot %d with --jobs %d needs slots up to %d; the last "
                "is %d\n", b->slot, b->jobs, b->slot + b->jobs - 1, DG_SANDBOX_MAX_SLOTS - 1);
        return DG_EXIT_USAGE;
    }
    int status = dg_resolve_assignment(b->config_path, sizeof b->config_path, assignment);
    if (status != DG_EXIT_OK)
        return status;
    nn_error err = { 0 };
    char *problems = NULL;
    if (dg_config_load(config, b->config_path, &problems, &err) != NN_OK) {
        const char *text = problems ? problems : err.message;
        fprintf(stderr, "dlgrade batch: the assignment is not valid:\n%s%s", text,
                text[0] != '\0' && text[strlen(text) - 1] == '\n' ? "" : "\n");
        free(problems);
        return DG_EXIT_USAGE;
    }
    b->config = config;
    /* A dataset or model spec the train checks cannot use would reject
     * every submission: say it once, grade nothing. */
    if (dg_grade_preflight(config, b->public_only, &err) != NN_OK) {
        fprintf(stderr, "dlgrade batch: the assignment cannot be graded: %s\n", err.message);
        return DG_EXIT_USAGE;
    }
    for (int i = 0; i < config->check_count; i++)
        if (!b->public_only || config->checks[i].visibility == DG_VISIBLE_PUBLIC) {
            b->column_checks[b->columns++] = i;
            b->max_score += config->checks[i].points;
        }
    status = find_submissions(b);
    if (status != DG_EXIT_OK)
        return status;
    if (mkdir(b->output, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "dlgrade batch: cannot create %s: %s\n", b->output, strerror(errno));
        return DG_EXIT_USAGE;
    }
    struct stat info;
    if (stat(b->output, &info) != 0 || !S_ISDIR(info.st_mode)) {
        fprintf(stderr, "dlgrade batch: %s is not a folder\n", b->output);
        return DG_EXIT_USAGE;
    }
    for (int i = 0; i < b->count; i++) {
        b->items[i].check_scores = calloc((size_t)(b->columns > 0 ? b->columns : 1),
                                          sizeof *b->items[i].check_scores);
        if (b->items[i].check_scores == NULL) {
            fprintf(stderr, "dlgrade batch: out of memory\n");
            return DG_EXIT_INTERNAL;
        }
        b->items[i].score = b->items[i].max_score = NAN;
    }
    b->children = b->jobs < b->count ? b->jobs : b->count;
    b->child_jobs = b->jobs / b->children;
    ssize_t length = readlink("/proc/self/exe", b->self, sizeof b->self - 1);
    if (length <= 0) {
        fprintf(stderr, "dlgrade batch: cannot find its own executable: %s\n", strerror(errno));
        return DG_EXIT_INTERNAL;
    }
    b->self[length] = '\0';
    return DG_EXIT_OK;
}

int dg_command_batch(int argc, char **argv)
{
    batch b = { .seed = 1, .jobs = dg_default_jobs() };
    dg_config *config = malloc(sizeof *config);
    if (config == NULL)
        return DG_EXIT_INTERNAL;
    int exit_status = prepare(&b, config, argc, argv);
    if (exit_status != DG_EXIT_OK) {
        release_batch(&b);
        free(config);
        return exit_status < 0 ? DG_EXIT_OK : exit_status;
    }
    fprintf(stderr, "dlgrade batch: %d submissions of %s, %d at once\n", b.count, config->name,
            b.children);
    int interrupted = grade_all(&b);
    if (interrupted) {
        release_batch(&b);
        free(config);
        /* Die of the signal, as a program interrupted should. */
        signal(interrupted, SIG_DFL);
        raise(interrupted);
        return DG_EXIT_INTERNAL;
    }
    nn_error err = { 0 };
    nn_status status = write_grades(&b, &err);
    if (status == NN_OK)
        status = write_summary(&b, &err);
    if (status != NN_OK) {
        fprintf(stderr, "dlgrade batch: %s\n", err.message);
        release_batch(&b);
        free(config);
        return DG_EXIT_INTERNAL;
    }
    int counts[BATCH_INTERRUPTED + 1] = { 0 };
    for (int i = 0; i < b.count; i++)
        counts[b.items[i].status]++;
    printf("%s: %d submissions: %d graded, %d rejected, %d not gradable\n", config->name, b.count,
           counts[BATCH_GRADED], counts[BATCH_REJECTED], counts[BATCH_NOT_GRADABLE]);
    printf("grades in %s/grades.csv, summary in %s/summary.md\n", b.output, b.output);
    exit_status = counts[BATCH_NOT_GRADABLE] > 0 ? DG_EXIT_INTERNAL
                  : counts[BATCH_REJECTED] > 0   ? DG_EXIT_FAILED
                                                 : DG_EXIT_OK;
    release_batch(&b);
    free(config);
    return exit_status;
}
