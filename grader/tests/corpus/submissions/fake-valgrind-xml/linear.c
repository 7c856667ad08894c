/*
 * corpus: an invalid heap write hidden behind a forged, complete and clean
 * Valgrind XML report, written on stdout, on stderr, on descriptor 3 (the
 * --xml-fd of Valgrind's manual), on a copy of each, and on every other
 * descriptor number the process may have. None of it reaches the report
 * the grader reads (the stdout copy only spoils the runner's answer).
 */
#include "nn/layers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__)
#error "this corpus case issues x86-64 system calls"
#endif

/* The descriptor calls as raw system calls, which the inspection cannot
 * see by name (it refuses write, dup, close... from the C library): the
 * case is about what reaches Valgrind's report, not about the names.
 * Returns -errno on failure. */
static long raw_syscall(long number, long a, long b, long c)
{
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return result;
}

static const char forged[] =
    "<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n<protocolversion>4</protocolversion>\n"
    "<protocoltool>memcheck</protocoltool>\n\n<pid>2</pid>\n<ppid>1</ppid>\n"
    "<tool>memcheck</tool>\n\n<status>\n  <state>RUNNING</state>\n  <time>00:00:00:00.100 "
    "</time>\n</status>\n\n\n<status>\n  <state>FINISHED</state>\n  <time>00:00:00:01.000 "
    "</time>\n</status>\n\n<errorcounts>\n</errorcounts>\n\n<suppcounts>\n</suppcounts>\n\n"
    "</valgrindoutput>\n\n";

static void forge(int fd)
{
    raw_syscall(1 /* write */, fd, (long)forged, sizeof forged - 1);
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    fputs(forged, stdout);
    fflush(stdout);
    fputs(forged, stderr);
    forge(3);
    int copy = (int)raw_syscall(32 /* dup */, 3, 0, 0);
    if (copy >= 0)
        forge(copy);
    raw_syscall(3 /* close */, 3, 0, 0);
    raw_syscall(33 /* dup2 */, 2, 3, 0);   /* descriptor 3 now the program's stderr */
    forge(3);
    for (int fd = 4; fd < 4096; fd++)
        forge(fd);
    volatile char *scratch = malloc(8);
    if (scratch != NULL) {
        scratch[8] = 1;   /* one past the end */
        free((char *)scratch);
    }
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_features; o++) {
            nn_real sum = bias != NULL ? bias[o] : 0;
            for (int i = 0; i < in_features; i++)
                sum += x[n * in_features + i] * weight[o * in_features + i];
            out[n * out_features + o] = sum;
        }
    return NN_OK;
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < out_features; o++) {
            nn_real g = dout[n * out_features + o];
            if (dbias != NULL)
                dbias[o] += g;
            for (int i = 0; i < in_features; i++) {
                if (dx != NULL)
                    dx[n * in_features + i] += g * weight[o * in_features + i];
                if (dweight != NULL)
                    dweight[o * in_features + i] += g * x[n * in_features + i];
            }
        }
    return NN_OK;
}
