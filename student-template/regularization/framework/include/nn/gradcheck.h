/*
 * gradcheck.h - numerical gradient checking by central differences.
 *
 * For a scalar function L(x) and a claimed gradient g = dL/dx, each checked
 * coordinate i compares g[i] with
 *
 *     numeric_i = (L(x + h e_i) - L(x - h e_i)) / (2h)
 *
 * by the relative error |a - n| / max(|a|, |n|, floor). The step actually
 * taken is measured after rounding x[i] +- h to nn_real, so the check stays
 * exact in its arithmetic in the float build; it is meant to run in the
 * double build, where h = 1e-5 gives errors near 1e-10 for smooth functions.
 *
 * Large tensors are sampled: K distinct coordinates drawn with the rng.
 * A gradient that is zero at every checked coordinate proves nothing (a
 * backward that writes nothing would pass), so the checker can refuse it.
 */
#ifndef NN_GRADCHECK_H
#define NN_GRADCHECK_H

#include "nn/core.h"
#include "nn/rng.h"
#include "nn/tensor.h"

#include <stdbool.h>

/* Evaluates the scalar loss at the current contents of the checked array. */
typedef double (*nn_gradcheck_loss_fn)(void *context);

typedef struct nn_gradcheck_config {
    double step;              /* h; 1e-6 suits double, 1e-2 float */
    double tolerance;         /* largest relative error that passes */
    double denominator_floor; /* keeps the relative error finite near 0 */
    size_t max_samples;       /* K coordinates at most; 0 checks all */
    bool reject_all_zero;     /* fail when every checked value is ~0 */
} nn_gradcheck_config;

typedef struct nn_gradcheck_result {
    bool passed;
    bool all_zero;             /* every |analytic| and |numeric| <= floor */
    size_t checked;            /* coordinates compared */
    size_t worst_index;        /* flat index of the largest relative error */
    double worst_analytic;
    double worst_numeric;
    double worst_relative_error;
} nn_gradcheck_result;

/* Defaults for the precision libnnref was built in. */
nn_gradcheck_config nn_gradcheck_default_config(void);

/*
 * Checks `analytic` (count values, the claimed dL/dx) against central
 * differences of loss(context) in x (count values, perturbed in place and
 * restored). Fills result; returns NN_OK whenever the check could run, even
 * if it failed, and an error for bad arguments, a loss that is not finite, or
 * a step that vanishes in rounding at some x[i] (NN_ERR_NUMERIC).
 */
nn_status nn_gradcheck(nn_gradcheck_result *result, nn_real *x, const nn_real *analytic,
                       size_t count, nn_gradcheck_loss_fn loss, void *context,
                       const nn_gradcheck_config *config, nn_rng *rng, nn_error *err);

/* One line for a report: "dx fails the gradient check at [0, 1, 4, 2]:
 * analytic 0.31, numeric 0.12 (relative error 6.1e-01 > 1.0e-06)".
 * shape may be NULL, then the flat index is printed. */
char *nn_gradcheck_describe(char *buffer, size_t buffer_size, const char *name,
                            const nn_shape *shape, const nn_gradcheck_result *result,
                            const nn_gradcheck_config *config);

#endif
