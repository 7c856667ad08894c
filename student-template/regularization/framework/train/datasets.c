/*
 * datasets.c - named datasets for the command line: the real
 * Fashion-MNIST, or generated sets whose training and test halves come from
 * independent streams of one seed (so the test set is never a reshuffle of
 * the training set).
 */
#include "dlgrade.h"

#include "nn/fashion_mnist.h"
#include "nn/rng.h"
#include "nn/synthetic.h"

#include <string.h>

const char *dg_dataset_names(void)
{
    return "fashion-mnist, blobs, spirals, city-streets";
}

bool dg_dataset_known(const char *name)
{
    static const char *const names[] = { "fashion-mnist", "blobs", "spirals", "city-streets",
                                         NULL };
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static nn_status generate(nn_dataset **out, const char *name, nn_rng *rng, bool training,
                          nn_error *err)
{
    if (strcmp(name, "blobs") == 0)
        return nn_synthetic_blobs(out, rng, training ? 2000 : 1000, 4, 0.6, err);
    if (strcmp(name, "spirals") == 0)
        return nn_synthetic_spirals(out, rng, training ? 3000 : 1500, 3, 0.15, err);
    if (strcmp(name, "city-streets") == 0)
        return nn_synthetic_city_streets(out, rng, training ? 2000 : 200, 64, err);
    return nn_error_set(err, NN_ERR_ARGUMENT, "unknown dataset '%s' (known: %s)", name,
                        dg_dataset_names());
}

nn_status dg_dataset_open(nn_dataset **train, nn_dataset **test, const char *name,
                          unsigned long long seed, size_t limit, nn_error *err)
{
    *train = *test = NULL;
    nn_status status;
    if (strcmp(name, "fashion-mnist") == 0) {
        status = nn_fashion_mnist_load(train, test, NULL, err);
    } else {
        nn_rng rng;
        nn_rng_seed(&rng, seed);
        nn_rng train_rng = nn_rng_split(&rng, 1);
        nn_rng test_rng = nn_rng_split(&rng, 2);
        status = generate(train, name, &train_rng, true, err);
        if (status == NN_OK)
            status = generate(test, name, &test_rng, false, err);
    }
    if (status == NN_OK && limit > 0 && limit < (*train)->count) {
        nn_dataset *subset;
        status = nn_dataset_slice(&subset, *train, 0, limit, err);
        if (status == NN_OK) {
            nn_dataset_free(*train);
            *train = subset;
        }
    }
    if (status != NN_OK) {
        nn_dataset_free(*train);
        nn_dataset_free(*test);
        *train = *test = NULL;
    }
    return status;
}
