/*
 * adding_problem.c - the adding problem of Hochreiter and Schmidhuber
 * (1997), the standard test of whether a recurrent net can carry
 * information across many steps: it must notice two marked values, one in
 * each half of a long sequence, and output their sum at the end.
 *
 * Values are U(0, 1), so the sum has mean 1 and variance 2 / 12 = 1/6:
 * a net that always answers 1 (it learned nothing about the markers) has
 * a mean squared error near 0.167, the bar to beat.
 */
#include "nn/synthetic.h"

#include <stdint.h>

nn_status nn_synthetic_adding_problem(nn_dataset **out, nn_rng *rng, size_t count,
                                      size_t length, nn_error *err)
{
    *out = NULL;
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "adding problem: the generator is NULL");
    if (length < 2)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "adding problem: sequence length %zu, need at least 2 (one "
                            "marker in each half)",
                            length);
    if (length > SIZE_MAX / (2 * sizeof(nn_real)))
        return nn_error_set(err, NN_ERR_ARGUMENT, "adding problem: sequence length %zu is too "
                            "large", length);
    if (count == 0 || count > SIZE_MAX / (2 * length * sizeof(nn_real)))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "adding problem: %zu sequences of length %zu, need between 1 and "
                            "what fits in memory",
                            count, length);
    nn_shape shape = nn_shape_2d(length, 2);
    nn_status status = nn_dataset_new(out, "adding_problem", count, &shape, NN_TARGET_REAL, 1,
                                      0, err);
    if (status != NN_OK)
        return status;
    /* The first half is [0, half), the second [half, length); with an odd
     * length the second half is the longer by one step. */
    size_t half = length / 2;
    for (size_t i = 0; i < count; i++) {
        nn_real *steps = (*out)->inputs + i * 2 * length; /* (T, 2) */
        for (size_t t = 0; t < length; t++) {
            steps[2 * t] = (nn_real)nn_rng_uniform(rng);
            steps[2 * t + 1] = 0;
        }
        size_t first = (size_t)nn_rng_below(rng, half);
        size_t second = half + (size_t)nn_rng_below(rng, length - half);
        steps[2 * first + 1] = 1;
        steps[2 * second + 1] = 1;
        /* Sum the stored values, so the target matches the inputs exactly
         * in either precision. */
        (*out)->targets[i] = steps[2 * first] + steps[2 * second];
    }
    return NN_OK;
}
