/*
 * memory_peak.c - how much memory a command and everything it starts use
 * at their peak, for `make bench` (grading one submission).
 *
 * Built by `make bench` (build/float/memory_peak). Usage:
 *
 *     build/float/memory_peak OUTFILE COMMAND [ARG...]
 *
 * runs COMMAND (its output passes through), exits with its exit status, and
 * writes to OUTFILE:
 *
 *   RESULT largest_process_rss KIB   ru_maxrss of getrusage(RUSAGE_CHILDREN)
 *       once COMMAND has ended: the largest resident set of any single
 *       process that the kernel counted for the tree, exact. Only processes
 *       reaped up the chain count: a sandboxed program, reaped by the pid
 *       namespace's init, is counted only when that init is the grader's
 *       own (bubblewrap's monitor does not wait for its init): under
 *       bubblewrap it is not among them (the sampled figures below see it).
 *   RESULT tree_pss_peak KIB processes=N top=NAME:KIB,...   the largest
 *       sum, over the processes of the tree alive at one moment, of their
 *       proportional set size (PSS: shared pages divided among the
 *       processes sharing them, so shared libraries count once), sampled
 *       from /proc every 10 ms, with the number of processes and the three
 *       largest at that moment. A peak shorter than 10 ms can be missed.
 *   RESULT largest_process_pss KIB name=NAME   the largest PSS of one
 *       process over all samples.
 *   RESULT wall_seconds S, RESULT cpu_seconds S (CPU as counted by
 *       RUSAGE_CHILDREN, with the same blind spot as ru_maxrss)
 *
 * The tree is found through the parent pids in /proc/PID/stat, so it
 * follows processes into sandboxes' pid namespaces (their host pids are in
 * /proc). Reading another user's smaps_rollup needs root or the same uid;
 * unreadable processes count their RSS instead.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCESSES 8192

typedef struct process {
    int pid, parent;
} process;

/* One process's memory in a sample. */
typedef struct usage_entry {
    long kib;
    char name[32];
} usage_entry;

/* The sample with the largest sum, and the largest single process seen. */
typedef struct peaks {
    long tree_kib;
    int tree_count;
    usage_entry top[3];
    usage_entry largest;
} peaks;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The parent pid from /proc/PID/stat; the command name may hold spaces and
 * parentheses, so the fields are read after its last ')'. */
static int parent_of(int pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = '\0';
    char *end = strrchr(line, ')');
    char state;
    int parent;
    if (end == NULL || sscanf(end + 1, " %c %d", &state, &parent) != 2)
        return -1;
    return parent;
}

/* The value of a "Key:   N kB" line of a /proc file, or -1. */
static long field_kib(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[256];
    size_t length = strlen(key);
    long value = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, length) == 0 && line[length] == ':') {
            value = strtol(line + length + 1, NULL, 10);
            break;
        }
    fclose(f);
    return value;
}

static void name_of(int pid, char *name, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    snprintf(name, size, "?");
    if (f == NULL)
        return;
    if (fgets(name, (int)size, f) != NULL)
        name[strcspn(name, "\n")] = '\0';
    fclose(f);
    /* One word, so that the RESULT line splits on spaces. */
    for (char *c = name; *c; c++)
        if (*c == ' ' || *c == ',' || *c == ':' || *c == '=')
            *c = '_';
}

static long memory_kib(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    long kib = field_kib(path, "Pss");
    if (kib < 0) {
        snprintf(path, sizeof path, "/proc/%d/status", pid);
        kib = field_kib(path, "VmRSS");
    }
    return kib < 0 ? 0 : kib;
}

/* Samples root and its descendants alive now and updates *p. */
static void sample_tree(int root, peaks *p)
{
    static process table[MAX_PROCESSES];
    int n = 0;
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL && n < MAX_PROCESSES) {
        char *end;
        long pid = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        int parent = parent_of((int)pid);
        if (parent >= 0)
            table[n++] = (process){ (int)pid, parent };
    }
    closedir(proc);
    long total = 0;
    int count = 0;
    usage_entry top[3] = { { 0, "" }, { 0, "" }, { 0, "" } };
    for (int i = 0; i < n; i++) {
        /* Walk up the parents until root, init or a pid not in the table. */
        int pid = table[i].pid, steps = 0;
        while (pid != root && pid > 1 && steps++ < 64) {
            int parent = -1;
            for (int j = 0; j < n; j++)
                if (table[j].pid == pid) {
                    parent = table[j].parent;
                    break;
                }
            pid = parent;
        }
        if (pid != root)
            continue;
        usage_entry one = { memory_kib(table[i].pid), "" };
        name_of(table[i].pid, one.name, sizeof one.name);
        total += one.kib;
        count++;
        if (one.kib > p->largest.kib)
            p->largest = one;
        for (int slot = 0; slot < 3; slot++)
            if (one.kib > top[slot].kib) {
                for (int move = 2; move > slot; move--)
                    top[move] = top[move - 1];
                top[slot] = one;
                break;
            }
    }
    if (total > p->tree_kib) {
        p->tree_kib = total;
        p->tree_count = count;
        memcpy(p->top, top, sizeof top);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: memory_peak OUTFILE COMMAND [ARG...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "memory_peak: cannot write %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    double start = now_seconds();
    pid_t child = fork();
    if (child < 0) {
        perror("memory_peak: fork");
        return 2;
    }
    if (child == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "memory_peak: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    peaks peak;
    memset(&peak, 0, sizeof peak);
    int status = 0;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child)
            break;
        if (done < 0 && errno != EINTR) {
            perror("memory_peak: waitpid");
            return 2;
        }
        sample_tree(child, &peak);
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    double wall = now_seconds() - start;
    struct rusage usage;
    getrusage(RUSAGE_CHILDREN, &usage);
    fprintf(out, "RESULT largest_process_rss %ld KiB\n", usage.ru_maxrss);
    fprintf(out, "RESULT tree_pss_peak %ld KiB processes=%d top=", peak.tree_kib,
            peak.tree_count);
    for (int slot = 0; slot < 3 && peak.top[slot].kib > 0; slot++)
        fprintf(out, "%s%s:%ld", slot ? "," : "", peak.top[slot].name, peak.top[slot].kib);
    fprintf(out, "\nRESULT largest_process_pss %ld KiB name=%s\n", peak.largest.kib,
            peak.largest.name);
    fprintf(out, "RESULT wall_seconds %.3f s\n", wall);
    fprintf(out, "RESULT cpu_seconds %.3f s user=%.3f system=%.3f\n",
            (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec +
                (double)usage.ru_stime.tv_sec + 1e-6 * (double)usage.ru_stime.tv_usec,
            (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec,
            (double)usage.ru_stime.tv_sec + 1e-6 * (double)usage.ru_stime.tv_usec);
    if (fclose(out) != 0) {
        fprintf(stderr, "memory_peak: writing %s failed\n", argv[1]);
        return 2;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
