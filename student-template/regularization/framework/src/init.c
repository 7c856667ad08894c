/*
 * init.c - weight initialisation: Xavier (Glorot and Bengio, 2010) and He
 * (He et al., 2015), uniform and normal, and a constant fill.
 *
 * A linear map y = W x with fan_in inputs of variance s^2 and independent
 * zero-mean weights of variance Var(W) has outputs of variance
 *     Var(y) = fan_in Var(W) s^2,
 * so Var(W) = 1 / fan_in keeps the signal's variance from layer to layer;
 * the backward pass asks for 1 / fan_out. Xavier takes the compromise
 *     Var(W) = 2 / (fan_in + fan_out),
 * which is exactly 1 / fan_in when the two are equal. ReLU zeroes half of
 * its inputs and so halves the second moment; He doubles the variance to
 * make up for it, Var(W) = 2 / fan_in. A uniform U(-a, a) has variance
 * a^2 / 3, which gives the bounds sqrt(6 / (fan_in + fan_out)) and
 * sqrt(6 / fan_in).
 *
 * The constant fill exists to show the symmetry problem: every unit of a
 * layer computes the same thing and receives the same gradient, so they
 * never become different.
 *
 * For a convolution, fan_in = C_in k_h k_w and fan_out = C_out k_h k_w.
 */
#include "nn/optim.h"

#include <math.h>
#include <string.h>

static const struct {
    nn_init_kind kind;
    const char *name;
} init_names[] = {
    /* The first name of each kind is the one nn_init_kind_name gives. */
    { NN_INIT_XAVIER_UNIFORM, "xavier_uniform" },
    { NN_INIT_XAVIER_NORMAL, "xavier_normal" },
    { NN_INIT_HE_UNIFORM, "he_uniform" },
    { NN_INIT_HE_NORMAL, "he_normal" },
    { NN_INIT_CONSTANT, "constant" },
    /* The names PyTorch and Keras use for the same schemes. */
    { NN_INIT_XAVIER_UNIFORM, "glorot_uniform" },
    { NN_INIT_XAVIER_NORMAL, "glorot_normal" },
    { NN_INIT_HE_UNIFORM, "kaiming_uniform" },
    { NN_INIT_HE_NORMAL, "kaiming_normal" },
};

#define INIT_NAME_COUNT (sizeof init_names / sizeof init_names[0])

nn_status nn_init_weights(nn_real *weights, size_t count, int fan_in, int fan_out,
                          nn_init_kind kind, nn_real constant, nn_rng *rng, nn_error *err)
{
    if (weights == NULL && count > 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "init: weights is NULL (count %zu)", count);
    if (kind == NN_INIT_CONSTANT) {
        if (!isfinite((double)constant))
            return nn_error_set(err, NN_ERR_ARGUMENT, "init constant: value %g is not finite",
                                (double)constant);
        for (size_t i = 0; i < count; i++)
            weights[i] = constant;
        return NN_OK;
    }

    double variance;
    switch (kind) {
    case NN_INIT_XAVIER_UNIFORM:
    case NN_INIT_XAVIER_NORMAL:
        if (fan_in < 1 || fan_out < 1)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "init %s: fan_in %d and fan_out %d must both be at least 1",
                                nn_init_kind_name(kind), fan_in, fan_out);
        variance = 2.0 / ((double)fan_in + (double)fan_out);
        break;
    case NN_INIT_HE_UNIFORM:
    case NN_INIT_HE_NORMAL:
        if (fan_in < 1)
            return nn_error_set(err, NN_ERR_ARGUMENT, "init %s: fan_in %d must be at least 1",
                                nn_init_kind_name(kind), fan_in);
        variance = 2.0 / (double)fan_in;
        break;
    default:
        return nn_error_set(err, NN_ERR_ARGUMENT, "init: unknown kind %d", (int)kind);
    }
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "init %s: no random generator given",
                            nn_init_kind_name(kind));

    if (kind == NN_INIT_XAVIER_UNIFORM || kind == NN_INIT_HE_UNIFORM) {
        double bound = sqrt(3.0 * variance); /* Var U(-a, a) = a^2 / 3 */
        for (size_t i = 0; i < count; i++)
            weights[i] = (nn_real)nn_rng_uniform_range(rng, -bound, bound);
    } else {
        double deviation = sqrt(variance);
        for (size_t i = 0; i < count; i++)
            weights[i] = (nn_real)(deviation * nn_rng_normal(rng));
    }
    return NN_OK;
}

nn_status nn_init_kind_parse(nn_init_kind *kind, const char *name, nn_error *err)
{
    if (name == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "init kind: no name given");
    for (size_t i = 0; i < INIT_NAME_COUNT; i++) {
        if (strcmp(name, init_names[i].name) == 0) {
            *kind = init_names[i].kind;
            return NN_OK;
        }
    }
    return nn_error_set(err, NN_ERR_ARGUMENT,
                        "unknown init kind '%s' (expected xavier_uniform, xavier_normal, "
                        "he_uniform, he_normal or constant)",
                        name);
}

const char *nn_init_kind_name(nn_init_kind kind)
{
    for (size_t i = 0; i < INIT_NAME_COUNT; i++)
        if (init_names[i].kind == kind)
            return init_names[i].name;
    return "unknown";
}
