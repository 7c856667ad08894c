/*
 * sandbox.c - running one untrusted program: probing the machine, starting
 * the sandbox, feeding and draining it, enforcing the limits, and telling
 * how it ended.
 *
 * Theory of operation. Three ways to start, chosen by the probe:
 *   - own namespaces (the grader is root): the grader clones a child
 *     straight into new mount, pid, network, ipc and uts namespaces; that
 *     child, pid 1 inside, builds the filesystem view as root
 *     (sandbox_view.c), forks the program, drops every capability and
 *     reaps until the program ends (run_sandbox_init);
 *   - bubblewrap (a grader that is not root): the child execs bwrap, which
 *     builds the namespaces in a user namespace and execs the program;
 *   - neither: the child execs the program itself, in the work folder.
 *
 * The child, between clone and exec, makes only async-signal-safe calls
 * (the grader may have threads; everything it needs was computed before):
 *   1. default signal dispositions and an empty signal mask;
 *   2. setsid: its own session and process group (the fallback kill target);
 *   3. joins the run's cgroups while still root;
 *   4. moves its descriptors to fixed numbers (0-2 stdio, 3 the seccomp
 *      program, 4 bwrap's arguments, 5 the status pipe, 6 the report pipe)
 *      and closes every other one, so no descriptor of the grader leaks in;
 *   5. rlimits as backstops: CPU (limit + 1 s soft, + 2 s hard), CORE 0
 *      (core_pattern is "core": a crash would write into the work folder),
 *      FSIZE, NOFILE, STACK, and AS only without a memory cgroup
 *      (AddressSanitizer cannot start under RLIMIT_AS);
 *   6. PR_SET_NO_NEW_PRIVS;
 *   7. drops to the slot's uid and gid (setgroups, setresgid, setresuid):
 *      bwrap started as root would keep root's capabilities inside;
 *   8. PR_SET_PDEATHSIG (after the uid change, which clears it): if the
 *      grader dies, bwrap's --die-with-parent takes the sandbox with it;
 *   9. execs bwrap with an almost empty environment and "--args 4", so
 *      that neither the grader's environment nor its paths show in
 *      /proc/1/environ or /proc/1/cmdline inside.
 * Without namespaces, steps 8-9 become: chdir to the work folder, load the
 * seccomp program with prctl, exec the program itself. In its own
 * namespaces the sandbox's pid 1 does 1-5, builds the view, and the
 * program it forks does 7, loads the seccomp program and execs.
 *
 * A failing step writes (step, errno) into the report pipe and exits 127.
 * The parent reads that pipe to EOF before anything else: close-on-exec
 * makes EOF mean that exec happened, so a setup failure becomes
 * DG_SANDBOX_ERROR, never an exit code. Whether the program really ran is
 * told by the status pipe: our own pid 1 writes the program's wait status
 * there, bwrap writes "exit-code" there (--json-status-fd) only then.
 *
 * The parent feeds stdin and drains stdout, stderr and the status pipe in
 * one poll() loop over non-blocking descriptors (no deadlock whatever the
 * sizes), keeps max_output_bytes of each stream and drops the rest, and
 * every 20 ms reads the tree's CPU time from cpu.stat. Past the CPU or wall
 * limit it kills the whole tree (cgroup.kill, else the process group).
 * Once the child is reaped it kills whatever is left (a setsid daemon),
 * collects the last output, reads the OOM count and removes the cgroups.
 */
#include "sandbox.h"
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Descriptor numbers in the child, fixed so that bwrap's arguments can
 * name them. */
enum { FD_SECCOMP = 3, FD_ARGS = 4, FD_STATUS = 5, FD_REPORT = 6, FD_COUNT = 7 };

#define SANDBOX_PATH "/usr/bin:/bin"
/* The namespaces the grader's own sandbox starts in; the cgroup namespace
 * follows once the run's cgroups are joined. */
#define SANDBOX_NAMESPACES (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
#define CHECK_INTERVAL_MS 20   /* CPU time is sampled this often */
#define DRAIN_SECONDS 1.0      /* after the end: how long leftover writers may hold a pipe */
#define MAX_RLIMITS 8
#define READS_PER_ROUND 16     /* 16 x 64 KiB per stream before looking at the clock again */

dg_sandbox_limits dg_sandbox_default_limits(void)
{
    dg_sandbox_limits limits = {
        .cpu_seconds = 10.0,
        .wall_seconds = 21.0,
        .memory_bytes = (size_t)512 << 20,
        .max_processes = 16,
        .max_file_bytes = (size_t)64 << 20,
        .max_open_files = 64,
        .max_output_bytes = (size_t)8 << 20,
    };
    return limits;
}

const char *dg_sandbox_status_name(dg_sandbox_status status)
{
    switch (status) {
    case DG_SANDBOX_EXITED: return "exited";
    case DG_SANDBOX_SIGNALED: return "killed by a signal";
    case DG_SANDBOX_CPU_LIMIT: return "CPU time limit";
    case DG_SANDBOX_WALL_LIMIT: return "wall time limit";
    case DG_SANDBOX_MEMORY_LIMIT: return "memory limit";
    case DG_SANDBOX_OUTPUT_LIMIT: return "output limit";
    case DG_SANDBOX_ERROR: return "sandbox error";
    }
    return "unknown";
}

void dg_sandbox_note(char *notes, size_t size, const char *format, ...)
{
    size_t used = strnlen(notes, size);
    if (used + 1 >= size)
        return;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(notes + used, size - used, format, args);
    va_end(args);
    if (n < 0)
        return;
    used = strnlen(notes, size);
    if (used + 1 < size) {
        notes[used] = '\n';
        notes[used + 1] = '\0';
    } else {
        notes[size - 2] = '\n'; /* truncated: keep the line structure */
    }
}

void dg_sandbox_result_release(dg_sandbox_result *result)
{
    if (result == NULL)
        return;
    free(result->output);
    free(result->errors);
    result->output = NULL;
    result->errors = NULL;
    result->output_size = result->errors_size = 0;
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* ---- the child ---------------------------------------------------------- */

typedef enum child_step {
    STEP_SETSID = 1, STEP_CGROUP, STEP_RLIMIT, STEP_DESCRIPTORS, STEP_NO_NEW_PRIVS,
    STEP_SETGROUPS, STEP_SETGID, STEP_SETUID, STEP_PARENT_DEATH, STEP_WORK_ACCESS,
    STEP_CHDIR, STEP_SECCOMP, STEP_EXEC, STEP_CGROUP_NAMESPACE, STEP_VIEW, STEP_HOSTNAME,
    STEP_LOOPBACK, STEP_FORK
} child_step;

static const char *step_name(int step)
{
    switch (step) {
    case STEP_SETSID: return "setsid";
    case STEP_CGROUP: return "joining the run's cgroups";
    case STEP_RLIMIT: return "setrlimit";
    case STEP_DESCRIPTORS: return "arranging descriptors";
    case STEP_NO_NEW_PRIVS: return "PR_SET_NO_NEW_PRIVS";
    case STEP_SETGROUPS: return "setgroups";
    case STEP_SETGID: return "setresgid";
    case STEP_SETUID: return "setresuid";
    case STEP_PARENT_DEATH: return "PR_SET_PDEATHSIG";
    case STEP_WORK_ACCESS:
        return "the slot's uid cannot use the work folder (is every folder above it "
               "searchable by others?)";
    case STEP_CHDIR: return "chdir to the work folder";
    case STEP_SECCOMP: return "loading the seccomp filter";
    case STEP_EXEC: return "exec";
    case STEP_CGROUP_NAMESPACE: return "unsharing the cgroup namespace";
    case STEP_VIEW: return "building the filesystem view";
    case STEP_HOSTNAME: return "sethostname";
    case STEP_LOOPBACK: return "bringing up the loopback interface";
    case STEP_FORK: return "forking the program from the sandbox's pid 1";
    }
    return "unknown step";
}

typedef struct child_report {
    int step;
    int error;
    int item;    /* STEP_VIEW: the index of the view's step that failed */
} child_report;

/* Everything the child does, decided before fork. */
typedef struct child_plan {
    int sources[FD_COUNT];              /* descriptor to place at each number, -1: none */
    const dg_cgroup_set *cgroups;
    int resources[MAX_RLIMITS];
    struct rlimit limits[MAX_RLIMITS];
    int limit_count;
    bool switch_user;
    uid_t uid;
    gid_t gid;
    pid_t parent;
    const char *work_access;            /* checked after the uid change (bwrap binds it as that uid) */
    const char *work_chdir;             /* without bwrap: run in the work folder */
    const struct sock_fprog *seccomp;   /* without bwrap: loaded by the child itself */
    const dg_view *view;                /* own namespaces: what the sandbox's pid 1 builds */
    const char *path;
    char *const *argv;
    char *const *envp;
} child_plan;

static _Noreturn void child_fail_item(int report_fd, child_step step, int item)
{
    child_report report = { (int)step, errno, item };
    ssize_t written = write(report_fd, &report, sizeof report);
    (void)written; /* nothing more a dying child can do */
    _exit(127);
}

static _Noreturn void child_fail(int report_fd, child_step step)
{
    child_report report = { (int)step, errno, -1 };
    ssize_t written = write(report_fd, &report, sizeof report);
    (void)written; /* nothing more a dying child can do */
    _exit(127);
}

static int join_cgroup(const char *procs)
{
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, "0", 1); /* "0" moves the writer itself */
    int saved = errno;
    close(fd);
    errno = saved;
    return n == 1 ? 0 : -1;
}

static void close_from(int first)
{
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
        return;
    struct rlimit open_files;
    rlim_t last = 65536;
    if (getrlimit(RLIMIT_NOFILE, &open_files) == 0 && open_files.rlim_cur < last)
        last = open_files.rlim_cur;
    for (rlim_t fd = (rlim_t)first; fd < last; fd++)
        close((int)fd);
}

/* What every child does first: default signals, its own session, the
 * run's cgroups, the descriptors at their fixed numbers. Returns the
 * report descriptor's number. */
static int child_start(const child_plan *plan)
{
    int report = plan->sources[FD_REPORT];

    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &default_action, NULL); /* fails harmlessly for KILL, STOP */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (setsid() < 0)
        child_fail(report, STEP_SETSID);
    for (int i = 0; i < plan->cgroups->procs_count; i++)
        if (join_cgroup(plan->cgroups->procs[i]) != 0)
            child_fail(report, STEP_CGROUP);
    /* Copy every source above the fixed numbers first, so that placing one
     * cannot overwrite another that happens to sit at its target. */
    int moved[FD_COUNT];
    for (int i = 0; i < FD_COUNT; i++) {
        moved[i] = -1;
        if (plan->sources[i] >= 0) {
            moved[i] = fcntl(plan->sources[i], F_DUPFD_CLOEXEC, FD_COUNT);
            if (moved[i] < 0)
                child_fail(report, STEP_DESCRIPTORS);
        }
    }
    report = moved[FD_REPORT];
    for (int i = 0; i < FD_COUNT; i++) {
        if (moved[i] < 0) {
            close(i);
            continue;
        }
        /* the status pipe is the sandbox's pid 1's, not the program's */
        bool keep_from_program = i == FD_REPORT || (plan->view != NULL && i == FD_STATUS);
        if (dup3(moved[i], i, keep_from_program ? O_CLOEXEC : 0) < 0)
            child_fail(report, STEP_DESCRIPTORS);
    }
    close_from(FD_COUNT);
    return FD_REPORT;
}

static void child_set_limits(const child_plan *plan, int report)
{
    /* After the descriptors: moving them needs numbers above a small
     * RLIMIT_NOFILE. */
    for (int i = 0; i < plan->limit_count; i++)
        if (setrlimit((__rlimit_resource_t)plan->resources[i], &plan->limits[i]) != 0)
            child_fail(report, STEP_RLIMIT);
}

static _Noreturn void run_child(const child_plan *plan)
{
    int report = child_start(plan);
    child_set_limits(plan, report);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(report, STEP_NO_NEW_PRIVS);
    if (plan->switch_user) {
        if (setgroups(0, NULL) != 0)
            child_fail(report, STEP_SETGROUPS);
        if (setresgid(plan->gid, plan->gid, plan->gid) != 0)
            child_fail(report, STEP_SETGID);
        if (setresuid(plan->uid, plan->uid, plan->uid) != 0)
            child_fail(report, STEP_SETUID);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        child_fail(report, STEP_PARENT_DEATH);
    if (getppid() != plan->parent)
        _exit(127); /* the grader died before the line above: nobody to report to */
    if (plan->work_access != NULL && access(plan->work_access, R_OK | W_OK | X_OK) != 0)
        child_fail(report, STEP_WORK_ACCESS);
    if (plan->work_chdir != NULL && chdir(plan->work_chdir) != 0)
        child_fail(report, STEP_CHDIR);
    if (plan->seccomp != NULL && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, plan->seccomp) != 0)
        child_fail(report, STEP_SECCOMP);
    execve(plan->path, plan->argv, plan->envp);
    child_fail(report, STEP_EXEC);
}

/* The grader's end of the report pipe closes when the grader dies: the
 * test after PR_SET_PDEATHSIG, for a child whose parent is in another pid
 * namespace (getppid() says 0 there). */
static bool grader_is_gone(int report)
{
    struct pollfd end = { report, POLLOUT, 0 };
    return poll(&end, 1, 0) == 1 && (end.revents & POLLERR);
}

/* The loopback interface, up as on any machine (and still cut off from
 * the host's). */
static int bring_up_loopback(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    int done = ioctl(fd, SIOCGIFFLAGS, &request);
    if (done == 0) {
        request.ifr_flags |= IFF_UP;
        done = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return done;
}

/* The program, forked by the sandbox's pid 1: the slot's user, the filter,
 * exec. Raw system calls for the ids: glibc's wrappers would try to reach
 * the grader's other threads, which do not exist in this copy. */
static _Noreturn void run_program(const child_plan *plan, int report)
{
    if (plan->switch_user) {
        if (syscall(SYS_setgroups, 0, NULL) != 0)
            child_fail(report, STEP_SETGROUPS);
        if (syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) != 0)
            child_fail(report, STEP_SETGID);
        if (syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) != 0)
            child_fail(report, STEP_SETUID);
    }
    umask(022);
    if (plan->seccomp != NULL && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, plan->seccomp) != 0)
        child_fail(report, STEP_SECCOMP);
    execve(plan->path, plan->argv, plan->envp);
    child_fail(report, STEP_EXEC);
}

/* The sandbox's pid 1, cloned by the grader into new mount, pid, network,
 * ipc and uts namespaces, still root: it builds the filesystem view, forks
 * the program, gives up its capabilities, reaps whatever dies in the
 * namespace and hands the program's wait status to the grader through the
 * status pipe. When it exits, the kernel kills what is left inside. */
static _Noreturn void run_sandbox_init(const child_plan *plan)
{
    int report = child_start(plan);
    /* after joining the run's cgroups: they become the namespace's root */
    if (unshare(CLONE_NEWCGROUP) != 0)
        child_fail(report, STEP_CGROUP_NAMESPACE);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        child_fail(report, STEP_PARENT_DEATH);
    if (grader_is_gone(report))
        _exit(127);
    int failed = dg_view_build(plan->view);
    if (failed >= 0)
        child_fail_item(report, STEP_VIEW, failed);
    if (sethostname("sandbox", 7) != 0)
        child_fail(report, STEP_HOSTNAME);
    if (bring_up_loopback() != 0)
        child_fail(report, STEP_LOOPBACK);
    child_set_limits(plan, report);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(report, STEP_NO_NEW_PRIVS);
    if (chdir("/work") != 0)
        child_fail(report, STEP_CHDIR);

    pid_t program = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (program == 0)
        run_program(plan, report);
    if (program < 0)
        child_fail(report, STEP_FORK);
    close(report); /* the grader reads to EOF: the program's exec ends it */

    /* Nothing of root is left to take over. No ptrace, no /proc/1/mem. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
    memset(none, 0, sizeof none);
    syscall(SYS_capset, &header, none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (;;) {
        int status;
        pid_t done = waitpid(-1, &status, 0);
        if (done == program) {
            ssize_t written = write(FD_STATUS, &status, sizeof status);
            _exit(written == (ssize_t)sizeof status ? 0 : 126);
        }
        if (done < 0 && errno != EINTR)
            _exit(126);
    }
}

static void plan_limit(child_plan *plan, int resource, rlim_t soft, rlim_t hard)
{
    /* A hard limit can only be lowered (SANDBOX.md): never ask for more
     * than the grader has. */
    struct rlimit current;
    if (getrlimit((__rlimit_resource_t)resource, &current) == 0 &&
        current.rlim_max != RLIM_INFINITY && hard > current.rlim_max)
        hard = current.rlim_max;
    if (soft > hard)
        soft = hard;
    plan->resources[plan->limit_count] = resource;
    plan->limits[plan->limit_count].rlim_cur = soft;
    plan->limits[plan->limit_count].rlim_max = hard;
    plan->limit_count++;
}

/* ---- bubblewrap's arguments ---------------------------------------------- */

typedef struct arg_buffer {
    char *data;
    size_t size;
    size_t capacity;
    bool failed;
} arg_buffer;

static void arg_add(arg_buffer *b, const char *text)
{
    size_t length = strlen(text) + 1; /* NUL-separated, as --args wants */
    if (b->failed)
        return;
    if (b->size + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 1024;
        while (capacity < b->size + length)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, text, length);
    b->size += length;
}

static void arg_add_number(arg_buffer *b, unsigned long long value)
{
    char text[32];
    snprintf(text, sizeof text, "%llu", value);
    arg_add(b, text);
}

/* bwrap's options for the view: the same steps our own pid 1 takes. */
static void add_view(arg_buffer *b, const dg_view *view)
{
    for (int i = 0; i < view->count; i++) {
        const dg_view_step *step = &view->steps[i];
        switch (step->kind) {
        case DG_VIEW_ROOT:        /* bwrap's root is an empty tmpfs already */
        case DG_VIEW_DETACH_HOST: /* and it detaches the host's tree itself */
            break;
        case DG_VIEW_BIND_READ_ONLY:
        case DG_VIEW_BIND_WRITABLE:
        case DG_VIEW_SYMLINK:
            arg_add(b, step->kind == DG_VIEW_BIND_READ_ONLY ? "--ro-bind"
                       : step->kind == DG_VIEW_BIND_WRITABLE ? "--bind"
                                                             : "--symlink");
            arg_add(b, step->source);
            arg_add(b, step->target);
            break;
        case DG_VIEW_DEVICE:
            arg_add(b, "--dev-bind");
            arg_add(b, step->target); /* the host's node of the same name */
            arg_add(b, step->target);
            break;
        case DG_VIEW_TMPFS:
            arg_add(b, "--size");
            arg_add_number(b, step->size);
            arg_add(b, "--tmpfs");
            arg_add(b, step->target);
            break;
        case DG_VIEW_EMPTY_FOLDER:
            arg_add(b, "--tmpfs");
            arg_add(b, step->target);
            arg_add(b, "--remount-ro");
            arg_add(b, step->target);
            break;
        case DG_VIEW_EMPTY_FILE:
            arg_add(b, "--ro-bind");
            arg_add(b, "/dev/null");
            arg_add(b, step->target);
            break;
        case DG_VIEW_PROC:
            arg_add(b, "--proc");
            arg_add(b, step->target);
            break;
        case DG_VIEW_SEAL:
            arg_add(b, "--remount-ro");
            arg_add(b, "/");
            break;
        }
    }
}

static void build_bwrap_args(arg_buffer *b, const dg_view *view,
                             const dg_sandbox_capabilities *caps, bool seccomp)
{
    arg_add(b, "--unshare-all");   /* net, pid, ipc, uts, cgroup, user if possible */
    arg_add(b, "--unshare-user");  /* user for certain: --disable-userns needs it */
    if (caps->bubblewrap_disable_userns)
        arg_add(b, "--disable-userns");
    arg_add(b, "--die-with-parent");
    arg_add(b, "--new-session");   /* no TIOCSTI into the grader's terminal */
    arg_add(b, "--hostname");
    arg_add(b, "sandbox");
    arg_add(b, "--clearenv");
    const char *environment[][2] = {
        { "PATH", SANDBOX_PATH }, { "HOME", "/work" }, { "TMPDIR", "/tmp" }, { "LC_ALL", "C" },
    };
    for (size_t i = 0; i < sizeof environment / sizeof environment[0]; i++) {
        arg_add(b, "--setenv");
        arg_add(b, environment[i][0]);
        arg_add(b, environment[i][1]);
    }
    add_view(b, view);
    arg_add(b, "--chdir");
    arg_add(b, "/work");
    if (seccomp) {
        arg_add(b, "--seccomp");
        arg_add_number(b, FD_SECCOMP);
    }
    arg_add(b, "--json-status-fd");
    arg_add_number(b, FD_STATUS);
    /* The program's own argv follows "--args 4" on the real command line:
     * bwrap takes only options from the --args file. */
}

/* ---- one run ------------------------------------------------------------ */

typedef struct capture {
    int fd;
    unsigned char *data;
    size_t size;
    size_t capacity;
    size_t limit;
    bool truncated;
} capture;

typedef struct run_state {
    const dg_sandbox_request *request;
    const dg_sandbox_capabilities *caps;
    bool bubblewrap;       /* bwrap builds the namespaces */
    bool own_namespaces;   /* the grader's child builds them itself (root) */
    dg_view view;          /* own_namespaces: the filesystem it builds */
    char work[PATH_MAX];
    char home[PATH_MAX + 8];
    char program[PATH_MAX];
    dg_seccomp_filter filter;
    struct sock_fprog seccomp_program;
    dg_cgroup_set cgroups;
    bool cgroups_made;
    int args_fd;
    int stdin_fd;          /* parent's end; -1 once closed */
    size_t input_done;
    capture out;
    capture err;
    capture status;        /* bwrap's JSON status lines, or the program's wait
                              status from the sandbox's own pid 1 */
    int report_fd;
    int pidfd;
    pid_t pid;
    bool reaped;
    int wait_status;
    struct rusage usage;
    double started;
    double ended;
    dg_sandbox_status kill_reason; /* EXITED: not killed by the grader */
    double tree_cpu;       /* largest CPU time sampled from /proc (no v2 cgroup) */
    bool wait_lost;        /* the child's status could not be collected */
    const char *grader_failure;    /* set when the grader itself failed mid-run */
    char **argv_copy;
} run_state;

static nn_status fail_run(dg_sandbox_result *result, nn_error *err, nn_status status,
                          const char *format, ...) __attribute__((format(printf, 4, 5)));

/* Records a failure to start: status DG_SANDBOX_ERROR and the message, in
 * the result and in err. Returns `status` (NN_OK for "the result tells"). */
static nn_status fail_run(dg_sandbox_result *result, nn_error *err, nn_status status,
                          const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(result->message, sizeof result->message, format, args);
    va_end(args);
    result->status = DG_SANDBOX_ERROR;
    if (status != NN_OK)
        nn_error_set(err, status, "%s", result->message);
    return status;
}

static bool capture_reserve(capture *c, size_t extra)
{
    size_t needed = c->size + extra + 1; /* + 1: room for a final NUL */
    if (needed <= c->capacity)
        return true;
    size_t capacity = c->capacity ? c->capacity : 65536;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > c->limit + 1)
        capacity = c->limit + 1;
    unsigned char *grown = realloc(c->data, capacity);
    if (grown == NULL)
        return false;
    c->data = grown;
    c->capacity = capacity;
    return true;
}

/* Reads what is available (a bounded number of chunks, so that a flood
 * cannot keep the loop from the clock), keeps up to the limit, drops the
 * rest. Closes the descriptor at EOF. */
static void capture_read(capture *c, const char **failure)
{
    unsigned char chunk[65536];
    for (int round = 0; round < READS_PER_ROUND && c->fd >= 0; round++) {
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close(c->fd);
            c->fd = -1;
            return;
        }
        size_t keep = (size_t)n;
        if (keep > c->limit - c->size) {
            keep = c->limit - c->size;
            c->truncated = true;
        }
        if (keep == 0)
            continue;
        if (!capture_reserve(c, keep)) {
            *failure = "the grader ran out of memory while reading the output";
            c->truncated = true;
            continue;
        }
        memcpy(c->data + c->size, chunk, keep);
        c->size += keep;
    }
}

/* Writes the next piece of input. SIGPIPE is blocked around the write (and
 * one it raised is consumed), so a program that closes its stdin early
 * cannot kill the grader. */
static void feed_input(run_state *s)
{
    const unsigned char *input = s->request->input;
    size_t left = s->request->input_size - s->input_done;
    if (left == 0) {
        close(s->stdin_fd);
        s->stdin_fd = -1;
        return;
    }
    sigset_t pipe_set, old_mask, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    ssize_t n = write(s->stdin_fd, input + s->input_done, left < 65536 ? left : 65536);
    int saved = errno;
    if (n < 0 && saved == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (n > 0)
        s->input_done += (size_t)n;
    else if (n < 0 && saved != EAGAIN && saved != EINTR) {
        close(s->stdin_fd); /* EPIPE: the program does not want the rest */
        s->stdin_fd = -1;
    }
    if (s->stdin_fd >= 0 && s->input_done == s->request->input_size) {
        close(s->stdin_fd);
        s->stdin_fd = -1;
    }
}

static void try_reap(run_state *s)
{
    if (s->reaped)
        return;
    pid_t done = wait4(s->pid, &s->wait_status, WNOHANG, &s->usage);
    if (done == s->pid || (done < 0 && errno == ECHILD)) {
        /* ECHILD: the grader ignores SIGCHLD, so the kernel reaped the
         * child and its status is lost */
        s->reaped = true;
        s->wait_lost = done < 0;
        s->ended = monotonic_seconds();
    }
}

/* Kills the whole tree: cgroup.kill reaches every process, even one that
 * left the group with setsid. The process group is the fallback, signalled
 * only while its leader is unreaped (its number cannot be reused then). */
static void kill_tree(run_state *s)
{
    if (s->cgroups_made)
        dg_cgroup_kill(&s->cgroups);
    if (!s->reaped)
        kill(-s->pid, SIGKILL);
}

/* The host pid of the sandbox's pid 1, from bwrap's {"child-pid": N}
 * status line, or 0 while bwrap has not written it. */
static pid_t sandbox_init_pid(const run_state *s)
{
    if (s->status.data == NULL)
        return 0;
    static const char key[] = "\"child-pid\":";
    const unsigned char *found = memmem(s->status.data, s->status.size, key, sizeof key - 1);
    if (found == NULL)
        return 0;
    size_t at = (size_t)(found - s->status.data) + sizeof key - 1;
    long pid = 0;
    while (at < s->status.size && s->status.data[at] == ' ')
        at++;
    while (at < s->status.size && s->status.data[at] >= '0' && s->status.data[at] <= '9' &&
           pid < 100000000)
        pid = pid * 10 + (s->status.data[at++] - '0');
    return pid > 1 ? (pid_t)pid : 0;
}

/* utime + stime of a process, and cutime + cstime (its reaped
 * descendants), in clock ticks, from /proc/PID/stat. */
static bool process_ticks(pid_t pid, unsigned long long *ticks)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "re");
    if (file == NULL)
        return false;
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = '\0';
    /* the command name may hold spaces and parentheses: fields start
     * after the last ')'; utime is field 14, the 12th after it */
    const char *rest = strrchr(text, ')');
    unsigned long long utime, stime;
    long long cutime, cstime;
    if (rest == NULL ||
        sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
               &utime, &stime, &cutime, &cstime) != 4)
        return false;
    *ticks += utime + stime + (unsigned long long)(cutime > 0 ? cutime : 0) +
              (unsigned long long)(cstime > 0 ? cstime : 0);
    return true;
}

/* CPU seconds of a process tree when there is no cgroup to ask: every
 * live process counts its own time and that of the descendants it has
 * reaped, so each process, alive or dead, is counted once (a process that
 * left the tree, e.g. an orphan adopted outside a pid namespace, is not). */
static double tree_cpu_seconds(pid_t root)
{
    enum { MAX_TREE = 1024 };
    pid_t stack[MAX_TREE];
    int depth = 0, visited = 0;
    unsigned long long ticks = 0;
    stack[depth++] = root;
    while (depth > 0 && visited < MAX_TREE) {
        pid_t pid = stack[--depth];
        visited++;
        if (!process_ticks(pid, &ticks))
            continue;
        char folder[64];
        snprintf(folder, sizeof folder, "/proc/%d/task", (int)pid);
        DIR *tasks = opendir(folder);
        if (tasks == NULL)
            continue;
        for (struct dirent *task; (task = readdir(tasks)) != NULL;) {
            if (task->d_name[0] < '0' || task->d_name[0] > '9')
                continue;
            char path[128];
            snprintf(path, sizeof path, "%s/%.20s/children", folder, task->d_name);
            FILE *children = fopen(path, "re");
            if (children == NULL)
                continue;
            int child;
            while (depth < MAX_TREE && fscanf(children, "%d", &child) == 1)
                stack[depth++] = (pid_t)child;
            fclose(children);
        }
        closedir(tasks);
    }
    long hertz = sysconf(_SC_CLK_TCK);
    return (double)ticks / (double)(hertz > 0 ? hertz : 100);
}

/* CPU time of the run so far: the v2 cgroup's cpu.stat, else sampled
 * from the process tree under the sandbox's pid 1 (or the child). */
static double run_cpu_seconds(run_state *s)
{
    double cpu = s->cgroups_made ? dg_cgroup_cpu_seconds(&s->cgroups) : -1.0;
    if (cpu >= 0)
        return cpu;
    pid_t root = s->bubblewrap ? sandbox_init_pid(s) : s->pid; /* own: pid 1 is our child */
    if (root > 0 && !s->reaped) {
        double sampled = tree_cpu_seconds(root);
        if (sampled > s->tree_cpu)
            s->tree_cpu = sampled;
    }
    return s->tree_cpu;
}

/* Limits the grader enforces itself while the program runs. */
static void check_limits(run_state *s, double now)
{
    if (s->reaped || s->kill_reason != DG_SANDBOX_EXITED)
        return;
    double cpu = run_cpu_seconds(s);
    if (cpu >= s->request->limits.cpu_seconds)
        s->kill_reason = DG_SANDBOX_CPU_LIMIT;
    else if (now - s->started >= s->request->limits.wall_seconds)
        s->kill_reason = DG_SANDBOX_WALL_LIMIT;
    if (s->kill_reason != DG_SANDBOX_EXITED)
        kill_tree(s);
}

static int poll_timeout_ms(const run_state *s, double now, double drain_deadline)
{
    double seconds;
    if (s->reaped) {
        seconds = drain_deadline - now;
    } else {
        seconds = s->request->limits.wall_seconds - (now - s->started);
        if (seconds > CHECK_INTERVAL_MS / 1000.0)
            seconds = CHECK_INTERVAL_MS / 1000.0; /* time to sample the CPU */
    }
    if (seconds < 0)
        seconds = 0;
    return (int)ceil(seconds * 1000.0);
}

/* The poll loop: runs until the child is reaped and its pipes are closed
 * (or DRAIN_SECONDS after the reap, if something outside our reach still
 * holds one). */
static void supervise(run_state *s)
{
    double drain_deadline = 0;
    bool cleaned_up = false;
    for (;;) {
        try_reap(s);
        double now = monotonic_seconds();
        check_limits(s, now);
        if (s->reaped && !cleaned_up) {
            /* Whatever outlived the program (a setsid daemon without
             * bubblewrap's pid namespace) goes now. */
            kill_tree(s);
            if (s->stdin_fd >= 0) {
                close(s->stdin_fd);
                s->stdin_fd = -1;
            }
            drain_deadline = now + DRAIN_SECONDS;
            cleaned_up = true;
        }
        if (s->reaped && s->out.fd < 0 && s->err.fd < 0 && s->status.fd < 0)
            return;
        if (s->reaped && now >= drain_deadline)
            return;

        struct pollfd fds[5];
        int count = 0, in_at = -1, out_at = -1, err_at = -1, status_at = -1;
        if (s->stdin_fd >= 0) {
            in_at = count;
            fds[count++] = (struct pollfd){ s->stdin_fd, POLLOUT, 0 };
        }
        if (s->out.fd >= 0) {
            out_at = count;
            fds[count++] = (struct pollfd){ s->out.fd, POLLIN, 0 };
        }
        if (s->err.fd >= 0) {
            err_at = count;
            fds[count++] = (struct pollfd){ s->err.fd, POLLIN, 0 };
        }
        if (s->status.fd >= 0) {
            status_at = count;
            fds[count++] = (struct pollfd){ s->status.fd, POLLIN, 0 };
        }
        /* a readable pidfd only means "reap now", done at the top */
        if (!s->reaped && s->pidfd >= 0)
            fds[count++] = (struct pollfd){ s->pidfd, POLLIN, 0 };
        int ready = poll(fds, (nfds_t)count, poll_timeout_ms(s, now, drain_deadline));
        if (ready < 0 && errno != EINTR) {
            s->grader_failure = "poll() failed"; /* not with valid descriptors */
            kill_tree(s);
            return;
        }
        if (ready <= 0)
            continue;
        if (in_at >= 0 && fds[in_at].revents)
            feed_input(s);
        if (out_at >= 0 && fds[out_at].revents)
            capture_read(&s->out, &s->grader_failure);
        if (err_at >= 0 && fds[err_at].revents)
            capture_read(&s->err, &s->grader_failure);
        if (status_at >= 0 && fds[status_at].revents)
            capture_read(&s->status, &s->grader_failure);
        if (s->grader_failure != NULL && s->kill_reason == DG_SANDBOX_EXITED && !s->reaped)
            kill_tree(s);
    }
}

/* bwrap's monitor (our child) exits as soon as it learns the program's
 * status, while the sandbox's pid 1 may still be tearing the namespace
 * down; it was not our child, so wait for it through a pidfd, found from
 * the "child-pid" bwrap reported, then reap it (it is ours once its
 * parent is gone, the grader being a subreaper). When this returns, no
 * process of the run is left, not even a zombie. */
static void wait_for_sandbox_init(const run_state *s)
{
    pid_t pid = sandbox_init_pid(s);
    if (pid <= 0)
        return;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return; /* ESRCH: already gone */
    struct pollfd exited = { fd, POLLIN, 0 };
    double deadline = monotonic_seconds() + 2.0;
    int ready = 0;
    for (;;) {
        double left = deadline - monotonic_seconds();
        if (left <= 0)
            break;
        ready = poll(&exited, 1, (int)ceil(left * 1000.0));
        if (ready >= 0 || errno != EINTR)
            break;
    }
    close(fd);
    /* The grader is a child subreaper (prepare()), so the orphaned pid 1
     * is its child now: reap it, or it stays a zombie of the slot's uid
     * for as long as the host's init takes to notice (for ever under an
     * init that does not reap). Only this pid is waited for: a caller's
     * own children are none of the sandbox's business. */
    for (int attempt = 0; ready > 0 && attempt < 100; attempt++) {
        pid_t done = waitpid((pid_t)pid, NULL, WNOHANG);
        if (done != 0)
            break;   /* reaped, or not our child (ECHILD) */
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
}

/* Reads the child's report pipe to EOF: nothing means exec happened. */
static bool read_report(run_state *s, child_report *report)
{
    size_t got = 0;
    while (got < sizeof *report) {
        ssize_t n = read(s->report_fd, (char *)report + got, sizeof *report - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got == sizeof *report;
}

/* How the program ended, by the rules in sandbox.h. */
static void classify(run_state *s, dg_sandbox_result *result)
{
    const dg_sandbox_limits *limits = &s->request->limits;
    double cpu = s->cgroups_made ? dg_cgroup_cpu_seconds(&s->cgroups) : -1.0;
    if (cpu < 0) {
        /* wait4 counts only what bwrap's monitor reaped, which is not the
         * sandbox's pid 1: the samples taken during the run count too */
        cpu = (double)s->usage.ru_utime.tv_sec + 1e-6 * (double)s->usage.ru_utime.tv_usec +
              (double)s->usage.ru_stime.tv_sec + 1e-6 * (double)s->usage.ru_stime.tv_usec;
        if (s->tree_cpu > cpu)
            cpu = s->tree_cpu;
    }
    result->cpu_seconds = cpu;
    result->wall_seconds = s->ended - s->started;
    result->output_truncated = s->out.truncated || s->err.truncated;

    int code = -1, signal_number = 0;
    int program_status = s->wait_status;
    bool program_ran = true;
    if (s->own_namespaces) {
        /* the sandbox's pid 1 passes on the program's own wait status */
        program_ran = s->status.size == sizeof program_status;
        if (program_ran)
            memcpy(&program_status, s->status.data, sizeof program_status);
    } else if (s->bubblewrap) {
        program_ran = s->status.data != NULL &&
                      memmem(s->status.data, s->status.size, "\"exit-code\"", 11) != NULL;
    }
    if (WIFEXITED(program_status)) {
        code = WEXITSTATUS(program_status);
        /* bwrap folds a death by signal N into exit status 128 + N */
        if (s->bubblewrap && code > 128 && code < 128 + NSIG) {
            signal_number = code - 128;
            code = -1;
        }
    } else if (WIFSIGNALED(program_status)) {
        signal_number = WTERMSIG(program_status);
    }
    result->exit_code = code < 0 ? 0 : code;
    result->signal = signal_number;

    long oom_kills = s->cgroups_made ? dg_cgroup_oom_kills(&s->cgroups) : 0;

    if (s->kill_reason != DG_SANDBOX_EXITED) {
        result->status = s->kill_reason;
    } else if (oom_kills > 0) {
        result->status = DG_SANDBOX_MEMORY_LIMIT;
    } else if (s->wait_lost) {
        fail_run(result, NULL, NN_OK,
                 "cannot collect the sandbox's exit status (does the grader ignore SIGCHLD?)");
    } else if (s->grader_failure != NULL) {
        fail_run(result, NULL, NN_OK, "%s", s->grader_failure);
    } else if (!program_ran && s->own_namespaces) {
        fail_run(result, NULL, NN_OK, "the sandbox's pid 1 ended without the program's status");
    } else if (!program_ran) {
        /* bwrap's own message is the first line of stderr */
        const unsigned char *end = s->err.data ? memchr(s->err.data, '\n', s->err.size) : NULL;
        int line = (int)(end ? (size_t)(end - s->err.data) : s->err.size);
        fail_run(result, NULL, NN_OK, "bubblewrap did not start the program: %.*s",
                 line > 0 ? (line < 200 ? line : 200) : 10,
                 line > 0 ? (const char *)s->err.data : "no message");
    } else if (signal_number == SIGXCPU ||
               (signal_number == SIGKILL && cpu >= limits->cpu_seconds)) {
        result->status = DG_SANDBOX_CPU_LIMIT; /* the RLIMIT_CPU backstop */
    } else if (result->output_truncated) {
        result->status = DG_SANDBOX_OUTPUT_LIMIT;
    } else {
        result->status = signal_number ? DG_SANDBOX_SIGNALED : DG_SANDBOX_EXITED;
    }
}

static void close_if_open(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void move_outputs(run_state *s, dg_sandbox_result *result)
{
    result->output = s->out.data;
    result->output_size = s->out.size;
    s->out.data = NULL;
    if (s->err.data == NULL)
        s->err.data = calloc(1, 1);
    if (s->err.data != NULL)
        s->err.data[s->err.size] = '\0';
    result->errors = (char *)s->err.data;
    result->errors_size = s->err.size;
    s->err.data = NULL;
}

static nn_status check_request(const dg_sandbox_request *request, dg_sandbox_result *result,
                               nn_error *err)
{
    const dg_sandbox_limits *l = &request->limits;
    if (request->argv == NULL || request->argv[0] == NULL || request->argv[0][0] != '/')
        return fail_run(result, err, NN_ERR_ARGUMENT,
                        "sandbox: argv[0] must be an absolute path inside the sandbox");
    if (request->work_directory == NULL)
        return fail_run(result, err, NN_ERR_ARGUMENT, "sandbox: no work folder");
    if (request->slot < 0 || request->slot >= DG_SANDBOX_MAX_SLOTS)
        return fail_run(result, err, NN_ERR_ARGUMENT, "sandbox: slot %d outside [0, %d)",
                        request->slot, DG_SANDBOX_MAX_SLOTS);
    if (!(l->cpu_seconds > 0) || !(l->wall_seconds > 0) || l->memory_bytes == 0 ||
        l->max_processes <= 0 || l->max_file_bytes == 0 || l->max_open_files < 16 ||
        l->max_output_bytes == 0 || l->max_output_bytes > ((size_t)1 << 30))
        return fail_run(result, err, NN_ERR_ARGUMENT,
                        "sandbox: every limit must be positive (open files at least 16, "
                        "output at most 1 GiB)");
    if (request->input_size > 0 && request->input == NULL)
        return fail_run(result, err, NN_ERR_ARGUMENT, "sandbox: input_size without input");
    for (int i = 0; request->read_only_paths && request->read_only_paths[i]; i++) {
        const char *path = request->read_only_paths[i];
        if (path[0] != '/' || strcmp(path, "/") == 0)
            return fail_run(result, err, NN_ERR_ARGUMENT,
                            "sandbox: read-only path '%s' must be absolute and not /", path);
    }
    for (int i = 0; request->hidden_paths && request->hidden_paths[i]; i++) {
        const char *path = request->hidden_paths[i];
        if (path[0] != '/' || strcmp(path, "/") == 0)
            return fail_run(result, err, NN_ERR_ARGUMENT,
                            "sandbox: hidden path '%s' must be absolute and not /", path);
    }
    return NN_OK;
}

/* Everything up to fork that can fail: the work folder, the seccomp
 * program, bwrap's arguments, the cgroups. Returns NN_OK, or fills the
 * result with DG_SANDBOX_ERROR. */
static nn_status prepare(run_state *s, dg_sandbox_result *result, nn_error *err)
{
    const dg_sandbox_request *request = s->request;
    const dg_sandbox_capabilities *caps = s->caps;
    nn_status status;

    /* Orphans of the run (bubblewrap's pid 1 outlives its monitor) come
     * to the grader, which reaps them (wait_for_sandbox_init). */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (realpath(request->work_directory, s->work) == NULL)
        return fail_run(result, err, NN_OK, "work folder %s: %s", request->work_directory,
                        strerror(errno));
    struct stat info;
    if (stat(s->work, &info) != 0 || !S_ISDIR(info.st_mode))
        return fail_run(result, err, NN_OK, "work folder %s is not a folder", s->work);
    for (int i = 0; request->read_only_paths && request->read_only_paths[i]; i++)
        if (stat(request->read_only_paths[i], &info) != 0)
            return fail_run(result, err, NN_OK, "read-only path %s: %s",
                            request->read_only_paths[i], strerror(errno));
    if (caps->user_switch) {
        uid_t uid = (uid_t)(DG_SANDBOX_FIRST_UID + request->slot);
        if (chown(s->work, uid, (gid_t)uid) != 0 || chmod(s->work, 0700) != 0)
            return fail_run(result, err, NN_OK, "cannot give the work folder %s to uid %d: %s",
                            s->work, (int)uid, strerror(errno));
    }

    nn_error local;
    nn_error_clear(&local);
    if (caps->seccomp) {
        status = dg_seccomp_build(&s->filter, &local);
        if (status != NN_OK)
            return fail_run(result, err, status == NN_ERR_MEMORY ? status : NN_OK, "%s",
                            local.message);
        s->seccomp_program.len = (unsigned short)(s->filter.size / sizeof(struct sock_filter));
        s->seccomp_program.filter = s->filter.code;
    }

    if (s->own_namespaces || s->bubblewrap) {
        status = dg_view_plan(&s->view, request, s->work, &local);
        if (status != NN_OK)
            return fail_run(result, err, status == NN_ERR_MEMORY ? status : NN_OK, "%s",
                            local.message);
    }
    if (s->own_namespaces) {
        snprintf(s->home, sizeof s->home, "HOME=/work");
    } else if (s->bubblewrap) {
        arg_buffer args = { 0 };
        build_bwrap_args(&args, &s->view, caps, caps->seccomp);
        if (args.failed) {
            free(args.data);
            return fail_run(result, err, NN_ERR_MEMORY, "no memory for bubblewrap's arguments");
        }
        s->args_fd = memfd_create("dlgrade-bwrap-args", MFD_CLOEXEC);
        bool written = s->args_fd >= 0 &&
                       write(s->args_fd, args.data, args.size) == (ssize_t)args.size &&
                       lseek(s->args_fd, 0, SEEK_SET) == 0;
        int saved = errno;
        free(args.data);
        if (!written)
            return fail_run(result, err, NN_OK, "cannot pass bubblewrap its arguments: %s",
                            strerror(saved));
    } else {
        /* Without a mount namespace, /work/NAME is WORK/NAME. */
        const char *program = request->argv[0];
        int n = strncmp(program, "/work/", 6) == 0
                    ? snprintf(s->program, sizeof s->program, "%s/%s", s->work, program + 6)
                    : snprintf(s->program, sizeof s->program, "%s", program);
        if (n < 0 || (size_t)n >= sizeof s->program)
            return fail_run(result, err, NN_ERR_ARGUMENT, "program path too long");
        snprintf(s->home, sizeof s->home, "HOME=%s", s->work);
    }

    if (caps->cgroup_memory || caps->cgroup_pids || caps->cgroup_kill) {
        /* bwrap's monitor and its pid 1, or our own pid 1, live in the
         * pids cgroup too */
        int processes = request->limits.max_processes + (s->bubblewrap       ? 2
                                                         : s->own_namespaces ? 1
                                                                             : 0);
        status = dg_cgroup_create(&s->cgroups, caps, request->slot, request->limits.memory_bytes,
                                  processes, &local);
        if (status != NN_OK)
            return fail_run(result, err, NN_OK, "%s", local.message);
        s->cgroups_made = true;
    }
    return NN_OK;
}

static void cleanup(run_state *s, dg_sandbox_result *result)
{
    if (s->cgroups_made) {
        nn_error remove_error;
        nn_error_clear(&remove_error);
        dg_cgroup_kill(&s->cgroups);
        dg_cgroup_wait_empty(&s->cgroups, 2.0);
        if (dg_cgroup_remove(&s->cgroups, &remove_error) != NN_OK &&
            result->status != DG_SANDBOX_ERROR)
            snprintf(result->message, sizeof result->message, "warning: %.200s",
                     remove_error.message);
        s->cgroups_made = false;
    }
    dg_seccomp_release(&s->filter);
    dg_view_release(&s->view);
    close_if_open(&s->args_fd);
    close_if_open(&s->stdin_fd);
    close_if_open(&s->out.fd);
    close_if_open(&s->err.fd);
    close_if_open(&s->status.fd);
    close_if_open(&s->report_fd);
    close_if_open(&s->pidfd);
    free(s->out.data);
    free(s->err.data);
    free(s->status.data);
    free(s->argv_copy);
}

/* Makes the pipes, forks, and in the child never returns. */
static nn_status start(run_state *s, dg_sandbox_result *result, nn_error *err)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    int status_pipe[2] = { -1, -1 }, report[2] = { -1, -1 };
    bool ok = pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
              pipe2(errp, O_CLOEXEC) == 0 && pipe2(report, O_CLOEXEC) == 0 &&
              (!(s->bubblewrap || s->own_namespaces) || pipe2(status_pipe, O_CLOEXEC) == 0);
    int saved = errno;

    const dg_sandbox_request *request = s->request;
    const dg_sandbox_limits *limits = &request->limits;
    size_t argc = 0;
    while (request->argv[argc] != NULL)
        argc++;
    /* bwrap --args 4 -- argv..., or argv itself. execve wants char *;
     * nothing writes through these pointers. */
    static char *const bwrap_prefix[] = { "bwrap", "--args", "4", "--" };
    size_t prefix = s->bubblewrap ? sizeof bwrap_prefix / sizeof bwrap_prefix[0] : 0;
    s->argv_copy = calloc(prefix + argc + 1, sizeof *s->argv_copy);
    for (size_t i = 0; s->argv_copy != NULL && i < prefix; i++)
        s->argv_copy[i] = bwrap_prefix[i];
    for (size_t i = 0; s->argv_copy != NULL && i < argc; i++)
        s->argv_copy[prefix + i] = (char *)request->argv[i];
    static char *const bwrap_envp[] = { "PATH=" SANDBOX_PATH, NULL };
    char *direct_envp[] = { "PATH=" SANDBOX_PATH, s->home, "TMPDIR=/tmp", "LC_ALL=C", NULL };

    /* The stdio pipes belong to the slot's uid, so that the program can
     * reopen them (/dev/stdout, /proc/self/fd/1), as it could a terminal. */
    if (ok && s->caps->user_switch) {
        uid_t uid = (uid_t)(DG_SANDBOX_FIRST_UID + request->slot);
        int stdio[] = { in[0], out[1], errp[1] };
        for (size_t i = 0; i < sizeof stdio / sizeof stdio[0] && ok; i++) {
            ok = fchown(stdio[i], uid, (gid_t)uid) == 0;
            saved = errno;
        }
    }

    child_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.sources[0] = in[0];
    plan.sources[1] = out[1];
    plan.sources[2] = errp[1];
    plan.sources[FD_SECCOMP] = s->bubblewrap && s->caps->seccomp ? s->filter.fd : -1;
    plan.sources[FD_ARGS] = s->bubblewrap ? s->args_fd : -1;
    plan.sources[FD_STATUS] = status_pipe[1];
    plan.sources[FD_REPORT] = report[1];
    plan.cgroups = &s->cgroups;
    rlim_t cpu = (rlim_t)ceil(limits->cpu_seconds) + 1;
    plan_limit(&plan, RLIMIT_CPU, cpu, cpu + 1);
    plan_limit(&plan, RLIMIT_CORE, 0, 0);
    plan_limit(&plan, RLIMIT_FSIZE, limits->max_file_bytes, limits->max_file_bytes);
    plan_limit(&plan, RLIMIT_NOFILE, (rlim_t)limits->max_open_files,
               (rlim_t)limits->max_open_files);
    rlim_t stack = (rlim_t)64 << 20;
    if (stack > limits->memory_bytes)
        stack = limits->memory_bytes;
    plan_limit(&plan, RLIMIT_STACK, stack, stack);
    if (!s->caps->cgroup_memory)
        plan_limit(&plan, RLIMIT_AS, limits->memory_bytes, limits->memory_bytes);
    plan.switch_user = s->caps->user_switch;
    plan.uid = (uid_t)(DG_SANDBOX_FIRST_UID + request->slot);
    plan.gid = (gid_t)(DG_SANDBOX_FIRST_UID + request->slot);
    plan.parent = getpid();
    if (s->own_namespaces) {
        plan.view = &s->view;
        plan.seccomp = s->caps->seccomp ? &s->seccomp_program : NULL;
        plan.path = request->argv[0];
        plan.argv = s->argv_copy;
        plan.envp = direct_envp;
    } else if (s->bubblewrap) {
        plan.work_access = s->work;
        plan.path = s->caps->bubblewrap_path;
        plan.argv = s->argv_copy;
        plan.envp = bwrap_envp;
    } else {
        plan.work_chdir = s->work;
        plan.seccomp = s->caps->seccomp ? &s->seccomp_program : NULL;
        plan.path = s->program;
        plan.argv = s->argv_copy;
        plan.envp = direct_envp;
    }

    nn_status status = NN_OK;
    if (!ok) {
        status = fail_run(result, err, NN_OK, "cannot make the sandbox's pipes: %s",
                          strerror(saved));
    } else if (s->argv_copy == NULL) {
        status = fail_run(result, err, NN_ERR_MEMORY, "no memory for the program's arguments");
    } else {
        s->started = monotonic_seconds();
        /* Our own namespaces: a raw clone, fork-like (no new stack), whose
         * child runs nothing but system calls (run_sandbox_init). */
        s->pid = s->own_namespaces
                     ? (pid_t)syscall(SYS_clone, SANDBOX_NAMESPACES | SIGCHLD, NULL, NULL, NULL,
                                      NULL)
                     : fork();
        if (s->pid == 0 && s->own_namespaces)
            run_sandbox_init(&plan);
        if (s->pid == 0)
            run_child(&plan);
        if (s->pid < 0)
            status = fail_run(result, err, NN_OK, "fork: %s", strerror(errno));
    }

    /* The parent keeps its ends, non-blocking; the child's ends go. */
    close_if_open(&in[0]);
    close_if_open(&out[1]);
    close_if_open(&errp[1]);
    close_if_open(&status_pipe[1]);
    close_if_open(&report[1]);
    s->stdin_fd = in[1];
    s->out.fd = out[0];
    s->err.fd = errp[0];
    s->status.fd = status_pipe[0];
    s->report_fd = report[0];
    int mine[] = { s->stdin_fd, s->out.fd, s->err.fd, s->status.fd };
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        if (mine[i] >= 0)
            fcntl(mine[i], F_SETFL, fcntl(mine[i], F_GETFL) | O_NONBLOCK);
    if (s->pid > 0)
        s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
    return status;
}

nn_status dg_sandbox_run(dg_sandbox_result *result, const dg_sandbox_request *request,
                         const dg_sandbox_capabilities *caps, nn_error *err)
{
    if (result == NULL || request == NULL || caps == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "sandbox: NULL argument");
    memset(result, 0, sizeof *result);
    result->status = DG_SANDBOX_ERROR;
    nn_status status = check_request(request, result, err);
    if (status != NN_OK)
        return status;

    run_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return fail_run(result, err, NN_ERR_MEMORY, "sandbox: no memory");
    s->request = request;
    s->caps = caps;
    s->bubblewrap = caps->bubblewrap;
    s->own_namespaces = !caps->bubblewrap && caps->namespaces && caps->user_switch;
    s->kill_reason = DG_SANDBOX_EXITED;
    s->args_fd = s->stdin_fd = s->report_fd = s->pidfd = -1;
    s->out.fd = s->err.fd = s->status.fd = -1;
    s->out.limit = s->err.limit = request->limits.max_output_bytes;
    s->status.limit = 4096;
    s->filter.fd = -1;

    /* A failure to start is recorded by fail_run: a message in the result. */
    status = prepare(s, result, err);
    if (status == NN_OK && result->message[0] == '\0')
        status = start(s, result, err);
    if (status != NN_OK || result->message[0] != '\0') {
        if (s->pid > 0) {
            kill_tree(s);
            waitpid(s->pid, NULL, 0);
        }
        cleanup(s, result);
        free(s);
        return status;
    }

    child_report report;
    if (read_report(s, &report)) {
        waitpid(s->pid, NULL, 0);
        s->reaped = true;
        const char *what = step_name(report.step), *object = "";
        if (report.step == STEP_EXEC)
            object = s->bubblewrap ? caps->bubblewrap_path
                     : s->own_namespaces ? request->argv[0] : s->program;
        if (report.step == STEP_VIEW && report.item >= 0 && report.item < s->view.count) {
            what = dg_view_step_name(s->view.steps[report.item].kind);
            object = s->view.steps[report.item].target;
        }
        fail_run(result, NULL, NN_OK, "sandbox setup failed at %s%s%s: %s", what,
                 report.step == STEP_EXEC ? " of " : *object ? " " : "", object,
                 strerror(report.error));
        cleanup(s, result);
        free(s);
        return NN_OK;
    }
    if (request->input_size == 0)
        close_if_open(&s->stdin_fd); /* EOF at once */

    supervise(s);
    if (!s->reaped) {
        /* supervise gives up before the reap only when poll() fails */
        kill_tree(s);
        wait4(s->pid, &s->wait_status, 0, &s->usage);
        s->reaped = true;
        s->ended = monotonic_seconds();
    }
    if (s->cgroups_made) {
        dg_cgroup_kill(&s->cgroups);
        dg_cgroup_wait_empty(&s->cgroups, 2.0);
    }
    if (s->bubblewrap)
        wait_for_sandbox_init(s);
    classify(s, result);
    if ((s->out.fd >= 0 || s->err.fd >= 0) && result->status != DG_SANDBOX_ERROR)
        snprintf(result->message, sizeof result->message,
                 "warning: a process outside the sandbox's reach kept its output open");
    move_outputs(s, result);
    cleanup(s, result);
    free(s);
    return NN_OK;
}

/* ---- probing ------------------------------------------------------------ */

static void probe_seccomp(dg_sandbox_capabilities *caps, char *notes, size_t size)
{
    dg_seccomp_filter filter;
    nn_error error;
    nn_error_clear(&error);
    if (dg_seccomp_build(&filter, &error) != NN_OK) {
        dg_sandbox_note(notes, size, "seccomp: MISSING (%s)", error.message);
        return;
    }
    struct sock_fprog program = { (unsigned short)(filter.size / sizeof(struct sock_filter)),
                                  filter.code };
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
            _exit(2);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        _exit(fd < 0 && errno == EPERM ? 0 : 1);
    }
    int wait_status = 0;
    bool works = pid > 0 && waitpid(pid, &wait_status, 0) == pid && WIFEXITED(wait_status) &&
                 WEXITSTATUS(wait_status) == 0;
    if (works) {
        caps->seccomp = true;
        dg_sandbox_note(notes, size,
                        "seccomp: in force (deny-list of %d system calls; a test socket() "
                        "was refused)",
                        filter.denied_calls);
    } else {
        dg_sandbox_note(notes, size,
                        "seccomp: MISSING (%s): sockets, ptrace, mount... are not filtered",
                        pid < 0 ? "cannot fork"
                        : WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 2
                            ? "the kernel refused the filter"
                            : "the filter did not refuse socket()");
    }
    dg_seccomp_release(&filter);
}

/* Runs /usr/bin/true under the full profile of caps (bubblewrap's or the
 * grader's own namespaces). Returns true when it exited 0; otherwise why
 * says what went wrong. */
static bool try_profile(const dg_sandbox_capabilities *caps, const char *work, char *why,
                           size_t why_size)
{
    static const char *const argv[] = { "/usr/bin/true", NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.argv = argv;
    request.work_directory = work;
    request.slot = 0;
    request.limits = dg_sandbox_default_limits();
    request.limits.cpu_seconds = 5.0;
    request.limits.wall_seconds = 10.0;
    dg_sandbox_result result;
    nn_error error;
    nn_error_clear(&error);
    nn_status status = dg_sandbox_run(&result, &request, caps, &error);
    bool works = status == NN_OK && result.status == DG_SANDBOX_EXITED && result.exit_code == 0;
    if (!works) {
        const char *detail = result.message[0] ? result.message
                             : result.errors && result.errors[0] ? result.errors
                                                                  : dg_sandbox_status_name(result.status);
        int line = (int)strcspn(detail, "\n");
        snprintf(why, why_size, "%.*s", line, detail);
    }
    dg_sandbox_result_release(&result);
    return works;
}

static nn_status probe_bubblewrap(dg_sandbox_capabilities *caps, char *notes, size_t size,
                                  nn_error *err)
{
    static const char *const candidates[] = { "/usr/bin/bwrap", "/usr/local/bin/bwrap",
                                              "/bin/bwrap" };
    const char *chosen = getenv("DLGRADE_BWRAP");
    char why[300] = "";
    for (size_t i = 0; chosen == NULL && i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], X_OK) == 0)
            chosen = candidates[i];
    bool works = false;
    if (chosen == NULL) {
        snprintf(why, sizeof why, "bwrap not found in /usr/bin, /usr/local/bin, /bin; "
                                  "apt-get install bubblewrap");
    } else if (strlen(chosen) >= sizeof caps->bubblewrap_path || access(chosen, X_OK) != 0) {
        snprintf(why, sizeof why, "%.200s is not an executable", chosen);
    } else {
        char work[] = "/tmp/dlgrade-probe-XXXXXX";
        if (mkdtemp(work) == NULL)
            return nn_error_set(err, NN_ERR_IO, "sandbox probe: mkdtemp %s: %s", work,
                                strerror(errno));
        dg_sandbox_capabilities trial = *caps;
        strcpy(trial.bubblewrap_path, chosen);
        trial.bubblewrap = trial.namespaces = true;
        trial.cgroup_kill = trial.cgroup_memory = trial.cgroup_pids = false;
        trial.bubblewrap_disable_userns = true;
        works = try_profile(&trial, work, why, sizeof why);
        if (!works) {
            /* bubblewrap older than 0.8 has no --disable-userns */
            char first_why[sizeof why];
            memcpy(first_why, why, sizeof why);
            trial.bubblewrap_disable_userns = false;
            works = try_profile(&trial, work, why, sizeof why);
            if (!works)
                memcpy(why, first_why, sizeof why);
        }
        rmdir(work);
        if (works) {
            strcpy(caps->bubblewrap_path, chosen);
            caps->bubblewrap_disable_userns = trial.bubblewrap_disable_userns;
        }
    }
    if (works) {
        caps->bubblewrap = caps->namespaces = true;
        dg_sandbox_note(notes, size, "bubblewrap: in force (%s, tested under the full profile)",
                        caps->bubblewrap_path);
        dg_sandbox_note(notes, size,
                        "namespaces: in force (network, pid, mount, ipc, uts, user, cgroup)%s",
                        caps->bubblewrap_disable_userns
                            ? ""
                            : "; --disable-userns unsupported, seccomp still refuses unshare");
    } else {
        dg_sandbox_note(notes, size, "bubblewrap: MISSING (%s)", why);
        dg_sandbox_note(notes, size,
                        "namespaces: MISSING - NO NETWORK ISOLATION: student code can reach "
                        "the network, and sees the host's files and processes");
    }
    return NN_OK;
}

/* As root, the grader builds the namespaces itself (run_sandbox_init):
 * tried once for real. Returns false, with the reason in notes, when it
 * cannot; bubblewrap is tried next. */
static nn_status probe_own_namespaces(dg_sandbox_capabilities *caps, char *notes, size_t size,
                                      bool *works, nn_error *err)
{
    *works = false;
    char work[] = "/tmp/dlgrade-probe-XXXXXX";
    if (mkdtemp(work) == NULL)
        return nn_error_set(err, NN_ERR_IO, "sandbox probe: mkdtemp %s: %s", work,
                            strerror(errno));
    dg_sandbox_capabilities trial = *caps;
    trial.namespaces = true;
    trial.bubblewrap = false;
    trial.cgroup_kill = trial.cgroup_memory = trial.cgroup_pids = false;
    char why[300] = "";
    *works = try_profile(&trial, work, why, sizeof why);
    rmdir(work);
    if (*works) {
        caps->namespaces = true;
        dg_sandbox_note(notes, size,
                        "namespaces: in force (network, pid, mount, ipc, uts, cgroup; built by "
                        "the grader itself, as root, and tested under the full profile)");
    } else {
        dg_sandbox_note(notes, size, "own namespaces: MISSING (%s); trying bubblewrap", why);
    }
    return NN_OK;
}

nn_status dg_sandbox_probe(dg_sandbox_capabilities *caps, nn_error *err)
{
    if (caps == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "sandbox probe: NULL capabilities");
    memset(caps, 0, sizeof *caps);
    char *notes = caps->notes;
    size_t size = sizeof caps->notes;
    if (geteuid() == 0) {
        caps->user_switch = true;
        dg_sandbox_note(notes, size,
                        "user switch: in force (slot s runs as uid and gid %d + s, "
                        "no capabilities)",
                        DG_SANDBOX_FIRST_UID);
    } else {
        dg_sandbox_note(notes, size,
                        "user switch: MISSING (the grader runs as uid %d, not root): programs "
                        "run as the grader's own user",
                        (int)geteuid());
    }
    probe_seccomp(caps, notes, size);
    dg_cgroup_probe(caps, notes, size);
    const char *launcher = getenv("DLGRADE_SANDBOX_LAUNCHER");
    bool want_bubblewrap = launcher != NULL && strcmp(launcher, "bubblewrap") == 0;
    if (caps->user_switch && !want_bubblewrap) {
        bool works = false;
        nn_status status = probe_own_namespaces(caps, notes, size, &works, err);
        if (status != NN_OK || works)
            return status;
    }
    return probe_bubblewrap(caps, notes, size, err);
}
