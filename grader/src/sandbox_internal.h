/*
 * sandbox_internal.h - the pieces sandbox.c is built from: per-run cgroups
 * (cgroup.c) and the seccomp deny-list (seccomp_filter.c). Not for other
 * modules: they go through sandbox.h.
 */
#ifndef DG_SANDBOX_INTERNAL_H
#define DG_SANDBOX_INTERNAL_H

#include "sandbox.h"

#include <stddef.h>
#include <sys/types.h>

/* Appends one line (a newline is added) to a probe's notes, truncating. */
void dg_sandbox_note(char *notes, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- cgroups ---------------------------------------------------------- */

#define DG_CGROUP_PATH_SIZE (DG_SANDBOX_PATH_SIZE + 64)

/* The cgroup folders of one run. A path is empty when that cgroup is not
 * used. The child joins every folder listed in procs before exec. */
typedef struct dg_cgroup_set {
    char memory[DG_CGROUP_PATH_SIZE];
    int memory_version;
    char pids[DG_CGROUP_PATH_SIZE];
    int pids_version;
    char unified[DG_CGROUP_PATH_SIZE];       /* v2: cpu.stat, cgroup.kill */
    char procs[3][DG_CGROUP_PATH_SIZE + 16]; /* ".../cgroup.procs" files to join */
    int procs_count;
} dg_cgroup_set;

/* Finds the cgroup layout (v2, v1 or hybrid) and the folders the grader is
 * in, tries a test cgroup in each, and fills the cgroup_* fields of
 * capabilities. Appends one note line per mechanism to notes. */
void dg_cgroup_probe(dg_sandbox_capabilities *capabilities, char *notes, size_t notes_size);

/* Makes the run's cgroups (named after the grader's pid and the slot) and
 * writes the limits: memory_bytes, and processes + extra_processes. */
nn_status dg_cgroup_create(dg_cgroup_set *set, const dg_sandbox_capabilities *capabilities,
                           int slot, size_t memory_bytes, int processes, nn_error *err);

/* CPU seconds used by everything that ran in the set so far, or -1 when
 * the set has no v2 folder (no cpu.stat). */
double dg_cgroup_cpu_seconds(const dg_cgroup_set *set);

/* Kills every process in the set: cgroup.kill on v2, else SIGKILL to each
 * pid listed in the v1 folders (repeated, as a fork may race). Returns
 * false when the set has no folder to kill through. */
bool dg_cgroup_kill(const dg_cgroup_set *set);

/* Number of processes the memory cgroup's OOM killer has killed. */
long dg_cgroup_oom_kills(const dg_cgroup_set *set);

/* Waits up to `seconds` for every folder of the set to hold no process. */
bool dg_cgroup_wait_empty(const dg_cgroup_set *set, double seconds);

/* Removes the folders (retrying while the last processes exit). The set is
 * emptied whatever happens, so a second call does nothing. */
nn_status dg_cgroup_remove(dg_cgroup_set *set, nn_error *err);

/* Removes the folders a grader killed with SIGKILL left behind (their name
 * holds its pid, and no process has that pid any more), killing whatever
 * is still inside. The probe calls it. */
void dg_cgroup_remove_stale(const dg_sandbox_capabilities *capabilities);

/* ---- the filesystem view (sandbox_view.c) ------------------------------ */

typedef enum dg_view_kind {
    DG_VIEW_ROOT,            /* private mounts, an empty tmpfs root, pivot_root */
    DG_VIEW_BIND_READ_ONLY,  /* source (a host path) at target */
    DG_VIEW_BIND_WRITABLE,   /* the work folder */
    DG_VIEW_SYMLINK,         /* target, a link whose text is source */
    DG_VIEW_DEVICE,          /* character device `device` at target */
    DG_VIEW_TMPFS,           /* writable tmpfs of `size` bytes at target, mount
                                options in source */
    DG_VIEW_EMPTY_FOLDER,    /* hidden folder: an empty read-only tmpfs over it */
    DG_VIEW_EMPTY_FILE,      /* hidden file: /dev/null over it */
    DG_VIEW_PROC,            /* the pid namespace's /proc */
    DG_VIEW_DETACH_HOST,     /* the host's tree at target (/oldroot) goes */
    DG_VIEW_SEAL             /* the root becomes read-only */
} dg_view_kind;

typedef struct dg_view_step {
    dg_view_kind kind;
    char *source;
    char *target;            /* path inside the sandbox */
    dev_t device;
    size_t size;
} dg_view_step;

/* The steps that build one run's filesystem, in order. */
typedef struct dg_view {
    dg_view_step *steps;
    int count;
    int capacity;
    bool failed;             /* ran out of memory while planning */
} dg_view;

/* Plans the view sandbox.h describes for request, with the work folder
 * `work` (a real path) at /work: the steps our own pid 1 takes
 * (dg_view_build), and bubblewrap's options (sandbox.c). Fails on memory
 * or a read-only path that does not resolve. */
nn_status dg_view_plan(dg_view *view, const dg_sandbox_request *request, const char *work,
                       nn_error *err);
void dg_view_release(dg_view *view);

/* Builds the view in the calling process, which must be root in a new
 * mount namespace of its own. System calls only: safe in a child cloned
 * from a threaded process. Returns -1 when every step worked, else the
 * index of the step that failed, errno telling why. */
int dg_view_build(const dg_view *view);

/* What a step does, for "sandbox setup failed at <name> <target>". */
const char *dg_view_step_name(dg_view_kind kind);

/* ---- seccomp ----------------------------------------------------------- */

/* The deny-list compiled to classic BPF by libseccomp: in a memfd (for
 * bwrap --seccomp FD) and in memory (for prctl when there is no bwrap). */
typedef struct dg_seccomp_filter {
    int fd;               /* memfd holding the program, offset 0, close-on-exec */
    void *code;           /* the same bytes: struct sock_filter[size / 8] */
    size_t size;
    int denied_calls;     /* system calls with a rule */
} dg_seccomp_filter;

nn_status dg_seccomp_build(dg_seccomp_filter *filter, nn_error *err);
void dg_seccomp_release(dg_seccomp_filter *filter);

#endif
