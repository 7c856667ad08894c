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
 */
#ifndef DG_SANDBOX_H
#define DG_SANDBOX_H

#include "nn/core.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct dg_sandbox_limits {
    double cpu_seconds;        /* CPU time of the whole process tree */
    double wall_seconds;       /* backstop; e.g. 2 x cpu + 1 */
    size_t memory_bytes;       /* address space / cgroup memory */
    int max_processes;         /* pids */
    size_t max_file_bytes;     /* largest file it may write */
    int max_open_files;
    size_t max_output_bytes;   /* stdout and stderr kept, each; the rest is drained and dropped */
} dg_sandbox_limits;

/* Sensible defaults for a runner: 10 s CPU, 512 MiB, 16 processes... */
dg_sandbox_limits dg_sandbox_default_limits(void);

typedef struct dg_sandbox_capabilities {
    bool bubblewrap;        /* bwrap found and working */
    bool namespaces;        /* net/pid/mount/ipc/uts isolation in force */
    bool user_switch;       /* running as root: can drop to a slot uid */
    bool seccomp;           /* deny-list filter installed */
    bool cgroup_memory;     /* memory limit via cgroup (v1 or v2) */
    bool cgroup_pids;       /* process limit via cgroup */
    bool cgroup_kill;       /* whole-tree kill and CPU accounting (v2 cgroup.kill, cpu.stat) */
    char notes[1024];       /* one line per mechanism: in force, or missing and why */
} dg_sandbox_capabilities;

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
    const char *const *read_only_paths; /* extra host paths shown read-only at the same path, NULL-terminated, may be NULL */
    int slot;                  /* parallel slot: picks the unprivileged uid */
    const void *input;         /* written to the child's stdin, then closed */
    size_t input_size;
    dg_sandbox_limits limits;
} dg_sandbox_request;

typedef struct dg_sandbox_result {
    dg_sandbox_status status;
    int exit_code;             /* DG_SANDBOX_EXITED */
    int signal;                /* DG_SANDBOX_SIGNALED */
    double cpu_seconds;
    double wall_seconds;
    unsigned char *output;     /* stdout, owned, up to max_output_bytes */
    size_t output_size;
    char *errors;              /* stderr as text, owned, NUL-terminated, bounded */
    size_t errors_size;
    char message[256];         /* for DG_SANDBOX_ERROR: what failed */
} dg_sandbox_result;

nn_status dg_sandbox_run(dg_sandbox_result *result, const dg_sandbox_request *request,
                         const dg_sandbox_capabilities *capabilities, nn_error *err);
void dg_sandbox_result_release(dg_sandbox_result *result);
const char *dg_sandbox_status_name(dg_sandbox_status status);

#endif
