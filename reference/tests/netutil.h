/*
 * netutil.h - helpers shared by the network, weights and training suites:
 * a network built from spec text, and small generated datasets.
 */
#ifndef NN_NETUTIL_H
#define NN_NETUTIL_H

#include "nn/dataset.h"
#include "nn/network.h"
#include "testutil.h"

#define net_assert_ok(status, err)                                                          \
    do {                                                                                   \
        nn_status net_status_ = (status);                                                  \
        ck_assert_msg(net_status_ == NN_OK, "status %s: %s", nn_status_name(net_status_), \
                      (err)->message);                                                     \
    } while (0)

/* Parses text (named model.yaml in messages) and builds its network with
 * weights drawn from seed. */
static inline nn_network *net_build(const char *text, int max_batch, uint64_t seed)
{
    nn_model_spec *spec;
    nn_error err;
    net_assert_ok(nn_model_spec_parse(&spec, "model.yaml", text, &err), &err);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_network *network;
    net_assert_ok(nn_network_new(&network, spec, max_batch, &rng, &err), &err);
    nn_model_spec_free(spec);
    return network;
}

/* Gaussian blobs in `dims` dimensions: class k centred at +-spread on
 * coordinate k % dims (the sign alternating every dims classes), unit noise
 * scaled by `noise`. Labels cycle through the classes. */
static inline nn_dataset *net_blobs(const char *name, size_t count, size_t dims, int classes,
                                    double spread, double noise, uint64_t seed)
{
    nn_dataset *data;
    nn_error err;
    nn_shape shape = nn_shape_1d(dims);
    net_assert_ok(nn_dataset_new(&data, name, count, &shape, NN_TARGET_CLASS, 1, classes, &err),
                  &err);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < count; i++) {
        int label = (int)(i % (size_t)classes);
        data->labels[i] = label;
        nn_real *x = data->inputs + i * dims;
        for (size_t d = 0; d < dims; d++)
            x[d] = (nn_real)(noise * nn_rng_normal(&rng));
        double sign = (label / (int)dims) % 2 == 0 ? 1.0 : -1.0;
        x[(size_t)label % dims] += (nn_real)(sign * spread);
    }
    return data;
}

/* Largest |a - b| over count values. */
static inline double net_max_difference(const nn_real *a, const nn_real *b, size_t count)
{
    double worst = 0;
    for (size_t i = 0; i < count; i++)
        worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
    return worst;
}

#endif
