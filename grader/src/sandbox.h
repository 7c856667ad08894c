/*
 * sandbox.h - running untrusted student code (a compiler on their sources,
 * or a runner linked with their units) under limits, without a network and
 * with a filesystem view of only its work folder and the system libraries.
 *
 * See ../shared/SANDBOX.md for what works on the project's machines. The
 * mechanisms are probed at start; a mechanism that is missing is reported
 * in dg_sandbox_capabilities.notes (and from there in every report), never
 * silently skipped. Failure to start a sandbox is the grader's error
 * (DG_SANDBOX_ERROR), never the student's.
 *
 * The namespaces and the filesystem view are built by the grader itself
 * when it is root (sandbox_view.c: a few milliseconds per start), else by
 * bubblewrap in a user namespace (several milliseconds more), else not at
 * all, which the probe's notes say loudly.
 *
 * What the program sees, with every mechanism in force (root):
 *   - its own user (uid and gid DG_SANDBOX_FIRST_UID + slot, no
 *     capabilities, no supplementary groups), PR_SET_NO_NEW_PRIVS;
 *   - new network, pid, mount, ipc, uts and cgroup namespaces (and a user
 *     namespace under bubblewrap): only a loopback interface of its own,
 *     no host process, no new namespace of its own making (seccomp);
 *   - a read-only root holding /usr (read-only), the /bin, /lib... links,
 *     /etc/ld.so.cache and /etc/alternatives (so that OpenBLAS resolves),
 *     a minimal /dev, a /tmp of max_file_bytes, /proc only when asked
 *     for (showing the program's own processes only), the work folder
 *     read-write at /work (its current folder), and the request's extra
 *     read-only paths at their host paths, minus its hidden paths (empty
 *     there). Nothing else of the host;
 *   - the environment PATH=/usr/bin:/bin HOME=/work TMPDIR=/tmp LC_ALL=C;
 *   - a seccomp deny-list (EPERM): sockets, ptrace, mount, namespaces,
 *     bpf, io_uring, keyrings, perf, kernel modules... (seccomp_filter.c);
 *   - stdin fed from the request's input, stdout and stderr captured;
 *   - limits: CPU of the whole tree and wall time (enforced by the grader,
 *     which kills the whole tree), memory and processes (cgroups), file
 *     size, open files, stack and core size 0 (rlimits).
 * Nothing of the grader's command line or environment reaches the sandbox:
 * the grader's own pid 1 (a copy of the grader) is root without
 * capabilities and hidden from the program's /proc (hidepid); bubblewrap
 * reads its options from a file descriptor, so its /proc/1/cmdline shows
 * only "bwrap --args 4 -- " and the program's own argv (which the program
 * sees anyway: never put a secret in argv).
 */
#ifndef DG_SANDBOX_H
#define DG_SANDBOX_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>

/* Slot s runs as uid and gid DG_SANDBOX_FIRST_UID + s (when the grader is
 * root); slots go from 0 to DG_SANDBOX_MAX_SLOTS - 1. No account is created:
 * the numbers need no name. */
#define DG_SANDBOX_FIRST_UID 60000
#define DG_SANDBOX_MAX_SLOTS 4096

typedef struct dg_sandbox_limits {
    double cpu_seconds;        /* CPU time of the whole process tree */
    double wall_seconds;       /* backstop; e.g. 2 x cpu + 1 */
    size_t memory_bytes;       /* memory cgroup (RAM charged by the tree: heap, stacks,
                                  page cache, tmpfs files); RLIMIT_AS per process only
                                  when there is no memory cgroup */
    int max_processes;         /* processes and threads of the program at once, itself
                                  included (pids cgroup; the sandbox's own pid 1, or
                                  bubblewrap's two processes, are added on top) */
    size_t max_file_bytes;     /* largest file it may write (RLIMIT_FSIZE); also the size of its /tmp */
    int max_open_files;        /* RLIMIT_NOFILE, at least 16 (bubblewrap needs some) */
    size_t max_output_bytes;   /* stdout and stderr kept, each; the rest is drained and
                                  dropped; at most 1 GiB */
} dg_sandbox_limits;

/* Sensible defaults for a runner: 10 s CPU, 21 s wall, 512 MiB, 16
 * processes and threads, 64 MiB files, 64 open files, 8 MiB of output. */
dg_sandbox_limits dg_sandbox_default_limits(void);

#define DG_SANDBOX_PATH_SIZE 256

typedef struct dg_sandbox_capabilities {
    bool namespaces;        /* net/pid/mount/ipc/uts isolation in force: built by the
                               grader itself when user_switch (root), else by bwrap */
    bool bubblewrap;        /* bwrap builds them (a grader that is not root, or
                               $DLGRADE_SANDBOX_LAUNCHER=bubblewrap) */
    bool user_switch;       /* running as root: can drop to a slot uid */
    bool seccomp;           /* deny-list filter installed */
    bool cgroup_memory;     /* memory limit via cgroup (v1 or v2) */
    bool cgroup_pids;       /* process limit via cgroup */
    bool cgroup_kill;       /* whole-tree kill and CPU accounting (v2 cgroup.kill, cpu.stat) */
    char notes[2048];       /* one line per mechanism: in force, or missing and why */

    /* Found by the probe, used by dg_sandbox_run. A caller may clear one of
     * the booleans above to run without that mechanism (tests do); it must
     * never set one the probe left false. */
    bool bubblewrap_disable_userns;  /* bwrap accepts --disable-userns */
    int cgroup_memory_version;       /* 1 or 2 */
    int cgroup_pids_version;         /* 1 or 2 */
    char bubblewrap_path[DG_SANDBOX_PATH_SIZE];
    /* Cgroup folders under which each run gets a folder of its own:
     * normally the cgroups the grader itself is in, so that the limits of
     * whoever started the grader still hold. Empty when unavailable. */
    char cgroup_memory_parent[DG_SANDBOX_PATH_SIZE];
    char cgroup_pids_parent[DG_SANDBOX_PATH_SIZE];
    char cgroup_unified_parent[DG_SANDBOX_PATH_SIZE]; /* v2: cpu.stat, cgroup.kill */
} dg_sandbox_capabilities;

/* Detects what this machine offers, trying each mechanism once for real
 * (/usr/bin/true runs under the full profile, in the grader's own
 * namespaces as root, else under bubblewrap; the seccomp filter is loaded
 * in a child and must refuse a socket; a test cgroup is made, limited and
 * removed). Missing mechanisms are not errors: they are false with a note
 * saying why. $DLGRADE_SANDBOX_LAUNCHER=bubblewrap makes a root grader use
 * bubblewrap too; $DLGRADE_BWRAP overrides where bwrap is looked for.
 * Fails only when err-worthy trouble stops the probe itself (memory, a
 * temporary folder). */
nn_status dg_sandbox_probe(dg_sandbox_capabilities *capabilities, nn_error *err);

typedef enum dg_sandbox_status {
    DG_SANDBOX_EXITED,        /* exited on its own; see exit_code */
    DG_SANDBOX_SIGNALED,      /* killed by a signal of its own making (crash) */
    DG_SANDBOX_CPU_LIMIT,
    DG_SANDBOX_WALL_LIMIT,
    DG_SANDBOX_MEMORY_LIMIT,
    DG_SANDBOX_OUTPUT_LIMIT,  /* wrote more than max_output_bytes (truncated) */
    DG_SANDBOX_ERROR          /* the sandbox could not start: the grader's fault */
} dg_sandbox_status;

typedef struct dg_sandbox_request {
    const char *const *argv;   /* argv[0] is a path inside the sandbox */
    const char *work_directory; /* host folder, shown read-write at /work */
    const char *const *read_only_paths; /* extra host paths shown read-only at their real
                                           paths (mounts below them are not shown),
                                           NULL-terminated, may be NULL */
    const char *const *hidden_paths; /* host paths inside the shown system folders that the
                                        program must not see (a dataset's test labels under
                                        /usr/share): each is covered by an empty read-only
                                        folder (or file); missing ones are skipped; NULL-
                                        terminated, may be NULL. Needs namespaces. */
    int slot;                  /* parallel slot: picks the unprivileged uid */
    bool show_proc;            /* mount the sandbox's own /proc: Valgrind reads its maps
                                  there; a plain program has no use for it, and each mount
                                  costs start time (SANDBOX.md) */
    const void *input;         /* written to the child's stdin, then closed */
    size_t input_size;
    dg_sandbox_limits limits;
} dg_sandbox_request;

typedef struct dg_sandbox_result {
    dg_sandbox_status status;
    int exit_code;             /* DG_SANDBOX_EXITED (also kept under OUTPUT_LIMIT) */
    int signal;                /* DG_SANDBOX_SIGNALED (also kept under OUTPUT_LIMIT) */
    double cpu_seconds;        /* whole tree: cgroup cpu.stat, else wait4's rusage */
    double wall_seconds;       /* from fork to the end of the run */
    unsigned char *output;     /* stdout, owned, up to max_output_bytes (NULL when empty) */
    size_t output_size;
    char *errors;              /* stderr as text, owned, NUL-terminated, bounded; NULL
                                  only for DG_SANDBOX_ERROR before the start */
    size_t errors_size;
    bool output_truncated;     /* stdout or stderr went past max_output_bytes, whatever the status */
    char message[256];         /* for DG_SANDBOX_ERROR: what failed; otherwise empty or a warning */
} dg_sandbox_result;

/*
 * Runs request->argv in the sandbox and waits for it, feeding input and
 * capturing output concurrently (no deadlock whatever the sizes).
 *
 * Statuses, first match wins: CPU_LIMIT or WALL_LIMIT when the grader
 * killed the tree for that limit (or the RLIMIT_CPU backstop fired);
 * MEMORY_LIMIT when the memory cgroup killed something; OUTPUT_LIMIT when
 * output was truncated (exit_code/signal still say how it ended); SIGNALED
 * or EXITED. The grader's own pid 1 passes on the program's exact wait
 * status; under bubblewrap a death by signal N reaches the grader as exit
 * status 128 + N, folded the way a shell folds it, so an exit(139) reads
 * as SIGNALED with SIGSEGV there. Whatever is left of the tree when the
 * program ends (a setsid daemon) is killed, and the run's cgroups removed.
 *
 * The work folder: when the grader is root, the folder itself (not its
 * contents) is given to the slot's uid, so the program can create files;
 * the files the caller put there must be readable by others and, unless
 * the grader builds the namespaces itself, every folder above it
 * searchable by others (mkdtemp's 0700 is not). Without namespaces the
 * program runs in the work folder itself: an argv[0] of
 * "/work/NAME" is run as WORK/NAME, but other arguments are not rewritten,
 * so pass paths relative to the work folder. What the program leaves in
 * the work folder is as untrusted as its output: it may have put symlinks
 * there (to /etc/shadow, say), so open its files with O_NOFOLLOW and check
 * that they are regular files.
 *
 * Returns NN_OK whenever the result is filled, including DG_SANDBOX_ERROR
 * (message says what failed: a cgroup, the fork, a step of the
 * filesystem view, bubblewrap's setup, an exec). Returns NN_ERR_ARGUMENT for a malformed request and NN_ERR_MEMORY
 * when the grader ran out of memory; result->status is then
 * DG_SANDBOX_ERROR too. Release the result with dg_sandbox_result_release.
 */
nn_status dg_sandbox_run(dg_sandbox_result *result, const dg_sandbox_request *request,
                         const dg_sandbox_capabilities *capabilities, nn_error *err);
/* Frees the captured output; accepts NULL and released results. */
void dg_sandbox_result_release(dg_sandbox_result *result);
const char *dg_sandbox_status_name(dg_sandbox_status status);

#endif
