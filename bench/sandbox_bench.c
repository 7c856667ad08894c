/*
 * sandbox_bench.c - what one sandbox start costs: the median wall time of
 * running /bin/true under each profile, beside a plain fork + exec.
 *
 * Build and run from the repository root (as root, to measure the
 * profile the grader uses):
 *
 *   make build/float/libdlgrade.a build/float/libnnref.a
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Ireference/include -Igrader/src \
 *      bench/sandbox_bench.c build/float/libdlgrade.a build/float/libnnref.a \
 *      $(pkg-config --libs libseccomp) -lm -o build/sandbox_bench
 *   build/sandbox_bench [RUNS]              # default 50 runs per profile
 *   taskset -c 1 build/sandbox_bench 50     # pinned, as in SANDBOX.md
 *
 * `make bench` builds it as build/float/sandbox_bench and reads its
 * RESULT lines (NAME MEDIAN MIN MAX ms runs=R p90=...). Timings are
 * printed, never asserted.
 */
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *slug, const char *name, double *times, int runs)
{
    qsort(times, (size_t)runs, sizeof *times, compare_doubles);
    printf("%-44s median %7.2f ms   min %7.2f ms   p90 %7.2f ms   max %7.2f ms\n", name,
           1e3 * times[runs / 2], 1e3 * times[0], 1e3 * times[(runs * 9) / 10],
           1e3 * times[runs - 1]);
    printf("RESULT %s %.4f %.4f %.4f ms runs=%d p90=%.4f\n", slug, 1e3 * times[runs / 2],
           1e3 * times[0], 1e3 * times[runs - 1], runs, 1e3 * times[(runs * 9) / 10]);
}

static void plain_fork_exec(double *times, int runs)
{
    for (int i = 0; i < runs; i++) {
        double start = now_seconds();
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        waitpid(pid, NULL, 0);
        times[i] = now_seconds() - start;
    }
}

static int sandboxed(double *times, int runs, const dg_sandbox_capabilities *caps,
                     const char *work)
{
    static const char *const argv[] = { "/bin/true", NULL };
    dg_sandbox_request request;
    memset(&request, 0, sizeof request);
    request.argv = argv;
    request.work_directory = work;
    request.slot = 7;
    request.limits = dg_sandbox_default_limits();
    for (int i = 0; i < runs; i++) {
        dg_sandbox_result result;
        nn_error err;
        double start = now_seconds();
        if (dg_sandbox_run(&result, &request, caps, &err) != NN_OK ||
            result.status != DG_SANDBOX_EXITED || result.exit_code != 0) {
            fprintf(stderr, "sandbox_bench: run failed: %s %s\n",
                    dg_sandbox_status_name(result.status), result.message);
            dg_sandbox_result_release(&result);
            return 1;
        }
        times[i] = now_seconds() - start;
        dg_sandbox_result_release(&result);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 50;
    if (runs < 1)
        runs = 50;
    dg_sandbox_capabilities caps;
    nn_error err;
    if (dg_sandbox_probe(&caps, &err) != NN_OK) {
        fprintf(stderr, "sandbox_bench: %s\n", err.message);
        return 1;
    }
    printf("%s\n", caps.notes);
    char work[] = "/tmp/sandbox-bench-XXXXXX";
    if (mkdtemp(work) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    double *times = malloc((size_t)runs * sizeof *times);
    if (times == NULL)
        return 1;
    int failed = 0;

    plain_fork_exec(times, runs);
    report("fork_exec", "fork + exec", times, runs);

    dg_sandbox_capabilities bare = caps;
    bare.bubblewrap = bare.namespaces = false;
    bare.cgroup_kill = bare.cgroup_memory = bare.cgroup_pids = false;
    failed |= sandboxed(times, runs, &bare, work);
    report("sandbox_rlimits_seccomp", "no namespaces, no cgroups (rlimits, uid, seccomp)",
           times, runs);

    dg_sandbox_capabilities no_namespaces = caps;
    no_namespaces.bubblewrap = no_namespaces.namespaces = false;
    failed |= sandboxed(times, runs, &no_namespaces, work);
    report("sandbox_cgroups", "no namespaces, cgroups", times, runs);

    dg_sandbox_capabilities no_cgroups = caps;
    no_cgroups.cgroup_kill = no_cgroups.cgroup_memory = no_cgroups.cgroup_pids = false;
    failed |= sandboxed(times, runs, &no_cgroups, work);
    report("sandbox_namespaces", "full profile, no cgroups", times, runs);

    failed |= sandboxed(times, runs, &caps, work);
    report("sandbox_grader", "full profile + cgroups (the grader's)", times, runs);

    /* The same profile built by bubblewrap, as a grader that is not root
     * would run it (here still with the slot uid and cgroups). */
    setenv("DLGRADE_SANDBOX_LAUNCHER", "bubblewrap", 1);
    dg_sandbox_capabilities with_bubblewrap;
    if (dg_sandbox_probe(&with_bubblewrap, &err) == NN_OK && with_bubblewrap.bubblewrap) {
        failed |= sandboxed(times, runs, &with_bubblewrap, work);
        report("sandbox_bubblewrap", "full profile by bubblewrap + cgroups", times, runs);
    } else {
        printf("bubblewrap: not measured (%s)\n", with_bubblewrap.notes);
    }
    unsetenv("DLGRADE_SANDBOX_LAUNCHER");

    free(times);
    rmdir(work);
    return failed;
}
