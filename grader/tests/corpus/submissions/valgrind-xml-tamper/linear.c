/*
 * corpus: finds Valgrind's XML descriptor (a pipe other than stdin and
 * stdout, only written here), writes into a dup() of it, which Valgrind allows,
 * and wraps its own invalid write in an XML comment to hide it. The
 * report no longer reads as Valgrind's alone: damaged, and the memcheck
 * fails. (Writing into Valgrind's other descriptors crashes Valgrind,
 * which fails the same way.)
 */
#include "nn/layers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>

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

static int channel = -2;

static void link_of(char *out, size_t size, int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    long n = raw_syscall(89 /* readlink */, (long)path, (long)out, (long)size - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* A copy of Valgrind's XML descriptor: a pipe other than stdin and
 * stdout that this process only writes into (Valgrind's own wake-up pipe
 * has its reading end here too), or -1. */
static int find_channel(void)
{
    char in[128], out[128], mine[128], other[128];
    link_of(in, sizeof in, 0);
    link_of(out, sizeof out, 1);
    for (int fd = 3; fd < 4096; fd++) {
        link_of(mine, sizeof mine, fd);
        if (strncmp(mine, "pipe:", 5) != 0 || strcmp(mine, in) == 0 || strcmp(mine, out) == 0)
            continue;
        bool read_here = false;
        for (int other_fd = 3; other_fd < 4096; other_fd++) {
            link_of(other, sizeof other, other_fd);
            if (strcmp(other, mine) == 0)
                read_here |= (raw_syscall(72 /* fcntl */, other_fd, F_GETFL, 0) & O_ACCMODE)
                             != O_WRONLY;
        }
        if (!read_here)
            return (int)raw_syscall(32 /* dup */, fd, 0, 0);
    }
    return -1;
}

static void say(const char *text)
{
    if (channel >= 0) {
        raw_syscall(1 /* write */, channel, (long)text, (long)strlen(text));
    }
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    if (channel == -2)
        channel = find_channel();
    say("<!--");
    volatile char *scratch = malloc(8);
    if (scratch != NULL) {
        scratch[8] = 1;   /* one past the end */
        free((char *)scratch);
    }
    say("-->");
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
