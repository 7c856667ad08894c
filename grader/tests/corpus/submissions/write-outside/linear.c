/*
 * corpus: tries to write the reports (results.json, report.md) where the grader
 * puts them, the Gradescope results path, a sentinel folder on the host and
 * the repository; then computes the right answer. fopen() is refused before
 * linking; raw-write-outside writes with raw system calls, and every write
 * must fail.
 */
#include "nn/layers.h"
#include <stdio.h>

static void try_write(const char *path)
{
    FILE *file = fopen(path, "w");
    if (file != NULL) {
        fputs("{\"score\": 12, \"max_score\": 12, \"tests\": []}\n", file);
        fclose(file);
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
    static const char *const paths[] = {
        "@OUT@/results.json", "@OUT@/report.md", "@OUT@/junit.xml", "@SENTINEL@/owned",
        "@REPO@/owned-by-a-submission", "/autograder/results/results.json", "/etc/owned",
        "/usr/owned", "/owned", "results.json", "../results.json", NULL
    };
    for (int p = 0; paths[p] != NULL; p++)
        try_write(paths[p]);
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
