/*
 * sandbox_view.c - the filesystem a sandboxed program sees, built by the
 * sandbox's pid 1 itself when the grader runs as root.
 *
 * The plan is made in the grader (dg_view_plan: paths resolved, strings
 * allocated, hidden paths sorted out), the building in the child between
 * clone and exec (dg_view_build: system calls only, nothing allocated,
 * safe after a clone of a threaded process). Under bubblewrap the same
 * plan becomes bwrap's options (sandbox.c), so both show one view. The child is still root in
 * its new mount namespace, so it mounts directly; bubblewrap, which works
 * as an unprivileged user, needs a user namespace for the same job and
 * costs several milliseconds more per start (BENCHMARKS.md).
 *
 * The recipe, in step order:
 *   1. every mount made private (nothing propagates back to the host), an
 *      empty tmpfs mounted on /tmp and made the root with pivot_root; the
 *      host's tree stays reachable at /oldroot until step 5;
 *   2. /usr and the other system folders bound read-only from /oldroot,
 *      device nodes made with mknod (the root tmpfs allows devices, the
 *      program cannot add any: it has no CAP_MKNOD), a size-capped /tmp,
 *      the work folder read-write at /work;
 *   3. the request's read-only paths at their real paths, then its hidden
 *      paths covered by an empty read-only tmpfs (or /dev/null);
 *   4. /proc for Valgrind, mounted with hidepid=2: the program sees its
 *      own processes only, not the sandbox's pid 1 (a copy of the grader,
 *      whose command line must stay outside);
 *   5. /oldroot detached, and the root tmpfs remounted read-only.
 * Binds are not recursive: a mount below a shown folder is not shown, so
 * no writable mount can hide under a read-only one.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST_ROOT "/oldroot"

static void view_add(dg_view *view, dg_view_kind kind, const char *source, const char *target,
                     dev_t device)
{
    if (view->failed)
        return;
    if (view->count == view->capacity) {
        int capacity = view->capacity ? 2 * view->capacity : 32;
        dg_view_step *grown = realloc(view->steps, (size_t)capacity * sizeof *grown);
        if (grown == NULL) {
            view->failed = true;
            return;
        }
        view->steps = grown;
        view->capacity = capacity;
    }
    dg_view_step *step = &view->steps[view->count];
    step->kind = kind;
    step->device = device;
    step->size = 0;
    step->source = source ? strdup(source) : NULL;
    step->target = strdup(target);
    if ((source && step->source == NULL) || step->target == NULL) {
        free(step->source);
        free(step->target);
        view->failed = true;
        return;
    }
    view->count++;
}

/* /bin, /lib... are links into /usr on a merged-/usr system and real
 * folders on an old one: show them as the host has them. */
static void add_system_folders(dg_view *view)
{
    static const char *const tops[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        struct stat info;
        if (lstat(tops[i], &info) != 0)
            continue;
        if (S_ISLNK(info.st_mode)) {
            char link[PATH_MAX];
            ssize_t n = readlink(tops[i], link, sizeof link - 1);
            if (n <= 0)
                continue;
            link[n] = '\0';
            view_add(view, DG_VIEW_SYMLINK, link, tops[i], 0);
        } else if (S_ISDIR(info.st_mode)) {
            view_add(view, DG_VIEW_BIND_READ_ONLY, tops[i], tops[i], 0);
        }
    }
}

nn_status dg_view_plan(dg_view *view, const dg_sandbox_request *request, const char *work,
                       nn_error *err)
{
    memset(view, 0, sizeof *view);
    view_add(view, DG_VIEW_ROOT, NULL, "/", 0);
    view_add(view, DG_VIEW_BIND_READ_ONLY, "/usr", "/usr", 0);
    add_system_folders(view);
    /* Debian resolves libopenblas.so.0 and libblas.so.3 through
     * /etc/alternatives; the loader's cache names the multiarch folders. */
    static const char *const etc_paths[] = { "/etc/ld.so.cache", "/etc/alternatives" };
    for (size_t i = 0; i < sizeof etc_paths / sizeof etc_paths[0]; i++)
        if (access(etc_paths[i], F_OK) == 0)
            view_add(view, DG_VIEW_BIND_READ_ONLY, etc_paths[i], etc_paths[i], 0);
    /* Only the harmless character devices, numbered as the host numbers
     * them; no pts, no shm, no console. */
    static const char *const devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                           "/dev/urandom" };
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        struct stat info;
        if (stat(devices[i], &info) == 0 && S_ISCHR(info.st_mode))
            view_add(view, DG_VIEW_DEVICE, NULL, devices[i], info.st_rdev);
    }
    size_t tmp_size = request->limits.max_file_bytes;
    if (tmp_size < ((size_t)1 << 20))
        tmp_size = (size_t)1 << 20;
    char tmp_options[64];
    snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%zu", tmp_size);
    view_add(view, DG_VIEW_TMPFS, tmp_options, "/tmp", 0);
    if (!view->failed)
        view->steps[view->count - 1].size = tmp_size;
    view_add(view, DG_VIEW_BIND_WRITABLE, work, "/work", 0);

    for (int i = 0; request->read_only_paths && request->read_only_paths[i]; i++) {
        char real[PATH_MAX];
        if (realpath(request->read_only_paths[i], real) == NULL) {
            int saved = errno;
            dg_view_release(view);
            return nn_error_set(err, NN_ERR_IO, "read-only path %s: %s",
                                request->read_only_paths[i], strerror(saved));
        }
        view_add(view, DG_VIEW_BIND_READ_ONLY, real, real, 0);
    }
    /* Hidden paths: an empty read-only folder (or /dev/null for a file)
     * over what /usr would otherwise show, such as a dataset's labels. */
    for (int i = 0; request->hidden_paths && request->hidden_paths[i]; i++) {
        const char *path = request->hidden_paths[i];
        bool covered = false;   /* inside an earlier one, which is empty now */
        for (int j = 0; j < i; j++) {
            size_t length = strlen(request->hidden_paths[j]);
            covered |= strncmp(path, request->hidden_paths[j], length) == 0
                       && (path[length] == '/' || path[length] == '\0');
        }
        struct stat info;
        if (covered || stat(path, &info) != 0)
            continue;
        view_add(view, S_ISDIR(info.st_mode) ? DG_VIEW_EMPTY_FOLDER : DG_VIEW_EMPTY_FILE, NULL,
                 path, 0);
    }
    if (request->show_proc) {
        view_add(view, DG_VIEW_PROC, NULL, "/proc", 0);
        static const char *const streams[][2] = { { "/proc/self/fd", "/dev/fd" },
                                                  { "/proc/self/fd/0", "/dev/stdin" },
                                                  { "/proc/self/fd/1", "/dev/stdout" },
                                                  { "/proc/self/fd/2", "/dev/stderr" } };
        for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
            view_add(view, DG_VIEW_SYMLINK, streams[i][0], streams[i][1], 0);
    }
    view_add(view, DG_VIEW_DETACH_HOST, NULL, HOST_ROOT, 0);
    view_add(view, DG_VIEW_SEAL, NULL, "/", 0);
    if (view->failed) {
        dg_view_release(view);
        return nn_error_set(err, NN_ERR_MEMORY, "no memory for the sandbox's filesystem view");
    }
    return NN_OK;
}

void dg_view_release(dg_view *view)
{
    if (view == NULL)
        return;
    for (int i = 0; i < view->count; i++) {
        free(view->steps[i].source);
        free(view->steps[i].target);
    }
    free(view->steps);
    memset(view, 0, sizeof *view);
}

const char *dg_view_step_name(dg_view_kind kind)
{
    switch (kind) {
    case DG_VIEW_ROOT: return "making an empty root";
    case DG_VIEW_BIND_READ_ONLY: return "showing read-only";
    case DG_VIEW_BIND_WRITABLE: return "showing the work folder";
    case DG_VIEW_SYMLINK: return "making the link";
    case DG_VIEW_DEVICE: return "making the device";
    case DG_VIEW_TMPFS: return "mounting a tmpfs on";
    case DG_VIEW_EMPTY_FOLDER:
    case DG_VIEW_EMPTY_FILE: return "hiding";
    case DG_VIEW_PROC: return "mounting";
    case DG_VIEW_DETACH_HOST: return "detaching the host's tree from";
    case DG_VIEW_SEAL: return "making read-only";
    }
    return "unknown step";
}

/* ---- in the child: system calls only ----------------------------------- */

/* Creates the folders leading to `target` and the mount point itself (a
 * folder, or an empty file when `folder` is false), refusing to follow a
 * symbolic link on the way: below /work the names are the program's. */
static int make_mount_point(const char *target, bool folder)
{
    char path[PATH_MAX];
    size_t length = strlen(target);
    if (length == 0 || length >= sizeof path || target[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    memcpy(path, target, length + 1);
    int parent = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0)
        return -1;
    char *name = path + 1;
    for (;;) {
        char *slash = strchr(name, '/');
        bool last = slash == NULL || slash[1] == '\0';
        if (slash != NULL)
            *slash = '\0';
        int made = 0;
        if (!last || folder)
            made = mkdirat(parent, name, 0755);
        else
            made = mknodat(parent, name, S_IFREG | 0644, 0);
        if (made != 0 && errno != EEXIST)
            break;
        struct stat info;
        if (fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) != 0)
            break;
        if (S_ISLNK(info.st_mode) || (!last && !S_ISDIR(info.st_mode))) {
            errno = ELOOP;
            break;
        }
        if (last) {
            close(parent);
            return 0;
        }
        int next = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            break;
        close(parent);
        parent = next;
        name = slash + 1;
    }
    int saved = errno;
    close(parent);
    errno = saved;
    return -1;
}

static int bind_path(const dg_view_step *step, unsigned long flags)
{
    /* the host's tree is under /oldroot since pivot_root */
    char source[PATH_MAX + sizeof HOST_ROOT];
    size_t length = strlen(step->source);
    if (length >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(source, HOST_ROOT, sizeof HOST_ROOT - 1);
    memcpy(source + sizeof HOST_ROOT - 1, step->source, length + 1);
    struct stat info;
    if (stat(source, &info) != 0 || make_mount_point(step->target, S_ISDIR(info.st_mode)) != 0)
        return -1;
    if (mount(source, step->target, NULL, MS_BIND, NULL) != 0)
        return -1;
    /* A bind takes the flags only on a second, remounting call. */
    return mount(NULL, step->target, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | flags,
                 NULL);
}

static bool exists_in_view(const char *path)
{
    struct stat info;
    return lstat(path, &info) == 0;
}

static int make_root(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    /* /tmp serves as the staging point: after pivot_root the host's own
     * /tmp shows again under /oldroot. Devices are allowed on this tmpfs
     * for the nodes of /dev; it becomes read-only at the end. */
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID, "mode=0755,size=1m") != 0 ||
        mkdir("/tmp" HOST_ROOT, 0700) != 0)
        return -1;
    if (syscall(SYS_pivot_root, "/tmp", "/tmp" HOST_ROOT) != 0)
        return -1;
    return chdir("/");
}

static int build_step(const dg_view_step *step)
{
    switch (step->kind) {
    case DG_VIEW_ROOT:
        return make_root();
    case DG_VIEW_BIND_READ_ONLY:
        return bind_path(step, MS_RDONLY);
    case DG_VIEW_BIND_WRITABLE:
        return bind_path(step, 0);
    case DG_VIEW_SYMLINK: {
        const char *slash = strrchr(step->target, '/');
        char parent[PATH_MAX];
        size_t length = (size_t)(slash - step->target);
        if (length > 0) {
            memcpy(parent, step->target, length);
            parent[length] = '\0';
            if (make_mount_point(parent, true) != 0)
                return -1;
        }
        return symlink(step->source, step->target);
    }
    case DG_VIEW_DEVICE:
        if (make_mount_point("/dev", true) != 0)
            return -1;
        if (mknod(step->target, S_IFCHR | 0666, step->device) != 0)
            return -1;
        return chmod(step->target, 0666); /* whatever the umask */
    case DG_VIEW_TMPFS:
        if (make_mount_point(step->target, true) != 0)
            return -1;
        return mount("tmpfs", step->target, "tmpfs", MS_NOSUID | MS_NODEV, step->source);
    case DG_VIEW_EMPTY_FOLDER:
        if (!exists_in_view(step->target))
            return 0; /* not shown: nothing to hide */
        return mount("tmpfs", step->target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=0755,size=4k");
    case DG_VIEW_EMPTY_FILE:
        if (!exists_in_view(step->target))
            return 0;
        if (mount("/dev/null", step->target, NULL, MS_BIND, NULL) != 0)
            return -1;
        return mount(NULL, step->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    case DG_VIEW_PROC:
        if (make_mount_point(step->target, true) != 0)
            return -1;
        return mount("proc", step->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2");
    case DG_VIEW_DETACH_HOST:
        if (umount2(step->target, MNT_DETACH) != 0)
            return -1;
        return rmdir(step->target);
    case DG_VIEW_SEAL:
        return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL);
    }
    errno = EINVAL;
    return -1;
}

int dg_view_build(const dg_view *view)
{
    mode_t old_mask = umask(0);
    for (int i = 0; i < view->count; i++) {
        if (build_step(&view->steps[i]) != 0) {
            int saved = errno;
            umask(old_mask);
            errno = saved;
            return i;
        }
    }
    umask(old_mask);
    return -1;
}
