/*
 * cgroup.c - a cgroup folder per run: the memory limit and its OOM count,
 * the process limit, CPU time of the whole tree and a kill that reaches
 * every process, even one that left the process group with setsid.
 *
 * Three layouts exist in the wild. Pure v2 (one cgroup2 mount at
 * /sys/fs/cgroup): everything comes from one folder, provided the memory
 * and pids controllers are delegated to the grader's cgroup (its
 * cgroup.subtree_control lists them; the grader never turns them on
 * itself). Pure v1: memory and pids have their own mounts, there is no
 * cgroup.kill and no cpu.stat. Hybrid (this project's machines, see
 * SANDBOX.md): v1 memory and pids, plus a v2 mount without controllers
 * whose folders still give cpu.stat and cgroup.kill. Each mechanism takes
 * the best the layout offers.
 *
 * A run's folders are made under the cgroups the grader is in (read from
 * /proc/self/cgroup), never at the root of a hierarchy: whoever started the
 * grader may have limited it, and its sandboxes stay inside that limit.
 */
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- small file helpers ------------------------------------------------ */

/* Reads up to size - 1 bytes of a (small, kernel-made) file as text.
 * Returns the length, or -errno. */
static ssize_t read_text(const char *path, char *buffer, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t n = read(fd, buffer + used, size - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            return -saved;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buffer[used] = '\0';
    return (ssize_t)used;
}

/* Writes text to a cgroup control file in one write(), as the kernel
 * expects. Returns 0 or -errno. */
static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t length = strlen(text);
    ssize_t n = write(fd, text, length);
    int saved = errno;
    close(fd);
    if (n < 0)
        return -saved;
    return (size_t)n == length ? 0 : -EIO;
}

static bool join_path(char *out, size_t size, const char *folder, const char *name)
{
    int n = snprintf(out, size, "%s/%s", folder, name);
    return n > 0 && (size_t)n < size;
}

static bool file_exists(const char *folder, const char *name)
{
    char path[DG_CGROUP_PATH_SIZE + 32];
    return join_path(path, sizeof path, folder, name) && access(path, F_OK) == 0;
}

/* The number after `key ` in a "key value" per line file, or -1. */
static long long keyed_value(const char *folder, const char *file, const char *key)
{
    char path[DG_CGROUP_PATH_SIZE + 32];
    char text[4096];
    if (!join_path(path, sizeof path, folder, file) || read_text(path, text, sizeof text) < 0)
        return -1;
    size_t key_length = strlen(key);
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (strncmp(line, key, key_length) == 0 && line[key_length] == ' ')
            return strtoll(line + key_length + 1, NULL, 10);
        line = next ? next + 1 : NULL;
    }
    return -1;
}

static void pause_briefly(long microseconds)
{
    struct timespec pause = { 0, microseconds * 1000L };
    nanosleep(&pause, NULL);
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* ---- finding the layout ------------------------------------------------ */

typedef struct hierarchy {
    bool found;
    char folder[DG_SANDBOX_PATH_SIZE]; /* the grader's own cgroup in it */
    char why[160];                     /* when not found */
} hierarchy;

/* Does a comma-separated list hold `word`? */
static bool list_has(const char *list, const char *word)
{
    size_t length = strlen(word);
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t item = comma ? (size_t)(comma - p) : strlen(p);
        if (item == length && strncmp(p, word, length) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The grader's cgroup path in the v1 hierarchy holding `controller`, or in
 * the v2 hierarchy when controller is NULL, from /proc/self/cgroup. */
static bool own_cgroup_path(char *out, size_t size, const char *controller)
{
    FILE *file = fopen("/proc/self/cgroup", "re");
    if (file == NULL)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *first = strchr(line, ':');
        char *second = first ? strchr(first + 1, ':') : NULL;
        if (second == NULL)
            continue;
        *first = *second = '\0';
        const char *controllers = first + 1;
        bool match = controller == NULL ? (strcmp(line, "0") == 0 && *controllers == '\0')
                                        : list_has(controllers, controller);
        if (match && strlen(second + 1) < size) {
            strcpy(out, second + 1);
            found = true;
        }
    }
    fclose(file);
    return found;
}

/* Finds where the hierarchy is mounted (v1 with `controller`, or v2 when
 * controller is NULL) and the grader's folder in it. */
static void find_hierarchy(hierarchy *h, const char *controller)
{
    memset(h, 0, sizeof *h);
    const char *what = controller ? controller : "cgroup2";
    FILE *file = fopen("/proc/self/mountinfo", "re");
    if (file == NULL) {
        snprintf(h->why, sizeof h->why, "cannot read /proc/self/mountinfo");
        return;
    }
    /* mountinfo: id parent dev root mountpoint options [optional...] - type source super */
    char line[2048], root[DG_SANDBOX_PATH_SIZE] = "", point[DG_SANDBOX_PATH_SIZE] = "";
    bool mounted = false;
    while (!mounted && fgets(line, sizeof line, file) != NULL) {
        char *separator = strstr(line, " - ");
        if (separator == NULL)
            continue;
        char type[64], super[512];
        char *fields[5];
        char *save = NULL;
        *separator = '\0';
        if (sscanf(separator + 3, "%63s %*s %511s", type, super) != 2)
            continue;
        fields[0] = strtok_r(line, " ", &save);
        for (int i = 1; i < 5 && fields[i - 1] != NULL; i++)
            fields[i] = strtok_r(NULL, " ", &save);
        if (fields[0] == NULL || fields[4] == NULL)
            continue;
        bool match = controller == NULL ? strcmp(type, "cgroup2") == 0
                                        : strcmp(type, "cgroup") == 0 && list_has(super, controller);
        if (match && strlen(fields[3]) < sizeof root && strlen(fields[4]) < sizeof point) {
            strcpy(root, fields[3]);
            strcpy(point, fields[4]);
            mounted = true;
        }
    }
    fclose(file);
    if (!mounted) {
        snprintf(h->why, sizeof h->why, "no %s hierarchy is mounted", what);
        return;
    }
    char path[DG_SANDBOX_PATH_SIZE];
    if (!own_cgroup_path(path, sizeof path, controller)) {
        snprintf(h->why, sizeof h->why, "the grader's %s cgroup is not in /proc/self/cgroup", what);
        return;
    }
    /* The mount may show a sub-tree (root != "/"): strip that prefix. */
    const char *inside = path;
    size_t root_length = strlen(root);
    if (strcmp(root, "/") != 0 && strncmp(path, root, root_length) == 0)
        inside = path + root_length;
    if (strcmp(inside, "/") == 0)
        inside = "";
    int n = snprintf(h->folder, sizeof h->folder, "%s%s", point, inside);
    if (n < 0 || (size_t)n >= sizeof h->folder) {
        snprintf(h->why, sizeof h->why, "the %s cgroup path is too long", what);
        return;
    }
    h->found = true;
}

/* Makes a test folder under parent, writes `value` to `file` in it (unless
 * file is NULL), checks the files in `required` exist, and removes it.
 * Returns true, or false with why filled. */
static bool try_folder(const char *parent, const char *file, const char *value,
                       const char *const *required, char *why, size_t why_size)
{
    char folder[DG_CGROUP_PATH_SIZE], path[DG_CGROUP_PATH_SIZE + 32];
    snprintf(folder, sizeof folder, "%s/dlgrade-probe-%ld", parent, (long)getpid());
    if (mkdir(folder, 0755) != 0 && errno != EEXIST) {
        snprintf(why, why_size, "cannot create a cgroup in %s: %s", parent, strerror(errno));
        return false;
    }
    bool ok = true;
    if (file != NULL) {
        join_path(path, sizeof path, folder, file);
        int rc = write_text(path, value);
        if (rc != 0) {
            snprintf(why, why_size, "cannot write %.160s: %s", path, strerror(-rc));
            ok = false;
        }
    }
    for (int i = 0; ok && required != NULL && required[i] != NULL; i++) {
        if (!file_exists(folder, required[i])) {
            snprintf(why, why_size, "%s has no %s (kernel too old?)", parent, required[i]);
            ok = false;
        }
    }
    if (rmdir(folder) != 0 && ok) {
        snprintf(why, why_size, "cannot remove the test cgroup %.160s: %s", folder,
                 strerror(errno));
        ok = false;
    }
    return ok;
}

/* Is `controller` delegated to the grader's v2 cgroup's children? */
static bool v2_delegates(const char *folder, const char *controller)
{
    char path[DG_CGROUP_PATH_SIZE + 32], text[512];
    if (!join_path(path, sizeof path, folder, "cgroup.subtree_control") ||
        read_text(path, text, sizeof text) < 0)
        return false;
    for (char *save = NULL, *word = strtok_r(text, " \n", &save); word != NULL;
         word = strtok_r(NULL, " \n", &save))
        if (strcmp(word, controller) == 0)
            return true;
    return false;
}

void dg_cgroup_probe(dg_sandbox_capabilities *caps, char *notes, size_t notes_size)
{
    hierarchy unified, memory, pids;
    find_hierarchy(&unified, NULL);
    find_hierarchy(&memory, "memory");
    find_hierarchy(&pids, "pids");
    char why[256];

    /* The v2 folder: cpu.stat and cgroup.kill. */
    static const char *const kill_files[] = { "cpu.stat", "cgroup.kill", NULL };
    if (unified.found &&
        try_folder(unified.folder, NULL, NULL, kill_files, why, sizeof why)) {
        caps->cgroup_kill = true;
        strcpy(caps->cgroup_unified_parent, unified.folder);
        dg_sandbox_note(notes, notes_size,
                        "cgroup kill: in force (v2 cpu.stat and cgroup.kill under %s)",
                        unified.folder);
    } else {
        dg_sandbox_note(notes, notes_size,
                        "cgroup kill: MISSING (%s): CPU time is sampled from /proc for the "
                        "process tree (RLIMIT_CPU per process as a backstop); without "
                        "a pid namespace a setsid daemon leaves the tree and may outlive the run",
                        unified.found ? why : unified.why);
    }

    /* Memory: delegated v2 first, else v1. */
    static const char *const v1_memory_files[] = { "memory.oom_control", NULL };
    static const char *const v2_memory_files[] = { "memory.events", NULL };
    char memory_why[256];
    snprintf(memory_why, sizeof memory_why, "%s", memory.why);
    if (caps->cgroup_kill && v2_delegates(unified.folder, "memory") &&
        try_folder(unified.folder, "memory.max", "67108864", v2_memory_files, why, sizeof why)) {
        caps->cgroup_memory = true;
        caps->cgroup_memory_version = 2;
        strcpy(caps->cgroup_memory_parent, unified.folder);
    } else if (memory.found) {
        if (try_folder(memory.folder, "memory.limit_in_bytes", "67108864", v1_memory_files,
                       why, sizeof why)) {
            caps->cgroup_memory = true;
            caps->cgroup_memory_version = 1;
            strcpy(caps->cgroup_memory_parent, memory.folder);
        } else {
            snprintf(memory_why, sizeof memory_why, "%s", why);
        }
    }
    if (caps->cgroup_memory)
        dg_sandbox_note(notes, notes_size, "cgroup memory: in force (v%d under %s)",
                        caps->cgroup_memory_version, caps->cgroup_memory_parent);
    else
        dg_sandbox_note(notes, notes_size,
                        "cgroup memory: MISSING (%s): memory is limited per process by "
                        "RLIMIT_AS, under which AddressSanitizer cannot start",
                        memory_why);

    /* Processes: delegated v2 first, else v1. */
    char pids_why[256];
    snprintf(pids_why, sizeof pids_why, "%s", pids.why);
    if (caps->cgroup_kill && v2_delegates(unified.folder, "pids") &&
        try_folder(unified.folder, "pids.max", "8", NULL, why, sizeof why)) {
        caps->cgroup_pids = true;
        caps->cgroup_pids_version = 2;
        strcpy(caps->cgroup_pids_parent, unified.folder);
    } else if (pids.found) {
        if (try_folder(pids.folder, "pids.max", "8", NULL, why, sizeof why)) {
            caps->cgroup_pids = true;
            caps->cgroup_pids_version = 1;
            strcpy(caps->cgroup_pids_parent, pids.folder);
        } else {
            snprintf(pids_why, sizeof pids_why, "%s", why);
        }
    }
    if (caps->cgroup_pids)
        dg_sandbox_note(notes, notes_size, "cgroup pids: in force (v%d under %s)",
                        caps->cgroup_pids_version, caps->cgroup_pids_parent);
    else
        dg_sandbox_note(notes, notes_size,
                        "cgroup pids: MISSING (%s): nothing bounds the number of processes "
                        "(RLIMIT_NPROC is ignored for root and unreliable per uid)",
                        pids_why);
    dg_cgroup_remove_stale(caps);
}

/* ---- one run's folders -------------------------------------------------- */

/* The distinct folders of a set (a pure v2 set uses one folder for all). */
static int distinct_folders(const dg_cgroup_set *set, const char *out[3])
{
    const char *all[3] = { set->unified, set->memory, set->pids };
    int count = 0;
    for (int i = 0; i < 3; i++) {
        if (all[i][0] == '\0')
            continue;
        bool seen = false;
        for (int j = 0; j < count; j++)
            seen = seen || strcmp(out[j], all[i]) == 0;
        if (!seen)
            out[count++] = all[i];
    }
    return count;
}

static nn_status make_folder(char *folder, size_t size, const char *parent, int slot,
                             nn_error *err)
{
    int n = snprintf(folder, size, "%s/dlgrade-%ld-%d", parent, (long)getpid(), slot);
    if (n < 0 || (size_t)n >= size)
        return nn_error_set(err, NN_ERR_ARGUMENT, "cgroup path under %s is too long", parent);
    if (mkdir(folder, 0755) == 0)
        return NN_OK;
    /* A folder of this name is left from an earlier grader with the same
     * pid (or a run that did not clean up): remove it if empty, retry. */
    if (errno == EEXIST && rmdir(folder) == 0 && mkdir(folder, 0755) == 0)
        return NN_OK;
    return nn_error_set(err, NN_ERR_IO, "cannot create cgroup %s: %s", folder, strerror(errno));
}

static nn_status write_limit(const char *folder, const char *file, unsigned long long value,
                             bool optional, nn_error *err)
{
    char path[DG_CGROUP_PATH_SIZE + 32], text[32];
    join_path(path, sizeof path, folder, file);
    snprintf(text, sizeof text, "%llu", value);
    int rc = write_text(path, text);
    if (rc == 0 || (optional && rc == -ENOENT))
        return NN_OK;
    return nn_error_set(err, NN_ERR_IO, "cannot write %s to %s: %s", text, path, strerror(-rc));
}

nn_status dg_cgroup_create(dg_cgroup_set *set, const dg_sandbox_capabilities *caps, int slot,
                           size_t memory_bytes, int processes, nn_error *err)
{
    memset(set, 0, sizeof *set);
    nn_status status = NN_OK;
    const char *parents[3] = {
        caps->cgroup_kill ? caps->cgroup_unified_parent : "",
        caps->cgroup_memory ? caps->cgroup_memory_parent : "",
        caps->cgroup_pids ? caps->cgroup_pids_parent : "",
    };
    char *folders[3] = { set->unified, set->memory, set->pids };
    for (int i = 0; i < 3 && status == NN_OK; i++) {
        if (parents[i][0] == '\0')
            continue;
        /* Same parent as an earlier one (pure v2): same folder. */
        bool shared = false;
        for (int j = 0; j < i && !shared; j++) {
            if (strcmp(parents[i], parents[j]) == 0 && folders[j][0] != '\0') {
                strcpy(folders[i], folders[j]);
                shared = true;
            }
        }
        if (!shared)
            status = make_folder(folders[i], DG_CGROUP_PATH_SIZE, parents[i], slot, err);
    }
    set->memory_version = set->memory[0] ? caps->cgroup_memory_version : 0;
    set->pids_version = set->pids[0] ? caps->cgroup_pids_version : 0;

    if (status == NN_OK && set->memory_version == 1) {
        status = write_limit(set->memory, "memory.limit_in_bytes", memory_bytes, false, err);
        /* memory + swap, so that swap (if any) cannot extend the limit */
        if (status == NN_OK)
            status = write_limit(set->memory, "memory.memsw.limit_in_bytes", memory_bytes,
                                 true, err);
    } else if (status == NN_OK && set->memory_version == 2) {
        status = write_limit(set->memory, "memory.max", memory_bytes, false, err);
        if (status == NN_OK)
            status = write_limit(set->memory, "memory.swap.max", 0, true, err);
        /* one OOM kill takes the whole tree, as a v1 kill of the hog would end the run */
        if (status == NN_OK)
            status = write_limit(set->memory, "memory.oom.group", 1, true, err);
    }
    if (status == NN_OK && set->pids_version != 0)
        status = write_limit(set->pids, "pids.max", (unsigned long long)processes, false, err);

    const char *distinct[3];
    int count = distinct_folders(set, distinct);
    for (int i = 0; i < count && status == NN_OK; i++) {
        if (!join_path(set->procs[i], sizeof set->procs[i], distinct[i], "cgroup.procs"))
            status = nn_error_set(err, NN_ERR_ARGUMENT, "cgroup path too long: %s", distinct[i]);
    }
    set->procs_count = count;
    if (status != NN_OK)
        dg_cgroup_remove(set, NULL);
    return status;
}

double dg_cgroup_cpu_seconds(const dg_cgroup_set *set)
{
    if (set->unified[0] == '\0')
        return -1.0;
    long long usec = keyed_value(set->unified, "cpu.stat", "usage_usec");
    return usec < 0 ? -1.0 : 1e-6 * (double)usec;
}

/* SIGKILL to every pid listed in a v1 folder, until it lists none (a
 * process may fork between the read and the kill; the pids limit bounds
 * how long that can go on). */
static void kill_listed(const char *folder)
{
    char path[DG_CGROUP_PATH_SIZE + 32], text[8192];
    join_path(path, sizeof path, folder, "cgroup.procs");
    for (int round = 0; round < 200; round++) {
        if (read_text(path, text, sizeof text) <= 0)
            return;
        for (char *save = NULL, *word = strtok_r(text, "\n", &save); word != NULL;
             word = strtok_r(NULL, "\n", &save)) {
            long pid = strtol(word, NULL, 10);
            if (pid > 1)
                kill((pid_t)pid, SIGKILL);
        }
        pause_briefly(500);
    }
}

bool dg_cgroup_kill(const dg_cgroup_set *set)
{
    if (set->unified[0] != '\0') {
        char path[DG_CGROUP_PATH_SIZE + 32];
        join_path(path, sizeof path, set->unified, "cgroup.kill");
        if (write_text(path, "1") == 0)
            return true;
    }
    bool any = false;
    if (set->pids_version == 1) {
        kill_listed(set->pids);
        any = true;
    }
    if (set->memory_version == 1) {
        kill_listed(set->memory);
        any = true;
    }
    return any;
}

long dg_cgroup_oom_kills(const dg_cgroup_set *set)
{
    long long kills = -1;
    if (set->memory_version == 1)
        kills = keyed_value(set->memory, "memory.oom_control", "oom_kill");
    else if (set->memory_version == 2)
        kills = keyed_value(set->memory, "memory.events", "oom_kill");
    return kills < 0 ? 0 : (long)kills;
}

static bool folder_empty(const char *folder, bool v2)
{
    if (v2)
        return keyed_value(folder, "cgroup.events", "populated") == 0;
    char path[DG_CGROUP_PATH_SIZE + 32], text[64];
    join_path(path, sizeof path, folder, "cgroup.procs");
    ssize_t n = read_text(path, text, sizeof text);
    return n == 0 || n == -ENOENT;
}

bool dg_cgroup_wait_empty(const dg_cgroup_set *set, double seconds)
{
    double deadline = monotonic_seconds() + seconds;
    for (;;) {
        bool empty = true;
        if (set->unified[0] != '\0')
            empty = empty && folder_empty(set->unified, true);
        if (set->memory_version == 1)
            empty = empty && folder_empty(set->memory, false);
        if (set->pids_version == 1)
            empty = empty && folder_empty(set->pids, false);
        if (empty)
            return true;
        if (monotonic_seconds() >= deadline)
            return false;
        pause_briefly(500);
    }
}

nn_status dg_cgroup_remove(dg_cgroup_set *set, nn_error *err)
{
    const char *distinct[3];
    int count = distinct_folders(set, distinct);
    nn_status status = NN_OK;
    for (int i = 0; i < count; i++) {
        /* rmdir fails with EBUSY until the last process has left. */
        double deadline = monotonic_seconds() + 2.0;
        while (rmdir(distinct[i]) != 0 && errno != ENOENT) {
            if (errno != EBUSY || monotonic_seconds() >= deadline) {
                status = nn_error_set(err, NN_ERR_IO, "cannot remove cgroup %s: %s",
                                      distinct[i], strerror(errno));
                break;
            }
            pause_briefly(1000);
        }
    }
    memset(set, 0, sizeof *set);
    return status;
}

/* ---- what a killed grader left ------------------------------------------ */

/* The pid in a run's or the probe's folder name ("dlgrade-PID-SLOT",
 * "dlgrade-probe-PID"), or -1 for any other name. */
static long owner_of(const char *name)
{
    long pid = -1;
    int slot, used = 0;
    if (sscanf(name, "dlgrade-probe-%ld%n", &pid, &used) == 1 && name[used] == '\0')
        return pid;
    if (sscanf(name, "dlgrade-%ld-%d%n", &pid, &slot, &used) == 2 && name[used] == '\0')
        return pid;
    return -1;
}

void dg_cgroup_remove_stale(const dg_sandbox_capabilities *caps)
{
    const char *parents[] = { caps->cgroup_unified_parent, caps->cgroup_memory_parent,
                              caps->cgroup_pids_parent };
    for (int p = 0; p < 3; p++) {
        if (parents[p][0] == '\0')
            continue;
        DIR *dir = opendir(parents[p]);
        if (dir == NULL)
            continue;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            long pid = owner_of(entry->d_name);
            /* kill(pid, 0) fails with ESRCH only when no such process
             * exists; a live pid (the owner, or a stranger that took its
             * number) keeps the folder. */
            if (pid <= 1 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                continue;
            char folder[DG_CGROUP_PATH_SIZE + 300], path[DG_CGROUP_PATH_SIZE + 340];
            snprintf(folder, sizeof folder, "%s/%s", parents[p], entry->d_name);
            /* Anything still inside outlived its grader: it goes too. */
            snprintf(path, sizeof path, "%s/cgroup.kill", folder);
            if (access(path, F_OK) != 0 || write_text(path, "1") != 0)
                kill_listed(folder);
            double deadline = monotonic_seconds() + 1.0;
            while (rmdir(folder) != 0 && errno == EBUSY && monotonic_seconds() < deadline)
                pause_briefly(1000);
        }
        closedir(dir);
    }
}
