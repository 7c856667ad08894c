/*
 * check_sandbox.c - the sandbox against the misbehaviours it exists for:
 * crashes, CPU loops, sleeps, fork bombs, memory hogs, output floods,
 * network use, peeking at the host's files, daemons that try to outlive
 * the run.
 *
 * The untrusted programs are /bin/sh scripts and one small C program
 * (HELPER_SOURCE, compiled once per run of the suite). A test that needs a
 * mechanism (bubblewrap, a cgroup, seccomp, root for the user switch)
 * fails with the probe's note when the mechanism is missing: nothing is
 * skipped silently. Limits are kept small so the suite stays quick.
 */
#include "../../reference/tests/testutil.h"

#include "sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* The slot's uid is per test process, so that two copies of the suite
 * running at once (two worktrees) cannot see each other's processes. */
static int test_slot(void)
{
    return 1000 + (int)(getpid() % 3000);
}

/* ---- the C helper -------------------------------------------------------- */

static const char HELPER_SOURCE[] =
    "#include <arpa/inet.h>\n"
    "#include <errno.h>\n"
    "#include <netinet/in.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <sys/socket.h>\n"
    "#include <unistd.h>\n"
    "static const char *name(int e) {\n"
    "    return e == EPERM ? \"EPERM\" : e == ECONNREFUSED ? \"ECONNREFUSED\"\n"
    "         : e == ENETUNREACH ? \"ENETUNREACH\" : strerror(e);\n"
    "}\n"
    "static void try_connect(const char *label, const char *ip, int port) {\n"
    "    int fd = socket(AF_INET, SOCK_STREAM, 0);\n"
    "    if (fd < 0) { printf(\"%s socket %s\\n\", label, name(errno)); return; }\n"
    "    struct sockaddr_in a; memset(&a, 0, sizeof a);\n"
    "    a.sin_family = AF_INET; a.sin_port = htons((unsigned short)port);\n"
    "    inet_pton(AF_INET, ip, &a.sin_addr);\n"
    "    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) printf(\"%s connected\\n\", label);\n"
    "    else printf(\"%s connect %s\\n\", label, name(errno));\n"
    "    close(fd);\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "    if (argc >= 3 && strcmp(argv[1], \"fork\") == 0) {\n"
    "        int wanted = atoi(argv[2]), made = 0;\n"
    "        for (int i = 0; i < wanted; i++) {\n"
    "            pid_t pid = fork();\n"
    "            if (pid == 0) { pause(); _exit(0); }\n"
    "            if (pid < 0) break;\n"
    "            made++;\n"
    "        }\n"
    "        printf(\"forked %d\\n\", made);\n"
    "        return 0;\n"
    "    }\n"
    "    if (argc >= 2 && strcmp(argv[1], \"hog\") == 0) {\n"
    "        for (size_t total = 0; total < ((size_t)4 << 30); total += 1 << 20) {\n"
    "            char *block = malloc(1 << 20);\n"
    "            if (block == NULL) { printf(\"malloc failed\\n\"); return 3; }\n"
    "            memset(block, 1, 1 << 20);\n"
    "        }\n"
    "        printf(\"allocated 4 GiB\\n\");\n"
    "        return 0;\n"
    "    }\n"
    "    if (argc >= 3 && strcmp(argv[1], \"net\") == 0) {\n"
    "        try_connect(\"loopback\", \"127.0.0.1\", atoi(argv[2]));\n"
    "        try_connect(\"outside\", \"1.1.1.1\", 80);\n"
    "        return 0;\n"
    "    }\n"
    "    return 2;\n"
    "}\n";

static char helper_dir[1024];
static char helper_path[4200];

/* Unchecked fixture (runs once, in the runner): compile the helper into a
 * folder the slot's uid can read, shown read-only in the sandbox. */
static void helper_setup(void)
{
    test_make_temp_dir(helper_dir, sizeof helper_dir);
    ck_assert_int_eq(chmod(helper_dir, 0755), 0);
    char source[4200], command[9000];
    snprintf(source, sizeof source, "%s/helper.c", helper_dir);
    snprintf(helper_path, sizeof helper_path, "%s/helper", helper_dir);
    FILE *file = fopen(source, "w");
    ck_assert_ptr_nonnull(file);
    fputs(HELPER_SOURCE, file);
    fclose(file);
    snprintf(command, sizeof command, "cc -O0 -o '%s' '%s'", helper_path, source);
    ck_assert_msg(system(command) == 0, "cannot compile the test helper with cc");
}

static void helper_teardown(void)
{
    test_remove_dir(helper_dir);
}

/* ---- running scripts ------------------------------------------------------ */

static dg_sandbox_capabilities probed;
static char work[1024];

static void require(bool available, const char *mechanism)
{
    ck_assert_msg(available, "%s is needed by this test but missing; the probe says:\n%s",
                  mechanism, probed.notes);
}

/* The capabilities the runs use: the probe's (the grader's own
 * namespaces, as root), or bubblewrap's for the tests looped over the
 * launchers (index 1), as a grader that is not root would start. */
static const dg_sandbox_capabilities *active = &probed;
static dg_sandbox_capabilities with_bubblewrap;

static void work_setup(void)
{
    nn_error err;
    ck_assert_int_eq(dg_sandbox_probe(&probed, &err), NN_OK);
    active = &probed;
    test_make_temp_dir(work, sizeof work);
}

static void use_launcher(int index)
{
    if (index == 0)
        return;
    setenv("DLGRADE_SANDBOX_LAUNCHER", "bubblewrap", 1);
    nn_error err;
    nn_status status = dg_sandbox_probe(&with_bubblewrap, &err);
    unsetenv("DLGRADE_SANDBOX_LAUNCHER");
    ck_assert_int_eq(status, NN_OK);
    ck_assert_msg(with_bubblewrap.bubblewrap && with_bubblewrap.namespaces,
                  "bubblewrap is needed by this test but missing; the probe says:\n%s",
                  with_bubblewrap.notes);
    active = &with_bubblewrap;
}

static void work_teardown(void)
{
    test_remove_dir(work);
}

static dg_sandbox_limits small_limits(void)
{
    dg_sandbox_limits limits = dg_sandbox_default_limits();
    limits.cpu_seconds = 2.0;
    limits.wall_seconds = 5.0;
    limits.memory_bytes = (size_t)128 << 20;
    limits.max_processes = 8;
    limits.max_file_bytes = (size_t)4 << 20;
    limits.max_output_bytes = (size_t)1 << 20;
    return limits;
}

static void run_argv(dg_sandbox_result *result, const char *const *argv,
                     const dg_sandbox_limits *limits, const void *input, size_t input_size,
                     const dg_sandbox_capabilities *caps)
{
    const char *const read_only[] = { helper_dir, NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.argv = argv;
    request.work_directory = work;
    request.read_only_paths = helper_dir[0] ? read_only : NULL;
    request.slot = test_slot();
    /* With /proc: several tests look there for what must not be seen. */
    request.show_proc = true;
    request.input = input;
    request.input_size = input_size;
    request.limits = *limits;
    nn_error err;
    nn_error_clear(&err);
    ck_assert_msg(dg_sandbox_run(result, &request, caps, &err) == NN_OK, "%s", err.message);
}

static void run_script(dg_sandbox_result *result, const char *script,
                       const dg_sandbox_limits *limits)
{
    const char *const argv[] = { "/bin/sh", "-c", script, NULL };
    run_argv(result, argv, limits, NULL, 0, active);
}

static void run_helper(dg_sandbox_result *result, const char *mode, const char *argument,
                       const dg_sandbox_limits *limits, const dg_sandbox_capabilities *caps)
{
    const char *const argv[] = { helper_path, mode, argument, NULL };
    run_argv(result, argv, limits, NULL, 0, caps);
}

static void assert_status(const dg_sandbox_result *result, dg_sandbox_status expected)
{
    ck_assert_msg(result->status == expected,
                  "status '%s', expected '%s' (exit %d, signal %d, cpu %.3f s, wall %.3f s, "
                  "message '%s', stderr '%.300s')",
                  dg_sandbox_status_name(result->status), dg_sandbox_status_name(expected),
                  result->exit_code, result->signal, result->cpu_seconds, result->wall_seconds,
                  result->message, result->errors ? result->errors : "");
    if (expected != DG_SANDBOX_ERROR)
        ck_assert_msg(result->message[0] == '\0', "warning: %s", result->message);
}

static bool output_is(const dg_sandbox_result *result, const char *text)
{
    return result->output_size == strlen(text) &&
           memcmp(result->output, text, result->output_size) == 0;
}

/* Processes of uid that still run (zombies excluded: a zombie runs
 * nothing, holds no memory, and waits only for its parent to collect it). */
static int live_processes_of(uid_t uid)
{
    DIR *proc = opendir("/proc");
    ck_assert_ptr_nonnull(proc);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(proc)) != NULL;) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/%s/status", entry->d_name);
        FILE *file = fopen(path, "r");
        if (file == NULL)
            continue;
        bool zombie = false, mine = false;
        while (fgets(line, sizeof line, file) != NULL) {
            unsigned long real;
            if (strncmp(line, "State:", 6) == 0)
                zombie = strchr(line, 'Z') != NULL;
            if (sscanf(line, "Uid: %lu", &real) == 1)
                mine = real == (unsigned long)uid;
        }
        fclose(file);
        count += mine && !zombie;
    }
    closedir(proc);
    return count;
}

static uid_t slot_uid(void)
{
    return (uid_t)(DG_SANDBOX_FIRST_UID + test_slot());
}

/* ---- the probe ---------------------------------------------------------- */

START_TEST(probe_finds_every_mechanism_on_this_machine)
{
    /* The project's machines (SANDBOX.md) offer all of them; each missing
     * one fails here with the probe's reason. */
    require(probed.user_switch, "root (to switch to a slot uid)");
    require(probed.namespaces, "namespaces (network isolation)");
    /* as root the grader builds them itself; bubblewrap is for the rest */
    ck_assert(!probed.bubblewrap);
    ck_assert_msg(strstr(probed.notes, "built by the grader itself") != NULL, "%s", probed.notes);
    require(probed.seccomp, "seccomp");
    require(probed.cgroup_memory, "a memory cgroup");
    require(probed.cgroup_pids, "a pids cgroup");
    require(probed.cgroup_kill, "a v2 cgroup (cpu.stat, cgroup.kill)");
    ck_assert_msg(strstr(probed.notes, "MISSING") == NULL, "%s", probed.notes);
}
END_TEST

START_TEST(probe_without_a_way_to_namespaces_says_the_network_is_open)
{
    /* bubblewrap asked for (as if the grader were not root) and missing */
    setenv("DLGRADE_SANDBOX_LAUNCHER", "bubblewrap", 1);
    setenv("DLGRADE_BWRAP", "/nonexistent/bwrap", 1);
    dg_sandbox_capabilities caps;
    nn_error err;
    ck_assert_int_eq(dg_sandbox_probe(&caps, &err), NN_OK);
    unsetenv("DLGRADE_BWRAP");
    unsetenv("DLGRADE_SANDBOX_LAUNCHER");
    ck_assert(!caps.bubblewrap);
    ck_assert(!caps.namespaces);
    ck_assert_msg(strstr(caps.notes, "NO NETWORK ISOLATION") != NULL, "%s", caps.notes);
    ck_assert_msg(strstr(caps.notes, "/nonexistent/bwrap") != NULL, "%s", caps.notes);
}
END_TEST

/* ---- ordinary runs ------------------------------------------------------ */

START_TEST(exit_code_stdout_and_stderr_are_captured)
{
    use_launcher(_i);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, "echo hello; echo oops >&2; exit 3", &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert_int_eq(result.exit_code, 3);
    ck_assert_msg(output_is(&result, "hello\n"), "stdout '%.*s'", (int)result.output_size,
                  result.output);
    ck_assert_str_eq(result.errors, "oops\n");
    ck_assert(!result.output_truncated);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(large_input_and_outputs_flow_without_deadlock)
{
    use_launcher(_i);
    /* 8 MiB through stdin, back on stdout and stderr at once: any
     * sequential write-then-read would fill a 64 KiB pipe and hang. */
    size_t size = (size_t)8 << 20;
    unsigned char *input = malloc(size);
    ck_assert_ptr_nonnull(input);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < size; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        input[i] = (unsigned char)(state >> 56);
    }
    dg_sandbox_limits limits = small_limits();
    limits.max_output_bytes = size;
    const char *const argv[] = { "/usr/bin/tee", "/dev/stderr", NULL };
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, input, size, active);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert_int_eq(result.exit_code, 0);
    ck_assert_uint_eq(result.output_size, size);
    ck_assert_uint_eq(result.errors_size, size);
    ck_assert(memcmp(result.output, input, size) == 0);
    ck_assert(memcmp(result.errors, input, size) == 0);
    dg_sandbox_result_release(&result);
    free(input);
}
END_TEST

START_TEST(program_that_ignores_its_input_is_not_blocked)
{
    /* Input larger than a pipe, never read: the grader must not wait
     * for the write to finish. */
    size_t size = (size_t)1 << 20;
    char *input = calloc(size, 1);
    ck_assert_ptr_nonnull(input);
    dg_sandbox_limits limits = small_limits();
    const char *const argv[] = { "/bin/sh", "-c", "echo done", NULL };
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, input, size, active);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert(output_is(&result, "done\n"));
    dg_sandbox_result_release(&result);
    free(input);
}
END_TEST

START_TEST(exit_status_above_128_is_not_mistaken_for_a_signal)
{
    /* The grader's own pid 1 passes on the exact wait status; only
     * bubblewrap folds a signal into 128 + N (sandbox.h). */
    require(probed.namespaces && !probed.bubblewrap, "the grader's own namespaces");
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, "exit 139", &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert_int_eq(result.exit_code, 139);
    ck_assert_int_eq(result.signal, 0);
    dg_sandbox_result_release(&result);
}
END_TEST

/* ---- limits --------------------------------------------------------------- */

START_TEST(cpu_loop_is_killed_at_the_cpu_limit)
{
    use_launcher(_i);
    require(probed.cgroup_kill, "cgroup cpu.stat");
    dg_sandbox_limits limits = small_limits();
    limits.cpu_seconds = 0.3;
    limits.wall_seconds = 10.0;
    dg_sandbox_result result;
    run_script(&result, "while :; do :; done", &limits);
    assert_status(&result, DG_SANDBOX_CPU_LIMIT);
    /* It ran at least as long as the limit, and well short of the
     * RLIMIT_CPU backstop (limit + 1 s). */
    ck_assert_msg(result.cpu_seconds >= 0.3 && result.cpu_seconds < 1.3, "cpu %.3f s",
                  result.cpu_seconds);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(cpu_of_the_whole_tree_is_limited_without_cgroups)
{
    /* The fallback for machines without a v2 cgroup (a CI runner that is
     * not root): the tree under the sandbox's pid 1 is sampled from /proc.
     * Two loops in two processes reach the limit together, before either
     * reaches RLIMIT_CPU (limit + 1 s) alone. */
    dg_sandbox_capabilities caps = probed;
    caps.cgroup_kill = caps.cgroup_memory = caps.cgroup_pids = false;
    const char *const argv[] = {
        "/bin/sh", "-c", "sh -c 'while :; do :; done' & while :; do :; done", NULL
    };
    dg_sandbox_limits limits = small_limits();
    limits.cpu_seconds = 0.4;
    limits.wall_seconds = 10.0;
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, NULL, 0, &caps);
    assert_status(&result, DG_SANDBOX_CPU_LIMIT);
    ck_assert_msg(result.cpu_seconds >= 0.4 && result.cpu_seconds < 1.4, "cpu %.3f s",
                  result.cpu_seconds);
    dg_sandbox_result_release(&result);
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
}
END_TEST

START_TEST(sleep_is_killed_at_the_wall_limit)
{
    dg_sandbox_limits limits = small_limits();
    limits.wall_seconds = 0.3;
    dg_sandbox_result result;
    run_script(&result, "sleep 100", &limits);
    assert_status(&result, DG_SANDBOX_WALL_LIMIT);
    ck_assert_msg(result.wall_seconds >= 0.3 && result.wall_seconds < 50.0, "wall %.3f s",
                  result.wall_seconds);
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(pids_cgroup_bounds_the_number_of_processes)
{
    require(probed.cgroup_pids, "a pids cgroup");
    dg_sandbox_limits limits = small_limits();
    limits.max_processes = 6;
    dg_sandbox_result result;
    run_helper(&result, "fork", "40", &limits, active);
    assert_status(&result, DG_SANDBOX_EXITED);
    /* max_processes counts the program itself: 5 more. */
    ck_assert_msg(output_is(&result, "forked 5\n"), "stdout '%.*s'", (int)result.output_size,
                  result.output);
    dg_sandbox_result_release(&result);
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
}
END_TEST

START_TEST(fork_bomb_is_contained)
{
    use_launcher(_i);
    require(probed.cgroup_pids, "a pids cgroup");
    dg_sandbox_limits limits = small_limits();
    limits.max_processes = 8;
    limits.cpu_seconds = 1.0;
    limits.wall_seconds = 1.0;
    dg_sandbox_result result;
    run_script(&result, "b() { b | b & }; b; sleep 5", &limits);
    ck_assert_msg(result.status != DG_SANDBOX_ERROR, "%s", result.message);
    dg_sandbox_result_release(&result);
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
    /* the sandbox still works afterwards */
    run_script(&result, "echo alive", &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert(output_is(&result, "alive\n"));
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(memory_hog_is_killed_at_the_memory_limit)
{
    require(probed.cgroup_memory, "a memory cgroup");
    dg_sandbox_limits limits = small_limits();
    limits.memory_bytes = (size_t)64 << 20;
    limits.cpu_seconds = 5.0;
    limits.wall_seconds = 10.0;
    dg_sandbox_result result;
    run_helper(&result, "hog", NULL, &limits, active);
    assert_status(&result, DG_SANDBOX_MEMORY_LIMIT);
    ck_assert(strstr((const char *)result.output ? (const char *)result.output : "",
                     "allocated") == NULL);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(output_flood_is_truncated_while_the_program_is_drained)
{
    dg_sandbox_limits limits = small_limits();
    limits.max_output_bytes = 65536;
    dg_sandbox_result result;
    /* 32 MiB: the program finishes (and writes to stderr last) only if the
     * grader keeps reading past the limit. */
    run_script(&result, "head -c 33554432 /dev/zero; echo finished >&2", &limits);
    assert_status(&result, DG_SANDBOX_OUTPUT_LIMIT);
    ck_assert(result.output_truncated);
    ck_assert_uint_eq(result.output_size, 65536);
    ck_assert_int_eq(result.exit_code, 0);
    ck_assert_str_eq(result.errors, "finished\n");
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(crash_is_reported_as_a_signal_and_writes_no_core)
{
    use_launcher(_i);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, "ulimit -c; kill -SEGV $$", &limits);
    assert_status(&result, DG_SANDBOX_SIGNALED);
    ck_assert_int_eq(result.signal, SIGSEGV);
    ck_assert_msg(output_is(&result, "0\n"), "core size limit '%.*s'", (int)result.output_size,
                  result.output);
    dg_sandbox_result_release(&result);
    /* core_pattern is "core" (relative): a core would land in /work */
    DIR *folder = opendir(work);
    ck_assert_ptr_nonnull(folder);
    for (struct dirent *entry; (entry = readdir(folder)) != NULL;)
        ck_assert_msg(strncmp(entry->d_name, "core", 4) != 0, "core file %s written",
                      entry->d_name);
    closedir(folder);
}
END_TEST

/* ---- isolation --------------------------------------------------------- */

/* A listener on the host's loopback, which the sandbox must not reach. */
static int host_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    socklen_t length = sizeof address;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    *port = ntohs(address.sin_port);
    return fd;
}

START_TEST(seccomp_refuses_sockets)
{
    require(probed.seccomp, "seccomp");
    int port, listener = host_listener(&port);
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_helper(&result, "net", port_text, &limits, active);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert_msg(output_is(&result, "loopback socket EPERM\noutside socket EPERM\n"),
                  "stdout '%.*s'", (int)result.output_size, result.output);
    dg_sandbox_result_release(&result);
    close(listener);
}
END_TEST

START_TEST(network_namespace_isolates_even_without_seccomp)
{
    use_launcher(_i);
    require(active->namespaces, "a network namespace");
    int port, listener = host_listener(&port);
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    dg_sandbox_capabilities caps = *active;
    caps.seccomp = false;
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_helper(&result, "net", port_text, &limits, &caps);
    assert_status(&result, DG_SANDBOX_EXITED);
    /* The host's listener is refused (the sandbox's loopback is its own)
     * and there is no route out. */
    ck_assert_msg(output_is(&result, "loopback connect ECONNREFUSED\noutside connect ENETUNREACH\n"),
                  "stdout '%.*s'", (int)result.output_size, result.output);
    dg_sandbox_result_release(&result);
    close(listener);
}
END_TEST

START_TEST(filesystem_shows_only_the_work_folder_and_the_system)
{
    use_launcher(_i);
    require(active->namespaces, "a mount namespace");
    require(probed.user_switch, "root (slot uid)");
    char repository[1024], script[24000];
    ck_assert_ptr_nonnull(getcwd(repository, sizeof repository));
    /* Each line prints "yes" only when the expectation holds. */
    snprintf(script, sizeof script,
             "t() { if \"$@\" 2>/dev/null; then echo yes; else echo no; fi; }\n"
             "t test ! -e /etc/shadow\n"
             "t test ! -e /etc/passwd\n"
             "t test ! -e /root\n"
             "t test ! -e /home\n"
             "t test ! -e '%s/Makefile'\n"
             "t test ! -e '%s'\n"
             "t test -r /usr/include/stdio.h\n"
             "t sh -c 'echo data > /work/created'\n"
             "t test \"$(pwd)\" = /work\n"
             "t sh -c '! touch /usr/intruder'\n"
             "t sh -c '! touch /intruder'\n"
             "t sh -c 'echo scratch > /tmp/scratch'\n"
             "t sh -c '! touch %s/intruder'\n"
             "t test -r %s/helper.c\n",
             repository, work, helper_dir, helper_dir);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, script, &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert_msg(output_is(&result, "yes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\nyes\n"
                                     "yes\nyes\n"),
                  "stdout '%.*s' (one line per check in the script)", (int)result.output_size,
                  result.output);
    dg_sandbox_result_release(&result);

    char created[4200];
    snprintf(created, sizeof created, "%s/created", work);
    struct stat info;
    ck_assert_int_eq(stat(created, &info), 0);
    ck_assert_uint_eq(info.st_uid, slot_uid());
    ck_assert_uint_eq(info.st_gid, slot_uid());
}
END_TEST

START_TEST(plain_profile_has_no_proc_and_only_harmless_devices)
{
    use_launcher(_i);
    require(active->namespaces, "a mount namespace");
    const char *const argv[] = {
        "/bin/sh", "-c",
        "ls /proc 2>&1 | wc -l; ls /dev | tr '\\n' ' '; echo; "
        "head -c 5 /dev/zero | wc -c; echo gone > /dev/null && echo null-ok",
        NULL
    };
    const char *const read_only[] = { helper_dir, NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.argv = argv;
    request.work_directory = work;
    request.read_only_paths = helper_dir[0] ? read_only : NULL;
    request.slot = test_slot();
    request.limits = small_limits();
    dg_sandbox_result result;
    nn_error err;
    nn_error_clear(&err);
    ck_assert_msg(dg_sandbox_run(&result, &request, active, &err) == NN_OK, "%s", err.message);
    assert_status(&result, DG_SANDBOX_EXITED);
    /* /proc is missing (ls prints one error line); /dev has the five
     * character devices and nothing else (no pts, shm or console) */
    const char *expected = "1\nfull null random urandom zero \n5\nnull-ok\n";
    ck_assert_msg(output_is(&result, expected), "stdout '%.*s'", (int)result.output_size,
                  result.output);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(no_new_privileges_no_capabilities_and_a_filter)
{
    use_launcher(_i);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, "grep -E '^(NoNewPrivs|CapEff|Seccomp):' /proc/self/status; id -u",
               &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    char expected[256];
    snprintf(expected, sizeof expected,
             "CapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t%d\n%u\n",
             probed.seccomp ? 2 : 0, (unsigned)slot_uid());
    ck_assert_msg(output_is(&result, expected), "stdout '%.*s'", (int)result.output_size,
                  result.output);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(only_the_standard_descriptors_reach_the_program)
{
    /* A descriptor the grader holds without close-on-exec (as processes on
     * this machine inherit some) must not reach the program. */
    int null = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(null, 0);
    int stray = fcntl(null, F_DUPFD, 100); /* above the numbers the sandbox uses itself */
    close(null);
    ck_assert_int_ge(stray, 100);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result, "ls /proc/self/fd | tr '\\n' ' '", &limits);
    close(stray);
    assert_status(&result, DG_SANDBOX_EXITED);
    /* ls's own: stdin, stdout, stderr, and 3 for the folder it lists */
    ck_assert_msg(output_is(&result, "0 1 2 3 "), "the open descriptors '%.*s'",
                  (int)result.output_size, result.output);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(grader_environment_and_paths_stay_outside)
{
    use_launcher(_i);
    require(active->namespaces, "a pid namespace");
    setenv("DLGRADE_TEST_SECRET", "marker-7f3a9c", 1);
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_script(&result,
               "cat /proc/1/cmdline /proc/1/environ; env; ps -ef 2>&1; "
               "if test -e /proc/1/cmdline; then echo pid 1 shown | tr ' ' _; fi",
               &limits);
    unsetenv("DLGRADE_TEST_SECRET");
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert(memmem(result.output, result.output_size, "marker-7f3a9c", 13) == NULL);
    /* The grader's own pid 1 is a copy of the grader, command line
     * included: /proc must not show it (bubblewrap's pid 1 is its own
     * program, with nothing of the grader's on its command line). */
    if (!active->bubblewrap)
        ck_assert_msg(memmem(result.output, result.output_size, "pid_1_shown", 11) == NULL,
                      "the sandbox's pid 1 is visible: '%.*s'", (int)result.output_size,
                      result.output);
    ck_assert_msg(memmem(result.output, result.output_size, work, strlen(work)) == NULL,
                  "the host path of the work folder is visible: '%.*s'",
                  (int)result.output_size, result.output);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(setsid_daemon_is_killed_at_the_end)
{
    use_launcher(_i);
    dg_sandbox_limits limits = small_limits();
    limits.wall_seconds = 20.0;
    dg_sandbox_result result;
    run_script(&result, "setsid sleep 100 & echo started", &limits);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert(output_is(&result, "started\n"));
    ck_assert_msg(result.wall_seconds < 10.0, "the run waited for the daemon: %.3f s",
                  result.wall_seconds);
    dg_sandbox_result_release(&result);
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
}
END_TEST

/* ---- without bubblewrap ------------------------------------------------ */

START_TEST(without_bubblewrap_the_other_mechanisms_still_hold)
{
    require(probed.cgroup_kill, "cgroup.kill");
    require(probed.user_switch, "root (slot uid)");
    dg_sandbox_capabilities caps = probed;
    caps.bubblewrap = caps.namespaces = false;
    const char *const argv[] = {
        "/bin/sh", "-c",
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; id -u; ulimit -c; pwd;"
        "setsid sleep 100 & echo started",
        NULL
    };
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, NULL, 0, &caps);
    assert_status(&result, DG_SANDBOX_EXITED);
    char real_work[4096], expected[8192];
    ck_assert_ptr_nonnull(realpath(work, real_work));
    snprintf(expected, sizeof expected, "NoNewPrivs:\t1\nSeccomp:\t%d\n%u\n0\n%s\nstarted\n",
             probed.seccomp ? 2 : 0, (unsigned)slot_uid(), real_work);
    ck_assert_msg(output_is(&result, expected), "stdout '%.*s'", (int)result.output_size,
                  result.output);
    ck_assert_msg(result.wall_seconds < 10.0, "the run waited for the daemon");
    dg_sandbox_result_release(&result);
    /* no pid namespace here: cgroup.kill is what ends the daemon */
    ck_assert_int_eq(live_processes_of(slot_uid()), 0);
}
END_TEST

START_TEST(program_closing_its_stdin_does_not_kill_the_grader)
{
    /* Without bubblewrap's processes holding the pipe too, the grader's
     * next write fails with EPIPE at once: SIGPIPE must not kill it. */
    dg_sandbox_capabilities caps = probed;
    caps.bubblewrap = caps.namespaces = false;
    size_t size = (size_t)1 << 20;
    char *input = calloc(size, 1);
    ck_assert_ptr_nonnull(input);
    const char *const argv[] = { "/bin/sh", "-c", "exec 0<&-; sleep 0.3; echo done", NULL };
    dg_sandbox_limits limits = small_limits();
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, input, size, &caps);
    assert_status(&result, DG_SANDBOX_EXITED);
    ck_assert(output_is(&result, "done\n"));
    dg_sandbox_result_release(&result);
    free(input);
}
END_TEST

/* ---- failures to start -------------------------------------------------- */

START_TEST(missing_program_is_a_sandbox_error)
{
    use_launcher(_i);
    dg_sandbox_limits limits = small_limits();
    const char *const argv[] = { "/work/no-such-program", NULL };
    dg_sandbox_result result;
    run_argv(&result, argv, &limits, NULL, 0, active);
    assert_status(&result, DG_SANDBOX_ERROR);
    ck_assert_msg(strstr(result.message, "no-such-program") != NULL, "message '%s'",
                  result.message);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(unreachable_work_folder_is_a_sandbox_error_without_namespaces)
{
    /* The program runs in the host's folder, as the slot's uid: one it
     * cannot reach is the grader's error, said before the program runs.
     * (In namespaces the folder is shown at /work by root, whatever the
     * folders above it.) */
    require(probed.user_switch, "root (slot uid)");
    dg_sandbox_capabilities caps = probed;
    caps.bubblewrap = caps.namespaces = false;
    active = &caps;
    /* work is mkdtemp's 0700: a folder inside it is out of the slot's reach */
    char inner[4200];
    snprintf(inner, sizeof inner, "%s/inner", work);
    ck_assert_int_eq(chmod(work, 0700), 0);
    ck_assert_int_eq(mkdir(inner, 0755), 0);
    const char *const argv[] = { "/bin/true", NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.argv = argv;
    request.work_directory = inner;
    request.slot = test_slot();
    request.limits = small_limits();
    dg_sandbox_result result;
    nn_error err;
    ck_assert_int_eq(dg_sandbox_run(&result, &request, active, &err), NN_OK);
    assert_status(&result, DG_SANDBOX_ERROR);
    ck_assert_msg(strstr(result.message, "work folder") != NULL, "message '%s'",
                  result.message);
    dg_sandbox_result_release(&result);
}
END_TEST

START_TEST(malformed_requests_are_refused)
{
    const char *const relative[] = { "sh", NULL };
    const char *const absolute[] = { "/bin/true", NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.work_directory = work;
    request.limits = small_limits();
    dg_sandbox_result result;
    nn_error err;

    request.argv = relative;
    ck_assert_int_eq(dg_sandbox_run(&result, &request, active, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(result.status, DG_SANDBOX_ERROR);

    request.argv = absolute;
    request.slot = DG_SANDBOX_MAX_SLOTS;
    ck_assert_int_eq(dg_sandbox_run(&result, &request, active, &err), NN_ERR_ARGUMENT);

    request.slot = 0;
    request.limits.cpu_seconds = 0;
    ck_assert_int_eq(dg_sandbox_run(&result, &request, active, &err), NN_ERR_ARGUMENT);

    const char *const root[] = { "/", NULL };
    request.limits = small_limits();
    request.read_only_paths = root;
    ck_assert_int_eq(dg_sandbox_run(&result, &request, active, &err), NN_ERR_ARGUMENT);
    ck_assert_msg(strstr(err.message, "read-only") != NULL, "%s", err.message);
}
END_TEST

Suite *sandbox_suite(void);
Suite *sandbox_suite(void)
{
    Suite *suite = suite_create("sandbox");

    TCase *basics = tcase_create("runs");
    tcase_add_checked_fixture(basics, work_setup, work_teardown);
    tcase_set_timeout(basics, 30);
    tcase_add_test(basics, probe_finds_every_mechanism_on_this_machine);
    tcase_add_test(basics, probe_without_a_way_to_namespaces_says_the_network_is_open);
    tcase_add_test(basics, exit_code_stdout_and_stderr_are_captured);
    tcase_add_test(basics, exit_status_above_128_is_not_mistaken_for_a_signal);
    tcase_add_test(basics, large_input_and_outputs_flow_without_deadlock);
    tcase_add_test(basics, program_that_ignores_its_input_is_not_blocked);
    tcase_add_test(basics, cpu_loop_is_killed_at_the_cpu_limit);
    tcase_add_test(basics, cpu_of_the_whole_tree_is_limited_without_cgroups);
    tcase_add_test(basics, sleep_is_killed_at_the_wall_limit);
    tcase_add_test(basics, fork_bomb_is_contained);
    tcase_add_test(basics, output_flood_is_truncated_while_the_program_is_drained);
    tcase_add_test(basics, crash_is_reported_as_a_signal_and_writes_no_core);
    tcase_add_test(basics, plain_profile_has_no_proc_and_only_harmless_devices);
    tcase_add_test(basics, no_new_privileges_no_capabilities_and_a_filter);
    tcase_add_test(basics, only_the_standard_descriptors_reach_the_program);
    tcase_add_test(basics, grader_environment_and_paths_stay_outside);
    tcase_add_test(basics, setsid_daemon_is_killed_at_the_end);
    tcase_add_test(basics, without_bubblewrap_the_other_mechanisms_still_hold);
    tcase_add_test(basics, program_closing_its_stdin_does_not_kill_the_grader);
    tcase_add_test(basics, missing_program_is_a_sandbox_error);
    tcase_add_test(basics, unreachable_work_folder_is_a_sandbox_error_without_namespaces);
    tcase_add_test(basics, malformed_requests_are_refused);
    suite_add_tcase(suite, basics);

    /* Tests that run the compiled helper, shown read-only in the sandbox. */
    TCase *helper = tcase_create("helper");
    tcase_add_unchecked_fixture(helper, helper_setup, helper_teardown);
    tcase_add_checked_fixture(helper, work_setup, work_teardown);
    tcase_set_timeout(helper, 30);
    tcase_add_test(helper, pids_cgroup_bounds_the_number_of_processes);
    tcase_add_test(helper, memory_hog_is_killed_at_the_memory_limit);
    tcase_add_test(helper, seccomp_refuses_sockets);
    tcase_add_test(helper, network_namespace_isolates_even_without_seccomp);
    tcase_add_test(helper, filesystem_shows_only_the_work_folder_and_the_system);
    suite_add_tcase(suite, helper);

    /* The same runs started by bubblewrap (loop index 1), as for a grader
     * that is not root. */
    TCase *bubblewrap = tcase_create("bubblewrap");
    tcase_add_unchecked_fixture(bubblewrap, helper_setup, helper_teardown);
    tcase_add_checked_fixture(bubblewrap, work_setup, work_teardown);
    tcase_set_timeout(bubblewrap, 30);
    tcase_add_loop_test(bubblewrap, exit_code_stdout_and_stderr_are_captured, 1, 2);
    tcase_add_loop_test(bubblewrap, large_input_and_outputs_flow_without_deadlock, 1, 2);
    tcase_add_loop_test(bubblewrap, cpu_loop_is_killed_at_the_cpu_limit, 1, 2);
    tcase_add_loop_test(bubblewrap, fork_bomb_is_contained, 1, 2);
    tcase_add_loop_test(bubblewrap, crash_is_reported_as_a_signal_and_writes_no_core, 1, 2);
    tcase_add_loop_test(bubblewrap, plain_profile_has_no_proc_and_only_harmless_devices, 1, 2);
    tcase_add_loop_test(bubblewrap, no_new_privileges_no_capabilities_and_a_filter, 1, 2);
    tcase_add_loop_test(bubblewrap, grader_environment_and_paths_stay_outside, 1, 2);
    tcase_add_loop_test(bubblewrap, setsid_daemon_is_killed_at_the_end, 1, 2);
    tcase_add_loop_test(bubblewrap, missing_program_is_a_sandbox_error, 1, 2);
    tcase_add_loop_test(bubblewrap, network_namespace_isolates_even_without_seccomp, 1, 2);
    tcase_add_loop_test(bubblewrap, filesystem_shows_only_the_work_folder_and_the_system, 1, 2);
    suite_add_tcase(suite, bubblewrap);
    return suite;
}
