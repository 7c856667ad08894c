/*
 * check_parallel.c - the fork-join loop: every task runs exactly once,
 * worker indices stay in range and private, one thread means the caller's
 * thread in order, and the thread count setting is honoured.
 */
#include "nn/parallel.h"
#include "testutil.h"

#include <stdatomic.h>

enum { TASKS = 200 };

typedef struct count_context {
    atomic_int runs[TASKS];
    atomic_int busy[NN_PARALLEL_MAX_THREADS]; /* tasks running per worker now */
    atomic_int bad_worker, overlap;
    int threads;
    int order[TASKS];
    atomic_int next_slot;
} count_context;

static void count_task(void *context, int task, int worker)
{
    count_context *c = context;
    if (worker < 0 || worker >= c->threads) {
        atomic_fetch_add(&c->bad_worker, 1);
        return;
    }
    /* a worker's scratch is only safe if it runs one task at a time */
    if (atomic_fetch_add(&c->busy[worker], 1) != 0)
        atomic_fetch_add(&c->overlap, 1);
    for (volatile int spin = 0; spin < 1000; spin++)
        ;
    atomic_fetch_add(&c->runs[task], 1);
    c->order[atomic_fetch_add(&c->next_slot, 1)] = task;
    atomic_fetch_sub(&c->busy[worker], 1);
}

START_TEST(parallel_for_runs_every_task_exactly_once)
{
    for (int threads = 1; threads <= 4; threads++) {
        static count_context c;
        memset(&c, 0, sizeof c);
        c.threads = threads;
        nn_parallel_for(TASKS, count_task, &c, threads);
        for (int t = 0; t < TASKS; t++)
            ck_assert_msg(atomic_load(&c.runs[t]) == 1, "%d threads: task %d ran %d times",
                          threads, t, atomic_load(&c.runs[t]));
        ck_assert_int_eq(atomic_load(&c.bad_worker), 0);
        ck_assert_int_eq(atomic_load(&c.overlap), 0);
    }
}
END_TEST

START_TEST(parallel_for_with_one_thread_runs_in_order)
{
    static count_context c;
    memset(&c, 0, sizeof c);
    c.threads = 1;
    nn_parallel_for(TASKS, count_task, &c, 1);
    for (int t = 0; t < TASKS; t++)
        ck_assert_int_eq(c.order[t], t);
}
END_TEST

START_TEST(parallel_for_with_no_tasks_does_nothing)
{
    static count_context c;
    memset(&c, 0, sizeof c);
    c.threads = 4;
    nn_parallel_for(0, count_task, &c, 4);
    ck_assert_int_eq(atomic_load(&c.next_slot), 0);
}
END_TEST

START_TEST(parallel_threads_follows_the_setting)
{
    nn_parallel_set_threads(3);
    ck_assert_int_eq(nn_parallel_threads(), 3);
    nn_parallel_set_threads(1000);
    ck_assert_int_eq(nn_parallel_threads(), NN_PARALLEL_MAX_THREADS);
    nn_parallel_set_threads(0);
    int automatic = nn_parallel_threads();
    ck_assert_int_ge(automatic, 1);
    ck_assert_int_le(automatic, NN_PARALLEL_MAX_THREADS);
    ck_assert_int_le(automatic, (int)sysconf(_SC_NPROCESSORS_ONLN));
}
END_TEST

Suite *parallel_suite(void);
Suite *parallel_suite(void)
{
    Suite *suite = suite_create("parallel");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parallel_for_runs_every_task_exactly_once);
    tcase_add_test(tc, parallel_for_with_one_thread_runs_in_order);
    tcase_add_test(tc, parallel_for_with_no_tasks_does_nothing);
    tcase_add_test(tc, parallel_threads_follows_the_setting);
    suite_add_tcase(suite, tc);
    return suite;
}
