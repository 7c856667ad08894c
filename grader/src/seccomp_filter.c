/*
 * seccomp_filter.c - the system calls a student's program never needs and
 * an escape or an attack on the machine would: a deny-list answering EPERM,
 * compiled to classic BPF with libseccomp.
 *
 * A deny-list rather than an allow-list because the same filter covers the
 * compiler, the runner, OpenBLAS's threads and sanitizer runtimes, whose
 * exact needs change with every package update; what is denied here is what
 * the namespaces and the unprivileged uid already make useless or harmful,
 * so the filter is a second wall, not the only one. Other architectures'
 * system call tables (i386 through int 0x80, x32) hit libseccomp's default
 * bad-architecture action, which kills the process.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Denied outright. Grouped by why. */
static const char *const denied_calls[] = {
    /* the network: the namespace already has none, and no socket means no
     * abstract unix socket either */
    "socket",
    /* looking into or steering another process */
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    /* new namespaces and mounts: the sandbox's own shape is final */
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    /* large kernel attack surfaces no coursework program uses */
    "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key",
    "request_key", "perf_event_open", "userfaultfd", "fanotify_init",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "quotactl",
    /* the machine itself */
    "kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module",
    "delete_module", "swapon", "swapoff", "acct", "syslog", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "uselib",
    "vhangup",
};

/* clone() flags that would make a namespace. */
static const unsigned long namespace_flags[] = {
    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
    CLONE_NEWCGROUP,
};

static nn_status rule_failed(nn_error *err, const char *call, int rc)
{
    return nn_error_set(err, NN_ERR_IO, "seccomp: cannot add the rule for %s: %s", call,
                        strerror(-rc));
}

static nn_status add_rules(scmp_filter_ctx ctx, int *count, nn_error *err)
{
    int rc;
    for (size_t i = 0; i < sizeof denied_calls / sizeof denied_calls[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied_calls[i]);
        if (nr < 0)
            continue; /* not a system call of this architecture */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        if (rc < 0)
            return rule_failed(err, denied_calls[i], rc);
        (*count)++;
    }

    /* personality() may only be queried: changing it (ADDR_NO_RANDOMIZE,
     * READ_IMPLIES_EXEC) helps exploits, and nothing here needs it. */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                          SCMP_A0(SCMP_CMP_NE, 0xffffffffUL));
    if (rc < 0)
        return rule_failed(err, "personality", rc);
    (*count)++;

    /* clone() with a namespace flag; clone3() passes its flags in memory,
     * where seccomp cannot look, so it answers ENOSYS and the C library
     * falls back to clone(), which is checked. */
    for (size_t i = 0; i < sizeof namespace_flags / sizeof namespace_flags[0]; i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
        if (rc < 0)
            return rule_failed(err, "clone", rc);
    }
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc < 0)
        return rule_failed(err, "clone3", rc);
    *count += 2;

    /* TIOCSTI pushes characters into a terminal's input; the kernel reads
     * the request as 32 bits, so compare only those. */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                          SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, (scmp_datum_t)TIOCSTI));
    if (rc < 0)
        return rule_failed(err, "ioctl", rc);
    (*count)++;
    return NN_OK;
}

nn_status dg_seccomp_build(dg_seccomp_filter *filter, nn_error *err)
{
    memset(filter, 0, sizeof *filter);
    filter->fd = -1;
    nn_status status = NN_OK;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "seccomp: seccomp_init failed");

    status = add_rules(ctx, &filter->denied_calls, err);
    if (status != NN_OK)
        goto out_release_ctx;

    filter->fd = memfd_create("dlgrade-seccomp", MFD_CLOEXEC);
    if (filter->fd < 0) {
        status = nn_error_set(err, NN_ERR_IO, "seccomp: memfd_create: %s", strerror(errno));
        goto out_release_ctx;
    }
    int rc = seccomp_export_bpf(ctx, filter->fd);
    if (rc < 0) {
        status = nn_error_set(err, NN_ERR_IO, "seccomp: seccomp_export_bpf: %s", strerror(-rc));
        goto out_close_fd;
    }
    struct stat info;
    if (fstat(filter->fd, &info) != 0 || info.st_size <= 0 || info.st_size % 8 != 0) {
        status = nn_error_set(err, NN_ERR_IO, "seccomp: the exported program has a bad size");
        goto out_close_fd;
    }
    filter->size = (size_t)info.st_size;
    filter->code = malloc(filter->size);
    if (filter->code == NULL) {
        status = nn_error_set(err, NN_ERR_MEMORY, "seccomp: no memory for %zu bytes",
                              filter->size);
        goto out_close_fd;
    }
    if (pread(filter->fd, filter->code, filter->size, 0) != (ssize_t)filter->size ||
        lseek(filter->fd, 0, SEEK_SET) != 0) {
        status = nn_error_set(err, NN_ERR_IO, "seccomp: cannot read the exported program back");
        goto out_free_code;
    }
    seccomp_release(ctx);
    return NN_OK;

out_free_code:
    free(filter->code);
    filter->code = NULL;
out_close_fd:
    close(filter->fd);
    filter->fd = -1;
out_release_ctx:
    seccomp_release(ctx);
    return status;
}

void dg_seccomp_release(dg_seccomp_filter *filter)
{
    if (filter == NULL)
        return;
    if (filter->fd >= 0)
        close(filter->fd);
    free(filter->code);
    memset(filter, 0, sizeof *filter);
    filter->fd = -1;
}
