/*
 * gradcheck.c - central-difference gradient checking.
 */
#include "nn/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

nn_gradcheck_config nn_gradcheck_default_config(void)
{
    nn_gradcheck_config config = {
#if NN_REAL_IS_DOUBLE
        /* Rounding puts noise of about DBL_EPSILON |L| / h on every numeric
         * derivative: 2e-11 |L| for h = 1e-5. The floor turns the test into an
         * absolute one, |a - n| <= tolerance * floor = 1e-9, for entries below
         * 1e-4, so a correct gradient with tiny entries is not failed for
         * that noise, while a wrong one (off by more than 1e-9) still is. */
        .step = 1e-5,
        .tolerance = 1e-5,
        .denominator_floor = 1e-4,
#else
        .step = 1e-2,
        .tolerance = 2e-2,
        .denominator_floor = 1e-4,
#endif
        .max_samples = 256,
        .reject_all_zero = true,
    };
    return config;
}

/* Chooses which coordinates to check: all of them, or max_samples distinct
 * ones by a partial Fisher-Yates shuffle. */
static nn_status choose_coordinates(size_t **out, size_t *out_count, size_t count,
                                    size_t max_samples, nn_rng *rng, nn_error *err)
{
    size_t *indices = malloc(count * sizeof *indices);
    if (indices == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "gradient check: out of memory for %zu indices",
                            count);
    for (size_t i = 0; i < count; i++)
        indices[i] = i;
    size_t chosen = count;
    if (max_samples > 0 && max_samples < count) {
        if (rng == NULL) {
            free(indices);
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "gradient check: sampling %zu of %zu coordinates needs an rng",
                                max_samples, count);
        }
        for (size_t i = 0; i < max_samples; i++) {
            size_t j = i + (size_t)nn_rng_below(rng, count - i);
            size_t tmp = indices[i];
            indices[i] = indices[j];
            indices[j] = tmp;
        }
        chosen = max_samples;
    }
    *out = indices;
    *out_count = chosen;
    return NN_OK;
}

nn_status nn_gradcheck(nn_gradcheck_result *result, nn_real *x, const nn_real *analytic,
                       size_t count, nn_gradcheck_loss_fn loss, void *context,
                       const nn_gradcheck_config *config, nn_rng *rng, nn_error *err)
{
    nn_gradcheck_result r = { .passed = false, .all_zero = true };
    *result = r;
    if (count == 0 || x == NULL || analytic == NULL || loss == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "gradient check: nothing to check");
    if (!(config->step > 0) || !(config->tolerance > 0))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "gradient check: step %g and tolerance %g must be positive",
                            config->step, config->tolerance);

    size_t *indices = NULL, chosen = 0;
    nn_status status = choose_coordinates(&indices, &chosen, count, config->max_samples,
                                          rng, err);
    if (status != NN_OK)
        return status;

    r.worst_relative_error = -1.0;
    for (size_t s = 0; s < chosen; s++) {
        size_t i = indices[s];
        nn_real saved = x[i];
        x[i] = (nn_real)(saved + config->step);
        double plus_point = x[i];
        double loss_plus = loss(context);
        x[i] = (nn_real)(saved - config->step);
        double minus_point = x[i];
        double loss_minus = loss(context);
        x[i] = saved;
        if (!isfinite(loss_plus) || !isfinite(loss_minus)) {
            free(indices);
            *result = r;
            return nn_error_set(err, NN_ERR_NUMERIC,
                                "gradient check: the loss is not finite at coordinate %zu", i);
        }
        if (plus_point == minus_point) {
            /* x[i] is so large that x[i] +- h rounds back to x[i]: the
             * difference quotient would be 0/0 and the coordinate would
             * silently drop out of the comparison. */
            free(indices);
            *result = r;
            return nn_error_set(err, NN_ERR_NUMERIC,
                                "gradient check: step %g vanishes in rounding at coordinate "
                                "%zu (x = %g)", config->step, i, (double)saved);
        }
        double numeric = (loss_plus - loss_minus) / (plus_point - minus_point);
        double a = analytic[i];
        double scale = fmax(fmax(fabs(a), fabs(numeric)), config->denominator_floor);
        double difference = fabs(a - numeric);
        /* Equal values agree even with a zero floor, where 0/0 would be NaN
         * and NaN compares false with everything. */
        double relative = difference == 0 ? 0 : difference / scale;
        if (!isfinite(a) || !isfinite(relative))
            relative = INFINITY;
        /* A NaN or infinite analytic value is wrong, not zero. */
        if (!isfinite(a) || fabs(a) > config->denominator_floor
            || fabs(numeric) > config->denominator_floor)
            r.all_zero = false;
        if (relative > r.worst_relative_error) {
            r.worst_relative_error = relative;
            r.worst_index = i;
            r.worst_analytic = a;
            r.worst_numeric = numeric;
        }
    }
    free(indices);
    r.checked = chosen;
    r.passed = r.worst_relative_error <= config->tolerance
               && !(config->reject_all_zero && r.all_zero);
    *result = r;
    return NN_OK;
}

char *nn_gradcheck_describe(char *buffer, size_t buffer_size, const char *name,
                            const nn_shape *shape, const nn_gradcheck_result *result,
                            const nn_gradcheck_config *config)
{
    char where[96];
    if (shape != NULL)
        nn_shape_format_index(where, sizeof where, shape, result->worst_index);
    else
        snprintf(where, sizeof where, "[%zu]", result->worst_index);

    if (result->passed)
        snprintf(buffer, buffer_size,
                 "%s passes the gradient check (%zu coordinates, worst relative error %.1e at %s)",
                 name, result->checked, result->worst_relative_error, where);
    else if (config->reject_all_zero && result->all_zero)
        snprintf(buffer, buffer_size,
                 "%s is zero at all %zu checked coordinates, and so is the numeric gradient: "
                 "the check cannot tell whether backward works",
                 name, result->checked);
    else
        snprintf(buffer, buffer_size,
                 "%s fails the gradient check at %s: analytic %.6g, numeric %.6g "
                 "(relative error %.1e > %.1e)",
                 name, where, result->worst_analytic, result->worst_numeric,
                 result->worst_relative_error, config->tolerance);
    return buffer;
}
