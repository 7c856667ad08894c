/*
 * runner.c - the program that runs student code, inside the sandbox.
 *
 * It is linked with one student unit and the reference implementation of
 * everything else (the grader builds it per unit). It reads one request on
 * stdin, answers it (runner_serve.c) on stdout and exits 0; it decides
 * nothing. Whatever it prints elsewhere, and whatever it exits with, can
 * only make the grader count the check as crashed, never raise a score.
 */
#include "runner_serve.h"

#include <stdio.h>
#include <stdlib.h>

/* Requests come from the grader; this bound only stops a runaway. */
#define RUNNER_MAX_REQUEST (256u << 20)

static unsigned char *read_all(FILE *in, size_t *size)
{
    size_t capacity = 1 << 16, used = 0;
    unsigned char *data = malloc(capacity);
    while (data != NULL) {
        size_t got = fread(data + used, 1, capacity - used, in);
        used += got;
        if (got == 0)
            break;
        if (used == capacity) {
            if (capacity >= RUNNER_MAX_REQUEST) {
                free(data);
                return NULL;
            }
            unsigned char *bigger = realloc(data, capacity * 2);
            if (bigger == NULL) {
                free(data);
                return NULL;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    *size = used;
    return data;
}

int main(void)
{
    size_t size = 0;
    unsigned char *request = read_all(stdin, &size);
    if (request == NULL) {
        fprintf(stderr, "runner: cannot read the request\n");
        return 2;
    }
    dg_writer writer;
    dg_writer_init(&writer);
    int status = dg_runner_serve(request, size, &writer);
    free(request);
    if (status == 0 && !writer.failed) {
        if (fwrite(writer.data, 1, writer.size, stdout) != writer.size || fflush(stdout) != 0)
            status = 2;
    }
    dg_writer_release(&writer);
    return status;
}
