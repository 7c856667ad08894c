/*
 * corpus: defines only the forward, weakly, and leaves out the rest, hoping the
 * linker pulls the reference's linear.o in (whose strong symbols would win).
 * Refused before linking: a weak definition.
 */
#include "nn/layers.h"

__attribute__((weak)) nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,
                            const nn_real *bias, int batch, int in_features, int out_features)
{
    (void)out, (void)x, (void)weight, (void)bias, (void)batch;
    (void)in_features, (void)out_features;
    return NN_OK;
}
