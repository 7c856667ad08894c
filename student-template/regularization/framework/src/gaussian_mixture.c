/*
 * gaussian_mixture.c - samples from an equal-weight mixture of 2-D
 * Gaussians, the toy target of generative models (autoencoders, GANs):
 * with its means on a ring, a model that covers only some components
 * ("mode collapse") shows at a glance, and the exact density scores
 * generated samples.
 *
 * Density: p(x) = (1 / K) sum_k N(x; mu_k, s^2 I), with
 * N(x; mu, s^2 I) = exp(-|x - mu|^2 / (2 s^2)) / (2 pi s^2).
 */
#include "nn/synthetic.h"

#include <math.h>
#include <stdint.h>

void nn_synthetic_mixture_mean(double mean[2], int component, int component_count)
{
    double angle = 2.0 * M_PI * component / component_count;
    mean[0] = NN_MIXTURE_RADIUS * cos(angle);
    mean[1] = NN_MIXTURE_RADIUS * sin(angle);
}

static double component_exponent(double x, double y, int component, int component_count,
                                 double spread)
{
    double mean[2];
    nn_synthetic_mixture_mean(mean, component, component_count);
    double dx = x - mean[0], dy = y - mean[1];
    return -(dx * dx + dy * dy) / (2.0 * spread * spread);
}

double nn_synthetic_mixture_log_density(double x, double y, int component_count, double spread)
{
    /* log-sum-exp: far from every mean each exponential underflows to 0,
     * so factor out the largest exponent first (two passes, no buffer). */
    double largest = -INFINITY;
    for (int k = 0; k < component_count; k++)
        largest = fmax(largest, component_exponent(x, y, k, component_count, spread));
    double sum = 0.0;
    for (int k = 0; k < component_count; k++)
        sum += exp(component_exponent(x, y, k, component_count, spread) - largest);
    return largest + log(sum) - log((double)component_count) -
           log(2.0 * M_PI * spread * spread);
}

nn_status nn_synthetic_gaussian_mixture(nn_dataset **out, nn_rng *rng, size_t count,
                                        int component_count, double spread, nn_error *err)
{
    *out = NULL;
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "gaussian mixture: the generator is NULL");
    if (component_count < 2)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "gaussian mixture: %d components, need at least 2",
                            component_count);
    if (count == 0 || count > SIZE_MAX / (2 * sizeof(nn_real)))
        return nn_error_set(err, NN_ERR_ARGUMENT, "gaussian mixture: %zu samples, need 1 or more",
                            count);
    if (!(spread > 0.0) || !isfinite(spread))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "gaussian mixture: spread %g, need a finite standard deviation "
                            "above 0",
                            spread);
    nn_shape shape = nn_shape_1d(2);
    nn_status status = nn_dataset_new(out, "gaussian_mixture", count, &shape, NN_TARGET_CLASS,
                                      1, component_count, err);
    if (status != NN_OK)
        return status;
    for (size_t i = 0; i < count; i++) {
        /* Ancestral sampling: pick a component, then a point from it. */
        int component = (int)nn_rng_below(rng, (uint64_t)component_count);
        double mean[2];
        nn_synthetic_mixture_mean(mean, component, component_count);
        double x = mean[0] + spread * nn_rng_normal(rng);
        double y = mean[1] + spread * nn_rng_normal(rng);
        (*out)->inputs[2 * i] = (nn_real)x;
        (*out)->inputs[2 * i + 1] = (nn_real)y;
        (*out)->labels[i] = component;
    }
    return NN_OK;
}
