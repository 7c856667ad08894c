/*
 * kernels_bench.c - the machine's arithmetic peak, measured, and how close
 * libnnref's GEMM and linear layer come to it.
 *
 * Built by `make bench` (build/float/kernels_bench, the float variant's
 * flags and libnnref.a); run from scripts/bench:
 *
 *     build/float/kernels_bench [RUNS]          # default 20 runs each
 *
 * Measurements, each RUNS times after warm-up calls, printed as
 *     RESULT NAME MEDIAN MIN MAX UNIT runs=R [key=value ...]
 *
 *   clock        the core clock while busy: a chain of dependent integer
 *                adds retires one add per cycle, so adds per second of the
 *                thread's CPU time is cycles per second (x86-64 only).
 *   fma_peak_tN  N threads each keep 10 independent 8-float FMA chains in
 *                flight (more than the 2 pipes x 4 cycles of latency that
 *                Zen 3 needs to stay busy): the most FLOP/s the cores give,
 *                summed over threads, each over its own CPU time (and
 *                fma_peak_tN_wall: over the wall time of the whole run).
 *                Divided by the clock it gives FLOP per cycle per core.
 *   gemm512_tN   nn_gemm (OpenBLAS sgemm) on 512 x 512 x 512, N threads;
 *                over wall time, and (cpu_gflops=) over the CPU time of all
 *                the process's threads.
 *   gemm_mlp_*   nn_gemm on the six products of the 784-256-10 MLP at batch
 *                64 (forward, dW and dx of each layer), 1 and 2 threads.
 *   linear_tN    nn_linear_forward then nn_linear_backward (dx, dW, db),
 *                batch 64, 784 -> 256, N BLAS threads: the layer
 *                bench/torch_baseline.py times as `linear`.
 *
 * FLOPs are 2 M N K per product (a multiply and an add each). Nothing
 * here is asserted: timings go to BENCHMARKS.md, never into tests.
 */
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/parallel.h"

#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define HAVE_FMA_PEAK 1
#else
#define HAVE_FMA_PEAK 0
#endif

static double clock_seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now_seconds(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread: on a shared machine, the time the work
 * itself took, without the moments other processes had the core. */
static double thread_seconds(void)
{
    return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts values in place and prints the RESULT line. */
static void report(const char *name, double *values, int runs, const char *unit,
                   const char *extra)
{
    qsort(values, (size_t)runs, sizeof *values, compare_doubles);
    double median = runs % 2 ? values[runs / 2]
                             : 0.5 * (values[runs / 2 - 1] + values[runs / 2]);
    printf("RESULT %s %.6g %.6g %.6g %s runs=%d%s%s\n", name, median, values[0],
           values[runs - 1], unit, runs, extra[0] ? " " : "", extra);
    fflush(stdout);
}

static nn_real *filled(size_t count, unsigned seed)
{
    nn_real *data = malloc(count * sizeof *data);
    if (data == NULL) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (nn_real)((double)(seed >> 8) / (double)(1u << 24) - 0.5);
    }
    return data;
}

/* ---- the clock ------------------------------------------------------------- */

#if defined(__x86_64__)
/* 2e8 dependent adds: 20 per loop trip, so the loop's own counter and
 * branch run beside the chain and cost no cycles of it. */
static double clock_ghz_once(void)
{
    uint64_t value = 0, trips = 10000000;
    double start = thread_seconds();
    __asm__ __volatile__("1:\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "sub $1, %1\n\t"
                         "jnz 1b"
                         : "+r"(value), "+r"(trips)
                         :
                         : "cc");
    double seconds = thread_seconds() - start;
    return (double)value / seconds * 1e-9;
}
#endif

static void bench_clock(int runs, double *values)
{
#if defined(__x86_64__)
    clock_ghz_once(); /* wakes the core up to its working clock */
    for (int r = 0; r < runs; r++)
        values[r] = clock_ghz_once();
    report("clock", values, runs, "GHz", "method=dependent-add-chain,thread-cpu-time");
#else
    (void)runs, (void)values;
    printf("SKIP clock: the dependent-add measurement is written for x86-64\n");
#endif
}

/* ---- the FMA peak ------------------------------------------------------------ */

#if HAVE_FMA_PEAK
#define FMA_CHAINS 10
#define FMA_TRIPS 20000000L

typedef struct fma_job {
    double cpu_seconds[NN_PARALLEL_MAX_THREADS];
    float sink[NN_PARALLEL_MAX_THREADS];
} fma_job;

/* acc = acc * m + a converges to a / (1 - m): no overflow, no subnormals. */
static void fma_task(void *context, int task, int worker)
{
    (void)worker;
    fma_job *job = context;
    __m256 acc[FMA_CHAINS];
    for (int i = 0; i < FMA_CHAINS; i++)
        acc[i] = _mm256_set1_ps((float)i);
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
    double start = thread_seconds();
    for (long trip = 0; trip < FMA_TRIPS; trip++) {
        acc[0] = _mm256_fmadd_ps(acc[0], m, a);
        acc[1] = _mm256_fmadd_ps(acc[1], m, a);
        acc[2] = _mm256_fmadd_ps(acc[2], m, a);
        acc[3] = _mm256_fmadd_ps(acc[3], m, a);
        acc[4] = _mm256_fmadd_ps(acc[4], m, a);
        acc[5] = _mm256_fmadd_ps(acc[5], m, a);
        acc[6] = _mm256_fmadd_ps(acc[6], m, a);
        acc[7] = _mm256_fmadd_ps(acc[7], m, a);
        acc[8] = _mm256_fmadd_ps(acc[8], m, a);
        acc[9] = _mm256_fmadd_ps(acc[9], m, a);
    }
    job->cpu_seconds[task] = thread_seconds() - start;
    float lanes[8], sum = 0;
    for (int i = 0; i < FMA_CHAINS; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        sum += lanes[0];
    }
    job->sink[task] = sum;
}

/* Two figures: FLOP/s over the wall time of the whole call (what the
 * cores gave together, if nothing else ran), and the sum over threads of
 * each thread's FLOPs over its own CPU time (what they give when they run,
 * however busy the machine). */
static void bench_fma_peak(int threads, int runs, double *values)
{
    fma_job job;
    nn_parallel_for(threads, fma_task, &job, threads); /* warm-up */
    double *wall = malloc((size_t)runs * sizeof *wall);
    if (wall == NULL) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
    }
    float keep = 0;
    double flops_per_thread = (double)FMA_TRIPS * FMA_CHAINS * 8 * 2;
    for (int r = 0; r < runs; r++) {
        double start = now_seconds();
        nn_parallel_for(threads, fma_task, &job, threads);
        wall[r] = threads * flops_per_thread / (now_seconds() - start) * 1e-9;
        values[r] = 0;
        for (int t = 0; t < threads; t++)
            values[r] += flops_per_thread / job.cpu_seconds[t] * 1e-9;
        keep += job.sink[0];
    }
    char name[32], extra[80];
    snprintf(extra, sizeof extra, "threads=%d chains=%d sink=%.3g", threads, FMA_CHAINS,
             (double)keep);
    snprintf(name, sizeof name, "fma_peak_t%d", threads);
    report(name, values, runs, "GFLOP/s", extra);
    snprintf(name, sizeof name, "fma_peak_t%d_wall", threads);
    report(name, wall, runs, "GFLOP/s", extra);
    free(wall);
}
#else
static void bench_fma_peak(int threads, int runs, double *values)
{
    (void)threads, (void)runs, (void)values;
    printf("SKIP fma_peak: built without AVX2 + FMA\n");
}
#endif

/* ---- GEMM -------------------------------------------------------------------- */

typedef struct product {
    const char *name;
    bool transpose_a, transpose_b;
    int m, n, k;
} product;

/* Times `calls` calls per run; values are GFLOP/s over wall time. The
 * extra fields give the median microseconds per call and the GFLOP/s over
 * the process's CPU time (all threads'), the cost of the work on a busy
 * machine. */
static void bench_gemm(const product *p, int threads, int runs, int calls, double *values)
{
    size_t a_count = (size_t)p->m * (size_t)p->k, b_count = (size_t)p->k * (size_t)p->n;
    nn_real *a = filled(a_count, 1), *b = filled(b_count, 2);
    nn_real *c = filled((size_t)p->m * (size_t)p->n, 3);
    int lda = p->transpose_a ? p->m : p->k, ldb = p->transpose_b ? p->k : p->n;
    nn_gemm_set_threads(threads);
    for (int i = 0; i < 3; i++)
        nn_gemm(p->transpose_a, p->transpose_b, p->m, p->n, p->k, 1, a, lda, b, ldb, 0, c, p->n);
    double flops = 2.0 * p->m * p->n * p->k;
    double *micros = malloc((size_t)runs * sizeof *micros);
    double *cpu = malloc((size_t)runs * sizeof *cpu);
    if (micros == NULL || cpu == NULL) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
    }
    for (int r = 0; r < runs; r++) {
        double start = now_seconds(), cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < calls; i++)
            nn_gemm(p->transpose_a, p->transpose_b, p->m, p->n, p->k, 1, a, lda, b, ldb, 0, c,
                    p->n);
        double seconds = (now_seconds() - start) / calls;
        double cpu_seconds = (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / calls;
        values[r] = flops / seconds * 1e-9;
        micros[r] = seconds * 1e6;
        cpu[r] = flops / cpu_seconds * 1e-9;
    }
    qsort(micros, (size_t)runs, sizeof *micros, compare_doubles);
    qsort(cpu, (size_t)runs, sizeof *cpu, compare_doubles);
    char name[64], extra[200];
    snprintf(name, sizeof name, "%s_t%d", p->name, threads);
    snprintf(extra, sizeof extra,
             "threads=%d shape=%dx%dx%d op=%s%s us_per_call=%.1f cpu_gflops=%.1f", threads,
             p->m, p->n, p->k, p->transpose_a ? "T" : "N", p->transpose_b ? "T" : "N",
             micros[runs / 2], cpu[runs / 2]);
    report(name, values, runs, "GFLOP/s", extra);
    free(micros), free(cpu);
    free(a), free(b), free(c);
}

/* ---- the linear layer --------------------------------------------------------- */

static void bench_linear(int threads, int runs, double *values)
{
    enum { BATCH = 64, IN = 784, OUT = 256, CALLS = 20 };
    nn_real *x = filled((size_t)BATCH * IN, 1), *weight = filled((size_t)OUT * IN, 2);
    nn_real *bias = filled(OUT, 3), *out = filled((size_t)BATCH * OUT, 4);
    nn_real *dout = filled((size_t)BATCH * OUT, 5), *dx = filled((size_t)BATCH * IN, 6);
    nn_real *dweight = filled((size_t)OUT * IN, 7), *dbias = filled(OUT, 8);
    nn_gemm_set_threads(threads);
    nn_status status = NN_OK;
    for (int r = -10; r < runs && status == NN_OK; r++) { /* 10 warm-up runs */
        double start = now_seconds();
        for (int i = 0; i < CALLS && status == NN_OK; i++) {
            status = nn_linear_forward(out, x, weight, bias, BATCH, IN, OUT);
            if (status == NN_OK)
                status = nn_linear_backward(dx, dweight, dbias, dout, x, weight, BATCH, IN, OUT);
        }
        if (r >= 0)
            values[r] = (now_seconds() - start) / CALLS * 1e3;
    }
    if (status != NN_OK) {
        fprintf(stderr, "kernels_bench: linear layer failed: %s\n", nn_status_name(status));
        exit(1);
    }
    char name[32], extra[96];
    snprintf(name, sizeof name, "linear_t%d", threads);
    snprintf(extra, sizeof extra, "threads=%d gflop_per_call=%.4f", threads,
             3.0 * 2.0 * BATCH * IN * OUT * 1e-9);
    report(name, values, runs, "ms", extra);
    free(x), free(weight), free(bias), free(out), free(dout), free(dx), free(dweight);
    free(dbias);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    if (runs < 1 || runs > 10000) {
        fprintf(stderr, "usage: kernels_bench [RUNS]   (1 to 10000, default 20)\n");
        return 2;
    }
    double *values = malloc((size_t)runs * sizeof *values);
    if (values == NULL)
        return 1;
    printf("CONFIG precision=%s openblas=\"%s\" openblas_core=%s openblas_default_threads=%d "
           "cpus=%d\n",
           NN_REAL_NAME, openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads(), nn_parallel_threads());
    fflush(stdout);

    bench_clock(runs < 5 ? runs : 5, values);
    int cpus = nn_parallel_threads();
    bench_fma_peak(1, runs < 5 ? runs : 5, values);
    if (cpus > 1)
        bench_fma_peak(cpus, runs < 5 ? runs : 5, values);

    static const product big = { "gemm512", false, false, 512, 512, 512 };
    /* The MLP's products at batch 64 (layers 784 -> 256 and 256 -> 10), as
     * nn_linear_forward and nn_linear_backward call them. */
    static const product mlp[] = {
        { "gemm_mlp_fc1_forward", false, true, 64, 256, 784 },
        { "gemm_mlp_fc1_dW", true, false, 256, 784, 64 },
        { "gemm_mlp_fc1_dx", false, false, 64, 784, 256 },
        { "gemm_mlp_fc2_forward", false, true, 64, 10, 256 },
        { "gemm_mlp_fc2_dW", true, false, 10, 256, 64 },
        { "gemm_mlp_fc2_dx", false, false, 64, 256, 10 },
    };
    for (int threads = 1; threads <= (cpus > 1 ? 2 : 1); threads++) {
        bench_gemm(&big, threads, runs, 5, values);
        for (size_t i = 0; i < sizeof mlp / sizeof mlp[0]; i++) {
            /* About a millisecond of work per run, whatever the shape. */
            double flops = 2.0 * mlp[i].m * mlp[i].n * mlp[i].k;
            int calls = (int)(2e7 / flops) + 1;
            bench_gemm(&mlp[i], threads, runs, calls, values);
        }
        bench_linear(threads, runs, values);
    }
    free(values);
    return 0;
}
