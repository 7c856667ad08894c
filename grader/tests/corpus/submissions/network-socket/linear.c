/*
 * corpus: opens network sockets (TCP to the outside and to the host's loopback,
 * UDP, netlink) and reports what happened before aborting. The socket calls
 * are refused before linking; raw-socket makes them as raw system calls,
 * which the sandbox refuses.
 */
#include "nn/layers.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void try_socket(const char *label, int domain, int type)
{
    int fd = socket(domain, type, 0);
    if (fd < 0) {
        fprintf(stderr, "%s socket: %s\n", label, strerror(errno));
        return;
    }
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(80);
    inet_pton(AF_INET, "1.1.1.1", &to.sin_addr);
    int connected = connect(fd, (struct sockaddr *)&to, sizeof to);
    fprintf(stderr, "%s connect: %s\n", label, connected == 0 ? "CONNECTED" : strerror(errno));
    close(fd);
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    try_socket("tcp", AF_INET, SOCK_STREAM);
    try_socket("udp", AF_INET, SOCK_DGRAM);
    try_socket("tcp6", AF_INET6, SOCK_STREAM);
    try_socket("netlink", AF_NETLINK, SOCK_RAW);
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
