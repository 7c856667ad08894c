/*
 * parallel.h - running independent tasks on the machine's cores.
 *
 * nn_parallel_for() hands tasks 0..count-1 to a few threads that it starts
 * for the call and joins before returning, so nothing outlives a call and
 * there is no global pool to leak or to tear down. Tasks are taken from a
 * shared counter, so a core that another process slows down simply takes
 * fewer of them. Callers make every task's result independent of which
 * thread ran it (no shared accumulators), so results do not depend on the
 * number of threads.
 *
 * If a thread cannot be started (a sandbox's pids limit, an address-space
 * limit), the tasks run on the threads that did start, at worst on the
 * caller's alone: the call never fails.
 */
#ifndef NN_PARALLEL_H
#define NN_PARALLEL_H

/* More threads than this are never started. */
#define NN_PARALLEL_MAX_THREADS 16

/* One task; `context` is the caller's, `task` in [0, count). `worker` in
 * [0, threads) names the thread running it, for per-thread scratch space:
 * no two tasks run at once with the same worker. */
typedef void (*nn_parallel_task_fn)(void *context, int task, int worker);

/* Runs fn(context, task) for every task on at most `threads` threads, the
 * caller's included (pass nn_parallel_threads() unless the work is too small
 * to share), and returns when all are done. With threads <= 1 or
 * count <= 1, the tasks run in order on the caller's thread. */
void nn_parallel_for(int count, nn_parallel_task_fn fn, void *context, int threads);

/* The number of threads to use: what nn_parallel_set_threads() set, else
 * the CPUs this process may run on, at most NN_PARALLEL_MAX_THREADS. */
int nn_parallel_threads(void);

/* threads >= 1 fixes the count (1 makes every parallel kernel serial);
 * 0 returns to the default. */
void nn_parallel_set_threads(int threads);

#endif
