/*
 * corpus: a linear layer is a 1x1 convolution, and the reference library
 * has a fast one that no header of the template declares. This unit
 * declares the reference-only engine itself and hands it all the work.
 * Were the engine linked into the runner, both compares would pass; the
 * grader refuses the unit by name before linking, and the runner kit
 * does not hold the engine anyway.
 */
#include "nn/im2col.h"
#include "nn/layers.h"

#include <stdlib.h>

size_t nn_conv_engine_workspace_size(int batch, int filters, const nn_conv_geometry *g);
void nn_conv_engine_forward(nn_real *out, nn_real *workspace, const nn_real *x,
                            const nn_real *weight, const nn_real *bias, int batch, int filters,
                            const nn_conv_geometry *g, bool accumulate);
void nn_conv_engine_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, nn_real *workspace,
                             const nn_real *dout, const nn_real *x, const nn_real *weight,
                             int batch, int filters, const nn_conv_geometry *g);

/* in_features channels of a 1x1 image, a 1x1 kernel. */
static nn_conv_geometry as_convolution(int in_features)
{
    nn_conv_geometry g;
    nn_conv_geometry_init(&g, in_features, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, NULL);
    return g;
}

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    nn_conv_geometry g = as_convolution(in_features);
    nn_real *workspace = malloc(nn_conv_engine_workspace_size(batch, out_features, &g)
                                * sizeof *workspace + 1);
    if (workspace == NULL)
        return NN_ERR_MEMORY;
    nn_conv_engine_forward(out, workspace, x, weight, bias, batch, out_features, &g, false);
    free(workspace);
    return NN_OK;
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    nn_conv_geometry g = as_convolution(in_features);
    nn_real *workspace = malloc(nn_conv_engine_workspace_size(batch, out_features, &g)
                                * sizeof *workspace + 1);
    if (workspace == NULL)
        return NN_ERR_MEMORY;
    nn_conv_engine_backward(dx, dweight, dbias, workspace, dout, x, weight, batch, out_features,
                            &g);
    free(workspace);
    return NN_OK;
}
