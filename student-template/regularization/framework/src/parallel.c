/*
 * parallel.c - a fork-join loop over independent tasks with POSIX threads.
 *
 * Starting threads per call costs some tens of microseconds; callers only
 * go parallel when a call does far more work than that (a convolution over
 * a batch), and small calls stay on the caller's thread.
 */
#include "nn/parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct parallel_job {
    atomic_int next;
    int count;
    nn_parallel_task_fn fn;
    void *context;
} parallel_job;

typedef struct parallel_worker {
    parallel_job *job;
    int index;
} parallel_worker;

static atomic_int configured_threads;

static void run_tasks(parallel_job *job, int worker)
{
    for (;;) {
        int task = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (task >= job->count)
            return;
        job->fn(job->context, task, worker);
    }
}

static void *thread_main(void *arg)
{
    parallel_worker *worker = arg;
    run_tasks(worker->job, worker->index);
    return NULL;
}

int nn_parallel_threads(void)
{
    int threads = atomic_load(&configured_threads);
    if (threads < 1) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            threads = CPU_COUNT(&set);
        else
            threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (threads < 1)
        threads = 1;
    return threads > NN_PARALLEL_MAX_THREADS ? NN_PARALLEL_MAX_THREADS : threads;
}

void nn_parallel_set_threads(int threads)
{
    atomic_store(&configured_threads, threads < 0 ? 0 : threads);
}

void nn_parallel_for(int count, nn_parallel_task_fn fn, void *context, int threads)
{
    parallel_job job = { .count = count, .fn = fn, .context = context };
    atomic_init(&job.next, 0);
    if (threads > count)
        threads = count;
    if (threads > NN_PARALLEL_MAX_THREADS)
        threads = NN_PARALLEL_MAX_THREADS;

    pthread_t ids[NN_PARALLEL_MAX_THREADS];
    parallel_worker workers[NN_PARALLEL_MAX_THREADS];
    int started = 0;
    if (threads > 1) {
        /* Kernels need little stack; a small one keeps each thread cheap
         * under an address-space limit. */
        pthread_attr_t attr;
        int have_attr = pthread_attr_init(&attr) == 0;
        if (have_attr)
            pthread_attr_setstacksize(&attr, (size_t)1 << 18);
        for (; started < threads - 1; started++) {
            workers[started] = (parallel_worker){ .job = &job, .index = started + 1 };
            if (pthread_create(&ids[started], have_attr ? &attr : NULL, thread_main,
                               &workers[started])
                != 0)
                break;
        }
        if (have_attr)
            pthread_attr_destroy(&attr);
    }
    run_tasks(&job, 0);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
}
