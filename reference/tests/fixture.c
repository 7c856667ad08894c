/*
 * fixture.c - a small reader for the text fixture format in fixture.h.
 */
#include "fixture.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIXTURE_DIR
#define FIXTURE_DIR "reference/tests/fixtures"
#endif

static void read_tensor(fixture_file *file, FILE *in, fixture_tensor *t, int rank,
                        size_t *line)
{
    for (int i = 0; i < rank; i++) {
        ck_assert_msg(fscanf(in, "%zu", &t->shape.dims[i]) == 1,
                      "%s:%zu: tensor %s: dimension %d missing", file->path, *line, t->name, i);
    }
    t->shape.rank = rank;
    for (int i = rank; i < NN_MAX_DIMS; i++)
        t->shape.dims[i] = 1;
    t->size = nn_shape_size(&t->shape);
    t->values = malloc(t->size * sizeof *t->values);
    ck_assert_ptr_nonnull(t->values);
    for (size_t i = 0; i < t->size; i++)
        ck_assert_msg(fscanf(in, "%lf", &t->values[i]) == 1,
                      "%s: tensor %s: value %zu of %zu missing", file->path, t->name, i, t->size);
}

fixture_file *fixture_load(const char *name)
{
    fixture_file *file = calloc(1, sizeof *file);
    ck_assert_ptr_nonnull(file);
    snprintf(file->path, sizeof file->path, "%s/%s.txt", FIXTURE_DIR, name);
    FILE *in = fopen(file->path, "r");
    ck_assert_msg(in != NULL, "cannot open fixture %s (run tests from the repository root)",
                  file->path);
    char word[64];
    size_t line = 1, capacity = 0;
    while (fscanf(in, " %63s", word) == 1) {
        if (word[0] == '#') {
            int c;
            while ((c = fgetc(in)) != EOF && c != '\n')
                ;
            line++;
            continue;
        }
        ck_assert_msg(strcmp(word, "tensor") == 0, "%s: expected 'tensor', found '%s'",
                      file->path, word);
        if (file->count == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            file->tensors = realloc(file->tensors, capacity * sizeof *file->tensors);
            ck_assert_ptr_nonnull(file->tensors);
        }
        fixture_tensor *t = &file->tensors[file->count];
        memset(t, 0, sizeof *t);
        int rank;
        ck_assert_msg(fscanf(in, " %63s %d", t->name, &rank) == 2 && rank >= 0
                          && rank <= NN_MAX_DIMS,
                      "%s: bad tensor header after '%s'", file->path, word);
        read_tensor(file, in, t, rank, &line);
        file->count++;
    }
    fclose(in);
    return file;
}

void fixture_free(fixture_file *file)
{
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->count; i++)
        free(file->tensors[i].values);
    free(file->tensors);
    free(file);
}

const fixture_tensor *fixture_get(const fixture_file *file, const char *name)
{
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->tensors[i].name, name) == 0)
            return &file->tensors[i];
    ck_abort_msg("%s has no tensor named %s", file->path, name);
    return NULL;
}

void fixture_copy(nn_real *destination, const fixture_tensor *tensor)
{
    for (size_t i = 0; i < tensor->size; i++)
        destination[i] = (nn_real)tensor->values[i];
}

void fixture_assert_close(const nn_real *got, const fixture_tensor *expected, double tolerance)
{
    for (size_t i = 0; i < expected->size; i++) {
        double want = expected->values[i];
        double diff = fabs((double)got[i] - want);
        if (!(diff <= tolerance * fmax(1.0, fabs(want)))) {
            char where[96];
            ck_abort_msg("%s differs from the fixture at %s: got %.10g, expected %.10g "
                         "(tolerance %.1e)",
                         expected->name,
                         nn_shape_format_index(where, sizeof where, &expected->shape, i),
                         (double)got[i], want, tolerance);
        }
    }
}
