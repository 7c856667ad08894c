/*
 * corpus: the stub students start from: every check is "not implemented", no crash.
 */
#include "nn/layers.h"

size_t nn_linear_parameter_count(int in_features, int out_features, bool bias)
{
    size_t weights = (size_t)out_features * (size_t)in_features;
    return bias ? weights + (size_t)out_features : weights;
}

nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    (void)out, (void)x, (void)weight, (void)bias, (void)batch;
    (void)in_features, (void)out_features;
    return NN_ERR_NOT_IMPLEMENTED;
}

nn_status nn_linear_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, const nn_real *dout,
                             const nn_real *x, const nn_real *weight, int batch,
                             int in_features, int out_features)
{
    (void)dx, (void)dweight, (void)dbias, (void)dout, (void)x, (void)weight;
    (void)batch, (void)in_features, (void)out_features;
    return NN_ERR_NOT_IMPLEMENTED;
}
