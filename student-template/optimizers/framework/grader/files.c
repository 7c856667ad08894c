/*
 * files.c - reading files whole, bounded.
 */
#include "files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dg_read_file(const char *path, size_t max_bytes, size_t *size, nn_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        nn_error_set(err, NN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 4096, used = 0;
    char *text = malloc(capacity + 1);
    while (text != NULL) {
        size_t got = fread(text + used, 1, capacity - used, file);
        used += got;
        if (used > max_bytes) {
            free(text);
            fclose(file);
            nn_error_set(err, NN_ERR_FORMAT, "%s: longer than %zu bytes", path, max_bytes);
            return NULL;
        }
        if (got == 0)
            break;
        if (used == capacity) {
            char *bigger = realloc(text, 2 * capacity + 1);
            if (bigger == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
    }
    bool failed = text == NULL || ferror(file);
    fclose(file);
    if (failed) {
        free(text);
        nn_error_set(err, NN_ERR_IO, "%s: cannot read", path);
        return NULL;
    }
    text[used] = '\0';
    if (size != NULL)
        *size = used;
    return text;
}
