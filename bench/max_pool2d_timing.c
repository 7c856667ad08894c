/*
 * max_pool2d_timing.c - wall time of nn_max_pool2d_forward + backward on
 * the two pooling layers of the Fashion-MNIST CNN (batch 64):
 *     (64, 32, 28, 28) -> (64, 32, 14, 14) and (64, 64, 14, 14) -> (64, 64, 7, 7),
 * 2x2 windows, stride 2. Prints the best of many repetitions (the machine
 * is shared; the minimum is the least disturbed). Not a test: nothing here
 * is asserted. Build and run from the repository root after `make`:
 *
 *     cc -std=c11 -O2 -march=native -Ireference/include bench/max_pool2d_timing.c \
 *        build/float/libnnref.a -lm -o build/max_pool2d_timing && build/max_pool2d_timing
 *
 * (add -DNN_REAL_DOUBLE and link build/double/libnnref.a for the double build).
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */

#include "nn/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int run(int batch, int channels, int size)
{
    nn_pool_geometry g;
    nn_error err;
    if (nn_pool_geometry_init(&g, channels, size, size, 2, 2, 2, 2, 0, 0, &err) != NN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t nx = (size_t)batch * channels * size * size;
    size_t no = (size_t)batch * channels * g.output_height * g.output_width;
    nn_real *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx);
    nn_real *out = malloc(no * sizeof *out), *dout = malloc(no * sizeof *dout);
    int *argmax = malloc(no * sizeof *argmax);
    if (!x || !dx || !out || !dout || !argmax)
        return 1;
    unsigned state = 12345;
    for (size_t i = 0; i < nx; i++) {
        state = state * 1103515245u + 12345u;
        x[i] = (nn_real)((state >> 8) & 0xffff) / 65536;
    }
    for (size_t i = 0; i < no; i++)
        dout[i] = (nn_real)1;
    memset(dx, 0, nx * sizeof *dx);

    double best_forward = 1e9, best_backward = 1e9, best_zero = 1e9;
    for (int rep = 0; rep < 200; rep++) {
        double t0 = now();
        nn_max_pool2d_forward(out, argmax, x, batch, &g);
        double t1 = now();
        memset(dx, 0, nx * sizeof *dx);
        double t2 = now();
        nn_max_pool2d_backward(dx, dout, argmax, batch, &g);
        double t3 = now();
        if (t1 - t0 < best_forward)
            best_forward = t1 - t0;
        if (t2 - t1 < best_zero)
            best_zero = t2 - t1;
        if (t3 - t2 < best_backward)
            best_backward = t3 - t2;
    }
    printf("max_pool2d [%s] (%d, %d, %d, %d) k2 s2: forward %.3f ms, backward %.3f ms, "
           "forward+backward %.3f ms (zeroing dx: %.3f ms more)\n",
           NN_REAL_NAME, batch, channels, size, size, 1e3 * best_forward, 1e3 * best_backward,
           1e3 * (best_forward + best_backward), 1e3 * best_zero);
    free(x), free(dx), free(out), free(dout), free(argmax);
    return 0;
}

int main(void)
{
    return run(64, 64, 14) | run(64, 32, 28);
}
