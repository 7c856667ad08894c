/*
 * corpus: opens network sockets with raw system calls (TCP and UDP to the
 * outside, netlink) and reports what happened before aborting: the sandbox
 * refuses every socket.
 */
#include "nn/layers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__)
#error "this corpus case issues x86-64 system calls"
#endif

/* A system call with no function in between: nothing for the inspection
 * to see in the object's symbols. Returns -errno on failure. */
static long raw_syscall(long number, long a, long b, long c, long d)
{
    long result;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return result;
}

static void try_socket(const char *label, long domain, long type)
{
    long fd = raw_syscall(41 /* socket */, domain, type, 0, 0);
    if (fd < 0) {
        fprintf(stderr, "%s socket: %s\n", label, strerror((int)-fd));
        return;
    }
    /* 1.1.1.1:80 as a struct sockaddr_in */
    unsigned char address[16] = { 2, 0, 0, 80, 1, 1, 1, 1 };
    long connected = raw_syscall(42 /* connect */, fd, (long)address, sizeof address, 0);
    fprintf(stderr, "%s connect: %s\n", label,
            connected == 0 ? "CONNECTED" : strerror((int)-connected));
    raw_syscall(3 /* close */, fd, 0, 0, 0);
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    try_socket("tcp", 2 /* AF_INET */, 1 /* SOCK_STREAM */);
    try_socket("udp", 2 /* AF_INET */, 2 /* SOCK_DGRAM */);
    try_socket("netlink", 16 /* AF_NETLINK */, 3 /* SOCK_RAW */);
    abort();
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
