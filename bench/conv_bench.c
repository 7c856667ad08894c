/*
 * conv_bench.c - times one convolution layer's forward + backward (dx, dW,
 * db) with the reference kernels, for comparison with PyTorch's
 * (bench/torch_baseline.py conv).
 *
 * Build (float, from the top of the tree, after `make`):
 *     cc -std=c11 -O2 -march=native -D_GNU_SOURCE -Ireference/include \
 *        bench/conv_bench.c build/float/libnnref.a $(pkg-config --libs openblas) -lm \
 *        -o build/float/conv_bench
 * Run:
 *     build/float/conv_bench [N C H W F K STRIDE PAD [RUNS [THREADS]]]
 * Defaults: 64 32 14 14 64 3 1 1, 30 runs, threads from the machine.
 *
 * FLOPs counted: 3 x 2 N F C KH KW OH OW (forward, dx and dW; the bias and
 * its gradient are not counted). The machine is shared, so the median and
 * the minimum of the runs are both printed; the minimum is the figure least
 * disturbed by other processes. The CPU time line sums all threads' time:
 * on a busy machine it shows the cost of the work itself.
 */
#include "nn/conv.h"
#include "nn/parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static nn_real *filled(size_t count, unsigned seed)
{
    nn_real *data = malloc(count * sizeof *data);
    if (data == NULL) {
        fprintf(stderr, "conv_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (nn_real)((double)(seed >> 8) / (double)(1u << 24) - 0.5);
    }
    return data;
}

int main(int argc, char **argv)
{
    int arg[8] = { 64, 32, 14, 14, 64, 3, 1, 1 };
    int runs = 30;
    for (int i = 1; i < argc && i <= 8; i++)
        arg[i - 1] = atoi(argv[i]);
    if (argc > 9)
        runs = atoi(argv[9]);
    if (argc > 10)
        nn_parallel_set_threads(atoi(argv[10]));
    const int n = arg[0], c = arg[1], h = arg[2], w = arg[3], f = arg[4], k = arg[5];
    nn_conv_geometry g;
    nn_error err = { 0 };
    if (runs < 1 || nn_conv_geometry_init(&g, c, h, w, k, k, arg[6], arg[6], arg[7], arg[7], 1, 1,
                                          &err)
                        != NN_OK) {
        fprintf(stderr, "conv_bench: %s\n", runs < 1 ? "runs must be at least 1" : err.message);
        return 2;
    }
    size_t nx = (size_t)n * c * h * w, nw = (size_t)f * c * k * k;
    size_t no = (size_t)n * f * g.output_height * g.output_width;
    nn_real *x = filled(nx, 1), *weight = filled(nw, 2), *bias = filled((size_t)f, 3);
    nn_real *dout = filled(no, 4), *out = filled(no, 5), *dx = filled(nx, 6);
    nn_real *dweight = filled(nw, 7), *dbias = filled((size_t)f, 8);
    nn_real *workspace = filled(nn_conv2d_workspace_size(n, f, &g), 9);

    double *forward = malloc((size_t)runs * sizeof *forward);
    double *backward = malloc((size_t)runs * sizeof *backward);
    double *total = malloc((size_t)runs * sizeof *total);
    double *cpu = malloc((size_t)runs * sizeof *cpu);
    for (int r = -3; r < runs; r++) { /* 3 warm-up runs */
        double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        double t0 = clock_seconds(CLOCK_MONOTONIC);
        nn_conv2d_forward(out, workspace, x, weight, bias, n, f, &g);
        double t1 = clock_seconds(CLOCK_MONOTONIC);
        nn_conv2d_backward(dx, dweight, dbias, workspace, dout, x, weight, n, f, &g);
        double t2 = clock_seconds(CLOCK_MONOTONIC);
        double c1 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        if (r >= 0) {
            forward[r] = t1 - t0;
            backward[r] = t2 - t1;
            total[r] = t2 - t0;
            cpu[r] = c1 - c0;
        }
    }
    qsort(forward, (size_t)runs, sizeof *forward, compare_doubles);
    qsort(backward, (size_t)runs, sizeof *backward, compare_doubles);
    qsort(total, (size_t)runs, sizeof *total, compare_doubles);
    qsort(cpu, (size_t)runs, sizeof *cpu, compare_doubles);
    double flops = 3.0 * 2.0 * n * f * c * k * k * g.output_height * g.output_width;
    printf("conv2d %s N=%d C=%d %dx%d F=%d k=%d s=%d p=%d, %d threads, %d runs\n", NN_REAL_NAME, n,
           c, h, w, f, k, arg[6], arg[7], nn_parallel_threads(), runs);
    printf("forward   median %7.3f ms  min %7.3f ms\n", forward[runs / 2] * 1e3, forward[0] * 1e3);
    printf("backward  median %7.3f ms  min %7.3f ms\n", backward[runs / 2] * 1e3,
           backward[0] * 1e3);
    printf("fwd+bwd   median %7.3f ms  min %7.3f ms  (%.1f GFLOP/s at the median, %.1f at the "
           "min)\n",
           total[runs / 2] * 1e3, total[0] * 1e3, flops / total[runs / 2] * 1e-9,
           flops / total[0] * 1e-9);
    /* CPU time summed over threads: what the work costs, whatever else
     * the machine runs at the same time. */
    printf("CPU time  median %7.3f ms  min %7.3f ms  (%.1f GFLOP/s per busy core at the min)\n",
           cpu[runs / 2] * 1e3, cpu[0] * 1e3, flops / cpu[0] * 1e-9);
    free(x), free(weight), free(bias), free(dout), free(out), free(dx), free(dweight), free(dbias);
    free(workspace), free(forward), free(backward), free(total), free(cpu);
    return 0;
}
